// Pictures (`cementflow render`, `run --render`): the PNGs exist with the documented colours,
// the .vti file is well-formed VTK XML ImageData whose arrays hold the voxels in x-fastest order,
// and bad input (no material grid, --at outside the model, a malformed --at) is an InputError /
// exit status 2.

#include <gtest/gtest.h>
#include <png.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/render.hpp"
#include "tests/png_read.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
namespace fs = std::filesystem;

namespace {

struct Png {
  int w = 0, h = 0;
  std::vector<unsigned char> px;
  bool has(unsigned char r, unsigned char g, unsigned char b) const {
    for (std::size_t i = 0; i + 2 < px.size(); i += 3)
      if (px[i] == r && px[i + 1] == g && px[i + 2] == b) return true;
    return false;
  }
};

Png read_png(const std::string& path) {
  Png p;
  p.px = cementflow::test::read_png_rgb(path, &p.w, &p.h);
  if (p.px.empty()) return Png{};
  return p;
}

/// A 6 x 4 x 3 mm trabecular box at 1 mm (no shell, no sink): a dense 6 x 4 x 3 volume.
cf::BoneBlocks small_box() {
  cf::BoxPhantom p;
  p.size_mm = {6, 4, 3};
  p.voxel_mm = 1;
  p.porosity = 0.9;
  cf::BoneBlocks b = cf::generate_box(p);
  cf::complete_bone(b);
  return b;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(Render, VertebraWithCementGivesEveryPicture) {
  cf::VertebraParams vp;
  vp.voxel_mm = 2.0;
  const cf::BoneBlocks b = cf::generate_vertebra(vp);
  // Full cement within 6 mm of the centroid, and in the vein voxels (leaked).
  std::vector<float> cement(b.num_voxels(), 0.0f);
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    const auto x = b.voxel_center_mm(i / 512, static_cast<int>(i % 512));
    if (b.material[i] == 1 && x[0] * x[0] + x[1] * x[1] + x[2] * x[2] < 36) cement[i] = 1.0f;
    if (b.material[i] == 4) cement[i] = 1.0f;
  }
  const auto dir = cf::test::temp_dir("render_vertebra");
  cf::RenderOptions o;
  o.out_dir = (dir / "pics").string();  // created by the renderer
  o.vtk = true;
  o.stem = "v";
  const auto files = cf::render_bone(b, &cement, o);
  // 3 views x (material, porosity, cement) x (slice, MIP) + the .vti.
  EXPECT_EQ(files.size(), 19u);
  for (const auto& f : files) EXPECT_TRUE(fs::exists(f)) << f;
  const Png cem = read_png((dir / "pics" / "cement_axial.png").string());
  ASSERT_GT(cem.w, 100);
  // Full cement in bone is red (220, 0, 0); leaked cement (in veins) is magenta (255, 0, 255).
  EXPECT_TRUE(cem.has(220, 0, 0));
  const Png mip = read_png((dir / "pics" / "cement_mip_axial.png").string());
  EXPECT_TRUE(mip.has(255, 0, 255)) << "the veins' cement shows as leaked in the projection";
  // Material slices use the categorical palette: trabecular beige, cortical white, canal violet.
  const Png mat = read_png((dir / "pics" / "material_axial.png").string());
  EXPECT_TRUE(mat.has(230, 205, 145));
  EXPECT_TRUE(mat.has(255, 255, 255));
  EXPECT_TRUE(mat.has(190, 110, 220));
  EXPECT_FALSE(mat.has(220, 0, 0)) << "no cement colour in the material picture";
  // Axial and coronal views share the image width (x), sagittal and coronal the height (z).
  const Png cor = read_png((dir / "pics" / "material_coronal.png").string());
  const Png sag = read_png((dir / "pics" / "material_sagittal.png").string());
  EXPECT_EQ(mat.w, cor.w);
  EXPECT_EQ(cor.h, sag.h);
  EXPECT_EQ(mat.h, sag.w);
}

TEST(Render, VtiHoldsTheVoxelsInXFastestOrder) {
  const cf::BoneBlocks b = small_box();
  std::vector<float> cement(b.num_voxels(), 0.0f);
  // cement = (i + 10 j + 100 k) / 1000 at index (i, j, k) of the box.
  for (std::size_t blk = 0; blk < b.num_blocks(); ++blk)
    for (int l = 0; l < 512; ++l) {
      const std::size_t i = blk * 512 + static_cast<std::size_t>(l);
      if (b.material[i] == cf::kInactive) continue;
      const int x = b.block_origin[blk][0] + l % 8, y = b.block_origin[blk][1] + (l / 8) % 8,
                z = b.block_origin[blk][2] + l / 64;
      cement[i] = static_cast<float>(x + 10 * y + 100 * z) / 1000.0f;
    }
  const auto dir = cf::test::temp_dir("render_vti");
  cf::RenderOptions o;
  o.out_dir = dir.string();
  o.vtk = true;
  o.stem = "box";
  cf::render_bone(b, &cement, o);
  const std::string text = slurp((dir / "box.vti").string());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.rfind("<?xml", 0), 0u);
  EXPECT_NE(text.find("type=\"ImageData\""), std::string::npos);
  EXPECT_NE(text.find("WholeExtent=\"0 5 0 3 0 2\""), std::string::npos) << text.substr(0, 600);
  EXPECT_NE(text.find("Spacing=\"1 1 1\""), std::string::npos);
  EXPECT_NE(text.find("header_type=\"UInt64\""), std::string::npos);
  // Arrays in order: material (Int32), porosity, cement_fraction (Float32), permeability (3).
  const std::size_t n = 6 * 4 * 3;
  const std::size_t start = text.find('_', text.find("<AppendedData")) + 1;
  ASSERT_NE(start, std::string::npos);
  const char* p = text.data() + start;
  auto header = [&](std::size_t expect) {
    std::uint64_t bytes = 0;
    std::memcpy(&bytes, p, sizeof bytes);
    EXPECT_EQ(bytes, expect);
    p += sizeof bytes;
  };
  header(n * 4);
  std::vector<std::int32_t> mat(n);
  std::memcpy(mat.data(), p, n * 4);
  p += n * 4;
  for (auto m : mat) EXPECT_EQ(m, 1);
  header(n * 4);
  std::vector<float> phi(n);
  std::memcpy(phi.data(), p, n * 4);
  p += n * 4;
  EXPECT_FLOAT_EQ(phi[0], 0.9f);
  header(n * 4);
  std::vector<float> cem(n);
  std::memcpy(cem.data(), p, n * 4);
  p += n * 4;
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 6; ++i)
        EXPECT_FLOAT_EQ(cem[static_cast<std::size_t>(i + 6 * (j + 4 * k))],
                        static_cast<float>(i + 10 * j + 100 * k) / 1000.0f);
  header(3 * n * 4);
  p += 3 * n * 4;
  EXPECT_EQ(std::string(p).find("</AppendedData>"), 3u);
}

TEST(Render, BoneFileAndErrors) {
  const auto dir = cf::test::temp_dir("render_file");
  const std::string vdb = (dir / "box.vdb").string();
  cf::save_bone(small_box(), vdb);
  cf::RenderOptions o;
  o.out_dir = (dir / "out").string();
  const auto files = cf::render_vdb(vdb, o);
  // A bone file has material and porosity, no cement: 3 views x 2 kinds x (slice, MIP).
  EXPECT_EQ(files.size(), 12u);
  EXPECT_TRUE(fs::exists(dir / "out" / "porosity_mip_sagittal.png"));
  EXPECT_FALSE(fs::exists(dir / "out" / "cement_axial.png"));

  o.has_at = true;
  o.at_mm = {0, 0, 50};
  try {
    cf::render_vdb(vdb, o);
    ADD_FAILURE() << "accepted --at outside the model";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.key(), "--at");
  }

  std::string text;
  const std::string cli = cf::test::cli() + " render ";
  EXPECT_EQ(cf::test::run_command(cli + vdb + " --at 1,2", &text), 2) << text;
  EXPECT_NE(text.find("--at"), std::string::npos) << text;
  EXPECT_EQ(cf::test::run_command(cli + vdb + " --at 0,0,99", &text), 2) << text;
  EXPECT_EQ(cf::test::run_command(cli + (dir / "missing.vdb").string(), &text), 2) << text;
  EXPECT_EQ(cf::test::run_command(cli + vdb + " --vtk --out " + (dir / "cli").string(), &text), 0)
      << text;
  EXPECT_TRUE(fs::exists(dir / "cli" / "box.vti"));
  EXPECT_TRUE(fs::exists(dir / "cli" / "material_axial.png"));
}

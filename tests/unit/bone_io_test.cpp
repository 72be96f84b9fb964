// Bone files (SPEC.md §2): save_bone -> load_bone round trip, and every way a file can be wrong
// giving an InputError that names the file and the grid, never a crash.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "bone_test_util.hpp"
#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "engine/io/vdb_raw.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
namespace fs = std::filesystem;
using cf::detail::RawFill;
using cf::detail::RawGrid;

namespace {

// The transform is stored as doubles and composed of one scale and one translation; reading it
// back may differ from what was written by a few ulps of the largest coordinate, so 1e-12 mm
// (far below any meaningful voxel size) separates round-off from a wrong frame.
constexpr double kFrameTolMm = 1e-12;

/// Runs f and checks that it throws an InputError whose file is `file` and whose key contains
/// `key`; returns the message.
std::string expect_input_error(const std::function<void()>& f, const std::string& file,
                               const std::string& key) {
  try {
    f();
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.file(), file) << e.what();
    EXPECT_NE(e.key().find(key), std::string::npos) << "key '" << e.key() << "': " << e.what();
    EXPECT_FALSE(e.expected().empty()) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected an InputError, nothing was thrown";
  return {};
}

/// A valid material + porosity pair of raw grids: voxels (0..3, 0, 0), voxel 0.5 mm.
std::vector<RawGrid> raw_bone() {
  RawGrid m;
  m.name = "material";
  m.type = "int32";
  m.axes = {{{0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.5}}};
  m.translation = {1, 2, 3};
  m.background = -1;
  for (int i = 0; i < 4; ++i) {
    m.coords.push_back({i, 0, 0});
    m.values.push_back(1);
  }
  RawGrid p = m;
  p.name = "porosity";
  p.type = "float";
  p.background = 0;
  p.values.assign(4, 0.8);
  return {m, p};
}

const std::vector<std::array<int, 3>> kOrigins = {{0, 0, 0},   {8, 0, 0},     {-8, 0, 0},
                                                  {0, -16, 8}, {-64, 24, -8}, {800, -800, 8}};

void expect_same_bone(const cf::BoneBlocks& a, const cf::BoneBlocks& b) {
  ASSERT_NEAR(a.voxel_mm, b.voxel_mm, kFrameTolMm);
  for (int d = 0; d < 3; ++d) ASSERT_NEAR(a.origin_mm[d], b.origin_mm[d], kFrameTolMm);
  ASSERT_EQ(a.permeability.empty(), b.permeability.empty());
  ASSERT_EQ(a.route.empty(), b.route.empty());
  std::size_t nonempty = 0;
  for (std::size_t k = 0; k < a.num_blocks(); ++k) {
    const long kb = cf::test::find_block(b, a.block_origin[k]);
    bool any = false;
    for (int v = 0; v < cf::BoneBlocks::kBlockVoxels; ++v)
      any = any || a.material[k * 512 + v] != cf::kInactive;
    if (!any) {
      EXPECT_EQ(kb, -1) << "a block without active voxels must not come back";
      continue;
    }
    ++nonempty;
    ASSERT_GE(kb, 0) << "block " << k << " lost";
    // Stored values come back bit for bit (float in, float out; no half-float, no
    // arithmetic), so exact comparison is the right test here.
    for (int v = 0; v < cf::BoneBlocks::kBlockVoxels; ++v) {
      const std::size_t i = k * 512 + v, j = static_cast<std::size_t>(kb) * 512 + v;
      ASSERT_EQ(a.material[i], b.material[j]) << "block " << k << " voxel " << v;
      if (a.material[i] == cf::kInactive) continue;
      ASSERT_EQ(a.porosity[i], b.porosity[j]) << "block " << k << " voxel " << v;
      for (int d = 0; d < 3 && !a.permeability.empty(); ++d)
        ASSERT_EQ(a.permeability[3 * i + d], b.permeability[3 * j + d]);
      if (!a.route.empty()) {
        ASSERT_EQ(a.route[i], b.route[j]);
      }
    }
  }
  EXPECT_EQ(b.num_blocks(), nonempty);
  EXPECT_EQ(a.active_voxels(), b.active_voxels());
}

}  // namespace

TEST(BoneBlocks, BasicsAndRouteNames) {
  cf::BoneBlocks b;
  b.voxel_mm = 0.5;
  b.origin_mm = {10, -20, 30};
  b.resize(2);
  EXPECT_EQ(b.num_voxels(), 1024u);
  EXPECT_EQ(b.porosity.size(), 1024u);
  EXPECT_TRUE(b.permeability.empty());
  EXPECT_EQ(b.active_voxels(), 0u);
  b.block_origin[1] = {8, -8, 16};
  b.material[512 + cf::BoneBlocks::local_index(1, 2, 3)] = 1;
  b.material[7] = 0;
  EXPECT_EQ(b.active_voxels(), 2u);
  const auto c = b.voxel_center_mm(1, cf::BoneBlocks::local_index(1, 2, 3));
  const double want[3] = {10 + 0.5 * 9, -20 + 0.5 * (-6), 30 + 0.5 * 19};
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(c[d], want[d], kFrameTolMm);

  EXPECT_STREQ(cf::route_name(cf::LeakRoute::BasivertebralVein), "basivertebral_vein");
  EXPECT_STREQ(cf::route_name(cf::LeakRoute::SegmentalVein), "segmental_vein");
  EXPECT_STREQ(cf::route_name(cf::LeakRoute::CorticalBreach), "cortical_breach");
  EXPECT_STREQ(cf::route_name(cf::LeakRoute::EndplateDisc), "endplate_disc");
  EXPECT_STREQ(cf::route_name(cf::LeakRoute::SpinalCanal), "spinal_canal");
  EXPECT_STREQ(cf::route_name(cf::LeakRoute::SoftTissue), "soft_tissue");
}

TEST(BoneIo, RoundTripAllGrids) {
  const auto dir = cf::test::temp_dir("bone_io_rt");
  const cf::BoneBlocks bone = cf::test::random_bone(kOrigins, 42, true, true, /*empty_block=*/2);
  const std::string path = (dir / "bone.vdb").string();
  cf::save_bone(bone, path);
  const cf::BoneBlocks back = cf::load_bone(path);
  expect_same_bone(bone, back);
  EXPECT_EQ(back.num_blocks(), kOrigins.size() - 1);
}

TEST(BoneIo, RoundTripWithoutOptionalGrids) {
  const auto dir = cf::test::temp_dir("bone_io_rt2");
  const cf::BoneBlocks bone = cf::test::random_bone(kOrigins, 7, false, false);
  const std::string path = (dir / "bone.vdb").string();
  cf::save_bone(bone, path);
  const cf::BoneBlocks back = cf::load_bone(path);
  EXPECT_TRUE(back.permeability.empty());
  EXPECT_TRUE(back.route.empty());
  expect_same_bone(bone, back);
}

TEST(BoneIo, BadFiles) {
  const auto dir = cf::test::temp_dir("bone_io_bad");
  const std::string missing = (dir / "missing.vdb").string();
  std::string msg = expect_input_error([&] { cf::load_bone(missing); }, missing, "");
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;

  const std::string folder = (dir / "folder.vdb").string();
  fs::create_directories(folder);
  msg = expect_input_error([&] { cf::load_bone(folder); }, folder, "");
  EXPECT_NE(msg.find("directory"), std::string::npos) << msg;

  const std::string empty = (dir / "empty.vdb").string();
  std::ofstream(empty).close();
  msg = expect_input_error([&] { cf::load_bone(empty); }, empty, "");
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;

  const std::string text = (dir / "text.vdb").string();
  std::ofstream(text) << "this is a scene, not a grid\n{\"schema\": 1}\n";
  expect_input_error([&] { cf::load_bone(text); }, text, "");
}

TEST(BoneIo, TruncatedFilesNeverCrash) {
  const auto dir = cf::test::temp_dir("bone_io_trunc");
  const std::string good = (dir / "good.vdb").string();
  cf::save_bone(cf::test::random_bone(kOrigins, 3, true, true), good);
  const auto size = static_cast<std::size_t>(fs::file_size(good));
  ASSERT_GT(size, 256u);
  // Every cut in the header region, then about 150 cuts spread over the grid data.
  std::vector<std::size_t> cuts;
  for (std::size_t n = 1; n < 200; ++n) cuts.push_back(n);
  for (std::size_t n = 200; n < size; n += std::max<std::size_t>(1, size / 150)) cuts.push_back(n);
  cuts.push_back(size - 1);
  const std::string cut = (dir / "cut.vdb").string();
  int errors = 0;
  for (std::size_t n : cuts) {
    fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, n);
    try {
      cf::load_bone(cut);
      ADD_FAILURE() << "a file cut to " << n << " of " << size << " bytes loaded";
    } catch (const cf::InputError& e) {
      ++errors;
      EXPECT_EQ(e.file(), cut);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cut to " << n << " bytes: not an InputError: " << e.what();
    }
  }
  EXPECT_EQ(errors, static_cast<int>(cuts.size()));
}

TEST(BoneIo, MissingAndMistypedGrids) {
  const auto dir = cf::test::temp_dir("bone_io_grids");
  auto grids = raw_bone();
  const std::string no_mat = (dir / "no_material.vdb").string();
  cf::detail::write_raw_vdb(no_mat, {grids[1]});
  std::string msg = expect_input_error([&] { cf::load_bone(no_mat); }, no_mat, "material");
  EXPECT_NE(msg.find("porosity"), std::string::npos) << "should list the grids there: " << msg;

  const std::string no_por = (dir / "no_porosity.vdb").string();
  cf::detail::write_raw_vdb(no_por, {grids[0]});
  expect_input_error([&] { cf::load_bone(no_por); }, no_por, "porosity");

  auto wrong = grids;
  wrong[0].type = "float";
  const std::string float_mat = (dir / "float_material.vdb").string();
  cf::detail::write_raw_vdb(float_mat, wrong);
  msg = expect_input_error([&] { cf::load_bone(float_mat); }, float_mat, "material");
  EXPECT_NE(msg.find("Int32Grid"), std::string::npos) << msg;

  wrong = grids;
  wrong[1].type = "double";
  const std::string double_por = (dir / "double_porosity.vdb").string();
  cf::detail::write_raw_vdb(double_por, wrong);
  expect_input_error([&] { cf::load_bone(double_por); }, double_por, "porosity");

  wrong = grids;
  RawGrid perm = grids[1];
  perm.name = "permeability";  // a float grid where a Vec3SGrid belongs
  wrong.push_back(perm);
  const std::string float_perm = (dir / "float_permeability.vdb").string();
  cf::detail::write_raw_vdb(float_perm, wrong);
  expect_input_error([&] { cf::load_bone(float_perm); }, float_perm, "permeability");

  // The raw pair itself is valid: 4 voxels in one block, frame from the transform.
  const std::string ok = (dir / "ok.vdb").string();
  cf::detail::write_raw_vdb(ok, grids);
  const cf::BoneBlocks b = cf::load_bone(ok);
  EXPECT_EQ(b.active_voxels(), 4u);
  EXPECT_EQ(b.num_blocks(), 1u);
  EXPECT_NEAR(b.voxel_mm, 0.5, kFrameTolMm);
  EXPECT_NEAR(b.origin_mm[0], 1.0, kFrameTolMm);
  EXPECT_NEAR(b.origin_mm[2], 3.0, kFrameTolMm);
}

TEST(BoneIo, BadValues) {
  const auto dir = cf::test::temp_dir("bone_io_values");
  const std::vector<std::array<int, 3>> one = {{0, 0, 0}, {8, 8, 8}};
  const auto check = [&](const std::string& name, const std::string& grid,
                         const std::function<void(cf::BoneBlocks&)>& spoil) {
    cf::BoneBlocks b = cf::test::random_bone(one, 11, true, true);
    const int v = cf::BoneBlocks::local_index(3, 4, 5);
    b.material[512 + v] = 1;
    b.porosity[512 + v] = 0.5f;
    spoil(b);
    const std::string path = (dir / (name + ".vdb")).string();
    cf::save_bone(b, path);
    const std::string msg = expect_input_error([&] { cf::load_bone(path); }, path, grid);
    // The voxel is named by its index (block (8,8,8) + (3,4,5)).
    EXPECT_NE(msg.find("(11,12,13)"), std::string::npos) << msg;
  };
  const int v = 512 + cf::BoneBlocks::local_index(3, 4, 5);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  check("material_9", "material", [&](cf::BoneBlocks& b) { b.material[v] = 9; });
  check("material_m2", "material", [&](cf::BoneBlocks& b) { b.material[v] = -2; });
  check("porosity_nan", "porosity", [&](cf::BoneBlocks& b) { b.porosity[v] = nan; });
  check("porosity_big", "porosity", [&](cf::BoneBlocks& b) { b.porosity[v] = 1.5f; });
  check("porosity_neg", "porosity", [&](cf::BoneBlocks& b) { b.porosity[v] = -0.01f; });
  check("perm_nan", "permeability", [&](cf::BoneBlocks& b) { b.permeability[3 * v + 1] = nan; });
  check("perm_neg", "permeability", [&](cf::BoneBlocks& b) { b.permeability[3 * v] = -1e-9f; });
  check("perm_inf", "permeability", [&](cf::BoneBlocks& b) { b.permeability[3 * v + 2] = inf; });
  check("route_9", "leak_route", [&](cf::BoneBlocks& b) { b.route[v] = 9; });
}

TEST(BoneIo, BadTransforms) {
  const auto dir = cf::test::temp_dir("bone_io_xf");
  const auto write = [&](const std::string& name, const std::vector<RawGrid>& g) {
    const std::string path = (dir / (name + ".vdb")).string();
    cf::detail::write_raw_vdb(path, g);
    return path;
  };
  auto g = raw_bone();
  for (auto& x : g) x.axes = {{{0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.6}}};
  std::string p = write("anisotropic", g);
  std::string msg = expect_input_error([&] { cf::load_bone(p); }, p, "material");
  EXPECT_NE(msg.find("0.6"), std::string::npos) << msg;

  const double c = std::cos(0.3), s = std::sin(0.3);
  g = raw_bone();
  for (auto& x : g) x.axes = {{{0.5 * c, 0.5 * s, 0}, {-0.5 * s, 0.5 * c, 0}, {0, 0, 0.5}}};
  p = write("rotated", g);
  msg = expect_input_error([&] { cf::load_bone(p); }, p, "material");
  EXPECT_NE(msg.find("rotated"), std::string::npos) << msg;

  g = raw_bone();
  for (auto& x : g) x.axes = {{{-0.5, 0, 0}, {0, -0.5, 0}, {0, 0, -0.5}}};
  p = write("negative", g);
  expect_input_error([&] { cf::load_bone(p); }, p, "material");

  g = raw_bone();
  g[1].translation[1] += 0.25;  // porosity shifted by half a voxel
  p = write("shifted", g);
  expect_input_error([&] { cf::load_bone(p); }, p, "porosity");

  g = raw_bone();
  g[1].axes = {{{0.25, 0, 0}, {0, 0.25, 0}, {0, 0, 0.25}}};
  p = write("finer", g);
  expect_input_error([&] { cf::load_bone(p); }, p, "porosity");
}

TEST(BoneIo, UnitsMetadata) {
  const auto dir = cf::test::temp_dir("bone_io_units");
  const std::string file_cm = (dir / "file_cm.vdb").string();
  cf::detail::write_raw_vdb(file_cm, raw_bone(), {{"units", "cm"}});
  std::string msg = expect_input_error([&] { cf::load_bone(file_cm); }, file_cm, "units");
  EXPECT_NE(msg.find("cm"), std::string::npos) << msg;

  auto g = raw_bone();
  g[1].metadata = {{"units", "m"}};
  const std::string grid_m = (dir / "grid_m.vdb").string();
  cf::detail::write_raw_vdb(grid_m, g);
  expect_input_error([&] { cf::load_bone(grid_m); }, grid_m, "porosity");

  g = raw_bone();
  g[0].float_metadata = {{"units", 1.0}};
  const std::string number = (dir / "number.vdb").string();
  cf::detail::write_raw_vdb(number, g);
  expect_input_error([&] { cf::load_bone(number); }, number, "material");

  const std::string mm = (dir / "mm.vdb").string();
  g = raw_bone();
  g[0].metadata = {{"units", "mm"}};
  cf::detail::write_raw_vdb(mm, g, {{"units", "mm"}});
  EXPECT_EQ(cf::load_bone(mm).active_voxels(), 4u);
}

TEST(BoneIo, NoActiveVoxelsAndInactivePorosity) {
  const auto dir = cf::test::temp_dir("bone_io_empty");
  auto g = raw_bone();
  g[0].coords.clear();
  g[0].values.clear();
  const std::string none = (dir / "none.vdb").string();
  cf::detail::write_raw_vdb(none, g);
  expect_input_error([&] { cf::load_bone(none); }, none, "material");

  g = raw_bone();
  g[1].coords.pop_back();  // porosity missing at voxel (3,0,0)
  g[1].values.pop_back();
  const std::string hole = (dir / "hole.vdb").string();
  cf::detail::write_raw_vdb(hole, g);
  const std::string msg = expect_input_error([&] { cf::load_bone(hole); }, hole, "porosity");
  EXPECT_NE(msg.find("(3,0,0)"), std::string::npos) << msg;
}

TEST(BoneIo, ActiveTilesAreVoxelized) {
  const auto dir = cf::test::temp_dir("bone_io_tiles");
  // A 16^3 block-aligned box of trabecular bone becomes tiles in OpenVDB (fill), and a porosity
  // tile covering far more than the model (a 128^3 internal-node tile).
  RawGrid m;
  m.name = "material";
  m.type = "int32";
  m.background = -1;
  m.axes = {{{0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.5}}};
  m.fills.push_back(RawFill{{-16, 0, 0}, {-1, 15, 15}, {1, 0, 0}, true});
  m.coords = {{40, 3, 3}};  // plus one voxel in a leaf of its own
  m.values = {2};
  RawGrid p = m;
  p.name = "porosity";
  p.type = "float";
  p.background = 0;
  p.coords.clear();
  p.values.clear();
  p.fills = {RawFill{{-128, 0, 0}, {127, 127, 127}, {0.75, 0, 0}, true}};
  const std::string path = (dir / "tiles.vdb").string();
  cf::detail::write_raw_vdb(path, {m, p});
  const cf::BoneBlocks b = cf::load_bone(path);
  EXPECT_EQ(b.active_voxels(), 16u * 16u * 16u + 1u);
  EXPECT_EQ(b.num_blocks(), 9u);
  std::size_t cortical = 0;
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    if (b.material[i] == cf::kInactive) continue;
    cortical += b.material[i] == 2;
    EXPECT_EQ(b.porosity[i], 0.75f) << "tile value, stored not computed";
  }
  EXPECT_EQ(cortical, 1u);
}

TEST(BoneIo, SaveRejectsBadBonesAndPaths) {
  const auto dir = cf::test::temp_dir("bone_io_save");
  cf::BoneBlocks b = cf::test::random_bone(kOrigins, 5, true, false);
  b.porosity.pop_back();
  expect_input_error([&] { cf::save_bone(b, (dir / "x.vdb").string()); }, "<bone>", "porosity");
  b = cf::test::random_bone(kOrigins, 5, true, false);
  b.permeability.resize(7);
  expect_input_error([&] { cf::save_bone(b, (dir / "x.vdb").string()); }, "<bone>", "permeability");
  b = cf::test::random_bone(kOrigins, 5, false, false);
  b.voxel_mm = 0;
  expect_input_error([&] { cf::save_bone(b, (dir / "x.vdb").string()); }, "<bone>", "voxel_mm");

  b = cf::test::random_bone(kOrigins, 5, false, false);
  const std::string nowhere = (dir / "no_such_folder" / "bone.vdb").string();
  const std::string msg = expect_input_error([&] { cf::save_bone(b, nowhere); }, nowhere, "");
  EXPECT_NE(msg.find("writable"), std::string::npos) << msg;
}

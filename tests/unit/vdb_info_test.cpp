// `cementflow info` (inspect_vdb, to_text, to_json): grid summaries checked against the data
// that was written, bad files as InputError, and the CLI's exit status 2 with one stderr line.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bone_test_util.hpp"
#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/info.hpp"
#include "engine/io/vdb_raw.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
namespace fs = std::filesystem;
using cf::detail::RawGrid;

namespace {

// Statistics are accumulated in double over float values in a different order than the test
// does: the sums agree to ~n * eps_double relative (n < 10^4 here), far inside 1e-9.
constexpr double kStatRelTol = 1e-9;
// Bounding boxes are index bounds +-0.5 mapped by a scale-and-translate transform in double.
constexpr double kBboxTolMm = 1e-9;

const cf::GridInfo* find_grid(const cf::FileInfo& info, const std::string& name) {
  for (const auto& g : info.grids)
    if (g.name == name) return &g;
  return nullptr;
}

std::string meta(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& k) {
  for (const auto& [key, v] : kv)
    if (key == k) return v;
  return "<absent>";
}

struct Stats {
  double min = std::numeric_limits<double>::infinity(), max = -min, sum = 0;
  long long n = 0;
  void add(double x) {
    min = std::min(min, x);
    max = std::max(max, x);
    sum += x;
    ++n;
  }
};

void expect_stats(const cf::GridInfo& g, const Stats& s) {
  ASSERT_TRUE(g.has_stats) << g.name;
  EXPECT_EQ(g.active_voxels, s.n) << g.name;
  const double scale = std::max(std::abs(s.min), std::abs(s.max));
  EXPECT_NEAR(g.min, s.min, kStatRelTol * scale) << g.name;
  EXPECT_NEAR(g.max, s.max, kStatRelTol * scale) << g.name;
  EXPECT_NEAR(g.mean, s.sum / static_cast<double>(s.n), kStatRelTol * scale) << g.name;
}

void expect_input_error_naming(const std::string& path) {
  try {
    cf::inspect_vdb(path);
    ADD_FAILURE() << path << ": no error";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_FALSE(e.expected().empty()) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": not an InputError: " << e.what();
  }
}

}  // namespace

TEST(VdbInfo, BoneFileSummary) {
  const auto dir = cf::test::temp_dir("vdb_info_bone");
  const std::vector<std::array<int, 3>> origins = {{0, 0, 0}, {8, 0, 0}, {-16, 8, 24}};
  const cf::BoneBlocks bone = cf::test::random_bone(origins, 99, true, true);
  const std::string path = (dir / "bone.vdb").string();
  cf::save_bone(bone, path);

  Stats mat, por, kmag;
  std::array<int, 3> lo{1 << 30, 1 << 30, 1 << 30}, hi{-(1 << 30), -(1 << 30), -(1 << 30)};
  for (std::size_t b = 0; b < bone.num_blocks(); ++b) {
    for (int v = 0; v < 512; ++v) {
      const std::size_t i = b * 512 + v;
      if (bone.material[i] == cf::kInactive) continue;
      mat.add(bone.material[i]);
      por.add(static_cast<double>(bone.porosity[i]));
      const double kx = bone.permeability[3 * i], ky = bone.permeability[3 * i + 1],
                   kz = bone.permeability[3 * i + 2];
      // The grid stores float vectors; its magnitude is taken in float.
      kmag.add(static_cast<double>(std::sqrt(static_cast<float>(kx * kx + ky * ky + kz * kz))));
      const int c[3] = {origins[b][0] + v % 8, origins[b][1] + (v / 8) % 8, origins[b][2] + v / 64};
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], c[d]);
        hi[d] = std::max(hi[d], c[d]);
      }
    }
  }

  const cf::FileInfo info = cf::inspect_vdb(path);
  EXPECT_EQ(info.path, path);
  EXPECT_EQ(meta(info.metadata, "units"), "mm");
  ASSERT_EQ(info.grids.size(), 4u);
  const cf::GridInfo* m = find_grid(info, "material");
  const cf::GridInfo* p = find_grid(info, "porosity");
  const cf::GridInfo* k = find_grid(info, "permeability");
  const cf::GridInfo* r = find_grid(info, "leak_route");
  ASSERT_TRUE(m && p && k && r);
  EXPECT_EQ(m->type, "int32");
  EXPECT_EQ(p->type, "float");
  EXPECT_EQ(k->type, "vec3s");
  EXPECT_EQ(m->leaf_nodes, 3);
  EXPECT_EQ(meta(m->metadata, "units"), "mm");
  expect_stats(*m, mat);
  expect_stats(*p, por);
  // The magnitude of a float vector: float round-off (~1e-7 relative) enters here.
  ASSERT_TRUE(k->has_stats);
  const double k_tol = 4 * static_cast<double>(std::numeric_limits<float>::epsilon()) * kmag.max;
  EXPECT_NEAR(k->min, kmag.min, k_tol);
  EXPECT_NEAR(k->max, kmag.max, k_tol);
  EXPECT_NEAR(k->mean, kmag.sum / static_cast<double>(kmag.n), k_tol);
  for (int d = 0; d < 3; ++d) {
    EXPECT_NEAR(m->voxel_size_mm[d], bone.voxel_mm, kBboxTolMm);
    EXPECT_NEAR(m->bbox_min_mm[d], bone.origin_mm[d] + bone.voxel_mm * (lo[d] - 0.5), kBboxTolMm);
    EXPECT_NEAR(m->bbox_max_mm[d], bone.origin_mm[d] + bone.voxel_mm * (hi[d] + 0.5), kBboxTolMm);
  }

  const std::string text = cf::to_text(info);
  for (const char* s : {"material", "porosity", "permeability", "leak_route", "int32", "vec3s"})
    EXPECT_NE(text.find(s), std::string::npos) << s << " not in\n" << text;
  EXPECT_NE(text.find(path), std::string::npos);

  const auto j = nlohmann::json::parse(cf::to_json(info));
  EXPECT_EQ(j.at("path").get<std::string>(), path);
  ASSERT_EQ(j.at("grids").size(), 4u);
  bool seen = false;
  for (const auto& g : j.at("grids")) {
    if (g.at("name") != "porosity") continue;
    seen = true;
    EXPECT_EQ(g.at("active_voxels").get<long long>(), por.n);
    EXPECT_NEAR(g.at("stats").at("mean").get<double>(), por.sum / static_cast<double>(por.n),
                kStatRelTol);
    EXPECT_EQ(g.at("metadata").at("units").get<std::string>(), "mm");
  }
  EXPECT_TRUE(seen);
}

TEST(VdbInfo, OtherValueTypesAndEmptyGrids) {
  const auto dir = cf::test::temp_dir("vdb_info_types");
  RawGrid d;
  d.name = "density";
  d.type = "double";
  d.coords = {{0, 0, 0}, {1, 0, 0}, {100, 0, 0}};
  d.values = {-2.5, 4.0, 1.0};
  d.metadata = {{"note", "hello"}};
  RawGrid l = d;
  l.name = "labels";
  l.type = "int64";
  l.values = {7, 9, 11};
  RawGrid b = d;
  b.name = "mask";
  b.type = "bool";
  b.values = {1, 0, 1};
  RawGrid v = d;
  v.name = "flow";
  v.type = "vec3s";
  v.values = {3, 4, 0, 0, 0, 1, 0, 0, 0};
  RawGrid e;
  e.name = "empty";
  e.type = "float";
  const std::string path = (dir / "types.vdb").string();
  cf::detail::write_raw_vdb(path, {d, l, b, v, e}, {{"source", "unit test"}});

  const cf::FileInfo info = cf::inspect_vdb(path);
  EXPECT_EQ(meta(info.metadata, "source"), "unit test");
  const auto check = [&](const char* name, double mn, double mx, double mean) {
    const cf::GridInfo* g = find_grid(info, name);
    ASSERT_TRUE(g) << name;
    ASSERT_TRUE(g->has_stats) << name;
    EXPECT_EQ(g->active_voxels, 3);
    EXPECT_EQ(g->leaf_nodes, 2);
    const double tol = kStatRelTol * std::max(std::abs(mn), std::abs(mx));
    EXPECT_NEAR(g->min, mn, tol) << name;
    EXPECT_NEAR(g->max, mx, tol) << name;
    EXPECT_NEAR(g->mean, mean, tol) << name;
  };
  check("density", -2.5, 4.0, 2.5 / 3);
  check("labels", 7, 11, 9);
  check("mask", 0, 1, 2.0 / 3);
  check("flow", 0, 5, 2.0);
  EXPECT_EQ(meta(find_grid(info, "density")->metadata, "note"), "hello");
  const cf::GridInfo* g = find_grid(info, "empty");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->active_voxels, 0);
  EXPECT_FALSE(g->has_stats);
  EXPECT_NO_THROW(cf::to_text(info));
  const auto j = nlohmann::json::parse(cf::to_json(info));
  EXPECT_EQ(j.at("grids").size(), 5u);
}

TEST(VdbInfo, BadFiles) {
  const auto dir = cf::test::temp_dir("vdb_info_bad");
  expect_input_error_naming((dir / "missing.vdb").string());
  fs::create_directories(dir / "folder.vdb");
  expect_input_error_naming((dir / "folder.vdb").string());
  std::ofstream(dir / "empty.vdb").close();
  expect_input_error_naming((dir / "empty.vdb").string());
  std::ofstream(dir / "text.vdb") << "not a VDB file at all\n";
  expect_input_error_naming((dir / "text.vdb").string());

  const std::string good = (dir / "good.vdb").string();
  cf::save_bone(cf::test::random_bone({{0, 0, 0}, {0, 8, 0}}, 1, true, false), good);
  const auto size = static_cast<std::size_t>(fs::file_size(good));
  for (std::size_t n : {std::size_t{4}, std::size_t{16}, std::size_t{100}, size / 3, size / 2,
                        size - 16, size - 1}) {
    const std::string cut = (dir / ("cut" + std::to_string(n) + ".vdb")).string();
    fs::copy_file(good, cut);
    fs::resize_file(cut, n);
    expect_input_error_naming(cut);
  }
}

TEST(VdbInfo, CliExitStatusAndOneLine) {
  const std::string exe = cf::test::cli();
  if (!fs::exists(exe)) GTEST_SKIP() << "the CLI binary " << exe << " is not built";
  const auto dir = cf::test::temp_dir("vdb_info_cli");
  for (const std::string name : {"missing.vdb", "text.vdb"}) {
    const std::string path = (dir / name).string();
    if (name == "text.vdb") std::ofstream(path) << "plain text\n";
    std::string out;
    const int status = cf::test::run_command("'" + exe + "' info '" + path + "'", &out);
    EXPECT_EQ(status, 2) << out;
    EXPECT_NE(out.find(path), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
  }

  const std::string good = (dir / "good.vdb").string();
  cf::save_bone(cf::test::random_bone({{0, 0, 0}}, 1, false, false), good);
  std::string out;
  EXPECT_EQ(cf::test::run_command("'" + exe + "' info '" + good + "' --json", &out), 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("grids").size(), 2u);
}

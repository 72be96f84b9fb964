// fill.vdb (SPEC.md §6): write the result fields, read the file back with inspect_vdb and compare
// counts, statistics, units and the transform with what was written.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bone_test_util.hpp"
#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/info.hpp"
#include "cementflow/simulation.hpp"
#include "engine/io/fill_writer.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;

namespace {

// Statistics are summed in double over float values (< 10^4 of them) in another order than
// here: agreement to ~n * eps_double relative, well inside 1e-9.
constexpr double kStatRelTol = 1e-9;
// Bounding boxes: index bounds +-0.5 through a scale-and-translate transform in double.
constexpr double kBboxTolMm = 1e-9;

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

const cf::GridInfo* find_grid(const cf::FileInfo& info, const std::string& name) {
  for (const auto& g : info.grids)
    if (g.name == name) return &g;
  return nullptr;
}

std::string meta(const cf::GridInfo& g, const std::string& k) {
  for (const auto& [key, v] : g.metadata)
    if (key == k) return v;
  return "<absent>";
}

void expect_stats(const cf::GridInfo* g, const Stats& s) {
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->has_stats) << g->name;
  EXPECT_EQ(g->active_voxels, s.n) << g->name;
  const double tol = kStatRelTol * std::max(std::abs(s.min), std::abs(s.max));
  EXPECT_NEAR(g->min, s.min, tol) << g->name;
  EXPECT_NEAR(g->max, s.max, tol) << g->name;
  EXPECT_NEAR(g->mean, s.sum / static_cast<double>(s.n), tol) << g->name;
}

/// Result fields on a random bone: cement in about half the voxels, the rest never reached.
cf::RunFields make_fields() {
  cf::RunFields f;
  f.grid =
      cf::test::random_bone({{0, 0, 0}, {8, 0, 0}, {0, 8, -8}, {-24, 0, 16}}, 17, false, false);
  const std::size_t n = f.grid.num_voxels();
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  f.cement_fraction.resize(n);
  f.arrival_time.resize(n);
  f.pressure.resize(n);
  f.viscosity.resize(n);
  f.velocity.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool reached = u(rng) < 0.5f;
    f.cement_fraction[i] = reached ? u(rng) : 0.0f;
    f.arrival_time[i] = reached ? 100.0f * u(rng) : -1.0f;
    f.pressure[i] = 2.0e5f * u(rng) - 1.0e4f;
    f.viscosity[i] = 50.0f + 500.0f * u(rng);
    for (int d = 0; d < 3; ++d) f.velocity[3 * i + d] = 1e-3f * (u(rng) - 0.5f);
  }
  return f;
}

}  // namespace

TEST(FillWriter, GridNames) {
  const auto& names = cf::detail::fill_grid_names();
  for (const char* s : {"cement_fraction", "arrival_time", "pressure", "velocity", "viscosity"})
    EXPECT_NE(std::find(names.begin(), names.end(), s), names.end()) << s;
}

TEST(FillWriter, AllGridsReadBack) {
  const cf::RunFields f = make_fields();
  const auto dir = cf::test::temp_dir("fill_writer_all");
  const std::string path = (dir / "fill.vdb").string();
  cf::detail::write_fill_vdb(
      f, {"cement_fraction", "arrival_time", "pressure", "viscosity", "velocity"}, path);

  Stats frac, arrive, press, visc, speed, mat;
  const cf::BoneBlocks& b = f.grid;
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    if (b.material[i] == cf::kInactive) continue;
    mat.add(b.material[i]);
    frac.add(static_cast<double>(f.cement_fraction[i]));
    press.add(static_cast<double>(f.pressure[i]));
    visc.add(static_cast<double>(f.viscosity[i]));
    if (f.arrival_time[i] >= 0.0f) arrive.add(static_cast<double>(f.arrival_time[i]));
    const float* u = &f.velocity[3 * i];
    // The file stores float vectors; their magnitude is taken in float.
    speed.add(static_cast<double>(std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])));
  }
  ASSERT_GT(arrive.n, 0);
  ASSERT_LT(arrive.n, frac.n) << "some voxels must be never reached";

  const cf::FileInfo info = cf::inspect_vdb(path);
  EXPECT_EQ(info.grids.size(), 6u);
  expect_stats(find_grid(info, "material"), mat);
  expect_stats(find_grid(info, "cement_fraction"), frac);
  expect_stats(find_grid(info, "arrival_time"), arrive);
  expect_stats(find_grid(info, "pressure"), press);
  expect_stats(find_grid(info, "viscosity"), visc);
  const cf::GridInfo* v = find_grid(info, "velocity");
  ASSERT_TRUE(v && v->has_stats);
  EXPECT_EQ(v->type, "vec3s");
  EXPECT_EQ(v->active_voxels, speed.n);
  // Magnitudes in float on both sides, possibly with a different operation order.
  const double vtol = 4 * static_cast<double>(std::numeric_limits<float>::epsilon()) * speed.max;
  EXPECT_NEAR(v->min, speed.min, vtol);
  EXPECT_NEAR(v->max, speed.max, vtol);
  EXPECT_NEAR(v->mean, speed.sum / static_cast<double>(speed.n), vtol);

  const std::pair<const char*, const char*> units[] = {{"cement_fraction", "1"},
                                                       {"arrival_time", "s"},
                                                       {"pressure", "Pa"},
                                                       {"viscosity", "Pa*s"},
                                                       {"velocity", "m/s"}};
  for (const auto& [name, unit] : units) {
    const cf::GridInfo* g = find_grid(info, name);
    ASSERT_TRUE(g) << name;
    EXPECT_EQ(meta(*g, "unit"), unit) << name;
    EXPECT_EQ(meta(*g, "units"), "mm") << name;
  }
  bool units_mm = false;
  for (const auto& [k, val] : info.metadata) units_mm = units_mm || (k == "units" && val == "mm");
  EXPECT_TRUE(units_mm);

  // Same transform as the bone: voxel size and the bbox of the model.
  const cf::GridInfo* m = find_grid(info, "material");
  std::array<int, 3> lo{1 << 30, 1 << 30, 1 << 30}, hi{-(1 << 30), -(1 << 30), -(1 << 30)};
  for (std::size_t k = 0; k < b.num_blocks(); ++k)
    for (int l = 0; l < 512; ++l) {
      if (b.material[k * 512 + l] == cf::kInactive) continue;
      const int c[3] = {b.block_origin[k][0] + l % 8, b.block_origin[k][1] + (l / 8) % 8,
                        b.block_origin[k][2] + l / 64};
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], c[d]);
        hi[d] = std::max(hi[d], c[d]);
      }
    }
  for (int d = 0; d < 3; ++d) {
    EXPECT_NEAR(m->voxel_size_mm[d], b.voxel_mm, kBboxTolMm);
    EXPECT_NEAR(m->bbox_min_mm[d], b.origin_mm[d] + b.voxel_mm * (lo[d] - 0.5), kBboxTolMm);
    EXPECT_NEAR(m->bbox_max_mm[d], b.origin_mm[d] + b.voxel_mm * (hi[d] + 0.5), kBboxTolMm);
  }
}

TEST(FillWriter, OnlyRequestedNonEmptyGrids) {
  cf::RunFields f = make_fields();
  f.viscosity.clear();  // requested but not computed: skipped
  const auto dir = cf::test::temp_dir("fill_writer_some");
  const std::string path = (dir / "fill.vdb").string();
  cf::detail::write_fill_vdb(f, {"pressure", "viscosity"}, path);
  const cf::FileInfo info = cf::inspect_vdb(path);
  ASSERT_EQ(info.grids.size(), 2u);
  EXPECT_TRUE(find_grid(info, "material"));
  EXPECT_TRUE(find_grid(info, "pressure"));
}

TEST(FillWriter, BadRequestsAndPaths) {
  const cf::RunFields f = make_fields();
  const auto dir = cf::test::temp_dir("fill_writer_bad");
  try {
    cf::detail::write_fill_vdb(f, {"pressure", "temperature"}, (dir / "x.vdb").string());
    ADD_FAILURE() << "unknown grid accepted";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.key(), "output.grids");
    EXPECT_NE(e.value().find("temperature"), std::string::npos);
  }
  const std::string nowhere = (dir / "missing_folder" / "fill.vdb").string();
  try {
    cf::detail::write_fill_vdb(f, {"pressure"}, nowhere);
    ADD_FAILURE() << "unwritable path accepted";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.file(), nowhere);
    EXPECT_EQ(e.expected(), "a writable file path");
  }
}

// The built-in box phantom (SPEC.md §3): voxel counts, centring, cortical shell, sink layers,
// the vein reaching the boundary, permeability and parameter checks.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;

namespace {

using Ijk = std::array<int, 3>;

/// Dense view of a bone: index -> voxel number, plus each voxel's world centre.
struct Voxels {
  std::map<Ijk, std::size_t> at;
  std::vector<std::array<double, 3>> centre;  // by voxel number i (blocks*512)
};

Voxels voxels_of(const cf::BoneBlocks& b) {
  Voxels v;
  v.centre.resize(b.num_voxels());
  for (std::size_t k = 0; k < b.num_blocks(); ++k) {
    for (int l = 0; l < 512; ++l) {
      const std::size_t i = k * 512 + l;
      v.centre[i] = b.voxel_center_mm(k, l);
      if (b.material[i] == cf::kInactive) continue;
      const Ijk c{b.block_origin[k][0] + l % 8, b.block_origin[k][1] + (l / 8) % 8,
                  b.block_origin[k][2] + l / 64};
      v.at[c] = i;
    }
  }
  return v;
}

std::size_t count(const cf::BoneBlocks& b, cf::Material m) {
  std::size_t n = 0;
  for (auto x : b.material) n += x == static_cast<std::int32_t>(m);
  return n;
}

void expect_scene_error(const cf::BoxPhantom& p, const std::string& key) {
  try {
    cf::generate_box(p);
    ADD_FAILURE() << "no error for " << key;
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.file(), "<scene>");
    EXPECT_EQ(e.key(), "bone.generate." + key) << e.what();
    EXPECT_FALSE(e.expected().empty());
  }
}

// Voxel centres are h * (integer - (N-1)/2): exact in binary for h = 0.5 and N < 2^50, and the
// centroid of a symmetric set sums to zero up to the round-off of summing n doubles of size
// <= L: n * eps * L / n = eps * L per coordinate; 64 * eps * 1 mm is a generous bound here.
constexpr double kCentroidTolMm = 64 * std::numeric_limits<double>::epsilon();
// Positions h * (i + offset) in double: a few ulps of the box size.
constexpr double kPosTolMm = 1e-12;

}  // namespace

TEST(BoxPhantom, CountsCentringAndPorosity) {
  cf::BoxPhantom p;
  p.size_mm = {10, 8, 6.1};  // 6.1 / 0.5 = 12.2 -> 12 voxels (box 6 mm)
  p.voxel_mm = 0.5;
  p.porosity = 0.85;
  const cf::BoneBlocks b = cf::generate_box(p);
  EXPECT_EQ(b.active_voxels(), 20u * 16u * 12u);
  EXPECT_EQ(count(b, cf::Material::Trabecular), 20u * 16u * 12u);
  EXPECT_TRUE(b.permeability.empty()) << "no permeability given: the engine's law fills it";
  EXPECT_TRUE(b.route.empty());
  EXPECT_NEAR(b.voxel_mm, 0.5, kPosTolMm);
  std::array<double, 3> sum{0, 0, 0}, lo{1e9, 1e9, 1e9}, hi{-1e9, -1e9, -1e9};
  const Voxels v = voxels_of(b);
  for (const auto& [ijk, i] : v.at) {
    EXPECT_EQ(b.porosity[i], static_cast<float>(p.porosity)) << "stored, not computed";
    for (int d = 0; d < 3; ++d) {
      EXPECT_GE(ijk[d], 0) << "block origins are never negative";
      sum[d] += v.centre[i][d];
      lo[d] = std::min(lo[d], v.centre[i][d]);
      hi[d] = std::max(hi[d], v.centre[i][d]);
    }
  }
  const double n = static_cast<double>(v.at.size());
  const double half_extent[3] = {4.75, 3.75, 2.75};  // (N - 1) h / 2
  for (int d = 0; d < 3; ++d) {
    EXPECT_NEAR(sum[d] / n, 0.0, kCentroidTolMm) << "axis " << d;
    EXPECT_NEAR(lo[d], -half_extent[d], kPosTolMm);
    EXPECT_NEAR(hi[d], half_extent[d], kPosTolMm);
  }
  for (const auto& o : b.block_origin)
    for (int d = 0; d < 3; ++d) EXPECT_EQ(o[d] % 8, 0);
}

TEST(BoxPhantom, CorticalShell) {
  cf::BoxPhantom p;
  p.size_mm = {12, 10, 8};
  p.voxel_mm = 0.5;
  p.shell_mm = 1.0;  // two voxel layers
  const cf::BoneBlocks b = cf::generate_box(p);
  const std::size_t n = 24 * 20 * 16, inner = 20 * 16 * 12;
  EXPECT_EQ(b.active_voxels(), n);
  EXPECT_EQ(count(b, cf::Material::Cortical), n - inner);
  EXPECT_EQ(count(b, cf::Material::Trabecular), inner);
  // Every cortical voxel centre lies within shell_mm of a face; every trabecular one beyond.
  const Voxels v = voxels_of(b);
  const double half[3] = {6, 5, 4};
  for (const auto& [ijk, i] : v.at) {
    double depth = 1e9;
    for (int d = 0; d < 3; ++d) depth = std::min(depth, half[d] - std::abs(v.centre[i][d]));
    if (b.material[i] == static_cast<std::int32_t>(cf::Material::Cortical))
      EXPECT_LT(depth, p.shell_mm);
    else
      EXPECT_GT(depth, p.shell_mm);
  }
  // A shell thinner than a voxel still gets one layer.
  p.shell_mm = 0.2;
  const cf::BoneBlocks thin = cf::generate_box(p);
  EXPECT_EQ(count(thin, cf::Material::Cortical), n - 22u * 18u * 14u);
}

TEST(BoxPhantom, SinkFacesAddOneSoftTissueLayerOutside) {
  cf::BoxPhantom p;
  p.size_mm = {10, 8, 6};
  p.voxel_mm = 0.5;
  p.porosity = 0.7;
  p.shell_mm = 0.5;
  p.sink_faces = {"+x", "-z", "-y"};
  const cf::BoneBlocks b = cf::generate_box(p);
  const std::size_t box = 20 * 16 * 12;
  const std::size_t sinks = 16 * 12 /*+x*/ + 20 * 16 /*-z*/ + 20 * 12 /*-y*/;
  EXPECT_EQ(b.active_voxels(), box + sinks);
  EXPECT_EQ(count(b, cf::Material::SoftTissue), sinks);
  EXPECT_EQ(count(b, cf::Material::Cortical) + count(b, cf::Material::Trabecular), box);
  const Voxels v = voxels_of(b);
  for (const auto& [ijk, i] : v.at) {
    for (int d = 0; d < 3; ++d) EXPECT_GE(ijk[d], 0);
    const auto& c = v.centre[i];
    if (b.material[i] != static_cast<std::int32_t>(cf::Material::SoftTissue)) {
      EXPECT_LT(std::abs(c[0]), 5.0);
      EXPECT_LT(std::abs(c[1]), 4.0);
      EXPECT_LT(std::abs(c[2]), 3.0);
      continue;
    }
    EXPECT_EQ(b.porosity[i], static_cast<float>(p.porosity));
    // Exactly one coordinate lies half a voxel outside its face, on a sink face.
    const bool px = std::abs(c[0] - 5.25) < kPosTolMm;
    const bool my = std::abs(c[1] + 4.25) < kPosTolMm;
    const bool mz = std::abs(c[2] + 3.25) < kPosTolMm;
    EXPECT_EQ(px + my + mz, 1) << c[0] << " " << c[1] << " " << c[2];
  }
  // The box stays centred: the centroid of the box voxels (not the sinks) is zero.
  std::array<double, 3> sum{0, 0, 0};
  std::size_t n = 0;
  for (const auto& [ijk, i] : v.at) {
    if (b.material[i] == 0) continue;
    ++n;
    for (int d = 0; d < 3; ++d) sum[d] += v.centre[i][d];
  }
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(sum[d] / static_cast<double>(n), 0.0, kCentroidTolMm);

  p.sink_faces = {"+x", "up"};
  expect_scene_error(p, "sink_faces");
}

namespace {
/// Face-connected vein voxels reachable from the voxel containing `start`; returns whether one
/// of them lies in the box's outermost layer, and how many were reached.
std::pair<bool, std::size_t> vein_reaches_boundary(const cf::BoneBlocks& b,
                                                   const std::array<double, 3>& start,
                                                   const std::array<int, 3>& box_lo,
                                                   const std::array<int, 3>& box_hi) {
  const Voxels v = voxels_of(b);
  Ijk s{};
  for (int d = 0; d < 3; ++d)
    s[d] = static_cast<int>(std::lround((start[d] - b.origin_mm[d]) / b.voxel_mm));
  const auto is_vein = [&](const Ijk& c) {
    auto it = v.at.find(c);
    return it != v.at.end() &&
           b.material[it->second] == static_cast<std::int32_t>(cf::Material::Vein);
  };
  if (!is_vein(s)) return {false, 0};
  std::set<Ijk> seen{s};
  std::queue<Ijk> q;
  q.push(s);
  bool boundary = false;
  while (!q.empty()) {
    const Ijk c = q.front();
    q.pop();
    for (int d = 0; d < 3; ++d) boundary = boundary || c[d] == box_lo[d] || c[d] == box_hi[d];
    for (int d = 0; d < 3; ++d) {
      for (int s2 : {-1, 1}) {
        Ijk n = c;
        n[d] += s2;
        if (is_vein(n) && seen.insert(n).second) q.push(n);
      }
    }
  }
  return {boundary, seen.size()};
}
}  // namespace

TEST(BoxPhantom, VeinReachesTheBoundaryThroughTheShell) {
  cf::BoxPhantom p;
  p.size_mm = {16, 16, 12};
  p.voxel_mm = 0.5;
  p.shell_mm = 1.0;
  p.vein = true;
  p.vein_start_mm = {0, -2, 0};
  p.vein_direction = {0, -1, 0};
  p.vein_diameter_mm = 1.5;
  p.vein_route = cf::LeakRoute::SegmentalVein;
  const cf::BoneBlocks b = cf::generate_box(p);
  const std::size_t veins = count(b, cf::Material::Vein);
  EXPECT_GT(veins, 0u);
  ASSERT_EQ(b.route.size(), b.num_voxels());
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    if (b.material[i] == static_cast<std::int32_t>(cf::Material::Vein)) {
      EXPECT_EQ(b.route[i], static_cast<std::int32_t>(cf::LeakRoute::SegmentalVein));
      EXPECT_EQ(b.porosity[i], 1.0f);
    } else {
      EXPECT_EQ(b.route[i], static_cast<std::int32_t>(cf::LeakRoute::None));
    }
  }
  const auto [boundary, reached] =
      vein_reaches_boundary(b, p.vein_start_mm, {0, 0, 0}, {31, 31, 23});
  EXPECT_TRUE(boundary);
  EXPECT_EQ(reached, veins) << "one connected vein";
  // The vein runs from y = -2 mm to the -y face at -8 mm: the 12 voxel layers with centres
  // y = -2.25 ... -7.75, plus the layer of the start voxel (y = -2 is a voxel face; the voxel
  // containing it, centre -1.75, starts the centre line).
  std::set<int> layers;
  const Voxels v = voxels_of(b);
  for (const auto& [ijk, i] : v.at)
    if (b.material[i] == static_cast<std::int32_t>(cf::Material::Vein)) layers.insert(ijk[1]);
  EXPECT_EQ(layers.size(), 13u);
}

TEST(BoxPhantom, ThinObliqueVeinIsConnected) {
  cf::BoxPhantom p;
  p.size_mm = {10, 10, 10};
  p.voxel_mm = 0.5;
  p.vein = true;
  p.vein_start_mm = {0.3, 0.1, -0.2};
  p.vein_direction = {1, -0.7, 0.4};
  p.vein_diameter_mm = 0.05;  // much thinner than a voxel: the centre line carries it
  const cf::BoneBlocks b = cf::generate_box(p);
  const auto [boundary, reached] =
      vein_reaches_boundary(b, p.vein_start_mm, {0, 0, 0}, {19, 19, 19});
  EXPECT_TRUE(boundary);
  EXPECT_EQ(reached, count(b, cf::Material::Vein));
  EXPECT_GE(reached, 10u);  // at least the ~5 mm to the +x face in 0.5 mm voxels
}

TEST(BoxPhantom, GivenPermeabilityFillsTheTrabecularVoxels) {
  cf::BoxPhantom p;
  p.size_mm = {4, 4, 4};
  p.voxel_mm = 0.5;
  p.shell_mm = 0.5;
  p.permeability_m2 = {2e-9, 1e-9, 0.5e-9};
  const cf::BoneBlocks b = cf::generate_box(p);
  ASSERT_EQ(b.permeability.size(), 3 * b.num_voxels());
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    if (b.material[i] == cf::kInactive) continue;
    // Trabecular voxels carry the given values; the shell is left to complete_bone's defaults.
    const bool trab = b.material[i] == static_cast<int>(cf::Material::Trabecular);
    for (int d = 0; d < 3; ++d)
      EXPECT_EQ(b.permeability[3 * i + d], trab ? static_cast<float>(p.permeability_m2[d]) : 0.0f);
  }
}

TEST(BoxPhantom, RoundTripThroughAFile) {
  cf::BoxPhantom p;
  p.size_mm = {9, 7, 5};
  p.voxel_mm = 0.5;
  p.shell_mm = 0.5;
  p.sink_faces = {"-x", "+y"};
  p.vein = true;
  p.vein_start_mm = {0, 0, 0};
  p.vein_direction = {0, 0, 1};
  const cf::BoneBlocks b = cf::generate_box(p);
  const auto dir = cf::test::temp_dir("phantom_rt");
  const std::string path = (dir / "box.vdb").string();
  cf::save_bone(b, path);
  const cf::BoneBlocks back = cf::load_bone(path);
  EXPECT_EQ(back.active_voxels(), b.active_voxels());
  for (auto m : {cf::Material::SoftTissue, cf::Material::Trabecular, cf::Material::Cortical,
                 cf::Material::Vein})
    EXPECT_EQ(count(back, m), count(b, m));
  EXPECT_NEAR(back.origin_mm[0], b.origin_mm[0], kPosTolMm);
  EXPECT_EQ(back.route.size(), back.num_voxels());
}

TEST(BoxPhantom, RejectsBadParameters) {
  const cf::BoxPhantom ok;
  EXPECT_NO_THROW(cf::generate_box([] {
    cf::BoxPhantom p;
    p.size_mm = {4, 4, 4};
    return p;
  }()));
  auto with = [&](auto change) {
    cf::BoxPhantom p = ok;
    change(p);
    return p;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_scene_error(with([](cf::BoxPhantom& p) { p.size_mm[1] = 0; }), "size_mm");
  expect_scene_error(with([&](cf::BoxPhantom& p) { p.size_mm[2] = nan; }), "size_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.voxel_mm = 0; }), "voxel_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.voxel_mm = 13; }), "voxel_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.voxel_mm = 0.01; }), "voxel_mm");  // 3e10
  expect_scene_error(with([](cf::BoxPhantom& p) { p.porosity = 0; }), "porosity");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.porosity = 1.2; }), "porosity");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.permeability_m2[0] = -1e-9; }),
                     "permeability_m2");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.shell_mm = 13; }), "shell_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.shell_mm = -1; }), "shell_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) {
                       p.size_mm = {4, 4, 4};
                       p.shell_mm = 1.9;  // rounds to 4 layers of 8: nothing left inside
                     }),
                     "shell_mm");
  expect_scene_error(with([](cf::BoxPhantom& p) { p.sink_faces = {"x+"}; }), "sink_faces");
  const auto vein = [&](auto change) {
    return with([&](cf::BoxPhantom& p) {
      p.vein = true;
      change(p);
    });
  };
  expect_scene_error(vein([](cf::BoxPhantom& p) { p.vein_diameter_mm = 0; }), "vein_diameter_mm");
  expect_scene_error(vein([](cf::BoxPhantom& p) {
                       p.vein_direction = {0, 0, 0};
                     }),
                     "vein_direction");
  expect_scene_error(vein([](cf::BoxPhantom& p) {
                       p.vein_start_mm = {0, 20, 0};
                     }),
                     "vein_start_mm");
  expect_scene_error(vein([](cf::BoxPhantom& p) { p.vein_route = cf::LeakRoute::None; }),
                     "vein_route");
}

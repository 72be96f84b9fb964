// The lumbar vertebra generator (SPEC.md §1 `generate vertebra`): dimensions and volume against
// PHYSICS.md §L3b, BV/TV statistics, anisotropic permeability (§L3a), veins that drain to the
// model's boundary, a closed cortical shell, the fracture variants, determinism, bad input.
// Generated at 1 mm (a fraction of a second each) unless a test needs the finer grid.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/scene.hpp"
#include "cementflow/simulation.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;

namespace {

using Ijk = std::array<int, 3>;
constexpr std::int32_t kTrab = 1, kCort = 2, kCavity = 3, kVein = 4, kDisc = 5, kCanal = 6;

/// Index -> voxel number over the active voxels, with the world centres and neighbours.
struct Dense {
  explicit Dense(cf::BoneBlocks&&) = delete;  // would dangle: b points at the bone
  const cf::BoneBlocks* b = nullptr;
  std::map<Ijk, std::size_t> at;
  std::vector<Ijk> ijk;

  explicit Dense(const cf::BoneBlocks& bone) : b(&bone), ijk(bone.num_voxels()) {
    for (std::size_t k = 0; k < bone.num_blocks(); ++k)
      for (int l = 0; l < 512; ++l) {
        const std::size_t i = k * 512 + static_cast<std::size_t>(l);
        const Ijk c{bone.block_origin[k][0] + l % 8, bone.block_origin[k][1] + (l / 8) % 8,
                    bone.block_origin[k][2] + l / 64};
        ijk[i] = c;
        if (bone.material[i] != cf::kInactive) at[c] = i;
      }
  }
  /// Neighbour d (0..5: -x +x -y +y -z +z) of voxel i, or -1 when inactive / absent.
  long long nb(std::size_t i, int d) const {
    Ijk c = ijk[i];
    c[static_cast<std::size_t>(d / 2)] += (d % 2) ? 1 : -1;
    const auto it = at.find(c);
    return it == at.end() ? -1 : static_cast<long long>(it->second);
  }
  std::array<double, 3> centre(std::size_t i) const {
    return b->voxel_center_mm(i / 512, static_cast<int>(i % 512));
  }
  std::int32_t mat(std::size_t i) const { return b->material[i]; }
};

cf::VertebraParams params(double h, bool osteoporotic = true,
                          cf::VertebraParams::Fracture f = cf::VertebraParams::Fracture::None,
                          std::uint64_t seed = 1) {
  cf::VertebraParams p;
  p.voxel_mm = h;
  p.osteoporotic = osteoporotic;
  p.fracture = f;
  p.seed = seed;
  return p;
}

/// True for exactly one voxel centre per line of spacing h: -h/2 <= v - target < h/2.
bool on_line(double v, double target, double h) {
  return v - target >= -h / 2 && v - target < h / 2;
}

struct Stats {
  double mean = 0, sd = 0, min = 1, max = 0;
  std::size_t n = 0;
};
Stats bvtv_stats(const cf::BoneBlocks& b) {
  Stats s;
  double s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < b.num_voxels(); ++i)
    if (b.material[i] == kTrab) {
      const double x = 1.0 - static_cast<double>(b.porosity[i]);
      s1 += x;
      s2 += x * x;
      s.min = std::min(s.min, x);
      s.max = std::max(s.max, x);
      ++s.n;
    }
  s.mean = s1 / static_cast<double>(s.n);
  s.sd = std::sqrt(std::max(0.0, s2 / static_cast<double>(s.n) - s.mean * s.mean));
  return s;
}

/// True when some voxel of material `a` has a face neighbour of material `m`.
bool touches(const Dense& d, std::int32_t a, std::int32_t m) {
  for (const auto& [c, i] : d.at) {
    if (d.mat(i) != a) continue;
    for (int k = 0; k < 6; ++k) {
      const long long j = d.nb(i, k);
      if (j >= 0 && d.mat(static_cast<std::size_t>(j)) == m) return true;
    }
  }
  return false;
}

}  // namespace

TEST(Vertebra, DimensionsAndVolumeAreLumbar) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    cf::VertebraInfo info;
    const cf::BoneBlocks b = cf::generate_vertebra(params(1.0, true, {}, seed), &info);
    // PHYSICS.md §L3b: lumbar body 45–50 x 33–35 x 25–28 mm, volume 25–40 cm^3.
    EXPECT_GE(info.width_mm, 45.0);
    EXPECT_LE(info.width_mm, 50.0);
    EXPECT_GE(info.depth_mm, 33.0);
    EXPECT_LE(info.depth_mm, 35.0);
    EXPECT_GE(info.height_mm, 25.0);
    EXPECT_LE(info.height_mm, 28.0);
    EXPECT_GE(info.body_volume_ml, 25.0);
    EXPECT_LE(info.body_volume_ml, 40.0);
    // Measured on the voxels: the body's bone in the anterior half (no pedicles there).
    const Dense d(b);
    double xlo = 1e9, xhi = -1e9, zlo = 1e9, zhi = -1e9, yhi = -1e9;
    double mid_xlo = 1e9, mid_xhi = -1e9;
    for (const auto& [c, i] : d.at) {
      const std::int32_t m = d.mat(i);
      if (m != kTrab && m != kCort) continue;
      const auto x = d.centre(i);
      yhi = std::max(yhi, x[1]);
      if (x[1] < 0) continue;
      xlo = std::min(xlo, x[0]);
      xhi = std::max(xhi, x[0]);
      zlo = std::min(zlo, x[2]);
      zhi = std::max(zhi, x[2]);
      if (on_line(x[2], 0, b.voxel_mm)) {
        mid_xlo = std::min(mid_xlo, x[0]);
        mid_xhi = std::max(mid_xhi, x[0]);
      }
    }
    // Extents of voxel centres are one voxel short of the edges; allow one voxel either way.
    EXPECT_NEAR(xhi - xlo + b.voxel_mm, info.width_mm, 1.5 * b.voxel_mm);
    EXPECT_NEAR(zhi - zlo + b.voxel_mm, info.height_mm, 1.5 * b.voxel_mm);
    // Concave waist: narrower at mid-height than at the endplates.
    EXPECT_LT(mid_xhi - mid_xlo, xhi - xlo - b.voxel_mm);
    // Centred on the body's centroid: symmetric in x, the anterior wall ~ half the depth ahead.
    EXPECT_NEAR(xhi + xlo, 0.0, 1.5 * b.voxel_mm);
    EXPECT_GT(yhi, info.depth_mm / 2 - 3);
    EXPECT_LT(yhi, info.depth_mm / 2 + 3);
  }
}

TEST(Vertebra, EveryTissueIsThere) {
  const cf::BoneBlocks b = cf::generate_vertebra(params(1.0));
  std::array<std::size_t, 8> n{};
  for (std::int32_t m : b.material)
    if (m >= 0) ++n[static_cast<std::size_t>(m)];
  for (int m : {0, 1, 2, 4, 5, 6})
    EXPECT_GT(n[static_cast<std::size_t>(m)], 0u) << "material " << m;
  EXPECT_EQ(n[kCavity], 0u) << "no cavity without a cleft";
  EXPECT_EQ(n[7], 0u) << "no needle track in a generated bone";
  // The canal lies behind the posterior wall, the discs above and below the body.
  const Dense d(b);
  double canal_y = 0, disc_up = 0, disc_down = 0;
  std::size_t nc = 0;
  for (const auto& [c, i] : d.at) {
    const auto x = d.centre(i);
    if (d.mat(i) == kCanal) {
      canal_y += x[1];
      ++nc;
    }
    if (d.mat(i) == kDisc) (x[2] > 0 ? disc_up : disc_down) += 1;
  }
  EXPECT_LT(canal_y / static_cast<double>(nc), -15.0);
  EXPECT_GT(disc_up, 0);
  EXPECT_GT(disc_down, 0);
}

TEST(Vertebra, CorticalShellIsClosed) {
  // Without a fracture the trabecular bone touches no soft tissue, disc or canal: the shell and
  // endplates close it (veins are the only openings).
  const cf::BoneBlocks coarse = cf::generate_vertebra(params(1.0));
  const Dense d(coarse);  // Dense keeps a pointer to the bone: it must outlive d
  for (std::int32_t m : {0, kDisc, kCanal}) EXPECT_FALSE(touches(d, kTrab, m)) << "material " << m;
  EXPECT_TRUE(touches(d, kTrab, kCort));
  EXPECT_TRUE(touches(d, kTrab, kVein));
  // Endplates are thicker than the wall at 0.5 mm: 2 layers (0.8 mm -> round(1.6)) vs 1.
  const cf::BoneBlocks fine = cf::generate_vertebra(params(0.5));
  const Dense f(fine);
  int wall = 0, plate = 0;
  // Cortical voxels on the line (y, z) = (0, 3) to the right, and on (x, y) = (0, 5) upward.
  for (const auto& [c, i] : f.at) {
    const auto x = f.centre(i);
    if (f.mat(i) != kCort) continue;
    if (on_line(x[1], 0, 0.5) && on_line(x[2], 3, 0.5) && x[0] > 0) ++wall;
    if (on_line(x[0], 0, 0.5) && on_line(x[1], 5, 0.5) && x[2] > 0) ++plate;
  }
  EXPECT_EQ(wall, 1);
  EXPECT_EQ(plate, 2);
}

TEST(Vertebra, BvtvStatisticsHealthyAndOsteoporotic) {
  const Stats op = bvtv_stats(cf::generate_vertebra(params(0.5, true)));
  const Stats he = bvtv_stats(cf::generate_vertebra(params(0.5, false)));
  // Means equal the targets (0.09: Kinzl et al. 2012, PHYSICS.md §L3b; 0.15 healthy) up to the
  // clamping to [0.03, 0.40], which touches only the tails.
  EXPECT_NEAR(op.mean, 0.09, 0.002);
  EXPECT_NEAR(he.mean, 0.15, 0.003);
  // Spatial variation: a coefficient of variation of 10–30 % (regional + random field).
  EXPECT_GT(op.sd / op.mean, 0.10);
  EXPECT_LT(op.sd / op.mean, 0.30);
  EXPECT_GE(op.min, 0.03 - 1e-6);
  EXPECT_LE(he.max, 0.40 + 1e-6);
  // Osteoporotic trabecular BV/TV inside Kinzl's augmented-body range 0.057–0.138 for most voxels.
  EXPECT_GT(op.mean - op.sd, 0.057);
  EXPECT_LT(op.mean + op.sd, 0.138);
  std::printf(
      "BV/TV osteoporotic mean %.4f sd %.4f [%.3f, %.3f] (%zu voxels); healthy mean %.4f sd %.4f\n",
      op.mean, op.sd, op.min, op.max, op.n, he.mean, he.sd);
}

TEST(Vertebra, RegionalVariation) {
  // Averaged over seeds, so that the random field (sigma 0.18, 4 mm) averages out and the regional
  // factors show: denser next to the endplates and in the posterior third.
  double near_plate = 0, middle = 0, post = 0, ant = 0;
  std::size_t n_near = 0, n_mid = 0, n_post = 0, n_ant = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    cf::VertebraInfo info;
    const cf::BoneBlocks b = cf::generate_vertebra(params(1.0, true, {}, seed), &info);
    for (std::size_t i = 0; i < b.num_voxels(); ++i) {
      if (b.material[i] != kTrab) continue;
      const auto x = b.voxel_center_mm(i / 512, static_cast<int>(i % 512));
      const double v = 1.0 - static_cast<double>(b.porosity[i]);
      if (std::abs(x[2]) > info.height_mm / 2 - 3.5) {
        near_plate += v;
        ++n_near;
      } else if (std::abs(x[2]) < 4) {
        middle += v;
        ++n_mid;
      }
      if (x[1] < -info.depth_mm / 6) {
        post += v;
        ++n_post;
      } else if (x[1] > info.depth_mm / 6) {
        ant += v;
        ++n_ant;
      }
    }
  }
  EXPECT_GT(near_plate / static_cast<double>(n_near), 1.08 * middle / static_cast<double>(n_mid));
  EXPECT_GT(post / static_cast<double>(n_post), 1.05 * ant / static_cast<double>(n_ant));
}

TEST(Vertebra, PermeabilityIsAnisotropicSuperiorInferiorLargest) {
  const cf::BoneBlocks b = cf::generate_vertebra(params(1.0));
  ASSERT_EQ(b.permeability.size(), 3 * b.num_voxels());
  std::size_t n = 0;
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    if (b.material[i] != kTrab) continue;
    const float* k = &b.permeability[3 * i];
    ASSERT_GT(k[2], k[1]);
    ASSERT_EQ(k[0], k[1]);
    // k_AP / k_SI = 3.44 / 4.45 (Baroud et al. 2004, PHYSICS.md §L3a).
    ASSERT_NEAR(static_cast<double>(k[1] / k[2]), 3.44 / 4.45, 1e-5);
    ++n;
  }
  EXPECT_GT(n, 10000u);
}

TEST(Vertebra, EveryVeinDrainsToTheOutside) {
  // 0.5 mm (thin veins of one or two voxels) without a fracture, 1 mm with the cleft.
  for (auto [f, h] : {std::make_pair(cf::VertebraParams::Fracture::None, 0.5),
                      std::make_pair(cf::VertebraParams::Fracture::Cleft, 1.0)}) {
    {
      SCOPED_TRACE(std::string(cf::fracture_name(f)) + " at " + std::to_string(h) + " mm");
      const cf::BoneBlocks b = cf::generate_vertebra(params(h, true, f));
      const Dense d(b);
      std::map<std::size_t, int> comp;  // vein voxel -> component
      std::vector<bool> drains;
      std::vector<std::array<bool, 2>> kinds;  // basivertebral / segmental route in component
      for (const auto& [c, i0] : d.at) {
        if (d.mat(i0) != kVein || comp.count(i0)) continue;
        const int id = static_cast<int>(drains.size());
        drains.push_back(false);
        kinds.push_back({false, false});
        std::deque<std::size_t> q{i0};
        comp[i0] = id;
        while (!q.empty()) {
          const std::size_t i = q.front();
          q.pop_front();
          const auto r = static_cast<cf::LeakRoute>(b.route[i]);
          kinds[static_cast<std::size_t>(id)][r == cf::LeakRoute::SegmentalVein ? 1 : 0] = true;
          EXPECT_TRUE(r == cf::LeakRoute::BasivertebralVein || r == cf::LeakRoute::SegmentalVein);
          for (int k = 0; k < 6; ++k) {
            const long long j = d.nb(i, k);
            if (j < 0) {
              drains[static_cast<std::size_t>(id)] = true;  // an outer face: Dirichlet outlet
              continue;
            }
            const auto u = static_cast<std::size_t>(j);
            if (d.mat(u) == kVein && !comp.count(u)) {
              comp[u] = id;
              q.push_back(u);
            }
          }
        }
      }
      // One basivertebral plexus and four segmental veins, each reaching the outer boundary.
      int bv = 0, seg = 0;
      for (std::size_t c = 0; c < drains.size(); ++c) {
        EXPECT_TRUE(drains[c]) << "vein component " << c << " has no outlet";
        bv += kinds[c][0];
        seg += kinds[c][1];
      }
      EXPECT_EQ(bv, 1);
      EXPECT_EQ(seg, 4);
      // The basivertebral plexus runs from the trabecular bone through the posterior wall (the
      // foramen) into the canal; segmental veins through the cortex into soft tissue.
      bool bv_in_bone = false, bv_in_canal = false;
      for (const auto& [c, i] : d.at) {
        if (d.mat(i) != kVein ||
            b.route[i] != static_cast<std::int32_t>(cf::LeakRoute::BasivertebralVein))
          continue;
        for (int k = 0; k < 6; ++k) {
          const long long j = d.nb(i, k);
          if (j < 0) continue;
          bv_in_bone = bv_in_bone || d.mat(static_cast<std::size_t>(j)) == kTrab;
          bv_in_canal = bv_in_canal || d.mat(static_cast<std::size_t>(j)) == kCanal;
        }
      }
      EXPECT_TRUE(bv_in_bone);
      EXPECT_TRUE(bv_in_canal);
    }
  }
}

TEST(Vertebra, WedgeFracture) {
  const auto wedge = cf::VertebraParams::Fracture::Wedge;
  cf::VertebraInfo info;
  const cf::BoneBlocks b = cf::generate_vertebra(params(1.0, true, wedge), &info);
  const Dense d(b);
  // Height of the body's bone on the midline near the anterior and the posterior wall.
  auto height_at = [&](double y) {
    double lo = 1e9, hi = -1e9;
    for (const auto& [c, i] : d.at) {
      const auto x = d.centre(i);
      if ((d.mat(i) != kTrab && d.mat(i) != kCort && d.mat(i) != kVein) ||
          !on_line(x[0], 0, b.voxel_mm) || !on_line(x[1], y, b.voxel_mm))
        continue;
      lo = std::min(lo, x[2]);
      hi = std::max(hi, x[2]);
    }
    return hi - lo + b.voxel_mm;
  };
  // The anterior and posterior walls on the midline 5 mm below mid-height (clear of the breach
  // and of the basivertebral foramen).
  double ymin = 1e9, ymax = -1e9;
  for (const auto& [c, i] : d.at) {
    const auto x = d.centre(i);
    if (d.mat(i) == kCort && on_line(x[0], 0, b.voxel_mm) && on_line(x[2], -5, b.voxel_mm) &&
        x[1] > -16) {
      ymin = std::min(ymin, x[1]);
      ymax = std::max(ymax, x[1]);
    }
  }
  const double front = height_at(ymax - 2), back = height_at(ymin + 2);
  // 30 % anterior height loss (Genant grade 2), over the depth: the front lost ~0.27 H here.
  EXPECT_LT(front, 0.80 * back);
  EXPECT_GT(front, 0.60 * back);
  // A cortical breach: trabecular bone touches soft tissue.
  EXPECT_TRUE(touches(d, kTrab, 0));
  EXPECT_FALSE(touches(d, kTrab, kDisc));
  // A densified band under the collapsed endplate: its BV/TV well above the bone's mean.
  const Stats all = bvtv_stats(b);
  double band = 0;
  std::size_t nb = 0;
  for (const auto& [c, i] : d.at) {
    if (d.mat(i) != kTrab) continue;
    const auto x = d.centre(i);
    if (x[1] < 5 || std::abs(x[0]) > 10) continue;
    // Trabecular voxels right under the superior endplate (cortical above within 2 voxels).
    const long long up = d.nb(i, 5);
    if (up >= 0 && d.mat(static_cast<std::size_t>(up)) == kCort) {
      band += 1.0 - static_cast<double>(b.porosity[i]);
      ++nb;
    }
  }
  ASSERT_GT(nb, 20u);
  EXPECT_GT(band / static_cast<double>(nb), 1.5 * all.mean);
}

TEST(Vertebra, CleftFracture) {
  const cf::BoneBlocks b =
      cf::generate_vertebra(params(1.0, true, cf::VertebraParams::Fracture::Cleft));
  const Dense d(b);
  std::size_t cavity = 0;
  for (std::int32_t m : b.material) cavity += m == kCavity;
  // An 18 x 12 x 5 mm ellipsoid: (4/3) pi 9 6 2.5 = 565 mm^3, plus the crack.
  EXPECT_GT(cavity, 450u);
  EXPECT_LT(cavity, 750u);
  // Open to the disc through the endplate crack, closed to soft tissue.
  EXPECT_TRUE(touches(d, kCavity, kDisc));
  EXPECT_FALSE(touches(d, kTrab, 0));
  for (std::size_t i = 0; i < b.num_voxels(); ++i)
    if (b.material[i] == kCavity) {
      ASSERT_EQ(b.porosity[i], 1.0f);
    }
  // A sclerotic rim: trabecular voxels next to the cavity are denser than the mean.
  double rim = 0;
  std::size_t nr = 0;
  for (const auto& [c, i] : d.at) {
    if (d.mat(i) != kTrab) continue;
    for (int k = 0; k < 6; ++k) {
      const long long j = d.nb(i, k);
      if (j >= 0 && d.mat(static_cast<std::size_t>(j)) == kCavity) {
        rim += 1.0 - static_cast<double>(b.porosity[i]);
        ++nr;
        break;
      }
    }
  }
  ASSERT_GT(nr, 0u);
  EXPECT_GT(rim / static_cast<double>(nr), 1.4 * bvtv_stats(b).mean);
}

TEST(Vertebra, DeterministicForASeed) {
  const cf::BoneBlocks a = cf::generate_vertebra(params(1.0, true, {}, 42));
  const cf::BoneBlocks b = cf::generate_vertebra(params(1.0, true, {}, 42));
  const cf::BoneBlocks c = cf::generate_vertebra(params(1.0, true, {}, 43));
  EXPECT_EQ(a.block_origin, b.block_origin);
  EXPECT_EQ(a.origin_mm, b.origin_mm);
  EXPECT_EQ(a.material, b.material);
  EXPECT_EQ(a.porosity, b.porosity);
  EXPECT_EQ(a.permeability, b.permeability);
  EXPECT_EQ(a.route, b.route);
  EXPECT_NE(a.porosity, c.porosity) << "another seed, another bone";
}

TEST(Vertebra, ContainsMatchesTheVoxels) {
  const cf::VertebraParams p = params(1.0);
  const cf::BoneBlocks b = cf::generate_vertebra(p);
  const Dense d(b);
  std::size_t checked = 0;
  for (const auto& [c, i] : d.at) {
    const auto x = d.centre(i);
    if (!cf::vertebra_contains(p, x)) continue;
    // A point the cheap check accepts is bone the needle can inject into (or a vein inside it).
    EXPECT_TRUE(d.mat(i) == kTrab || d.mat(i) == kVein)
        << "material " << d.mat(i) << " at " << x[0] << " " << x[1] << " " << x[2];
    ++checked;
  }
  EXPECT_GT(checked, 10000u);
  EXPECT_TRUE(cf::vertebra_contains(p, {0, 0, 0}));
  EXPECT_FALSE(cf::vertebra_contains(p, {0, -22, 0}));  // canal
  EXPECT_FALSE(cf::vertebra_contains(p, {0, 0, 15}));   // disc
}

TEST(VertebraErrors, BadParameters) {
  for (double h : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), 2.5, 0.05}) {
    SCOPED_TRACE(h);
    try {
      cf::generate_vertebra(params(h));
      ADD_FAILURE() << "accepted voxel " << h;
    } catch (const cf::InputError& e) {
      EXPECT_EQ(e.key(), "voxel_mm");
      EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos);
    }
  }
  try {
    cf::fracture_from_name("crack", "<arguments>", "--fracture");
    ADD_FAILURE() << "accepted fracture crack";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.key(), "--fracture");
    EXPECT_EQ(e.value(), "\"crack\"");
  }
}

TEST(VertebraCli, GenerateAndBadArguments) {
  const auto dir = cf::test::temp_dir("vertebra_cli");
  const std::string out = (dir / "v.vdb").string();
  std::string text;
  ASSERT_EQ(cf::test::run_command(cf::test::cli() +
                                      " generate vertebra --seed 3 --voxel-mm 2 "
                                      "--healthy --fracture cleft --out " +
                                      out,
                                  &text),
            0)
      << text;
  EXPECT_NE(text.find("healthy"), std::string::npos) << text;
  EXPECT_TRUE(std::filesystem::exists(out));
  // The file loads back with its grids and checks.
  const cf::BoneBlocks b = cf::load_bone(out);
  EXPECT_GT(b.active_voxels(), 1000u);

  const std::string gen = cf::test::cli() + " generate vertebra --out " + out;
  for (const std::string bad : {" --voxel-mm 0", " --voxel-mm -1", " --voxel-mm 0.05",
                                " --fracture crack", " --healthy --osteoporotic"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(cf::test::run_command(gen + bad, &text), 2) << text;
    EXPECT_NE(text.find("cementflow:"), std::string::npos) << text;
  }
  EXPECT_EQ(cf::test::run_command(gen + " --voxel-mm 0.05", &text), 2);
  EXPECT_NE(text.find("--voxel-mm"), std::string::npos) << text;
}

TEST(VertebraScene, SmallInjectionRunsEndToEnd) {
  // A generated vertebra at 2 mm with a 0.05 mL injection: the engine finds the tip in
  // trabecular bone and the outlets (veins, soft tissue, disc, canal on the outer boundary), and
  // the books balance. The full scenes (4–5 mL at 1 mm) are in scenes/, not in tests.
  const std::string text = R"({
    "schema": 1, "name": "vertebra_small",
    "bone": { "generate": { "kind": "vertebra", "seed": 2, "voxel_mm": 2.0 } },
    "cement": { "preset": "generic_vertebroplasty" },
    "injection": {
      "needle": { "tip_mm": [-2, 6, 0], "direction": [0.43, 0.9, -0.05], "gauge": 11,
                  "length_mm": 120 },
      "flow_rate_ml_per_min": 3.0, "volume_ml": 0.05 },
    "simulation": { "max_time_s": 60, "output_interval_s": 1 }
  })";
  const cf::Scene scene = cf::parse_scene(text, "vertebra_small.json");
  const cf::RunResult r = cf::simulate(scene, cf::make_bone(scene), cf::RunOptions{});
  EXPECT_EQ(r.report.status, "completed") << r.report.message;
  EXPECT_NEAR(r.report.injected_volume_ml, 0.05, 1e-9);
  EXPECT_LT(std::abs(r.report.mass_balance_error), 1e-9);
  EXPECT_GT(r.report.peak_injection_pressure_mpa, 0.0);
}

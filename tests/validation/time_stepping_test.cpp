// Volume time stepping (issue 13, engine/run/volume_stepping.hpp): the accuracy contract of the new
// default against the reference setting simulation.time_stepping = "front_courant" (courant x the
// step in which the front crosses one cell at its fastest point), on the same scene and bone:
//  - peak injection pressure within 1 %;
//  - tip pressure within 3 % at every output time of the timeline;
//  - leak volume per route within 10 % or 0.002 mL, and the same routes leaking;
//  - injected volume at each route's first leak within 5 %;
//  - the region with cement fraction >= 0.5 overlapping with Dice >= 0.95;
//  - mass balance <= 1e-12 on both.
// The scenes: the default vertebra (1 mm, shear-thinning curing cement) cut to 1.5 mL so that the
// reference stays short in a test (pressure and fill: since session 6 its basivertebral canal has
// the measured depth and the default injection first leaks near 3.8 mL, into a segmental vein),
// and the box validation scenes box_vp_default (closed box with a vein, curing cement: its leak)
// and box_vp_power_law (open box, power-law cement).
// The new scheme must also need clearly fewer pressure solves: that is its point (a count, not a
// time).
// The reference is run with a courant number at which it has converged in time: since the tip
// pressure is the needle-opening pressure of the well model (issue 15), the reference at courant 1
// is itself 4.7-9.7 % off its own courant -> 0 limit at the first output times (measured against
// courant 0.025-0.1: vertebra 4.7 %, box with a vein 5.4 %, power-law box 9.7 %). At the courant
// numbers used here it is within 0.6 % (box with a vein: 0.25 against 0.1), 1.6 % (power-law box:
// 0.1 against 0.025); the vertebra uses 0.25, like the box with a vein.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "cementflow/scene.hpp"
#include "cementflow/simulation.hpp"
#include "test_support.hpp"

namespace cf = cementflow;

namespace {

double rel(double a, double b) {
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-300);
}

/// Tip pressure (kPa) of `tl` at time t (rows are {t, mL, MPa, kPa}), linear between rows.
double tip_at(const std::vector<std::array<double, 4>>& tl, double t) {
  for (size_t k = 1; k < tl.size(); ++k)
    if (tl[k][0] >= t - 1e-9) {
      const double t0 = tl[k - 1][0], t1 = tl[k][0];
      const double w = t1 > t0 ? (t - t0) / (t1 - t0) : 1.0;
      return tl[k - 1][3] + std::clamp(w, 0.0, 1.0) * (tl[k][3] - tl[k - 1][3]);
    }
  return tl.back()[3];
}

void expect_same_answer(cf::Scene s, const cf::BoneBlocks& bone, double reference_courant) {
  s.simulation.time_stepping = "front_courant";
  s.simulation.courant = reference_courant;
  const cf::RunResult ref = cf::simulate(s, bone, {});
  s.simulation.time_stepping = "volume";
  const cf::RunResult vol = cf::simulate(s, bone, {});
  const auto& a = ref.report;
  const auto& b = vol.report;
  ASSERT_EQ(a.status, "completed");
  ASSERT_EQ(b.status, "completed");
  std::printf(
      "%s: front_courant %lld steps, %lld solves, %lld CG iterations, %.2f s; volume %lld "
      "steps, %lld solves, %lld iterations, %.2f s\n",
      s.name.c_str(), a.solver.steps, a.solver.pressure_solves, a.solver.total_iterations,
      a.wall_time_s, b.solver.steps, b.solver.pressure_solves, b.solver.total_iterations,
      b.wall_time_s);
  std::printf("  peak injection pressure %.6f vs %.6f MPa\n", a.peak_injection_pressure_mpa,
              b.peak_injection_pressure_mpa);
  EXPECT_LE(rel(b.peak_injection_pressure_mpa, a.peak_injection_pressure_mpa), 0.01);
  EXPECT_LE(a.mass_balance_error, 1e-12);
  EXPECT_LE(b.mass_balance_error, 1e-12);
  EXPECT_NEAR(b.injected_volume_ml, a.injected_volume_ml, 1e-9);

  // Tip pressure at every output time of the reference (its rows after t = 0; the last row is the
  // end of the injection, where both end).
  double worst = 0;
  for (const auto& row : a.timeline) {
    if (row[0] <= 0) continue;
    const double pb = tip_at(b.timeline, row[0]);
    worst = std::max(worst, rel(pb, row[3]));
    EXPECT_LE(rel(pb, row[3]), 0.03) << "tip pressure at t = " << row[0] << " s";
  }
  std::printf("  tip pressure: worst relative difference %.4f over %zu output times\n", worst,
              a.timeline.size() - 1);

  // Leaks: the same routes, volume within 10 % or 0.002 mL, onset within 5 % of injected volume.
  std::map<std::string, cf::Leak> lb;
  for (const auto& l : b.leaks) lb[l.route] = l;
  EXPECT_EQ(a.leaks.size(), b.leaks.size());
  for (const auto& l : a.leaks) {
    const auto it = lb.find(l.route);
    ASSERT_NE(it, lb.end()) << l.route << " leaks in the reference only";
    std::printf("  %s: %.5f vs %.5f mL, first at %.4f vs %.4f mL injected\n", l.route.c_str(),
                l.volume_ml, it->second.volume_ml, l.first_injected_ml,
                it->second.first_injected_ml);
    EXPECT_LE(std::fabs(it->second.volume_ml - l.volume_ml), std::max(0.1 * l.volume_ml, 0.002))
        << l.route;
    EXPECT_LE(rel(it->second.first_injected_ml, l.first_injected_ml), 0.05) << l.route;
  }

  // Fill: Dice of {cement fraction >= 0.5}.
  const auto& sa = ref.fields.cement_fraction;
  const auto& sb = vol.fields.cement_fraction;
  ASSERT_EQ(sa.size(), sb.size());
  long long na = 0, nb = 0, both = 0;
  for (size_t i = 0; i < sa.size(); ++i) {
    const bool x = sa[i] >= 0.5f, y = sb[i] >= 0.5f;
    na += x;
    nb += y;
    both += x && y;
  }
  ASSERT_GT(na, 0);
  const double dice = 2.0 * static_cast<double>(both) / static_cast<double>(na + nb);
  std::printf("  fill (fraction >= 0.5): %lld vs %lld voxels, Dice %.4f\n", na, nb, dice);
  EXPECT_GE(dice, 0.95);

  EXPECT_LT(3 * b.solver.pressure_solves, a.solver.pressure_solves);
}

cf::Scene scene(const char* name) {
  return cf::load_scene(
      (cf::test::source_dir() / "scenes" / (std::string(name) + ".json")).string());
}

}  // namespace

TEST(TimeStepping, DefaultVertebraSameAnswerAsFrontCourant) {
  cf::Scene s = scene("vp_unipedicular_osteoporotic");
  s.injection.volume_m3 = 1.5e-6;  // the reference stays short
  expect_same_answer(s, cf::make_bone(s), 0.25);
}

TEST(TimeStepping, BoxWithVeinSameAnswerAsFrontCourant) {
  const cf::Scene s = scene("box_vp_default");
  expect_same_answer(s, cf::make_bone(s), 0.25);
}

TEST(TimeStepping, OpenBoxPowerLawSameAnswerAsFrontCourant) {
  const cf::Scene s = scene("box_vp_power_law");
  expect_same_answer(s, cf::make_bone(s), 0.1);
}

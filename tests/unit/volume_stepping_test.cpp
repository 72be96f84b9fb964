// The pieces of the volume time stepping (engine/run/volume_stepping.hpp, issue 13) against what
// they must do by construction: the step proposal and its bounds, the bisection of an event, the
// linear pressure predictor, the saved state and the total-mobility change.

#include <gtest/gtest.h>

#include <cmath>

#include "cementflow/scene.hpp"
#include "engine/run/volume_stepping.hpp"
#include "kernels/transport_kernels.hpp"

namespace cf = cementflow;
namespace cd = cementflow::detail;

namespace {

cf::SimulationSettings volume_settings() {
  cf::SimulationSettings s;
  s.time_stepping = "volume";
  s.volume_step_m3 = 1e-7;  // 0.1 mL
  s.max_front_courant = 4;
  s.pressure_change = 0.02;
  return s;
}

cf::Injection injection() {
  cf::Injection inj;
  inj.flow_rate_m3_s = 5e-8;  // 3 mL/min: 0.1 mL in 2 s
  inj.max_pressure_pa = 1e6;
  return inj;
}

}  // namespace

TEST(StepControl, FrontCourantIsCourantTimesTheFrontStep) {
  cf::SimulationSettings s;
  s.time_stepping = "front_courant";
  s.courant = 0.5;
  const cd::StepControl c(s, injection(), 1e-9);
  EXPECT_FALSE(c.volume());
  EXPECT_DOUBLE_EQ(c.propose(3.0, 1e5, 0.0), 1.5);
}

TEST(StepControl, VolumeStepBoundedByTheFrontAndThePressureChange) {
  cd::StepControl c(volume_settings(), injection(), 1e-9);
  ASSERT_TRUE(c.volume());
  const double v = 2e-6;  // 2 mL injected: the growth bound (0.2 mL) does not bind
  EXPECT_DOUBLE_EQ(c.propose(10.0, 1e5, v), 2.0);  // the volume step: 0.1 mL at 3 mL/min
  EXPECT_DOUBLE_EQ(c.propose(0.25, 1e5, v), 1.0);  // 4 front crossings of 0.25 s
  c.observe(0.0, 1e5);
  c.observe(1.0, 1.1e5);                           // +1e4 Pa/s
  EXPECT_DOUBLE_EQ(c.propose(10.0, 1e5, v), 0.2);  // 2 % of 1e5 Pa at 1e4 Pa/s
  // Near the limit (1 MPa) the step ends where the trend reaches it.
  EXPECT_NEAR(c.propose(10.0, 0.999e6, v), 0.1, 1e-12);
}

TEST(StepControl, VolumeStepGrowsWithTheBolus) {
  cf::SimulationSettings s = volume_settings();
  s.max_volume_growth = 0.1;
  const cd::StepControl c(s, injection(), 1e-9);  // one 1 mm voxel
  // Nothing injected: 10 % of one voxel, 1e-10 m^3 at 5e-8 m^3/s.
  EXPECT_DOUBLE_EQ(c.propose(10.0, 1e5, 0.0), 2e-3);
  // 0.1 mL injected: 10 % of (0.1 mL + 1 mm^3) = 0.0101 mL, 0.202 s.
  EXPECT_NEAR(c.propose(10.0, 1e5, 1e-7), 0.202, 1e-12);
  // From 1 mL on, the volume step (0.1 mL) is the smaller.
  EXPECT_DOUBLE_EQ(c.propose(10.0, 1e5, 1.5e-6), 2.0);
  // Steps of the growth bound alone multiply the injected volume by 1.1 each (plus the seed):
  // 0 -> 1 mL takes about ln(1e-6 / 1e-9) / ln(1.1) = 72.5 steps.
  double inj = 0;
  int steps = 0;
  while (inj < 1e-6 && steps < 1000) {
    inj += c.propose(1e9, 1e5, inj) * injection().flow_rate_m3_s;
    ++steps;
  }
  EXPECT_GE(steps, 70);
  EXPECT_LE(steps, 74);
}

TEST(EventBisection, BracketsTheCrossingToTheTolerance) {
  const double crossing = 0.3141;  // the event happens for steps >= crossing
  cd::EventBisection b(1.0, 1e-3);
  while (b.refine()) b.result(b.dt() >= crossing);
  EXPECT_GE(b.crossing_dt(), crossing);
  EXPECT_LE(b.crossing_dt() - crossing, 1e-3);
  EXPECT_LE(b.trials(), 10);  // log2(1 / 1e-3)
}

TEST(PressurePredictor, ExtrapolatesALinearHistoryExactly) {
  const int n = 16;
  cd::DView<double*> p("p", n);
  auto set = [&](double t) {  // on the host (no device lambda in a test body: CUDA builds)
    auto h = Kokkos::create_mirror_view(p);
    for (int i = 0; i < n; ++i) h(i) = 100.0 * i + 7.0 * t * (i + 1);
    Kokkos::deep_copy(p, h);
  };
  cd::PressurePredictor pred;
  set(1.0);
  pred.predict(p, 1.0);  // nothing recorded: unchanged
  pred.record(p, 1.0);
  set(3.0);
  pred.record(p, 3.0);
  pred.predict(p, 4.5);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(h(i), 100.0 * i + 7.0 * 4.5 * (i + 1), 1e-9) << i;
}

TEST(StateSnapshot, RestoresWhatWasSaved) {
  const int n = 8;
  cd::DView<double*> s("s", n), bout("bout", n), cure("cure", 0);
  cd::DView<float*> arr("arr", n);
  Kokkos::deep_copy(s, 0.25);
  Kokkos::deep_copy(bout, 1e-9);
  Kokkos::deep_copy(arr, -1.0f);
  cd::StateSnapshot snap;
  snap.save(s, bout, arr, cure);
  Kokkos::deep_copy(s, 0.75);
  Kokkos::deep_copy(bout, 2e-9);
  Kokkos::deep_copy(arr, 3.0f);
  snap.restore(s, bout, arr, cure);
  auto hs = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s);
  auto hb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), bout);
  auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arr);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(hs(i), 0.25);
    EXPECT_EQ(hb(i), 1e-9);
    EXPECT_EQ(ha(i), -1.0f);
  }
}

TEST(MobilityChange, RelativeChangeOfTheTotalMobilityWhereThereIsCement) {
  const int n = 3;
  const double mu_m = 0.04;
  cd::DView<int*> mat("mat", n);
  cd::DView<double*> s("s", n), mu("mu", n), lambda("lambda", n);
  auto hm = Kokkos::create_mirror_view(mat);
  auto hs = Kokkos::create_mirror_view(s);
  auto hmu = Kokkos::create_mirror_view(mu);
  auto hl = Kokkos::create_mirror_view(lambda);
  // Voxel 0: cement, viscosity halved since the assembly; 1: no cement (ignored); 2: outside.
  hm(0) = 1, hm(1) = 1, hm(2) = -1;
  hs(0) = 1.0, hs(1) = 0.0, hs(2) = 1.0;
  hmu(0) = 50.0, hmu(1) = 1.0, hmu(2) = 1.0;
  hl(0) = cementflow::kernels::total_mobility(1.0, 100.0, mu_m, 1.0);
  hl(1) = 1e-6, hl(2) = 1e-6;
  Kokkos::deep_copy(mat, hm);
  Kokkos::deep_copy(s, hs);
  Kokkos::deep_copy(mu, hmu);
  Kokkos::deep_copy(lambda, hl);
  EXPECT_NEAR(cd::mobility_change(mat, s, mu, mu_m, 1.0, lambda), 1.0, 1e-12);  // 1/50 vs 1/100
}

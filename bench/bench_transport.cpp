// One implicit transport step (Transport::step) on the box phantoms: a ball of cement (s = 1) of
// radius 5 mm around the point source in marrow, the pressure of that state solved once, and the
// step dt = front_time_step (the simulation's step at courant 1).

#include <cmath>
#include <map>

#include "bench/bench_common.hpp"
#include "engine/solve/transport.hpp"
#include "kernels/transport_kernels.hpp"

namespace cementflow::bench {

namespace {

/// Radius of the cement ball around the source (mm).
constexpr double kBallRadiusMm = 5.0;
/// Newtonian cement at 100 Pa s (Boger 2008, PHYSICS.md §L7), the box_vp_vein scene's cement.
constexpr double kCementViscosity = 100.0;
/// Linear relative permeability (PHYSICS.md §M2 default, corey_exponent = 1).
constexpr double kCorey = 1.0;
/// Cement fraction that counts as arrival (the scenes' default arrival_saturation).
constexpr double kArrivalSaturation = 0.5;
/// Pressure of the ball state: the scenes' default relative residual and iteration cap.
constexpr double kSetupTolerance = 1e-8;
constexpr int kSetupIterations = 20000;
/// A cement fraction below anything a CT could see, to tell the front from round-off traces.
constexpr double kTrace = 1e-6;

struct TransportFixture {
  std::unique_ptr<detail::PressureSolver> solver;  ///< assembled for the ball state
  std::unique_ptr<detail::Transport> transport;
  DView<double*> s0, s, p, mu, bout;
  DView<float*> arrival;
  long long ball_voxels = 0;
  double dt = 0;
  int setup_iterations = 0;
};

auto& cache() {
  return fixture_cache<TransportFixture>();
}

TransportFixture& transport_fixture(const std::array<double, 3>& size_mm) {
  auto& slot = cache()[size_mm];
  if (slot) return *slot;
  BoxFixture& box = box_fixture(size_mm);
  const detail::DeviceGrid& g = box.grid;
  const long long n = g.num_voxels();
  auto f = std::make_unique<TransportFixture>();

  // The ball, on the host in the sorted block order: every bone voxel (not a leak destination)
  // whose centre lies within kBallRadiusMm of the source voxel's centre.
  const BoneBlocks sorted = detail::download_grid(g, box.bone);
  const auto src = static_cast<size_t>(box.source);
  const auto c0 = sorted.voxel_center_mm(src / 512, static_cast<int>(src % 512));
  long long ball = 0;
  f->s0 = host_filled("cementflow::bench::s0", n, [&](double* s) {
    for (long long i = 0; i < n; ++i) {
      const auto u = static_cast<size_t>(i);
      const int m = sorted.material[u];
      const auto c = sorted.voxel_center_mm(u / 512, static_cast<int>(u % 512));
      const double r = std::sqrt((c[0] - c0[0]) * (c[0] - c0[0]) + (c[1] - c0[1]) * (c[1] - c0[1]) +
                                 (c[2] - c0[2]) * (c[2] - c0[2]));
      const bool in = m >= 0 && !is_leak_destination(m) && r <= kBallRadiusMm;
      s[i] = in ? 1.0 : 0.0;
      ball += in;
    }
  });
  f->ball_voxels = ball;
  f->s = DView<double*>("cementflow::bench::s", static_cast<size_t>(n));
  f->p = DView<double*>("cementflow::bench::p", static_cast<size_t>(n));
  f->mu = DView<double*>("cementflow::bench::mu_c", static_cast<size_t>(n));
  f->bout = DView<double*>("cementflow::bench::boundary_out", static_cast<size_t>(n));
  f->arrival = DView<float*>("cementflow::bench::arrival", static_cast<size_t>(n));
  Kokkos::deep_copy(f->mu, kCementViscosity);

  // Total mobility of the ball state, its operator and pressure (as one Picard pass would).
  const DView<double*> lambda("cementflow::bench::lambda_t", static_cast<size_t>(n));
  const auto s0 = f->s0, mu = f->mu;
  const double mu_m = kMarrowViscosity, a = kCorey;
  Kokkos::parallel_for(
      "cementflow::bench::total_mobility", Policy(0, n), KOKKOS_LAMBDA(const long long i) {
        lambda(i) = kernels::total_mobility(s0(i), mu(i), mu_m, a);
      });
  f->solver = std::make_unique<detail::PressureSolver>(g);
  f->solver->assemble(lambda);
  f->setup_iterations = f->solver->solve(box.q, f->p, kSetupTolerance, kSetupIterations).iterations;
  f->transport = std::make_unique<detail::Transport>(g, kMarrowViscosity, kCorey);
  f->dt = f->transport->front_time_step(f->solver->op(), f->p, box.q, f->s0, f->mu);
  slot = std::move(f);
  return *slot;
}

void transport_step(benchmark::State& state, std::array<double, 3> size_mm) {
  const BoxFixture& box = box_fixture(size_mm);
  TransportFixture& f = transport_fixture(size_mm);
  double total = 0;
  detail::TransportStats st;
  long long sweeps = 0;
  for (auto _ : state) {
    // Back to the ball state, outside the timing.
    Kokkos::deep_copy(f.s, f.s0);
    Kokkos::deep_copy(f.bout, 0.0);
    Kokkos::deep_copy(f.arrival, -1.0f);
    const double s = fenced_seconds([&] {
      st = f.transport->step(f.solver->op(), f.p, box.q, f.mu, 0.0, f.dt, kArrivalSaturation, f.s,
                             f.bout, f.arrival);
    });
    state.SetIterationTime(s);
    total += s;
    sweeps += st.sweeps;
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["active_voxels"] = static_cast<double>(box.active);
  state.counters["ball_voxels"] = static_cast<double>(f.ball_voxels);
  state.counters["dt_s"] = f.dt;
  state.counters["sweeps"] = static_cast<double>(sweeps) / runs;
  state.counters["setup_pcg_iterations"] = f.setup_iterations;
  state.counters["voxels/s"] = static_cast<double>(box.active) * runs / total;
  // How far the step carried cement: voxels with any cement, and with more than kTrace of it.
  const auto s_after = f.s;
  const double trace = kTrace;
  long long any = 0, above = 0;
  Kokkos::parallel_reduce(
      "cementflow::bench::count_wet", Policy(0, box.grid.num_voxels()),
      KOKKOS_LAMBDA(const long long i, long long& c) { c += s_after(i) > 0; }, any);
  Kokkos::parallel_reduce(
      "cementflow::bench::count_wet_above_trace", Policy(0, box.grid.num_voxels()),
      KOKKOS_LAMBDA(const long long i, long long& c) { c += s_after(i) > trace; }, above);
  state.counters["voxels_s>0"] = static_cast<double>(any);
  state.counters["voxels_s>1e-6"] = static_cast<double>(above);
}

}  // namespace

void register_transport() {
  for (const auto& box : {kSmallBox, kLargeBox}) {
    const std::string name = "transport_step/box:" + box_tag(box) + "/h:0.5mm/ball:5mm";
    benchmark::RegisterBenchmark(name.c_str(), transport_step, box)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace cementflow::bench

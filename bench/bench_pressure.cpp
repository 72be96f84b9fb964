// The pressure solver on box phantoms (all six faces sink, 0.5 mm voxels, marrow-only mobility):
// the matrix-free matvec y = A x against the STREAM triad, and one PCG solve (multigrid and Jacobi
// preconditioners) of the point-source system. The byte model of the matvec is explained in
// bench/README.md.

#include <cmath>

#include "bench/bench_common.hpp"

namespace cementflow::bench {

namespace {

// --- matvec byte model, per padded voxel (the kernel runs over every voxel of every block) -------
// x(i): 8 B; the six neighbour x(j) are assumed to hit in cache (Morton-sorted blocks, 4 KiB of x
// per block), so x is streamed once.
constexpr double kBytesX = 8;
// tx, ty, tz of the voxel (float): 12 B.
constexpr double kBytesOwnFaces = 3 * 4;
// Minus-face coefficients: inside a block they are the own coefficients of the -x/-y/-z neighbour
// (same cache lines); on the three minus faces of the block (3 * 64 of 512 voxels) they come from
// another block: 3 * 64 * 4 B / 512 = 1.5 B per voxel.
constexpr double kBytesMinusHalo = 3.0 * 64.0 * 4.0 / 512.0;
// diag (double) read, y (double) written (the write-allocate read is not counted, as in STREAM).
constexpr double kBytesDiag = 8;
constexpr double kBytesY = 8;
// Neighbour table: 6 ints per block, amortised over its 512 voxels.
constexpr double kBytesNeighbourTable = 6.0 * 4.0 / 512.0;
constexpr double kMatvecBytesPerVoxel =
    kBytesX + kBytesOwnFaces + kBytesMinusHalo + kBytesDiag + kBytesY + kBytesNeighbourTable;

/// Relative residual of the PCG benchmark: the scenes' default pressure_tolerance (SPEC.md §3).
constexpr double kSolveTolerance = 1e-8;
/// Iteration cap: the scenes' default max_solver_iterations.
constexpr int kMaxIterations = 20000;

void pressure_matvec(benchmark::State& state, std::array<double, 3> size_mm) {
  BoxFixture& f = box_fixture(size_mm);
  const long long n = f.grid.num_voxels();
  const DView<double*> x = host_filled("cementflow::bench::matvec_x", n, [n](double* h) {
    // A smooth, non-constant field (a constant x would make A x vanish inside the box).
    for (long long i = 0; i < n; ++i) h[i] = 1.0 + 1e-3 * static_cast<double>(i % 97);
  });
  DView<double*> y("cementflow::bench::matvec_y", static_cast<size_t>(n));
  f.solver->apply(x, y);  // warm-up outside the timing
  double total = 0;
  for (auto _ : state) {
    const double s = fenced_seconds([&] { f.solver->apply(x, y); });
    state.SetIterationTime(s);
    total += s;
  }
  const double iters = static_cast<double>(state.iterations());
  const double gbs = kMatvecBytesPerVoxel * static_cast<double>(n) * iters / total * 1e-9;
  state.counters["active_voxels"] = static_cast<double>(f.active);
  state.counters["padded_voxels"] = static_cast<double>(n);
  state.counters["voxels/s"] = static_cast<double>(f.active) * iters / total;
  state.counters["GB/s"] = gbs;
  state.counters["STREAM_fraction"] = gbs / stream_triad_gbs();
}

void pressure_pcg(benchmark::State& state, std::array<double, 3> size_mm, bool multigrid) {
  BoxFixture& f = box_fixture(size_mm);
  detail::PressureSolver& solver = multigrid ? *f.solver : *f.jacobi;
  const long long n = f.grid.num_voxels();
  DView<double*> p("cementflow::bench::pcg_p", static_cast<size_t>(n));
  double total = 0;
  detail::SolveStats st;
  long long iterations = 0;
  for (auto _ : state) {
    Kokkos::deep_copy(p, 0.0);  // cold start p = 0, outside the timing
    const double s =
        fenced_seconds([&] { st = solver.solve(f.q, p, kSolveTolerance, kMaxIterations); });
    state.SetIterationTime(s);
    total += s;
    iterations += st.iterations;
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["active_voxels"] = static_cast<double>(f.active);
  state.counters["iterations"] = static_cast<double>(iterations) / runs;
  state.counters["rel_residual"] = st.relative_residual;
  state.counters["converged"] = st.converged ? 1 : 0;
  state.counters["voxel_iters/s"] =
      static_cast<double>(f.active) * static_cast<double>(iterations) / total;
  if (!st.converged) state.SkipWithError("the PCG solve did not reach the tolerance");
}

}  // namespace

void register_pressure() {
  for (const auto& box : {kSmallBox, kLargeBox}) {
    const std::string tag = "/box:" + box_tag(box) + "/h:0.5mm";
    benchmark::RegisterBenchmark(("pressure_matvec" + tag).c_str(), pressure_matvec, box)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  for (const auto& box : {kSmallBox, kLargeBox}) {
    const std::string tag = "/box:" + box_tag(box) + "/h:0.5mm/tol:1e-8";
    benchmark::RegisterBenchmark(("pressure_pcg_jacobi" + tag).c_str(), pressure_pcg, box, false)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("pressure_pcg_multigrid" + tag).c_str(), pressure_pcg, box, true)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace cementflow::bench

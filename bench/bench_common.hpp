#pragma once
#include <map>
// Shared pieces of the engine benchmarks (STYLE.md habit 11): a fenced wall-clock timer for
// UseManualTime, the cached box-phantom fixtures (built once per size, freed by a Kokkos finalize
// hook so that no View outlives Kokkos), the STREAM triad result that the matvec compares with, and
// the registration functions that bench_register.cpp calls in a fixed order (STREAM first).

#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cementflow/bone.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"

namespace cementflow::bench {

/// A per-type cache of fixtures keyed by box size. Fixtures hold Views, which must be freed before
/// Kokkos finalises: the cache empties itself in a finalize hook (the shared bench main owns the
/// Runtime and thus the finalize call).
template <class Fixture, class Key = std::array<double, 3>>
std::map<Key, std::unique_ptr<Fixture>>& fixture_cache() {
  static std::map<Key, std::unique_ptr<Fixture>> c;
  static const bool hooked = [] {
    Kokkos::push_finalize_hook([] { fixture_cache<Fixture, Key>().clear(); });
    return true;
  }();
  (void)hooked;
  return c;
}

using detail::DView;
using Policy = Kokkos::RangePolicy<detail::ExecSpace>;

/// Seconds taken by f(), with Kokkos::fence() before and after so that asynchronous device work
/// (CUDA) is inside the interval and nothing launched earlier leaks into it.
template <class F>
double fenced_seconds(F&& f) {
  Kokkos::fence();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  Kokkos::fence();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --- the box-phantom fixtures -------------------------------------------------------------------

/// Marrow viscosity 0.04 Pa s (Bryant et al. 1989, PHYSICS.md §L2): lambda = 1/0.04 for the
/// marrow-only pressure system.
constexpr double kMarrowViscosity = 0.04;
/// 3 mL/min, the scenes' injection rate (SPEC.md §3 example), as the point source in m^3/s.
constexpr double kSourceFlow = 3.0e-6 / 60.0;
/// Voxel edge of the fixtures (mm), that of the example scenes.
constexpr double kVoxelMm = 0.5;

/// The two box sizes (mm), all six faces sink: ~0.26 M and ~1.0 M active voxels at 0.5 mm.
constexpr std::array<double, 3> kSmallBox{40, 30, 25};
constexpr std::array<double, 3> kLargeBox{60, 50, 40};

/// "40x30x25mm": the box in a benchmark name.
std::string box_tag(const std::array<double, 3>& size_mm);

/// A box phantom on the device with the marrow-only pressure operator assembled.
struct BoxFixture {
  BoneBlocks bone;          ///< completed bone, input block order
  detail::DeviceGrid grid;  ///< Morton-sorted device grid
  long long active = 0;     ///< voxels with a material
  long long source = -1;    ///< sorted global index of the voxel holding the origin
  std::unique_ptr<detail::PressureSolver> solver;  ///< multigrid, lambda = 1/kMarrowViscosity
  std::unique_ptr<detail::PressureSolver> jacobi;  ///< the same operator, Jacobi preconditioner
  DView<double*> q;                                ///< point source kSourceFlow at `source`
};

/// The fixture of a box (built on first use, then cached; the grid's address never changes, as
/// the solver keeps a reference to it).
BoxFixture& box_fixture(const std::array<double, 3>& size_mm);

/// Runs `fill` on the host copy of a new device View of n doubles and uploads it.
DView<double*> host_filled(const char* label, long long n,
                           const std::function<void(double*)>& fill);

// --- STREAM --------------------------------------------------------------------------------------

/// Array length of the STREAM triad: 2^24 doubles (128 MiB per array), far beyond any cache.
constexpr long long kStreamLength = 1LL << 24;

/// The best triad bandwidth (GB/s, 3 * 8 bytes per element) measured by the stream benchmark in
/// this run, or measured here once (best of a few triads) when that benchmark was filtered out.
double stream_triad_gbs();
/// Records the best triad bandwidth measured by the stream benchmark.
void set_stream_triad_gbs(double gbs);

// --- registration (bench_register.cpp calls these in this order) ---------------------------------

void register_stream();
void register_solvers();  // bench_solvers.cpp: multigrid against hypre BoomerAMG
void register_pressure();
void register_transport();
void register_simulate();

}  // namespace cementflow::bench

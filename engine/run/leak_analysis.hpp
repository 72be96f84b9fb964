#pragma once
// Leak analysis during the run (PHYSICS.md §L5): the cement tally by route after every step,
// the onset of each route's leak (time, injected volume) and where it is. Kokkos translation
// units only.

#include <array>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/report.hpp"
#include "engine/grid/block_index.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/run/run_state.hpp"

namespace cementflow::detail {

constexpr double kM3PerMl = 1e-6;
// A route counts as leaked once it holds 1 mm^3 of cement: far below what CT shows (a few tens of
// mm^3), so first_time_s marks the onset (assumption; PHYSICS.md §L5b on detectability).
constexpr double kLeakOnsetM3 = 1e-9;

/// Cement volume (m^3) in the bone and in each leak route.
struct CementTally {
  double in_bone = 0;
  std::array<double, kNumLeakRoutes> route{};
  double leaked() const {
    double s = 0;
    for (double v : route) s += v;
    return s;
  }
};

/// Cement volume per voxel into st.pore (kernels::CementVolume), then its sums over the bone and
/// over each leak route (kernels::SumWhere).
CementTally tally_cement(const DeviceGrid& grid, RunState& st);

/// The cement-weighted centre (mm) of leak route `route`'s voxels, or {0, 0, 0} when they hold
/// none. `grid` is the sorted host grid, `pore` the tally's per-voxel volumes.
std::array<double, 3> leak_location(const BoneBlocks& grid, const BlockIndex& index,
                                    const DView<double*>& pore, int route);

/// Leak onset and location per route over the run.
class LeakTracker {
 public:
  LeakTracker(const BoneBlocks& grid, const BlockIndex& index) : grid_(grid), index_(index) {}

  /// Records this step's tally at time t with `injected_m3` injected. Returns true when a route
  /// leaked for the first time.
  bool update(const CementTally& tally, const DView<double*>& pore, double t, double injected_m3);

  /// Whether `tally` puts a route past its leak onset that has not leaked yet (nothing recorded:
  /// the volume stepping bisects the step that crosses, issue 13).
  bool crosses(const CementTally& tally) const;

  /// The routes that leaked, in route order (SPEC.md §5 "leaks").
  std::vector<Leak> leaks() const;

  /// Per route: leaked yet, and its record (checkpoint/restart).
  const std::array<bool, kNumLeakRoutes>& leaked() const { return leaked_; }
  const std::array<Leak, kNumLeakRoutes>& records() const { return record_; }
  void restore(const std::array<bool, kNumLeakRoutes>& leaked,
               const std::array<Leak, kNumLeakRoutes>& records) {
    leaked_ = leaked;
    record_ = records;
  }

 private:
  const BoneBlocks& grid_;
  const BlockIndex& index_;
  std::array<bool, kNumLeakRoutes> leaked_{};
  std::array<Leak, kNumLeakRoutes> record_{};
};

}  // namespace cementflow::detail

#pragma once
// Host driver of the needle-opening well model (kernels/well_kernels.hpp,
// docs/PHYSICS-LEAKS.md §W): per tip voxel, the equivalent radius of the lattice source and the
// pressure at the needle's inner radius from the voxel's pressure.

#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/scene.hpp"
#include "engine/grid/device_grid.hpp"
#include "kernels/rheology_kernels.hpp"
#include "kernels/well_kernels.hpp"

namespace cementflow::detail {

class WellModel {
 public:
  /// `grid` is the sorted host copy of the device grid, `tips` the tip voxel of each needle of
  /// `inj` (global voxel indices), each needle delivering q_needle. Needles sharing a voxel add
  /// their rates there; the smallest opening radius among them is used (the highest pressure).
  WellModel(const BoneBlocks& grid, const std::vector<long long>& tips, const Injection& inj,
            double q_needle, double mu_m, double corey);

  /// Highest pressure (Pa) at a needle opening: per tip voxel, p0 + the radial drop between the
  /// needle radius and the voxel's equivalent radius, for the voxel's fluid (saturation s, cure
  /// state of its cement or `fresh_state` where it has none, at t_body K).
  double opening_pressure(const DView<double*>& p, const DView<double*>& s,
                          const DView<double*>& cure_state, const kernels::RheologyParams& rheo,
                          const kernels::CureParams& cure, double fresh_state, double t_body) const;

  /// Equivalent radius (m) and needle radius (m) of tip `i` (for reports and tests).
  double equivalent_radius(size_t i) const { return points_[i].r_eq; }
  double needle_radius(size_t i) const { return points_[i].r_w; }
  size_t size() const { return points_.size(); }

 private:
  std::vector<long long> voxel_;
  std::vector<kernels::WellPoint> points_;
};

}  // namespace cementflow::detail

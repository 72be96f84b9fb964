#pragma once
// The shape of the fill after the run (SPEC.md §5 "fill"): spread from the nearest needle tip,
// contact with the endplates, and the gap between the cement and the nearest leak destination
// (the near-miss term of the leak risk). Host-only.

#include <array>
#include <vector>

#include "cementflow/bone.hpp"
#include "engine/grid/block_index.hpp"

namespace cementflow::detail {

struct FillShape {
  double max_spread_mm = 0;                            ///< farthest cement from its nearest tip
  std::array<bool, 2> endplate_contact{false, false};  ///< inferior, superior
  /// Voxel gap (mm) between the cement and the nearest leak destination; +infinity when the
  /// model has none reachable.
  double gap_mm = 0;
};

/// Measures the fill of `cement_fraction` (per voxel of `grid`, indexed by `index`) where it is at
/// least `threshold`, against the needle tips `tips_mm`.
FillShape measure_fill_shape(const BoneBlocks& grid, const BlockIndex& index,
                             const std::vector<float>& cement_fraction, double threshold,
                             const std::vector<std::array<double, 3>>& tips_mm);

}  // namespace cementflow::detail

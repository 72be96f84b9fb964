#pragma once
// The device block grid (DESIGN.md): every active 8^3 leaf of the bone as a dense block of 512
// voxels in structure-of-arrays Views, blocks sorted by the Morton code of their origin (Thrust),
// with a block-neighbour table so stencils need no tree walk.

#include <Kokkos_Core.hpp>

#include "cementflow/bone.hpp"
#include "kernels/grid_kernels.hpp"

namespace cementflow::detail {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
template <class T>
using DView = Kokkos::View<T, Kokkos::LayoutRight, MemSpace>;

struct DeviceGrid {
  int nblocks = 0;
  double h_m = 0;             ///< voxel edge in metres
  DView<int* [3]> origin;     ///< block origin (voxel index), Morton-sorted
  DView<int* [6]> neighbour;  ///< -x,+x,-y,+y,-z,+z block neighbours; -1 none
  DView<int*> sorted_from;    ///< input block index of each sorted block
  DView<int*> material;       ///< nblocks*512, kInactive outside
  DView<float*> porosity;     ///< nblocks*512
  DView<float*> kx, ky, kz;   ///< principal permeabilities, m^2
  DView<int*> route;          ///< LeakRoute code per voxel (-1 none)

  long long num_voxels() const { return static_cast<long long>(nblocks) * kernels::kBlockVoxels; }
};

/// Uploads a completed bone (permeability and route filled) and sorts its blocks.
DeviceGrid build_device_grid(const BoneBlocks& bone);

/// The sorted grid back on the host as a BoneBlocks (same voxel size and origin as `bone`).
BoneBlocks download_grid(const DeviceGrid& g, const BoneBlocks& bone);

}  // namespace cementflow::detail

#pragma once
// Index arithmetic of the sparse block grid (DESIGN.md, "The device grid"): 8^3 blocks, voxel
// v = x + 8 (y + 8 z) inside a block, global voxel index g = block * 512 + v, and a block
// neighbour table in the order -x, +x, -y, +y, -z, +z (-1 where there is no block).

#include <Kokkos_Core.hpp>

#include <cstdint>

#include "cementflow/bone.hpp"

namespace cementflow::kernels {

// The block shape is the public BoneBlocks' (OpenVDB leaf nodes): one definition.
constexpr int kBlockDim = BoneBlocks::kBlockDim;
constexpr int kBlockVoxels = BoneBlocks::kBlockVoxels;
constexpr int kNoNeighbour = -1;

/// Direction d (0..5) as an axis (0,1,2) and a sign (-1,+1).
KOKKOS_INLINE_FUNCTION constexpr int dir_axis(int d) {
  return d >> 1;
}
KOKKOS_INLINE_FUNCTION constexpr int dir_sign(int d) {
  return (d & 1) ? 1 : -1;
}

KOKKOS_INLINE_FUNCTION constexpr int local_x(int v) {
  return v & 7;
}
KOKKOS_INLINE_FUNCTION constexpr int local_y(int v) {
  return (v >> 3) & 7;
}
KOKKOS_INLINE_FUNCTION constexpr int local_z(int v) {
  return v >> 6;
}

/// Spreads the low 21 bits of x to every third bit (for a 63-bit 3-D Morton code).
KOKKOS_INLINE_FUNCTION std::uint64_t spread_bits_3(std::uint64_t x) {
  x &= 0x1fffffULL;
  x = (x | (x << 32)) & 0x1f00000000ffffULL;
  x = (x | (x << 16)) & 0x1f0000ff0000ffULL;
  x = (x | (x << 8)) & 0x100f00f00f00f00fULL;
  x = (x | (x << 4)) & 0x10c30c30c30c30c3ULL;
  x = (x | (x << 2)) & 0x1249249249249249ULL;
  return x;
}

/// Morton (Z-order) code of non-negative block coordinates (each < 2^21).
KOKKOS_INLINE_FUNCTION std::uint64_t morton_code(int bx, int by, int bz) {
  return spread_bits_3(static_cast<std::uint64_t>(bx)) |
         (spread_bits_3(static_cast<std::uint64_t>(by)) << 1) |
         (spread_bits_3(static_cast<std::uint64_t>(bz)) << 2);
}

/// Global index of the neighbour of voxel v in block b across direction d, or -1 if that voxel
/// lies in a block that does not exist. `nb(b, d)` is the block neighbour table. The local index
/// holds x in bits 0-2, y in bits 3-5 and z in bits 6-8, so a step along an axis is +-(1 << 3a)
/// inside the block and wraps by 7 steps into the neighbour block (no coordinate decoding: this
/// sits in the inner loop of every stencil kernel).
template <class NeighbourView>
KOKKOS_INLINE_FUNCTION int neighbour_voxel(const NeighbourView& nb, int b, int v, int d) {
  const int shift = 3 * dir_axis(d);
  const int c = (v >> shift) & 7;
  const int step = 1 << shift;
  if (d & 1) {
    if (c < kBlockDim - 1) return b * kBlockVoxels + v + step;
    const int blk = nb(b, d);
    return blk < 0 ? -1 : blk * kBlockVoxels + v - (kBlockDim - 1) * step;
  }
  if (c > 0) return b * kBlockVoxels + v - step;
  const int blk = nb(b, d);
  return blk < 0 ? -1 : blk * kBlockVoxels + v + (kBlockDim - 1) * step;
}

}  // namespace cementflow::kernels

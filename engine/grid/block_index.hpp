#pragma once
// The one host-side index of the sparse block grid (DESIGN.md, "The device grid"): block key,
// block and voxel lookup, face neighbours across blocks, voxel positions. Used by every host
// caller that walks the grid (injection checks, leak location and fill shape in engine/run,
// balloon carving in engine/bone, the multigrid hierarchy in engine/solve). Host-only: no Kokkos,
// no OpenVDB, so both the host-only and the Kokkos targets use it.
//
// Voxel numbering (kernels/grid_kernels.hpp): flat index = block * kBlockVoxels + v with
// v = x + 8 (y + 8 z) inside the block; directions -x, +x, -y, +y, -z, +z as 0..5.

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow::detail {

constexpr int kBlockDim = BoneBlocks::kBlockDim;
constexpr int kBlockVoxels = BoneBlocks::kBlockVoxels;
constexpr int kNoBlock = -1;

class BlockIndex {
 public:
  BlockIndex() = default;
  /// Indexes blocks with these origins (voxel indices, multiples of kBlockDim). The voxel
  /// positions (center) use `origin_mm` and `voxel_mm`.
  BlockIndex(std::vector<std::array<int, 3>> block_origin, std::array<double, 3> origin_mm,
             double voxel_mm);
  /// Indexes the blocks of `bone`.
  explicit BlockIndex(const BoneBlocks& bone);

  /// Hash key of the block with block coordinates (bx, by, bz) = origin / kBlockDim; unique for
  /// |b| < 2^20.
  static std::uint64_t key(int bx, int by, int bz) {
    const auto u = [](int c) { return static_cast<std::uint64_t>(c + (1 << 20)) & 0x1fffffULL; };
    return u(bx) | (u(by) << 21) | (u(bz) << 42);
  }

  std::size_t num_blocks() const { return origin_.size(); }
  const std::array<int, 3>& block_origin(std::size_t b) const { return origin_[b]; }

  /// Block with block coordinates (bx, by, bz), or kNoBlock.
  int block(int bx, int by, int bz) const;
  /// Block containing global voxel (i, j, k), or kNoBlock.
  int block_of_voxel(int i, int j, int k) const { return block(i >> 3, j >> 3, k >> 3); }
  /// Neighbour block of block b in direction d (0..5), or kNoBlock.
  int neighbour_block(int b, int d) const {
    return nb_[static_cast<std::size_t>(b)][static_cast<std::size_t>(d)];
  }
  /// The table of neighbour blocks (-x, +x, -y, +y, -z, +z; kNoBlock where there is none).
  const std::vector<std::array<int, 6>>& neighbour_table() const { return nb_; }

  /// Flat index of global voxel (i, j, k), or -1 when its block is absent.
  long long voxel(int i, int j, int k) const;
  /// Flat index of the voxel whose centre is nearest to point mm, or -1.
  long long find(const std::array<double, 3>& mm) const;
  /// Global voxel index (i, j, k) of flat index v.
  std::array<int, 3> ijk(long long v) const;
  /// Face neighbour of flat index v in direction d (0..5), or -1 outside the blocks.
  long long neighbour(long long v, int d) const;
  /// The six face neighbours of flat index v (-1 where absent), in direction order.
  std::array<long long, 6> neighbours(long long v) const {
    return {neighbour(v, 0), neighbour(v, 1), neighbour(v, 2),
            neighbour(v, 3), neighbour(v, 4), neighbour(v, 5)};
  }
  /// Position (mm) of flat index v, as BoneBlocks::voxel_center_mm.
  std::array<double, 3> center(long long v) const;
  /// Position (mm) of global voxel (i, j, k).
  std::array<double, 3> position(const std::array<int, 3>& c) const {
    return {origin_mm_[0] + voxel_mm_ * c[0], origin_mm_[1] + voxel_mm_ * c[1],
            origin_mm_[2] + voxel_mm_ * c[2]};
  }

 private:
  std::vector<std::array<int, 3>> origin_;
  std::array<double, 3> origin_mm_{0, 0, 0};
  double voxel_mm_ = 1;
  std::vector<std::array<int, 6>> nb_;
  std::unordered_map<std::uint64_t, int> block_;
};

}  // namespace cementflow::detail

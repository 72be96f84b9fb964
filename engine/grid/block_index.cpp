#include "engine/grid/block_index.hpp"

#include <cmath>
#include <utility>

namespace cementflow::detail {

BlockIndex::BlockIndex(std::vector<std::array<int, 3>> block_origin,
                       std::array<double, 3> origin_mm, double voxel_mm)
    : origin_(std::move(block_origin)), origin_mm_(origin_mm), voxel_mm_(voxel_mm) {
  block_.reserve(origin_.size());
  for (std::size_t b = 0; b < origin_.size(); ++b) {
    const auto& o = origin_[b];
    block_[key(o[0] >> 3, o[1] >> 3, o[2] >> 3)] = static_cast<int>(b);
  }
  nb_.resize(origin_.size());
  for (std::size_t b = 0; b < origin_.size(); ++b) {
    const auto& o = origin_[b];
    const int c[3] = {o[0] >> 3, o[1] >> 3, o[2] >> 3};
    for (int d = 0; d < 6; ++d) {
      int n[3] = {c[0], c[1], c[2]};
      n[d >> 1] += (d & 1) ? 1 : -1;
      nb_[b][static_cast<std::size_t>(d)] = block(n[0], n[1], n[2]);
    }
  }
}

BlockIndex::BlockIndex(const BoneBlocks& bone)
    : BlockIndex(bone.block_origin, bone.origin_mm, bone.voxel_mm) {}

int BlockIndex::block(int bx, int by, int bz) const {
  const auto it = block_.find(key(bx, by, bz));
  return it == block_.end() ? kNoBlock : it->second;
}

long long BlockIndex::voxel(int i, int j, int k) const {
  const int b = block_of_voxel(i, j, k);
  if (b == kNoBlock) return -1;
  return static_cast<long long>(b) * kBlockVoxels + BoneBlocks::local_index(i & 7, j & 7, k & 7);
}

long long BlockIndex::find(const std::array<double, 3>& mm) const {
  int c[3];
  for (std::size_t a = 0; a < 3; ++a)
    c[a] = static_cast<int>(std::lround((mm[a] - origin_mm_[a]) / voxel_mm_));
  return voxel(c[0], c[1], c[2]);
}

std::array<int, 3> BlockIndex::ijk(long long v) const {
  const auto& o = origin_[static_cast<std::size_t>(v / kBlockVoxels)];
  const int l = static_cast<int>(v % kBlockVoxels);
  return {o[0] + (l & 7), o[1] + ((l >> 3) & 7), o[2] + (l >> 6)};
}

long long BlockIndex::neighbour(long long v, int d) const {
  const int b = static_cast<int>(v / kBlockVoxels), l = static_cast<int>(v % kBlockVoxels);
  int c[3] = {l & 7, (l >> 3) & 7, l >> 6};
  const int a = d >> 1;
  c[a] += (d & 1) ? 1 : -1;
  int blk = b;
  if (c[a] < 0 || c[a] >= kBlockDim) {
    blk = neighbour_block(b, d);
    if (blk == kNoBlock) return -1;
    c[a] &= 7;
  }
  return static_cast<long long>(blk) * kBlockVoxels + BoneBlocks::local_index(c[0], c[1], c[2]);
}

std::array<double, 3> BlockIndex::center(long long v) const {
  return position(ijk(v));
}

}  // namespace cementflow::detail

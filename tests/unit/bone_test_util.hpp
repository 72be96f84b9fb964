#pragma once
// Small bones for the OpenVDB reader/writer tests (bone_io, vdb_info, fill_writer), made in
// plain C++ with a fixed seed: no OpenVDB here (tests are compiled like Kokkos code).

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow::test {

/// A bone of `origins.size()` blocks with random materials (about 1/4 of the voxels inactive),
/// porosities in [0, 1], permeabilities and routes when asked. Block `empty_block` (if >= 0) has
/// no active voxel at all.
inline BoneBlocks random_bone(const std::vector<std::array<int, 3>>& origins, unsigned seed,
                              bool with_permeability, bool with_route, int empty_block = -1) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> mat(-1, kMaxMaterial + 2);  // -1 and the 2 extra: inactive
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::uniform_real_distribution<float> logk(-12.0f, -8.0f);
  std::uniform_int_distribution<int> route(-1, kNumLeakRoutes - 1);
  BoneBlocks b;
  b.voxel_mm = 0.25;
  b.origin_mm = {-3.5, 1.25, 7.0};
  b.resize(origins.size());
  for (std::size_t k = 0; k < origins.size(); ++k) b.block_origin[k] = origins[k];
  if (with_permeability) b.permeability.assign(3 * b.num_voxels(), 0.0f);
  if (with_route) b.route.assign(b.num_voxels(), -1);
  for (std::size_t i = 0; i < b.num_voxels(); ++i) {
    const int m = mat(rng);
    const bool empty = static_cast<int>(i / BoneBlocks::kBlockVoxels) == empty_block;
    if (empty || m < 0 || m > kMaxMaterial) continue;
    b.material[i] = m;
    b.porosity[i] = unit(rng);
    if (with_permeability)
      for (int d = 0; d < 3; ++d) b.permeability[3 * i + d] = std::pow(10.0f, logk(rng));
    if (with_route) b.route[i] = route(rng);
  }
  return b;
}

/// Index of the block with origin o, or -1.
inline long find_block(const BoneBlocks& b, const std::array<int, 3>& o) {
  for (std::size_t k = 0; k < b.num_blocks(); ++k)
    if (b.block_origin[k] == o) return static_cast<long>(k);
  return -1;
}

}  // namespace cementflow::test

#pragma once
// Plain serial references for the kernel tests (STYLE.md habit 8): the grid's voxels by global
// coordinates in a std::map, so a reference finds neighbours without the device neighbour table
// (kernels/grid_kernels.hpp) or the host block index (engine/grid/block_index.hpp) it checks.
// Also the test bone: bigger than one block, with planted edge cases.

#include <array>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "bone_builder.hpp"
#include "cementflow/bone.hpp"

namespace cementflow::test {

/// Sparse bone over several blocks with holes (inactive voxels), blocks without neighbours (a
/// notch), soft tissue on two faces (Dirichlet boundary) and zero-permeability (solid) voxels;
/// permeability log-uniform over 5 decades. Fixed seed.
inline BoneBlocks kernel_test_bone() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  BoneBlocks b = build_bone(
      {-3, -5, -2}, {27, 19, 21}, 0.5,
      [&](int x, int y, int z) {
        if ((x * 5 + y * 11 + z * 3) % 17 == 0) return kInactive;
        if (x > 20 && y > 12 && z < 8) return kInactive;
        if (x == 26 || y == -5) return 0;
        return 1;
      },
      0.8f);
  for (size_t i = 0; i < b.material.size(); ++i)
    if (b.material[i] != kInactive) {
      const bool solid = u(rng) < 0.02;
      for (size_t a = 0; a < 3; ++a)
        b.permeability[3 * i + a] = solid ? 0.f : static_cast<float>(1e-11 * std::pow(1e5, u(rng)));
    }
  return b;
}

/// Voxel coordinates of a block grid (flat index = block * kBlockVoxels + local).
struct SerialGrid {
  std::vector<std::array<int, 3>> ijk;
  std::map<std::array<int, 3>, int> at;

  explicit SerialGrid(const BoneBlocks& g) {
    ijk.resize(g.num_voxels());
    for (size_t b = 0; b < g.num_blocks(); ++b)
      for (int z = 0; z < BoneBlocks::kBlockDim; ++z)
        for (int y = 0; y < BoneBlocks::kBlockDim; ++y)
          for (int x = 0; x < BoneBlocks::kBlockDim; ++x) {
            const int i =
                static_cast<int>(b) * BoneBlocks::kBlockVoxels + BoneBlocks::local_index(x, y, z);
            const auto& o = g.block_origin[b];
            ijk[static_cast<size_t>(i)] = {o[0] + x, o[1] + y, o[2] + z};
            at[ijk[static_cast<size_t>(i)]] = i;
          }
  }
  int size() const { return static_cast<int>(ijk.size()); }
  /// Neighbour of voxel i in direction d (-x, +x, -y, +y, -z, +z), -1 outside the blocks.
  int neighbour(int i, int d) const {
    auto c = ijk[static_cast<size_t>(i)];
    c[static_cast<size_t>(d / 2)] += d % 2 ? 1 : -1;
    const auto it = at.find(c);
    return it == at.end() ? -1 : it->second;
  }
  /// Transmissibility of the face between i and its neighbour j in direction d: the +faces are
  /// stored at the voxel, the -faces at the neighbour.
  template <class Host>
  double face(const Host& tx, const Host& ty, const Host& tz, int i, int j, int d) const {
    const int owner = d % 2 ? i : j;
    const int a = d / 2;
    return static_cast<double>(a == 0 ? tx(owner) : (a == 1 ? ty(owner) : tz(owner)));
  }
};

}  // namespace cementflow::test

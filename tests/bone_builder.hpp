#pragma once
// Builds bones for tests directly in the block layout: a material function over a box of voxel
// indices, optional uniform permeability, then the engine's completion (law, routes).

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>

#include "cementflow/bone.hpp"

namespace cementflow::test {

/// material(i, j, k) for i in [lo[0], hi[0]) etc.; kInactive leaves a voxel out.
inline BoneBlocks build_bone(std::array<int, 3> lo, std::array<int, 3> hi, double voxel_mm,
                             const std::function<int(int, int, int)>& material, float porosity,
                             std::array<double, 3> k = {0, 0, 0}) {
  BoneBlocks b;
  b.voxel_mm = voxel_mm;
  std::map<std::array<int, 3>, size_t> block_index;
  auto floor8 = [](int x) { return (x >= 0 ? x / 8 : -((-x + 7) / 8)) * 8; };
  for (int z = lo[2]; z < hi[2]; ++z)
    for (int y = lo[1]; y < hi[1]; ++y)
      for (int x = lo[0]; x < hi[0]; ++x) {
        const int m = material(x, y, z);
        if (m == kInactive) continue;
        const std::array<int, 3> o{floor8(x), floor8(y), floor8(z)};
        auto it = block_index.find(o);
        if (it == block_index.end()) {
          it = block_index.emplace(o, b.block_origin.size()).first;
          b.block_origin.push_back(o);
          b.material.resize(b.material.size() + 512, kInactive);
          b.porosity.resize(b.porosity.size() + 512, 0.0f);
        }
        const size_t i = it->second * 512 +
                         static_cast<size_t>(BoneBlocks::local_index(x - o[0], y - o[1], z - o[2]));
        b.material[i] = m;
        b.porosity[i] = porosity;
      }
  if (k[0] > 0 || k[1] > 0 || k[2] > 0) {
    b.permeability.assign(3 * b.material.size(), 0.0f);
    for (size_t i = 0; i < b.material.size(); ++i)
      if (b.material[i] != kInactive)
        for (int a = 0; a < 3; ++a)
          b.permeability[3 * i + static_cast<size_t>(a)] =
              static_cast<float>(k[static_cast<size_t>(a)]);
  }
  complete_bone(b);
  return b;
}

/// An ellipsoid of trabecular bone with semi-axes a (voxels) wrapped in one layer of soft tissue
/// (material 0) whose outer faces carry p = 0.
inline BoneBlocks ellipsoid_bone(std::array<int, 3> a, double voxel_mm, float porosity,
                                 std::array<double, 3> k) {
  const int m = std::max({a[0], a[1], a[2]}) + 2;
  return build_bone(
      {-m, -m, -m}, {m + 1, m + 1, m + 1}, voxel_mm,
      [&](int x, int y, int z) {
        const double e = std::sqrt(double(x * x) / (a[0] * a[0]) + double(y * y) / (a[1] * a[1]) +
                                   double(z * z) / (a[2] * a[2]));
        const double shell = 1.0 / std::min({a[0], a[1], a[2]});
        if (e <= 1) return static_cast<int>(Material::Trabecular);
        if (e <= 1 + shell) return static_cast<int>(Material::SoftTissue);
        return kInactive;
      },
      porosity, k);
}

/// A ball of trabecular bone of radius r_vox voxels (centre voxel 0) wrapped in one layer of soft
/// tissue (material 0) whose outer faces carry p = 0.
inline BoneBlocks ball_bone(int r_vox, double voxel_mm, float porosity, std::array<double, 3> k) {
  const int R = r_vox + 1;
  return build_bone(
      {-R - 1, -R - 1, -R - 1}, {R + 2, R + 2, R + 2}, voxel_mm,
      [&](int x, int y, int z) {
        const double r = std::sqrt(double(x * x + y * y + z * z));
        if (r <= r_vox) return static_cast<int>(Material::Trabecular);
        if (r <= r_vox + 1) return static_cast<int>(Material::SoftTissue);
        return kInactive;
      },
      porosity, k);
}

}  // namespace cementflow::test

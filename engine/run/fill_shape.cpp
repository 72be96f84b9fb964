#include "engine/run/fill_shape.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace cementflow::detail {

namespace {

/// Multi-source breadth-first distance (in voxel steps) from every leak-destination voxel; -1
/// where none is reachable.
std::vector<int> distance_to_leak_destinations(const BoneBlocks& g, const BlockIndex& index) {
  const auto n = static_cast<long long>(g.num_voxels());
  std::vector<int> dist(g.num_voxels(), -1);
  std::deque<long long> queue;
  for (long long i = 0; i < n; ++i)
    if (g.material[static_cast<size_t>(i)] >= 0 &&
        is_leak_destination(g.material[static_cast<size_t>(i)])) {
      dist[static_cast<size_t>(i)] = 0;
      queue.push_back(i);
    }
  while (!queue.empty()) {
    const long long i = queue.front();
    queue.pop_front();
    for (int d = 0; d < 6; ++d) {
      const long long j = index.neighbour(i, d);
      if (j < 0 || g.material[static_cast<size_t>(j)] < 0 || dist[static_cast<size_t>(j)] >= 0)
        continue;
      dist[static_cast<size_t>(j)] = dist[static_cast<size_t>(i)] + 1;
      queue.push_back(j);
    }
  }
  return dist;
}

}  // namespace

FillShape measure_fill_shape(const BoneBlocks& g, const BlockIndex& index,
                             const std::vector<float>& cement_fraction, double threshold,
                             const std::vector<std::array<double, 3>>& tips_mm) {
  FillShape shape;
  const std::vector<int> dist = distance_to_leak_destinations(g, index);
  const auto n = static_cast<long long>(g.num_voxels());
  int gap = std::numeric_limits<int>::max();
  for (long long i = 0; i < n; ++i) {
    const auto u = static_cast<size_t>(i);
    if (g.material[u] < 0 || static_cast<double>(cement_fraction[u]) < threshold ||
        is_leak_destination(g.material[u]))
      continue;
    const auto x = index.center(i);
    double dmin = 1e300;
    for (const auto& tp : tips_mm)
      dmin = std::min(dmin,
                      std::sqrt((x[0] - tp[0]) * (x[0] - tp[0]) + (x[1] - tp[1]) * (x[1] - tp[1]) +
                                (x[2] - tp[2]) * (x[2] - tp[2])));
    shape.max_spread_mm = std::max(shape.max_spread_mm, dmin);
    if (dist[u] >= 0) gap = std::min(gap, dist[u]);
    for (int side = 0; side < 2; ++side) {
      const long long j = index.neighbour(i, side == 0 ? 4 : 5);  // -z, +z
      if (j < 0) continue;
      const int m = g.material[static_cast<size_t>(j)];
      if (m == static_cast<int>(Material::Cortical) || m == static_cast<int>(Material::Disc))
        shape.endplate_contact[static_cast<size_t>(side)] = true;
    }
  }
  shape.gap_mm = gap == std::numeric_limits<int>::max() ? std::numeric_limits<double>::infinity()
                                                        : (gap > 0 ? gap - 1 : 0) * g.voxel_mm;
  return shape;
}

}  // namespace cementflow::detail

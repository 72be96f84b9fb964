// The device block grid against a serial reference: Morton order, neighbour table and the
// permuted fields, on random sparse sets of blocks (fixed seed) with planted edge cases.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "cementflow/bone.hpp"
#include "engine/grid/device_grid.hpp"
#include "kernels/grid_kernels.hpp"

namespace cf = cementflow;

namespace {

cf::BoneBlocks random_blocks(unsigned seed, int nblocks, int span) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> coord(-span, span);
  std::set<std::array<int, 3>> chosen;
  // Planted: a lone block far away (no neighbours), a pair of face neighbours, negative coords.
  chosen.insert({8 * (span + 5), 0, 0});
  chosen.insert({0, 0, 0});
  chosen.insert({8, 0, 0});
  chosen.insert({-8, -8, -8});
  while (static_cast<int>(chosen.size()) < nblocks)
    chosen.insert({8 * coord(rng), 8 * coord(rng), 8 * coord(rng)});
  cf::BoneBlocks b;
  b.voxel_mm = 0.5;
  for (const auto& o : chosen) b.block_origin.push_back(o);
  std::shuffle(b.block_origin.begin(), b.block_origin.end(), rng);
  const size_t nv = b.block_origin.size() * 512;
  b.material.resize(nv);
  b.porosity.resize(nv);
  b.permeability.resize(3 * nv);
  b.route.resize(nv);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (size_t i = 0; i < nv; ++i) {
    b.material[i] = static_cast<int>(i % 9) - 1;  // includes inactive voxels
    b.porosity[i] = u(rng);
    for (int a = 0; a < 3; ++a) b.permeability[3 * i + static_cast<size_t>(a)] = u(rng);
    b.route[i] = static_cast<int>(i % 7) - 1;
  }
  return b;
}

}  // namespace

TEST(DeviceGrid, MatchesSerialReferenceOnRandomSparseBlocks) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const cf::BoneBlocks bone = random_blocks(seed, 300, 6);
    const auto g = cf::detail::build_device_grid(bone);
    ASSERT_EQ(g.nblocks, static_cast<int>(bone.num_blocks()));
    const cf::BoneBlocks sorted = cf::detail::download_grid(g, bone);
    auto nb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g.neighbour);
    auto from = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g.sorted_from);

    std::map<std::array<int, 3>, int> where;
    for (int b = 0; b < g.nblocks; ++b) where[sorted.block_origin[static_cast<size_t>(b)]] = b;
    ASSERT_EQ(where.size(), bone.num_blocks());  // a permutation: no block lost or repeated

    int lo[3] = {1 << 30, 1 << 30, 1 << 30};
    for (const auto& o : bone.block_origin)
      for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], o[static_cast<size_t>(a)]);
    std::uint64_t prev = 0;
    for (int b = 0; b < g.nblocks; ++b) {
      const auto& o = sorted.block_origin[static_cast<size_t>(b)];
      EXPECT_EQ(o, bone.block_origin[static_cast<size_t>(from(b))]);
      const std::uint64_t key =
          cf::kernels::morton_code((o[0] - lo[0]) / 8, (o[1] - lo[1]) / 8, (o[2] - lo[2]) / 8);
      if (b > 0) {
        EXPECT_LT(prev, key) << "blocks not in Morton order at " << b;
      }
      prev = key;
      for (int d = 0; d < 6; ++d) {
        std::array<int, 3> q = o;
        q[static_cast<size_t>(d >> 1)] += (d & 1) ? 8 : -8;
        const auto it = where.find(q);
        EXPECT_EQ(nb(b, d), it == where.end() ? -1 : it->second) << "block " << b << " dir " << d;
      }
      for (int v = 0; v < 512; v += 37) {
        const size_t si = static_cast<size_t>(b) * 512 + static_cast<size_t>(v);
        const size_t bi = static_cast<size_t>(from(b)) * 512 + static_cast<size_t>(v);
        EXPECT_EQ(sorted.material[si], bone.material[bi]);
        EXPECT_EQ(sorted.porosity[si], bone.porosity[bi]);
        EXPECT_EQ(sorted.route[si], bone.route[bi]);
        for (int a = 0; a < 3; ++a)
          EXPECT_EQ(sorted.permeability[3 * si + static_cast<size_t>(a)],
                    bone.permeability[3 * bi + static_cast<size_t>(a)]);
      }
    }
  }
}

TEST(DeviceGrid, NeighbourVoxelCrossesBlocksAndStopsAtHoles) {
  cf::BoneBlocks bone = random_blocks(7, 40, 2);
  const auto g = cf::detail::build_device_grid(bone);
  const cf::BoneBlocks sorted = cf::detail::download_grid(g, bone);
  auto nb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g.neighbour);
  std::map<std::array<int, 3>, int> where;
  for (int b = 0; b < g.nblocks; ++b) where[sorted.block_origin[static_cast<size_t>(b)]] = b;
  for (int b = 0; b < g.nblocks; ++b)
    for (int v = 0; v < 512; ++v)
      for (int d = 0; d < 6; ++d) {
        const auto& o = sorted.block_origin[static_cast<size_t>(b)];
        std::array<int, 3> x{o[0] + (v & 7), o[1] + ((v >> 3) & 7), o[2] + (v >> 6)};
        x[static_cast<size_t>(d >> 1)] += (d & 1) ? 1 : -1;
        std::array<int, 3> xo{x[0] - (((x[0] % 8) + 8) % 8), x[1] - (((x[1] % 8) + 8) % 8),
                              x[2] - (((x[2] % 8) + 8) % 8)};
        const auto it = where.find(xo);
        const int expect = it == where.end()
                               ? -1
                               : it->second * 512 + cf::BoneBlocks::local_index(
                                                        x[0] - xo[0], x[1] - xo[1], x[2] - xo[2]);
        ASSERT_EQ(cf::kernels::neighbour_voxel(nb, b, v, d), expect);
      }
}

TEST(DeviceGrid, EmptyBoneGivesEmptyGrid) {
  cf::BoneBlocks bone;
  const auto g = cf::detail::build_device_grid(bone);
  EXPECT_EQ(g.nblocks, 0);
}

#pragma once
// The pressure field of a point source at voxel (0,0,0) of a bone built in a test, solved on the
// engine's device grid with a uniform mobility: the lattice problem of the point-source Darcy
// (PHYSICS.md §M6) and well-model (docs/PHYSICS-LEAKS.md §W) validation tests.

#include <gtest/gtest.h>

#include <array>
#include <map>

#include "cementflow/bone.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"

namespace cementflow::test {

/// Pressure (Pa) per voxel index of a source q (m^3/s) at voxel (0,0,0), mobility 1/mu, solved
/// to a relative residual of 1e-12.
inline std::map<std::array<int, 3>, double> solve_point_source(const BoneBlocks& bone, double mu,
                                                               double q_m3_s) {
  using detail::DView;
  const auto g = detail::build_device_grid(bone);
  const BoneBlocks s = detail::download_grid(g, bone);
  const int n = static_cast<int>(g.num_voxels());
  DView<double*> lambda("lambda", n), q("q", n), p("p", n);
  Kokkos::deep_copy(lambda, 1.0 / mu);
  std::map<std::array<int, 3>, int> at;
  for (size_t b = 0; b < s.num_blocks(); ++b)
    for (int v = 0; v < 512; ++v) {
      const auto& o = s.block_origin[b];
      if (s.material[b * 512 + static_cast<size_t>(v)] >= 0)
        at[{o[0] + (v & 7), o[1] + ((v >> 3) & 7), o[2] + (v >> 6)}] =
            static_cast<int>(b * 512) + v;
    }
  auto hq = Kokkos::create_mirror_view(q);
  Kokkos::deep_copy(hq, 0.0);
  hq(at.at({0, 0, 0})) = q_m3_s;
  Kokkos::deep_copy(q, hq);
  detail::PressureSolver solver(g);
  solver.assemble(lambda);
  const auto st = solver.solve(q, p, 1e-12, 20000);
  EXPECT_TRUE(st.converged);
  auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p);
  std::map<std::array<int, 3>, double> out;
  for (const auto& [c, i] : at) out[c] = hp(i);
  return out;
}

}  // namespace cementflow::test

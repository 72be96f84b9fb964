// The matrix-free pressure operator against a serial reference (harmonic face transmissibility,
// Dirichlet faces on leak destinations), its symmetry, and the PCG solve.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "bone_builder.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"

namespace cf = cementflow;
using cf::detail::DView;

namespace {

// A sparse, heterogeneous bone bigger than one block: holes, a solid (zero-k) voxel, soft tissue
// on part of the surface, log-uniform permeability over 4 decades, an isolated empty block.
cf::BoneBlocks hetero_bone(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  cf::BoneBlocks b = cf::test::build_bone(
      {0, 0, 0}, {20, 18, 17}, 0.5,
      [&](int x, int y, int z) {
        if ((x * 7 + y * 3 + z) % 23 == 0) return cf::kInactive;  // holes
        if (x == 19 || z == 0) return 0;                          // soft tissue faces
        return 1;
      },
      0.85f);
  for (size_t i = 0; i < b.material.size(); ++i)
    if (b.material[i] != cf::kInactive)
      for (int a = 0; a < 3; ++a)
        b.permeability[3 * i + static_cast<size_t>(a)] =
            static_cast<float>(1e-10 * std::pow(1e4, u(rng)));
  // a solid voxel inside
  b.permeability[3 * 1000] = b.permeability[3 * 1000 + 1] = b.permeability[3 * 1000 + 2] = 0.f;
  return b;
}

}  // namespace

namespace pressure_solver_test {
// r = q - r on the device. A named free function with external linkage: CUDA extended lambdas may
// not live in a private member such as a TEST body.
void residual_in_place(const DView<double*>& q, const DView<double*>& r) {
  Kokkos::parallel_for(
      "test::residual",
      Kokkos::RangePolicy<cf::detail::ExecSpace>(0, static_cast<int>(r.extent(0))),
      KOKKOS_LAMBDA(int i) { r(i) = q(i) - r(i); });
}
}  // namespace pressure_solver_test

TEST(PressureOperator, MatchesSerialReference) {
  const cf::BoneBlocks bone = hetero_bone(11);
  const auto g = cf::detail::build_device_grid(bone);
  const cf::BoneBlocks s = cf::detail::download_grid(g, bone);
  const int n = static_cast<int>(g.num_voxels());
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.5, 2.0);
  auto hl = Kokkos::View<double*, Kokkos::HostSpace>("lambda", n);
  auto hx = Kokkos::View<double*, Kokkos::HostSpace>("x", n);
  for (int i = 0; i < n; ++i) {
    hl(i) = u(rng) / 0.04;
    hx(i) = s.material[static_cast<size_t>(i)] >= 0 ? u(rng) : 0.0;
  }
  DView<double*> lambda("lambda", n), x("x", n), y("y", n);
  Kokkos::deep_copy(lambda, hl);
  Kokkos::deep_copy(x, hx);
  cf::detail::PressureSolver solver(g);
  solver.assemble(lambda);
  solver.apply(x, y);
  auto hy = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);

  // Serial reference on the voxel index space.
  std::map<std::array<int, 3>, int> at;
  for (size_t b = 0; b < s.num_blocks(); ++b)
    for (int v = 0; v < 512; ++v) {
      const auto& o = s.block_origin[b];
      at[{o[0] + (v & 7), o[1] + ((v >> 3) & 7), o[2] + (v >> 6)}] = static_cast<int>(b * 512) + v;
    }
  const double h = 0.5e-3;
  double max_rel = 0;
  for (const auto& [c, i] : at) {
    const auto ui = static_cast<size_t>(i);
    if (s.material[ui] < 0) continue;
    double diag = 0, off = 0;
    for (int d = 0; d < 6; ++d) {
      std::array<int, 3> q = c;
      q[static_cast<size_t>(d >> 1)] += (d & 1) ? 1 : -1;
      const auto it = at.find(q);
      const int a = d >> 1;
      const double ci =
          static_cast<double>(s.permeability[3 * ui + static_cast<size_t>(a)]) * hl(i);
      if (it == at.end() || s.material[static_cast<size_t>(it->second)] < 0) {
        if (cf::is_leak_destination(s.material[ui])) diag += 2 * h * ci;  // Dirichlet half cell
        continue;
      }
      const int j = it->second;
      const double cj =
          static_cast<double>(s.permeability[3 * static_cast<size_t>(j) + static_cast<size_t>(a)]) *
          hl(j);
      const double t = ci + cj > 0 ? 2 * h * ci * cj / (ci + cj) : 0.0;
      diag += t;
      off += t * hx(j);
    }
    if (diag == 0) diag = 1;
    const double ref = diag * hx(i) - off;
    // Transmissibilities are stored in float: relative error per term <= eps_float.
    const double scale = std::abs(diag * hx(i)) + std::abs(off);
    max_rel = std::max(max_rel, std::abs(hy(i) - ref) / scale);
  }
  EXPECT_LT(max_rel, 8 * std::numeric_limits<float>::epsilon());
}

TEST(PressureOperator, IsSymmetricPositiveDefinite) {
  const cf::BoneBlocks bone = hetero_bone(12);
  const auto g = cf::detail::build_device_grid(bone);
  const int n = static_cast<int>(g.num_voxels());
  DView<double*> lambda("lambda", n), x("x", n), y("y", n), ax("ax", n), ay("ay", n);
  Kokkos::deep_copy(lambda, 25.0);
  auto hx = Kokkos::create_mirror_view(x);
  auto hy = Kokkos::create_mirror_view(y);
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  for (int i = 0; i < n; ++i) {
    hx(i) = nd(rng);
    hy(i) = nd(rng);
  }
  Kokkos::deep_copy(x, hx);
  Kokkos::deep_copy(y, hy);
  cf::detail::PressureSolver solver(g);
  solver.assemble(lambda);
  solver.apply(x, ax);
  solver.apply(y, ay);
  const double yax = cf::detail::dot(y, ax), xay = cf::detail::dot(x, ay);
  EXPECT_LT(std::abs(yax - xay), 1e-12 * (std::abs(yax) + std::abs(xay)));
  EXPECT_GT(cf::detail::dot(x, ax), 0.0);
}

TEST(PressureSolver, ConvergesToToleranceAndWarmStartHelps) {
  const cf::BoneBlocks bone = hetero_bone(13);
  const auto g = cf::detail::build_device_grid(bone);
  const int n = static_cast<int>(g.num_voxels());
  DView<double*> lambda("lambda", n), q("q", n), p("p", n), ap("ap", n);
  Kokkos::deep_copy(lambda, 25.0);
  auto hq = Kokkos::create_mirror_view(q);
  Kokkos::deep_copy(hq, 0.0);
  hq(n / 2 + 3) = 5e-8;  // an active voxel or a padded one: both must work
  hq(n / 3) = 2e-8;
  Kokkos::deep_copy(q, hq);
  cf::detail::PressureSolver solver(g);
  solver.assemble(lambda);
  const auto st = solver.solve(q, p, 1e-10, 5000);
  EXPECT_TRUE(st.converged);
  solver.apply(p, ap);
  pressure_solver_test::residual_in_place(q, ap);
  EXPECT_LT(std::sqrt(cf::detail::dot(ap, ap)), 1.01e-10 * std::sqrt(cf::detail::dot(q, q)));
  const auto again = solver.solve(q, p, 1e-10, 5000);
  EXPECT_TRUE(again.converged);
  EXPECT_LT(again.iterations, std::max(1, st.iterations / 10));
}

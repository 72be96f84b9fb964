// The block-at-a-time stencil kernels of the host backends (kernels/block_stencil.hpp) against the
// per-voxel kernels the GPU runs: the same matvec, the same Gauss-Seidel colour sweeps and the same
// multigrid cycle (restriction and prolongation included) on a sparse, heterogeneous grid with
// holes, missing neighbour blocks, zero-permeability voxels and Dirichlet faces.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "bone_builder.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/multigrid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "engine/solve/transport.hpp"
#include "kernels/block_stencil.hpp"
#include "kernels/multigrid_kernels.hpp"
#include "kernels/pressure_kernels.hpp"

namespace cf = cementflow;
using cf::detail::DView;
using Policy = Kokkos::RangePolicy<cf::detail::ExecSpace>;

namespace {

// Sparse bone over several blocks: holes, a detached block, soft tissue on two faces, log-uniform
// permeability over 5 decades, some solid voxels.
cf::BoneBlocks sparse_bone() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  cf::BoneBlocks b = cf::test::build_bone(
      {-3, -5, -2}, {27, 19, 21}, 0.5,
      [&](int x, int y, int z) {
        if ((x * 5 + y * 11 + z * 3) % 17 == 0) return cf::kInactive;
        if (x > 20 && y > 12 && z < 8) return cf::kInactive;  // a notch: blocks without neighbours
        if (x == 26 || y == -5) return 0;
        return 1;
      },
      0.8f);
  for (size_t i = 0; i < b.material.size(); ++i)
    if (b.material[i] != cf::kInactive) {
      const bool solid = u(rng) < 0.02;
      for (int a = 0; a < 3; ++a)
        b.permeability[3 * i + static_cast<size_t>(a)] =
            solid ? 0.f : static_cast<float>(1e-11 * std::pow(1e5, u(rng)));
    }
  return b;
}

struct Fixture {
  cf::BoneBlocks bone = sparse_bone();
  cf::detail::DeviceGrid g = cf::detail::build_device_grid(bone);
  int n = static_cast<int>(g.num_voxels());
  DView<double*> lambda{"lambda", static_cast<size_t>(n)};
  DView<double*> x{"x", static_cast<size_t>(n)}, b{"b", static_cast<size_t>(n)};

  Fixture() {
    std::mt19937 rng(9);
    std::uniform_real_distribution<double> u(-1, 1);
    auto hl = Kokkos::create_mirror_view(lambda);
    auto hx = Kokkos::create_mirror_view(x);
    auto hb = Kokkos::create_mirror_view(b);
    auto mat = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g.material);
    for (int i = 0; i < n; ++i) {
      hl(i) = (1.5 + u(rng)) / 0.04;
      hx(i) = mat(i) >= 0 ? u(rng) : 0.0;
      hb(i) = mat(i) >= 0 ? u(rng) : 0.0;
    }
    Kokkos::deep_copy(lambda, hl);
    Kokkos::deep_copy(x, hx);
    Kokkos::deep_copy(b, hb);
  }
};

// Largest |a - c| and largest |a| over two fields (float or double).
struct Diff {
  double scale = 0, diff = 0;
  double rel() const { return scale > 0 ? diff / scale : diff; }
};

template <class T>
Diff compare(const DView<T*>& a, const DView<T*>& c) {
  auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  auto hc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c);
  Diff d;
  for (size_t i = 0; i < ha.extent(0); ++i) {
    const double x = static_cast<double>(ha(i)), y = static_cast<double>(hc(i));
    d.scale = std::max(d.scale, std::abs(x));
    d.diff = std::max(d.diff, std::abs(x - y));
  }
  return d;
}

double max_rel_diff(const DView<double*>& a, const DView<double*>& c) {
  return compare(a, c).rel();
}

}  // namespace

namespace block_stencil_test {
// inv = 1 / d on the device. A named free function: CUDA extended lambdas may not live in a
// private member such as a TEST body.
void invert(const DView<double*>& d, const DView<double*>& inv) {
  Kokkos::parallel_for(
      "test::invert", Policy(0, static_cast<int>(d.extent(0))),
      KOKKOS_LAMBDA(int i) { inv(i) = 1.0 / d(i); });
}
}  // namespace block_stencil_test

TEST(BlockStencil, GridHasMissingNeighbourBlocks) {
  // The comparisons below only mean something if the halo's zero faces are exercised.
  Fixture f;
  auto nb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), f.g.neighbour);
  int missing = 0;
  for (int blk = 0; blk < f.g.nblocks; ++blk)
    for (int d = 0; d < 6; ++d) missing += nb(blk, d) < 0;
  EXPECT_GT(f.g.nblocks, 8);
  EXPECT_GT(missing, 0);
}

TEST(BlockStencil, MatVecEqualsPerVoxelKernel) {
  Fixture f;
  cf::detail::PressureSolver solver(f.g);
  solver.assemble(f.lambda);
  const auto& op = solver.op();
  DView<double*> y_voxel("yv", f.n), y_block("yb", f.n);
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  using DV = DView<double*>;
  Kokkos::parallel_for(Policy(0, f.n),
                       cf::kernels::MatVec<NbV, FV, DV, DV>{f.g.neighbour, op.tx, op.ty, op.tz,
                                                            op.diag, f.x, y_voxel});
  ASSERT_EQ(op.faces.extent(0), static_cast<size_t>(f.g.nblocks) * cf::kernels::kFacesPerBlock);
  Kokkos::parallel_for(Policy(0, f.g.nblocks), cf::kernels::BlockMatVec<NbV, FV, DV, DV>{
                                                   f.g.neighbour, op.faces, op.diag, f.x, y_block});
  EXPECT_LE(max_rel_diff(y_voxel, y_block), 1e-14);
}

TEST(BlockStencil, GaussSeidelColoursEqualPerVoxelKernel) {
  Fixture f;
  cf::detail::PressureSolver solver(f.g);
  solver.assemble(f.lambda);
  const auto& op = solver.op();
  DView<double*> inv("inv", f.n), xv("xv", f.n), xb("xb", f.n);
  block_stencil_test::invert(op.diag, inv);
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  using DV = DView<double*>;
  for (int zero = 0; zero < 2; ++zero) {
    Kokkos::deep_copy(xv, f.x);
    Kokkos::deep_copy(xb, f.x);
    // A zero start, then red, black, black, red: the sequences of the pre- and post-smoother.
    const int colours[] = {0, 1, 1, 0};
    for (int k = 0; k < 4; ++k) {
      const bool z = zero == 1 && k == 0;
      Kokkos::parallel_for(Policy(0, f.n), cf::kernels::GaussSeidelColour<DView<int*>, NbV, FV, DV>{
                                               f.g.material, f.g.neighbour, op.tx, op.ty, op.tz,
                                               inv, f.b, xv, colours[k], z});
      Kokkos::parallel_for(Policy(0, f.g.nblocks),
                           cf::kernels::BlockGaussSeidelColour<NbV, FV, DV>{
                               f.g.neighbour, op.faces, inv, f.b, xb, colours[k], z});
      EXPECT_LE(max_rel_diff(xv, xb), 1e-14) << "zero start " << zero << ", pass " << k;
    }
  }
}

TEST(BlockStencil, MultigridCycleEqualsPerVoxelKernels) {
  // The whole preconditioner: smoothing, restriction to every level, prolongation.
  Fixture f;
  cf::detail::PressureSolver solver(f.g);
  solver.assemble(f.lambda);
  cf::detail::MultigridOptions voxel;
  voxel.voxel_kernels = true;
  voxel.max_coarsest_unknowns = 50;  // several levels on this small grid
  cf::detail::MultigridOptions block = voxel;
  block.voxel_kernels = false;
  cf::detail::Multigrid mv(f.g, voxel), mb(f.g, block);
  ASSERT_GE(mb.levels(), 3);
  mv.update(solver.op());
  mb.update(solver.op());
  DView<double*> zv("zv", f.n), zb("zb", f.n);
  mv.apply(f.b, zv);
  mb.apply(f.b, zb);
  EXPECT_LE(max_rel_diff(zv, zb), 1e-13);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), zb);
  double norm = 0;
  for (size_t i = 0; i < h.extent(0); ++i) norm += h(i) * h(i);
  EXPECT_GT(norm, 0.0);
}

TEST(BlockStencil, VelocityEqualsPerVoxelKernel) {
  // Transport::velocity takes the block path when the operator carries packed faces and the
  // per-voxel path without them.
  Fixture f;
  cf::detail::PressureSolver solver(f.g);
  solver.assemble(f.lambda);
  cf::detail::PressureOperator voxel_op = solver.op();
  voxel_op.faces = DView<float*>();
  cf::detail::Transport transport(f.g, 0.04, 1.0);
  DView<float*> vb("vb", 3 * static_cast<size_t>(f.n)), vv("vv", 3 * static_cast<size_t>(f.n));
  DView<double*> sb("sb", f.n), sv("sv", f.n);
  transport.velocity(solver.op(), f.x, vb, sb);
  transport.velocity(voxel_op, f.x, vv, sv);
  EXPECT_LE(max_rel_diff(sv, sb), 1e-14);
  const Diff dv = compare(vv, vb);
  EXPECT_GT(dv.scale, 0.0);
  EXPECT_LE(dv.diff, 1e-6 * dv.scale);
}

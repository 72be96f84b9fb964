// The multigrid kernels (kernels/multigrid_kernels.hpp) against plain serial references
// (STYLE.md habit 8): damped Jacobi, the red-black Gauss-Seidel colours, residual restriction,
// prolongation and operator coarsening, on a grid of many blocks with holes, blocks without
// neighbours, Dirichlet faces and zero-permeability voxels (tests/unit/serial_grid.hpp). The
// serial references find neighbours by voxel coordinates and build the 2:1 children table
// themselves.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/multigrid_kernels.hpp"
#include "serial_grid.hpp"

namespace cf = cementflow;
using cf::detail::DView;
using Policy = Kokkos::RangePolicy<cf::detail::ExecSpace>;

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kFloatEps = std::numeric_limits<float>::epsilon();

template <class T>
std::vector<T> host(const DView<T*>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

template <class T>
DView<T*> device(const std::vector<T>& v, const char* label) {
  DView<T*> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}

/// The assembled pressure operator of the test bone, random x and b, and the serial grid.
struct Fixture {
  cf::BoneBlocks bone = cf::test::kernel_test_bone();
  cf::detail::DeviceGrid g = cf::detail::build_device_grid(bone);
  cf::test::SerialGrid sg{cf::detail::download_grid(g, bone)};
  int n = static_cast<int>(g.num_voxels());
  cf::detail::PressureSolver solver{g, cf::detail::Preconditioner::Jacobi};
  std::vector<int> active;
  std::vector<float> tx, ty, tz, tb;
  std::vector<double> diag, x, b;

  Fixture() {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(-1, 1);
    active = host(g.material);
    std::vector<double> lambda(static_cast<size_t>(n));
    for (auto& l : lambda) l = (1.5 + u(rng)) / 0.04;
    solver.assemble(device(lambda, "test::lambda"));
    tx = host(solver.op().tx);
    ty = host(solver.op().ty);
    tz = host(solver.op().tz);
    tb = host(solver.op().tb);
    diag = host(solver.op().diag);
    x.resize(static_cast<size_t>(n));
    b.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      x[static_cast<size_t>(i)] = active[static_cast<size_t>(i)] >= 0 ? u(rng) : 0.0;
      b[static_cast<size_t>(i)] = active[static_cast<size_t>(i)] >= 0 ? u(rng) : 0.0;
    }
  }
  double face(int i, int j, int d) const {
    const auto at = [](const std::vector<float>& v) {
      return [&v](int k) { return v[static_cast<size_t>(k)]; };
    };
    return sg.face(at(tx), at(ty), at(tz), i, j, d);
  }
  /// (A x)(i) and the sum of the magnitudes of its terms (for the round-off bound).
  std::pair<double, double> apply(const std::vector<double>& v, int i) const {
    double s = diag[static_cast<size_t>(i)] * v[static_cast<size_t>(i)];
    double m = std::abs(s);
    for (int d = 0; d < 6; ++d) {
      const int j = sg.neighbour(i, d);
      if (j < 0) continue;
      const double t = face(i, j, d) * v[static_cast<size_t>(j)];
      s -= t;
      m += std::abs(t);
    }
    return {s, m};
  }
};

/// The 2:1 coarsening by voxel coordinates: coarse voxel of fine ijk is floor(ijk / 2); coarse
/// voxels numbered in order of first appearance; children (coarse, 8) by child_slot, -1 where the
/// fine voxel is inactive or absent.
struct SerialCoarsening {
  std::vector<int> children, parent;
  int ncoarse = 0;
  explicit SerialCoarsening(const Fixture& f) {
    std::map<std::array<int, 3>, int> coarse;
    parent.assign(static_cast<size_t>(f.n), -1);
    for (int i = 0; i < f.n; ++i) {
      if (f.active[static_cast<size_t>(i)] < 0) continue;
      const auto& c = f.sg.ijk[static_cast<size_t>(i)];
      const auto fl = [](int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
      const std::array<int, 3> cc{fl(c[0]), fl(c[1]), fl(c[2])};
      auto it = coarse.find(cc);
      if (it == coarse.end()) {
        it = coarse.emplace(cc, ncoarse++).first;
        children.resize(children.size() + 8, -1);
      }
      const int slot =
          cf::kernels::child_slot(c[0] - 2 * cc[0], c[1] - 2 * cc[1], c[2] - 2 * cc[2]);
      children[static_cast<size_t>(it->second) * 8 + static_cast<size_t>(slot)] = i;
      parent[static_cast<size_t>(i)] = it->second;
    }
  }
  DView<int* [8]> device_children() const {
    DView<int* [8]> d("test::children", static_cast<size_t>(ncoarse));
    auto h = Kokkos::create_mirror_view(d);
    for (int c = 0; c < ncoarse; ++c)
      for (int k = 0; k < 8; ++k)
        h(c, k) = children[static_cast<size_t>(c) * 8 + static_cast<size_t>(k)];
    Kokkos::deep_copy(d, h);
    return d;
  }
};

}  // namespace

TEST(MultigridKernels, GridHasThePlantedEdgeCases) {
  // The comparisons below only mean something if holes, missing neighbour blocks, Dirichlet faces
  // and zero-permeability voxels are present.
  Fixture f;
  int holes = 0, dirichlet = 0, missing_faces = 0, solid = 0;
  for (int i = 0; i < f.n; ++i) {
    const auto u = static_cast<size_t>(i);
    if (f.active[u] < 0) {
      ++holes;
      continue;
    }
    dirichlet += f.tb[u] > 0;
    for (int d = 0; d < 6; ++d) missing_faces += f.sg.neighbour(i, d) < 0;
  }
  for (size_t i = 0; i < f.bone.material.size(); ++i)
    solid += f.bone.material[i] >= 0 && f.bone.permeability[3 * i] == 0.f;
  EXPECT_GT(f.g.nblocks, 8);
  EXPECT_GT(holes, 0);
  EXPECT_GT(dirichlet, 0);
  EXPECT_GT(missing_faces, 0);
  EXPECT_GT(solid, 0);
}

TEST(MultigridKernels, JacobiStepMatchesSerialReference) {
  Fixture f;
  const double omega = 0.8;
  for (const bool zero_start : {false, true}) {
    DView<double*> y("test::y", static_cast<size_t>(f.n));
    Kokkos::parallel_for(
        "test::jacobi", Policy(0, f.n),
        cf::kernels::JacobiStep<DView<int*>, DView<int* [6]>, DView<float*>, DView<double*>> {
          f.g.material, f.g.neighbour, f.solver.op().tx, f.solver.op().ty, f.solver.op().tz,
              f.solver.op().diag, device(f.b, "test::b"), device(f.x, "test::x"), y, omega,
              zero_start
        });
    const auto hy = host(y);
    for (int i = 0; i < f.n; ++i) {
      const auto u = static_cast<size_t>(i);
      double ref = 0, bound = 0;
      if (f.active[u] < 0) {
        ref = f.b[u] / f.diag[u];
        bound = 2 * kEps * std::abs(ref);
      } else if (zero_start) {
        ref = omega * f.b[u] / f.diag[u];
        bound = 4 * kEps * std::abs(ref);
      } else {
        const auto [ax, mag] = f.apply(f.x, i);
        ref = f.x[u] + omega * (f.b[u] - ax) / f.diag[u];
        // Each of the <= 8 additions and the scaling rounds once: 10 eps of the magnitudes.
        bound = 10 * kEps * (std::abs(f.x[u]) + omega * (std::abs(f.b[u]) + mag) / f.diag[u]);
      }
      ASSERT_NEAR(hy[u], ref, bound) << "voxel " << i << " zero_start " << zero_start;
    }
  }
}

TEST(MultigridKernels, GaussSeidelColoursMatchSerialReference) {
  Fixture f;
  std::vector<double> inv(f.diag.size());
  for (size_t i = 0; i < inv.size(); ++i) inv[i] = 1.0 / f.diag[i];
  DView<double*> xd = device(f.x, "test::x");
  const DView<double*> invd = device(inv, "test::inv_diag"), bd = device(f.b, "test::b");
  std::vector<double> ref = f.x, bound(f.x.size(), 0.0);
  for (int colour = 0; colour < 2; ++colour) {
    Kokkos::parallel_for(
        "test::gauss_seidel", Policy(0, f.n),
        cf::kernels::GaussSeidelColour<DView<int*>, DView<int* [6]>, DView<float*>,
                                       DView<double*>> {
          f.g.material, f.g.neighbour, f.solver.op().tx, f.solver.op().ty, f.solver.op().tz, invd,
              bd, xd, colour, false
        });
    // Serial: the voxels of this colour from the current iterate (they never touch each other).
    std::vector<double> next = ref;
    for (int i = 0; i < f.n; ++i) {
      const auto u = static_cast<size_t>(i);
      const auto& c = f.sg.ijk[u];
      const int parity = (((c[0] + c[1] + c[2]) % 2) + 2) % 2;
      if (f.active[u] < 0) {
        next[u] = f.b[u] * inv[u];
        continue;
      }
      if (parity != colour) continue;
      double s = f.b[u], mag = std::abs(f.b[u]);
      for (int d = 0; d < 6; ++d) {
        const int j = f.sg.neighbour(i, d);
        if (j < 0) continue;
        const double t = f.face(i, j, d) * ref[static_cast<size_t>(j)];
        s += t;
        mag += std::abs(t);
      }
      next[u] = s * inv[u];
      // 8 roundings of the sum and one of the scaling, plus what the neighbours carried in.
      double carried = 0;
      for (int d = 0; d < 6; ++d) {
        const int j = f.sg.neighbour(i, d);
        if (j >= 0) carried += f.face(i, j, d) * bound[static_cast<size_t>(j)];
      }
      bound[u] = 10 * kEps * mag * inv[u] + carried * inv[u];
    }
    ref = next;
  }
  const auto hx = host(xd);
  for (int i = 0; i < f.n; ++i) {
    const auto u = static_cast<size_t>(i);
    ASSERT_NEAR(hx[u], ref[u], bound[u] + 2 * kEps * std::abs(ref[u])) << "voxel " << i;
  }
}

TEST(MultigridKernels, RestrictionAndProlongationMatchSerialReference) {
  Fixture f;
  const SerialCoarsening sc(f);
  ASSERT_GT(sc.ncoarse, 1);
  // Restriction: b_c(C) = sum over the active children of the residual b - A x.
  DView<double*> bc("test::bc", static_cast<size_t>(sc.ncoarse));
  const auto children = sc.device_children();
  Kokkos::parallel_for(
      "test::restrict", Policy(0, sc.ncoarse),
      cf::kernels::RestrictResidual<DView<int* [8]>, DView<int* [6]>, DView<float*>,
                                    DView<double*>> {
        children, f.g.neighbour, f.solver.op().tx, f.solver.op().ty, f.solver.op().tz,
            f.solver.op().diag, device(f.b, "test::b"), device(f.x, "test::x"), bc
      });
  const auto hbc = host(bc);
  for (int c = 0; c < sc.ncoarse; ++c) {
    double ref = 0, mag = 0;
    for (int k = 0; k < 8; ++k) {
      const int fi = sc.children[static_cast<size_t>(c) * 8 + static_cast<size_t>(k)];
      if (fi < 0) continue;
      const auto [ax, m] = f.apply(f.x, fi);
      ref += f.b[static_cast<size_t>(fi)] - ax;
      mag += std::abs(f.b[static_cast<size_t>(fi)]) + m;
    }
    // <= 8 children of <= 8 terms each: 72 roundings at most.
    ASSERT_NEAR(hbc[static_cast<size_t>(c)], ref, 72 * kEps * mag) << "coarse voxel " << c;
  }
  // Prolongation: x(f) += x_c(parent(f)), inactive voxels unchanged.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> xc(static_cast<size_t>(sc.ncoarse));
  for (auto& v : xc) v = u(rng);
  DView<double*> xd = device(f.x, "test::x");
  Kokkos::parallel_for("test::prolong", Policy(0, f.n),
                       cf::kernels::ProlongAdd<DView<int*>, DView<double*>>{
                           device(sc.parent, "test::parent"), device(xc, "test::xc"), xd});
  const auto hx = host(xd);
  for (int i = 0; i < f.n; ++i) {
    const auto s = static_cast<size_t>(i);
    const int p = sc.parent[s];
    const double ref = p < 0 ? f.x[s] : f.x[s] + xc[static_cast<size_t>(p)];
    ASSERT_NEAR(hx[s], ref, kEps * std::abs(ref)) << "voxel " << i;
  }
}

TEST(MultigridKernels, CoarsenOperatorMatchesSerialReference) {
  Fixture f;
  const SerialCoarsening sc(f);
  const auto nc = static_cast<size_t>(sc.ncoarse);
  DView<float*> ctx("test::ctx", nc), cty("test::cty", nc), ctz("test::ctz", nc),
      ctb("test::ctb", nc);
  const float alpha = 0.5f;
  Kokkos::parallel_for(
      "test::coarsen", Policy(0, sc.ncoarse),
      cf::kernels::CoarsenOperator<DView<int* [8]>, DView<float*>> {
        sc.device_children(), f.solver.op().tx, f.solver.op().ty, f.solver.op().tz,
            f.solver.op().tb, ctx, cty, ctz, ctb, alpha
      });
  const std::vector<float>* fine[4] = {&f.tx, &f.ty, &f.tz, &f.tb};
  const std::vector<float> coarse[4] = {host(ctx), host(cty), host(ctz), host(ctb)};
  for (size_t c = 0; c < nc; ++c)
    for (int a = 0; a < 4; ++a) {
      // The x faces of the +x children (slots with bit 0 set) form the coarse +x face; likewise
      // y (bit 1), z (bit 2); the Dirichlet coefficient sums over all children.
      double ref = 0, mag = 0;
      for (int k = 0; k < 8; ++k) {
        const int fi = sc.children[c * 8 + static_cast<size_t>(k)];
        if (fi < 0 || (a < 3 && !(k & (1 << a)))) continue;
        const double v = static_cast<double>((*fine[a])[static_cast<size_t>(fi)]);
        ref += v;
        mag += std::abs(v);
      }
      ref *= static_cast<double>(alpha);
      // Float sums of <= 8 terms and one scaling: 9 float roundings.
      ASSERT_NEAR(static_cast<double>(coarse[a][c]), ref,
                  9 * static_cast<double>(kFloatEps) * mag * static_cast<double>(alpha))
          << "coarse voxel " << c << " field " << a;
    }
}

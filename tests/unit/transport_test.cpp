// The transport kernels (kernels/transport_kernels.hpp) against plain serial references
// (STYLE.md habit 8): the in/out flows of every cell (cell_flows) on a grid of many blocks with
// holes, blocks without neighbours, Dirichlet faces and zero-permeability voxels
// (tests/unit/serial_grid.hpp), and the implicit upwind cell equation (solve_cell) against
// bisection, including its edge cases (no inflow, overfilling, non-integer Corey exponents).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/transport_kernels.hpp"
#include "serial_grid.hpp"

namespace cf = cementflow;
using cf::detail::DView;
using Policy = Kokkos::RangePolicy<cf::detail::ExecSpace>;

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

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

/// Serial reference of the fractional flow f_c = (s^a/mu_c) / (s^a/mu_c + (1-s)^a/mu_m).
double fractional_flow_ref(double s, double mu_c, double mu_m, double a) {
  const double c = std::clamp(s, 0.0, 1.0);
  const double lc = std::pow(c, a) / mu_c, lm = std::pow(1.0 - c, a) / mu_m;
  return lc + lm > 0 ? lc / (lc + lm) : 0.0;
}

/// cell_flows of every voxel, four numbers each.
struct CellFlowsKernel {
  DView<int* [6]> nb;
  DView<float*> tx, ty, tz, tb;
  DView<double*> p, q, s, mu_c, out;
  double mu_m, a;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const auto c = cf::kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s, mu_c, mu_m, a, i);
    out(4 * i) = c.in_c;
    out(4 * i + 1) = c.in_total;
    out(4 * i + 2) = c.out;
    out(4 * i + 3) = c.out_boundary;
  }
};

/// solve_cell for a batch of cell equations (cap, s0, in_c, out, mu_c, mu_m, a) per row.
struct SolveCellKernel {
  DView<double*> args, s;
  KOKKOS_INLINE_FUNCTION void operator()(const int k) const {
    s(k) = cf::kernels::solve_cell(args(7 * k), args(7 * k + 1), args(7 * k + 2), args(7 * k + 3),
                                   args(7 * k + 4), args(7 * k + 5), args(7 * k + 6));
  }
};

}  // namespace

TEST(TransportKernels, CellFlowsMatchSerialReference) {
  const cf::BoneBlocks bone = cf::test::kernel_test_bone();
  const cf::detail::DeviceGrid g = cf::detail::build_device_grid(bone);
  const cf::test::SerialGrid sg(cf::detail::download_grid(g, bone));
  const int n = static_cast<int>(g.num_voxels());
  const auto mat = host(g.material);
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> lambda(static_cast<size_t>(n)), p(lambda.size()), q(lambda.size(), 0.0),
      s(lambda.size()), mu(lambda.size());
  for (size_t i = 0; i < lambda.size(); ++i) {
    lambda[i] = (0.5 + u(rng)) / 0.04;
    p[i] = mat[i] >= 0 ? 1e4 * (u(rng) - 0.2) : 0.0;  // some negative: inflow at the boundary
    s[i] = u(rng) < 0.3 ? 0.0 : u(rng);               // cement-free cells among the others
    mu[i] = 10 + 1000 * u(rng);
    if (mat[i] >= 0 && u(rng) < 0.01) q[i] = 1e-9 * u(rng);
  }
  cf::detail::PressureSolver solver(g, cf::detail::Preconditioner::Jacobi);
  solver.assemble(device(lambda, "test::lambda"));
  const auto& op = solver.op();
  const double mu_m = 0.04;
  for (const double a : {1.0, 2.0, 1.5}) {
    DView<double*> out("test::flows", 4 * static_cast<size_t>(n));
    Kokkos::parallel_for(
        "test::cell_flows", Policy(0, n),
        CellFlowsKernel{g.neighbour, op.tx, op.ty, op.tz, op.tb, device(p, "test::p"),
                        device(q, "test::q"), device(s, "test::s"), device(mu, "test::mu"), out,
                        mu_m, a});
    const auto h = host(out);
    const auto tx = host(op.tx), ty = host(op.ty), tz = host(op.tz), tb = host(op.tb);
    const auto at = [](const std::vector<float>& v) {
      return [&v](int k) { return v[static_cast<size_t>(k)]; };
    };
    for (int i = 0; i < n; ++i) {
      const auto ui = static_cast<size_t>(i);
      double in_c = q[ui], in_total = q[ui], outflow = 0, out_b = 0, mag = q[ui];
      for (int d = 0; d < 6; ++d) {
        const int j = sg.neighbour(i, d);
        if (j < 0) continue;
        const auto uj = static_cast<size_t>(j);
        const double f = sg.face(at(tx), at(ty), at(tz), i, j, d) * (p[ui] - p[uj]);
        mag += std::abs(f);
        if (f > 0) outflow += f;
        if (f < 0) in_total -= f;
        if (f < 0 && s[uj] > 0) in_c -= f * fractional_flow_ref(s[uj], mu[uj], mu_m, a);
      }
      const double fb = static_cast<double>(tb[ui]) * p[ui];
      mag += std::abs(fb);
      if (fb > 0) {
        outflow += fb;
        out_b = fb;
      } else {
        in_total -= fb;
      }
      // Sums of <= 8 terms, each from <= 4 roundings (flux, fractional flow with pow): 40 eps of
      // the magnitudes (std::pow and the kernel's pow may differ by an ulp).
      const double tol = 40 * kEps * mag;
      ASSERT_NEAR(h[4 * ui], in_c, tol) << "voxel " << i << " a " << a;
      ASSERT_NEAR(h[4 * ui + 1], in_total, tol) << "voxel " << i;
      ASSERT_NEAR(h[4 * ui + 2], outflow, tol) << "voxel " << i;
      ASSERT_NEAR(h[4 * ui + 3], out_b, tol) << "voxel " << i;
    }
  }
}

TEST(TransportKernels, SolveCellMatchesBisection) {
  // Random cell equations cap (s - s0) + f(s) out = in_c plus planted edge cases.
  std::mt19937 rng(23);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::array<double, 7>> rows;
  for (int k = 0; k < 400; ++k) {
    const double a = k % 3 == 0 ? 1.0 : (k % 3 == 1 ? 2.0 : 1.0 + u(rng));
    rows.push_back({std::pow(10.0, 4 * u(rng) - 2), u(rng), 2 * u(rng), 3 * u(rng),
                    std::pow(10.0, 4 * u(rng)), 0.04, a});
  }
  rows.push_back({1.0, 0.0, 0.0, 1.0, 100.0, 0.04, 1.0});   // no inflow into an empty cell: 0
  rows.push_back({1.0, 0.5, 1e3, 0.0, 100.0, 0.04, 1.0});   // overfilled: 1
  rows.push_back({1e-3, 0.9, 0.0, 5.0, 100.0, 0.04, 2.0});  // drained by outflow only
  std::vector<double> args;
  for (const auto& r : rows) args.insert(args.end(), r.begin(), r.end());
  DView<double*> s("test::s", rows.size());
  Kokkos::parallel_for("test::solve_cell", Policy(0, static_cast<int>(rows.size())),
                       SolveCellKernel{device(args, "test::args"), s});
  const auto hs = host(s);
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& r = rows[k];
    const auto g = [&](double x) {
      return r[0] * (x - r[1]) + fractional_flow_ref(x, r[4], r[5], r[6]) * r[3] - r[2];
    };
    double ref = 0;
    if (g(0.0) >= 0) {
      ref = 0;
    } else if (g(1.0) <= 0) {
      ref = 1;
    } else {
      double lo = 0, hi = 1;
      for (int it = 0; it < 200 && hi - lo > 0; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi) break;  // the bracket is one ulp wide
        (g(mid) > 0 ? hi : lo) = mid;
      }
      ref = 0.5 * (lo + hi);
    }
    // solve_cell stops when its bracket or step is below 1e-15; g is increasing with slope >= cap,
    // so the round-off of g (8 eps of its terms) moves the root by at most that over cap.
    const double tol = 1e-14 + 8 * kEps * (r[0] * (1 + r[1]) + r[3] + r[2]) / r[0];
    ASSERT_NEAR(hs[k], ref, tol) << "row " << k;
  }
}

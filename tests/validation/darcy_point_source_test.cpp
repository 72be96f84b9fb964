// Point-source Darcy flow (PHYSICS.md §M6): p(r) - p_inf = mu Q / (4 pi k r) for isotropic k;
// iso-pressure ellipsoids with semi-axes ~ sqrt(k_i) for diagonal anisotropic k; the pressure in
// the source voxel against the lattice Green's function of the 7-point stencil (Watson 1939); and
// the observed order of convergence of the pressure error under grid refinement.

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "bone_builder.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "point_source_solve.hpp"

namespace cf = cementflow;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMu = 0.04;  // marrow viscosity, Pa s (PHYSICS.md §L2)
constexpr double kQ = 5e-8;   // 3 mL/min (PHYSICS.md §L7)
// Watson's integral for the simple cubic lattice: G(0) of the 7-point Laplacian with unit
// spacing, sum_nb (G(0) - G(e)) = 1, is 1.516386059 / 6 = 0.2527310098 (Watson, Q J Math 1939;
// Glasser & Zucker, PNAS 1977).
constexpr double kLatticeG0 = 0.2527310098;

/// Pressure (Pa) per voxel index for a point source at voxel (0,0,0) of a ball of r_vox voxels.
std::map<std::array<int, 3>, double> solve_bone(const cf::BoneBlocks& bone) {
  return cf::test::solve_point_source(bone, kMu, kQ);
}

std::map<std::array<int, 3>, double> solve_ball(int r_vox, double h_mm, std::array<double, 3> k) {
  return solve_bone(cf::test::ball_bone(r_vox, h_mm, 0.9f, k));
}

}  // namespace

TEST(PointSourceDarcy, IsotropicMatchesOneOverR) {
  const double h = 0.5e-3, k = 4.45e-8;  // Baroud 2004 (PHYSICS.md §L7)
  const int R = 24;
  auto p = solve_ball(R, 0.5, {k, k, k});
  const double c = kMu * kQ / (4 * kPi * k);
  // Differences to a reference radius remove the constant set by the outer boundary.
  const std::array<int, 3> ref{6, 0, 0};
  double max_rel = 0;
  for (const auto& [x, val] : p) {
    const double r = h * std::sqrt(double(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]));
    if (r < 4 * h || r > 0.5 * R * h) continue;
    const double exact = c * (1 / r - 1 / (6 * h));
    const double num = val - p.at(ref);
    max_rel = std::max(max_rel, std::abs(num - exact) / (c / r));
  }
  // The 7-point lattice Green's function is 1/(4 pi r) (1 + O(h^2/r^2)) with an O(h^2/r^2)
  // coefficient below 1/8 (Glasser & Zucker 1977 asymptotics); at r >= 4h that is <= 1/128 of
  // 1/r, plus the outer staircase's non-constant harmonic part, O(h/R) (r/R) <= 1/96 here.
  EXPECT_LT(max_rel, 1.0 / 128 + 1.0 / 96);
  std::printf("isotropic point source: max relative error %.3e (r in [4h, R/2])\n", max_rel);
}

TEST(PointSourceDarcy, SourceVoxelMatchesLatticeGreensFunction) {
  const double h = 0.5e-3, k = 4.45e-8;
  auto p = solve_ball(24, 0.5, {k, k, k});
  // Discrete: T sum (p0 - pj) = Q with T = h k / mu, so p0 - p_inf = (mu Q / (k h)) G(0); far
  // field: p(r) - p_inf = mu Q / (4 pi k r). Compare p0 - p(r) at r = 8h.
  const double r = 8 * h;
  const double exact = kMu * kQ / (k * h) * kLatticeG0 - kMu * kQ / (4 * kPi * k * r);
  const double num = p.at({0, 0, 0}) - p.at({8, 0, 0});
  // Error: the far-field value at 8h carries O(h^2/r^2) <= 1/512 relative to c/r, and c/r is
  // 0.39 of the difference: ~1e-3 relative, plus the boundary's (1/96)(8/24) of c/r.
  EXPECT_NEAR(num / exact, 1.0, 5e-3);
  std::printf("source voxel vs Watson lattice Green's function: ratio %.6f\n", num / exact);
}

TEST(PointSourceDarcy, AnisotropicEllipsoidsScaleWithSqrtK) {
  const double h = 0.5e-3;
  const std::array<double, 3> k{1e-8, 1e-8, 4e-8};  // k_SI / k_AP = 4: semi-axis ratio 2
  // The domain is itself an iso-pressure ellipsoid (semi-axes ~ sqrt(k_i)), so p = 0 on its
  // surface only shifts the analytic solution by a constant, as the ball does for isotropic k.
  const int R = 16;
  auto p = solve_bone(cf::test::ellipsoid_bone({R, R, 2 * R}, 0.5, 0.9f, k));
  const double c = kMu * kQ / (4 * kPi * std::sqrt(k[0] * k[1] * k[2]));
  auto exact = [&](int x, int y, int z) {
    const double X = x * h, Y = y * h, Z = z * h;
    return c / std::sqrt(X * X / k[0] + Y * Y / k[1] + Z * Z / k[2]);
  };
  double max_rel = 0;
  for (const auto& [x, val] : p) {
    // stretched radius in units of h: x^2 + y^2 + (z/2)^2
    const double rs = std::sqrt(double(x[0] * x[0] + x[1] * x[1]) + 0.25 * x[2] * x[2]);
    if (rs < 4 || rs > 0.5 * R) continue;
    const double num = val - p.at({0, 0, 12});
    const double ex = exact(x[0], x[1], x[2]) - exact(0, 0, 12);
    max_rel = std::max(max_rel, std::abs(num - ex) / exact(x[0], x[1], x[2]));
  }
  // As for the isotropic ball: the lattice Green's function's O(h^2/r^2) (<= 1/128 at a
  // stretched radius of 4h; the z spacing is finer after stretching) plus the staircase of the
  // outer surface, O(h/R)(r/R) <= 1/64 for R = 16.
  EXPECT_LT(max_rel, 1.0 / 128 + 1.0 / 64);
  // Front axis ratio: the distance along z where p equals p(x = 6h) is 6h sqrt(kz/kx) = 12h.
  EXPECT_NEAR(p.at({6, 0, 0}), p.at({0, 0, 12}), 0.02 * (p.at({3, 0, 0}) - p.at({6, 0, 0})));
  std::printf(
      "anisotropic point source: max relative error %.3e; p(6h,0,0) = %.2f Pa, p(0,0,12h) = %.2f "
      "Pa\n",
      max_rel, p.at({6, 0, 0}), p.at({0, 0, 12}));
}

TEST(PointSourceDarcy, ObservedConvergenceOrder) {
  // Same physical ball (R = 6 mm) on h = 1, 0.5, 0.25 mm; error of p(x) - p(x_ref) at fixed
  // physical points 1.5..3 mm from the source against the analytic 1/r law.
  const double k = 4.45e-8, c = kMu * kQ / (4 * kPi * k);
  std::vector<double> err;
  for (int level = 0; level < 3; ++level) {
    const int m = 1 << level;  // voxels per mm
    const double h = 1e-3 / m;
    auto p = solve_ball(6 * m, 1.0 / m, {k, k, k});
    const std::array<int, 3> ref{3 * m, 0, 0};
    double e = 0;
    for (const std::array<int, 3> mm : {std::array<int, 3>{2, 0, 0},
                                        {0, 2, 0},
                                        {0, 0, 2},
                                        {2, 2, 0},
                                        {2, 2, 2},
                                        {0, 2, 2},
                                        {1, 1, 1},
                                        {3, 3, 0}}) {
      const std::array<int, 3> x{mm[0] * m, mm[1] * m, mm[2] * m};
      const double r = h * std::sqrt(double(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]));
      const double exact = c * (1 / r - 1 / (3e-3));
      e = std::max(e, std::abs((p.at(x) - p.at(ref)) - exact) / (c / 3e-3));
    }
    err.push_back(e);
  }
  const double order1 = std::log2(err[0] / err[1]), order2 = std::log2(err[1] / err[2]);
  std::printf("point source errors %.3e %.3e %.3e, observed orders %.2f %.2f\n", err[0], err[1],
              err[2], order1, order2);
  // Second order for the lattice Green's function; the outer staircase adds a first-order part,
  // so the finest pair must show at least first order and the error must fall monotonically.
  EXPECT_GT(order2, 1.0);
  EXPECT_LT(err[2], err[1]);
  EXPECT_LT(err[1], err[0]);
}

// The pressure at the needle opening (issue 15 item 0; docs/PHYSICS-LEAKS.md §W): the lattice
// Green's function at the origin (Watson 1939) and its anisotropic generalisation against a
// direct lattice solve; the well correction against the closed forms (point source, power law of
// Christopher–Middleman); and the reported tip pressure on a ball at 1, 0.5 and 0.25 mm against
// the analytic point-source and spherical moving-front solutions at the needle's radius, which
// must converge where the source voxel's own pressure grows as 1/h.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "bone_builder.hpp"
#include "cementflow/simulation.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/well_kernels.hpp"
#include "point_source_solve.hpp"
#include "scene_builder.hpp"

namespace cf = cementflow;
namespace kn = cementflow::kernels;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kQ = 5e-8;            // 3 mL/min (PHYSICS.md §L7)
constexpr double kK = 4.45e-8;         // Baroud 2004 (PHYSICS.md §L7)
constexpr double kRw = 0.5 * 2.39e-3;  // 11G inner radius (PHYSICS.md §M3)

/// Pressure per voxel coordinate of a point source q at voxel (0,0,0) with mobility 1/mu.
std::map<std::array<int, 3>, double> solve_bone(const cf::BoneBlocks& bone, double mu) {
  return cf::test::solve_point_source(bone, mu, kQ);
}

}  // namespace

TEST(WellModel, LatticeGreenFunctionAtOriginIsWatsonsIntegral) {
  // W_s / 2 = 0.252731009858663 (Glasser & Zucker 1977); scale-free in k.
  EXPECT_NEAR(kn::lattice_green_origin(1, 1, 1), kn::kLatticeGreenOrigin, 1e-9);
  EXPECT_NEAR(kn::lattice_green_origin(4.45e-8, 4.45e-8, 4.45e-8), kn::kLatticeGreenOrigin, 1e-9);
  // Equivalent radius of the isotropic source voxel: h / (4 pi G0) = 0.3148702 h.
  EXPECT_NEAR(kn::well_equivalent_radius(1.0, kn::kLatticeGreenOrigin), 0.3148702, 1e-7);
  // Symmetric in the axes; for k_z / k_x = 4 (normalised by k_g) 0.2353910 (this integral,
  // checked against a direct lattice solve in the next test).
  const double g4 = kn::lattice_green_origin(1, 1, 4);
  EXPECT_NEAR(kn::lattice_green_origin(4, 1, 1), g4, 1e-12);
  EXPECT_NEAR(kn::lattice_green_origin(1, 4, 1), g4, 1e-12);
  EXPECT_NEAR(kn::lattice_green_origin(2e-8, 2e-8, 8e-8), g4, 1e-9);
}

TEST(WellModel, AnisotropicSourceVoxelMatchesLatticeSolve) {
  // Diagonal k with k_z / k_x = 4 on an ellipsoid (an iso-pressure surface of the continuum
  // solution): p0 - p(ref) against q mu g(k)/h - the continuum point source at ref.
  const double h = 0.5e-3, mu = 0.04;
  const std::array<double, 3> k{1e-8, 1e-8, 4e-8};
  const int R = 16;
  auto p = solve_bone(cf::test::ellipsoid_bone({R, R, 2 * R}, 0.5, 0.9f, k), mu);
  const double kg = std::cbrt(k[0] * k[1] * k[2]);
  const double g = kn::lattice_green_origin(k[0], k[1], k[2]) / kg;  // 1/m^2
  const double c = mu * kQ / (4 * kPi * std::sqrt(k[0] * k[1] * k[2]));
  const double Z = 12 * h;  // reference point (0, 0, 12h): stretched radius 6h
  const double exact = mu * kQ * g / h - c / std::sqrt(Z * Z / k[2]);
  const double num = p.at({0, 0, 0}) - p.at({0, 0, 12});
  std::printf("anisotropic source voxel: lattice %.3f Pa, g(k) formula %.3f Pa (g k_g = %.6f)\n",
              num, exact, g * kg);
  // The far-field value at 6h (stretched) carries the lattice O(h^2/r^2) <= 1/288 of c/r and the
  // staircase of the outer ellipsoid ~ (1/64)(6/16) of c/r; c/r is ~0.3 of the difference.
  EXPECT_NEAR(num / exact, 1.0, 5e-3);
  // The isotropic value would be off by the anisotropy: check that the test can tell.
  const double iso = mu * kQ * kn::kLatticeGreenOrigin / (kg * h) - c / std::sqrt(Z * Z / k[2]);
  EXPECT_GT(std::abs(iso / num - 1.0), 2e-2);
}

TEST(WellModel, CorrectionMatchesClosedForms) {
  kn::WellPoint w;
  w.q = kQ;
  w.r_w = kRw;
  w.r_eq = 0.315e-3;
  w.k_g = kK;
  w.phi = 0.9;
  w.s = 1;
  kn::RheologyParams newt;
  newt.model = kn::RheologyParams::newtonian;
  newt.viscosity = 100;
  EXPECT_NEAR(kn::well_pressure_correction(newt, w),
              100 * kQ / (4 * kPi * kK) * (1 / w.r_w - 1 / w.r_eq), 1e-9);
  // Power law, n = 1/2 (PHYSICS.md §M6): dp(r0 -> R) = (H/k)(Q/4pi)^(1/2) ln(R/r0) with
  // H = (K/12)(9 + 3/n)^n (150 k phi)^((1-n)/2); here from r_w (outer) in to r_eq < r_w, so the
  // correction is -dp(r_eq -> r_w).
  kn::RheologyParams pl;
  pl.model = kn::RheologyParams::power_law;
  pl.consistency = 300;
  pl.flow_index = 0.5;
  pl.min_viscosity = 1e-6;
  pl.max_viscosity = 1e12;
  const double n = 0.5,
               H = (300.0 / 12) * std::pow(9 + 3 / n, n) * std::pow(150 * kK * 0.9, (1 - n) / 2);
  const double dp = H / kK * std::sqrt(kQ / (4 * kPi)) * std::log(w.r_w / w.r_eq);
  EXPECT_NEAR(kn::well_pressure_correction(pl, w) / -dp, 1.0, 1e-8);
  // n = 0.7: (H/k)(Q/4pi)^n (r0^(1-2n) - R^(1-2n)) / (2n - 1).
  pl.flow_index = 0.7;
  const double n2 = 0.7, H2 = (300.0 / 12) * std::pow(9 + 3 / n2, n2) *
                              std::pow(150 * kK * 0.9, (1 - n2) / 2);
  const double dp2 = H2 / kK * std::pow(kQ / (4 * kPi), n2) *
                     (std::pow(w.r_eq, 1 - 2 * n2) - std::pow(w.r_w, 1 - 2 * n2)) / (2 * n2 - 1);
  EXPECT_NEAR(kn::well_pressure_correction(pl, w) / -dp2, 1.0, 1e-8);
  // Marrow only in the tip voxel (s = 0): the marrow's Newtonian drop.
  w.s = 0;
  EXPECT_NEAR(kn::well_pressure_correction(pl, w),
              0.04 * kQ / (4 * kPi * kK) * (1 / w.r_w - 1 / w.r_eq), 1e-12);
}

namespace {

struct BallRun {
  double tip_kpa;    // reported (needle opening)
  double voxel_kpa;  // the source voxel's own pressure
};

/// Injection of `volume_ml` into a ball of radius 8 mm at voxel size h_mm; marrow viscosity mu_m.
BallRun run_ball(double h_mm, double mu_c, double mu_m, double volume_ml) {
  const int R = static_cast<int>(std::lround(8.0 / h_mm));
  const cf::BoneBlocks bone = cf::test::ball_bone(R, h_mm, 0.9f, {kK, kK, kK});
  cf::Scene s = cf::test::newtonian_scene("well", mu_c, volume_ml * 1e-6, kQ);
  s.marrow_viscosity_pa_s = mu_m;
  const cf::RunResult r = cf::simulate(s, bone, {});
  EXPECT_EQ(r.report.status, "completed") << r.report.message;
  double p0 = 0;
  const auto& g = r.fields.grid;
  for (size_t b = 0; b < g.num_blocks(); ++b)
    for (int v = 0; v < 512; ++v) {
      const auto x = g.voxel_center_mm(b, v);
      if (g.material[b * 512 + static_cast<size_t>(v)] >= 0 && std::abs(x[0]) < 1e-9 &&
          std::abs(x[1]) < 1e-9 && std::abs(x[2]) < 1e-9)
        p0 = static_cast<double>(r.fields.pressure[b * 512 + static_cast<size_t>(v)]);
    }
  return {r.report.timeline.back()[3], p0 * 1e-3};
}

}  // namespace

TEST(WellModel, TipPressureConvergesForAPointSource) {
  // One fluid (cement and marrow both 100 Pa s): the steady point source in a ball whose outer
  // soft-tissue layer is at p = 0. Analytic at the needle radius: mu Q/(4 pi k)(1/r_w - 1/R_out),
  // R_out = 9 mm (the soft-tissue layer's outer faces at (R + 1) voxels... within h/2).
  std::printf("h (mm) | source voxel (kPa) | needle opening (kPa) | analytic (kPa)\n");
  std::vector<double> tip, vox;
  const double mu = 100;
  for (double h : {1.0, 0.5, 0.25}) {
    const BallRun b = run_ball(h, mu, mu, 1e-3);
    const double Rout = (8.0 + h) * 1e-3;
    const double exact = mu * kQ / (4 * kPi * kK) * (1 / kRw - 1 / Rout) * 1e-3;
    std::printf("%5.2f | %8.3f | %8.3f | %8.3f\n", h, b.voxel_kpa, b.tip_kpa, exact);
    tip.push_back(b.tip_kpa);
    vox.push_back(b.voxel_kpa);
    // The outer staircase moves R_out by up to h/2: (h/2)/R_out^2 against 1/r_w - 1/R_out.
    const double tol = 0.5 * h * 1e-3 / (Rout * Rout) / (1 / kRw - 1 / Rout) + 5e-3;
    EXPECT_NEAR(b.tip_kpa / exact, 1.0, tol) << "h = " << h << " mm";
  }
  // The source voxel's pressure grows as ~1/h; the opening pressure converges.
  EXPECT_GT(vox[2] / vox[0], 3.0);
  EXPECT_LT(std::abs(tip[2] - tip[1]), std::abs(tip[1] - tip[0]) + 1e-3 * tip[2]);
  EXPECT_NEAR(tip[2] / tip[1], 1.0, 0.02);
}

TEST(WellModel, TipPressureConvergesForTheSphericalMovingFront) {
  // 100 Pa s cement into 0.04 Pa s marrow (PHYSICS.md §L2, §L7), 0.3 mL: the front is the sphere
  // R_f = (3V/(4 pi phi))^(1/3) = 4.30 mm and p(r_w) = Q/(4 pi k)[mu_c (1/r_w - 1/R_f) +
  // mu_m (1/R_f - 1/R_out)] (PHYSICS.md §M6, at the needle radius instead of a point).
  const double V = 0.3e-6, phi = 0.9;
  const double Rf = std::cbrt(3 * V / (4 * kPi * phi));
  std::vector<double> err;
  for (double h : {1.0, 0.5, 0.25}) {
    const BallRun b = run_ball(h, 100, 0.04, V * 1e6);
    const double Rout = (8.0 + h) * 1e-3;
    const double exact =
        kQ / (4 * kPi * kK) * (100 * (1 / kRw - 1 / Rf) + 0.04 * (1 / Rf - 1 / Rout)) * 1e-3;
    std::printf("moving front h %.2f mm: source voxel %.3f kPa, opening %.3f kPa, analytic %.3f\n",
                h, b.voxel_kpa, b.tip_kpa, exact);
    err.push_back(std::abs(b.tip_kpa / exact - 1.0));
    // The first-order upwind front is smeared over about one cell, where the mobility is mostly
    // the marrow's: the cement sphere acts as if its radius were R_f - delta, delta ~ h, which
    // moves the 1/R_f term by delta / R_f^2 against 1/r_w - 1/R_f (measured: delta = 1.15 h at
    // 1 mm, 0.8 h at 0.5 mm). The bound takes delta = 1.25 h.
    const double tol = 1.25 * h * 1e-3 / (Rf * Rf) / (1 / kRw - 1 / Rf) + 5e-3;
    EXPECT_LT(err.back(), tol) << "h = " << h << " mm";
  }
  // Converges (the source voxel's own pressure doubles with each halving of h).
  EXPECT_LT(err[1], err[0]);
  EXPECT_LT(err[2], err[1]);
}

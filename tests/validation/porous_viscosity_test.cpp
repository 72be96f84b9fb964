// Christopher–Middleman power-law Darcy flow from a spherical source (PHYSICS.md §M6, §L4) at the
// level of the closure: integrating -dp/dr = mu_eff(u) u / k with the library's porous_viscosity
// and u = Q/(4 pi r^2) must give the closed-form pressure drop
//   dp(r0 -> R) = (H/k) (Q/4pi)^n (r0^(1-2n) - R^(1-2n)) / (2n - 1)   (n = 1/2: (H/k)(Q/4pi)^(1/2)
//   ln(R/r0)),
// H = (K/12)(9 + 3/n)^n (150 k phi)^((1-n)/2); and mu_eff(u) u / k = (H/k) u^n pointwise.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "cementflow/rheology.hpp"

namespace {

using cementflow::Rheology;
using cementflow::RheologyModel;

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kPi = 3.14159265358979323846;

// PHYSICS.md §L7 smoke-test values: k (SI) 4.45e-8 m^2, phi 0.90, K = 300 Pa s^n, Q = 3 mL/min;
// the source radius is the 11G cannula radius (ID 2.39 mm, §M3), the outer radius 20 mm (about
// half a vertebral body, §M1).
constexpr double kPerm = 4.45e-8;
constexpr double kPoro = 0.90;
constexpr double kConsistency = 300.0;
constexpr double kFlow = 5e-8;
constexpr double kR0 = 1.195e-3;
constexpr double kROut = 0.020;

// mu_eff from the library vs the H form: ~8 roundings and pow calls with exponents up to ~3 in
// magnitude, each scaling the relative error of its base (see tests/unit/rheology_test.cpp): 64
// eps.
constexpr double kClosureTol = 64 * kEps;

double rel(double a, double b) {
  return std::fabs(a - b) / std::fabs(b);
}

Rheology power_law(double n) {
  Rheology r;
  r.model = RheologyModel::PowerLaw;
  r.consistency_pa_sn = kConsistency;
  r.flow_index = n;
  r.min_viscosity_pa_s = 1e-30;  // clamps idle: this is a test of the bare closure
  r.max_viscosity_pa_s = 1e30;
  return r;
}

double cm_h(double n) {
  return kConsistency / 12.0 * std::pow(9.0 + 3.0 / n, n) *
         std::pow(150.0 * kPerm * kPoro, (1.0 - n) / 2.0);
}

double closed_form_drop(double n) {
  const double a = cm_h(n) / kPerm * std::pow(kFlow / (4.0 * kPi), n);
  if (std::fabs(2.0 * n - 1.0) < 1e-12) return a * std::log(kROut / kR0);
  return a * (std::pow(kR0, 1.0 - 2.0 * n) - std::pow(kROut, 1.0 - 2.0 * n)) / (2.0 * n - 1.0);
}

TEST(PorousViscosity, ClosureIdentity) {
  // mu_eff(u) u / k = (H/k) u^n over five decades of Darcy speed.
  double worst = 0;
  for (double n : {0.25, 0.5, 0.8, 1.0, 1.5})
    for (double u = 1e-8; u < 1e-2; u *= 3.7) {
      const double lhs = cementflow::porous_viscosity(power_law(n), u, kPerm, kPoro) * u / kPerm;
      const double rhs = cm_h(n) / kPerm * std::pow(u, n);
      worst = std::fmax(worst, rel(lhs, rhs));
      EXPECT_LE(rel(lhs, rhs), kClosureTol) << "n " << n << " u " << u;
    }
  std::printf("[porous] mu_eff u/k vs (H/k) u^n: worst relative error %.3g\n", worst);
}

TEST(PorousViscosity, SphericalSourceMatchesChristopherMiddleman) {
  // Composite Simpson on the log grid r = r0 e^t, t in [0, T], T = ln(R/r0):
  //   dp = int_0^T g(t) dt,  g = mu_eff(u(r)) u(r) r / k = (H/k)(Q/4pi)^n r^(1-2n) = C e^(beta t),
  // beta = 1 - 2n. Simpson's error is (T/180) h^4 |g''''| <= (T/180) h^4 beta^4 max g, so relative
  // to int g = C (e^(beta T) - 1)/beta it is bounded by the expression `simpson` below (and is
  // zero for n = 1/2, where g is constant). Round-off: each g carries kClosureTol, and the sum of
  // N positive terms adds at most N eps.
  constexpr int kIntervals = 2000;  // even
  for (double n : {0.3, 0.5, 0.8, 1.0, 1.5}) {
    const Rheology r = power_law(n);
    const double T = std::log(kROut / kR0), h = T / kIntervals;
    const auto g = [&](double t) {
      const double radius = kR0 * std::exp(t);
      const double u = kFlow / (4.0 * kPi * radius * radius);
      return cementflow::porous_viscosity(r, u, kPerm, kPoro) * u * radius / kPerm;
    };
    double sum = g(0.0) + g(T);
    for (int i = 1; i < kIntervals; ++i) sum += (i % 2 ? 4.0 : 2.0) * g(i * h);
    const double dp = sum * h / 3.0;

    const double exact = closed_form_drop(n);
    const double beta = 1.0 - 2.0 * n;
    const double mean_over_max =
        std::fabs(beta) < 1e-12
            ? 1.0
            : std::fabs(std::expm1(beta * T) / (beta * T)) / std::fmax(1.0, std::exp(beta * T));
    const double simpson = std::pow(h, 4) * std::pow(beta, 4) / 180.0 / mean_over_max;
    const double tol = simpson + kClosureTol + kIntervals * kEps;
    EXPECT_LE(rel(dp, exact), tol) << "n " << n;
    std::printf(
        "[porous] spherical CM n=%.2f: dp = %.6g Pa, closed form %.6g Pa, rel error %.3g "
        "(tolerance %.3g)\n",
        n, dp, exact, rel(dp, exact), tol);
  }
}

TEST(PorousViscosity, NewtonianLimitIsPointSourceDarcy) {
  // n = 1: mu_eff = K, and dp = K Q/(4 pi k) (1/r0 - 1/R) (PHYSICS.md §M6, point-source Darcy).
  const double darcy = kConsistency * kFlow / (4.0 * kPi * kPerm) * (1.0 / kR0 - 1.0 / kROut);
  EXPECT_LE(rel(closed_form_drop(1.0), darcy), 16 * kEps);
  for (double u : {1e-6, 1e-3})
    EXPECT_LE(rel(cementflow::porous_viscosity(power_law(1.0), u, kPerm, kPoro), kConsistency),
              16 * kEps);
}

}  // namespace

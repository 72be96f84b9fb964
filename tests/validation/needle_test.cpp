// The injection cannula (PHYSICS.md §M3, §M6 "Needle", §L7): gauge table, Hagen–Poiseuille, the
// power-law closed form and its Q^n scaling, and the numerical Rabinowitsch–Mooney path against
// closed forms (power law written as Herschel–Bulkley with tau_y = 0, as Carreau–Yasuda and as
// Cross in their power-law regimes; Bingham against Buckingham–Reiner).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/needle.hpp"
#include "cementflow/rheology.hpp"

namespace {

using cementflow::Rheology;
using cementflow::RheologyModel;

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kPi = 3.14159265358979323846;

// PHYSICS.md §L7 smoke-test cannula and flow: 11G (ID 2.39 mm, §M3), L = 150 mm, Q = 3 mL/min.
constexpr double kRadius = 0.5 * 2.39e-3;  // m
constexpr double kLength = 0.150;          // m
constexpr double kFlow = 3e-6 / 60.0;      // m^3/s = 5e-8

// Closed forms evaluated by a handful of flops and one pow: 16 eps.
constexpr double kClosedFormTol = 16 * kEps;

// The numerical Rabinowitsch–Mooney path (engine/solve/needle.cpp): J is a sum of N = 1280
// quadrature terms (round-off <= N eps = 2.8e-13 relative, Gauss–Legendre truncation far below),
// and Q = (pi R^3/3) gdot_w (1 - J) amplifies an error in J by J/(1 - J) = 1/(3n) for a power law,
// <= 2 for n >= 1/6; the root is found to 1e-14 in ln Q; dP ~ Q^n then scales it by n <= 1.
// 2 x 2.8e-13 + 1e-14 ~ 6e-13, with a x4 margin for the ulps of the pow/exp inside: 2.5e-12.
constexpr double kRabinowitschTol = 2.5e-12;

double rel(double a, double b) {
  return std::fabs(a - b) / std::fabs(b);
}

Rheology power_law(double k, double n) {
  Rheology r;
  r.model = RheologyModel::PowerLaw;
  r.consistency_pa_sn = k;
  r.flow_index = n;
  return r;
}

/// dP = (2KL/R) [((3n+1)/n) Q/(pi R^3)]^n, PHYSICS.md §M3, written out here.
double power_law_drop(double K, double n, double q, double radius, double length) {
  return 2.0 * K * length / radius *
         std::pow((3.0 * n + 1.0) / n * q / (kPi * radius * radius * radius), n);
}

TEST(Needle, GaugeTable) {
  // PHYSICS.md §M3: 8G 3.43, 10G 2.69, 11G 2.39, 13G 1.80 mm (input data, not computed).
  EXPECT_EQ(cementflow::gauge_inner_diameter_mm(8), 3.43);
  EXPECT_EQ(cementflow::gauge_inner_diameter_mm(10), 2.69);
  EXPECT_EQ(cementflow::gauge_inner_diameter_mm(11), 2.39);
  EXPECT_EQ(cementflow::gauge_inner_diameter_mm(13), 1.80);
  for (int g : {0, 9, 12, 14, 30, -11}) {
    try {
      cementflow::gauge_inner_diameter_mm(g, "vp.json", "injection.needle.gauge");
      ADD_FAILURE() << "gauge " << g << " accepted";
    } catch (const cementflow::InputError& e) {
      EXPECT_EQ(e.file(), "vp.json");
      EXPECT_EQ(e.key(), "injection.needle.gauge");
      EXPECT_EQ(e.value(), std::to_string(g));
      for (const char* accepted : {"8", "10", "11", "13"})
        EXPECT_NE(e.expected().find(accepted), std::string::npos) << accepted;
    }
  }
}

TEST(Needle, NewtonianIsHagenPoiseuille) {
  Rheology r;
  r.model = RheologyModel::Newtonian;
  r.viscosity_pa_s = 100.0;  // Boger 2008 (PHYSICS.md §L1a, §L7)
  const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
  const double hp = 8.0 * 100.0 * kLength * kFlow / (kPi * std::pow(kRadius, 4));
  EXPECT_LE(rel(dp, hp), kClosedFormTol);
  // By hand (PHYSICS.md §L7): 8 * 100 * 0.15 * 5e-8 = 6e-6 N m; R^4 = (1.195e-3)^4 =
  // 2.0393e-12 m^4, pi R^4 = 6.4065e-12 m^4; dP = 6e-6 / 6.4065e-12 = 9.3655e5 Pa ~ 0.94 MPa.
  // The hand value carries 5 significant digits: tolerance 1e-4.
  constexpr double kHandValue = 9.3655e5;
  constexpr double kHandDigits = 1e-4;
  EXPECT_LE(rel(dp, kHandValue), kHandDigits);
  std::printf(
      "[needle] Newtonian 100 Pa s, 11G, 150 mm, 3 mL/min: dP = %.6g Pa (HP %.6g, rel "
      "error %.2g)\n",
      dp, hp, rel(dp, hp));
  // Linear in Q and L, ~R^-4.
  EXPECT_LE(rel(cementflow::cannula_pressure_drop(r, 2 * kFlow, kRadius, kLength), 2 * dp),
            kClosedFormTol);
  EXPECT_LE(rel(cementflow::cannula_pressure_drop(r, kFlow, kRadius, 2 * kLength), 2 * dp),
            kClosedFormTol);
  EXPECT_LE(rel(cementflow::cannula_pressure_drop(r, kFlow, 2 * kRadius, kLength), dp / 16),
            kClosedFormTol);
}

TEST(Needle, PowerLawClosedFormAndFlowScaling) {
  for (double n : {0.2, 0.5, 0.8, 1.0, 1.3}) {
    const Rheology r = power_law(300.0, n);
    const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
    EXPECT_LE(rel(dp, power_law_drop(300.0, n, kFlow, kRadius, kLength)), kClosedFormTol) << n;
    // PHYSICS.md §M6: dP(2Q)/dP(Q) = 2^n.
    const double ratio = cementflow::cannula_pressure_drop(r, 2 * kFlow, kRadius, kLength) / dp;
    EXPECT_LE(rel(ratio, std::pow(2.0, n)), kClosedFormTol) << n;
    std::printf(
        "[needle] power law K=300 n=%.1f: dP = %.6g Pa, dP(2Q)/dP(Q) = %.15g (2^n = "
        "%.15g)\n",
        n, dp, ratio, std::pow(2.0, n));
  }
  // Reversed flow is the mirror image; no flow, no drop.
  const Rheology r = power_law(300.0, 0.5);
  EXPECT_LE(rel(cementflow::cannula_pressure_drop(r, -kFlow, kRadius, kLength),
                -cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength)),
            kClosedFormTol);
  EXPECT_EQ(cementflow::cannula_pressure_drop(r, 0.0, kRadius, kLength), 0.0);
}

TEST(Needle, WallShearRateAtTheSmokeTestPoint) {
  // PHYSICS.md §L1c: "cannula wall: ~30–50 1/s (11G, 3 mL/min)". Q/(pi R^3) = 5e-8 /
  // (pi 1.7065e-9) = 9.326 1/s, so Newtonian 4x = 37.3 1/s and power law n = 1/2 5x = 46.6 1/s.
  const double newtonian = cementflow::cannula_wall_shear_rate(kFlow, kRadius, 1.0);
  const double pl = cementflow::cannula_wall_shear_rate(kFlow, kRadius, 0.5);
  EXPECT_LE(rel(newtonian, 4 * kFlow / (kPi * std::pow(kRadius, 3))), kClosedFormTol);
  EXPECT_LE(rel(pl, 5 * kFlow / (kPi * std::pow(kRadius, 3))), kClosedFormTol);
  for (double g : {newtonian, pl}) {
    EXPECT_GE(g, 30.0);
    EXPECT_LE(g, 50.0);
  }
  std::printf(
      "[needle] 11G at 3 mL/min: wall shear rate %.4g 1/s (Newtonian), %.4g 1/s (n = 0.5)\n",
      newtonian, pl);
}

TEST(Needle, RabinowitschMooneyOnAPowerLaw) {
  // Herschel–Bulkley with tau_y = 0 is exactly the power law but takes the numerical path.
  double worst = 0;
  for (double n : {0.2, 0.5, 0.8, 1.0, 1.5}) {
    Rheology r;
    r.model = RheologyModel::HerschelBulkley;
    r.yield_stress_pa = 0.0;
    r.consistency_pa_sn = 300.0;
    r.flow_index = n;
    r.min_viscosity_pa_s = 1e-12;  // clamps idle: compare the bare law
    r.max_viscosity_pa_s = 1e15;
    for (double q : {kFlow, 1e-10, 1e-5}) {
      const double dp = cementflow::cannula_pressure_drop(r, q, kRadius, kLength);
      const double e = rel(dp, power_law_drop(300.0, n, q, kRadius, kLength));
      worst = std::fmax(worst, e);
      EXPECT_LE(e, kRabinowitschTol) << "n " << n << " Q " << q;
    }
  }
  std::printf("[needle] Rabinowitsch-Mooney vs power-law closed form: worst relative error %.3g\n",
              worst);
}

// Derived tolerance for a generalized fluid tau_G = tau_PL F(gdot), F in (0, 1] increasing to 1
// (Carreau–Yasuda and Cross with mu_inf = 0 and n < 1 in their power-law regime), against the
// power law tau_PL it tends to. Pick a cut rate gdot_c = t gdot_w and let d_c = 1 - F(gdot_c).
//  - G is less viscous than PL at every rate, so at equal wall stress it carries more flow.
//  - Above gdot_c, tau_G >= (1 - d_c) tau_PL: a power law with K(1 - d_c) carries (1-d_c)^(-1/n)
//    times the flow at the same wall stress. Below gdot_c, gdot_G(tau) exceeds that fluid's rate
//    by at most gdot_c, and only for tau < tau_c ~ tau_w t^n; in Q = (pi R^3/tau_w^3) int tau^2
//    gdot dtau that adds at most (pi R^3/3) gdot_c t^(3n), i.e. a fraction ((3n+1)/n) t^(1+3n)/3
//    of the power-law flow pi R^3 gdot_w n/(3n+1).
// So at equal wall stress Q_G/Q_PL - 1 <= e_Q = (1-d_c)^(-1/n) - 1 + ((3n+1)/(3n)) t^(1+3n), and at
// equal Q, since dP ~ Q^n, 0 <= 1 - dP_G/dP_PL <= 1 - (1+e_Q)^(-n) <= n e_Q. (gdot_w of G differs
// from the power law's by O(e_Q), a second-order change of the bound: a factor 2 covers it.)
double regime_tolerance(double n, double gw, double (*one_minus_f)(double gdot)) {
  double best = 1.0;
  for (double t = 1e-8; t < 0.5; t *= 1.2) {
    const double dc = one_minus_f(t * gw);
    const double eq =
        std::pow(1.0 - dc, -1.0 / n) - 1.0 + (3 * n + 1) / (3 * n) * std::pow(t, 1 + 3 * n);
    best = std::fmin(best, 2.0 * n * eq);
  }
  return best + kRabinowitschTol;
}

// Carreau–Yasuda in its power-law regime: mu0 (1 + (lambda gdot)^a)^((n-1)/a), mu_inf = 0, tends
// to K gdot^(n-1) with K = mu0 lambda^(n-1); F = (1 + (lambda gdot)^-a)^((n-1)/a).
constexpr double kCyN = 0.5, kCyA = 2.0, kCyK = 300.0;
double cy_lambda() {  // lambda gdot_w = 1e6 at the power-law wall rate
  return 1e6 / cementflow::cannula_wall_shear_rate(kFlow, kRadius, kCyN);
}
double cy_one_minus_f(double g) {
  return 1.0 - std::pow(1.0 + std::pow(cy_lambda() * g, -kCyA), (kCyN - 1.0) / kCyA);
}

TEST(Needle, RabinowitschMooneyOnCarreauYasudaInItsPowerLawRegime) {
  const double lambda = cy_lambda();
  Rheology r;
  r.model = RheologyModel::CarreauYasuda;
  r.zero_shear_viscosity_pa_s = kCyK * std::pow(lambda, 1.0 - kCyN);
  r.infinite_shear_viscosity_pa_s = 0.0;
  r.time_constant_s = lambda;
  r.flow_index = kCyN;
  r.yasuda_a = kCyA;
  r.min_viscosity_pa_s = 1e-12;
  r.max_viscosity_pa_s = 1e15;
  const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
  const double closed = power_law_drop(kCyK, kCyN, kFlow, kRadius, kLength);
  const double gw = cementflow::cannula_wall_shear_rate(kFlow, kRadius, kCyN);
  const double tol = regime_tolerance(kCyN, gw, cy_one_minus_f);
  EXPECT_LE(rel(dp, closed), tol);
  EXPECT_LE(dp, closed * (1.0 + kRabinowitschTol));  // less viscous everywhere: never above
  std::printf(
      "[needle] Carreau-Yasuda (lambda gdot_w = 1e6) vs power law: rel error %.3g, derived "
      "tolerance %.3g\n",
      rel(dp, closed), tol);
}

// Cross in its power-law regime: mu0/(1 + (lambda gdot)^m), m = 1 - n, mu_inf = 0, tends to
// K gdot^(n-1) with K = mu0 lambda^(n-1); F = 1/(1 + (lambda gdot)^-m). The approach is slow
// ((lambda gdot)^-m), hence lambda gdot_w = 1e16.
constexpr double kCrossN = 0.5, kCrossK = 300.0;
double cross_lambda() {
  return 1e16 / cementflow::cannula_wall_shear_rate(kFlow, kRadius, kCrossN);
}
double cross_one_minus_f(double g) {
  const double x = std::pow(cross_lambda() * g, -(1.0 - kCrossN));
  return x / (1.0 + x);
}

TEST(Needle, RabinowitschMooneyOnCrossInItsPowerLawRegime) {
  const double lambda = cross_lambda();
  Rheology r;
  r.model = RheologyModel::Cross;
  r.zero_shear_viscosity_pa_s = kCrossK * std::pow(lambda, 1.0 - kCrossN);
  r.infinite_shear_viscosity_pa_s = 0.0;
  r.time_constant_s = lambda;
  r.rate_index = 1.0 - kCrossN;
  r.min_viscosity_pa_s = 1e-12;
  r.max_viscosity_pa_s = 1e15;
  const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
  const double closed = power_law_drop(kCrossK, kCrossN, kFlow, kRadius, kLength);
  const double gw = cementflow::cannula_wall_shear_rate(kFlow, kRadius, kCrossN);
  const double tol = regime_tolerance(kCrossN, gw, cross_one_minus_f);
  EXPECT_LE(rel(dp, closed), tol);
  EXPECT_LE(dp, closed * (1.0 + kRabinowitschTol));
  std::printf(
      "[needle] Cross (lambda gdot_w = 1e16) vs power law: rel error %.3g, derived "
      "tolerance %.3g\n",
      rel(dp, closed), tol);
}

TEST(Needle, RabinowitschMooneyOnBinghamIsBuckinghamReiner) {
  // Herschel–Bulkley n = 1 (Bingham, plastic viscosity mu_p, yield stress tau_y), Papanastasiou m.
  // Buckingham–Reiner: Q = (pi R^3 tau_w/(4 mu_p)) [1 - (4/3) phi + (1/3) phi^4], phi =
  // tau_y/tau_w. Regularization error at equal wall stress: the regularized rate exceeds the
  // Bingham one by min(gdot, tau_y e^(-m gdot)/mu_p); with dtau = (tau_y m e^(-m gdot) + mu_p)
  // dgdot and tau^2 <= tau_w^2, 0 <= Q_reg - Q_BR <= (pi R^3/tau_w)(tau_y/m + tau_y/m) = 2 pi R^3
  // phi/m. The library returns tau_w for the regularized fluid at Q, so |Q_BR(tau_w) - Q| <= that
  // bound.
  const double mu_p = 100.0, tau_y = 1000.0;
  for (double m : {1e3, 1e5}) {
    Rheology r;
    r.model = RheologyModel::HerschelBulkley;
    r.yield_stress_pa = tau_y;
    r.consistency_pa_sn = mu_p;
    r.flow_index = 1.0;
    r.regularization_s = m;
    r.min_viscosity_pa_s = 1e-12;
    r.max_viscosity_pa_s = 1e15;
    const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
    const double tau_w = dp * kRadius / (2.0 * kLength);
    const double phi = tau_y / tau_w;
    ASSERT_LT(phi, 1.0);
    const double q_br = kPi * std::pow(kRadius, 3) * tau_w / (4.0 * mu_p) *
                        (1.0 - 4.0 / 3.0 * phi + std::pow(phi, 4) / 3.0);
    const double bound = 2.0 * kPi * std::pow(kRadius, 3) * phi / (m * kFlow) + kRabinowitschTol;
    EXPECT_LE(rel(q_br, kFlow), bound) << m;
    EXPECT_LE(q_br, kFlow * (1.0 + kRabinowitschTol)) << m;  // regularized carries more
    std::printf(
        "[needle] Bingham tau_y=%g mu_p=%g m=%g: plug ratio %.4f, dP = %.6g Pa, "
        "|Q_BR - Q|/Q = %.3g (bound %.3g)\n",
        tau_y, mu_p, m, phi, dp, rel(q_br, kFlow), bound);
  }
}

TEST(Needle, PresetsAtTheSmokeTestPoint) {
  // Not a check of a published number: the pressure each preset needs through the §L7 cannula,
  // asserted positive and finite and printed for the record.
  for (const auto& p : cementflow::presets()) {
    const double dp = cementflow::cannula_pressure_drop(p.rheology, kFlow, kRadius, kLength);
    EXPECT_TRUE(std::isfinite(dp) && dp > 0) << p.name;
    std::printf("[needle] %-26s 11G 150 mm 3 mL/min: dP = %.4g MPa\n", p.name.c_str(), dp * 1e-6);
  }
}

TEST(Needle, BadArgumentsAreInputErrors) {
  const Rheology r = power_law(300.0, 0.5);
  EXPECT_THROW(cementflow::cannula_pressure_drop(r, kFlow, 0.0, kLength), cementflow::InputError);
  EXPECT_THROW(cementflow::cannula_pressure_drop(r, kFlow, -1e-3, kLength), cementflow::InputError);
  EXPECT_THROW(cementflow::cannula_pressure_drop(r, kFlow, kRadius, -1.0), cementflow::InputError);
  EXPECT_THROW(cementflow::cannula_pressure_drop(r, std::numeric_limits<double>::quiet_NaN(),
                                                 kRadius, kLength),
               cementflow::InputError);
  EXPECT_THROW(cementflow::cannula_pressure_drop(power_law(300.0, -0.5), kFlow, kRadius, kLength),
               cementflow::InputError);
  EXPECT_THROW(cementflow::cannula_wall_shear_rate(kFlow, kRadius, 0.0), cementflow::InputError);
}

}  // namespace

TEST(Needle, SteppedCannulaSumsItsSections) {
  // PHYSICS.md §M3: a stepped cannula (two radii) is the sum of its sections. Power law: each
  // section is the closed form, so the sum is exact to the closed-form tolerance.
  using cementflow::CannulaSection;
  const double r8 = 0.5 * 3.43e-3, r11 = kRadius;  // 8G hub side, 11G tip (§M3 gauge table)
  const std::vector<CannulaSection> stepped{{r8, 0.100}, {r11, 0.050}};
  for (double n : {0.3, 0.5, 1.0}) {
    const Rheology r = power_law(300.0, n);
    const double dp = cementflow::cannula_pressure_drop(r, kFlow, stepped);
    const double exact =
        power_law_drop(300.0, n, kFlow, r8, 0.100) + power_law_drop(300.0, n, kFlow, r11, 0.050);
    const double straight = power_law_drop(300.0, n, kFlow, r11, 0.150);
    std::printf(
        "[needle] stepped 8G 100 mm + 11G 50 mm, n = %.1f: dP = %.6g Pa (exact %.6g, "
        "rel %.2g); straight 11G 150 mm %.6g Pa\n",
        n, dp, exact, rel(dp, exact), straight);
    EXPECT_LE(rel(dp, exact), 2 * kClosedFormTol) << n;
    EXPECT_LT(dp, straight);  // the wider hub section lowers the drop
  }
  // Two sections of the same radius are one tube of the summed length (Rabinowitsch path too).
  Rheology cy;
  cy.model = RheologyModel::CarreauYasuda;
  cy.zero_shear_viscosity_pa_s = 2000;
  cy.infinite_shear_viscosity_pa_s = 1;
  cy.time_constant_s = 2;
  cy.flow_index = 0.4;
  cy.yasuda_a = 2;
  const double one = cementflow::cannula_pressure_drop(cy, kFlow, kRadius, kLength);
  const double two = cementflow::cannula_pressure_drop(
      cy, kFlow, std::vector<CannulaSection>{{kRadius, 0.05}, {kRadius, 0.10}});
  EXPECT_LE(rel(two, one), 2 * kRabinowitschTol);
  EXPECT_THROW(cementflow::cannula_pressure_drop(cy, kFlow, std::vector<CannulaSection>{}),
               cementflow::InputError);
}

TEST(Needle, CuredCementScalesTheDropForEveryModel) {
  // The cure shifts the whole flow curve by a factor f (shifted_rheology), so by the
  // Rabinowitsch–Mooney relation the wall stress, hence dP, scales by exactly f when no clamp is
  // active: a check of the numerical path of every model against that identity.
  for (int m = 0; m < 5; ++m) {
    Rheology r;
    r.model = static_cast<RheologyModel>(m);
    r.viscosity_pa_s = 100;
    r.consistency_pa_sn = 300;
    r.flow_index = 0.5;
    r.zero_shear_viscosity_pa_s = 2000;
    r.infinite_shear_viscosity_pa_s = 1;
    r.time_constant_s = 2;
    r.rate_index = 0.7;
    r.yasuda_a = 2;
    r.yield_stress_pa = 200;
    r.min_viscosity_pa_s = 1e-9;
    r.max_viscosity_pa_s = 1e12;
    const double dp = cementflow::cannula_pressure_drop(r, kFlow, kRadius, kLength);
    const double f = 7.389056098930650;  // e^2: two e-folding times of the exponential cure
    const double dpf = cementflow::cannula_pressure_drop(cementflow::shifted_rheology(r, f), kFlow,
                                                         kRadius, kLength);
    std::printf("[needle] %-16s dP = %.6g Pa, cured x e^2: ratio %.15g (rel err %.2g)\n",
                cementflow::model_name(r.model), dp, dpf / dp, rel(dpf / dp, f));
    EXPECT_LE(rel(dpf / dp, f), 4 * kRabinowitschTol) << cementflow::model_name(r.model);
  }
}

// Cure kinetics and the time dependence of the viscosity (PHYSICS.md §L1c, §M6): the Kamal–Sourour
// integrator against the autocatalytic closed form and the first-order limit, the Castro–Macosko
// divergence, the exponential K(t), the Arrhenius cure-time ratio between 25 °C and 37 °C, the
// input checks, and the device twins against the host functions.

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "cementflow/errors.hpp"
#include "cementflow/rheology.hpp"
#include "engine/solve/rheology_params.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cf = cementflow;
using cf::CureModel;
using cf::Curing;

namespace {

Curing autocatalytic(double k2, double alpha0) {
  Curing c;
  c.model = CureModel::KamalSourour;
  c.k1_per_s = 0;
  c.k2_per_s = k2;
  c.kamal_m = 1;
  c.kamal_p = 1;
  c.initial_degree = alpha0;
  c.gel_degree = 0.8;
  c.castro_a = 1.5;
  c.castro_b = 1.0;
  return c;
}

/// PHYSICS.md §M6: alpha(t) = alpha0 e^(kt) / (1 - alpha0 + alpha0 e^(kt)) for k1 = 0, m = p = 1.
double autocatalytic_exact(double alpha0, double k, double t) {
  const double e = std::exp(k * t);
  return alpha0 * e / (1 - alpha0 + alpha0 * e);
}

/// Time for the cure state to reach `target` (bisection on advance_cure from mixing).
double time_to(const Curing& c, double temperature_c, double target, bool by_factor) {
  auto value = [&](double t) {
    const double s = cf::advance_cure(c, cf::initial_cure_state(c), temperature_c, t);
    return by_factor ? cf::cure_viscosity_factor(c, s, temperature_c) : s;
  };
  double lo = 0, hi = 1;
  while (value(hi) < target) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (value(mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

TEST(Cure, KamalIntegratorMatchesTheAutocatalyticClosedForm) {
  // At the reference temperature (no Arrhenius shift), k = k2.
  const double k2 = 0.02, a0 = 0.01;
  const Curing c = autocatalytic(k2, a0);
  double worst = 0;
  for (double t : {1.0, 10.0, 60.0, 150.0, 230.0, 400.0, 900.0}) {
    const double a = cf::advance_cure(c, a0, c.reference_temperature_c, t);
    worst = std::max(worst, std::abs(a - autocatalytic_exact(a0, k2, t)));
  }
  // Stepping in pieces (as the engine does) gives the same curve.
  double a = a0, t = 0, worst_steps = 0;
  for (int i = 0; i < 300; ++i) {
    a = cf::advance_cure(c, a, c.reference_temperature_c, 2.7);
    t += 2.7;
    worst_steps = std::max(worst_steps, std::abs(a - autocatalytic_exact(a0, k2, t)));
  }
  std::printf("autocatalytic cure: max |alpha - exact| %.3e (one call), %.3e (300 steps)\n", worst,
              worst_steps);
  // RK4 with h <= 0.01/(k1+k2): local error ~ (k h)^5/120 ~ 1e-12 per step, so ~1e-10 overall.
  EXPECT_LT(worst, 1e-9);
  EXPECT_LT(worst_steps, 1e-9);

  // At 37 °C the rate is k2 a_T with a_T = exp[-E/R (1/T - 1/T_ref)] (the closed form in k a_T).
  const double shift = std::exp(-c.activation_energy_j_mol / cf::kernels::kGasConstant *
                                (1 / 310.15 - 1 / (273.15 + c.reference_temperature_c)));
  const double a37 = cf::advance_cure(c, a0, 37.0, 200.0);
  EXPECT_NEAR(a37, autocatalytic_exact(a0, k2 * shift, 200.0), 1e-9);
}

TEST(Cure, KamalLimits) {
  // k2 = 0, p = 1: first order, alpha = 1 - (1 - alpha0) e^(-k1 t).
  Curing c = autocatalytic(0.0, 0.05);
  c.k1_per_s = 0.01;
  for (double t : {5.0, 50.0, 500.0})
    EXPECT_NEAR(cf::advance_cure(c, 0.05, c.reference_temperature_c, t),
                1 - 0.95 * std::exp(-0.01 * t), 1e-10);
  // Full cure is a fixed point; alpha never exceeds 1; dt = 0 changes nothing.
  EXPECT_DOUBLE_EQ(cf::advance_cure(c, 1.0, 37.0, 1e4), 1.0);
  EXPECT_LE(cf::advance_cure(c, 0.999, 37.0, 1e6), 1.0);
  EXPECT_DOUBLE_EQ(cf::advance_cure(c, 0.3, 37.0, 0.0), 0.3);
  // No cure model: the state never changes and the factor is 1.
  Curing none;
  EXPECT_DOUBLE_EQ(cf::advance_cure(none, 12.0, 37.0, 100.0), 12.0);
  EXPECT_DOUBLE_EQ(cf::cure_viscosity_factor(none, 1e9, 37.0), 1.0);
}

TEST(Cure, CastroMacoskoDivergence) {
  // eta/eta0 = (alpha_g/(alpha_g - alpha))^(A + B alpha) (PHYSICS.md §M6).
  const Curing c = autocatalytic(0.02, 0.01);
  const double T = c.reference_temperature_c;  // no viscosity Arrhenius shift
  EXPECT_DOUBLE_EQ(cf::cure_viscosity_factor(c, 0.0, T), 1.0);
  double worst = 0;
  for (double a : {0.1, 0.4, 0.7, 0.79, 0.7999}) {
    const double exact = std::pow(0.8 / (0.8 - a), 1.5 + 1.0 * a);
    worst = std::max(worst, std::abs(cf::cure_viscosity_factor(c, a, T) / exact - 1));
  }
  std::printf("Castro-Macosko: max relative error %.3e\n", worst);
  EXPECT_LT(worst, 1e-14);
  // Increasing towards the gel point, infinite at and past it (the clamp then gives max).
  EXPECT_LT(cf::cure_viscosity_factor(c, 0.5, T), cf::cure_viscosity_factor(c, 0.6, T));
  EXPECT_TRUE(std::isinf(cf::cure_viscosity_factor(c, 0.8, T)));
  EXPECT_TRUE(std::isinf(cf::cure_viscosity_factor(c, 0.95, T)));
  cf::Rheology r;
  r.model = cf::RheologyModel::PowerLaw;
  r.curing = c;
  EXPECT_DOUBLE_EQ(
      cf::viscosity(cf::shifted_rheology(r, cf::cure_viscosity_factor(c, 0.9, T)), 1.0),
      r.max_viscosity_pa_s);
}

TEST(Cure, ExponentialViscosityGrowth) {
  // K(t) = K0 e^((t - t0)/tau) at the reference temperature (PHYSICS.md §L1c).
  cf::Rheology r;
  r.model = cf::RheologyModel::PowerLaw;
  r.consistency_pa_sn = 300;
  r.flow_index = 0.5;
  r.curing.model = CureModel::Exponential;
  r.curing.reference_age_s = 300;
  r.curing.time_constant_s = 150;
  const double T = r.curing.reference_temperature_c;
  double worst = 0;
  for (double t : {0.0, 120.0, 300.0, 450.0, 700.0}) {
    const double exact = 300 * std::exp((t - 300) / 150.0) * std::pow(2.0, -0.5);
    worst = std::max(worst, std::abs(cf::viscosity_at_age(r, 2.0, t, T) / exact - 1));
  }
  std::printf("exponential K(t): max relative error %.3e\n", worst);
  EXPECT_LT(worst, 1e-13);
  // The shift multiplies every viscosity parameter of every model.
  cf::Rheology hb;
  hb.model = cf::RheologyModel::HerschelBulkley;
  hb.yield_stress_pa = 50;
  hb.consistency_pa_sn = 20;
  hb.flow_index = 0.6;
  hb.max_viscosity_pa_s = 1e9;
  EXPECT_NEAR(cf::viscosity(cf::shifted_rheology(hb, 7.0), 3.0) / cf::viscosity(hb, 3.0), 7.0,
              1e-12);
  // Viscosity Arrhenius shift: exp[E_eta/R (1/T - 1/T_ref)], lower viscosity when warmer.
  r.curing.viscosity_activation_energy_j_mol = 60e3;
  const double f37 = cf::cure_viscosity_factor(r.curing, 300.0, 37.0);
  EXPECT_NEAR(f37, std::exp(60e3 / cf::kernels::kGasConstant * (1 / 310.15 - 1 / 295.15)), 1e-14);
}

TEST(Cure, CureTimeHalvesFrom25To37Celsius) {
  // Nicholas et al. 2007 (PHYSICS.md §L1a, A; §M6): cure 2x faster at 37 °C than at 25 °C,
  // E = R ln2 / (1/298.15 - 1/310.15) = 44.4 kJ/mol (§L1b, derived).
  const double e_exact = cf::kernels::kGasConstant * std::log(2.0) / (1 / 298.15 - 1 / 310.15);
  std::printf("E for a 2x faster cure 25 -> 37 C: %.1f J/mol (default %.1f)\n", e_exact,
              Curing().activation_energy_j_mol);
  EXPECT_NEAR(Curing().activation_energy_j_mol / e_exact, 1.0, 0.002);

  // Kamal–Sourour: time to alpha = 0.5.
  const Curing k = autocatalytic(0.02, 0.01);
  const double rk = time_to(k, 25.0, 0.5, false) / time_to(k, 37.0, 0.5, false);
  // Exponential: time to reach 10x the reference viscosity.
  Curing e;
  e.model = CureModel::Exponential;
  const double re = time_to(e, 25.0, 10.0, true) / time_to(e, 37.0, 10.0, true);
  const double expected =
      std::exp(k.activation_energy_j_mol / cf::kernels::kGasConstant * (1 / 298.15 - 1 / 310.15));
  std::printf("cure-time ratio 25/37 C: Kamal %.6f, exponential %.6f, Arrhenius %.6f\n", rk, re,
              expected);
  EXPECT_NEAR(rk / expected, 1.0, 1e-8);
  EXPECT_NEAR(re / expected, 1.0, 1e-8);
  EXPECT_NEAR(rk, 2.0, 0.005);  // 44.4 kJ/mol rounds E to 3 digits: ratio 1.9995
}

TEST(Cure, ValidateNamesTheBadKey) {
  auto rejects = [](const Curing& c, const std::string& key) {
    try {
      cf::validate_curing(c, "scene.json");
    } catch (const cf::InputError& e) {
      EXPECT_EQ(e.file(), "scene.json");
      return e.key() == key;
    }
    return false;
  };
  Curing k = autocatalytic(0.02, 0.01);
  EXPECT_NO_THROW(cf::validate_curing(k, "x"));
  for (double ag : {0.0, 1.0, 1.2, -0.1}) {
    Curing b = k;
    b.gel_degree = ag;
    EXPECT_TRUE(rejects(b, "cement.curing.gel_degree")) << ag;
  }
  Curing b = k;
  b.initial_degree = 0.9;  // past alpha_g
  EXPECT_TRUE(rejects(b, "cement.curing.initial_degree"));
  b = k;
  b.k2_per_s = -1;
  EXPECT_TRUE(rejects(b, "cement.curing.k2_per_s"));
  b = k;
  b.initial_degree = 0;  // k1 = 0 and alpha0 = 0: the cure never starts
  EXPECT_TRUE(rejects(b, "cement.curing.k1_per_s"));
  b = k;
  b.kamal_p = 0;
  EXPECT_TRUE(rejects(b, "cement.curing.p"));
  b = k;
  b.room_temperature_c = -300;
  EXPECT_TRUE(rejects(b, "cement.curing.room_temperature_c"));
  Curing e;
  e.model = CureModel::Exponential;
  e.time_constant_s = 0;
  EXPECT_TRUE(rejects(e, "cement.curing.time_constant_s"));
  e.time_constant_s = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(rejects(e, "cement.curing.time_constant_s"));
  e.time_constant_s = 150;
  e.activation_energy_j_mol = -1;
  EXPECT_TRUE(rejects(e, "cement.curing.activation_energy_kj_mol"));
  // validate_rheology checks the curing too.
  cf::Rheology r;
  r.curing = e;
  EXPECT_THROW(cf::validate_rheology(r, "x"), cf::InputError);
}

namespace cure_test {
// Free function: CUDA extended lambdas may not live in a TEST body.
void advance_on_device(const cf::kernels::CureParams& c, const Kokkos::View<double*>& state,
                       const Kokkos::View<double*>& temp_k, const Kokkos::View<double*>& dt,
                       const Kokkos::View<double*>& out, const Kokkos::View<double*>& factor) {
  Kokkos::parallel_for(
      "cementflow::test::cure::advance", static_cast<int>(state.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        out(i) = cf::kernels::advance_cure(c, state(i), temp_k(i), dt(i));
        factor(i) = cf::kernels::cure_factor(c, out(i), temp_k(i));
      });
  Kokkos::fence();
}
}  // namespace cure_test

TEST(Cure, DeviceKernelsMatchHost) {
  constexpr int kCount = 2000;
  for (const Curing& c : {autocatalytic(0.02, 0.01), [] {
                            Curing e;
                            e.model = CureModel::Exponential;
                            e.viscosity_activation_energy_j_mol = 30e3;
                            return e;
                          }()}) {
    Kokkos::View<double*> state("cementflow::test::cure::state", kCount),
        temp("cementflow::test::cure::temp", kCount), dt("cementflow::test::cure::dt", kCount),
        out("cementflow::test::cure::out", kCount), fac("cementflow::test::cure::factor", kCount);
    auto hs = Kokkos::create_mirror_view(state);
    auto ht = Kokkos::create_mirror_view(temp);
    auto hd = Kokkos::create_mirror_view(dt);
    for (int i = 0; i < kCount; ++i) {
      hs(i) = c.model == CureModel::Exponential ? 3.0 * i : 0.7 * i / kCount;
      ht(i) = 273.15 + 20 + 20.0 * (i % 7) / 6;
      hd(i) = 0.1 * (i % 13);
    }
    Kokkos::deep_copy(state, hs);
    Kokkos::deep_copy(temp, ht);
    Kokkos::deep_copy(dt, hd);
    cure_test::advance_on_device(cf::detail::to_cure_params(c), state, temp, dt, out, fac);
    auto ho = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    auto hf = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fac);
    for (int i = 0; i < kCount; ++i) {
      const double s = cf::advance_cure(c, hs(i), ht(i) - 273.15, hd(i));
      ASSERT_NEAR(ho(i), s, 1e-13 * std::max(1.0, std::abs(s))) << i;
      const double f = cf::cure_viscosity_factor(c, s, ht(i) - 273.15);
      if (std::isfinite(f)) {
        ASSERT_NEAR(hf(i) / f, 1.0, 1e-13) << i;
      }
    }
  }
}

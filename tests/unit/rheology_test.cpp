// Cement rheology (include/cementflow/rheology.hpp, kernels/rheology_kernels.hpp): every model
// against its closed form and its limits, the clamps and the shear-rate floor, the
// Christopher–Middleman porous closure against PHYSICS.md §L4, the presets, input checks, and the
// device kernels against the host functions on 10^5 random inputs (STYLE.md habit 8).

#include <gtest/gtest.h>

#include <Kokkos_Core.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/rheology.hpp"
#include "engine/solve/rheology_params.hpp"
#include "kernels/rheology_kernels.hpp"

namespace {

using cementflow::Rheology;
using cementflow::RheologyModel;

constexpr double kEps = std::numeric_limits<double>::epsilon();
// A law is a handful of flops and one or two pow/exp/expm1 (glibc: < 1 ulp each; a pow result
// with relative input error d carries |exponent| d, exponents here are <= 2): 16 eps covers it.
constexpr double kLawTol = 16 * kEps;

double rel(double a, double b) {
  return std::fabs(a - b) / std::fmax(std::fabs(b), 1e-300);
}

Rheology wide(Rheology r) {
  // Clamps far outside every value used below, so that a test sees the bare law.
  r.min_viscosity_pa_s = 1e-30;
  r.max_viscosity_pa_s = 1e30;
  return r;
}

Rheology newtonian(double mu) {
  Rheology r;
  r.model = RheologyModel::Newtonian;
  r.viscosity_pa_s = mu;
  return wide(r);
}
Rheology power_law(double k, double n) {
  Rheology r;
  r.model = RheologyModel::PowerLaw;
  r.consistency_pa_sn = k;
  r.flow_index = n;
  return wide(r);
}
Rheology cross(double mu0, double mu_inf, double lambda, double m) {
  Rheology r;
  r.model = RheologyModel::Cross;
  r.zero_shear_viscosity_pa_s = mu0;
  r.infinite_shear_viscosity_pa_s = mu_inf;
  r.time_constant_s = lambda;
  r.rate_index = m;
  return wide(r);
}
Rheology carreau_yasuda(double mu0, double mu_inf, double lambda, double n, double a) {
  Rheology r;
  r.model = RheologyModel::CarreauYasuda;
  r.zero_shear_viscosity_pa_s = mu0;
  r.infinite_shear_viscosity_pa_s = mu_inf;
  r.time_constant_s = lambda;
  r.flow_index = n;
  r.yasuda_a = a;
  return wide(r);
}
Rheology herschel_bulkley(double tau_y, double k, double n, double m) {
  Rheology r;
  r.model = RheologyModel::HerschelBulkley;
  r.yield_stress_pa = tau_y;
  r.consistency_pa_sn = k;
  r.flow_index = n;
  r.regularization_s = m;
  return wide(r);
}

const std::vector<double> kRates = {1e-3, 0.1, 1.0, 47.0, 1e3, 1e5};

TEST(Rheology, ModelNames) {
  EXPECT_STREQ(cementflow::model_name(RheologyModel::Newtonian), "newtonian");
  EXPECT_STREQ(cementflow::model_name(RheologyModel::PowerLaw), "power_law");
  EXPECT_STREQ(cementflow::model_name(RheologyModel::Cross), "cross");
  EXPECT_STREQ(cementflow::model_name(RheologyModel::CarreauYasuda), "carreau_yasuda");
  EXPECT_STREQ(cementflow::model_name(RheologyModel::HerschelBulkley), "herschel_bulkley");
}

TEST(Rheology, NewtonianIsConstant) {
  const Rheology r = newtonian(100.0);
  for (double g : kRates) EXPECT_LE(rel(cementflow::viscosity(r, g), 100.0), kLawTol) << g;
}

TEST(Rheology, PowerLawClosedFormAndNewtonianLimit) {
  double worst = 0;
  for (double n : {0.2, 0.5, 0.8, 1.4}) {
    const Rheology r = power_law(300.0, n);
    for (double g : kRates) {
      const double e = rel(cementflow::viscosity(r, g), 300.0 * std::pow(g, n - 1.0));
      worst = std::fmax(worst, e);
      EXPECT_LE(e, kLawTol) << "n " << n << " rate " << g;
    }
  }
  // n = 1 is the Newtonian fluid mu = K.
  const Rheology r1 = power_law(123.0, 1.0);
  for (double g : kRates) EXPECT_LE(rel(cementflow::viscosity(r1, g), 123.0), kLawTol) << g;
  std::printf("[rheology] power law vs closed form: worst relative error %.3g\n", worst);
}

TEST(Rheology, CrossClosedFormAndLimits) {
  const double mu0 = 2000, mu_inf = 5, lambda = 3, m = 0.6;
  const Rheology r = cross(mu0, mu_inf, lambda, m);
  double worst = 0;
  for (double g : kRates) {
    const double exact = mu_inf + (mu0 - mu_inf) / (1.0 + std::pow(lambda * g, m));
    const double e = rel(cementflow::viscosity(r, g), exact);
    worst = std::fmax(worst, e);
    EXPECT_LE(e, kLawTol) << g;
  }
  std::printf("[rheology] cross vs closed form: worst relative error %.3g\n", worst);
  // gdot -> 0: mu0 - mu = (mu0 - mu_inf) x^m/(1 + x^m) <= (mu0 - mu_inf) x^m, x = lambda gdot.
  for (double x : {1e-6, 1e-9}) {
    const double bound = (mu0 - mu_inf) * std::pow(x, m) / mu0 + kLawTol;
    EXPECT_LE(rel(cementflow::viscosity(r, x / lambda), mu0), bound) << x;
  }
  // gdot -> inf: mu - mu_inf = (mu0 - mu_inf)/(1 + x^m) <= (mu0 - mu_inf) x^-m.
  for (double x : {1e8, 1e12}) {
    const double bound = (mu0 - mu_inf) * std::pow(x, -m) / mu_inf + kLawTol;
    EXPECT_LE(rel(cementflow::viscosity(r, x / lambda), mu_inf), bound) << x;
  }
}

TEST(Rheology, CarreauYasudaClosedFormAndLimits) {
  const double mu0 = 2000, mu_inf = 5, lambda = 3, n = 0.4, a = 1.5;
  const Rheology r = carreau_yasuda(mu0, mu_inf, lambda, n, a);
  double worst = 0;
  for (double g : kRates) {
    const double exact =
        mu_inf + (mu0 - mu_inf) * std::pow(1.0 + std::pow(lambda * g, a), (n - 1.0) / a);
    const double e = rel(cementflow::viscosity(r, g), exact);
    worst = std::fmax(worst, e);
    EXPECT_LE(e, kLawTol) << g;
  }
  std::printf("[rheology] carreau-yasuda vs closed form: worst relative error %.3g\n", worst);
  // gdot -> 0: Bernoulli, (1 + y)^-c >= 1 - c y, so mu0 - mu <= (mu0 - mu_inf) ((1-n)/a) x^a.
  for (double x : {1e-4, 1e-7}) {
    const double bound = (mu0 - mu_inf) * (1.0 - n) / a * std::pow(x, a) / mu0 + kLawTol;
    EXPECT_LE(rel(cementflow::viscosity(r, x / lambda), mu0), bound) << x;
  }
  // gdot -> inf: (1 + x^a)^((n-1)/a) <= x^(n-1).
  for (double x : {1e8, 1e12}) {
    const double bound = (mu0 - mu_inf) * std::pow(x, n - 1.0) / mu_inf + kLawTol;
    EXPECT_LE(rel(cementflow::viscosity(r, x / lambda), mu_inf), bound) << x;
  }
}

TEST(Rheology, HerschelBulkleyClosedFormAndLimits) {
  const double tau_y = 150, k = 300, n = 0.5, m = 0.2;
  const Rheology r = herschel_bulkley(tau_y, k, n, m);
  double worst = 0;
  for (double g : kRates) {
    const double x = m * g;
    if (x < 1e-2) continue;  // the direct 1 - e^-x below loses ~eps/x to cancellation
    const double exact = tau_y * (1.0 - std::exp(-x)) / g + k * std::pow(g, n - 1.0);
    const double e = rel(cementflow::viscosity(r, g), exact);
    worst = std::fmax(worst, e);
    EXPECT_LE(e, kLawTol * (1.0 + 1.0 / x)) << g;
  }
  std::printf("[rheology] herschel-bulkley vs closed form: worst relative error %.3g\n", worst);

  // tau_y = 0 is the power law.
  const Rheology r0 = herschel_bulkley(0.0, k, n, m);
  const Rheology pl = power_law(k, n);
  for (double g : kRates)
    EXPECT_LE(rel(cementflow::viscosity(r0, g), cementflow::viscosity(pl, g)), kLawTol) << g;

  // gdot -> 0 (n = 1): the limit tau_y m + K, reached without 0/0; at the floor 1e-12 1/s the
  // yield term is tau_y m (1 - x/2 + ...), x = m 1e-12.
  const Rheology b = herschel_bulkley(tau_y, k, 1.0, m);
  const double limit = tau_y * m + k;
  const double floor_dev = tau_y * m * (0.5 * m * cementflow::kernels::kMinShearRate) / limit;
  for (double g : {0.0, -1.0, 1e-15, 1e-12}) {
    const double mu = cementflow::viscosity(b, g);
    EXPECT_TRUE(std::isfinite(mu)) << g;
    EXPECT_LE(rel(mu, limit), floor_dev + kLawTol) << g;
  }
  // The series branch and the expm1 branch meet continuously at x = 1e-8: (1 - e^-x)/x has slope
  // -1/2, so across a step dx the value moves by dx/2 (here ~1e-17), far below kLawTol.
  const double x_switch = cementflow::kernels::kPapanastasiouSeriesBelow;
  const double below = cementflow::viscosity(b, x_switch * (1.0 - 1e-9) / m);
  const double above = cementflow::viscosity(b, x_switch * (1.0 + 1e-9) / m);
  EXPECT_LE(rel(below, above), kLawTol);
}

TEST(Rheology, ClampsAndShearRateFloor) {
  Rheology r = power_law(300.0, 0.5);
  r.min_viscosity_pa_s = 0.1;
  r.max_viscosity_pa_s = 7.5e4;
  // 300 gdot^-1/2 exceeds 7.5e4 below gdot = 1.6e-5 and falls under 0.1 above 9e6 1/s.
  EXPECT_LE(rel(cementflow::viscosity(r, 1e-8), 7.5e4), kEps);
  EXPECT_LE(rel(cementflow::viscosity(r, 1e9), 0.1), kEps);
  EXPECT_LE(rel(cementflow::viscosity(r, 1.0), 300.0), kLawTol);
  // gdot <= 0, NaN and +inf give finite, clamped values; <= 0 and NaN equal the floor value.
  const double at_floor = cementflow::viscosity(r, cementflow::kernels::kMinShearRate);
  for (double g : {0.0, -0.0, -5.0, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_LE(rel(cementflow::viscosity(r, g), at_floor), kEps) << g;
  EXPECT_LE(rel(cementflow::viscosity(r, std::numeric_limits<double>::infinity()), 0.1), kEps);
  // Every model stays inside its clamps over 24 decades of rate.
  const std::vector<Rheology> models = {newtonian(1e6),
                                        power_law(300, 0.3),
                                        power_law(300, 1.6),
                                        cross(1e5, 1e-3, 10, 0.8),
                                        carreau_yasuda(1e5, 0, 10, 0.2, 2),
                                        herschel_bulkley(1e3, 300, 0.5, 100)};
  for (Rheology m : models) {
    m.min_viscosity_pa_s = 0.1;
    m.max_viscosity_pa_s = 7.5e4;
    for (double g = 1e-12; g < 1e12; g *= 10) {
      const double mu = cementflow::viscosity(m, g);
      EXPECT_GE(mu, 0.1) << cementflow::model_name(m.model) << " " << g;
      EXPECT_LE(mu, 7.5e4) << cementflow::model_name(m.model) << " " << g;
    }
  }
}

// --- Christopher–Middleman porous closure (PHYSICS.md §L4, §M6) ---------------------------------

// H |u|^(n-1), H = (K/12)(9+3/n)^n (150 k phi)^((1-n)/2), written out independently of the code.
double cm_power_law(double K, double n, double u, double k, double phi) {
  const double H =
      K / 12.0 * std::pow(9.0 + 3.0 / n, n) * std::pow(150.0 * k * phi, (1.0 - n) / 2.0);
  return H * std::pow(std::fabs(u), n - 1.0);
}

// ((3n+1)/(4n)) K gdot^(n-1) at gdot = ((3n+1)/(4n)) 12|u|/sqrt(150 k phi).
double cm_rabinowitsch_form(double K, double n, double u, double k, double phi) {
  const double c = (3.0 * n + 1.0) / (4.0 * n);
  const double g = c * 12.0 * std::fabs(u) / std::sqrt(150.0 * k * phi);
  return c * K * std::pow(g, n - 1.0);
}

// The two CM forms differ by the order of ~8 roundings and pow calls whose exponents are at most
// ~3 in magnitude (n, (1-n)/2, n-1), each of which scales the relative error of its base: 64 eps.
constexpr double kClosureTol = 64 * kEps;

TEST(Rheology, PorousPowerLawIsChristopherMiddleman) {
  double worst_impl = 0, worst_identity = 0;
  for (double n : {0.2, 0.5, 0.8, 1.0, 1.5})
    for (double u : {1e-7, 1e-5, 2.76e-3})
      for (double k : {1e-11, 4.45e-8})
        for (double phi : {0.5, 0.9}) {
          const Rheology r = power_law(300.0, n);
          const double h_form = cm_power_law(300.0, n, u, k, phi);
          const double c_form = cm_rabinowitsch_form(300.0, n, u, k, phi);
          const double impl = cementflow::porous_viscosity(r, u, k, phi);
          worst_impl = std::fmax(worst_impl, rel(impl, h_form));
          worst_identity = std::fmax(worst_identity, rel(c_form, h_form));
          EXPECT_LE(rel(impl, h_form), kClosureTol) << n << " " << u << " " << k << " " << phi;
          EXPECT_LE(rel(c_form, h_form), kClosureTol) << n << " " << u << " " << k << " " << phi;
          // Darcy speed enters through |u| only.
          EXPECT_LE(rel(cementflow::porous_viscosity(r, -u, k, phi), impl), kEps);
        }
  std::printf(
      "[rheology] CM closure: implementation vs H form %.3g, (3n+1)/(4n) form vs H form "
      "%.3g\n",
      worst_impl, worst_identity);
  // n = 1: mu_eff = K, for any u, k, phi (PHYSICS.md §L4).
  EXPECT_LE(rel(cementflow::porous_viscosity(power_law(77.0, 1.0), 3e-4, 1e-9, 0.8), 77.0),
            kLawTol);
}

TEST(Rheology, PorousOtherModelsUseTheApparentShearRate) {
  const double u = 1e-4, k = 4.45e-8, phi = 0.9;
  const double gamma = 12.0 * u / std::sqrt(150.0 * k * phi);  // the n = 1 form
  const std::vector<Rheology> models = {newtonian(100), cross(2000, 5, 3, 0.6),
                                        carreau_yasuda(2000, 5, 3, 0.4, 1.5)};
  for (const Rheology& r : models)
    EXPECT_LE(rel(cementflow::porous_viscosity(r, u, k, phi), cementflow::viscosity(r, gamma)),
              kLawTol)
        << cementflow::model_name(r.model);
  // Herschel–Bulkley uses its n: tau_y = 0 is the power-law closure, and the yield term is the
  // n = 1 form tau_y (1 - e^(-m c Gamma))/Gamma.
  const double n = 0.5, c = (3 * n + 1) / (4 * n), tau_y = 200, m = 0.05;
  EXPECT_LE(rel(cementflow::porous_viscosity(herschel_bulkley(0, 300, n, m), u, k, phi),
                cementflow::porous_viscosity(power_law(300, n), u, k, phi)),
            kLawTol);
  const double hb = cementflow::porous_viscosity(herschel_bulkley(tau_y, 300, n, m), u, k, phi);
  const double expected =
      tau_y * (1.0 - std::exp(-m * c * gamma)) / gamma + cm_power_law(300, n, u, k, phi);
  EXPECT_LE(rel(hb, expected), kClosureTol * (1.0 + 1.0 / (m * c * gamma)));
}

TEST(Rheology, PorousEdgeCasesAreFiniteAndClamped) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Rheology r : {power_law(300, 0.5), power_law(300, 1.5), herschel_bulkley(100, 300, 0.5, 1),
                     cross(2000, 5, 3, 0.6), carreau_yasuda(2000, 5, 3, 0.4, 1.5)}) {
    r.min_viscosity_pa_s = 0.1;
    r.max_viscosity_pa_s = 7.5e4;
    for (double u : {0.0, 1e-3, -1e-3, nan})
      for (double k : {0.0, 4.45e-8})
        for (double phi : {0.0, 0.9}) {
          const double mu = cementflow::porous_viscosity(r, u, k, phi);
          EXPECT_TRUE(std::isfinite(mu)) << cementflow::model_name(r.model);
          EXPECT_GE(mu, 0.1);
          EXPECT_LE(mu, 7.5e4);
        }
  }
}

// --- presets and input checks --------------------------------------------------------------------

TEST(Rheology, PresetsAreValidAndSourced) {
  const auto& all = cementflow::presets();
  ASSERT_GE(all.size(), 5u);
  std::set<std::string> names;
  for (const auto& p : all) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    EXPECT_EQ(p.rheology.preset, p.name);
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_NE(p.source.find("PHYSICS.md"), std::string::npos) << p.name;
    // Every source opens with its PHYSICS.md confidence code.
    EXPECT_TRUE(p.source.rfind("Confidence A.", 0) == 0 ||
                p.source.rfind("Confidence B.", 0) == 0 || p.source.rfind("Confidence C.", 0) == 0)
        << p.name << ": no confidence code";
    EXPECT_NO_THROW(cementflow::validate_rheology(p.rheology, "<preset>")) << p.name;
    EXPECT_EQ(&cementflow::find_preset(p.name, "scene.json"), &p);
  }
  for (const char* required :
       {"generic_vertebroplasty", "generic_low_viscosity", "generic_high_viscosity",
        "newtonian_100", "generic_kyphoplasty_dough"})
    EXPECT_EQ(names.count(required), 1u) << required;
  // The engine default is the PHYSICS.md §L7 power law K = 300 Pa s^n, n = 0.5.
  const Rheology& vp = cementflow::find_preset("generic_vertebroplasty", "x").rheology;
  EXPECT_EQ(vp.model, RheologyModel::PowerLaw);
  EXPECT_LE(rel(vp.consistency_pa_sn, 300.0), kEps);
  EXPECT_LE(rel(vp.flow_index, 0.5), kEps);
  // Ordering the presets promise at the reference pore shear rate 1 1/s: LV < default < HV < dough.
  const auto mu_ref = [](const char* name) {
    return cementflow::viscosity(cementflow::find_preset(name, "x").rheology, 1.0);
  };
  EXPECT_LT(mu_ref("generic_low_viscosity"), mu_ref("generic_vertebroplasty"));
  EXPECT_LT(mu_ref("generic_vertebroplasty"), mu_ref("generic_high_viscosity"));
  EXPECT_LT(mu_ref("generic_high_viscosity"), mu_ref("generic_kyphoplasty_dough"));
}

TEST(Rheology, UnknownPresetIsAnInputError) {
  try {
    cementflow::find_preset("palacos_brand_x", "vp.json");
    FAIL() << "no exception";
  } catch (const cementflow::InputError& e) {
    EXPECT_EQ(e.file(), "vp.json");
    EXPECT_EQ(e.key(), "cement.preset");
    EXPECT_EQ(e.value(), "palacos_brand_x");
    for (const auto& p : cementflow::presets())
      EXPECT_NE(e.expected().find(p.name), std::string::npos) << p.name;
  }
}

TEST(Rheology, ValidateNamesTheBadKey) {
  const auto key_of = [](const Rheology& r) -> std::string {
    try {
      cementflow::validate_rheology(r, "s.json");
    } catch (const cementflow::InputError& e) {
      EXPECT_EQ(e.file(), "s.json");
      return e.key();
    }
    return "";
  };
  EXPECT_EQ(key_of(power_law(300, 0.5)), "");
  EXPECT_EQ(key_of(power_law(300, 0.0)), "cement.flow_index");
  EXPECT_EQ(key_of(power_law(-1, 0.5)), "cement.consistency_pa_sn");
  EXPECT_EQ(key_of(newtonian(std::numeric_limits<double>::quiet_NaN())), "cement.viscosity_pa_s");
  EXPECT_EQ(key_of(cross(100, 1, 1, 0)), "cement.rate_index");
  EXPECT_EQ(key_of(carreau_yasuda(100, 1, 1, 0.5, 0)), "cement.yasuda_a");
  EXPECT_EQ(key_of(herschel_bulkley(-1, 300, 0.5, 1)), "cement.yield_stress_pa");
  Rheology bad_clamps = power_law(300, 0.5);
  bad_clamps.min_viscosity_pa_s = 10;
  bad_clamps.max_viscosity_pa_s = 1;
  EXPECT_EQ(key_of(bad_clamps), "cement.max_viscosity_pa_s");
}

}  // namespace

// --- device kernels vs the host functions (STYLE.md habit 8) ------------------------------------

namespace rheology_test {
// A named free function with external linkage: CUDA extended lambdas may not live in a private
// member such as a TEST body.
void evaluate_on_device(const Kokkos::View<cementflow::kernels::RheologyParams*>& params,
                        const Kokkos::View<double*>& rate, const Kokkos::View<double*>& speed,
                        const Kokkos::View<double*>& perm, const Kokkos::View<double*>& poro,
                        const Kokkos::View<double*>& mu, const Kokkos::View<double*>& mu_porous) {
  Kokkos::parallel_for(
      "cementflow::test::rheology::evaluate", static_cast<int>(params.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        mu(i) = cementflow::kernels::viscosity(params(i), rate(i));
        mu_porous(i) = cementflow::kernels::porous_viscosity(params(i), speed(i), perm(i), poro(i));
      });
  Kokkos::fence();
}
}  // namespace rheology_test

namespace {

TEST(Rheology, DeviceKernelsMatchHostOnRandomInputs) {
  constexpr int kCount = 100000;
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto log_uniform = [&](double lo, double hi) { return lo * std::pow(hi / lo, unit(rng)); };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  std::vector<Rheology> models(kCount);
  Kokkos::View<cementflow::kernels::RheologyParams*> params("cementflow::test::rheology::params",
                                                            kCount);
  Kokkos::View<double*> rate("cementflow::test::rheology::rate", kCount);
  Kokkos::View<double*> speed("cementflow::test::rheology::speed", kCount);
  Kokkos::View<double*> perm("cementflow::test::rheology::perm", kCount);
  Kokkos::View<double*> poro("cementflow::test::rheology::poro", kCount);
  auto h_params = Kokkos::create_mirror_view(params);
  auto h_rate = Kokkos::create_mirror_view(rate);
  auto h_speed = Kokkos::create_mirror_view(speed);
  auto h_perm = Kokkos::create_mirror_view(perm);
  auto h_poro = Kokkos::create_mirror_view(poro);
  for (int i = 0; i < kCount; ++i) {
    Rheology r;
    r.model = static_cast<RheologyModel>(i % 5);
    r.viscosity_pa_s = log_uniform(1, 1e4);
    r.consistency_pa_sn = log_uniform(1, 1e4);
    r.flow_index = 0.15 + 1.35 * unit(rng);
    r.zero_shear_viscosity_pa_s = log_uniform(10, 1e5);
    r.infinite_shear_viscosity_pa_s = r.zero_shear_viscosity_pa_s * log_uniform(1e-4, 1e-1);
    r.time_constant_s = log_uniform(1e-3, 1e2);
    r.rate_index = 0.2 + 0.8 * unit(rng);
    r.yasuda_a = 0.5 + 2.5 * unit(rng);
    r.yield_stress_pa = log_uniform(1, 1e3);
    r.regularization_s = log_uniform(1e-4, 1e2);
    r.min_viscosity_pa_s = log_uniform(1e-3, 1);
    r.max_viscosity_pa_s = log_uniform(1e3, 1e6);
    models[i] = r;
    h_params(i) = cementflow::detail::to_params(r);
    h_rate(i) = log_uniform(1e-10, 1e6);
    h_speed(i) = (unit(rng) < 0.5 ? -1 : 1) * log_uniform(1e-9, 1e-1);
    h_perm(i) = log_uniform(1e-12, 1e-6);
    h_poro(i) = 0.05 + 0.95 * unit(rng);
  }
  // Planted edge cases: zero, negative, NaN and infinite rates; still fluid, solid (k = 0) and
  // empty (phi = 0) voxels; NaN speed.
  const double planted_rates[] = {0.0, -1.0, nan, inf, 1e-13, 1e-8};
  for (int j = 0; j < 6; ++j)
    for (int i = j; i < kCount; i += 997) h_rate(i) = planted_rates[j];
  for (int i = 0; i < kCount; i += 1009) h_speed(i) = 0.0;
  for (int i = 1; i < kCount; i += 1013) h_perm(i) = 0.0;
  for (int i = 2; i < kCount; i += 1019) h_poro(i) = 0.0;
  for (int i = 3; i < kCount; i += 1021) h_speed(i) = nan;
  Kokkos::deep_copy(params, h_params);
  Kokkos::deep_copy(rate, h_rate);
  Kokkos::deep_copy(speed, h_speed);
  Kokkos::deep_copy(perm, h_perm);
  Kokkos::deep_copy(poro, h_poro);

  Kokkos::View<double*> mu("cementflow::test::rheology::mu", kCount);
  Kokkos::View<double*> mu_porous("cementflow::test::rheology::mu_porous", kCount);
  rheology_test::evaluate_on_device(params, rate, speed, perm, poro, mu, mu_porous);
  auto h_mu = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), mu);
  auto h_mu_porous = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), mu_porous);

  // Same formulas on both sides. A device libm may differ from glibc by a few ulp per pow/exp
  // (CUDA: pow 2 ulp, exp 2 ulp); the longest chain (Carreau–Yasuda, porous) has 4 such calls
  // and exponents up to ~7 in magnitude that scale their input error: 4 x 2 ulp x 8 x 2 ~ 128 eps,
  // rounded up to 1e-12 (~4500 eps) for margin. On the OpenMP backend the results are identical.
  constexpr double kDeviceHostTol = 1e-12;
  double worst = 0, worst_porous = 0;
  int bad = 0;
  for (int i = 0; i < kCount; ++i) {
    const double host = cementflow::viscosity(models[i], h_rate(i));
    const double host_porous =
        cementflow::porous_viscosity(models[i], h_speed(i), h_perm(i), h_poro(i));
    const double e = rel(h_mu(i), host), ep = rel(h_mu_porous(i), host_porous);
    worst = std::fmax(worst, e);
    worst_porous = std::fmax(worst_porous, ep);
    const bool ok = std::isfinite(host) && std::isfinite(host_porous) && e <= kDeviceHostTol &&
                    ep <= kDeviceHostTol && host >= models[i].min_viscosity_pa_s &&
                    host <= models[i].max_viscosity_pa_s;
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << "i " << i << " model " << cementflow::model_name(models[i].model) << " rate "
                    << h_rate(i) << " host " << host << " device " << h_mu(i) << " porous host "
                    << host_porous << " device " << h_mu_porous(i);
  }
  EXPECT_EQ(bad, 0);
  std::printf(
      "[rheology] device (%s) vs host on %d inputs: worst relative difference %.3g "
      "(viscosity), %.3g (porous)\n",
      Kokkos::DefaultExecutionSpace::name(), kCount, worst, worst_porous);
}

}  // namespace

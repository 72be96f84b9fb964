#pragma once
// Cement rheology on the device (PHYSICS.md §L1c, §L4): the generalized-Newtonian viscosity laws
// and the Christopher–Middleman porous-media closure as pure inline functions of a small POD
// parameter struct. Formulas only: no allocation, no exceptions, no I/O (STYLE.md habit 3).
// The host functions of include/cementflow/rheology.hpp (engine/solve/rheology.cpp) call these same
// functions, so the host twin is the serial reference of the device code (STYLE.md habit 8).

#include <Kokkos_Core.hpp>

#include "kernels/kokkos_compat.hpp"

namespace cementflow::kernels {

/// Parameters of one cement model in SI units, flat so that kernels can capture it by value.
/// Built on the host from a cementflow::Rheology by detail::to_params
/// (engine/solve/rheology_params.hpp).
struct RheologyParams {
  static constexpr int newtonian = 0;
  static constexpr int power_law = 1;
  static constexpr int cross = 2;
  static constexpr int carreau_yasuda = 3;
  static constexpr int herschel_bulkley = 4;

  int model = newtonian;
  double viscosity = 100.0;      ///< Newtonian mu (Pa s)
  double consistency = 300.0;    ///< K (Pa s^n), power law and Herschel–Bulkley
  double flow_index = 0.5;       ///< n
  double mu0 = 0.0;              ///< zero-shear viscosity (Pa s), Cross and Carreau–Yasuda
  double mu_inf = 0.0;           ///< infinite-shear viscosity (Pa s)
  double lambda = 0.0;           ///< time constant (s)
  double rate_index = 0.0;       ///< Cross m
  double yasuda_a = 2.0;         ///< Carreau–Yasuda a
  double yield_stress = 0.0;     ///< Herschel–Bulkley tau_y (Pa)
  double regularization = 1e-3;  ///< Papanastasiou m (s)
  double min_viscosity = 1e-3;   ///< lower clamp (Pa s)
  double max_viscosity = 7.5e4;  ///< upper clamp (Pa s)
};

/// Shear-rate floor (1/s). Every law is evaluated at max(gamma_dot, kMinShearRate), so that
/// gamma_dot <= 0 (and NaN, which fmax discards) gives the finite, clamped low-rate limit
/// instead of a division by zero or pow(0, n - 1) = inf. 1e-12 1/s is nine decades below the
/// slowest shear in the bone (~0.1 1/s, PHYSICS.md §L1c), so it never changes a physical result.
constexpr double kMinShearRate = 1e-12;

/// Below this argument (1 - e^-x)/x is replaced by its series 1 - x/2: the next term, x^2/6, is
/// under 2e-17, below double round-off; it also makes x = 0 (m = 0) exact with no 0/0.
constexpr double kPapanastasiouSeriesBelow = 1e-8;

/// Clamps a viscosity into [min_viscosity, max_viscosity] (PHYSICS.md §L1c: eta_max is the cured
/// plateau). fmax also maps NaN to the lower bound.
KOKKOS_INLINE_FUNCTION double clamp_viscosity(const RheologyParams& p, double mu) {
  return math::fmin(math::fmax(mu, p.min_viscosity), p.max_viscosity);
}

/// The constitutive law before clamping, at a shear rate g >= kMinShearRate (1/s).
///  - Newtonian:        mu
///  - power law:        K g^(n-1)
///  - Cross:            mu_inf + (mu0 - mu_inf) / (1 + (lambda g)^m)
///  - Carreau–Yasuda:   mu_inf + (mu0 - mu_inf) (1 + (lambda g)^a)^((n-1)/a)
///  - Herschel–Bulkley, Papanastasiou-regularized (Papanastasiou 1987, J Rheol 31:385):
///                      tau_y (1 - e^(-m g)) / g + K g^(n-1)
///    written as tau_y m (1 - e^-x)/x with x = m g, using expm1 (no cancellation for small x)
///    and the series below kPapanastasiouSeriesBelow; its g -> 0 limit is tau_y m + K g^(n-1).
KOKKOS_INLINE_FUNCTION double unclamped_viscosity(const RheologyParams& p, double g) {
  namespace km = math;
  switch (p.model) {
    case RheologyParams::power_law:
      return p.consistency * km::pow(g, p.flow_index - 1.0);
    case RheologyParams::cross:
      return p.mu_inf + (p.mu0 - p.mu_inf) / (1.0 + km::pow(p.lambda * g, p.rate_index));
    case RheologyParams::carreau_yasuda:
      return p.mu_inf + (p.mu0 - p.mu_inf) * km::pow(1.0 + km::pow(p.lambda * g, p.yasuda_a),
                                                     (p.flow_index - 1.0) / p.yasuda_a);
    case RheologyParams::herschel_bulkley: {
      const double x = p.regularization * g;
      const double f = x > kPapanastasiouSeriesBelow ? -km::expm1(-x) / x : 1.0 - 0.5 * x;
      return p.yield_stress * p.regularization * f + p.consistency * km::pow(g, p.flow_index - 1.0);
    }
    default:
      return p.viscosity;
  }
}

/// Apparent viscosity (Pa s) at shear rate gamma_dot (1/s): the law at the floored rate, clamped.
KOKKOS_INLINE_FUNCTION double viscosity(const RheologyParams& p, double gamma_dot) {
  return clamp_viscosity(p, unclamped_viscosity(p, math::fmax(gamma_dot, kMinShearRate)));
}

/// Christopher–Middleman apparent (Newtonian) shear rate of a porous medium (1/s):
/// Gamma = 12 |u| / sqrt(150 k phi) (PHYSICS.md §L4, Christopher & Middleman 1965). A voxel with
/// k phi <= 0 carries no flow; it gets Gamma = 0 (the floored low-rate limit).
KOKKOS_INLINE_FUNCTION double porous_shear_rate(double u, double k, double phi) {
  const double s = 150.0 * k * phi;
  return s > 0.0 ? 12.0 * math::fabs(u) / math::sqrt(s) : 0.0;
}

/// Rabinowitsch factor c_n = (3n + 1)/(4n) used by the porous closure: the power-law index for
/// the power law and Herschel–Bulkley, 1 (the n = 1 form) for the other models.
KOKKOS_INLINE_FUNCTION double porous_rate_factor(const RheologyParams& p) {
  if (p.model == RheologyParams::power_law || p.model == RheologyParams::herschel_bulkley)
    return (3.0 * p.flow_index + 1.0) / (4.0 * p.flow_index);
  return 1.0;
}

/// Effective viscosity (Pa s) of the cement in the generalized Darcy law -grad p = (mu_eff/k) u
/// at Darcy speed |u| (m/s), permeability k (m^2) and porosity phi.
///
/// Derivation. Christopher & Middleman (1965) model the pores as a bundle of tortuous capillaries
/// (Blake–Kozeny: tortuosity 25/12, hydraulic diameter from k and phi). In one capillary the
/// Newtonian wall shear rate is Gamma = 12|u|/sqrt(150 k phi), and the effective viscosity is the
/// capillary's wall stress over that rate, mu_eff = tau_w / Gamma, with tau_w from
/// Rabinowitsch–Mooney. For a power law the wall rate is c_n Gamma, c_n = (3n+1)/(4n), so
///   mu_eff = K (c_n Gamma)^n / Gamma = c_n K (c_n Gamma)^(n-1) = c_n mu(c_n Gamma)            (*)
/// and, since (9 + 3/n)^n = 12^n c_n^n, this is exactly PHYSICS.md §L4/§M6:
///   mu_eff = H |u|^(n-1),  H = (K/12)(9 + 3/n)^n (150 k phi)^((1-n)/2).
/// (*) is what is evaluated here, so one code path serves every model:
///  - power law: c_n from its n (exact CM);
///  - Herschel–Bulkley: c_n from its n. Justification: in (*) the yield term tau_y/(c_n Gamma)
///    is multiplied back by c_n, so it stays tau_y/Gamma (the n = 1 form) whatever c_n is, while
///    the viscous term becomes exactly the CM power law. Hence tau_y = 0 gives the power-law
///    closure identically (no jump between the models), n = 1 gives the n = 1 form, and the yield
///    part equals the n = 1 form, which for a Bingham capillary (Buckingham–Reiner) is within a
///    factor 3/4..1 of the exact yield contribution (4/3 tau_y/Gamma when the plug is thin,
///    tau_y/Gamma when it fills the tube);
///  - Newtonian, Cross, Carreau–Yasuda: c_n = 1, the viscosity at Gamma (the n = 1 form; their
///    local index varies with the rate, so no single n is exact).
/// The result is clamped like viscosity().
KOKKOS_INLINE_FUNCTION double porous_viscosity(const RheologyParams& p, double u, double k,
                                               double phi) {
  const double c = porous_rate_factor(p);
  const double g = math::fmax(c * porous_shear_rate(u, k, phi), kMinShearRate);
  return clamp_viscosity(p, c * unclamped_viscosity(p, g));
}

// --- cure (PHYSICS.md §L1c, §M6) ---------------------------------------------------------------

/// Universal gas constant (J/(mol K)), CODATA 2018 exact value.
constexpr double kGasConstant = 8.314462618;
/// 0 °C in kelvin (definition).
constexpr double kZeroCelsiusK = 273.15;

/// Flat cure parameters (built from cementflow::Curing by detail::to_cure_params). Temperatures
/// in kelvin, activation energies already divided by R (kelvin).
struct CureParams {
  static constexpr int none = 0;
  static constexpr int exponential = 1;
  static constexpr int kamal_sourour = 2;

  int model = none;
  double t_ref = 295.15;      ///< K
  double e_over_r = 0.0;      ///< cure activation energy / R (K)
  double e_eta_over_r = 0.0;  ///< viscosity activation energy / R (K)
  double t0 = 300.0;          ///< reference age (s)
  double tau = 150.0;         ///< e-folding time (s)
  double k1 = 0.0, k2 = 0.0;  ///< Kamal rate constants at t_ref (1/s)
  double m = 1.0, p = 1.0;    ///< Kamal exponents
  double alpha_g = 0.8;       ///< gel degree
  double a = 1.5, b = 1.0;    ///< Castro–Macosko exponents
};

/// Arrhenius shift exp[-E/R (1/T - 1/T_ref)] of a rate at temperature T (K): 1 at T_ref, > 1
/// above it.
KOKKOS_INLINE_FUNCTION double arrhenius_shift(double e_over_r, double t_k, double t_ref) {
  return math::exp(-e_over_r * (1.0 / t_k - 1.0 / t_ref));
}

/// Kamal–Sourour rate d alpha/dt = (k1 + k2 alpha^m)(1 - alpha)^p at temperature shift `shift`
/// (alpha clamped to [0, 1], so the rate is 0 once alpha = 1).
KOKKOS_INLINE_FUNCTION double kamal_rate(const CureParams& c, double alpha, double shift) {
  namespace km = math;
  const double x = km::fmin(km::fmax(alpha, 0.0), 1.0);
  const double am = x > 0.0 ? km::pow(x, c.m) : 0.0;
  const double one_minus = 1.0 - x;
  const double tail = one_minus > 0.0 ? km::pow(one_minus, c.p) : 0.0;
  return shift * (c.k1 + c.k2 * am) * tail;
}

/// Number of RK4 steps for advancing alpha over dt at temperature shift `shift`: steps of at
/// most 0.01 / (k1 + k2) at T, the RK4 error per unit alpha then ~1e-10 (tested against the
/// closed form of the autocatalytic case, tests/unit/cure_test.cpp); at most 100000.
KOKKOS_INLINE_FUNCTION int kamal_substeps(const CureParams& c, double dt, double shift) {
  const double r = shift * (c.k1 + c.k2) * dt / 0.01;
  return r < 1.0 ? 1 : (r > 1e5 ? 100000 : static_cast<int>(r) + 1);
}

/// The cure state after dt seconds at temperature t_k (K): equivalent age + a_T dt
/// (exponential), alpha by RK4 (Kamal–Sourour), unchanged (none).
KOKKOS_INLINE_FUNCTION double advance_cure(const CureParams& c, double state, double t_k,
                                           double dt) {
  if (c.model == CureParams::none || !(dt > 0.0)) return state;
  const double shift = arrhenius_shift(c.e_over_r, t_k, c.t_ref);
  if (c.model == CureParams::exponential) return state + shift * dt;
  const int n = kamal_substeps(c, dt, shift);
  const double h = dt / n;
  double a = state;
  for (int i = 0; i < n; ++i) {
    const double r1 = kamal_rate(c, a, shift);
    const double r2 = kamal_rate(c, a + 0.5 * h * r1, shift);
    const double r3 = kamal_rate(c, a + 0.5 * h * r2, shift);
    const double r4 = kamal_rate(c, a + h * r3, shift);
    a += h * (r1 + 2.0 * r2 + 2.0 * r3 + r4) / 6.0;
  }
  return math::fmin(a, 1.0);
}

/// Largest finite factor returned past the gel point: any clamp maps it to max_viscosity.
constexpr double kGelledFactor = 1e300;

/// Factor multiplying the whole viscosity law at cure state `state` and temperature t_k (K):
///  - exponential: e^((t_eq - t0)/tau) (PHYSICS.md §L1c), exponent capped at 690 (e^690 ~ 1e300);
///  - Kamal–Sourour: Castro–Macosko (alpha_g/(alpha_g - alpha))^(A + B alpha), kGelledFactor at
///    and past alpha_g (PHYSICS.md §L1c, §M6);
/// times the viscosity Arrhenius shift exp[E_eta/R (1/T - 1/T_ref)].
KOKKOS_INLINE_FUNCTION double cure_factor(const CureParams& c, double state, double t_k) {
  namespace km = math;
  if (c.model == CureParams::none) return 1.0;
  double f = 1.0;
  if (c.model == CureParams::exponential) {
    f = km::exp(km::fmin((state - c.t0) / c.tau, 690.0));
  } else {
    const double a = km::fmax(state, 0.0);
    if (a >= c.alpha_g) return kGelledFactor;
    f = km::pow(c.alpha_g / (c.alpha_g - a), c.a + c.b * a);
  }
  return f / arrhenius_shift(c.e_eta_over_r, t_k, c.t_ref);
}

/// porous_viscosity of the law multiplied by `factor` (the cure shift): the Christopher–Middleman
/// shear rate depends on the flow only, so the factor multiplies the unclamped value.
KOKKOS_INLINE_FUNCTION double porous_viscosity(const RheologyParams& p, double u, double k,
                                               double phi, double factor) {
  const double c = porous_rate_factor(p);
  const double g = math::fmax(c * porous_shear_rate(u, k, phi), kMinShearRate);
  return clamp_viscosity(p, factor * c * unclamped_viscosity(p, g));
}

}  // namespace cementflow::kernels

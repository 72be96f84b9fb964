// The injection cannula (PHYSICS.md §M3): gauge table and the pressure drop of a
// generalized-Newtonian cement in a straight tube.
//
// Newtonian and power law have closed forms (Hagen–Poiseuille and its power-law version). Every
// other model goes through the Rabinowitsch–Mooney relation of steady laminar tube flow of a
// generalized-Newtonian fluid (Bird, Armstrong & Hassager, Dynamics of Polymeric Liquids vol. 1,
// §4.2; B):
//     Q = (pi R^3 / tau_w^3) \int_0^{tau_w} tau^2 gdot(tau) dtau,      dP = 2 L tau_w / R,
// where gdot(tau) inverts the flow curve tau(gdot) = mu(gdot) gdot. Integrating by parts
// (tau^2 dtau = d(tau^3/3)) moves the inversion out of the integral:
//     Q = (pi R^3 / 3) [ gdot_w - \int_0^{gdot_w} (tau(gdot)/tau_w)^3 dgdot ],  tau_w =
//     tau(gdot_w),
// an explicit function of the wall shear rate gdot_w that needs only the forward law. For a
// monotone flow curve it increases with gdot_w, so instead of inverting tau -> gdot at every
// quadrature node and then solving for tau_w (a nested root find), we solve Q(gdot_w) = Q once for
// gdot_w and take tau_w = tau(gdot_w); the two are the same equation. Clamping the viscosity keeps
// the flow curve monotone (the min or max of two increasing functions is increasing).
//
// Quadrature: with gdot = gdot_w e^-s the integral is gdot_w J, J = \int_0^S (tau/tau_w)^3 e^-s ds,
// 0 <= J <= 1. Its integrand is smooth in s for every law (for a power law it is e^-(3n+1)s) and
// bounded by e^-s, so cutting at S = 40 leaves at most e^-40 = 4e-18 of J. [0, S] is split into
// 160 panels of 0.25, each with 8-point Gauss–Legendre (exact for degree 15; for e^-beta s with
// beta <= 7 the panel error is ~ (0.25 beta)^16/16! < 1e-13 relative, and far less for beta ~ 2.5),
// so J carries only round-off (~N eps over N = 1280 nodes).
//
// Root: f(x) = ln Q(e^x) - ln Q_target in x = ln gdot_w, which is nearly linear (Q ~ gdot_w^(1/n)
// for a power law), solved by the Illinois variant of regula falsi (bracketed, superlinear).
// Lower bracket: J >= 0 gives Q <= pi R^3 gdot_w / 3, so gdot_w >= 3Q/(pi R^3) and f(x_lo) <= 0.

#include "cementflow/needle.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <string>

#include "cementflow/errors.hpp"
#include "engine/solve/rheology_params.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// 8-point Gauss–Legendre nodes and weights on [-1, 1] (positive half; computed by Newton on P_8 in
// 40-digit arithmetic, checked: weights sum to 2, x^14 integrated exactly).
constexpr std::array<double, 4> kGaussNodes = {0.18343464249564980784, 0.52553240991632899082,
                                               0.79666647741362672797, 0.96028985649753628717};
constexpr std::array<double, 4> kGaussWeights = {0.36268378337836199021, 0.31370664587788726907,
                                                 0.22238103445337448205, 0.10122853629037625867};

constexpr double kLogRateSpan = 40.0;  // S: e^-40 = 4e-18 of J is left out (see the header)
constexpr int kPanels = 160;           // panels of 0.25 in s

constexpr double kRootTolerance = 1e-14;  // on f = ln Q - ln Q_target, i.e. relative in Q
constexpr int kMaxRootIterations = 200;
constexpr int kMaxBracketSteps = 64;  // bracket widths 0.5, 1, 2, ... in ln gdot_w

/// Shear stress (Pa) of the clamped flow curve at rate g (1/s).
double stress(const kernels::RheologyParams& p, double g) {
  return kernels::viscosity(p, g) * g;
}

/// Flow rate (m^3/s) carried by a tube of radius R at wall shear rate gw (Rabinowitsch–Mooney,
/// integrated by parts; see the header of this file).
double flow_at_wall_rate(const kernels::RheologyParams& p, double gw, double radius) {
  const double tw = stress(p, gw);
  const double h = kLogRateSpan / kPanels;
  double j = 0.0;
  for (int panel = 0; panel < kPanels; ++panel) {
    const double mid = (panel + 0.5) * h;
    for (std::size_t q = 0; q < kGaussNodes.size(); ++q) {
      for (const double side : {-1.0, 1.0}) {
        const double s = mid + side * 0.5 * h * kGaussNodes[q];
        const double e = std::exp(-s);
        const double t = stress(p, gw * e) / tw;
        j += 0.5 * h * kGaussWeights[q] * t * t * t * e;
      }
    }
  }
  return kPi * radius * radius * radius / 3.0 * gw * (1.0 - j);
}

/// Wall shear stress (Pa) at which the tube carries `flow` (> 0).
double wall_stress_numerical(const kernels::RheologyParams& p, double flow, double radius) {
  const double log_target = std::log(flow);
  const auto f = [&](double x) {
    return std::log(flow_at_wall_rate(p, std::exp(x), radius)) - log_target;
  };
  double a = std::log(3.0 * flow / (kPi * radius * radius * radius));
  double fa = f(a);
  if (fa >= 0.0) return stress(p, std::exp(a));
  double b = a, fb = fa;
  double step = 0.5;
  int steps = 0;
  for (; steps < kMaxBracketSteps; ++steps, step *= 2.0) {
    b = a + step;
    fb = f(b);
    if (!std::isfinite(fb)) break;
    if (fb >= 0.0) break;
    a = b;
    fa = fb;
  }
  if (!(fb >= 0.0))
    throw SimulationError("cannula pressure drop: no wall shear rate carries Q = " + number(flow) +
                          " m^3/s (flow curve not monotone or out of range)");
  // Illinois: regula falsi that halves the retained end's value when the same end is kept twice.
  double x = a;
  int side = 0;
  for (int it = 0; it < kMaxRootIterations; ++it) {
    const double x_new = (fb * a - fa * b) / (fb - fa);
    const double fx = f(x_new);
    const double moved = std::fabs(x_new - x);
    x = x_new;
    if (std::fabs(fx) <= kRootTolerance || moved <= kRootTolerance * std::fmax(1.0, std::fabs(x)))
      break;
    if (fx > 0.0) {
      b = x;
      fb = fx;
      if (side == -1) fa *= 0.5;
      side = -1;
    } else {
      a = x;
      fa = fx;
      if (side == +1) fb *= 0.5;
      side = +1;
    }
  }
  return stress(p, std::exp(x));
}

void check_tube(double flow, double radius, double length) {
  if (!std::isfinite(flow))
    throw InputError("<argument>", "flow_m3_s", number(flow), "a finite flow rate");
  if (!std::isfinite(radius) || !(radius > 0))
    throw InputError("<argument>", "radius_m", number(radius), "a radius > 0 (m)");
  if (!std::isfinite(length) || !(length >= 0))
    throw InputError("<argument>", "length_m", number(length), "a length >= 0 (m)");
}

}  // namespace

double gauge_inner_diameter_mm(int gauge, const std::string& file, const std::string& key) {
  // Stubs gauge, regular-wall tubing (PHYSICS.md §M3 and §L7 gauge table, B).
  switch (gauge) {
    case 8:
      return 3.43;
    case 10:
      return 2.69;
    case 11:
      return 2.39;
    case 13:
      return 1.80;
    default:
      break;
  }
  throw InputError(file, key, std::to_string(gauge),
                   "one of the gauges 8, 10, 11, 13 (PHYSICS.md §M3), or inner_diameter_mm");
}

double cannula_wall_shear_rate(double flow_m3_s, double radius_m, double n) {
  check_tube(flow_m3_s, radius_m, 0.0);
  if (!std::isfinite(n) || !(n > 0))
    throw InputError("<argument>", "flow_index", number(n), "n > 0");
  // PHYSICS.md §M3: gdot_w = ((3n+1)/n) Q/(pi R^3); n = 1 is the Newtonian 4Q/(pi R^3).
  return (3.0 * n + 1.0) / n * flow_m3_s / (kPi * radius_m * radius_m * radius_m);
}

double cannula_pressure_drop(const Rheology& r, double flow_m3_s, double radius_m,
                             double length_m) {
  check_tube(flow_m3_s, radius_m, length_m);
  validate_rheology(r, "<argument>");
  return detail::cannula_pressure_drop(detail::to_params(r), flow_m3_s, radius_m, length_m);
}

namespace detail {

double cannula_pressure_drop(const kernels::RheologyParams& p, double flow_m3_s, double radius_m,
                             double length_m) {
  if (flow_m3_s < 0.0) return -cannula_pressure_drop(p, -flow_m3_s, radius_m, length_m);
  if (flow_m3_s == 0.0 || length_m == 0.0) return 0.0;
  const double pi_r3 = kPi * radius_m * radius_m * radius_m;
  if (p.model == kernels::RheologyParams::newtonian) {
    // Hagen–Poiseuille (PHYSICS.md §M3 with n = 1, K = mu): dP = 8 mu L Q / (pi R^4).
    const double mu = kernels::viscosity(p, 1.0);  // constant, clamped like everywhere else
    return 8.0 * mu * length_m * flow_m3_s / (pi_r3 * radius_m);
  }
  if (p.model == kernels::RheologyParams::power_law) {
    // PHYSICS.md §M3: dP = (2KL/R) [((3n+1)/n) Q/(pi R^3)]^n, exact while the clamps are idle at
    // the wall. (One clamp always bites on the centreline, where gdot -> 0: the upper one for
    // n < 1, the lower for n > 1; that core carries ~(gdot_clamp/gdot_w)^(1+3n) of Q, below
    // round-off for every preset: e.g. (1.6e-5/47)^2.5 = 5e-16 for generic_vertebroplasty.)
    const double n = p.flow_index;
    const double gw = (3.0 * n + 1.0) / n * flow_m3_s / pi_r3;
    const double mu_w = kernels::unclamped_viscosity(p, gw);
    if (mu_w >= p.min_viscosity && mu_w <= p.max_viscosity)
      return 2.0 * p.consistency * length_m / radius_m * std::pow(gw, n);
  }
  return 2.0 * length_m * wall_stress_numerical(p, flow_m3_s, radius_m) / radius_m;
}

}  // namespace detail

double cannula_pressure_drop(const Rheology& r, double flow_m3_s,
                             const std::vector<CannulaSection>& sections) {
  if (sections.empty())
    throw InputError("<cannula>", "sections", "an empty list", "at least one cannula section");
  double dp = 0;
  for (const auto& sec : sections)
    dp += cannula_pressure_drop(r, flow_m3_s, sec.radius_m, sec.length_m);
  return dp;
}

}  // namespace cementflow

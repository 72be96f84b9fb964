#pragma once
// The pressure at the needle opening (docs/PHYSICS-LEAKS.md §W, issue 15 item 0): a well model in
// the sense of Peaceman (SPE J 1978; 1983 for anisotropy), extended to a 3-D point source.
//
// The needle tip is a point source q in one voxel of the 7-point two-point-flux lattice. For a
// uniform mobility lambda and diagonal permeability k, the source voxel's pressure above the far
// field is
//   p0 = q g(k) / (h lambda),   g(k) = int_0^inf prod_a e^(-2 k_a t) I0(2 k_a t) dt,
// the lattice Green's function at the origin of  sum_a k_a (2 G_0 - G_+a - G_-a) = delta
// (Watson 1939; isotropic: g = W_s / (2k) = 0.2527310098 / k, W_s = 0.5054620197 Watson's
// integral of the simple cubic lattice). The continuum point source gives p = q / (4 pi lambda k_g
// rho), with k_g = (k1 k2 k3)^(1/3) and rho = k_g^(1/2) (sum x_a^2 / k_a)^(1/2) the isotropized
// radius; so the voxel carries the continuum pressure of the equivalent radius
//   r_eq = h / (4 pi k_g g(k))      (isotropic: h / (4 pi 0.2527) = 0.3149 h).
// The pressure at the needle's real (inner) radius r_w is then the voxel pressure plus the radial
// drop of the continuum solution between r_w and r_eq:
//   p(r_w) = p0 + int_{r_w}^{r_eq} u(r) / (k_g lambda_eff(u(r))) dr,   u = q / (4 pi r^2),
// with the tip voxel's fluid and mobility law (Newtonian: mu q/(4 pi k_g)(1/r_w - 1/r_eq);
// power law: the Christopher–Middleman form of PHYSICS.md §M6). p(r_w) converges under grid
// refinement where p0 grows as 1/h. Formulas only (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/kokkos_compat.hpp"
#include "kernels/rheology_kernels.hpp"
#include "kernels/transport_kernels.hpp"

namespace cementflow::kernels {

constexpr double kWellPi = 3.14159265358979323846;
/// G(0) of the isotropic 7-point lattice with unit spacing and unit k: W_s / 2 (Watson, Q J Math
/// 1939;10:266; Glasser & Zucker, PNAS 1977;74:1800: W_s = 0.505462019717326).
constexpr double kLatticeGreenOrigin = 0.252731009858663;

/// e^(-x) I0(x) for x >= 0 (the exponentially scaled modified Bessel function): power series
/// below 15 (terms (x/2)^(2j)/(j!)^2, 1e-16 relative), asymptotic series 1/sqrt(2 pi x) sum_j c_j
/// x^-j, c_j = c_(j-1) (2j-1)^2 / (8 j), 13 terms above (Abramowitz & Stegun 9.7.1; truncation
/// < 3e-12 relative at x = 15).
KOKKOS_INLINE_FUNCTION double scaled_bessel_i0(double x) {
  if (x < 15.0) {
    const double y = 0.25 * x * x;
    double term = 1.0, sum = 1.0;
    for (int j = 1; j < 200 && term > 1e-17 * sum; ++j) {
      term *= y / (static_cast<double>(j) * j);
      sum += term;
    }
    return sum * math::exp(-x);
  }
  double c = 1.0, sum = 1.0, xp = 1.0;
  for (int j = 1; j <= 12; ++j) {
    c *= (2.0 * j - 1.0) * (2.0 * j - 1.0) / (8.0 * j);
    xp /= x;
    sum += c * xp;
  }
  return sum / math::sqrt(2.0 * kWellPi * x);
}

/// The integrand of g for permeabilities normalised by their geometric mean.
KOKKOS_INLINE_FUNCTION double lattice_green_integrand(const double kn[3], double t) {
  return scaled_bessel_i0(2.0 * kn[0] * t) * scaled_bessel_i0(2.0 * kn[1] * t) *
         scaled_bessel_i0(2.0 * kn[2] * t);
}

/// Dimensionless g(k) k_g: the lattice Green's function at the origin for permeabilities k (any
/// positive unit), times their geometric mean; 0.2527310098... for isotropic k. Composite Simpson
/// in log t from 1e-10 to T = 1e4 / min(k/k_g) (2 x 4000 panels), the part below 1e-10 as
/// 1e-10 (the integrand is 1 there to 1e-10), and the tail above T from the asymptotic form
/// (4 pi t)^(-3/2) (1 + sum_a 1/(16 k_a t)) integrated exactly (the next term is < 1e-12 of g).
KOKKOS_INLINE_FUNCTION double lattice_green_origin(double k0, double k1, double k2) {
  const double kg = math::pow(k0 * k1 * k2, 1.0 / 3.0);
  const double kn[3] = {k0 / kg, k1 / kg, k2 / kg};
  const double kmin = math::fmin(kn[0], math::fmin(kn[1], kn[2]));
  const double t0 = 1e-10, t1 = 1e4 / kmin;
  const double u0 = math::log(t0), u1 = math::log(t1);
  const int n = 8000;  // even
  const double du = (u1 - u0) / n;
  double s = 0;
  for (int i = 0; i <= n; ++i) {
    const double t = math::exp(u0 + i * du);
    const double w = (i == 0 || i == n) ? 1.0 : ((i & 1) ? 4.0 : 2.0);
    s += w * lattice_green_integrand(kn, t) * t;
  }
  s *= du / 3.0;
  const double a = (1.0 / kn[0] + 1.0 / kn[1] + 1.0 / kn[2]) / 16.0;
  const double tail = math::pow(4.0 * kWellPi, -1.5) *
                      (2.0 / math::sqrt(t1) + (2.0 / 3.0) * a / (t1 * math::sqrt(t1)));
  return t0 + s + tail;
}

/// Equivalent radius (m) of the source voxel of size h (m): r_eq = h / (4 pi g k_g), with g k_g
/// from lattice_green_origin (0.3149 h for isotropic k).
KOKKOS_INLINE_FUNCTION double well_equivalent_radius(double h, double g_kg) {
  return h / (4.0 * kWellPi * g_kg);
}

/// Inputs of the needle-opening correction at one tip voxel.
struct WellPoint {
  double q = 0;        ///< source rate of the voxel (m^3/s)
  double r_w = 0;      ///< needle opening (inner) radius (m)
  double r_eq = 0;     ///< equivalent radius of the voxel (m)
  double k_g = 0;      ///< geometric-mean permeability (m^2)
  double phi = 0;      ///< porosity
  double s = 1;        ///< cement saturation of the tip voxel
  double cure = 1;     ///< cure factor of the tip voxel's cement
  double mu_m = 0.04;  ///< marrow viscosity (Pa s)
  double corey = 1;    ///< relative-permeability exponent
};

/// Total mobility (1/(Pa s)) of the tip voxel's fluid at Darcy speed u: the same law the engine
/// applies per voxel (Christopher–Middleman cement viscosity, PHYSICS.md §L4, times the cure
/// factor; marrow Newtonian; Corey relative permeabilities).
KOKKOS_INLINE_FUNCTION double well_mobility(const RheologyParams& r, const WellPoint& w, double u) {
  const double mu_c = porous_viscosity(r, u, w.k_g, w.phi, w.cure);
  return total_mobility(w.s, mu_c, w.mu_m, w.corey);
}

/// p(r_w) - p0 (Pa): int_{r_w}^{r_eq} u / (k_g lambda(u)) dr with u = q / (4 pi r^2); negative
/// when r_w > r_eq. Newtonian (a constant mobility): exactly q/(4 pi k_g lambda)(1/r_w - 1/r_eq).
/// Otherwise composite Simpson in ln r with 256 panels (the integrand r u / lambda is smooth in
/// ln r; relative error < 1e-8 for the power laws of the presets, tested against the
/// Christopher–Middleman closed form).
KOKKOS_INLINE_FUNCTION double well_pressure_correction(const RheologyParams& r,
                                                       const WellPoint& w) {
  if (!(w.q > 0) || !(w.r_w > 0) || !(w.r_eq > 0) || !(w.k_g > 0)) return 0.0;
  // Newtonian cement (any cure factor) or marrow only: the mobility does not depend on u.
  if (r.model == RheologyParams::newtonian || w.s <= 0.0) {
    const double lam = well_mobility(r, w, w.q / (4.0 * kWellPi * w.r_w * w.r_w));
    return w.q / (4.0 * kWellPi * w.k_g * lam) * (1.0 / w.r_w - 1.0 / w.r_eq);
  }
  const int n = 256;
  const double a = math::log(w.r_w), b = math::log(w.r_eq);
  const double dl = (b - a) / n;
  double s = 0;
  for (int i = 0; i <= n; ++i) {
    const double rr = math::exp(a + i * dl);
    const double u = w.q / (4.0 * kWellPi * rr * rr);
    const double wt = (i == 0 || i == n) ? 1.0 : ((i & 1) ? 4.0 : 2.0);
    s += wt * rr * u / (w.k_g * well_mobility(r, w, u));
  }
  return s * dl / 3.0;
}

}  // namespace cementflow::kernels

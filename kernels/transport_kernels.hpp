#pragma once
// Cement saturation transport  phi ds/dt + div(f_c(s) u) = q_c  (PHYSICS.md §M2), first-order
// upwind in the face flux, IMPLICIT in time per cell. The implicit cell equation
//   phi V (s - s0) / dt + f(s) Out = q_c + sum_in F_in f(s_upwind)
// is monotone in s and has one root in [0, 1]; the neighbours' s come from the previous sweep
// (nonlinear Jacobi), which converges in as many sweeps as cells the front crosses in one step.
// Formulas only (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/grid_kernels.hpp"
#include "kernels/kokkos_compat.hpp"
#include "kernels/pressure_kernels.hpp"

namespace cementflow::kernels {

/// Corey relative permeability s^a (a = 1: linear, PHYSICS.md §M2 default).
KOKKOS_INLINE_FUNCTION double rel_perm(double s, double a) {
  const double c = s < 0 ? 0.0 : (s > 1 ? 1.0 : s);
  return a == 1.0 ? c : (a == 2.0 ? c * c : math::pow(c, a));
}

/// Total mobility lambda_t = kr_c(s)/mu_c + kr_m(1-s)/mu_m (1/(Pa s)).
KOKKOS_INLINE_FUNCTION double total_mobility(double s, double mu_c, double mu_m, double a) {
  return rel_perm(s, a) / mu_c + rel_perm(1.0 - s, a) / mu_m;
}

/// Cement fractional flow f_c = lambda_c / lambda_t.
KOKKOS_INLINE_FUNCTION double fractional_flow(double s, double mu_c, double mu_m, double a) {
  const double lc = rel_perm(s, a) / mu_c;
  const double lm = rel_perm(1.0 - s, a) / mu_m;
  const double t = lc + lm;
  return t > 0 ? lc / t : 0.0;
}

/// d f_c / d s, for the safeguarded Newton iteration of solve_cell.
KOKKOS_INLINE_FUNCTION double fractional_flow_slope(double s, double mu_c, double mu_m, double a) {
  const double c = s < 0 ? 0.0 : (s > 1 ? 1.0 : s);
  const double lc = rel_perm(c, a) / mu_c, lm = rel_perm(1.0 - c, a) / mu_m;
  const double dlc = (a == 1.0 ? 1.0 : (a == 2.0 ? 2.0 * c : a * math::pow(c, a - 1.0))) / mu_c;
  const double dlm =
      -(a == 1.0 ? 1.0 : (a == 2.0 ? 2.0 * (1.0 - c) : a * math::pow(1.0 - c, a - 1.0))) / mu_m;
  const double t = lc + lm;
  return t > 0 ? (dlc * lm - lc * dlm) / (t * t) : 0.0;
}

/// Root in [0,1] of  cap (s - s0) + f(s) out = in_c. The left side g is increasing in s (f is),
/// so a Newton iteration safeguarded by bisection on the bracket [lo, hi] converges; it stops when
/// the bracket or the step is below 1e-15 (double round-off of s ~ 1).
KOKKOS_INLINE_FUNCTION double solve_cell(double cap, double s0, double in_c, double out,
                                         double mu_c, double mu_m, double a) {
  auto g = [&](double s) {
    return cap * (s - s0) + fractional_flow(s, mu_c, mu_m, a) * out - in_c;
  };
  if (g(0.0) >= 0) return 0.0;
  if (g(1.0) <= 0) return 1.0;
  double lo = 0.0, hi = 1.0;
  double s = s0 > 0 && s0 < 1 ? s0 : 0.5;
  for (int it = 0; it < 100; ++it) {
    const double gs = g(s);
    if (gs > 0)
      hi = s;
    else
      lo = s;
    const double dg = cap + fractional_flow_slope(s, mu_c, mu_m, a) * out;
    double next = dg > 0 ? s - gs / dg : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    const double step = next > s ? next - s : s - next;
    s = next;
    if (step < 1e-15 || hi - lo < 1e-15) break;
  }
  return s;
}

/// Flux out of voxel i across direction d (m^3/s; negative = inflow) for pressures p.
template <class FloatView, class DoubleView>
KOKKOS_INLINE_FUNCTION double face_flux(const FloatView& tx, const FloatView& ty,
                                        const FloatView& tz, const DoubleView& p, int i, int j,
                                        int d) {
  return face_t(tx, ty, tz, i, j, d) * (p(i) - p(j));
}

/// In/out flows of voxel i: cement inflow (sources plus upwind inflows weighted by the
/// neighbours' fractional flow at saturations `s`), total outflow (faces and outer boundary).
struct CellFlows {
  double in_c = 0;
  double in_total = 0;
  double out = 0;
  double out_boundary = 0;
  double out_closed = 0;
};

/// The gate view of a run without leak gateways.
struct NoGates {
  KOKKOS_INLINE_FUNCTION unsigned extent(int) const { return 0; }
  KOKKOS_INLINE_FUNCTION int operator()(int) const { return 0; }
};

/// Whether the face of voxel i in direction d (neighbour j) is a closed leak gateway: closed to
/// the cement phase, open to marrow (engine/solve/gateway.cpp, docs/PHYSICS-LEAKS.md §G). `gate`
/// holds per bone voxel the 6-bit mask of its closed gateway faces; an empty view means no
/// gateways.
template <class GateView>
KOKKOS_INLINE_FUNCTION bool gate_closed(const GateView& gate, int i, int j, int d) {
  if (gate.extent(0) == 0) return false;
  return ((gate(i) >> d) & 1) != 0 || ((gate(j) >> (d ^ 1)) & 1) != 0;
}

/// Cement out-flow `out` counts only the faces open to cement; a closed gateway face's out-flow
/// (marrow only) is in `out_closed`, and no cement enters through one.
template <class NbView, class FloatView, class DoubleView, class SatView, class GateView>
KOKKOS_INLINE_FUNCTION CellFlows cell_flows(const NbView& nb, const FloatView& tx,
                                            const FloatView& ty, const FloatView& tz,
                                            const FloatView& tb, const DoubleView& p,
                                            const DoubleView& q, const SatView& s,
                                            const DoubleView& mu_c, double mu_m, double a, int i,
                                            const GateView& gate) {
  CellFlows c;
  const int b = i / kBlockVoxels, v = i % kBlockVoxels;
  c.in_c = q(i);
  c.in_total = q(i);
  for (int d = 0; d < 6; ++d) {
    const int j = neighbour_voxel(nb, b, v, d);
    if (j < 0) continue;
    const double f = face_flux(tx, ty, tz, p, i, j, d);
    const bool closed = gate_closed(gate, i, j, d);
    if (f > 0) {
      if (closed)
        c.out_closed += f;
      else
        c.out += f;
    } else if (f < 0) {
      c.in_total -= f;
      if (s(j) > 0 && !closed) c.in_c -= f * fractional_flow(s(j), mu_c(j), mu_m, a);
    }
  }
  // Outer boundary at p = 0: outflow when p > 0; inflow from outside brings marrow only.
  const double fb = static_cast<double>(tb(i)) * p(i);
  if (fb > 0) {
    c.out += fb;
    c.out_boundary = fb;
  } else {
    c.in_total -= fb;
  }
  return c;
}

/// Cure state (or any property carried by the cement) of voxel i after an implicit upwind step,
/// by volume-weighted mixing: the cement volume phi V s_old of state c_old already in the cell,
/// plus the cement that flowed in during dt (sources of state c_in, upwind faces of the
/// neighbours' state c_it(j)), mixed to one state. With the conservative saturation update
///   phi V (s_new - s_old)/dt = in_c - f_i out,
/// the cement-weighted state W = s c then obeys the same upwind balance (outflow carries the new
/// cell state), phi V (s_new c_new - s_old c_old)/dt = sum_in c_j F_j f_j + q c_in - f_i out
/// c_new, i.e.
///   c_new = (cap s_old c_old + q c_in + sum_in c_j F_j f_j) / (cap s_old + in_c),   cap = phi
///   V/dt,
/// a convex combination (no new extrema). The neighbours' states come from the previous sweep
/// (Jacobi), as for the saturation; at convergence W is conserved face by face. A cell without
/// old or incoming cement keeps c_old.
template <class NbView, class FloatView, class DoubleView, class SatView, class StateView,
          class GateView>
KOKKOS_INLINE_FUNCTION double mixed_state(const NbView& nb, const FloatView& tx,
                                          const FloatView& ty, const FloatView& tz,
                                          const DoubleView& p, const DoubleView& q,
                                          const SatView& s_it, const DoubleView& mu_c, double mu_m,
                                          double a, int i, double cap, double s_old, double c_old,
                                          double c_in, const StateView& c_it,
                                          const GateView& gate) {
  const int b = i / kBlockVoxels, v = i % kBlockVoxels;
  double num = cap * s_old * c_old + q(i) * c_in;
  double den = cap * s_old + q(i);
  for (int d = 0; d < 6; ++d) {
    const int j = neighbour_voxel(nb, b, v, d);
    if (j < 0 || !(s_it(j) > 0) || gate_closed(gate, i, j, d)) continue;
    const double f = face_flux(tx, ty, tz, p, i, j, d);
    if (f < 0) {
      const double w = -f * fractional_flow(s_it(j), mu_c(j), mu_m, a);
      num += w * c_it(j);
      den += w;
    }
  }
  return den > 0 ? num / den : c_old;
}

/// cell_flows without leak gateways.
template <class NbView, class FloatView, class DoubleView, class SatView>
KOKKOS_INLINE_FUNCTION CellFlows cell_flows(const NbView& nb, const FloatView& tx,
                                            const FloatView& ty, const FloatView& tz,
                                            const FloatView& tb, const DoubleView& p,
                                            const DoubleView& q, const SatView& s,
                                            const DoubleView& mu_c, double mu_m, double a, int i) {
  return cell_flows(nb, tx, ty, tz, tb, p, q, s, mu_c, mu_m, a, i, NoGates{});
}

/// mixed_state without leak gateways.
template <class NbView, class FloatView, class DoubleView, class SatView, class StateView>
KOKKOS_INLINE_FUNCTION double mixed_state(const NbView& nb, const FloatView& tx,
                                          const FloatView& ty, const FloatView& tz,
                                          const DoubleView& p, const DoubleView& q,
                                          const SatView& s_it, const DoubleView& mu_c, double mu_m,
                                          double a, int i, double cap, double s_old, double c_old,
                                          double c_in, const StateView& c_it) {
  return mixed_state(nb, tx, ty, tz, p, q, s_it, mu_c, mu_m, a, i, cap, s_old, c_old, c_in, c_it,
                     NoGates{});
}

}  // namespace cementflow::kernels

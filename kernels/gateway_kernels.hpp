#pragma once
// Leak gateways on the device (docs/PHYSICS-LEAKS.md §G): the faces between a bone voxel and a
// leak-destination voxel. While closed, such a face carries marrow only: its transmissibility uses
// the bone side's marrow mobility kr_m(1 - s)/mu_m (so it closes completely once the bone cell is
// full of cement), and the transport lets no cement across (kernels::gate_closed in
// transport_kernels.hpp). It is open to the cement while the bone cell holds cement (s >= s_open)
// and the pressure across the face exceeds the entry pressure dp_e = 2 tau_y L / a of its gateway,
// with the yield stress of the cell's cement at its cure state; an open face carries the
// Buckingham–Reiner fraction of its Darcy conductance (the passage is a Bingham tube), and closes
// again when the pressure falls back below dp_e (the plug stops). Formulas only (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/grid_kernels.hpp"
#include "kernels/pressure_kernels.hpp"
#include "kernels/transport_kernels.hpp"

namespace cementflow::kernels {

/// Gateway class of a leak route code (LeakRoute; -1 = none counts as soft tissue): 0 vein
/// (basivertebral, segmental), 1 endplate (disc), 2 breach (cortical breach, canal, soft tissue).
KOKKOS_INLINE_FUNCTION int gateway_class(int route) {
  return (route == 0 || route == 1) ? 0 : (route == 3 ? 1 : 2);
}

/// Entry pressure (Pa) = tau_y * factor, factor = 2 L / a of the gateway class.
struct GatewayFactors {
  double factor[3] = {0, 0, 0};
};

/// Closed-face transmissibility: harmonic mean of the bone side's marrow conductance
/// k_i kr_m(1 - s_i)/mu_m and the destination's k_j lambda_j (the same two-point form as the
/// open face, kernels::face_transmissibility).
KOKKOS_INLINE_FUNCTION double closed_gateway_transmissibility(double h, double k_i, double s_i,
                                                              double mu_m, double corey, double k_j,
                                                              double lambda_j) {
  return face_transmissibility(h, k_i * rel_perm(1.0 - s_i, corey) / mu_m, k_j * lambda_j);
}

/// Buckingham–Reiner: the flow of a Bingham fluid through a tube under a pressure drop dp, as a
/// fraction of the Newtonian (Poiseuille) flow of the same plastic viscosity,
///   Q / Q_N = 1 - 4/3 x + 1/3 x^4,   x = dp_e / dp = (2 tau_y L / a) / dp <= 1,
/// and 0 below the entry pressure (x >= 1: the plug does not move). Buckingham 1921, Reiner 1926;
/// Bird, Dai & Yarusso, Rev Chem Eng 1983 (B). Continuous at x = 1 with zero slope: the flow
/// starts as (1 - x)^2, so a passage just above its entry pressure carries little.
KOKKOS_INLINE_FUNCTION double bingham_tube_fraction(double x) {
  if (!(x < 1)) return 0.0;
  if (!(x > 0)) return 1.0;
  const double x2 = x * x;
  return 1.0 - 4.0 / 3.0 * x + x2 * x2 / 3.0;
}

/// The open fraction of a gateway face: 0 while the bone cell holds less than s_open of cement or
/// the pressure drop p_i - p_j is at most the entry pressure, else the Buckingham–Reiner fraction.
KOKKOS_INLINE_FUNCTION double gateway_fraction(double s_i, double s_open, double p_i, double p_j,
                                               double entry_pa) {
  const double dp = p_i - p_j;
  if (!(s_i >= s_open) || !(dp > entry_pa) || !(dp > 0)) return 0.0;
  return bingham_tube_fraction(entry_pa / dp);
}

/// Transmissibility of a gateway face open by `fraction` f: the marrow-only (closed) value plus
/// f of what the open Darcy face adds to it.
KOKKOS_INLINE_FUNCTION double gateway_transmissibility(double t_closed, double t_open,
                                                       double fraction) {
  return t_closed + fraction * (t_open > t_closed ? t_open - t_closed : 0.0);
}

}  // namespace cementflow::kernels

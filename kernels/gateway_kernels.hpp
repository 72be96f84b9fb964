#pragma once
// Leak gateways on the device (docs/PHYSICS-LEAKS.md §G): the faces between a bone voxel and a
// leak-destination voxel. While closed, such a face carries marrow only: its transmissibility uses
// the bone side's marrow mobility kr_m(1 - s)/mu_m (so it closes completely once the bone cell is
// full of cement), and the transport lets no cement across (kernels::gate_closed in
// transport_kernels.hpp). It opens, for good, when the bone cell holds cement (s >= s_open) and
// the pressure across the face exceeds the entry pressure 2 tau_y L / a of its gateway, with the
// yield stress of the cell's cement at its cure state. Formulas only (STYLE.md habit 3).

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

/// Whether a closed gateway face opens: cement present (s_i >= s_open) and p_i - p_j >= tau dp.
KOKKOS_INLINE_FUNCTION bool gateway_opens(double s_i, double s_open, double p_i, double p_j,
                                          double entry_pa) {
  return s_i >= s_open && p_i - p_j >= entry_pa;
}

}  // namespace cementflow::kernels

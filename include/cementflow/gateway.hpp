#pragma once
/// @file gateway.hpp
/// @brief Leak gateways (docs/PHYSICS-LEAKS.md §G): the narrow passage between the trabecular
///        pore space and a leak destination, which a yield-stress cement enters only above the
///        entry pressure dp = 2 tau_y L / a (a passage of opening a and length L: tube radius or
///        slit aperture; force balance on the plug, Bird, Dai & Yarusso, Rev Chem Eng 1983).

namespace cementflow {

/// One class of gateway: opening a (a tube's radius or a slit's aperture) and length L, in mm.
struct Gateway {
  double opening_mm = 1.0;
  double length_mm = 1.0;
};

/// The gateway geometry per leak route. Defaults: anatomical estimates, confidence C (see
/// docs/PHYSICS-LEAKS.md §G for the reasoning; replace when measured): a vein tributary or
/// canal-wall opening into the basivertebral / segmental venous channels (a = 0.2 mm, L = 1 mm:
/// dp = 10 tau_y), a crack or pore of the endplate into the disc (a = 0.1 mm, L = 0.5 mm:
/// dp = 10 tau_y), and a breach of the cortical shell into soft tissue or the canal (a = 1 mm,
/// L = 0.5 mm: dp = tau_y).
struct LeakGateways {
  Gateway vein{0.2, 1.0};      ///< routes basivertebral_vein, segmental_vein
  Gateway endplate{0.1, 0.5};  ///< route endplate_disc
  Gateway breach{1.0, 0.5};    ///< routes cortical_breach, spinal_canal, soft_tissue
};

/// Entry pressure (Pa) of a gateway for a cement of yield stress tau_y (Pa): 2 tau_y L / a.
inline double gateway_entry_pressure_pa(double tau_y_pa, const Gateway& g) {
  return g.opening_mm > 0 ? 2.0 * tau_y_pa * g.length_mm / g.opening_mm : 0.0;
}

}  // namespace cementflow

#pragma once
/// @file needle.hpp
/// @brief The injection cannula (PHYSICS.md §M3): gauge table and Hagen–Poiseuille pressure drop.

#include <string>
#include <vector>

#include "cementflow/rheology.hpp"

namespace cementflow {

/// Inner diameter (mm) of a Stubs gauge (PHYSICS.md §M3: 8G 3.43, 10G 2.69, 11G 2.39, 13G 1.80).
/// Throws InputError (file `file`, key `key`) for a gauge outside the table.
double gauge_inner_diameter_mm(int gauge, const std::string& file = "<scene>",
                               const std::string& key = "injection.needle.gauge");

/// Wall shear rate (1/s) of a power-law fluid in a tube: ((3n+1)/n) Q/(pi R^3).
/// Throws InputError for R <= 0, n <= 0 or a non-finite Q.
double cannula_wall_shear_rate(double flow_m3_s, double radius_m, double n);

/// Pressure drop (Pa) along a cannula of radius R and length L at flow Q (Q < 0 gives -dP(|Q|)).
/// Newtonian and power law: exact, dP = (2KL/R) [((3n+1)/n) Q/(pi R^3)]^n (Newtonian: n = 1,
/// K = mu), as long as the viscosity clamps are not active at the wall.
/// Other models (and a clamped power law): numerical Rabinowitsch–Mooney on the clamped flow curve
/// tau(gamma_dot) = mu(gamma_dot) gamma_dot: the wall shear rate that carries Q, then
/// dP = 2 L tau_w / R (method in engine/solve/needle.cpp).
/// Throws InputError for R <= 0, L < 0, non-finite arguments or invalid rheology parameters;
/// SimulationError if no wall shear rate carries Q (a flow curve that is not monotone).
double cannula_pressure_drop(const Rheology& r, double flow_m3_s, double radius_m, double length_m);

/// One straight section of a cannula.
struct CannulaSection {
  double radius_m = 1.195e-3;
  double length_m = 0.12;
};

/// Pressure drop (Pa) of a stepped cannula (PHYSICS.md §M3: "stepped cannulas (two radii) sum the
/// sections"): the sum of cannula_pressure_drop over the sections, each a fully developed tube
/// flow (the entrance length at the step, ~0.06 Re D, is negligible at Re << 1). Throws like
/// cannula_pressure_drop, and InputError for an empty list.
double cannula_pressure_drop(const Rheology& r, double flow_m3_s,
                             const std::vector<CannulaSection>& sections);

}  // namespace cementflow

#pragma once
// Internal: the flat device parameters of a cement model (kernels/rheology_kernels.hpp) built from
// the public cementflow::Rheology. Kokkos translation units only (the kernel header includes
// Kokkos).

#include "cementflow/rheology.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow::detail {

/// The device twin of `r`: same values, SI units, the model as an int code.
kernels::RheologyParams to_params(const Rheology& r);

/// The device twin of the cure settings `c` (kelvin, E/R).
kernels::CureParams to_cure_params(const Curing& c);

/// The device twin of shifted_rheology(r, factor) from r's twin `p`: every viscosity and stress
/// scale multiplied by `factor` (kGelledFactor when it is not finite). No validation: `p` comes
/// from a checked Rheology.
kernels::RheologyParams shifted_params(const kernels::RheologyParams& p, double factor);

/// cementflow::cannula_pressure_drop for checked, converted inputs: the rheology as its device
/// twin (converted once per run, not re-validated per call). Throws SimulationError if no wall
/// shear rate carries the flow.
double cannula_pressure_drop(const kernels::RheologyParams& p, double flow_m3_s, double radius_m,
                             double length_m);

/// Celsius to kelvin.
inline double kelvin(double celsius) {
  return celsius + kernels::kZeroCelsiusK;
}

/// A scene's cement converted once per run (the run trusts its checked inputs): the law and the
/// cure settings as device parameters.
struct CementParams {
  kernels::RheologyParams law;
  kernels::CureParams cure;
  bool newtonian = true;  ///< viscosity independent of the shear rate
  bool curing = false;    ///< a cure model is on
  double t_body_k = 0;    ///< bone temperature (K)
};

inline CementParams cement_params(const Rheology& r) {
  CementParams c;
  c.law = to_params(r);
  c.cure = to_cure_params(r.curing);
  c.newtonian = r.model == RheologyModel::Newtonian;
  c.curing = r.curing.model != CureModel::None;
  c.t_body_k = kelvin(r.curing.body_temperature_c);
  return c;
}

}  // namespace cementflow::detail

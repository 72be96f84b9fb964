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

/// Celsius to kelvin.
inline double kelvin(double celsius) {
  return celsius + kernels::kZeroCelsiusK;
}

}  // namespace cementflow::detail

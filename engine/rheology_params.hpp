#pragma once
// Internal: the flat device parameters of a cement model (kernels/rheology_kernels.hpp) built from
// the public cementflow::Rheology. Kokkos translation units only (the kernel header includes
// Kokkos).

#include "cementflow/rheology.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow::detail {

/// The device twin of `r`: same values, SI units, the model as an int code.
kernels::RheologyParams to_params(const Rheology& r);

}  // namespace cementflow::detail

#pragma once
// Total mobility per voxel, the coefficient of the pressure equation (PHYSICS.md §M2):
// lambda_t = kr_c(s)/mu_c + kr_m(1-s)/mu_m with Corey relative permeabilities
// (kernels::total_mobility). Formula only (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/transport_kernels.hpp"

namespace cementflow::kernels {

/// lambda(i) = total_mobility(s(i), mu_c(i), mu_m, corey) over all voxels.
template <class DoubleView>
struct TotalMobility {
  DoubleView s, mu_c, lambda;
  double mu_m, corey;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    lambda(i) = total_mobility(s(i), mu_c(i), mu_m, corey);
  }
};

}  // namespace cementflow::kernels

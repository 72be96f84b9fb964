#pragma once
// Ageing of the cement in the bone (PHYSICS.md §L1c): the cure state of every voxel that holds
// cement advances by dt at the bone temperature (kernels::advance_cure). Formula only.

#include <Kokkos_Core.hpp>

#include "kernels/rheology_kernels.hpp"

namespace cementflow::kernels {

/// cure_state(i) advanced by dt at t_body (K) where s(i) > 0.
template <class DoubleView>
struct AgeCement {
  DoubleView s, cure_state;
  CureParams cure;
  double t_body, dt;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    if (s(i) > 0) cure_state(i) = advance_cure(cure, cure_state(i), t_body, dt);
  }
};

}  // namespace cementflow::kernels

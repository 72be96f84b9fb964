#pragma once
// Cement viscosity in the pores (PHYSICS.md §L4 porous closure, §L1c cure shift): the law at the
// Christopher–Middleman shear rate of the voxel's Darcy speed, with the geometric-mean
// permeability as the closure's k, times the cure factor of the voxel's cement. Formulas only
// (STYLE.md habit 3); the laws are in kernels/rheology_kernels.hpp.

#include <Kokkos_Core.hpp>

#include "kernels/kokkos_compat.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow::kernels {

/// k_geo(i) = (kx ky kz)^(1/3), the scalar k of the Christopher–Middleman closure (§L4).
template <class FloatView, class DoubleView>
struct GeometricMeanPermeability {
  FloatView kx, ky, kz;
  DoubleView k_geo;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    k_geo(i) = math::pow(
        static_cast<double>(kx(i)) * static_cast<double>(ky(i)) * static_cast<double>(kz(i)),
        1.0 / 3.0);
  }
};

/// One Picard update of the cement viscosity mu(i) in every pore voxel at the bone temperature
/// t_body (K); the cure state is the voxel's where there is cement, the fresh cement's
/// (`fresh_state`) elsewhere. Reduces (max) the relative change where there is cement or a source,
/// the Picard convergence measure.
template <class IntView, class FloatView, class DoubleView>
struct PicardViscosity {
  IntView material;
  FloatView porosity;
  DoubleView k_geo, s, q, speed, cure_state, mu;
  RheologyParams rheo;
  CureParams cure;
  double t_body, fresh_state;

  KOKKOS_INLINE_FUNCTION void operator()(const int i, double& max_change) const {
    if (material(i) < 0 || porosity(i) <= 0) return;
    const double kg = k_geo(i);
    const double f = cure.model == CureParams::none
                         ? 1.0
                         : cure_factor(cure, s(i) > 0 ? cure_state(i) : fresh_state, t_body);
    const double mn = porous_viscosity(rheo, speed(i), kg, porosity(i), f);
    if (s(i) > 0 || q(i) > 0) {
      const double c = math::fabs(mn - mu(i)) / mu(i);
      if (c > max_change) max_change = c;
    }
    mu(i) = mn;
  }
};

}  // namespace cementflow::kernels

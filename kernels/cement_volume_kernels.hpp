#pragma once
// The cement volume tally (PHYSICS.md §M2, §L5): cement volume per voxel (pore cement plus what
// left through the outer boundary there) and its sums over the bone and over each leak route.
// Formulas only (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/pressure_kernels.hpp"

namespace cementflow::kernels {

/// Route code of every voxel for the tally: the leak route of a leak-destination voxel (route
/// `unassigned_route` when it has none), `bone_code` for bone, -1 outside.
template <class IntView>
struct RouteOrBone {
  IntView material, route, route_of;
  int unassigned_route, bone_code;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int m = material(i);
    route_of(i) =
        m < 0 ? -1
              : (leak_destination(m) ? (route(i) >= 0 ? route(i) : unassigned_route) : bone_code);
  }
};

/// pore(i) = phi V s + boundary_out: the cement volume (m^3) held by or leaked through voxel i.
template <class IntView, class FloatView, class DoubleView>
struct CementVolume {
  IntView material;
  FloatView porosity;
  DoubleView s, boundary_out, pore;
  double voxel_volume;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    pore(i) = material(i) >= 0
                  ? static_cast<double>(porosity(i)) * voxel_volume * s(i) + boundary_out(i)
                  : 0.0;
  }
};

/// Sum of x(i) over the voxels with key(i) == want.
template <class DoubleView, class IntView>
struct SumWhere {
  DoubleView x;
  IntView key;
  int want;

  KOKKOS_INLINE_FUNCTION void operator()(const int i, double& acc) const {
    if (key(i) == want) acc += x(i);
  }
};

}  // namespace cementflow::kernels

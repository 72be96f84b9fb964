#pragma once
// The pressure equation  div(k lambda_t grad p) = -q  (PHYSICS.md §M2) as a matrix-free operator on
// the block grid: two-point fluxes with the harmonic mean of the voxels' conductances k*lambda_t
// along the face normal (series resistance of two half cells), Dirichlet p = 0 (gauge venous/tissue
// pressure) on the outer faces of leak-destination voxels, at half a voxel's distance.
// Formulas only: no allocation, no I/O (STYLE.md habit 3).

#include <Kokkos_Core.hpp>

#include "kernels/grid_kernels.hpp"

namespace cementflow::kernels {

/// Material codes that are leak destinations (SPEC.md §2: 0, 4, 5, 6).
KOKKOS_INLINE_FUNCTION bool leak_destination(int m) {
  return m == 0 || m == 4 || m == 5 || m == 6;
}

/// Harmonic-mean transmissibility of a face of area h^2 between centres h apart:
/// T = h^2 / h * 2 c_i c_j / (c_i + c_j), c = k * lambda (m^2 / (Pa s)).
KOKKOS_INLINE_FUNCTION double face_transmissibility(double h, double ci, double cj) {
  const double s = ci + cj;
  return s > 0 ? 2.0 * h * ci * cj / s : 0.0;
}

/// Assembles the +x/+y/+z face transmissibilities and the Dirichlet boundary coefficient of every
/// voxel from the permeabilities and the total mobility lambda_t (1/(Pa s)) per voxel.
template <class IntView, class NbView, class FloatView, class DoubleView>
struct AssembleTransmissibility {
  IntView material;
  NbView nb;
  FloatView kx, ky, kz;
  DoubleView lambda;  // total mobility per voxel
  FloatView tx, ty, tz, tb;
  double h;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int b = i / kBlockVoxels, v = i % kBlockVoxels;
    const int mi = material(i);
    float t[3] = {0, 0, 0};
    float boundary = 0;
    if (mi >= 0) {
      const double k[3] = {kx(i), ky(i), kz(i)};
      for (int a = 0; a < 3; ++a) {
        const int j = neighbour_voxel(nb, b, v, 2 * a + 1);
        if (j >= 0 && material(j) >= 0) {
          const double kj = a == 0 ? kx(j) : (a == 1 ? ky(j) : kz(j));
          t[a] = static_cast<float>(face_transmissibility(h, k[a] * lambda(i), kj * lambda(j)));
        }
      }
      if (leak_destination(mi)) {
        // Outer faces: the neighbour is outside the model. Half-cell distance: 2 h k lambda.
        double tsum = 0;
        for (int d = 0; d < 6; ++d) {
          const int j = neighbour_voxel(nb, b, v, d);
          if (j < 0 || material(j) < 0) tsum += 2.0 * h * k[dir_axis(d)] * lambda(i);
        }
        boundary = static_cast<float>(tsum);
      }
    }
    tx(i) = t[0];
    ty(i) = t[1];
    tz(i) = t[2];
    tb(i) = boundary;
  }
};

/// Transmissibility of the face of voxel i in direction d; minus faces are stored at the neighbour.
template <class FloatView>
KOKKOS_INLINE_FUNCTION double face_t(const FloatView& tx, const FloatView& ty, const FloatView& tz,
                                     int i, int j, int d) {
  const int owner = (d & 1) ? i : j;
  const int a = dir_axis(d);
  return a == 0 ? tx(owner) : (a == 1 ? ty(owner) : tz(owner));
}

/// diag_i = tb_i + sum of the six face transmissibilities (1 on inactive voxels, which keeps the
/// padded operator SPD without coupling them).
template <class IntView, class NbView, class FloatView, class DoubleView>
struct AssembleDiagonal {
  IntView material;
  NbView nb;
  FloatView tx, ty, tz, tb;
  DoubleView diag;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    if (material(i) < 0) {
      diag(i) = 1.0;
      return;
    }
    const int b = i / kBlockVoxels, v = i % kBlockVoxels;
    double s = tb(i);
    for (int d = 0; d < 6; ++d) {
      const int j = neighbour_voxel(nb, b, v, d);
      if (j >= 0) s += face_t(tx, ty, tz, i, j, d);
    }
    // A voxel with no conductance at all (zero permeability) is decoupled: keep it at p = 0.
    diag(i) = s > 0 ? s : 1.0;
  }
};

/// y = A x for the assembled operator.
template <class NbView, class FloatView, class DoubleView, class ConstDoubleView>
struct MatVec {
  NbView nb;
  FloatView tx, ty, tz;
  DoubleView diag;
  ConstDoubleView x;
  DoubleView y;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int b = i / kBlockVoxels, v = i % kBlockVoxels;
    double s = diag(i) * x(i);
    for (int d = 0; d < 6; ++d) {
      const int j = neighbour_voxel(nb, b, v, d);
      if (j >= 0) s -= face_t(tx, ty, tz, i, j, d) * x(j);
    }
    y(i) = s;
  }
};

}  // namespace cementflow::kernels

#pragma once
// Kernels of the multigrid preconditioner (engine/solve/multigrid.hpp) on the sparse block grid.
//
// Coarsening is 2:1 in every direction on the same 8^3 block layout: coarse voxel C aggregates the
// (up to) eight fine voxels 2C + {0,1}^3. Restriction sums the fine residuals of the aggregate
// (R = P^T), prolongation copies the coarse correction to every active fine voxel (P piecewise
// constant). The coarse operator is the Galerkin product P^T A P of that piecewise-constant P,
// which on box aggregates is again a seven-point, two-point-flux operator: the coarse face
// transmissibility is the sum of the fine ones that cross the coarse face, so every jump of
// permeability is carried over exactly (flux conserving). It is scaled by alpha (1/2 makes it the
// rediscretised operator of a homogeneous medium: four faces of area h^2 at distance h become one
// of area 4h^2 at distance 2h; Braess 1995's over-correction argument for aggregation).
// Formulas only: no allocation, no I/O.

#include <Kokkos_Core.hpp>

#include "kernels/grid_kernels.hpp"
#include "kernels/pressure_kernels.hpp"

namespace cementflow::kernels {

/// Index of child (dx, dy, dz) in the 8-entry child table of a coarse voxel.
KOKKOS_INLINE_FUNCTION constexpr int child_slot(int dx, int dy, int dz) {
  return dx + 2 * (dy + 2 * dz);
}

/// Coarse transmissibilities from the fine ones (see the file comment).
template <class ChildView, class FloatView>
struct CoarsenOperator {
  ChildView children;  // (ncoarse, 8) fine voxel index or -1
  FloatView ftx, fty, ftz, ftb;
  FloatView ctx, cty, ctz, ctb;
  float alpha;

  KOKKOS_INLINE_FUNCTION void operator()(const int c) const {
    float sx = 0, sy = 0, sz = 0, sb = 0;
    for (int k = 0; k < 8; ++k) {
      const int f = children(c, k);
      if (f < 0) continue;
      sb += ftb(f);
      if (k & 1) sx += ftx(f);
      if (k & 2) sy += fty(f);
      if (k & 4) sz += ftz(f);
    }
    ctx(c) = alpha * sx;
    cty(c) = alpha * sy;
    ctz(c) = alpha * sz;
    ctb(c) = alpha * sb;
  }
};

/// One damped Jacobi step y = x + omega D^-1 (b - A x) on active voxels (inactive, decoupled:
/// y = b / diag). With
/// `zero_start` the input x is taken as zero (first pre-smoothing step: y = omega D^-1 b).
template <class ActiveView, class NbView, class FloatView, class DoubleView>
struct JacobiStep {
  ActiveView active;
  NbView nb;
  FloatView tx, ty, tz;
  DoubleView diag, b, x, y;
  double omega;
  bool zero_start;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    if (active(i) < 0) {
      y(i) = b(i) / diag(i);  // a decoupled row (diag 1): its exact solution
      return;
    }
    if (zero_start) {
      y(i) = omega * b(i) / diag(i);
      return;
    }
    const int blk = i / kBlockVoxels, v = i % kBlockVoxels;
    double ax = diag(i) * x(i);
    for (int d = 0; d < 6; ++d) {
      const int j = neighbour_voxel(nb, blk, v, d);
      if (j >= 0) ax -= face_t(tx, ty, tz, i, j, d) * x(j);
    }
    y(i) = x(i) + omega * (b(i) - ax) / diag(i);
  }
};

/// One colour of a red-black Gauss-Seidel sweep, in place: voxels whose parity (x + y + z) & 1
/// equals `colour` get x = (b + sum_j T_ij x_j) / diag (times the stored inverse). Block origins
/// are multiples of 8, so the parity of the local coordinates is the global one and the colours
/// never touch each other. With `zero_start` the input x is taken as zero: this colour gets b /
/// diag, the other 0.
template <class ActiveView, class NbView, class FloatView, class DoubleView>
struct GaussSeidelColour {
  ActiveView active;
  NbView nb;
  FloatView tx, ty, tz;
  DoubleView inv_diag, b, x;
  int colour;
  bool zero_start;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int v = i % kBlockVoxels;
    const int parity = (local_x(v) + local_y(v) + local_z(v)) & 1;
    // Only this colour is written (a zero start also clears the other one, which nobody reads
    // then): neighbours of the other colour are read meanwhile. A decoupled row (inactive, diag 1)
    // gets its exact solution in its own colour's pass; it used to be written in both, while its
    // neighbours read it (ThreadSanitizer, issue 17), as the block kernel never did.
    if (parity != colour) {
      if (zero_start) x(i) = 0;
      return;
    }
    if (zero_start || active(i) < 0) {
      x(i) = b(i) * inv_diag(i);
      return;
    }
    const int blk = i / kBlockVoxels;
    double s = b(i);
    for (int d = 0; d < 6; ++d) {
      const int j = neighbour_voxel(nb, blk, v, d);
      if (j >= 0) s += face_t(tx, ty, tz, i, j, d) * x(j);
    }
    x(i) = s * inv_diag(i);
  }
};

/// Coarse right-hand side: b_c(C) = sum over the active children f of (b - A x)(f).
template <class ChildView, class NbView, class FloatView, class DoubleView>
struct RestrictResidual {
  ChildView children;
  NbView nb;  // fine block neighbours
  FloatView tx, ty, tz;
  DoubleView diag, b, x;  // fine
  DoubleView bc;          // coarse

  KOKKOS_INLINE_FUNCTION void operator()(const int c) const {
    double s = 0;
    for (int k = 0; k < 8; ++k) {
      const int f = children(c, k);
      if (f < 0) continue;
      const int blk = f / kBlockVoxels, v = f % kBlockVoxels;
      double ax = diag(f) * x(f);
      for (int d = 0; d < 6; ++d) {
        const int j = neighbour_voxel(nb, blk, v, d);
        if (j >= 0) ax -= face_t(tx, ty, tz, f, j, d) * x(j);
      }
      s += b(f) - ax;
    }
    bc(c) = s;
  }
};

/// x(f) += xc(parent(f)) for every active fine voxel (parent -1: inactive, unchanged).
template <class IntView, class DoubleView>
struct ProlongAdd {
  IntView parent;
  DoubleView xc, x;

  KOKKOS_INLINE_FUNCTION void operator()(const int f) const {
    const int c = parent(f);
    if (c >= 0) x(f) += xc(c);
  }
};

}  // namespace cementflow::kernels

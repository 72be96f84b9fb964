#pragma once
// Geometric multigrid on the sparse block grid, used as the preconditioner of the pressure CG
// (issue 7; DESIGN.md "Numerics"). Levels coarsen 2:1 on the same 8^3 block layout; the coarse
// operators are the (scaled) Galerkin products of piecewise-constant aggregation, so permeability
// jumps of any size carry over flux-conservingly (kernels/multigrid_kernels.hpp); red-black
// Gauss-Seidel smoothing (parallel; red-black before, black-red after the coarse correction);
// a W-cycle by default (each coarser level visited twice, the second time from the first's
// result: 2B - BAB, symmetric when B is), so the cycle is a symmetric positive definite
// preconditioner and plain CG stays valid; a dense Cholesky factorisation solves the coarsest
// level (at most a few hundred unknowns). On host backends the stencils run block by block
// (kernels/block_stencil.hpp), on a GPU voxel by voxel.

#include <vector>

#include "engine/grid/device_grid.hpp"
#include "kernels/block_stencil.hpp"

namespace cementflow::detail {

struct PressureOperator;

/// Tunables of the cycle. Defaults from sweeps on the three systems of bench/bench_solvers.cpp
/// (log-normal box, shell box with a vein, the 1 mm vertebra) after the host block kernels made
/// smoothing cheap: W-cycle, 2 + 2 red-black Gauss-Seidel sweeps, alpha 0.5 gave the shortest
/// time to solution on all three (bench/README.md, "Multigrid parameters").
struct MultigridOptions {
  enum class Smoother { RedBlackGaussSeidel, Jacobi } smoother = Smoother::RedBlackGaussSeidel;
  int pre_smooth = 2;               ///< Jacobi steps before the coarse correction
  int post_smooth = 2;              ///< and after (equal keeps the preconditioner symmetric)
  double omega = 0.9;               ///< Jacobi damping
  float coarse_scale = 0.5f;        ///< alpha: coarse operator = alpha P^T A P
  int max_coarsest_unknowns = 600;  ///< coarsen until at most this many active voxels remain
  int max_levels = 16;
  int cycle_index = 2;  ///< 1: V-cycle, 2: W-cycle (each coarser level visited twice)
  /// Use the per-voxel (GPU) kernels even on a host backend (tests compare the two forms).
  bool voxel_kernels = false;
};

class Multigrid {
 public:
  /// Builds the level hierarchy (geometry only) for `fine`; the coefficients come with update().
  Multigrid(const DeviceGrid& fine, MultigridOptions options = {});

  /// Recomputes every coarse operator from the assembled fine operator and refactors the coarsest.
  void update(const PressureOperator& fine_op);

  /// The finest level only (its operator views and inverse diagonal); coarser levels unchanged.
  void update_finest(const PressureOperator& fine_op);

  /// Level `level`'s packed faces (block kernels; the finest shares op.faces when they fit) and
  /// inverse diagonal from its operator views. Public only because it launches a device lambda.
  void refresh_level(int level, const PressureOperator& fine_op);

  /// z = M^-1 r: one cycle from a zero initial guess.
  void apply(const DView<double*>& r, DView<double*>& z);

  int levels() const { return static_cast<int>(levels_.size()); }
  /// Active voxels of level l (0 = the fine grid).
  long long active_voxels(int l) const { return levels_[static_cast<size_t>(l)].active_count; }

 private:
  struct Level {
    int nblocks = 0;
    long long active_count = 0;
    DView<int* [6]> neighbour;
    DView<int*> active;        // >= 0 active, -1 inactive (the fine level: the material)
    DView<int* [8]> children;  // levels >= 1: fine (l-1) voxel of each child, -1 none
    DView<int*> parent;        // levels < last: voxel of level l+1 holding this one, -1 inactive
    DView<int*> coarse_block;  // levels < last: block of level l+1 holding each block
    DView<int*> octant;        // and the octant of it (bit 0: x, 1: y, 2: z)
    DView<float*> tx, ty, tz, tb;
    DView<float*> faces;  // packed for the host block kernels
    DView<double*> diag, inv_diag;
    DView<double*> b, x, y;  // right-hand side, iterate, Jacobi scratch
  };

  /// The finest level takes the assembled operator's views.
  void adopt_finest(const PressureOperator& fine_op);
  void cycle(int l, bool zero_start);
  bool block_kernels() const { return kernels::kHostBlockKernels && !opt_.voxel_kernels; }
  void smooth(int l, int steps, bool zero_start, bool forward);
  void coarse_solve();

  const DeviceGrid& fine_;
  MultigridOptions opt_;
  std::vector<Level> levels_;
  // Coarsest level, dense: compact index -> level voxel, Cholesky factor (row-major, lower).
  std::vector<int> coarse_index_;
  std::vector<double> chol_;
};

}  // namespace cementflow::detail

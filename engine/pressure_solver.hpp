#pragma once
// Matrix-free preconditioned conjugate gradients for the pressure equation on the block grid
// (DESIGN.md, "Numerics"): float coefficients, double iterate and double reductions, Jacobi
// preconditioner (the multigrid preconditioner has its own issue), warm start from the caller's p.

#include "engine/device_grid.hpp"

namespace cementflow::detail {

/// The assembled operator: face transmissibilities (m^3/(Pa s)), Dirichlet coefficient, diagonal.
struct PressureOperator {
  DView<float*> tx, ty, tz, tb;
  DView<double*> diag;
};

struct SolveStats {
  int iterations = 0;
  double relative_residual = 0;
  bool converged = false;
};

class PressureSolver {
 public:
  explicit PressureSolver(const DeviceGrid& grid);

  /// Assembles the operator for total mobility `lambda` (1/(Pa s)) per voxel.
  void assemble(const DView<double*>& lambda);
  const PressureOperator& op() const { return op_; }

  /// Solves A p = q to ||q - A p|| <= rel_tol ||q||, starting from the p given (warm start).
  SolveStats solve(const DView<double*>& q, DView<double*>& p, double rel_tol, int max_iterations);

  /// y = A x (for tests and benchmarks).
  void apply(const DView<double*>& x, DView<double*>& y) const;

 private:
  const DeviceGrid& grid_;
  PressureOperator op_;
  DView<double*> r_, z_, d_, ad_;
};

/// Sum of x(i) * y(i) in double.
double dot(const DView<double*>& x, const DView<double*>& y);

}  // namespace cementflow::detail

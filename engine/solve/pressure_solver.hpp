#pragma once
// Matrix-free preconditioned conjugate gradients for the pressure equation on the block grid
// (DESIGN.md, "Numerics"): float coefficients, double iterate and double reductions, a geometric
// multigrid cycle (engine/solve/multigrid.hpp) or Jacobi as the preconditioner, warm start from the
// caller's p.

#include <functional>
#include <memory>

#include "engine/grid/device_grid.hpp"
#include "engine/solve/multigrid.hpp"

namespace cementflow::detail {

/// The assembled operator: face transmissibilities (m^3/(Pa s)), Dirichlet coefficient, diagonal.
struct PressureOperator {
  DView<float*> tx, ty, tz, tb;
  DView<double*> diag;
  /// tx, ty, tz packed per block for the host block kernels (kernels/block_stencil.hpp); empty
  /// on a GPU backend.
  DView<float*> faces;
};

struct SolveStats {
  int iterations = 0;
  double relative_residual = 0;
  bool converged = false;
};

enum class Preconditioner { Multigrid, Jacobi };

class PressureSolver {
 public:
  explicit PressureSolver(const DeviceGrid& grid,
                          Preconditioner preconditioner = Preconditioner::Multigrid,
                          MultigridOptions mg = {});
  ~PressureSolver();
  PressureSolver(const PressureSolver&) = delete;
  PressureSolver& operator=(const PressureSolver&) = delete;

  Preconditioner preconditioner() const { return preconditioner_; }
  /// Multigrid levels (1 with Jacobi).
  int levels() const;

  /// Assembles the operator for total mobility `lambda` (1/(Pa s)) per voxel
  /// (assemble_operator, then update_preconditioner). `adjust_faces`, if given, may rewrite face
  /// transmissibilities (tx, ty, tz) before the diagonal and the multigrid hierarchy are built
  /// from them (the leak gateways of engine/solve/gateway.cpp).
  void assemble(const DView<double*>& lambda,
                const std::function<void(PressureOperator&)>& adjust_faces = {});
  /// The fine operator only; the multigrid hierarchy keeps its coarse operators until
  /// update_preconditioner (or refresh_smoother) is called.
  void assemble_operator(const DView<double*>& lambda,
                         const std::function<void(PressureOperator&)>& adjust_faces = {});
  /// Rebuilds the multigrid hierarchy (coarse operators, coarsest factor) from the fine operator.
  void update_preconditioner();
  /// Points the finest multigrid level at the current fine operator (its smoother then works on
  /// the exact operator) while the coarse levels stay as last built: a slightly stale, still
  /// symmetric positive definite preconditioner while the coefficients change only near the front.
  void refresh_smoother();
  const PressureOperator& op() const { return op_; }

  /// Solves A p = q to ||q - A p|| <= rel_tol ||q||, starting from the p given (warm start).
  SolveStats solve(const DView<double*>& q, DView<double*>& p, double rel_tol, int max_iterations);

  /// y = A x (for tests and benchmarks).
  void apply(const DView<double*>& x, DView<double*>& y) const;

  /// z = M^-1 r with the chosen preconditioner (one cycle, or the Jacobi diagonal).
  void precondition(const DView<double*>& r, DView<double*>& z);

 private:
  const DeviceGrid& grid_;
  Preconditioner preconditioner_;
  std::unique_ptr<Multigrid> mg_;
  PressureOperator op_;
  DView<double*> r_, z_, d_, ad_;
};

/// Sum of x(i) * y(i) in double.
double dot(const DView<double*>& x, const DView<double*>& y);

}  // namespace cementflow::detail

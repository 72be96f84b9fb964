#pragma once
// The pressure half of one time step (PHYSICS.md §M2, DESIGN.md "Numerics"): Picard iteration
// between the pressure solve and the cement viscosity (Christopher–Middleman shear rate,
// PHYSICS.md §L4), with the inexact-Picard policy. Kokkos translation units only.

#include <functional>
#include <string>

#include "cementflow/report.hpp"
#include "cementflow/scene.hpp"
#include "engine/run/run_state.hpp"
#include "engine/run/step_profile.hpp"
#include "engine/solve/gateway.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "engine/solve/transport.hpp"

namespace cementflow::detail {

/// How the Picard loop solves: the tolerance of the Picard iterates (`loose`), of the final
/// pressure (`tight`), the viscosity change that ends the loop and the most iterations. The seam
/// for another Picard policy.
struct PicardPolicy {
  double loose = 1e-8;
  double tight = 1e-8;
  double viscosity_tolerance = 1e-2;
  int max_iterations = 8;
  int max_solver_iterations = 20000;
  bool fixed_viscosity = false;  ///< Newtonian: one solve, no viscosity update
  /// "volume" stepping (issue 13): the multigrid hierarchy is rebuilt once a step and reused,
  /// with its finest level refreshed, by the step's later Picard iterates; the loop ends on the
  /// change of the total mobility (mobility_change) rather than of the viscosity.
  bool volume = false;
};

/// The default policy for these settings (inexact Picard, see pressure_step.cpp).
PicardPolicy picard_policy(const SimulationSettings& sim, bool newtonian);

/// Cement viscosity per voxel (PHYSICS.md §L4 porous closure, §L1c cure shift) from the current
/// Darcy speed and cure state (kernels::PicardViscosity). Returns the largest relative change
/// where there is cement or a source (the Picard convergence measure).
double update_cement_viscosity(const DeviceGrid& grid, const CementParams& cement, RunState& st);

/// Pressure, Darcy velocity and cement viscosity of one step, consistent to the policy.
class PressureStep {
 public:
  PressureStep(const DeviceGrid& grid, const Scene& scene, const CementParams& cement);

  /// Runs the Picard loop on `st` (p, vel, speed, mu, lambda), counting solves and iterations in
  /// `solver`. Returns false, with `message` set, when a pressure solve did not converge.
  bool solve(RunState& st, Transport& transport, Report::Solver& stats, std::string& message);

  const PressureOperator& op() const { return solver_.op(); }
  int levels() const { return solver_.levels(); }
  Preconditioner preconditioner() const { return solver_.preconditioner(); }
  PicardPolicy& policy() { return policy_; }
  /// Times the stages of solve() into `profile` (CEMENTFLOW_PROFILE; null: not timed).
  void set_profile(StepProfile* profile) { profile_ = profile ? profile : &off_; }
  /// Leak gateways (issue 15, engine/solve/gateway.cpp): their open fractions enter every
  /// assembly and the Picard convergence test; when the final pressure opens or closes one, the
  /// pressure is solved again. nullptr (the default) = none.
  void set_gateways(Gateways* g) { gates_ = g; }

 private:
  bool pressure_solve(RunState& st, double tol, Report::Solver& stats, std::string& message);
  GateInputs gate_inputs(const RunState& st) const;
  std::function<void(PressureOperator&)> gate_adjuster(const RunState& st);

  const DeviceGrid& grid_;
  CementParams cement_;
  double mu_m_, corey_;
  PicardPolicy policy_;
  PressureSolver solver_;
  StepProfile off_{false};
  StepProfile* profile_ = &off_;
  Gateways* gates_ = nullptr;
};

}  // namespace cementflow::detail

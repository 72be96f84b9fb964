#include "engine/run/pressure_step.hpp"

#include <algorithm>
#include <sstream>

#include "engine/run/volume_stepping.hpp"
#include "kernels/mobility_kernels.hpp"
#include "kernels/porous_viscosity_kernels.hpp"

namespace cementflow::detail {

namespace {

using Policy = Kokkos::RangePolicy<ExecSpace>;

// Picard iterates are solved to this fraction of the Picard tolerance (relative residual), the
// last one then to simulation.pressure_tolerance. 1e-2 x 1e-2 = 1e-4 by default: the relative
// pressure error it leaves moves the Christopher-Middleman viscosity (~ speed^(n-1), n ~ 0.6)
// by far less than the 1 % the Picard loop tolerates (measured: bench/README.md).
constexpr double kPicardLooseFactor = 1e-2;

Preconditioner preconditioner_of(const SimulationSettings& sim) {
  return sim.preconditioner == "jacobi" ? Preconditioner::Jacobi : Preconditioner::Multigrid;
}

}  // namespace

PicardPolicy picard_policy(const SimulationSettings& sim, bool newtonian) {
  // Inexact Picard: while the viscosity is still moving, the pressure only has to be good to
  // a fraction of that change, so the Picard iterates are solved to a loose tolerance
  // (kPicardLooseFactor x picard_tolerance, never tighter than pressure_tolerance); the last
  // iterate is then carried on to pressure_tolerance from where it stands (warm start, same
  // operator), so transport sees a pressure as accurate as an exact Picard loop gives, for
  // about a third of the CG iterations (bench/README.md, "Inexact Picard").
  PicardPolicy p;
  p.tight = sim.pressure_tolerance;
  p.loose = newtonian || !sim.inexact_picard
                ? sim.pressure_tolerance
                : std::max(sim.pressure_tolerance, kPicardLooseFactor * sim.picard_tolerance);
  p.viscosity_tolerance = sim.picard_tolerance;
  p.volume = sim.time_stepping == "volume";
  // Issue 13: "volume" stepping has its own iterate count (default 1: the viscosity lags one
  // step); with one iterate there is nothing to be loose about.
  p.max_iterations =
      std::max(1, p.volume ? sim.volume_picard_iterations : sim.max_picard_iterations);
  if (p.max_iterations == 1) p.loose = p.tight;
  p.max_solver_iterations = sim.max_solver_iterations;
  p.fixed_viscosity = newtonian;
  return p;
}

double update_cement_viscosity(const DeviceGrid& grid, const CementParams& cement, RunState& st) {
  double change = 0;
  Kokkos::parallel_reduce(
      "cementflow::simulation::picard_viscosity", Policy(0, static_cast<int>(grid.num_voxels())),
      kernels::PicardViscosity<DView<int*>, DView<float*>, DView<double*>>{
          grid.material, grid.porosity, st.k_geo, st.s, st.q, st.speed, st.cure_state, st.mu,
          cement.law, cement.cure, cement.t_body_k, st.syringe_state},
      Kokkos::Max<double>(change));
  return change;
}

PressureStep::PressureStep(const DeviceGrid& grid, const Scene& scene, const CementParams& cement)
    : grid_(grid),
      cement_(cement),
      mu_m_(scene.marrow_viscosity_pa_s),
      corey_(scene.simulation.corey_exponent),
      policy_(picard_policy(scene.simulation, cement.newtonian)),
      solver_(grid, preconditioner_of(scene.simulation)) {}

bool PressureStep::pressure_solve(RunState& st, double tol, Report::Solver& stats,
                                  std::string& message) {
  const SolveStats r = solver_.solve(st.q, st.p, tol, policy_.max_solver_iterations);
  ++stats.pressure_solves;
  stats.total_iterations += r.iterations;
  stats.max_iterations = std::max<long long>(stats.max_iterations, r.iterations);
  if (r.converged) return true;
  std::ostringstream e;
  e << "the pressure solve did not converge: relative residual " << r.relative_residual << " after "
    << r.iterations
    << " iterations (simulation.max_solver_iterations = " << policy_.max_solver_iterations << ")";
  message = e.str();
  return false;
}

GateInputs PressureStep::gate_inputs(const RunState& st) const {
  return {st.p, st.s, st.cure_state, st.syringe_state};
}

std::function<void(PressureOperator&)> PressureStep::gate_adjuster(const RunState& st) {
  if (!gates_) return {};
  return gates_->adjuster(st.lambda, gate_inputs(st));
}

bool PressureStep::solve(RunState& st, Transport& transport, Report::Solver& stats,
                         std::string& message) {
  // A curing Newtonian cement's viscosity depends on the cure state only: set it once.
  if (cement_.newtonian && cement_.curing) update_cement_viscosity(grid_, cement_, st);
  const int n = static_cast<int>(grid_.num_voxels());
  StepProfile& prof = *profile_;
  for (int it = 0; it < policy_.max_iterations; ++it) {
    {
      auto sc = prof.time(Phase::Mobility);
      Kokkos::parallel_for(
          "cementflow::simulation::total_mobility", Policy(0, n),
          kernels::TotalMobility<DView<double*>>{st.s, st.mu, st.lambda, mu_m_, corey_});
    }
    {
      auto sc = prof.time(Phase::Assembly);
      solver_.assemble_operator(st.lambda, gate_adjuster(st));
    }
    {
      // Issue 13: with volume steps the later Picard iterates of a step (viscosity only) keep
      // the step's coarse levels; CG stays exact with that slightly stale SPD preconditioner.
      auto sc = prof.time(Phase::MultigridSetup);
      if (policy_.volume && it > 0)
        solver_.refresh_smoother();
      else
        solver_.update_preconditioner();
    }
    {
      auto sc = prof.time(Phase::Solve);
      if (!pressure_solve(st, policy_.loose, stats, message)) return false;
    }
    {
      auto sc = prof.time(Phase::Velocity);
      transport.velocity(solver_.op(), st.p, st.vel, st.speed);
    }
    if (policy_.fixed_viscosity) break;
    auto sc = prof.time(Phase::Viscosity);
    double change = update_cement_viscosity(grid_, cement_, st);
    // Issue 13: volume steps measure the change of the operator (total mobility), not of the
    // viscosity where the cement is only a trace.
    if (policy_.volume)
      change = mobility_change(grid_.material, st.s, st.mu, mu_m_, corey_, st.lambda);
    // Issue 15: the open fractions of the leak gateways are Picard unknowns too (after the last
    // iterate the check below the loop does this).
    if (gates_ && it + 1 < policy_.max_iterations)
      change = std::max(change, gates_->change(gate_inputs(st)).fraction);
    if (change <= policy_.viscosity_tolerance) break;
  }
  if (policy_.loose > policy_.tight) {
    // Polish the last iterate: same operator, from where the loose solve left it.
    {
      auto sc = prof.time(Phase::Solve);
      if (!pressure_solve(st, policy_.tight, stats, message)) return false;
    }
    auto sc = prof.time(Phase::Velocity);
    transport.velocity(solver_.op(), st.p, st.vel, st.speed);
  }
  // Leak gateways that this pressure opens or closes (its drop across them crossed their entry
  // pressure): the pressure is solved again with them before the transport uses it, so a step
  // never carries cement through a passage its own pressure keeps shut (docs/PHYSICS-LEAKS.md
  // §G). The drift of the open fractions is left to the next step, like the viscosity's.
  if (gates_ && gates_->change(gate_inputs(st)).flips > 0) {
    solver_.assemble(st.lambda, gate_adjuster(st));
    if (!pressure_solve(st, policy_.tight, stats, message)) return false;
    transport.velocity(solver_.op(), st.p, st.vel, st.speed);
  }
  return true;
}

}  // namespace cementflow::detail

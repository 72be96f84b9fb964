#pragma once
// The choice of the time step (DESIGN.md "Numerics": steps are chosen by the accuracy of what
// users read). The seam for other step controls: the time loop asks only choose_time_step.
// Kokkos translation units only.

#include "cementflow/scene.hpp"
#include "engine/run/run_state.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "engine/solve/transport.hpp"

namespace cementflow::detail {

/// What bounds the step besides the front: the next output time and the end of the injection.
struct StepLimits {
  double next_output_s = 0;  ///< the next timeline row
  double target_m3 = 0;      ///< volume to inject
};

/// The time step (s): `courant` times the time in which the front crosses one cell
/// (Transport::front_time_step), cut to land on the next output time, the target volume and
/// simulation.max_time_s, and never below 1e-12 max(1, t) s.
double choose_time_step(const SimulationSettings& sim, const Injection& inj,
                        const Transport& transport, const PressureOperator& op, const RunState& st,
                        const StepLimits& limits);

}  // namespace cementflow::detail

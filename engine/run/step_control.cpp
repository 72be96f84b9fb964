#include "engine/run/step_control.hpp"

#include <algorithm>

namespace cementflow::detail {

double choose_time_step(const SimulationSettings& sim, const Injection& inj,
                        const Transport& transport, const PressureOperator& op, const RunState& st,
                        const StepLimits& limits, const StepControl& control, double p_inj) {
  const double Q = inj.flow_rate_m3_s;
  double dt =
      control.propose(transport.front_time_step(op, st.p, st.q, st.s, st.mu), p_inj, st.injected);
  dt = std::min({dt, limits.next_output_s - st.t, (limits.target_m3 - st.injected) / Q,
                 sim.max_time_s - st.t});
  return std::max(dt, 1e-12 * std::max(1.0, st.t));
}

}  // namespace cementflow::detail

#include "engine/run/step_control.hpp"

#include <algorithm>

namespace cementflow::detail {

double choose_time_step(const SimulationSettings& sim, const Injection& inj,
                        const Transport& transport, const PressureOperator& op, const RunState& st,
                        const StepLimits& limits) {
  const double Q = inj.flow_rate_m3_s;
  double dt = sim.courant * transport.front_time_step(op, st.p, st.q, st.s, st.mu);
  dt = std::min({dt, limits.next_output_s - st.t, (limits.target_m3 - st.injected) / Q,
                 sim.max_time_s - st.t});
  return std::max(dt, 1e-12 * std::max(1.0, st.t));
}

}  // namespace cementflow::detail

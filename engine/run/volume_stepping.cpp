#include "engine/run/volume_stepping.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "kernels/transport_kernels.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;
}

StepControl::StepControl(const SimulationSettings& sim, const Injection& inj, double seed_m3)
    : volume_(sim.time_stepping == "volume"),
      courant_(sim.courant),
      volume_dt_(sim.volume_step_m3 / inj.flow_rate_m3_s),
      max_front_courant_(sim.max_front_courant),
      pressure_change_(sim.pressure_change),
      max_pressure_(inj.max_pressure_pa),
      growth_(sim.max_volume_growth),
      seed_m3_(seed_m3),
      flow_(inj.flow_rate_m3_s) {}

double StepControl::propose(double front_dt, double p_inj, double injected_m3) const {
  if (!volume_) return courant_ * front_dt;
  double dt = std::min(volume_dt_, max_front_courant_ * front_dt);
  // Self-similar growth of the bolus: its radius R ~ V^(1/3) sets the pressure near the tip, so
  // a step changes R by at most growth / 3 relative to itself. A fixed volume step of 0.1 mL is
  // most of the bolus during the first few tenths of a mL (issue 15: with the well model's tip
  // pressure, 5-14 % off a converged reference at the first output times without this bound).
  if (flow_ > 0) dt = std::min(dt, growth_ * (injected_m3 + seed_m3_) / flow_);
  if (rate_ != 0 && p_inj > 0) {
    // Relative change of the injection pressure per step, from its rate over the last step.
    dt = std::min(dt, pressure_change_ * p_inj / std::abs(rate_));
    // The pressure limit: shorten the step predicted to pass it, so the run stops within
    // pressure_change of the limit's time rather than a whole step after it.
    if (rate_ > 0 && p_inj < max_pressure_)
      dt = std::min(dt, std::max((max_pressure_ - p_inj) / rate_, 1e-3 * dt));
  }
  return dt;
}

void StepControl::observe(double t, double p_inj) {
  if (t_prev_ >= 0 && t > t_prev_) rate_ = (p_inj - p_prev_) / (t - t_prev_);
  t_prev_ = t;
  p_prev_ = p_inj;
}

bool EventBisection::refine() {
  if (hi_ - lo_ <= tol_) return false;
  trial_ = 0.5 * (lo_ + hi_);
  ++trials_;
  return true;
}

void EventBisection::result(bool crossed) {
  if (crossed)
    hi_ = trial_;
  else
    lo_ = trial_;
}

double mobility_change(const DView<int*>& material, const DView<double*>& s,
                       const DView<double*>& mu_c, double mu_m, double corey,
                       const DView<double*>& lambda) {
  double change = 0;
  Kokkos::parallel_reduce(
      "cementflow::step::mobility_change", Policy(0, static_cast<int>(s.extent(0))),
      KOKKOS_LAMBDA(int i, double& mx) {
        if (material(i) < 0 || !(s(i) > 0) || !(lambda(i) > 0)) return;
        const double l = kernels::total_mobility(s(i), mu_c(i), mu_m, corey);
        const double c = kernels::math::fabs(l - lambda(i)) / lambda(i);
        if (c > mx) mx = c;
      },
      Kokkos::Max<double>(change));
  return change;
}

void PressurePredictor::record(const DView<double*>& p, double t) {
  const auto n = p.extent(0);
  if (last_.extent(0) != n) {
    last_ = DView<double*>("cementflow::step::last_pressure", n);
    rate_ = DView<double*>("cementflow::step::pressure_rate", n);
    recorded_ = 0;
  }
  if (recorded_ > 0 && !(t > t_last_)) return;
  const auto last = last_, rate = rate_;
  const double inv_dt = recorded_ > 0 ? 1.0 / (t - t_last_) : 0.0;
  Kokkos::parallel_for(
      "cementflow::step::record_pressure", Policy(0, static_cast<int>(n)), KOKKOS_LAMBDA(int i) {
        rate(i) = (p(i) - last(i)) * inv_dt;
        last(i) = p(i);
      });
  t_last_ = t;
  ++recorded_;
}

void PressurePredictor::predict(DView<double*>& p, double t) const {
  if (recorded_ < 2 || !(t > t_last_) || p.extent(0) != last_.extent(0)) return;
  const auto rate = rate_;
  const double h = t - t_last_;
  Kokkos::parallel_for(
      "cementflow::step::predict_pressure", Policy(0, static_cast<int>(p.extent(0))),
      KOKKOS_LAMBDA(int i) { p(i) += rate(i) * h; });
}

void StateSnapshot::save(const DView<double*>& s, const DView<double*>& boundary_out,
                         const DView<float*>& arrival, const DView<double*>& cure_state) {
  auto copy = [](auto& dst, const auto& src, const char* label) {
    if (dst.extent(0) != src.extent(0))
      dst = std::decay_t<decltype(dst)>(std::string(label), src.extent(0));
    Kokkos::deep_copy(dst, src);
  };
  copy(s_, s, "cementflow::step::saved_s");
  copy(bout_, boundary_out, "cementflow::step::saved_boundary_out");
  copy(arrival_, arrival, "cementflow::step::saved_arrival");
  copy(cure_, cure_state, "cementflow::step::saved_cure");
}

void StateSnapshot::restore(DView<double*>& s, DView<double*>& boundary_out, DView<float*>& arrival,
                            DView<double*>& cure_state) const {
  Kokkos::deep_copy(s, s_);
  Kokkos::deep_copy(boundary_out, bout_);
  Kokkos::deep_copy(arrival, arrival_);
  if (cure_state.extent(0) == cure_.extent(0)) Kokkos::deep_copy(cure_state, cure_);
}

}  // namespace cementflow::detail

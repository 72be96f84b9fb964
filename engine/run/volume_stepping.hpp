#pragma once
// Time-step control of the injection (issue 13; DESIGN.md "Numerics": steps are chosen by the
// accuracy of what users read, not by the fastest voxel). Two settings
// (simulation.time_stepping, scenes/README.md):
//  - "front_courant" (the reference): dt = courant x the time in which the front crosses one cell
//    at its fastest point (Transport::front_time_step);
//  - "volume" (default): dt sized in injected volume (simulation.volume_step_ml), bounded by a
//    front Courant number (simulation.max_front_courant: the implicit upwind transport is stable
//    for any step, this bounds its time-discretisation smearing of the front) and by the relative
//    change of the injection pressure per step (simulation.pressure_change) and by the growth of
//    the injected volume per step (simulation.max_volume_growth: while the bolus is a few voxels
//    across, a fixed volume step is a large relative change of its radius, and the tip pressure
//    is set by that radius), with the events a
//    user reads located exactly: the first leak of each route by bisection of the step that
//    crosses it (EventBisection), output times and the target volume by cutting the step that
//    would pass them, the pressure limit by shortening the step predicted to pass it.
// Also the per-step helpers of the volume scheme that keep the loop GPU-shaped: the total-mobility
// change that ends the Picard loop, the warm start of the pressure solve and a saved copy of the
// transported state. Kokkos translation units only.

#include <vector>

#include "cementflow/scene.hpp"
#include "engine/grid/device_grid.hpp"

namespace cementflow::detail {

/// The step size of either setting. One per run.
class StepControl {
 public:
  /// `seed_m3`: the volume the growth bound adds to the injected volume (one voxel per needle),
  /// so that the first step is not zero.
  StepControl(const SimulationSettings& sim, const Injection& inj, double seed_m3);

  bool volume() const { return volume_; }

  /// The step (s) at time t with `injected` m^3 so far, from the front time step (s, courant 1),
  /// before the cuts to output times, target volume and max_time_s (which the loop applies).
  /// `p_inj` is the injection pressure (Pa) at t.
  double propose(double front_dt, double p_inj, double injected_m3) const;

  /// Records the injection pressure at the start of a step (the pressure-change control uses
  /// the last two).
  void observe(double t, double p_inj);

  /// What observe() keeps (checkpoint/restart, engine/run/checkpoint.cpp).
  struct History {
    double t_prev = -1, p_prev = 0, rate = 0;
  };
  History history() const { return {t_prev_, p_prev_, rate_}; }
  void restore(const History& h) {
    t_prev_ = h.t_prev;
    p_prev_ = h.p_prev;
    rate_ = h.rate;
  }

 private:
  bool volume_ = false;
  double courant_ = 1, volume_dt_ = 0, max_front_courant_ = 1, pressure_change_ = 0;
  double max_pressure_ = 0, growth_ = 0, seed_m3_ = 0, flow_ = 0;
  double t_prev_ = -1, p_prev_ = 0, rate_ = 0;  // dp_inj/dt between the last two observations
};

/// Locates the first crossing of a leak onset inside one step by bisection on the step length
/// (transport only: the pressure of the step is fixed). Usage: after a step of length dt crossed,
/// while (b.refine()) { restore; step with b.dt(); b.result(crossed); } then keep the step of
/// b.dt() (which crosses). Stops when the bracket is below `tolerance_s`.
class EventBisection {
 public:
  EventBisection(double dt_crossing, double tolerance_s)
      : lo_(0), hi_(dt_crossing), tol_(tolerance_s) {}
  /// True while the bracket is wider than the tolerance; then dt() is the next trial.
  bool refine();
  double dt() const { return trial_; }
  /// Whether the trial step of dt() crossed.
  void result(bool crossed);
  /// The shortest step known to cross.
  double crossing_dt() const { return hi_; }
  int trials() const { return trials_; }

 private:
  double lo_, hi_, tol_, trial_ = 0;
  int trials_ = 0;
};

/// Largest relative change of the total mobility lambda_t(s, mu_c) against `lambda` (the
/// mobility the operator was assembled with), over conducting voxels: how much the operator moves
/// when the cement viscosity is updated (the volume scheme's Picard measure).
double mobility_change(const DView<int*>& material, const DView<double*>& s,
                       const DView<double*>& mu_c, double mu_m, double corey,
                       const DView<double*>& lambda);

/// Warm start of the next pressure solve: the pressure extrapolated linearly in time from the
/// last two step starts (away from the front the field changes smoothly from step to step, so
/// the solve starts from a smaller residual than from the last pressure).
class PressurePredictor {
 public:
  /// After the solve of the step starting at t: keeps p and its rate since the previous one.
  void record(const DView<double*>& p, double t);
  /// Before the solve at time t: p += rate (t - t_recorded), once two pressures are recorded.
  void predict(DView<double*>& p, double t) const;

  /// Its history (checkpoint/restart): the last pressure recorded and its rate (empty before the
  /// first record), the time of the last record and how many were made.
  const DView<double*>& last() const { return last_; }
  const DView<double*>& rate() const { return rate_; }
  double t_last() const { return t_last_; }
  int recorded() const { return recorded_; }
  void restore(DView<double*> last, DView<double*> rate, double t_last, int recorded) {
    last_ = last;
    rate_ = rate;
    t_last_ = t_last;
    recorded_ = recorded;
  }

 private:
  DView<double*> last_, rate_;
  double t_last_ = 0;
  int recorded_ = 0;
};

/// A copy of the fields one transport step changes, to repeat the step with another length.
class StateSnapshot {
 public:
  void save(const DView<double*>& s, const DView<double*>& boundary_out,
            const DView<float*>& arrival, const DView<double*>& cure_state);
  void restore(DView<double*>& s, DView<double*>& boundary_out, DView<float*>& arrival,
               DView<double*>& cure_state) const;

 private:
  DView<double*> s_, bout_, cure_;
  DView<float*> arrival_;
};

}  // namespace cementflow::detail

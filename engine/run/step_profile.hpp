#pragma once
// Where a run's time goes (issue 13): fenced wall time and call counts per phase of the time
// loop. Off by default and then free (no fence, no clock read); switched on by the environment
// variable CEMENTFLOW_PROFILE=1, when simulate() prints the table to stderr at the end of the run
// (bench/README.md, "Where a run's time goes"). Kokkos translation units only.

#include <array>
#include <chrono>
#include <string>

namespace cementflow::detail {

enum class Phase {
  Mobility,        ///< total mobility per voxel
  Assembly,        ///< face transmissibilities, diagonal, packed faces
  MultigridSetup,  ///< coarse operators and the coarsest Cholesky factor
  Solve,           ///< preconditioned CG
  Velocity,        ///< Darcy velocity and shear-rate speed
  Viscosity,       ///< cement viscosity (Picard update)
  StepSize,        ///< choice of the time step (front scan)
  Transport,       ///< implicit upwind sweeps and the conservative update
  Cure,            ///< ageing of the cement
  Tally,           ///< leak tally by route
  HostCopy,        ///< per-step copies to the host (tip pressure, leak location)
  Snapshot,        ///< saving / restoring the state for event location (volume stepping)
  Count
};

const char* phase_name(Phase p);

class StepProfile {
 public:
  /// On when CEMENTFLOW_PROFILE is set to anything but "0" or "".
  static bool enabled_from_environment();

  explicit StepProfile(bool on) : on_(on) {}
  bool on() const { return on_; }

  /// Fenced wall time of one region: construct at its start, destroyed at its end.
  class Scope {
   public:
    Scope(StepProfile& p, Phase ph);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StepProfile& p_;
    Phase ph_;
    std::chrono::steady_clock::time_point t0_;
  };
  Scope time(Phase ph) { return Scope(*this, ph); }

  /// Fixed-width table: phase, seconds, share of `wall_s`, calls, ms per call.
  std::string table(double wall_s) const;

 private:
  bool on_;
  std::array<double, static_cast<size_t>(Phase::Count)> seconds_{};
  std::array<long long, static_cast<size_t>(Phase::Count)> calls_{};
};

}  // namespace cementflow::detail

#include "engine/run/step_profile.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cementflow::detail {

const char* phase_name(Phase p) {
  static const char* names[] = {"mobility", "assembly",  "multigrid setup", "pressure solve",
                                "velocity", "viscosity", "step size",       "transport",
                                "cure",     "tally",     "host copies",     "snapshot"};
  const auto i = static_cast<size_t>(p);
  return i < static_cast<size_t>(Phase::Count) ? names[i] : "?";
}

bool StepProfile::enabled_from_environment() {
  const char* v = std::getenv("CEMENTFLOW_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

StepProfile::Scope::Scope(StepProfile& p, Phase ph) : p_(p), ph_(ph) {
  if (!p_.on_) return;
  Kokkos::fence();
  t0_ = std::chrono::steady_clock::now();
}

StepProfile::Scope::~Scope() {
  if (!p_.on_) return;
  Kokkos::fence();
  const auto i = static_cast<size_t>(ph_);
  p_.seconds_[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  ++p_.calls_[i];
}

std::string StepProfile::table(double wall_s) const {
  std::string out = "phase                 seconds   share    calls   ms/call\n";
  double sum = 0;
  char line[160];
  for (size_t i = 0; i < seconds_.size(); ++i) {
    sum += seconds_[i];
    if (calls_[i] == 0) continue;
    std::snprintf(line, sizeof line, "%-18s %10.3f %6.1f %% %8lld %9.3f\n",
                  phase_name(static_cast<Phase>(i)), seconds_[i],
                  wall_s > 0 ? 100 * seconds_[i] / wall_s : 0.0, calls_[i],
                  1e3 * seconds_[i] / static_cast<double>(calls_[i]));
    out += line;
  }
  std::snprintf(line, sizeof line, "%-18s %10.3f %6.1f %%\n%-18s %10.3f\n", "rest of the run",
                wall_s - sum, wall_s > 0 ? 100 * (wall_s - sum) / wall_s : 0.0, "wall", wall_s);
  out += line;
  return out;
}

}  // namespace cementflow::detail

#pragma once
// Enums for what the engine decides on (the injection mode, the preconditioner, the run status);
// the strings of the scene and the report are converted here, at the edge, once per run.
// Host-only, no Kokkos.

#include "cementflow/scene.hpp"

namespace cementflow::detail {

enum class InjectionMode { Vertebroplasty, Kyphoplasty };

/// The mode of a checked scene ("kyphoplasty" or "vertebroplasty", SPEC.md §3).
inline InjectionMode injection_mode(const Injection& inj) {
  return inj.mode == "kyphoplasty" ? InjectionMode::Kyphoplasty : InjectionMode::Vertebroplasty;
}

/// How a run ended (SPEC.md §5 "status").
enum class RunStatus { Completed, StoppedAtLeak, StoppedAtPressureLimit, Failed };

/// The report's string for `s`.
constexpr const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::Completed:
      return "completed";
    case RunStatus::StoppedAtLeak:
      return "stopped_at_leak";
    case RunStatus::StoppedAtPressureLimit:
      return "stopped_at_pressure_limit";
    case RunStatus::Failed:
      return "failed";
  }
  return "failed";
}

}  // namespace cementflow::detail

#pragma once
/// @file simulation.hpp
/// @brief Running a scene: the IMPES injection simulation (DESIGN.md, PHYSICS.md §M2).

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/checkpoint.hpp"
#include "cementflow/report.hpp"
#include "cementflow/run_fields.hpp"
#include "cementflow/scene.hpp"

namespace cementflow {

/// Progress of a running simulation, reported after every step.
struct Progress {
  double time_s = 0;
  double injected_ml = 0;
  double target_ml = 0;
  double injection_pressure_mpa = 0;
  double tip_pressure_kpa = 0;
};

/// How to run.
struct RunOptions {
  std::string out_dir;                            ///< where outputs go; empty = write nothing
  std::function<void(const Progress&)> progress;  ///< called after each step (may be empty)
  const std::atomic<bool>* cancel = nullptr;      ///< set to true to stop; outputs are kept
  /// Checkpoints every interval_s of wall time into out_dir, and resuming from one
  /// (checkpoint.hpp; issue 17). Off by default.
  CheckpointOptions checkpoint;
};

/// Result of a run.
struct RunResult {
  Report report;
  RunFields fields;
};

/// Runs a scene on an already made bone. Never throws for a failed simulation: the report's
/// status says `failed` and outputs are written; throws InputError for bad input (needle tip
/// outside the bone, no outlet, volume larger than the reachable pore space).
RunResult simulate(const Scene& scene, const BoneBlocks& bone, const RunOptions& options);

/// make_bone + simulate + write report.json, fill.vdb and pressure_curve.csv into out_dir.
RunResult run(const Scene& scene, const RunOptions& options);

/// Writes the outputs of SPEC.md §1 (report.json, pressure_curve.csv, fill.vdb) into `dir`.
void write_outputs(const Scene& scene, const RunResult& result, const std::string& dir);

}  // namespace cementflow

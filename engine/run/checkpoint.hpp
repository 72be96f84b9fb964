#pragma once
// Checkpoint/restart of the time loop (issue 17; README "Checkpoint and restart"): everything a
// step carries to the next (the device fields, the step control's and the pressure predictor's
// history, the leak records, the report so far, the output bookkeeping) copied to the host and
// written with the file format of engine/io/checkpoint_file.hpp, and read back into a fresh
// loop. Kokkos translation units only.

#include <chrono>
#include <string>

#include "cementflow/bone.hpp"
#include "cementflow/checkpoint.hpp"
#include "cementflow/report.hpp"
#include "cementflow/scene.hpp"
#include "engine/run/leak_analysis.hpp"
#include "engine/run/run_state.hpp"
#include "engine/run/step_control.hpp"
#include "engine/run/volume_stepping.hpp"

namespace cementflow::detail {

/// The time loop's state beyond RunState (simulation.cpp's locals), by reference. Checkpoints
/// are taken between steps: after a step's transport, cure and leak tally, before the next
/// step's pressure solve.
struct LoopState {
  RunState& st;
  StepControl& control;
  PressurePredictor& predictor;
  LeakTracker& leaks;
  StepLimits& limits;
  Report& report;
  bool& row_due;  ///< a timeline row is due after the next pressure solve
  double& p_tip;
  double& p_inj;
  double& cannula_dp;
};

/// Writes checkpoints of one run and resumes it from one.
class Checkpointer {
 public:
  /// `sorted` is the grid the run runs on (download_grid): its identity goes into the header.
  Checkpointer(const CheckpointOptions& options, const std::string& out_dir, const Scene& scene,
               const BoneBlocks& sorted);

  /// Whether checkpoints are written (an interval or stop_after_steps, and a file to write to).
  bool enabled() const { return !path_.empty(); }

  /// Loads options.resume_from into `loop`; returns the step index to continue with (0 when not
  /// resuming). Throws InputError naming the file, the key and the value for a checkpoint of
  /// another cementflow version, scene or bone, or one that is damaged.
  long long resume(LoopState& loop);

  /// Whether the run should stop after `steps_done` steps (CheckpointOptions::stop_after_steps).
  bool stop_requested(long long steps_done) const {
    return options_.stop_after_steps > 0 && steps_done >= options_.stop_after_steps;
  }

  /// Between steps, `next_step` the index of the step to come: writes a checkpoint when the
  /// interval has passed, or at once when `now` (the run stops here). A checkpoint that cannot
  /// be written does not stop the run: report.checkpoint.error says why.
  void after_step(const LoopState& loop, long long next_step, bool now = false);

  /// At the end of the run: report.checkpoint, the wall time of the runs before a resume added
  /// to report.wall_time_s, and the run's checkpoint file (options.file or the one in out_dir)
  /// removed when the run ended for good (completed or stopped_*: nothing to resume).
  void finish(Report& report) const;

 private:
  void write(const LoopState& loop, long long next_step);

  CheckpointOptions options_;
  std::string own_path_;  ///< the run's checkpoint file (options.file or in out_dir; "" = none)
  std::string path_;      ///< where checkpoints go: own_path_ when they are on, else ""
  const Scene& scene_;
  const BoneBlocks& sorted_;
  std::chrono::steady_clock::time_point start_, last_;
  double prior_wall_s_ = 0;
  long long written_ = 0;
  bool resumed_ = false;
  long long resumed_step_ = 0;
  double resumed_time_s_ = 0;
  std::string error_;
};

}  // namespace cementflow::detail

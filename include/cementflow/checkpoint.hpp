#pragma once
/// @file checkpoint.hpp
/// @brief Checkpoint/restart of a run (issue 17, README "Checkpoint and restart"): the state of
///        the time loop written atomically into the output folder, and a run continued from it
///        that gives the same outputs as an uninterrupted run, to round-off.

#include <string>

#include "cementflow/scene.hpp"

namespace cementflow {

/// The file name of a run's checkpoint inside its output folder.
inline constexpr const char* kCheckpointFileName = "checkpoint.cfck";

/// Checkpoint settings of a run (RunOptions::checkpoint).
struct CheckpointOptions {
  /// Wall-clock seconds between checkpoints (0: none). The first is written once this much wall
  /// time has passed since the time loop began, after the step then ending.
  double interval_s = 0;
  /// Where to write; empty: <RunOptions::out_dir>/checkpoint.cfck (no checkpoint without either).
  std::string file;
  /// A checkpoint file, or an output folder holding checkpoint.cfck, to continue from. It must
  /// come from this cementflow version, the same scene (scene_hash) and the same bone (grid
  /// dimensions, voxel size, active voxels and a checksum of the bone fields); otherwise
  /// simulate() throws InputError naming the file, the key and the value.
  std::string resume_from;
  /// Stop after this many time steps (counted from the start of the injection, also across a
  /// resume) as a cancel does: status `failed`, "stopped after N steps", and a checkpoint written
  /// when checkpoints are on. 0: no limit. For tests and planners that run in slices.
  long long stop_after_steps = 0;
  /// The scene JSON that `run --resume DIR` re-reads (stored in the checkpoint as is; the CLI
  /// sets it). Empty: the checkpoint holds no scene and a resume must be given the scene.
  std::string scene_text;
};

/// What a checkpoint file says about itself (read_checkpoint_info).
struct CheckpointInfo {
  std::string file;                ///< the checkpoint file read
  int format_version = 0;          ///< of the file format
  std::string cementflow_version;  ///< that wrote it
  std::string scene_hash;          ///< scene_hash() of the scene it ran
  std::string scene_name;
  std::string scene_file;  ///< the scene's path when it was written (resolves relative paths)
  std::string scene_text;  ///< CheckpointOptions::scene_text ("" if none was stored)
  double interval_s = 0;   ///< the checkpoint interval of the run that wrote it
  long long steps = 0;     ///< time steps done
  double time_s = 0;       ///< simulated time
  double injected_ml = 0;  ///< injected volume
};

/// Reads and checks the header of a checkpoint (a file, or an output folder holding
/// checkpoint.cfck): magic, format version, sizes, checksum. Throws InputError naming the file,
/// the key and the value when it is missing, damaged, truncated or of another format version.
CheckpointInfo read_checkpoint_info(const std::string& file_or_dir);

/// The checkpoint file `file_or_dir` names: itself, or <folder>/checkpoint.cfck for a folder.
std::string checkpoint_path(const std::string& file_or_dir);

/// A hash (16 hex digits, FNV-1a 64) of the scene's canonical form: every setting the run uses
/// (cement, marrow, injection, simulation, output grids, name), not where the bone comes from (a
/// checkpoint checks the bone itself) nor the scene file's path or formatting.
std::string scene_hash(const Scene& scene);

}  // namespace cementflow

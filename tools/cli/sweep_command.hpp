#pragma once
// `cementflow sweep` and `cementflow run --samples` (tools/cli/sweep_command.cpp): the options
// are registered on the CLI11 app by main.cpp with add_sweep_command().

#include <CLI/CLI.hpp>

#include <string>

#include "cementflow/simulation.hpp"

namespace cementflow::cli {

struct SweepArgs {
  CLI::App* command = nullptr;
  std::string file, out_dir, shard;
  int threads = -1;
  bool quiet = false, dry_run = false;
};

/// Registers the `sweep` subcommand and its options.
void add_sweep_command(CLI::App& app, SweepArgs& args);

/// Runs `cementflow sweep` (MPI when started by mpirun); returns the exit status.
int run_sweep_command(const SweepArgs& args, int* argc, char*** argv);

/// Options of `run` for sampling (--samples N, --seed S, --leak-threshold-ml T).
struct SampleArgs {
  long long samples = 0;
  unsigned long long seed = 1;
  double leak_threshold_ml = 0.01;
};
void add_sample_options(CLI::App& run, SampleArgs& args);

/// Reads a scene for `run`: a scene may carry an `uncertainty` block (used by --samples).
Scene load_run_scene(const std::string& path, bool sampling);

/// `run --samples N`: runs the N samples (resumable, into <out>/samples/), adds
/// leak_probability to the base report and rewrites report.json. Returns the samples that did
/// not complete.
long long add_leak_probability(const std::string& scene_path, const std::string& out_dir,
                               const SampleArgs& args, RunResult& base,
                               const std::atomic<bool>* cancel, bool progress_bar);

}  // namespace cementflow::cli

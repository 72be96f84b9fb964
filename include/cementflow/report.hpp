#pragma once
/// @file report.hpp
/// @brief The run report (SPEC.md §5) as a struct and as JSON.

#include <array>
#include <string>
#include <vector>

#include "cementflow/kyphoplasty.hpp"

namespace cementflow {

/// One leak route's tally.
struct Leak {
  std::string route;
  double volume_ml = 0;
  double first_time_s = 0;
  double first_injected_ml = 0;
  std::array<double, 3> location_mm{0, 0, 0};
};

/// The report of one run.
struct Report {
  int schema = 1;
  std::string scene;
  struct Engine {
    std::string version, backend;
    int threads = 1;
    std::string precision = "float32+float64";
  } engine;
  struct Grid {
    double voxel_mm = 0;
    long long active_voxels = 0;
    long long blocks = 0;
  } grid;
  double wall_time_s = 0;
  std::string status =
      "completed";      ///< completed | stopped_at_leak | stopped_at_pressure_limit | failed
  std::string message;  ///< extension: why it stopped or failed
  double injected_volume_ml = 0;
  double peak_injection_pressure_mpa = 0;
  double peak_tip_pressure_kpa = 0;
  std::vector<Leak> leaks;
  double leak_volume_ml = 0;
  /// The deterministic leak-risk index of this one run (not a probability): a score from the
  /// simulated leak volume and the gap between the cement and the nearest leak destination; the
  /// basis text gives the formula. The probability is `leak_probability` (run --samples).
  struct Risk {
    double score = 0;
    std::string cls = "low";
    std::string basis;
  } leak_risk;
  /// Extension (SPEC.md §4, `run --samples N`): the probability that this plan leaks more than
  /// threshold_ml, over the scene's `uncertainty` block, with Wilson 95 % intervals.
  struct LeakProbability {
    bool present = false;
    double any = 0;
    std::array<double, 2> ci95{0, 1};
    struct Route {
      std::string route;
      double p = 0;
      std::array<double, 2> ci95{0, 1};
    };
    std::vector<Route> by_route;  ///< every route of SPEC.md §5
    long long samples = 0;        ///< samples drawn
    long long evaluated = 0;      ///< samples whose run completed (the denominator)
    long long leaking = 0;        ///< samples that leaked more than threshold_ml
    double threshold_ml = 0.01;
    unsigned long long seed = 0;
  } leak_probability;
  struct Fill {
    double cement_volume_in_bone_ml = 0;
    std::array<bool, 2> endplate_contact{false, false};  ///< inferior, superior
    double max_spread_mm = 0;
    /// Extension, written when the model has cavity voxels (material 3): cement volume in the
    /// cavity / its pore volume, and the interdigitation depth (measure_cavity_fill).
    bool has_cavity = false;
    double cavity_fill_fraction = 0;
    double interdigitation_depth_mm = 0;
  } fill;
  double mass_balance_error = 0;
  /// Extension, kyphoplasty runs: what the balloons did (carve_balloons), written as "kyphoplasty".
  struct Kyphoplasty {
    bool present = false;
    KyphoplastyStats stats;
  } kyphoplasty;
  /// rows: time_s, injected_ml, injection_pressure_mpa, tip_pressure_kpa
  std::vector<std::array<double, 4>> timeline;
  struct Solver {
    long long pressure_solves = 0, total_iterations = 0, max_iterations = 0, steps = 0;
    long long transport_sweeps = 0;  ///< implicit transport sweeps, all steps
    std::string preconditioner;      ///< "multigrid" or "jacobi"
    int multigrid_levels = 0;        ///< levels of the V-cycle (0 with Jacobi)
  } solver;                          ///< extension: solver statistics
  /// Extension (issue 17, RunOptions::checkpoint), written as "checkpoint" when the run wrote a
  /// checkpoint or was resumed from one.
  struct Checkpoint {
    long long written = 0;          ///< checkpoints written by this run
    std::string file;               ///< the checkpoint left to resume from ("" when none)
    bool resumed = false;           ///< this run continued from a checkpoint
    long long resumed_at_step = 0;  ///< the step it continued with
    double resumed_at_time_s = 0;   ///< at that simulated time
    std::string error;              ///< why the last checkpoint could not be written ("" if it was)
  } checkpoint;
};

/// The report as JSON text (SPEC.md §5), pretty-printed.
std::string to_json(const Report& r);
/// The timeline as CSV with a header line (pressure_curve.csv).
std::string timeline_csv(const Report& r);

}  // namespace cementflow

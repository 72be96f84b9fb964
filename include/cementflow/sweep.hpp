#pragma once
/// @file sweep.hpp
/// @brief Parameter sweeps, Monte-Carlo samples over what is not known, virtual cohorts × arms
///        (SPEC.md §4): expansion of a sweep file into checked scenes, a resumable runner, the
///        statistics of the outcomes (Wilson intervals, percentiles, relative risks) and the
///        single-plan leak probability of `run --samples`.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/report.hpp"
#include "cementflow/scene.hpp"

namespace cementflow {

// --- statistics (engine/run/sweep_stats.cpp) -------------------------------------------------

/// A proportion x / n with its Wilson score 95 % interval (Wilson 1927; Newcombe 1998, method 3).
struct Proportion {
  long long count = 0, n = 0;
  double p = 0;                      ///< x / n (0 when n = 0)
  std::array<double, 2> ci95{0, 1};  ///< [0, 1] when n = 0
};
/// The Wilson score interval for x successes in n trials at normal quantile z (1.959964 for 95 %).
Proportion wilson(long long count, long long n, double z = 1.959963984540054);

/// A relative risk p1 / p2 with a 95 % interval; `defined` false when it cannot be estimated
/// (a group without cases, or no event in the denominator group).
struct RelativeRisk {
  bool defined = false;
  double rr = 0;
  std::array<double, 2> ci95{0, 0};
  std::string method;  ///< how the interval was computed
  long long n = 0;     ///< units (pairs for paired data)
};
/// Independent groups: x1/n1 against x2/n2, Wald interval on log RR (Katz et al. 1978,
/// var = 1/x1 − 1/n1 + 1/x2 − 1/n2); with a zero count, 0.5 is added to every x and n (Haldane).
RelativeRisk relative_risk_independent(long long x1, long long n1, long long x2, long long n2);
/// Paired binary data (every unit under both conditions): a = both events, b = event only under
/// 1, c = event only under 2, d = neither. RR = (a + b) / (a + c); Wald interval on log RR with
/// the delta-method variance (b + c) / ((a + b)(a + c)) for matched pairs (the Wald interval for
/// the ratio of paired probabilities, Fagerland, Lydersen & Laake 2014, Stat Med 33:2850).
RelativeRisk relative_risk_paired(long long a, long long b, long long c, long long d);

/// Percentile q in [0, 1] by linear interpolation between order statistics (Hyndman & Fan 1996
/// type 7, NumPy's default). `values` need not be sorted. NaN when empty.
double percentile(std::vector<double> values, double q);

/// Mean, median, 5th and 95th percentiles of a sample (NaN for an empty one).
struct Summary {
  long long n = 0;
  double mean = 0, median = 0, p05 = 0, p95 = 0, min = 0, max = 0;
};
Summary summarize(const std::vector<double>& values);

// --- sweep files (engine/run/sweep_expand.cpp) -----------------------------------------------

/// One expanded case: a complete scene, checked by the scene parser.
struct SweepCase {
  std::string id;          ///< folder name under cases/ ("g01_p003_s002_kp", or "case")
  long long index = 0;     ///< position in the sweep (0-based)
  std::string arm;         ///< "" without arms
  long long point = 0;     ///< grid point (axes × zip), 0-based
  long long patient = -1;  ///< cohort patient, −1 without a cohort
  long long sample = -1;   ///< Monte-Carlo sample, −1 without samples
  /// The value of every swept or drawn key, in the column order of SweepPlan::columns, as JSON.
  std::vector<std::string> values;
  std::string scene_json;  ///< the expanded scene as compact JSON (the case's inputs)
  Scene scene;             ///< the parsed scene
};

/// A sweep file expanded into its cases.
struct SweepPlan {
  std::string file;  ///< the sweep file ("<sweep>" when parsed from text)
  std::string name;
  std::uint64_t seed = 0;
  double leak_threshold_ml = 0.01;
  std::vector<std::string> columns;  ///< swept and drawn keys: axes, zip, cohort, uncertainty
  std::vector<std::string> arms;     ///< arm names in file order
  long long points = 1, patients = 0, samples = 0;
  std::vector<SweepCase> cases;
};

/// Reads, expands and checks a sweep file: every case is parsed by the scene parser before
/// anything runs. Throws InputError naming the sweep file, the key and the value (and the case
/// when a value makes an invalid scene).
SweepPlan load_sweep(const std::string& path);
/// The same from JSON text; `file` names it in errors and resolves the scene path.
SweepPlan parse_sweep(const std::string& json_text, const std::string& file);

/// The scene's `uncertainty` block for `run --samples` (SPEC.md §4, last paragraph).
struct SceneUncertainty {
  std::string scene_json;        ///< the scene without its uncertainty block
  std::string uncertainty_json;  ///< the block ("" when the scene has none)
};
/// Splits a scene file into the scene proper and its `uncertainty` block (parsed and checked
/// with the sweep rules). The returned scene text is what parse_scene accepts.
SceneUncertainty split_scene_uncertainty(const std::string& path);
/// The plan of `run SCENE --samples N`: N samples of the scene over its uncertainty block.
SweepPlan sample_scene(const std::string& path, long long samples, std::uint64_t seed,
                       double leak_threshold_ml);

// --- running (engine/run/sweep_runner.cpp) ---------------------------------------------------

/// The outcome of one case, read from its report.
struct CaseOutcome {
  bool present = false;  ///< a report exists
  std::string status;    ///< the report's status, or "not_run", "interrupted", "invalid"
  std::string message;
  double peak_injection_pressure_mpa = 0, peak_tip_pressure_kpa = 0, leak_volume_ml = 0;
  double injected_volume_ml = 0;
  std::vector<std::pair<std::string, double>> leak_by_route_ml;  ///< every route of SPEC.md §5
  double first_leak_injected_ml = -1;                            ///< −1: no leak
  double max_spread_mm = 0;
  std::array<bool, 2> endplate_contact{false, false};
  double wall_time_s = 0;
  /// True when the case's outcome counts for leak incidence (completed, stopped at a leak or at
  /// the pressure limit).
  bool evaluated() const;
};

/// Progress over cases, after each case.
struct SweepProgress {
  long long done = 0, total = 0, skipped = 0, failed = 0;
  double elapsed_s = 0, eta_s = -1;  ///< −1 until one case has run
  std::string last_case;
};

struct SweepOptions {
  std::string out_dir;
  long long shard_index = 0, shard_count = 1;  ///< run cases with index % count == shard_index
  std::function<void(const SweepProgress&)> progress;
  const std::atomic<bool>* cancel = nullptr;
  /// Dynamic hand-out (MPI): returns the next position in the to-do list, or −1 when there is
  /// none. Empty: this process runs the whole to-do list in order.
  std::function<long long(long long todo_size)> next;
  /// Called between steps of a running case (the MPI dispatcher services requests there).
  std::function<void()> idle;
};

/// Result of run_sweep_cases on this process.
struct SweepRunStats {
  long long todo = 0, ran = 0, skipped = 0, failed = 0;
  bool interrupted = false;
};

/// Positions of the cases that still have to run (no report with the same inputs), restricted
/// to the shard.
std::vector<long long> sweep_todo(const SweepPlan& plan, const SweepOptions& options);
/// Runs cases of the to-do list (all, or as handed out by options.next), writing
/// cases/<id>/report.json atomically (temporary file + rename) with the case's inputs. A case
/// that fails is written with its status and message; the sweep goes on.
SweepRunStats run_sweep_cases(const SweepPlan& plan, const std::vector<long long>& todo,
                              const SweepOptions& options);
/// Reads the outcome of one case from out_dir (not_run when it has no report with its inputs).
CaseOutcome read_case(const SweepPlan& plan, const SweepCase& c, const std::string& out_dir);

/// Writes sweep.csv, sweep.json and the charts from the case reports in out_dir (every case,
/// whoever ran it); returns the number of cases that did not complete (not evaluated).
long long write_sweep_outputs(const SweepPlan& plan, const std::string& out_dir);

/// The whole sweep in this process: sweep_todo, run_sweep_cases, write_sweep_outputs. Returns the
/// number of cases that did not complete (0: every case completed). For a plan run whole
/// (options.shard_count 1); shards run sweep_todo + run_sweep_cases and merge with run_sweep.
long long run_sweep(const SweepPlan& plan, const SweepOptions& options);

/// `run SCENE --samples N` in the library: runs the plan of sample_scene (resumable, into
/// options.out_dir) and returns the leak probability over its samples; `incomplete` (optional)
/// receives the number of samples that did not complete.
Report::LeakProbability run_samples(const SweepPlan& plan, const SweepOptions& options,
                                    long long* incomplete = nullptr);

/// The leak probability of one plan (run --samples) from its sample outcomes.
Report::LeakProbability leak_probability(const SweepPlan& plan,
                                         const std::vector<CaseOutcome>& outcomes);

/// All routes of SPEC.md §5, in report order.
const std::vector<std::string>& leak_routes();

}  // namespace cementflow

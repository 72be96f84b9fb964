// `cementflow sweep SWEEP.json` and `cementflow run SCENE.json --samples N` (SPEC.md §4). The
// library expands and checks the sweep (every case parsed before anything runs), runs the
// cases and writes the outputs; this file adds the command line: threads per case, the progress
// bar, SIGINT, shards and MPI ranks.

#include "tools/cli/sweep_command.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include <sched.h>
#include <unistd.h>

#include "cementflow/cementflow.hpp"
#include "cementflow/sweep.hpp"
#include "tools/cli/sweep_mpi.hpp"

namespace cementflow::cli {

namespace {

std::atomic<bool> g_sweep_cancel{false};
extern "C" void on_sweep_signal(int) {
  g_sweep_cancel.store(true);
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) != 0;
}

/// Cores this process may run on (its CPU affinity: mpirun binds ranks), else the hardware's.
int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Threads per case: the request (or OMP_NUM_THREADS, or every core), capped so that the ranks
/// on this node times the threads never exceed its cores — oversubscribed OpenMP threads spin at
/// barriers (issue 14 measured 3× slower runs).
int threads_per_case(int requested, int local_ranks, bool quiet) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int cap = std::max(1, std::min(available_cores(), hw / std::max(1, local_ranks)));
  int want = requested;
  if (want <= 0) {
    const char* omp = std::getenv("OMP_NUM_THREADS");
    want = omp && std::atoi(omp) > 0 ? std::atoi(omp) : cap;
  }
  if (want > cap && !quiet && requested > 0)
    std::fprintf(stderr,
                 "cementflow: warning: --threads %d with %d rank(s) on %d cores would "
                 "oversubscribe them; using %d thread(s) per case\n",
                 requested, local_ranks, hw, cap);
  return std::min(want, cap);
}

std::string duration_text(double s) {
  if (s < 0) return "--";
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void draw_bar(long long done, long long total, double elapsed, double eta,
              const std::string& last) {
  const int width = 30;
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  std::string bar(static_cast<std::size_t>(frac * width), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r[%s] %lld/%lld cases  %s elapsed  ETA %s  %-40.40s", bar.c_str(), done,
               total, duration_text(elapsed).c_str(), duration_text(eta).c_str(), last.c_str());
  std::fflush(stderr);
}

/// "I/N" -> (I, N) with 0 <= I < N.
std::pair<long long, long long> parse_shard(const std::string& s) {
  const auto slash = s.find('/');
  long long i = -1, n = 0;
  bool ok = slash != std::string::npos;
  if (ok) {
    try {
      std::size_t a = 0, b = 0;
      i = std::stoll(s.substr(0, slash), &a);
      n = std::stoll(s.substr(slash + 1), &b);
      ok = a == slash && b == s.size() - slash - 1;
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || n < 1 || i < 0 || i >= n)
    throw InputError("<arguments>", "--shard", s, "I/N with 0 <= I < N (e.g. 0/4 ... 3/4)");
  return {i, n};
}

void print_cases(const SweepPlan& plan) {
  std::printf("sweep %s: %zu cases", plan.name.c_str(), plan.cases.size());
  if (plan.points > 1) std::printf(", %lld grid points", plan.points);
  if (plan.patients > 0) std::printf(", %lld patients", plan.patients);
  if (plan.samples > 0) std::printf(", %lld samples", plan.samples);
  if (!plan.arms.empty()) std::printf(", %zu arms", plan.arms.size());
  std::printf(" (seed %llu); every case checked by the scene parser\n",
              static_cast<unsigned long long>(plan.seed));
  for (const SweepCase& c : plan.cases) {
    std::printf("  %s", c.id.c_str());
    if (!c.arm.empty()) std::printf("  arm=%s", c.arm.c_str());
    for (std::size_t k = 0; k < plan.columns.size(); ++k)
      std::printf("  %s=%s", plan.columns[k].c_str(), c.values[k].c_str());
    std::printf("\n");
  }
}

}  // namespace

void add_sweep_command(CLI::App& app, SweepArgs& a) {
  a.command = app.add_subcommand(
      "sweep", "parameter sweeps, Monte-Carlo samples, virtual cohorts x arms (SPEC.md §4)");
  a.command->add_option("sweep", a.file, "sweep JSON file")->required();
  a.command->add_option("--out", a.out_dir, "output folder (default out/<sweep name>/)");
  a.command
      ->add_option("--threads", a.threads,
                   "threads per case (default: the cores / the MPI ranks on the node)")
      ->check(CLI::PositiveNumber);
  a.command->add_flag("--quiet", a.quiet, "no progress bar or summary");
  a.command->add_flag("--dry-run", a.dry_run, "list the cases (all checked) and run nothing");
  a.command->add_option("--shard", a.shard, "run every N-th case from the I-th: I/N (job arrays)");
}

int run_sweep_command(const SweepArgs& a, int* argc, char*** argv) {
  // MPI first (it may rewrite argv), then the threads from the ranks on this node.
  const MpiWorld world = mpi_start(argc, argv);
  struct Stop {
    const MpiWorld& w;
    ~Stop() { mpi_stop(w); }
  } stop{world};
  const bool root = world.rank == 0;
  const bool quiet = a.quiet || !root;
  const int local = world.active ? world.local_size : launcher_local_ranks();

  SweepPlan plan = load_sweep(a.file);  // InputError (exit 2) before anything runs
  if (a.dry_run) {
    if (root) print_cases(plan);
    return 0;
  }
  SweepOptions opt;
  opt.out_dir = a.out_dir.empty() ? (std::filesystem::path("out") / plan.name).string() : a.out_dir;
  if (!a.shard.empty()) std::tie(opt.shard_index, opt.shard_count) = parse_shard(a.shard);
  if (world.active && world.size > 1 && opt.shard_count > 1)
    throw InputError("<arguments>", "--shard", a.shard,
                     "either --shard or several MPI ranks, not both");

  const int threads = threads_per_case(a.threads, local, quiet);
  Runtime runtime(threads);
  std::signal(SIGINT, on_sweep_signal);
  std::signal(SIGTERM, on_sweep_signal);
  opt.cancel = &g_sweep_cancel;

  std::vector<long long> todo;
  if (root) todo = sweep_todo(plan, opt);
  mpi_broadcast(world, todo);
  const long long in_scope =
      opt.shard_count > 1
          ? static_cast<long long>(std::count_if(
                plan.cases.begin(), plan.cases.end(),
                [&](const SweepCase& c) { return c.index % opt.shard_count == opt.shard_index; }))
          : static_cast<long long>(plan.cases.size());
  if (!quiet)
    std::fprintf(stderr,
                 "sweep %s: %zu cases, %lld to run (%lld done already), %d rank(s) x %d "
                 "thread(s), into %s\n",
                 plan.name.c_str(), plan.cases.size(), static_cast<long long>(todo.size()),
                 in_scope - static_cast<long long>(todo.size()), world.active ? world.size : 1,
                 threads, opt.out_dir.c_str());

  Dispatcher dispatcher(world, static_cast<long long>(todo.size()), &g_sweep_cancel);
  opt.next = [&dispatcher](long long) { return dispatcher.next(); };
  const bool bar = !quiet && stderr_is_terminal();
  const auto t0 = std::chrono::steady_clock::now();
  auto last_draw = t0;
  std::string last_case;
  long long my_done = 0;
  auto redraw = [&](bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_draw < std::chrono::seconds(1)) return;
    last_draw = now;
    // Under MPI rank 0 counts the positions handed out less those still running (one per rank).
    const long long total = static_cast<long long>(todo.size());
    long long done = my_done;
    if (world.active && world.size > 1)
      done = std::max(my_done, dispatcher.handed_out() - static_cast<long long>(world.size));
    const double el = std::chrono::duration<double>(now - t0).count();
    const double eta =
        done > 0 ? el / static_cast<double>(done) * static_cast<double>(std::max(0LL, total - done))
                 : -1;
    draw_bar(done, total, el, eta, last_case);
  };
  opt.idle = [&]() {
    dispatcher.service();
    if (bar) redraw(false);
  };
  opt.progress = [&](const SweepProgress& p) {
    my_done = p.done;
    last_case = p.last_case;
    if (bar) redraw(true);
  };
  const SweepRunStats st = run_sweep_cases(plan, todo, opt);
  dispatcher.finish();
  if (bar) std::fprintf(stderr, "\n");

  int rc = 0;
  if (root) {
    if (opt.shard_count > 1) {
      // A shard writes only its cases; the merge is a later plain run (which finds them done).
      rc = st.failed > 0 || st.interrupted ? 3 : 0;
      if (!quiet)
        std::printf(
            "shard %lld/%lld of %s: %lld cases run, %lld did not complete; run without "
            "--shard to merge the shards\n",
            opt.shard_index, opt.shard_count, plan.name.c_str(), st.ran, st.failed);
    } else {
      const long long incomplete = write_sweep_outputs(plan, opt.out_dir);
      rc = incomplete > 0 || g_sweep_cancel.load() ? 3 : 0;
      if (!quiet) {
        const long long ran =
            world.active && world.size > 1 ? dispatcher.handed_out() : st.ran;  // all ranks
        std::printf("sweep %s: %zu cases, %lld ran now, %lld did not complete%s\n",
                    plan.name.c_str(), plan.cases.size(), ran, incomplete,
                    g_sweep_cancel.load() ? " (interrupted: rerun the command to resume)" : "");
        std::printf("  outputs   %s/sweep.csv, sweep.json, cases/<id>/report.json\n",
                    opt.out_dir.c_str());
      }
      if (rc == 3)
        std::fprintf(stderr,
                     "cementflow: %s: %lld of %zu cases did not complete (see the status and "
                     "message columns of %s/sweep.csv)\n",
                     a.file.c_str(), incomplete, plan.cases.size(), opt.out_dir.c_str());
    }
  }
  return mpi_broadcast_int(world, rc);
}

void add_sample_options(CLI::App& run, SampleArgs& s) {
  run.add_option("--samples", s.samples,
                 "also run N samples over the scene's uncertainty block and add the leak "
                 "probability to the report (SPEC.md §4)")
      ->check(CLI::Range(1LL, 1000000LL));
  run.add_option("--seed", s.seed, "seed of the samples (default 1)");
  run.add_option("--leak-threshold-ml", s.leak_threshold_ml,
                 "leaked volume above which a sample counts as leaking (default 0.01 mL)")
      ->check(CLI::NonNegativeNumber);
}

Scene load_run_scene(const std::string& path, bool sampling) {
  SceneUncertainty su;
  try {
    su = split_scene_uncertainty(path);
  } catch (const InputError&) {
    load_scene(path);  // unreadable or invalid JSON: the scene parser's own message (line, column)
    throw;
  }
  // A scene's uncertainty block is only for --samples; without it the scene runs as written.
  if (su.uncertainty_json.empty()) {
    if (sampling)
      throw InputError(path, "uncertainty", "",
                       "an uncertainty block in the scene for --samples (SPEC.md §4)");
    return load_scene(path);  // the parser's own messages, with line numbers
  }
  return parse_scene(su.scene_json, path);
}

long long add_leak_probability(const std::string& scene_path, const std::string& out_dir,
                               const SampleArgs& s, RunResult& base,
                               const std::atomic<bool>* cancel, bool progress_bar) {
  const SweepPlan plan = sample_scene(scene_path, s.samples, s.seed, s.leak_threshold_ml);
  SweepOptions opt;
  opt.out_dir = (std::filesystem::path(out_dir) / "samples").string();
  opt.cancel = cancel;
  if (progress_bar)
    opt.progress = [](const SweepProgress& p) {
      draw_bar(p.done, p.total, p.elapsed_s, p.eta_s, p.last_case);
    };
  long long incomplete = 0;
  base.report.leak_probability = run_samples(plan, opt, &incomplete);
  if (progress_bar) std::fprintf(stderr, "\n");
  base.report.leak_risk.basis +=
      " The probability of a leak over what is not known about the patient is leak_probability "
      "(run --samples).";
  std::ofstream(std::filesystem::path(out_dir) / "report.json") << to_json(base.report) << "\n";
  return incomplete;
}

}  // namespace cementflow::cli

// Running the cases of a sweep (include/cementflow/sweep.hpp): each case is one call of the
// public run() with the cancel flag and a progress hook; its report goes to
// cases/<id>/report.json with the case's inputs under "case", written atomically (a temporary
// file in the same folder, then a rename), so a folder never holds half a report and a rerun
// skips exactly the cases whose report has the same inputs. A case that fails is a report with
// its status and message; an interrupted case is written as "interrupted" and runs again.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "cementflow/errors.hpp"
#include "cementflow/simulation.hpp"
#include "cementflow/sweep.hpp"
#include "engine/run/sweep_detail.hpp"

namespace cementflow {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

const std::vector<std::string>& leak_routes() {
  static const std::vector<std::string> routes{"basivertebral_vein", "segmental_vein",
                                               "cortical_breach",    "endplate_disc",
                                               "spinal_canal",       "soft_tissue"};
  return routes;
}

bool CaseOutcome::evaluated() const {
  return status == "completed" || status == "stopped_at_leak" ||
         status == "stopped_at_pressure_limit";
}

namespace {

std::string report_path(const std::string& out_dir, const SweepCase& c) {
  return (fs::path(out_dir) / "cases" / c.id / "report.json").string();
}

/// The report file's JSON, or null when it is missing or unreadable (then the case runs again).
ojson read_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return ojson::parse(text.str());
  } catch (const ojson::exception&) {
    return nullptr;
  }
}

/// True when the report was made from exactly this case's scene.
bool same_inputs(const ojson& report, const SweepCase& c) {
  if (!report.is_object() || !report.contains("case") || !report["case"].is_object() ||
      !report["case"].contains("scene"))
    return false;
  // Compared as unordered JSON values: numbers round-trip exactly through the dump.
  return json::parse(report["case"]["scene"].dump()) == json::parse(c.scene_json);
}

/// Writes `text` to `path` atomically: a temporary file beside it, then rename.
void write_atomically(const std::string& path, const std::string& text) {
  const fs::path p(path);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  const fs::path tmp =
      p.parent_path() / (p.filename().string() + ".tmp." + std::to_string(::getpid()));
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o << text;
    o.flush();
    if (!o) throw InputError(tmp.string(), "--out", p.parent_path().string(), "a writable folder");
  }
  fs::rename(tmp, p, ec);
  if (ec) throw InputError(path, "--out", ec.message(), "a writable folder");
}

ojson case_inputs(const SweepPlan& plan, const SweepCase& c) {
  ojson values = ojson::object();
  for (std::size_t i = 0; i < plan.columns.size() && i < c.values.size(); ++i)
    values[plan.columns[i]] = ojson::parse(c.values[i]);
  ojson j = {{"id", c.id},
             {"index", c.index},
             {"sweep", plan.name},
             {"arm", c.arm},
             {"point", c.point},
             {"patient", c.patient},
             {"sample", c.sample},
             {"values", values},
             {"leak_threshold_ml", plan.leak_threshold_ml},
             {"scene", ojson::parse(c.scene_json)}};
  return j;
}

}  // namespace

std::vector<long long> sweep_todo(const SweepPlan& plan, const SweepOptions& options) {
  std::vector<long long> todo;
  for (const SweepCase& c : plan.cases) {
    if (options.shard_count > 1 && c.index % options.shard_count != options.shard_index) continue;
    const ojson rep = read_report(report_path(options.out_dir, c));
    if (same_inputs(rep, c) && rep.value("status", std::string()) != "interrupted") continue;
    todo.push_back(c.index);
  }
  return todo;
}

SweepRunStats run_sweep_cases(const SweepPlan& plan, const std::vector<long long>& todo,
                              const SweepOptions& options) {
  SweepRunStats st;
  st.todo = static_cast<long long>(todo.size());
  const auto t0 = std::chrono::steady_clock::now();
  long long seq = 0;
  while (true) {
    if (options.cancel && options.cancel->load()) {
      st.interrupted = true;
      break;
    }
    const long long pos = options.next ? options.next(st.todo) : (seq < st.todo ? seq++ : -1);
    if (pos < 0 || pos >= st.todo) break;
    const SweepCase& c = plan.cases[static_cast<std::size_t>(todo[static_cast<std::size_t>(pos)])];

    RunOptions ro;  // no out_dir: only the report is kept, written below
    ro.cancel = options.cancel;
    if (options.idle) ro.progress = [&options](const Progress&) { options.idle(); };
    const auto c0 = std::chrono::steady_clock::now();
    Report rep;
    try {
      rep = run(c.scene, ro).report;
    } catch (const InputError& e) {  // found only when the bone is built (tip outside, ...)
      rep.status = "invalid";
      rep.message = e.what();
    } catch (const std::exception& e) {
      rep.status = "failed";
      rep.message = e.what();
    }
    if (rep.scene.empty()) rep.scene = c.scene.name;
    rep.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
    const bool cancelled = options.cancel && options.cancel->load();
    if (cancelled && rep.status == "failed") {
      rep.status = "interrupted";
      st.interrupted = true;
    }
    ojson out = ojson::parse(to_json(rep));
    out["case"] = case_inputs(plan, c);
    write_atomically(report_path(options.out_dir, c), out.dump(2) + "\n");
    ++st.ran;
    if (rep.status != "completed" && rep.status != "stopped_at_leak") ++st.failed;

    if (options.progress) {
      SweepProgress p;
      p.done = st.ran;
      p.total = st.todo;
      p.failed = st.failed;
      p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const long long left = st.todo - st.ran;
      p.eta_s =
          st.ran > 0 ? p.elapsed_s / static_cast<double>(st.ran) * static_cast<double>(left) : -1;
      p.last_case = c.id + " " + rep.status;
      options.progress(p);
    }
    if (cancelled) {
      st.interrupted = true;
      break;
    }
  }
  return st;
}

CaseOutcome read_case(const SweepPlan& plan, const SweepCase& c, const std::string& out_dir) {
  (void)plan;
  CaseOutcome o;
  o.status = "not_run";
  const ojson r = read_report(report_path(out_dir, c));
  if (!same_inputs(r, c)) return o;
  o.present = true;
  auto num = [&r](const char* k) {
    return r.contains(k) && r[k].is_number() ? r[k].get<double>() : 0.0;
  };
  o.status = r.value("status", std::string("failed"));
  o.message = r.value("message", std::string());
  o.peak_injection_pressure_mpa = num("peak_injection_pressure_mpa");
  o.peak_tip_pressure_kpa = num("peak_tip_pressure_kpa");
  o.leak_volume_ml = num("leak_volume_ml");
  o.injected_volume_ml = num("injected_volume_ml");
  o.wall_time_s = num("wall_time_s");
  for (const std::string& route : leak_routes()) o.leak_by_route_ml.emplace_back(route, 0.0);
  if (r.contains("leaks") && r["leaks"].is_array())
    for (const auto& l : r["leaks"]) {
      const std::string route = l.value("route", std::string());
      const double v = l.contains("volume_ml") && l["volume_ml"].is_number()
                           ? l["volume_ml"].get<double>()
                           : 0.0;
      for (auto& rv : o.leak_by_route_ml)
        if (rv.first == route) rv.second += v;
      if (l.contains("first_injected_ml") && l["first_injected_ml"].is_number()) {
        const double f = l["first_injected_ml"].get<double>();
        if (o.first_leak_injected_ml < 0 || f < o.first_leak_injected_ml)
          o.first_leak_injected_ml = f;
      }
    }
  if (r.contains("fill") && r["fill"].is_object()) {
    const auto& f = r["fill"];
    if (f.contains("max_spread_mm") && f["max_spread_mm"].is_number())
      o.max_spread_mm = f["max_spread_mm"].get<double>();
    if (f.contains("endplate_contact") && f["endplate_contact"].is_array() &&
        f["endplate_contact"].size() == 2)
      o.endplate_contact = {f["endplate_contact"][0].get<bool>(),
                            f["endplate_contact"][1].get<bool>()};
  }
  return o;
}

}  // namespace cementflow

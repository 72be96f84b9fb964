#include "engine/run/checkpoint.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/runtime.hpp"
#include "cementflow/version.hpp"
#include "engine/io/checkpoint_file.hpp"

namespace cementflow::detail {

namespace {

// Per leak route in the "leaks" array: leaked (0/1), volume_ml, first_time_s, first_injected_ml,
// location_mm x, y, z.
constexpr std::size_t kLeakValues = 7;

template <class V>
std::vector<typename V::non_const_value_type> to_host(const V& v) {
  std::vector<typename V::non_const_value_type> out(v.extent(0));
  if (out.empty()) return out;
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = h(i);
  return out;
}

template <class T, class V>
void to_device(const std::vector<T>& x, V& v) {
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < x.size(); ++i) h(i) = x[i];
  Kokkos::deep_copy(v, h);
}

/// The sections of one checkpoint being read, with errors that name the file and the key.
class Loaded {
 public:
  Loaded(std::string path, CheckpointData d) : path_(std::move(path)), d_(std::move(d)) {
    header_ = parse_key_values(text("header"), path_, "header");
    state_ = parse_key_values(text("state"), path_, "state");
  }
  const std::string& header(const std::string& key) const { return find(header_, key); }
  double num(const std::string& key) const {
    const std::string& v = find(state_, key);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') throw InputError(path_, key, v, "a number");
    return x;
  }
  long long count(const std::string& key) const {
    const std::string& v = find(state_, key);
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || x < 0)
      throw InputError(path_, key, v, "a count (an integer >= 0)");
    return x;
  }
  /// Array `name` of exactly `n` values (`n` < 0: any length that is a multiple of -n).
  template <class T>
  const std::vector<T>& array(const std::map<std::string, std::vector<T>>& m,
                              const std::string& name, long long n) const {
    const auto it = m.find(name);
    if (it == m.end()) throw InputError(path_, name, "missing", "a checkpoint array");
    const auto size = static_cast<long long>(it->second.size());
    if ((n >= 0 && size != n) || (n < 0 && size % (-n) != 0))
      throw InputError(
          path_, name, std::to_string(size) + " values",
          n >= 0 ? std::to_string(n) + " (the run's grid)" : "a multiple of " + std::to_string(-n));
    return it->second;
  }
  const std::vector<double>& f64(const std::string& name, long long n) const {
    return array(d_.f64, name, n);
  }
  const std::vector<float>& f32(const std::string& name, long long n) const {
    return array(d_.f32, name, n);
  }

 private:
  const std::string& text(const std::string& name) const {
    const auto it = d_.text.find(name);
    if (it == d_.text.end()) throw InputError(path_, name, "missing", "a checkpoint section");
    return it->second;
  }
  const std::string& find(const std::map<std::string, std::string>& kv,
                          const std::string& key) const {
    const auto it = kv.find(key);
    if (it == kv.end()) throw InputError(path_, key, "missing", "a value in the checkpoint");
    return it->second;
  }
  std::string path_;
  CheckpointData d_;
  std::map<std::string, std::string> header_, state_;
};

}  // namespace

Checkpointer::Checkpointer(const CheckpointOptions& options, const std::string& out_dir,
                           const Scene& scene, const BoneBlocks& sorted)
    : options_(options),
      scene_(scene),
      sorted_(sorted),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {
  if (!options.file.empty())
    own_path_ = options.file;
  else if (!out_dir.empty())
    own_path_ = (std::filesystem::path(out_dir) / kCheckpointFileName).string();
  if (options.interval_s > 0 || options.stop_after_steps > 0) path_ = own_path_;
}

long long Checkpointer::resume(LoopState& loop) {
  if (options_.resume_from.empty()) return 0;
  const std::string path = checkpoint_path(options_.resume_from);
  const Loaded in(path, read_checkpoint_file(path));

  // Identity: this cementflow, this scene, this bone.
  const std::string& version = in.header("cementflow_version");
  if (version != CEMENTFLOW_VERSION_STRING)
    throw InputError(path, "cementflow_version", version,
                     std::string(CEMENTFLOW_VERSION_STRING) +
                         " (a checkpoint resumes only with the version that wrote it)");
  const std::string& hash = in.header("scene_hash");
  if (hash != scene_hash(scene_))
    throw InputError(path, "scene_hash", hash + " (scene '" + in.header("scene_name") + "')",
                     scene_hash(scene_) + " (scene '" + scene_.name +
                         "'): a checkpoint of this scene, with the same settings");
  for (const auto& [key, want] : bone_identity(sorted_)) {
    const std::string& got = in.header(key);
    if (got != want) throw InputError(path, key, got, want + " (the bone this scene makes)");
  }

  // The fields, on the grid the run runs on.
  RunState& st = loop.st;
  const auto n = static_cast<long long>(st.s.extent(0));
  struct Field {
    const char* name;
    DView<double*>* view;
  };
  const Field fields[] = {{"saturation", &st.s},     {"pressure", &st.p},
                          {"viscosity", &st.mu},     {"mobility", &st.lambda},
                          {"speed", &st.speed},      {"boundary_out", &st.bout},
                          {"pore_cement", &st.pore}, {"cure_state", &st.cure_state}};
  for (const Field& f : fields)
    to_device(in.f64(f.name, static_cast<long long>(f.view->extent(0))), *f.view);
  to_device(in.f32("arrival", n), st.arrival);
  to_device(in.f32("velocity", 3 * n), st.vel);
  st.t = in.num("t");
  st.injected = in.num("injected_m3");
  st.syringe_state = in.num("syringe_state");

  // The loop's own state.
  loop.row_due = in.count("row_due") != 0;
  loop.p_tip = in.num("p_tip");
  loop.p_inj = in.num("p_inj");
  loop.cannula_dp = in.num("cannula_dp");
  loop.limits.next_output_s = in.num("next_output_s");
  loop.control.restore(
      {in.num("control.t_prev"), in.num("control.p_prev"), in.num("control.rate")});
  const long long recorded = in.count("predictor.recorded");
  const bool history = recorded > 0;
  DView<double*> last, rate;
  if (history) {
    last = DView<double*>("cementflow::step::last_pressure", static_cast<size_t>(n));
    rate = DView<double*>("cementflow::step::pressure_rate", static_cast<size_t>(n));
    to_device(in.f64("predictor.last", n), last);
    to_device(in.f64("predictor.rate", n), rate);
  }
  loop.predictor.restore(last, rate, in.num("predictor.t_last"),
                         static_cast<int>(std::min<long long>(recorded, 1 << 30)));
  std::array<bool, kNumLeakRoutes> leaked{};
  std::array<Leak, kNumLeakRoutes> records{};
  const auto& lv = in.f64("leaks", static_cast<long long>(kLeakValues * kNumLeakRoutes));
  for (std::size_t r = 0; r < static_cast<std::size_t>(kNumLeakRoutes); ++r) {
    const double* x = lv.data() + kLeakValues * r;
    leaked[r] = x[0] != 0;
    Leak& L = records[r];
    L.route = route_name(static_cast<LeakRoute>(r));
    L.volume_ml = x[1];
    L.first_time_s = x[2];
    L.first_injected_ml = x[3];
    L.location_mm = {x[4], x[5], x[6]};
  }
  loop.leaks.restore(leaked, records);
  // The report so far.
  Report& rep = loop.report;
  rep.peak_tip_pressure_kpa = in.num("peak_tip_pressure_kpa");
  rep.peak_injection_pressure_mpa = in.num("peak_injection_pressure_mpa");
  rep.solver.steps = in.count("solver.steps");
  rep.solver.pressure_solves = in.count("solver.pressure_solves");
  rep.solver.total_iterations = in.count("solver.total_iterations");
  rep.solver.max_iterations = in.count("solver.max_iterations");
  rep.solver.transport_sweeps = in.count("solver.transport_sweeps");
  const auto& tl = in.f64("timeline", -4);
  rep.timeline.clear();
  for (std::size_t i = 0; i + 4 <= tl.size(); i += 4)
    rep.timeline.push_back({tl[i], tl[i + 1], tl[i + 2], tl[i + 3]});
  prior_wall_s_ = in.num("wall_time_s");
  resumed_ = true;
  resumed_step_ = in.count("next_step");
  resumed_time_s_ = st.t;
  return resumed_step_;
}

void Checkpointer::after_step(const LoopState& loop, long long next_step, bool now) {
  if (!enabled()) return;
  const auto t = std::chrono::steady_clock::now();
  const bool due = options_.interval_s > 0 &&
                   std::chrono::duration<double>(t - last_).count() >= options_.interval_s;
  if (!due && !now) return;
  try {
    write(loop, next_step);
    ++written_;
    error_.clear();
  } catch (const std::exception& e) {
    error_ = e.what();
  }
  last_ = std::chrono::steady_clock::now();
}

void Checkpointer::write(const LoopState& loop, long long next_step) {
  CheckpointData d;
  std::map<std::string, std::string> header = bone_identity(sorted_);
  header["cementflow_version"] = CEMENTFLOW_VERSION_STRING;
  header["scene_hash"] = scene_hash(scene_);
  header["scene_name"] = scene_.name;
  std::error_code ec;  // the scene's folder resolves its relative paths on `run --resume DIR`
  const auto abs =
      scene_.file.empty() ? std::filesystem::path() : std::filesystem::absolute(scene_.file, ec);
  header["scene_file"] = ec ? scene_.file : abs.string();
  header["checkpoint_interval_s"] = exact(options_.interval_s);
  header["backend"] = Runtime::backend();
  d.text["header"] = key_values(header);
  if (!options_.scene_text.empty()) d.text["scene"] = options_.scene_text;

  const RunState& st = loop.st;
  const Report& rep = loop.report;
  const auto hist = loop.control.history();
  std::map<std::string, std::string> s;
  auto count = [](long long v) { return std::to_string(v); };
  s["next_step"] = count(next_step);
  s["steps"] = count(rep.solver.steps);
  s["t"] = exact(st.t);
  s["injected_m3"] = exact(st.injected);
  s["syringe_state"] = exact(st.syringe_state);
  s["row_due"] = count(loop.row_due ? 1 : 0);
  s["p_tip"] = exact(loop.p_tip);
  s["p_inj"] = exact(loop.p_inj);
  s["cannula_dp"] = exact(loop.cannula_dp);
  s["next_output_s"] = exact(loop.limits.next_output_s);
  s["control.t_prev"] = exact(hist.t_prev);
  s["control.p_prev"] = exact(hist.p_prev);
  s["control.rate"] = exact(hist.rate);
  s["predictor.t_last"] = exact(loop.predictor.t_last());
  s["predictor.recorded"] = count(loop.predictor.recorded());
  s["peak_tip_pressure_kpa"] = exact(rep.peak_tip_pressure_kpa);
  s["peak_injection_pressure_mpa"] = exact(rep.peak_injection_pressure_mpa);
  s["solver.steps"] = count(rep.solver.steps);
  s["solver.pressure_solves"] = count(rep.solver.pressure_solves);
  s["solver.total_iterations"] = count(rep.solver.total_iterations);
  s["solver.max_iterations"] = count(rep.solver.max_iterations);
  s["solver.transport_sweeps"] = count(rep.solver.transport_sweeps);
  s["wall_time_s"] =
      exact(prior_wall_s_ +
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  d.text["state"] = key_values(s);

  d.f64["saturation"] = to_host(st.s);
  d.f64["pressure"] = to_host(st.p);
  d.f64["viscosity"] = to_host(st.mu);
  d.f64["mobility"] = to_host(st.lambda);
  d.f64["speed"] = to_host(st.speed);
  d.f64["boundary_out"] = to_host(st.bout);
  d.f64["pore_cement"] = to_host(st.pore);
  d.f64["cure_state"] = to_host(st.cure_state);
  d.f32["arrival"] = to_host(st.arrival);
  d.f32["velocity"] = to_host(st.vel);
  if (loop.predictor.recorded() > 0) {
    d.f64["predictor.last"] = to_host(loop.predictor.last());
    d.f64["predictor.rate"] = to_host(loop.predictor.rate());
  }
  std::vector<double> leaks(kLeakValues * kNumLeakRoutes);
  for (std::size_t r = 0; r < static_cast<std::size_t>(kNumLeakRoutes); ++r) {
    const Leak& L = loop.leaks.records()[r];
    double* x = leaks.data() + kLeakValues * r;
    x[0] = loop.leaks.leaked()[r] ? 1 : 0;
    x[1] = L.volume_ml;
    x[2] = L.first_time_s;
    x[3] = L.first_injected_ml;
    x[4] = L.location_mm[0];
    x[5] = L.location_mm[1];
    x[6] = L.location_mm[2];
  }
  d.f64["leaks"] = std::move(leaks);
  std::vector<double> tl;
  tl.reserve(4 * rep.timeline.size());
  for (const auto& row : rep.timeline) tl.insert(tl.end(), row.begin(), row.end());
  d.f64["timeline"] = std::move(tl);
  write_checkpoint_file(path_, d);
}

void Checkpointer::finish(Report& report) const {
  report.wall_time_s += prior_wall_s_;
  auto& c = report.checkpoint;
  c.written = written_;
  c.file = written_ > 0 ? path_ : "";
  c.resumed = resumed_;
  c.resumed_at_step = resumed_step_;
  c.resumed_at_time_s = resumed_time_s_;
  c.error = error_;
  const bool ended = report.status == "completed" || report.status.rfind("stopped_", 0) == 0;
  if (ended && !own_path_.empty()) {  // also the one a resume read from this output folder
    std::error_code ec;
    std::filesystem::remove(own_path_, ec);
    c.file.clear();
  }
}

}  // namespace cementflow::detail

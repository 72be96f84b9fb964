// `import cementflow`: the planner back end's Python module (SPEC.md §8), pybind11 + NumPy over
// the public library (cementflow.hpp).
//
// Grids come back dense over the bounding box of the model's active voxels, indexed [z, y, x]
// (C order, x fastest, as NumPy, ITK and the bone's own blocks store them); element [k, j, i]
// has its centre at origin_mm + voxel_mm * (i, j, k) in patient RAS+ mm. Voxels outside the
// model are NaN (float grids) or -1 (material).

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cementflow/cementflow.hpp"

namespace py = pybind11;
namespace cf = cementflow;

namespace {

// --- the engine thread: Kokkos once per process, on one thread ---------------------------------
// Kokkos 3.4's host backends keep their instance per host thread: kernels run only from the
// thread that initialised Kokkos. So the module owns one engine thread that creates the Runtime
// (Kokkos + OpenVDB) at first use, runs every engine call, and finalises it at interpreter exit
// (atexit). Callers wait for it with the GIL released.
int g_threads = -1;

class Engine {
 public:
  static Engine& get() {
    static Engine e;
    return e;
  }
  bool started() const { return thread_.joinable(); }
  void post(std::function<void()> job) {
    start();
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
    cv_.notify_all();
  }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }

 private:
  void start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] {
      cf::Runtime runtime(g_threads);
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return quit_ || !jobs_.empty(); });
          if (jobs_.empty()) return;  // quit_ with nothing left
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
  }
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool quit_ = false;
};

/// What a caller and its job on the engine thread share.
struct Call {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<cf::Progress> pending;  // progress reports not yet given to Python
  bool done = false;
  std::exception_ptr error;
  std::atomic<bool> cancel{false};
};

bool on_main_thread() {
  const py::object threading = py::module_::import("threading");
  return threading.attr("current_thread")().is(threading.attr("main_thread")());
}

/// Runs `work` on the engine thread and waits with the GIL released. Every 50 ms (and whenever
/// progress arrives) it takes the GIL back to hand progress to `progress` and, on the main
/// thread, to check for signals (Ctrl-C): a Python exception there sets the cancel flag, and is
/// raised once the work has stopped.
void call_engine(const std::shared_ptr<Call>& call, std::function<void()> work,
                 const py::object& progress) {
  const bool main_thread = on_main_thread();
  Engine::get().post([call, work = std::move(work)] {
    try {
      work();
    } catch (...) {
      call->error = std::current_exception();
    }
    std::lock_guard<std::mutex> lk(call->mu);
    call->done = true;
    call->cv.notify_all();
  });
  std::unique_ptr<py::error_already_set> raised;
  for (;;) {
    std::vector<cf::Progress> batch;
    bool done = false;
    {
      py::gil_scoped_release nogil;
      std::unique_lock<std::mutex> lk(call->mu);
      call->cv.wait_for(lk, std::chrono::milliseconds(50),
                        [&] { return call->done || !call->pending.empty(); });
      batch.swap(call->pending);
      done = call->done;
    }
    if (!raised) {
      try {
        if (main_thread && PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (!progress.is_none())
          for (const auto& p : batch) {
            py::dict d;
            d["time_s"] = p.time_s;
            d["injected_ml"] = p.injected_ml;
            d["target_ml"] = p.target_ml;
            d["injection_pressure_mpa"] = p.injection_pressure_mpa;
            d["tip_pressure_kpa"] = p.tip_pressure_kpa;
            progress(d);
          }
      } catch (py::error_already_set& e) {
        raised = std::make_unique<py::error_already_set>(std::move(e));
        call->cancel = true;
      }
    }
    if (done) break;
  }
  if (raised) throw std::move(*raised);
  if (call->error) std::rethrow_exception(call->error);
}

// --- dense [z, y, x] arrays over the active bounding box ----------------------------------------
struct Box {
  std::array<int, 3> lo{0, 0, 0}, n{0, 0, 0};
  bool empty = true;
};

Box active_box(const cf::BoneBlocks& g) {
  Box b;
  std::array<int, 3> hi{0, 0, 0};
  constexpr int D = cf::BoneBlocks::kBlockDim;
  for (std::size_t blk = 0; blk < g.num_blocks(); ++blk)
    for (int v = 0; v < cf::BoneBlocks::kBlockVoxels; ++v) {
      if (g.material[blk * cf::BoneBlocks::kBlockVoxels + static_cast<std::size_t>(v)] ==
          cf::kInactive)
        continue;
      const std::array<int, 3> ijk{g.block_origin[blk][0] + v % D,
                                   g.block_origin[blk][1] + (v / D) % D,
                                   g.block_origin[blk][2] + v / (D * D)};
      for (int a = 0; a < 3; ++a) {
        if (b.empty || ijk[a] < b.lo[a]) b.lo[a] = ijk[a];
        if (b.empty || ijk[a] > hi[a]) hi[a] = ijk[a];
      }
      b.empty = false;
    }
  if (!b.empty)
    for (int a = 0; a < 3; ++a) b.n[a] = hi[a] - b.lo[a] + 1;
  return b;
}

/// Per-voxel values (blocks * 512 * comps) -> a dense array [z, y, x(, c)].
template <typename T>
py::array_t<T> dense(const cf::BoneBlocks& g, const Box& box, const std::vector<T>& values,
                     T outside, int comps = 1) {
  std::vector<py::ssize_t> shape{box.n[2], box.n[1], box.n[0]};
  if (comps > 1) shape.push_back(comps);
  py::array_t<T> a(shape);
  T* d = a.mutable_data();
  const std::size_t total = static_cast<std::size_t>(a.size());
  std::fill(d, d + total, outside);
  if (box.empty || values.empty()) return a;
  constexpr int D = cf::BoneBlocks::kBlockDim;
  const std::size_t nx = static_cast<std::size_t>(box.n[0]),
                    ny = static_cast<std::size_t>(box.n[1]);
  for (std::size_t blk = 0; blk < g.num_blocks(); ++blk)
    for (int v = 0; v < cf::BoneBlocks::kBlockVoxels; ++v) {
      const std::size_t src = blk * cf::BoneBlocks::kBlockVoxels + static_cast<std::size_t>(v);
      if (g.material[src] == cf::kInactive) continue;
      const std::size_t i = static_cast<std::size_t>(g.block_origin[blk][0] + v % D - box.lo[0]),
                        j = static_cast<std::size_t>(g.block_origin[blk][1] + (v / D) % D -
                                                     box.lo[1]),
                        k = static_cast<std::size_t>(g.block_origin[blk][2] + v / (D * D) -
                                                     box.lo[2]);
      const std::size_t dst = (k * ny + j) * nx + i;
      for (int c = 0; c < comps; ++c)
        d[dst * static_cast<std::size_t>(comps) + static_cast<std::size_t>(c)] =
            values[src * static_cast<std::size_t>(comps) + static_cast<std::size_t>(c)];
    }
  return a;
}

py::tuple origin_of(const cf::BoneBlocks& g, const Box& box) {
  return py::make_tuple(g.origin_mm[0] + g.voxel_mm * box.lo[0],
                        g.origin_mm[1] + g.voxel_mm * box.lo[1],
                        g.origin_mm[2] + g.voxel_mm * box.lo[2]);
}

py::object json_loads(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

/// The scene of a dict or a file; `text` gets its JSON (kept in checkpoints for `run --resume`).
cf::Scene scene_from(const py::object& scene, std::string* text = nullptr) {
  if (py::isinstance<py::dict>(scene)) {
    const std::string t = py::module_::import("json").attr("dumps")(scene).cast<std::string>();
    if (text) *text = t;
    return cf::parse_scene(t, "<dict>");
  }
  const py::object os = py::module_::import("os");
  if (py::isinstance<py::str>(scene) || py::hasattr(scene, "__fspath__")) {
    const std::string path = os.attr("fspath")(scene).cast<std::string>();
    cf::Scene s = cf::load_scene(path);
    if (text) {
      std::ifstream in(path, std::ios::binary);
      text->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return s;
  }
  throw py::type_error("cementflow.run: scene must be a dict or a path to a scene JSON file");
}

py::dict run(const py::object& scene_arg, const py::object& out, const py::object& progress,
             double checkpoint_interval_s, const py::object& resume, long long stop_after_steps) {
  std::string scene_text;
  const cf::Scene scene = scene_from(scene_arg, &scene_text);
  cf::RunOptions opt;
  const py::object os = py::module_::import("os");
  if (!out.is_none()) opt.out_dir = os.attr("fspath")(out).cast<std::string>();
  opt.checkpoint.interval_s = checkpoint_interval_s;
  opt.checkpoint.stop_after_steps = stop_after_steps;
  if (!resume.is_none()) opt.checkpoint.resume_from = os.attr("fspath")(resume).cast<std::string>();
  if (checkpoint_interval_s > 0 || stop_after_steps > 0) opt.checkpoint.scene_text = scene_text;
  auto call = std::make_shared<Call>();
  opt.cancel = &call->cancel;
  if (!progress.is_none())
    opt.progress = [call](const cf::Progress& p) {
      std::lock_guard<std::mutex> lk(call->mu);
      call->pending.push_back(p);
      call->cv.notify_all();
    };
  auto r = std::make_shared<cf::RunResult>();
  call_engine(
      call, [r, scene, opt] { *r = cf::run(scene, opt); }, progress);

  const cf::RunFields& f = r->fields;
  const Box box = active_box(f.grid);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  py::dict grids;
  grids["material"] = dense<std::int32_t>(f.grid, box, f.grid.material, cf::kInactive);
  grids["porosity"] = dense<float>(f.grid, box, f.grid.porosity, nan);
  grids["cement_fraction"] = dense<float>(f.grid, box, f.cement_fraction, nan);
  grids["arrival_time"] = dense<float>(f.grid, box, f.arrival_time, nan);
  grids["pressure"] = dense<float>(f.grid, box, f.pressure, nan);
  if (!f.viscosity.empty()) grids["viscosity"] = dense<float>(f.grid, box, f.viscosity, nan);
  if (!f.velocity.empty()) grids["velocity"] = dense<float>(f.grid, box, f.velocity, nan, 3);

  py::dict result;
  result["report"] = json_loads(cf::to_json(r->report));
  result["grids"] = grids;
  result["origin_mm"] = origin_of(f.grid, box);
  result["voxel_mm"] = f.grid.voxel_mm;
  result["layout"] = "zyx";
  result["out"] = opt.out_dir.empty() ? py::object(py::none()) : py::object(py::str(opt.out_dir));
  return result;
}

/// cementflow.sweep: the `cementflow sweep` command in the library (SPEC.md §4). A dict is
/// parsed as a sweep file in the current folder (its relative scene path resolves against it).
py::dict sweep(const py::object& sweep_arg, const py::object& out) {
  const py::object os = py::module_::import("os");
  cf::SweepPlan plan;
  if (py::isinstance<py::dict>(sweep_arg)) {
    const std::string text =
        py::module_::import("json").attr("dumps")(sweep_arg).cast<std::string>();
    plan = cf::parse_sweep(text, (std::filesystem::current_path() / "<dict>").string());
  } else if (py::isinstance<py::str>(sweep_arg) || py::hasattr(sweep_arg, "__fspath__")) {
    plan = cf::load_sweep(os.attr("fspath")(sweep_arg).cast<std::string>());
  } else {
    throw py::type_error("cementflow.sweep: sweep must be a dict or a path to a sweep JSON file");
  }
  cf::SweepOptions opt;
  opt.out_dir = out.is_none() ? (std::filesystem::path("out") / plan.name).string()
                              : os.attr("fspath")(out).cast<std::string>();
  auto call = std::make_shared<Call>();
  opt.cancel = &call->cancel;
  auto incomplete = std::make_shared<long long>(0);
  auto plan_p = std::make_shared<cf::SweepPlan>(std::move(plan));
  call_engine(
      call, [plan_p, opt, incomplete] { *incomplete = cf::run_sweep(*plan_p, opt); }, py::none());
  std::ifstream in(std::filesystem::path(opt.out_dir) / "sweep.json");
  std::stringstream text;
  text << in.rdbuf();
  py::dict result;
  result["summary"] = json_loads(text.str());
  result["cases"] = static_cast<long long>(plan_p->cases.size());
  result["incomplete"] = *incomplete;
  result["csv"] = (std::filesystem::path(opt.out_dir) / "sweep.csv").string();
  result["out"] = opt.out_dir;
  return result;
}

py::dict generate_vertebra(std::uint64_t seed, double voxel_mm, const std::string& quality,
                           const std::string& fracture, const py::object& out) {
  cf::VertebraParams p;
  p.seed = seed;
  p.voxel_mm = voxel_mm;
  if (quality != "osteoporotic" && quality != "healthy")
    throw cf::InputError("<arguments>", "quality", quality, "osteoporotic or healthy");
  p.osteoporotic = quality == "osteoporotic";
  p.fracture = cf::fracture_from_name(fracture, "<arguments>", "fracture");
  cf::check_vertebra_params(p, "<arguments>", "");
  std::string path;
  if (!out.is_none()) path = py::module_::import("os").attr("fspath")(out).cast<std::string>();
  auto info_p = std::make_shared<cf::VertebraInfo>();
  auto bone_p = std::make_shared<cf::BoneBlocks>();
  call_engine(
      std::make_shared<Call>(),
      [p, path, info_p, bone_p] {
        *bone_p = cf::generate_vertebra(p, info_p.get());
        if (!path.empty()) cf::save_bone(*bone_p, path);
      },
      py::none());
  const cf::BoneBlocks& bone = *bone_p;
  const cf::VertebraInfo& info = *info_p;
  const Box box = active_box(bone);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  py::dict grids;
  grids["material"] = dense<std::int32_t>(bone, box, bone.material, cf::kInactive);
  grids["porosity"] = dense<float>(bone, box, bone.porosity, nan);
  py::dict inf;
  inf["width_mm"] = info.width_mm;
  inf["depth_mm"] = info.depth_mm;
  inf["height_mm"] = info.height_mm;
  inf["body_volume_ml"] = info.body_volume_ml;
  inf["bvtv_target"] = info.bvtv_target;
  inf["active_voxels"] = bone.active_voxels();
  py::dict result;
  result["grids"] = grids;
  result["info"] = inf;
  result["origin_mm"] = origin_of(bone, box);
  result["voxel_mm"] = bone.voxel_mm;
  result["layout"] = "zyx";
  result["out"] = path.empty() ? py::object(py::none()) : py::object(py::str(path));
  return result;
}

}  // namespace

PYBIND11_MODULE(cementflow, m) {
  m.doc() =
      "cementflow: PMMA bone-cement injection into porous trabecular bone (SPEC.md §8). "
      "Grids are dense NumPy arrays indexed [z, y, x] over the model's active bounding box; "
      "element [k, j, i] is centred at origin_mm + voxel_mm * (i, j, k) (patient RAS+ mm).";
  m.attr("__version__") = CEMENTFLOW_VERSION_STRING;

  static py::exception<cf::InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<cf::SimulationError> sim_error(m, "SimulationError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const cf::InputError& e) {
      PyErr_SetString(input_error.ptr(), e.what());
    } catch (const cf::SimulationError& e) {
      PyErr_SetString(sim_error.ptr(), e.what());
    }
  });

  m.def(
      "init",
      [](int threads) {
        if (Engine::get().started())
          throw cf::InputError("<arguments>", "threads", std::to_string(threads),
                               "init() before the first run (the runtime starts once)");
        g_threads = threads;
        call_engine(
            std::make_shared<Call>(), [] {}, py::none());
      },
      py::arg("threads") = -1,
      "Starts the engine's runtime with this many host threads (default: OMP_NUM_THREADS or "
      "all cores). Optional; the first run starts it otherwise. Once per process.");

  m.def("run", &run, py::arg("scene"), py::arg("out") = py::none(),
        py::arg("progress") = py::none(), py::arg("checkpoint_interval_s") = 0.0,
        py::arg("resume") = py::none(), py::arg("stop_after_steps") = 0,
        "Runs a scene (a dict as in SPEC.md §3, or a path to a scene file). Writes report.json, "
        "fill.vdb and pressure_curve.csv into `out` when given. Returns a dict: report (the "
        "report as a dict), grids (name -> NumPy array [z, y, x]), origin_mm, voxel_mm, "
        "layout ('zyx'), out. progress(dict) is called after each step with time_s, "
        "injected_ml, target_ml, injection_pressure_mpa, tip_pressure_kpa. The GIL is released "
        "while running; Ctrl-C (or an exception in progress) cancels the run, keeps the outputs "
        "written so far, and is raised. Invalid input raises cementflow.InputError (a "
        "ValueError) with the CLI's message. Checkpoints (README \"Checkpoint and restart\"): "
        "checkpoint_interval_s writes out/checkpoint.cfck every that many seconds of wall time "
        "(and when cancelled); stop_after_steps stops after that many time steps with a "
        "checkpoint; resume (an output folder or a checkpoint file) continues such a run, with "
        "the same outputs as an uninterrupted one.");

  m.def("generate_vertebra", &generate_vertebra, py::arg("seed") = 1, py::arg("voxel_mm") = 0.5,
        py::arg("quality") = "osteoporotic", py::arg("fracture") = "none",
        py::arg("out") = py::none(),
        "Generates a lumbar vertebra (as `cementflow generate vertebra`). Returns a dict: grids "
        "(material int32, porosity float32; [z, y, x]), info, origin_mm, voxel_mm, layout, "
        "out (the bone .vdb written when `out` is given).");

  m.def("sweep", &sweep, py::arg("sweep"), py::arg("out") = py::none(),
        "Runs a sweep, Monte-Carlo study or cohort (a dict as in SPEC.md §4, or a path to a sweep "
        "file) into `out` (default out/<name>/), resuming finished cases, as `cementflow sweep` "
        "does. Returns a dict: summary (sweep.json as a dict: incidence with Wilson intervals, "
        "percentiles, relative risks), cases, incomplete (cases that did not complete), csv, out. "
        "The GIL is released while running; Ctrl-C cancels (finished cases are kept). Invalid "
        "input raises cementflow.InputError with the CLI's message.");

  m.def("backend", [] {
    auto name = std::make_shared<std::string>();
    call_engine(
        std::make_shared<Call>(), [name] { *name = cf::Runtime::backend(); }, py::none());
    return *name;
  });

  // Finalise the runtime (Kokkos) before the interpreter goes away.
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    py::gil_scoped_release nogil;
    Engine::get().stop();
  }));
}

// Whole scenes: cementflow::simulate (no outputs written) on the example scenes, one run each.
// The scene is read and its bone made outside the timing.

#include <cstdlib>
#include <filesystem>

#include "bench/bench_common.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/scene.hpp"
#include "cementflow/simulation.hpp"

namespace cementflow::bench {

namespace {

constexpr double kM3PerMl = 1e-6;
/// Injected volume of the default-like scene (mL), less than the scene's own so that the whole
/// bench stays within a few minutes on two cores.
constexpr double kDefaultLikeVolumeMl = 1.0;

/// scenes/ of the source tree: $CEMENTFLOW_SOURCE_DIR/scenes, else next to this file's folder.
std::filesystem::path scenes_dir() {
  if (const char* env = std::getenv("CEMENTFLOW_SOURCE_DIR"))
    return std::filesystem::path(env) / "scenes";
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "scenes";
}

/// Runs `file` from scenes/ with the injected volume set to `volume_ml` (<= 0: the scene's own)
/// and, for a generated vertebra, the voxel edge set to `voxel_mm` (<= 0: the scene's own).
void simulate_scene(benchmark::State& state, const char* file, double volume_ml, double voxel_mm) {
  const auto path = scenes_dir() / file;
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(
        ("scene not found: " + path.string() + " (set CEMENTFLOW_SOURCE_DIR to the source tree)")
            .c_str());
    return;
  }
  Scene scene;
  BoneBlocks bone;
  try {
    scene = load_scene(path.string());
    if (volume_ml > 0) scene.injection.volume_m3 = volume_ml * kM3PerMl;
    if (voxel_mm > 0 && scene.bone.kind == BoneSource::Kind::Vertebra)
      scene.bone.vertebra.voxel_mm = voxel_mm;
    bone = make_bone(scene);
  } catch (const InputError& e) {
    state.SkipWithError(e.what());
    return;
  }
  RunResult result;
  double total = 0;
  for (auto _ : state) {
    try {
      const double s = fenced_seconds([&] { result = simulate(scene, bone, RunOptions{}); });
      state.SetIterationTime(s);
      total += s;
    } catch (const InputError& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  const Report& r = result.report;
  const double runs = static_cast<double>(state.iterations());
  state.counters["active_voxels"] = static_cast<double>(r.grid.active_voxels);
  state.counters["voxels/s"] = static_cast<double>(r.grid.active_voxels) * runs / total;
  state.counters["steps"] = static_cast<double>(r.solver.steps);
  state.counters["pressure_solves"] = static_cast<double>(r.solver.pressure_solves);
  state.counters["pcg_iterations"] = static_cast<double>(r.solver.total_iterations);
  state.counters["sweeps"] = static_cast<double>(r.solver.transport_sweeps);
  state.counters["s/solve"] = r.solver.pressure_solves > 0
                                  ? total / runs / static_cast<double>(r.solver.pressure_solves)
                                  : 0.0;
  state.counters["injected_ml"] = r.injected_volume_ml;
  state.counters["mass_balance_err"] = r.mass_balance_error;
  if (r.status != "completed") state.SkipWithError(("run " + r.status + ": " + r.message).c_str());
}

}  // namespace

void register_simulate() {
  benchmark::RegisterBenchmark("simulate/scene:box_vp_power_law", simulate_scene,
                               "box_vp_power_law.json", 0.0, 0.0)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  benchmark::RegisterBenchmark("simulate/scene:box_vp_default/volume:1mL", simulate_scene,
                               "box_vp_default.json", kDefaultLikeVolumeMl, 0.0)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  // The default scene (generated osteoporotic vertebra, 1 mm, shear-thinning cement: the Picard
  // loop), its first millilitre: ~1/5 of the full run, which tools/run_default.sh times whole.
  benchmark::RegisterBenchmark("simulate/scene:vp_unipedicular_osteoporotic/volume:1mL",
                               simulate_scene, "vp_unipedicular_osteoporotic.json",
                               kDefaultLikeVolumeMl, 0.0)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  // Issue 13: the default scene whole (4 mL) at its 1 mm and at 0.5 mm, with the scene's time
  // stepping (simulation.time_stepping, default "volume"). The "front_courant" reference at
  // 0.5 mm takes ~30 min on 2 cores and is not registered (bench/README.md quotes it).
  benchmark::RegisterBenchmark("simulate/scene:vp_unipedicular_osteoporotic/h:1mm", simulate_scene,
                               "vp_unipedicular_osteoporotic.json", 0.0, 1.0)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  benchmark::RegisterBenchmark("simulate/scene:vp_unipedicular_osteoporotic/h:0.5mm",
                               simulate_scene, "vp_unipedicular_osteoporotic.json", 0.0, 0.5)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
}

}  // namespace cementflow::bench

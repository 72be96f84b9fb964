// The cementflow command-line tool (SPEC.md §1). It turns the library's typed errors into exit
// codes: 0 success, 2 invalid input, 3 the simulation could not finish, 1 anything else.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "cementflow/cementflow.hpp"
#include "tools/cli/commands.hpp"
#include "tools/cli/sweep_command.hpp"

namespace cf = cementflow;

namespace {

/// CLI11 check: a finite number > 0 (CLI::PositiveNumber's message prints DBL_MAX in full).
const CLI::Validator kPositive(
    [](std::string& text) -> std::string {
      try {
        std::size_t used = 0;
        const double x = std::stod(text, &used);
        if (used == text.size() && std::isfinite(x) && x > 0) return "";
      } catch (const std::exception&) {
      }
      return "expected a positive number, got '" + text + "'";
    },
    "POSITIVE");

std::atomic<bool> g_cancel{false};
std::atomic<bool> g_stepping{false};  // the run's time loop has begun (its first step is done)

/// SIGINT, SIGTERM, SIGHUP during `run`. Once time steps are being computed, the run stops after
/// the current step and writes what it computed (exit 3). Before that (reading the scene,
/// generating or importing the bone) there is nothing to keep and setup does not poll the flag:
/// the process ends at once (exit 3), as a second signal always does.
extern "C" void on_signal(int) {
  if (!g_stepping.load() || g_cancel.load()) {
    static const char msg[] =
        "\ncementflow: interrupted before the first time step completed: nothing computed, no "
        "outputs written\n";
    if (g_cancel.load() && g_stepping.load()) {
      static const char again[] = "\ncementflow: interrupted twice: outputs not written\n";
      (void)!::write(STDERR_FILENO, again, sizeof again - 1);
    } else {
      (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    }
    ::_exit(3);
  }
  g_cancel.store(true);
}

/// The other commands keep nothing half-done (their files are written under a temporary name and
/// renamed): SIGINT, SIGTERM and SIGHUP end them at once, also when the shell started them with
/// SIGINT ignored (a background job of a script: issue 17 saw SIGINT "ignored" for 47 s).
void default_signal_actions() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
}

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) != 0;
}

/// One-line progress bar on stderr (simulated time, injected volume, pressures).
void draw_progress(const cf::Progress& p) {
  const int width = 30;
  const double frac = p.target_ml > 0 ? std::min(1.0, p.injected_ml / p.target_ml) : 0.0;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r[%s] t=%7.1f s  V=%5.2f/%5.2f mL  P_inj=%6.2f MPa  P_tip=%7.1f kPa",
               bar.c_str(), p.time_s, p.injected_ml, p.target_ml, p.injection_pressure_mpa,
               p.tip_pressure_kpa);
  std::fflush(stderr);
}

void print_summary(const cf::Report& r, const std::string& out_dir) {
  std::printf("scene %s: %s", r.scene.c_str(), r.status.c_str());
  if (!r.message.empty()) std::printf(" (%s)", r.message.c_str());
  std::printf("\n");
  std::printf("  grid              %lld active voxels of %.3g mm in %lld blocks\n",
              r.grid.active_voxels, r.grid.voxel_mm, r.grid.blocks);
  std::printf("  injected          %.3f mL\n", r.injected_volume_ml);
  std::printf("  peak pressure     %.3f MPa at the syringe, %.2f kPa at the tip\n",
              r.peak_injection_pressure_mpa, r.peak_tip_pressure_kpa);
  std::printf("  cement in bone    %.3f mL, max spread %.1f mm, endplate contact %s/%s\n",
              r.fill.cement_volume_in_bone_ml, r.fill.max_spread_mm,
              r.fill.endplate_contact[0] ? "inferior" : "-",
              r.fill.endplate_contact[1] ? "superior" : "-");
  std::printf("  leaked            %.4f mL", r.leak_volume_ml);
  for (const auto& l : r.leaks)
    std::printf("\n    %-20s %.4f mL, first at %.1f s (%.2f mL injected) at (%.1f, %.1f, %.1f) mm",
                l.route.c_str(), l.volume_ml, l.first_time_s, l.first_injected_ml, l.location_mm[0],
                l.location_mm[1], l.location_mm[2]);
  std::printf("\n  leak risk         %.2f (%s)\n", r.leak_risk.score, r.leak_risk.cls.c_str());
  std::printf("  mass balance      %.2e\n", r.mass_balance_error);
  std::printf("  wall time         %.2f s on %s x%d\n", r.wall_time_s, r.engine.backend.c_str(),
              r.engine.threads);
  if (!out_dir.empty()) std::printf("  outputs           %s\n", out_dir.c_str());
}

/// `run`'s checkpoint options (README "Checkpoint and restart").
struct CheckpointArgs {
  double interval_s = 0;           ///< --checkpoint-interval-s
  std::string resume;              ///< --resume OUT_DIR (or a checkpoint file)
  long long stop_after_steps = 0;  ///< --stop-after-steps
};

/// The scene of `run`: SCENE, or the one stored in the checkpoint of --resume; and the options
/// that write and read checkpoints (the output folder defaults to the checkpoint's).
cf::Scene run_scene(const std::string& scene_path, const CheckpointArgs& ck,
                    const cf::cli::SampleArgs& samples, std::string& out_dir,
                    cf::CheckpointOptions& opt) {
  if (scene_path.empty() && ck.resume.empty())
    throw cf::InputError("<arguments>", "scene", "", "a scene file, or --resume OUT_DIR");
  cf::CheckpointInfo info;
  if (!ck.resume.empty()) info = cf::read_checkpoint_info(ck.resume);
  cf::Scene scene;
  if (!scene_path.empty()) {
    scene = cf::cli::load_run_scene(scene_path, samples.samples > 0);
  } else {
    if (samples.samples > 0)
      throw cf::InputError("<arguments>", "--samples", std::to_string(samples.samples),
                           "the scene file as well (run SCENE --resume OUT_DIR --samples N)");
    if (info.scene_text.empty())
      throw cf::InputError(info.file, "scene", "none stored",
                           "a checkpoint that holds its scene, or the scene given (run SCENE "
                           "--resume OUT_DIR)");
    scene = cf::parse_scene(info.scene_text, info.scene_file);
  }
  if (out_dir.empty())
    out_dir = ck.resume.empty() ? (std::filesystem::path("out") / scene.name).string()
                                : std::filesystem::path(info.file).parent_path().string();
  if (out_dir.empty()) out_dir = ".";
  opt.resume_from = ck.resume.empty() ? "" : info.file;
  opt.interval_s = ck.interval_s > 0 ? ck.interval_s : info.interval_s;
  opt.stop_after_steps = ck.stop_after_steps;
  if (opt.interval_s > 0 || opt.stop_after_steps > 0)
    opt.scene_text =
        scene_path.empty() ? info.scene_text : cf::split_scene_uncertainty(scene_path).scene_json;
  return scene;
}

int cmd_run(const std::string& scene_path, std::string out_dir, int threads, bool quiet,
            bool render, const cf::cli::SampleArgs& samples, const CheckpointArgs& ck) {
  install_signal_handlers();
  cf::Runtime runtime(threads);
  cf::RunOptions opt;
  cf::Scene scene = run_scene(scene_path, ck, samples, out_dir, opt.checkpoint);

  opt.out_dir = out_dir;
  opt.cancel = &g_cancel;
  const bool bar = !quiet && stderr_is_terminal();
  opt.progress = [bar](const cf::Progress& p) {
    g_stepping.store(true);
    if (bar) draw_progress(p);
  };

  cf::RunResult result = cf::run(scene, opt);
  if (bar) std::fprintf(stderr, "\n");
  const cf::Report& r = result.report;
  long long samples_incomplete = 0;
  if (samples.samples > 0 && !g_cancel.load()) {
    samples_incomplete =
        cf::cli::add_leak_probability(scene_path, out_dir, samples, result, &g_cancel, bar);
    const auto& lp = r.leak_probability;
    if (!quiet)
      std::printf(
          "leak probability  %.3f (95 %% CI %.3f-%.3f): %lld of %lld evaluated samples "
          "leaked > %g mL (samples in %s/samples)\n",
          lp.any, lp.ci95[0], lp.ci95[1], lp.leaking, lp.evaluated, lp.threshold_ml,
          out_dir.c_str());
  }
  if (!quiet) print_summary(r, out_dir);
  if (render) {
    const std::string curve = (std::filesystem::path(out_dir) / "pressure_curve.png").string();
    cf::write_pressure_curve_png(r, curve);
    if (!quiet) std::printf("  pressure curve    %s\n", curve.c_str());
    // The run's fill over its bone (the grid the engine ran on: material, porosity, k).
    cf::RenderOptions ro;
    ro.out_dir = (std::filesystem::path(out_dir) / "render").string();
    ro.vtk = true;
    ro.stem = "fill";
    const auto files = cf::render_bone(result.fields.grid, &result.fields.cement_fraction, ro);
    if (!quiet)
      std::printf("  pictures          %zu files in %s\n", files.size(), ro.out_dir.c_str());
  }
  if (samples_incomplete > 0)
    std::fprintf(stderr, "cementflow: %s: %lld of %lld samples did not complete (%s/samples)\n",
                 scene_path.c_str(), samples_incomplete, samples.samples, out_dir.c_str());
  if (!r.checkpoint.error.empty())
    std::fprintf(stderr, "cementflow: warning: checkpoint not written: %s\n",
                 r.checkpoint.error.c_str());
  if (!r.checkpoint.file.empty())
    std::fprintf(stderr, "cementflow: checkpoint %s (continue with: cementflow run --resume %s)\n",
                 r.checkpoint.file.c_str(), out_dir.c_str());
  if ((r.status == "completed" || r.status == "stopped_at_leak") && samples_incomplete == 0)
    return 0;
  std::fprintf(stderr, "cementflow: %s: simulation %s: %s (outputs written to %s)\n",
               (scene_path.empty() ? scene.file : scene_path).c_str(), r.status.c_str(),
               r.message.c_str(), out_dir.c_str());
  return 3;
}

int cmd_generate_box(const cf::BoxPhantom& box, const std::string& out) {
  cf::Runtime runtime;
  cf::BoneBlocks bone = cf::generate_box(box);
  cf::complete_bone(bone);
  cf::save_bone(bone, out);
  std::printf("wrote %s: %zu active voxels of %.3g mm in %zu blocks\n", out.c_str(),
              bone.active_voxels(), bone.voxel_mm, bone.num_blocks());
  return 0;
}

int cmd_generate_vertebra(cf::VertebraParams p, const std::string& fracture,
                          const std::string& out) {
  p.fracture = cf::fracture_from_name(fracture, "<arguments>", "--fracture");
  try {
    cf::check_vertebra_params(p, "<arguments>", "");
  } catch (const cf::InputError& e) {
    throw cf::InputError("<arguments>", "--voxel-mm", e.value(), e.expected());
  }
  cf::Runtime runtime;
  cf::VertebraInfo info;
  const cf::BoneBlocks bone = cf::generate_vertebra(p, &info);
  cf::save_bone(bone, out);
  double s = 0, s2 = 0, n = 0;
  for (std::size_t i = 0; i < bone.num_voxels(); ++i)
    if (bone.material[i] == static_cast<std::int32_t>(cf::Material::Trabecular)) {
      const double b = 1.0 - static_cast<double>(bone.porosity[i]);
      s += b;
      s2 += b * b;
      n += 1;
    }
  const double mean = n > 0 ? s / n : 0,
               sd = n > 0 ? std::sqrt(std::max(0.0, s2 / n - mean * mean)) : 0;
  std::printf("wrote %s: %zu active voxels of %.3g mm in %zu blocks\n", out.c_str(),
              bone.active_voxels(), bone.voxel_mm, bone.num_blocks());
  std::printf("  %s lumbar body %.1f x %.1f x %.1f mm (W x D x H), %.2f mL, fracture %s\n",
              p.osteoporotic ? "osteoporotic" : "healthy", info.width_mm, info.depth_mm,
              info.height_mm, info.body_volume_ml, cf::fracture_name(p.fracture));
  std::printf("  trabecular BV/TV mean %.4f, sd %.4f (seed %llu)\n", mean, sd,
              static_cast<unsigned long long>(p.seed));
  return 0;
}

int cmd_render(const std::string& path, std::string out_dir, const std::string& at, bool has_at,
               bool vtk) {
  cf::Runtime runtime(1);
  cf::RenderOptions ro;
  const std::filesystem::path fp(path);
  if (out_dir.empty()) out_dir = (fp.parent_path() / (fp.stem().string() + "_render")).string();
  ro.out_dir = out_dir;
  ro.vtk = vtk;
  ro.stem = fp.stem().string();
  if (has_at) {
    std::istringstream in(at);
    char c1 = 0, c2 = 0;
    in >> ro.at_mm[0] >> c1 >> ro.at_mm[1] >> c2 >> ro.at_mm[2];
    std::string rest;
    in >> rest;
    if (in.bad() || c1 != ',' || c2 != ',' || !rest.empty() || !std::isfinite(ro.at_mm[0]) ||
        !std::isfinite(ro.at_mm[1]) || !std::isfinite(ro.at_mm[2]))
      throw cf::InputError("<arguments>", "--at", at, "X,Y,Z in mm (three numbers, commas)");
    ro.has_at = true;
  }
  const auto files = cf::render_vdb(path, ro);
  std::printf("wrote %zu files to %s\n", files.size(), out_dir.c_str());
  return 0;
}

int cmd_import(const cf::ImportOptions& opt, const std::string& out) {
  cf::Runtime runtime(1);
  const cf::ImportSummary s = cf::import_to_vdb(opt, out);
  std::printf(
      "wrote %s: %zu active voxels of %.4g mm (%zu bone voxels, %.2f mL, mean porosity "
      "%.3f)\n",
      out.c_str(), s.active_voxels, s.voxel_mm, s.bone_voxels, s.bone_volume_ml,
      s.mean_bone_porosity);
  std::printf("  image %zux%zux%zu voxels of %.4g x %.4g x %.4g mm\n", s.image_dims[0],
              s.image_dims[1], s.image_dims[2], s.image_spacing_mm[0], s.image_spacing_mm[1],
              s.image_spacing_mm[2]);
  if (s.mode == "microct") {
    std::printf("  micro-CT: bone = grey value > %g (%s), BV/TV %.4f at the image resolution\n",
                s.threshold, s.otsu ? "Otsu" : "given", s.image_bv_tv);
  } else {
    std::printf("  label %d: %zu voxels, %.2f mL, mean %.1f HU, mean BV/TV %.3f\n", opt.label_value,
                s.label_voxels, s.label_volume_ml, s.label_mean_hu, s.label_bv_tv);
    std::printf("  calibration: BMD = %g * HU + %g mg/cm3, BV/TV = BMD / %g (%s)\n",
                s.calibration.bmd_slope_mg_cm3_per_hu, s.calibration.bmd_intercept_mg_cm3,
                s.calibration.tissue_bmd_mg_cm3, s.calibration.source.c_str());
  }
  std::printf(
      "  bone centroid (%.1f, %.1f, %.1f) mm RAS, extent x %.1f..%.1f y %.1f..%.1f z "
      "%.1f..%.1f\n",
      s.bone_centroid_mm[0], s.bone_centroid_mm[1], s.bone_centroid_mm[2], s.bone_min_mm[0],
      s.bone_max_mm[0], s.bone_min_mm[1], s.bone_max_mm[1], s.bone_min_mm[2], s.bone_max_mm[2]);
  return 0;
}

int cmd_info(const std::string& path, bool json) {
  cf::Runtime runtime(1);
  cf::FileInfo info = cf::inspect_vdb(path);
  std::cout << (json ? cf::to_json(info) : cf::to_text(info)) << std::endl;
  return 0;
}

/// Confidence code from a preset's source text ("Confidence X." at its start).
std::string confidence_of(const std::string& source) {
  const std::string tag = "Confidence ";
  const auto p = source.find(tag);
  return p == std::string::npos || p + tag.size() >= source.size()
             ? "?"
             : source.substr(p + tag.size(), 1);
}

int cmd_presets() {
  for (const auto& p : cf::presets()) {
    std::printf("%s  [confidence %s]\n  %s\n  model %s", p.name.c_str(),
                confidence_of(p.source).c_str(), p.description.c_str(),
                cf::model_name(p.rheology.model));
    const auto& r = p.rheology;
    switch (r.model) {
      case cf::RheologyModel::Newtonian:
        std::printf(", viscosity %g Pa.s", r.viscosity_pa_s);
        break;
      case cf::RheologyModel::PowerLaw:
        std::printf(", K %g Pa.s^n, n %g", r.consistency_pa_sn, r.flow_index);
        break;
      default:
        break;
    }
    std::printf(", bounds [%g, %g] Pa.s", r.min_viscosity_pa_s, r.max_viscosity_pa_s);
    if (r.curing.model == cf::CureModel::Exponential)
      std::printf(
          "\n  curing exponential: K at t0 = %g s after mixing, tau = %g s at %g C, "
          "E = %g kJ/mol; syringe %g C, bone %g C",
          r.curing.reference_age_s, r.curing.time_constant_s, r.curing.reference_temperature_c,
          r.curing.activation_energy_j_mol * 1e-3, r.curing.room_temperature_c,
          r.curing.body_temperature_c);
    std::printf("\n  source: %s\n\n", p.source.c_str());
  }
  return 0;
}

int cmd_fit(const std::string& csv, const std::string& model, const std::string& out_dir) {
  const cf::RheologyModel m = cf::rheology_model_from_name(model, "<argument>", "--model");
  const cf::RheometerData data = cf::read_rheometer_csv(csv);
  const cf::RheologyFit fit = cf::fit_rheology(data, m);
  std::printf("fit-rheology: %s to %zu points of %s (%s, %d iterations)\n", model.c_str(),
              fit.points, csv.c_str(), fit.status.c_str(), fit.iterations);
  for (const auto& q : fit.parameters)
    std::printf("  %-34s %14.6g +- %.3g\n", q.key.c_str(), q.value, q.std_error);
  std::printf(
      "goodness of fit (ln residuals): rms %.4g, residual std error %.4g, R^2 %.6f, max "
      "relative error %.3g\n",
      fit.rms_log_residual, fit.residual_std_error, fit.r_squared_log, fit.max_relative_error);
  std::printf("cement block for a scene:\n\"cement\": %s\n", cf::cement_json(fit.rheology).c_str());
  const std::string dir = out_dir.empty() ? "fit_" + model : out_dir;
  cf::write_fit_outputs(data, fit, dir);
  std::printf("wrote %s/fit.json, %s/cement.json, %s/fit.png\n", dir.c_str(), dir.c_str(),
              dir.c_str());
  return 0;
}

/// A seed is a whole number 0..2^64-1 written in decimal (issue 17: -1 wrapped around and
/// 2^64 was accepted).
std::uint64_t parse_seed(const std::string& text) {
  const std::string expected = "a whole number from 0 to 18446744073709551615";
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    throw cf::InputError("<arguments>", "--seed", text.empty() ? "\"\"" : text, expected);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0')
    throw cf::InputError("<arguments>", "--seed", text, expected);
  return static_cast<std::uint64_t>(v);
}

std::string version_text() {
  cf::Runtime runtime;
  return std::string("cementflow ") + CEMENTFLOW_VERSION_STRING + "\nKokkos " +
         cf::Runtime::kokkos_version() + ", backend " + cf::Runtime::backend() + ", " +
         std::to_string(cf::Runtime::concurrency()) + " threads";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cementflow: PMMA bone-cement injection into porous trabecular bone (OpenVDB)",
               "cementflow"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "print the version, the Kokkos backend and threads");

  // run
  auto* run = app.add_subcommand("run", "run a scene: report.json, fill.vdb, pressure_curve.csv");
  std::string scene_path, out_dir;
  int threads = -1;
  bool quiet = false;
  run->add_option("scene", scene_path, "scene JSON file (optional with --resume)");
  run->add_option("--out", out_dir, "output folder (default out/<scene name>/)");
  run->add_option("--threads", threads, "host threads (default: OMP_NUM_THREADS or all cores)")
      ->check(CLI::Range(1, 512));
  run->add_flag("--quiet", quiet, "only warnings and errors");
  bool run_render = false;
  run->add_flag("--render", run_render,
                "also write pictures of the fill over the bone (PNG, .vti) into <out>/render/ "
                "and pressure_curve.png");
  cf::cli::SampleArgs run_samples;
  cf::cli::add_sample_options(*run, run_samples);
  CheckpointArgs run_ckpt;
  run->add_option("--checkpoint-interval-s", run_ckpt.interval_s,
                  "write a restartable checkpoint (<out>/checkpoint.cfck) every S seconds of "
                  "wall time, and when stopped by a signal")
      ->check(kPositive);
  run->add_option("--resume", run_ckpt.resume,
                  "continue the run whose checkpoint is in this output folder (the scene is "
                  "read from the checkpoint unless given)");
  run->add_option("--stop-after-steps", run_ckpt.stop_after_steps,
                  "stop after N time steps, writing a checkpoint (exit 3; for running in slices)")
      ->check(CLI::Range(1LL, 1000000000LL));

  // sweep (tools/cli/sweep_command.cpp)
  cf::cli::SweepArgs sweep_args;
  cf::cli::add_sweep_command(app, sweep_args);

  // generate
  auto* gen = app.add_subcommand("generate", "generate a bone model as a VDB file");
  gen->require_subcommand(1);
  auto* gbox = gen->add_subcommand("box", "homogeneous porous box phantom (validation scenes)");
  cf::BoxPhantom box;
  std::string gen_out = "box.vdb";
  std::vector<double> size_mm;
  std::vector<double> perm;
  gbox->add_option("--size-mm", size_mm, "X Y Z size in mm (default 40 30 25)")->expected(3);
  gbox->add_option("--voxel-mm", box.voxel_mm, "voxel edge in mm (default 0.5)")->check(kPositive);
  gbox->add_option("--porosity", box.porosity, "pore fraction 0..1 (default 0.9)")
      ->check(CLI::Range(0.0, 1.0));
  gbox->add_option("--permeability-m2", perm, "kx ky kz in m^2 (default: the engine's law)")
      ->expected(3)
      ->check(kPositive);
  gbox->add_option("--shell-mm", box.shell_mm, "cortical shell thickness (default none)")
      ->check(CLI::NonNegativeNumber);
  gbox->add_option("--sink-faces", box.sink_faces, "soft-tissue faces: +x -x +y -y +z -z");
  gbox->add_flag("--vein", box.vein,
                 "add a straight basivertebral vein from (0, -Y/4, 0) to the -y face");
  gbox->add_option("--out", gen_out, "output VDB (default box.vdb)");

  auto* gvert = gen->add_subcommand("vertebra", "lumbar vertebra with veins, discs, canal");
  cf::VertebraParams vert;
  std::string vert_out = "vertebra.vdb", fracture = "none";
  bool healthy = false, osteoporotic = false;
  std::string seed_text;
  gvert->add_option("--seed", seed_text,
                    "random seed 0..18446744073709551615: dimensions and BV/TV field (default 1)");
  gvert->add_option("--voxel-mm", vert.voxel_mm, "voxel edge in mm (default 0.5)")
      ->check(kPositive);
  auto* o_osteo = gvert->add_flag("--osteoporotic", osteoporotic,
                                  "osteoporotic trabecular bone, BV/TV 0.09 (default)");
  gvert->add_flag("--healthy", healthy, "healthy trabecular bone, BV/TV 0.15")->excludes(o_osteo);
  gvert->add_option("--fracture", fracture, "none (default), wedge or cleft");
  gvert->add_option("--out", vert_out, "output VDB (default vertebra.vdb)");

  // render
  auto* rend = app.add_subcommand(
      "render", "PNG slices and projections of a bone or fill VDB; --vtk adds a .vti for ParaView");
  std::string rend_path, rend_out, rend_at;
  bool rend_vtk = false;
  rend->add_option("file", rend_path, "bone or fill VDB file")->required();
  rend->add_option("--out", rend_out, "output folder (default <file stem>_render beside it)");
  rend->add_option("--at", rend_at, "slice point X,Y,Z in mm (default: cement or bone centroid)");
  rend->add_flag("--vtk", rend_vtk, "also write <stem>.vti (VTK XML ImageData)");

  // import
  auto* imp = app.add_subcommand(
      "import", "micro-CT or clinical CT (+ label mask) -> bone VDB (material, porosity, k)");
  cf::ImportOptions import_opt;
  std::string import_out;
  imp->add_option("image", import_opt.image,
                  "TIFF folder or .tif, MetaImage .mhd, NIfTI .nii/.nii.gz or a DICOM folder")
      ->required();
  imp->add_option("--label", import_opt.label, "label mask (NIfTI etc.) of a clinical CT");
  imp->add_option("--label-value", import_opt.label_value, "the vertebra's label value");
  imp->add_option("--threshold", import_opt.threshold,
                  "micro-CT: bone = grey value > T, or otsu (default otsu)");
  imp->add_option("--voxel-mm", import_opt.voxel_mm,
                  "output voxel edge in mm (default: the image's smallest spacing)")
      ->check(kPositive);
  imp->add_option("--image-spacing-mm", import_opt.image_spacing_mm,
                  "voxel size of a TIFF stack (TIFF stores none)")
      ->check(kPositive);
  imp->add_option("--calibration", import_opt.calibration,
                  "JSON: bmd_slope_mg_cm3_per_hu, bmd_intercept_mg_cm3, tissue_bmd_mg_cm3, source");
  imp->add_option("--sink-layers", import_opt.sink_layers,
                  "soft-tissue (sink) voxel layers around the model (default 1)");
  bool no_shell = false;
  imp->add_flag(
      "--no-shell", no_shell,
      "clinical CT: no cortical shell on the label boundary (bone drains to soft tissue)");
  imp->add_option("--out", import_out, "output bone VDB")->required();

  // info
  auto* info =
      app.add_subcommand("info", "grids, voxel size, bounding box and statistics of a VDB");
  std::string info_path;
  bool info_json = false;
  info->add_option("file", info_path, "VDB file")->required();
  info->add_flag("--json", info_json, "print JSON instead of text");

  // presets
  auto* pre = app.add_subcommand("presets", "cement presets with their sources");

  // fit-rheology
  auto* fit =
      app.add_subcommand("fit-rheology", "fit a cement model to rheometer data (CSV, SPEC.md §3a)");
  std::string fit_csv, fit_model, fit_out;
  fit->add_option("data", fit_csv, "CSV: shear_rate_per_s,viscosity_pa_s[,time_s[,temperature_c]]")
      ->required();
  fit->add_option("--model", fit_model,
                  "newtonian, power_law, cross, carreau_yasuda or herschel_bulkley")
      ->required();
  fit->add_option("--out", fit_out, "output folder (default fit_<model>/)");

  // --max-memory-gb on every command that reads or builds a model (issue 17, item 6).
  double max_memory_gb = 0;
  for (CLI::App* sub : {run, gbox, gvert, rend, imp, info, fit})
    sub->add_option("--max-memory-gb", max_memory_gb,
                    "refuse inputs whose estimated memory exceeds this (default: 80% of RAM)")
        ->check(kPositive);
  // Subcommands in their own files (tools/cli/*_command.cpp).
  const cementflow::cli::Command extra[] = {cementflow::cli::add_serve_command(app),
                                            cementflow::cli::add_slicer_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cementflow: <arguments>: %s (see cementflow --help)\n", e.what());
    return 2;
  }

  if (max_memory_gb > 0) cf::set_memory_budget_bytes(max_memory_gb * 1e9);
  default_signal_actions();  // `run` installs its own handlers
  try {
    if (show_version) {
      std::cout << version_text() << std::endl;
      return 0;
    }
    if (run->parsed())
      return cmd_run(scene_path, out_dir, threads, quiet, run_render, run_samples, run_ckpt);
    if (sweep_args.command->parsed()) return cf::cli::run_sweep_command(sweep_args, &argc, &argv);
    if (gvert->parsed()) {
      if (gvert->count("--seed") > 0) vert.seed = parse_seed(seed_text);
      vert.osteoporotic = !healthy;
      return cmd_generate_vertebra(vert, fracture, vert_out);
    }
    if (rend->parsed())
      return cmd_render(rend_path, rend_out, rend_at, rend->count("--at") > 0, rend_vtk);
    if (gbox->parsed()) {
      if (!size_mm.empty()) box.size_mm = {size_mm[0], size_mm[1], size_mm[2]};
      box.vein_start_mm = {0, -box.size_mm[1] / 4, 0};  // a quarter of the depth behind the centre
      if (!perm.empty()) box.permeability_m2 = {perm[0], perm[1], perm[2]};
      return cmd_generate_box(box, gen_out);
    }
    if (imp->parsed()) {
      import_opt.cortical_shell = !no_shell;
      return cmd_import(import_opt, import_out);
    }
    if (info->parsed()) return cmd_info(info_path, info_json);
    if (pre->parsed()) return cmd_presets();
    if (fit->parsed()) return cmd_fit(fit_csv, fit_model, fit_out);
    for (const auto& c : extra)
      if (c.sub->parsed()) return c.action();
    std::cout << app.help() << std::endl;
    return 0;
  } catch (const cf::InputError& e) {
    std::fprintf(stderr, "cementflow: %s\n", e.what());
    return 2;
  } catch (const cf::SimulationError& e) {
    std::fprintf(stderr, "cementflow: simulation failed: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cementflow: error: %s\n", e.what());
    return 1;
  }
}

// Checkpoint/restart (issue 17 item 4): a run stopped after N steps and resumed from its
// checkpoint gives the outputs of the uninterrupted run (report numbers, timeline, fields), and a
// checkpoint that is damaged, truncated, of another format or cementflow version, of another
// scene or of another bone is refused with exit 2 and one line naming the file and the key.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "cementflow/cementflow.hpp"
#include "engine/io/checkpoint_file.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
namespace cf = cementflow;
using cementflow::test::cli;
using cementflow::test::run_command;

namespace {

/// A 16 x 12 x 10 mm box at 1 mm with a vein 3 mm from the tip: 0.4 mL, a leak after ~0.1 mL.
std::string box_scene(const std::string& cement = "generic_vertebroplasty",
                      const std::string& stepping = "volume", double flow_ml_min = 3.0) {
  return R"({
  "schema": 1,
  "name": "ckpt_box",
  "bone": { "generate": { "kind": "box", "size_mm": [16, 12, 10], "voxel_mm": 1.0,
            "porosity": 0.9, "shell_mm": 1.0, "sink_faces": [],
            "vein": { "start_mm": [0, -2, 0], "direction": [0, -1, 0], "diameter_mm": 1.5,
                      "route": "basivertebral_vein" } } },
  "cement": { "preset": ")" +
         cement + R"(" },
  "marrow": { "viscosity_pa_s": 0.04 },
  "injection": {
    "mode": "vertebroplasty",
    "needle": { "tip_mm": [0, 1, 0], "direction": [0, 1, 0], "gauge": 11, "length_mm": 120 },
    "flow_rate_ml_per_min": )" +
         std::to_string(flow_ml_min) + R"(,
    "volume_ml": 0.4,
    "start_after_mixing_s": 300
  },
  "simulation": { "max_time_s": 600, "output_interval_s": 1, "time_stepping": ")" +
         stepping + R"(" }
})";
}

/// Equal to round-off: the resumed run repeats the same operations on the same numbers.
void expect_close(double a, double b, const std::string& what) {
  EXPECT_LE(std::abs(a - b), 1e-12 * std::max({std::abs(a), std::abs(b), 1e-300}))
      << what << ": " << a << " vs " << b;
}

void expect_same_run(const cf::RunResult& a, const cf::RunResult& b, const std::string& where) {
  const cf::Report &ra = a.report, &rb = b.report;
  EXPECT_EQ(ra.status, rb.status) << where;
  expect_close(ra.injected_volume_ml, rb.injected_volume_ml, where + " injected");
  expect_close(ra.peak_injection_pressure_mpa, rb.peak_injection_pressure_mpa, where + " peak");
  expect_close(ra.peak_tip_pressure_kpa, rb.peak_tip_pressure_kpa, where + " peak tip");
  expect_close(ra.leak_volume_ml, rb.leak_volume_ml, where + " leak volume");
  expect_close(ra.fill.cement_volume_in_bone_ml, rb.fill.cement_volume_in_bone_ml, where + " fill");
  ASSERT_EQ(ra.leaks.size(), rb.leaks.size()) << where;
  for (size_t i = 0; i < ra.leaks.size(); ++i) {
    EXPECT_EQ(ra.leaks[i].route, rb.leaks[i].route) << where;
    expect_close(ra.leaks[i].volume_ml, rb.leaks[i].volume_ml, where + " leak");
    expect_close(ra.leaks[i].first_time_s, rb.leaks[i].first_time_s, where + " first leak t");
    expect_close(ra.leaks[i].first_injected_ml, rb.leaks[i].first_injected_ml, where + " V");
    for (size_t k = 0; k < 3; ++k)
      expect_close(ra.leaks[i].location_mm[k], rb.leaks[i].location_mm[k], where + " location");
  }
  EXPECT_EQ(ra.solver.steps, rb.solver.steps) << where;
  EXPECT_EQ(ra.solver.pressure_solves, rb.solver.pressure_solves) << where;
  EXPECT_EQ(ra.solver.total_iterations, rb.solver.total_iterations) << where;
  EXPECT_EQ(ra.solver.max_iterations, rb.solver.max_iterations) << where;
  EXPECT_EQ(ra.solver.transport_sweeps, rb.solver.transport_sweeps) << where;
  ASSERT_EQ(ra.timeline.size(), rb.timeline.size()) << where;
  for (size_t i = 0; i < ra.timeline.size(); ++i)
    for (size_t k = 0; k < 4; ++k)
      expect_close(ra.timeline[i][k], rb.timeline[i][k], where + " timeline row");
  // The fields: saturation (cement_fraction), pressure, arrival time.
  ASSERT_EQ(a.fields.cement_fraction.size(), b.fields.cement_fraction.size()) << where;
  float ds = 0, dp = 0, dt = 0, pmax = 0;
  for (size_t i = 0; i < a.fields.cement_fraction.size(); ++i) {
    ds = std::max(ds, std::abs(a.fields.cement_fraction[i] - b.fields.cement_fraction[i]));
    dp = std::max(dp, std::abs(a.fields.pressure[i] - b.fields.pressure[i]));
    dt = std::max(dt, std::abs(a.fields.arrival_time[i] - b.fields.arrival_time[i]));
    pmax = std::max(pmax, std::abs(a.fields.pressure[i]));
  }
  EXPECT_LE(ds, 1e-6f) << where << ": saturation";
  EXPECT_LE(dp, 1e-6f * pmax) << where << ": pressure";
  EXPECT_LE(dt, 1e-5f) << where << ": arrival time";
}

cf::RunResult run_scene(const cf::Scene& scene, const std::string& out, long long stop_after,
                        const std::string& resume) {
  cf::RunOptions opt;
  opt.out_dir = out;
  opt.checkpoint.stop_after_steps = stop_after;
  opt.checkpoint.resume_from = resume;
  return cf::run(scene, opt);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(b.data(), static_cast<std::streamsize>(b.size()));
}

/// Sets the trailing checksum to that of the content (a well-formed file with edited content).
void reseal(std::string& b) {
  const std::uint64_t h = cf::detail::fnv1a64(b.data(), b.size() - 8);
  std::memcpy(b.data() + b.size() - 8, &h, 8);
}

/// Runs the CLI; expects exit status 2 and one line on stderr naming `file` and `key`.
void expect_refused(const std::string& args, const std::string& file, const std::string& key) {
  std::string out;
  const int rc = run_command(cli() + " " + args, &out);
  EXPECT_EQ(rc, 2) << args << "\n" << out;
  EXPECT_NE(out.find(file), std::string::npos) << args << "\n" << out;
  EXPECT_NE(out.find(key), std::string::npos) << args << "\n" << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << args << "\n" << out;
}

}  // namespace

TEST(Checkpoint, ResumedRunEqualsUninterrupted) {
  const auto dir = cementflow::test::temp_dir("ckpt_lib");
  // A curing cement with volume steps (predictor, step control, leak bisection), the front
  // Courant reference, a Newtonian cement without cure state, and a yield-stress cement whose
  // vein gateway opens during the run (issue 15: the open faces are carried state).
  const struct {
    const char* cement;
    const char* stepping;
  } cases[] = {{"generic_vertebroplasty", "volume"},
               {"generic_vertebroplasty", "front_courant"},
               {"newtonian_100", "volume"},
               {"hv_dough", "volume"}};
  for (const auto& c : cases) {
    const std::string name = std::string(c.cement) + "/" + c.stepping;
    const cf::Scene scene = cf::parse_scene(box_scene(c.cement, c.stepping), "ckpt_box.json");
    const cf::RunResult whole = run_scene(scene, "", 0, "");
    ASSERT_EQ(whole.report.status, "completed") << name << ": " << whole.report.message;
    ASSERT_EQ(whole.report.leaks.size(), 1u) << name;
    const long long steps = whole.report.solver.steps;
    ASSERT_GE(steps, 8) << name;
    // Stopped after the first step, before and after the first leak; and a chain of slices.
    for (long long k : {1LL, steps / 4, (3 * steps) / 4}) {
      const std::string out = (dir / ("k" + std::to_string(k))).string();
      const cf::RunResult part = run_scene(scene, out, k, "");
      EXPECT_EQ(part.report.status, "failed") << name;
      EXPECT_EQ(part.report.solver.steps, k) << name;
      EXPECT_EQ(part.report.checkpoint.written, 1) << name;
      ASSERT_TRUE(fs::exists(fs::path(out) / cf::kCheckpointFileName)) << name;
      const cf::RunResult resumed = run_scene(scene, out, 0, out);
      EXPECT_TRUE(resumed.report.checkpoint.resumed);
      EXPECT_EQ(resumed.report.checkpoint.resumed_at_step, k);
      expect_same_run(whole, resumed, name + " stopped after " + std::to_string(k));
    }
    const std::string out = (dir / "chain").string();
    run_scene(scene, out, 2, "");
    run_scene(scene, out, steps / 2, out);
    const cf::RunResult last = run_scene(scene, out, 0, out);
    expect_same_run(whole, last, name + " in three slices");
    // A completed run leaves no checkpoint behind (nothing to resume).
    EXPECT_FALSE(fs::exists(fs::path(out) / cf::kCheckpointFileName)) << name;
  }
}

TEST(Checkpoint, InfoAndSceneHash) {
  const auto dir = cementflow::test::temp_dir("ckpt_info");
  const cf::Scene scene = cf::parse_scene(box_scene(), "ckpt_box.json");
  cf::RunOptions opt;
  opt.out_dir = dir.string();
  opt.checkpoint.stop_after_steps = 3;
  opt.checkpoint.scene_text = box_scene();
  cf::run(scene, opt);
  const cf::CheckpointInfo info = cf::read_checkpoint_info(dir.string());
  EXPECT_EQ(info.file, (dir / cf::kCheckpointFileName).string());
  EXPECT_EQ(info.cementflow_version, CEMENTFLOW_VERSION_STRING);
  EXPECT_EQ(info.scene_hash, cf::scene_hash(scene));
  EXPECT_EQ(info.scene_name, "ckpt_box");
  EXPECT_EQ(info.scene_text, box_scene());
  EXPECT_EQ(info.steps, 3);
  EXPECT_GT(info.time_s, 0);
  EXPECT_NEAR(info.injected_ml, info.time_s * 3.0 / 60, 1e-12);
  // The hash sees a setting change, not formatting or the file's path.
  EXPECT_EQ(cf::scene_hash(cf::parse_scene(box_scene(), "elsewhere/other.json")),
            cf::scene_hash(scene));
  EXPECT_NE(cf::scene_hash(cf::parse_scene(box_scene("generic_vertebroplasty", "volume", 3.5),
                                           "ckpt_box.json")),
            cf::scene_hash(scene));
}

TEST(Checkpoint, CliStopAndResumeGivesTheSameReport) {
  const auto dir = cementflow::test::temp_dir("ckpt_cli");
  std::ofstream(dir / "scene.json") << box_scene();
  const std::string scene = (dir / "scene.json").string();
  const std::string whole = (dir / "whole").string(), part = (dir / "part").string();
  std::string out;
  ASSERT_EQ(run_command(cli() + " run " + scene + " --quiet --out " + whole, &out), 0) << out;
  // Stopped after 6 steps: exit 3, outputs and a checkpoint written.
  EXPECT_EQ(run_command(cli() + " run " + scene + " --quiet --checkpoint-interval-s 3600 " +
                            "--stop-after-steps 6 --out " + part,
                        &out),
            3)
      << out;
  ASSERT_TRUE(fs::exists(fs::path(part) / "checkpoint.cfck")) << out;
  EXPECT_NE(out.find("--resume"), std::string::npos) << out;
  // Resumed without the scene (read from the checkpoint), from another working folder.
  ASSERT_EQ(run_command("cd / && " + cli() + " run --resume " + part + " --quiet", &out), 0) << out;
  const auto a = nlohmann::json::parse(read_bytes(fs::path(whole) / "report.json"));
  const auto b = nlohmann::json::parse(read_bytes(fs::path(part) / "report.json"));
  for (const char* key :
       {"status", "injected_volume_ml", "peak_injection_pressure_mpa", "peak_tip_pressure_kpa",
        "leaks", "leak_volume_ml", "fill", "mass_balance_error", "timeline", "leak_risk"})
    EXPECT_EQ(a[key], b[key]) << key;
  for (const char* key : {"steps", "pressure_solves", "total_iterations", "transport_sweeps"})
    EXPECT_EQ(a["solver"][key], b["solver"][key]) << key;
  EXPECT_EQ(b["checkpoint"]["resumed"]["at_step"], 6);
  EXPECT_EQ(read_bytes(fs::path(whole) / "pressure_curve.csv"),
            read_bytes(fs::path(part) / "pressure_curve.csv"));
  EXPECT_FALSE(fs::exists(fs::path(part) / "checkpoint.cfck"));
}

TEST(Checkpoint, ForeignOrDamagedCheckpointsExit2) {
  const auto dir = cementflow::test::temp_dir("ckpt_bad");
  std::ofstream(dir / "scene.json") << box_scene();
  // Another scene (a setting differs) and another bone (same settings, a larger box).
  std::ofstream(dir / "faster.json") << box_scene("generic_vertebroplasty", "volume", 3.5);
  std::string bigger = box_scene();
  bigger.replace(bigger.find("[16, 12, 10]"), 12, "[24, 12, 10]");
  std::ofstream(dir / "bigger.json") << bigger;
  const std::string scene = (dir / "scene.json").string();
  const fs::path good = dir / "good";
  std::string out;
  ASSERT_EQ(
      run_command(cli() + " run " + scene + " --quiet --stop-after-steps 4 --out " + good.string(),
                  &out),
      3)
      << out;
  const fs::path ck = good / "checkpoint.cfck";
  const std::string bytes = read_bytes(ck);
  ASSERT_GT(bytes.size(), 1000u);

  auto variant = [&](const std::string& name, const std::string& content) {
    const fs::path d = dir / name;
    fs::create_directories(d);
    write_bytes(d / "checkpoint.cfck", content);
    return d.string();
  };
  // Damaged: one byte flipped in the fields; truncated; empty; not a checkpoint.
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x10);
  std::string d = variant("flipped", flipped);
  expect_refused("run --resume " + d, d, "checksum");
  d = variant("truncated", bytes.substr(0, bytes.size() / 2));
  expect_refused("run --resume " + d, d, "checksum");
  d = variant("empty", "");
  expect_refused("run --resume " + d, d, "magic");
  d = variant("text", "{\"schema\": 1}\n");
  expect_refused("run --resume " + d, d, "magic");
  // A section that claims more values than the file holds (checksum made to match).
  std::string oversized = bytes;
  const std::uint64_t huge = 1ULL << 60;
  std::memcpy(oversized.data() + 24 + 8, &huge, 8);  // the first section's element count
  reseal(oversized);
  d = variant("oversized", oversized);
  expect_refused("run --resume " + d, d, "values");
  // Another format version, another cementflow version.
  std::string format = bytes;
  const std::uint32_t v2 = 2;
  std::memcpy(format.data() + 8, &v2, 4);
  d = variant("format", format);
  expect_refused("run --resume " + d, d, "format_version: got 2");
  std::string version = bytes;
  const std::string key = "cementflow_version=";
  const auto at = version.find(key);
  ASSERT_NE(at, std::string::npos);
  version[at + key.size()] = version[at + key.size()] == '9' ? '8' : '9';
  reseal(version);
  d = variant("version", version);
  expect_refused("run " + scene + " --resume " + d, d, "cementflow_version");
  // The checkpoint of another scene or bone.
  expect_refused("run " + (dir / "faster.json").string() + " --resume " + good.string(),
                 ck.string(), "scene_hash");
  expect_refused("run " + (dir / "bigger.json").string() + " --resume " + good.string(),
                 ck.string(), "bone.");
  // Nothing to resume from; neither a scene nor --resume.
  expect_refused("run --resume " + (dir / "none").string(), (dir / "none").string(), "--resume");
  expect_refused("run --quiet", "<arguments>", "scene");
  // The good checkpoint still resumes after all that.
  EXPECT_EQ(run_command(cli() + " run --resume " + good.string() + " --quiet", &out), 0) << out;
}

TEST(Checkpoint, SigintWritesACheckpointToResumeFrom) {
  // A run stopped by SIGINT writes the checkpoint of the step it stopped after (the periodic
  // ones come every 1 ms here, so the first one shows that the time loop has begun).
  const auto dir = cementflow::test::temp_dir("ckpt_sigint");
  const std::string scene =
      (cementflow::test::source_dir() / "scenes/box_vp_default.json").string();
  const fs::path out = dir / "out";
  const std::string script = cli() + " run " + scene + " --quiet --checkpoint-interval-s 0.001 " +
                             "--out " + out.string() + " & pid=$!; i=0; while [ ! -f " +
                             (out / "checkpoint.cfck").string() +
                             " ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; " +
                             "kill -INT $pid; wait $pid; echo rc=$?";
  std::string log;
  run_command("sh -c '" + script + "'", &log);
  ASSERT_NE(log.find("rc=3"), std::string::npos) << log;
  const auto rep = nlohmann::json::parse(read_bytes(out / "report.json"));
  EXPECT_EQ(rep["status"], "failed") << log;
  EXPECT_NE(rep["message"].get<std::string>().find("cancelled"), std::string::npos) << log;
  const cf::CheckpointInfo info = cf::read_checkpoint_info(out.string());
  EXPECT_EQ(info.steps, rep["solver"]["steps"].get<long long>());
  EXPECT_EQ(info.time_s, rep["timeline"].back()[0].get<double>());
  EXPECT_EQ(rep["checkpoint"]["file"], (out / "checkpoint.cfck").string());
  // And it resumes to the end.
  ASSERT_EQ(run_command(cli() + " run --resume " + out.string() + " --quiet", &log), 0) << log;
  const auto done = nlohmann::json::parse(read_bytes(out / "report.json"));
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["checkpoint"]["resumed"]["at_step"], info.steps);
}

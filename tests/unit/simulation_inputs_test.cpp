// Bad injection inputs the engine checks against the bone (exit 2 through the CLI), and the
// pressure limit (status stopped_at_pressure_limit, outputs written).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "bone_builder.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/simulation.hpp"
#include "test_support.hpp"

namespace cf = cementflow;

namespace {

cf::Scene small_scene() {
  cf::Scene s;
  s.name = "inputs";
  s.file = "inputs.json";
  s.cement.model = cf::RheologyModel::Newtonian;
  s.cement.viscosity_pa_s = 100;
  cf::Needle nd;
  nd.tip_mm = {0, 0, 0};
  s.injection.needles = {nd};
  s.injection.volume_m3 = 0.05e-6;
  s.simulation.max_time_s = 600;
  return s;
}

/// A 16^3 box of 0.5 mm voxels with a 1-voxel cortical shell; `sink` adds a soft-tissue layer.
cf::BoneBlocks shell_box(bool sink) {
  return cf::test::build_bone(
      {-9, -9, -9}, {9, 9, 9}, 0.5,
      [&](int x, int y, int z) {
        const int m = std::max({std::abs(x), std::abs(y), std::abs(z)});
        if (m == 9) return cf::kInactive;
        if (m == 8) return sink ? 0 : cf::kInactive;
        if (m == 7) return 2;
        return 1;
      },
      0.9f);
}

std::string message_of(const cf::Scene& s, const cf::BoneBlocks& b) {
  try {
    cf::simulate(s, b, {});
  } catch (const cf::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SimulationInputs, TipOutsideTheBone) {
  auto s = small_scene();
  s.injection.needles[0].tip_mm = {40, 0, 0};
  const std::string m = message_of(s, shell_box(true));
  EXPECT_NE(m.find("inputs.json"), std::string::npos) << m;
  EXPECT_NE(m.find("injection.needle.tip_mm"), std::string::npos) << m;
  EXPECT_NE(m.find("[40, 0, 0]"), std::string::npos) << m;
  EXPECT_NE(m.find("inside the bone model"), std::string::npos) << m;
}

TEST(SimulationInputs, TipInsideCortex) {
  auto s = small_scene();
  s.injection.needles[0].tip_mm = {3.5, 0, 0};  // voxel x = 7: the shell
  const std::string m = message_of(s, shell_box(true));
  EXPECT_NE(m.find("cortical bone"), std::string::npos) << m;
  EXPECT_NE(m.find("injection.needle.tip_mm"), std::string::npos) << m;
}

TEST(SimulationInputs, TipInALeakDestinationOfSecondNeedle) {
  auto s = small_scene();
  cf::Needle second;
  second.tip_mm = {4.0, 0, 0};  // voxel x = 8: soft tissue
  s.injection.needles.push_back(second);
  const std::string m = message_of(s, shell_box(true));
  EXPECT_NE(m.find("injection.needles[1].tip_mm"), std::string::npos) << m;
  EXPECT_NE(m.find("soft tissue"), std::string::npos) << m;
}

TEST(SimulationInputs, NoOutletForTheMarrow) {
  const std::string m = message_of(small_scene(), shell_box(false));
  EXPECT_NE(m.find("bone"), std::string::npos) << m;
  EXPECT_NE(m.find("outlet"), std::string::npos) << m;
}

TEST(SimulationInputs, VolumeLargerThanReachablePoreSpace) {
  auto s = small_scene();
  s.injection.volume_m3 = 10e-6;  // the box holds ~3.4 mL of pore space
  const std::string m = message_of(s, shell_box(true));
  EXPECT_NE(m.find("injection.volume_ml"), std::string::npos) << m;
  EXPECT_NE(m.find("pore volume"), std::string::npos) << m;
}

TEST(SimulationInputs, NonFiniteBoneValuesAreRefused) {
  // A bone built in code (the library path: no file reader checked it). A NaN permeability next
  // to the tip used to run to "completed" as if that voxel were impermeable (issue 17).
  cf::BoneBlocks b = shell_box(true);
  b.permeability.assign(3 * b.num_voxels(), 1e-9f);
  size_t next_to_tip = 0;  // the first active voxel within 0.5 mm of the tip
  for (size_t i = 0; i < b.num_voxels(); ++i) {
    const auto p = b.voxel_center_mm(i / cf::BoneBlocks::kBlockVoxels,
                                     static_cast<int>(i % cf::BoneBlocks::kBlockVoxels));
    if (b.material[i] == 1 && std::abs(p[0] - 0.5) < 0.3 && std::abs(p[1]) < 0.3 &&
        std::abs(p[2]) < 0.3)
      next_to_tip = i;
  }
  b.permeability[3 * next_to_tip + 1] = std::numeric_limits<float>::quiet_NaN();
  std::string m = message_of(small_scene(), b);
  EXPECT_NE(m.find("permeability"), std::string::npos) << m;
  EXPECT_NE(m.find("nan"), std::string::npos) << m;
  EXPECT_NE(m.find("mm"), std::string::npos) << m;  // where
  b.permeability[3 * next_to_tip + 1] = 1e-9f;
  b.porosity[next_to_tip] = 1.5f;
  m = message_of(small_scene(), b);
  EXPECT_NE(m.find("porosity"), std::string::npos) << m;
  EXPECT_NE(m.find("1.5"), std::string::npos) << m;
}

TEST(SimulationInputs, PressureLimitStopsAndKeepsOutputs) {
  auto s = small_scene();
  s.injection.max_pressure_pa = 1e3;  // far below the cannula drop alone
  const auto dir = cf::test::temp_dir("pressure_limit");
  cf::RunOptions opt;
  opt.out_dir = dir.string();
  const cf::BoneBlocks bone = shell_box(true);
  cf::RunResult r = cf::simulate(s, bone, opt);
  EXPECT_EQ(r.report.status, "stopped_at_pressure_limit");
  EXPECT_NE(r.report.message.find("max_pressure_mpa"), std::string::npos);
  cf::write_outputs(s, r, dir.string());
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "fill.vdb"));
  EXPECT_TRUE(std::filesystem::exists(dir / "pressure_curve.csv"));
  std::filesystem::remove_all(dir);
}

TEST(SimulationInputs, CancelStopsWithPartialResults) {
  auto s = small_scene();
  std::atomic<bool> cancel{false};
  cf::RunOptions opt;
  opt.cancel = &cancel;
  int calls = 0;
  opt.progress = [&](const cf::Progress&) {
    if (++calls == 3) cancel = true;
  };
  cf::RunResult r = cf::simulate(s, shell_box(true), opt);
  EXPECT_EQ(r.report.status, "failed");
  EXPECT_NE(r.report.message.find("cancelled"), std::string::npos);
  EXPECT_GT(r.report.injected_volume_ml, 0.0);
  EXPECT_LT(r.report.mass_balance_error, 1e-12);
}

TEST(SimulationInputs, PressureSolveThatDoesNotConvergeFailsWithOutputs) {
  auto s = small_scene();
  s.simulation.max_solver_iterations = 1;
  s.simulation.pressure_tolerance = 1e-12;
  const cf::BoneBlocks bone = shell_box(true);
  cf::RunResult r = cf::simulate(s, bone, {});
  EXPECT_EQ(r.report.status, "failed");
  EXPECT_NE(r.report.message.find("did not converge"), std::string::npos) << r.report.message;
  EXPECT_NE(r.report.message.find("max_solver_iterations"), std::string::npos);
  const auto dir = cf::test::temp_dir("no_convergence");
  cf::write_outputs(s, r, dir.string());
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "fill.vdb"));
  std::filesystem::remove_all(dir);
}

// Results must not depend on the thread count beyond round-off (DESIGN.md, "Parallel backends"):
// the same scene through the CLI with --threads 1 and --threads 2.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "test_support.hpp"

namespace {

nlohmann::json run_with_threads(int threads) {
  const auto dir = cementflow::test::temp_dir("threads" + std::to_string(threads));
  const std::string scene =
      (cementflow::test::source_dir() / "scenes/box_vp_power_law.json").string();
  std::string out;
  const int rc = cementflow::test::run_command(cementflow::test::cli() + " run " + scene +
                                                   " --quiet --threads " + std::to_string(threads) +
                                                   " --out " + dir.string(),
                                               &out);
  EXPECT_EQ(rc, 0) << out;
  std::ifstream f(dir / "report.json");
  nlohmann::json j = nlohmann::json::parse(f);
  std::filesystem::remove_all(dir);
  return j;
}

}  // namespace

TEST(ThreadCount, OneAndTwoThreadsAgreeToRoundOff) {
  const auto a = run_with_threads(1);
  const auto b = run_with_threads(2);
  EXPECT_EQ(a["engine"]["threads"], 1);
  EXPECT_EQ(b["engine"]["threads"], 2);
  EXPECT_EQ(a["status"], b["status"]);
  EXPECT_EQ(a["solver"]["steps"], b["solver"]["steps"]);
  // Reductions in double summed in a different order: each differs by a few ulps per step, and
  // the CG iterates amplify that by at most the condition number times the tolerance (1e-8).
  const double tol = 1e-6;
  for (const char* key : {"injected_volume_ml", "peak_injection_pressure_mpa",
                          "peak_tip_pressure_kpa", "leak_volume_ml"}) {
    const double x = a[key], y = b[key];
    EXPECT_LE(std::abs(x - y), tol * std::max({std::abs(x), std::abs(y), 1e-30})) << key;
  }
  const double fa = a["fill"]["cement_volume_in_bone_ml"],
               fb = b["fill"]["cement_volume_in_bone_ml"];
  EXPECT_NEAR(fa, fb, tol * fa);
  ASSERT_EQ(a["timeline"].size(), b["timeline"].size());
  for (size_t i = 0; i < a["timeline"].size(); ++i)
    for (int c = 0; c < 4; ++c) {
      const double x = a["timeline"][i][c], y = b["timeline"][i][c];
      EXPECT_LE(std::abs(x - y), tol * std::max(std::abs(x), 1e-12)) << "row " << i << " col " << c;
    }
}

// The sweep from the library (include/cementflow/sweep.hpp), in process: run_sweep on a plan
// parsed from text, a custom hand-out through SweepOptions::next, and run_samples' leak
// probability against the sample reports.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cementflow/sweep.hpp"
#include "sweep_fixture.hpp"
#include "test_support.hpp"

namespace cf = cementflow;

namespace {

TEST(SweepLibrary, RunSweepAndRunSamples) {
  const auto dir = cf::test::temp_dir("sweep_library");
  cf::test::write_text_file(dir, "scene.json", cf::test::tiny_box_scene_json());
  const cf::SweepPlan plan = cf::parse_sweep(
      R"({"schema": 1, "name": "lib", "scene": "scene.json",
          "uncertainty": {"injection.volume_ml": {"uniform": [0.1, 0.6]}}, "samples": 5,
          "seed": 4, "arms": {"near": {}, "far": {"injection": {"needle": {"tip_mm": [0, 4, 0]}}}}})",
      (dir / "sweep.json").string());
  ASSERT_EQ(plan.cases.size(), 10u);

  // A scheduler of one's own: hand out the to-do list backwards.
  cf::SweepOptions opt;
  opt.out_dir = (dir / "out").string();
  std::vector<long long> order;
  long long left = -1;
  opt.next = [&](long long n) {
    if (left < 0) left = n;
    const long long pos = --left;
    if (pos >= 0) order.push_back(pos);
    return pos;
  };
  const std::vector<long long> todo = cf::sweep_todo(plan, opt);
  ASSERT_EQ(todo.size(), 10u);
  const cf::SweepRunStats st = cf::run_sweep_cases(plan, todo, opt);
  EXPECT_EQ(st.ran, 10);
  EXPECT_EQ(order.front(), 9);
  EXPECT_EQ(cf::write_sweep_outputs(plan, opt.out_dir), 0);
  EXPECT_TRUE(cf::sweep_todo(plan, opt).empty());  // everything done: nothing to resume

  // The leak probability is the Wilson proportion of the cases that leaked.
  cf::SweepOptions again;
  again.out_dir = opt.out_dir;
  long long incomplete = -1;
  const cf::Report::LeakProbability lp = cf::run_samples(plan, again, &incomplete);
  EXPECT_EQ(incomplete, 0);
  long long leaking = 0;
  for (const cf::SweepCase& c : plan.cases) {
    const cf::CaseOutcome o = cf::read_case(plan, c, opt.out_dir);
    ASSERT_TRUE(o.present) << c.id;
    EXPECT_EQ(o.status, "completed");
    leaking += o.leak_volume_ml > plan.leak_threshold_ml ? 1 : 0;
  }
  EXPECT_EQ(lp.samples, 10);
  EXPECT_EQ(lp.evaluated, 10);
  EXPECT_EQ(lp.leaking, leaking);
  const cf::Proportion w = cf::wilson(leaking, 10);
  EXPECT_EQ(lp.any, w.p);
  EXPECT_EQ(lp.ci95, w.ci95);
  std::filesystem::remove_all(dir);
}

}  // namespace

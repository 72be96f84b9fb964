// The sweep from the library (include/cementflow/sweep.hpp), in process: run_sweep on a plan
// parsed from text, a custom hand-out through SweepOptions::next, run_samples' leak
// probability against the sample reports, and sweep.json's incidence and relative risks (any
// leak and per route) from synthetic case reports against hand-computed values.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/sweep.hpp"
#include "sweep_fixture.hpp"
#include "test_support.hpp"

namespace cf = cementflow;

namespace {

/// A sweep of the tiny box scene, parsed from `sweep` in a fresh folder `dir`.
cf::SweepPlan tiny_box_sweep(const std::filesystem::path& dir, const std::string& sweep) {
  cf::test::write_text_file(dir, "scene.json", cf::test::tiny_box_scene_json());
  return cf::parse_sweep(sweep, (dir / "sweep.json").string());
}

TEST(SweepLibrary, RunSweepAndRunSamples) {
  const auto dir = cf::test::temp_dir("sweep_library");
  const cf::SweepPlan plan =
      tiny_box_sweep(dir, R"({"schema": 1, "name": "lib", "scene": "scene.json",
          "uncertainty": {"injection.volume_ml": {"uniform": [0.1, 0.6]}}, "samples": 5,
          "seed": 4, "arms": {"near": {}, "far": {"injection": {"needle": {"tip_mm": [0, 4, 0]}}}}})");
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

/// Writes a case report as the runner would, with the given status, leaked volume and leaks.
void write_report(const std::filesystem::path& out, const cf::SweepCase& c,
                  const std::string& status,
                  const std::vector<std::pair<std::string, double>>& leaks) {
  nlohmann::json r = {{"status", status}, {"leaks", nlohmann::json::array()}};
  double total = 0;
  for (const auto& l : leaks) {
    r["leaks"].push_back({{"route", l.first}, {"volume_ml", l.second}});
    total += l.second;
  }
  r["leak_volume_ml"] = total;
  r["case"] = {{"id", c.id}, {"scene", nlohmann::json::parse(c.scene_json)}};
  std::filesystem::create_directories(out / "cases" / c.id);
  std::ofstream(out / "cases" / c.id / "report.json") << r.dump(2);
}

/// Checks a relative-risk entry of sweep.json against rr and exp(log rr ± z se).
void expect_rr(const nlohmann::json& j, double rr, double se, const std::string& what) {
  ASSERT_TRUE(j["defined"].get<bool>()) << what;
  constexpr double z = 1.959963984540054;
  EXPECT_NEAR(j["rr"].get<double>(), rr, 1e-12) << what;
  EXPECT_NEAR(j["ci95"][0].get<double>(), rr * std::exp(-z * se), 1e-12) << what;
  EXPECT_NEAR(j["ci95"][1].get<double>(), rr * std::exp(z * se), 1e-12) << what;
}

void expect_pairs(const nlohmann::json& j, long long a, long long b, long long c, long long d,
                  const std::string& what) {
  EXPECT_EQ(j["both"].get<long long>(), a) << what;
  EXPECT_EQ(j["only_1"].get<long long>(), b) << what;
  EXPECT_EQ(j["only_2"].get<long long>(), c) << what;
  EXPECT_EQ(j["neither"].get<long long>(), d) << what;
}

TEST(SweepLibrary, IncidenceAndRelativeRisksPerRouteFromReports) {
  const auto dir = cf::test::temp_dir("sweep_library_routes");
  const cf::SweepPlan plan =
      tiny_box_sweep(dir, R"({"schema": 1, "name": "routes", "scene": "scene.json",
          "uncertainty": {"injection.volume_ml": {"uniform": [0.1, 0.6]}}, "samples": 9,
          "arms": {"hv": {}, "lv": {}}})");
  ASSERT_EQ(plan.cases.size(), 18u);
  // Leaked volume (mL) per sample and arm through the endplate (disc), the basivertebral vein
  // (bv) and a cortical breach (cort); the threshold is 0.01 mL. Sample 5 of lv leaks 0.012 mL
  // in all but through no single route above the threshold; sample 6 of hv leaks below it;
  // sample 8 of lv failed, so sample 8 is in hv's incidence but in no pair.
  //   sample   0          1         2        3          4        5            6        7      8
  //   hv      disc+bv    disc      -        -          -        -            .005     bv     disc
  //   lv      disc+bv    disc+bv   disc     disc+bv    cort     .006+.006    -        -      failed
  const std::vector<std::vector<std::pair<std::string, double>>> hv{
      {{"endplate_disc", 0.02}, {"basivertebral_vein", 0.02}},
      {{"endplate_disc", 0.02}},
      {},
      {},
      {},
      {},
      {{"endplate_disc", 0.005}},
      {{"basivertebral_vein", 0.02}},
      {{"endplate_disc", 0.02}}};
  const std::vector<std::vector<std::pair<std::string, double>>> lv{
      {{"endplate_disc", 0.02}, {"basivertebral_vein", 0.02}},
      {{"endplate_disc", 0.02}, {"basivertebral_vein", 0.02}},
      {{"endplate_disc", 0.02}},
      {{"endplate_disc", 0.02}, {"basivertebral_vein", 0.02}},
      {{"cortical_breach", 0.02}},
      {{"endplate_disc", 0.006}, {"basivertebral_vein", 0.006}},
      {},
      {},
      {}};
  const auto out = dir / "out";
  for (const cf::SweepCase& c : plan.cases) {
    const auto s = static_cast<std::size_t>(c.sample);
    write_report(out, c, c.arm == "lv" && s == 8 ? "failed" : "completed",
                 c.arm == "hv" ? hv[s] : lv[s]);
  }
  EXPECT_EQ(cf::write_sweep_outputs(plan, out.string()), 1);
  std::ifstream in(out / "sweep.json");
  std::ostringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str());

  // Per arm: hv leaks in 4 of 9 (samples 0, 1, 7, 8), lv in 6 of 8 (samples 0-5).
  ASSERT_EQ(j["groups"].size(), 2u);
  const nlohmann::json& ghv = j["groups"][0]["leak"];
  const nlohmann::json& glv = j["groups"][1]["leak"];
  auto expect_wilson = [](const nlohmann::json& p, long long x, long long n,
                          const std::string& what) {
    const cf::Proportion w = cf::wilson(x, n);
    EXPECT_EQ(p["count"].get<long long>(), x) << what;
    EXPECT_EQ(p["n"].get<long long>(), n) << what;
    EXPECT_NEAR(p["p"].get<double>(), static_cast<double>(x) / static_cast<double>(n), 1e-15)
        << what;
    EXPECT_NEAR(p["ci95"][0].get<double>(), w.ci95[0], 1e-15) << what;
    EXPECT_NEAR(p["ci95"][1].get<double>(), w.ci95[1], 1e-15) << what;
  };
  expect_wilson(ghv["any"], 4, 9, "hv any");
  expect_wilson(glv["any"], 6, 8, "lv any");
  expect_wilson(ghv["by_route"]["endplate_disc"], 3, 9, "hv disc");
  expect_wilson(glv["by_route"]["endplate_disc"], 4, 8, "lv disc");
  expect_wilson(ghv["by_route"]["basivertebral_vein"], 2, 9, "hv bv");
  expect_wilson(glv["by_route"]["basivertebral_vein"], 3, 8, "lv bv");
  expect_wilson(glv["by_route"]["cortical_breach"], 1, 8, "lv cort");
  expect_wilson(ghv["by_route"]["segmental_vein"], 0, 9, "hv segmental");

  // Any leak, 8 pairs: both 0, 1; only hv 7; only lv 2-5; neither 6. Paired RR (2 + 1) / (2 + 4),
  // var (1 + 4) / (3 · 6); independent (4/9) / (6/8), var 1/4 - 1/9 + 1/6 - 1/8.
  ASSERT_EQ(j["relative_risks"].size(), 1u);
  const nlohmann::json& rr = j["relative_risks"][0];
  EXPECT_EQ(rr["arm_1"], "hv");
  EXPECT_EQ(rr["arm_2"], "lv");
  expect_pairs(rr["pairs"], 2, 1, 4, 1, "any");
  EXPECT_EQ(rr["paired"]["n"].get<long long>(), 8);
  expect_rr(rr["paired"], 0.5, std::sqrt(5.0 / 18), "any paired");
  expect_rr(rr["independent"], (4.0 / 9) / (6.0 / 8),
            std::sqrt(1.0 / 4 - 1.0 / 9 + 1.0 / 6 - 1.0 / 8), "any independent");
  EXPECT_EQ(rr["independent"]["n"].get<long long>(), 17);
  expect_wilson(rr["incidence"]["arm_1"], 4, 9, "any incidence hv");
  expect_wilson(rr["incidence"]["arm_2"], 6, 8, "any incidence lv");

  // Per route, the same 8 pairs. Every route of the engine is there.
  const nlohmann::json& br = rr["by_route"];
  ASSERT_EQ(br.size(), cf::leak_routes().size());
  for (const std::string& route : cf::leak_routes()) {
    ASSERT_TRUE(br.contains(route)) << route;
    EXPECT_EQ(br[route]["paired"]["n"].get<long long>(), 8) << route;
    EXPECT_EQ(br[route]["paired"]["method"], rr["paired"]["method"]) << route;
    EXPECT_EQ(br[route]["independent"]["method"], rr["independent"]["method"]) << route;
  }
  // Disc: both 0, 1; only lv 2, 3 (hv's 0.005 mL in sample 6 is below the threshold, its leak in
  // sample 8 unpaired). Paired 2 / 4, var 2 / (2 · 4); independent (3/9) / (4/8).
  expect_pairs(br["endplate_disc"]["pairs"], 2, 0, 2, 4, "disc");
  expect_rr(br["endplate_disc"]["paired"], 0.5, 0.5, "disc paired");
  expect_rr(br["endplate_disc"]["independent"], (3.0 / 9) / (4.0 / 8),
            std::sqrt(1.0 / 3 - 1.0 / 9 + 1.0 / 4 - 1.0 / 8), "disc independent");
  expect_wilson(br["endplate_disc"]["incidence"]["arm_1"], 3, 9, "disc incidence hv");
  expect_wilson(br["endplate_disc"]["incidence"]["arm_2"], 4, 8, "disc incidence lv");
  // Basivertebral vein: both 0; only hv 7; only lv 1, 3. Paired 2 / 3, var 3 / (2 · 3);
  // independent (2/9) / (3/8).
  expect_pairs(br["basivertebral_vein"]["pairs"], 1, 1, 2, 4, "bv");
  expect_rr(br["basivertebral_vein"]["paired"], 2.0 / 3, std::sqrt(0.5), "bv paired");
  expect_rr(br["basivertebral_vein"]["independent"], (2.0 / 9) / (3.0 / 8),
            std::sqrt(1.0 / 2 - 1.0 / 9 + 1.0 / 3 - 1.0 / 8), "bv independent");
  // Cortical breach: one event, under lv only. Paired RR is 0 (no event under arm 1): not
  // defined, as for any leak. Independent with 0.5 added to every count (Haldane):
  // (0.5/9.5) / (1.5/8.5), var 1/0.5 - 1/9.5 + 1/1.5 - 1/8.5.
  expect_pairs(br["cortical_breach"]["pairs"], 0, 0, 1, 7, "cort");
  EXPECT_FALSE(br["cortical_breach"]["paired"]["defined"].get<bool>());
  EXPECT_FALSE(br["cortical_breach"]["paired"].contains("rr"));
  expect_rr(br["cortical_breach"]["independent"], (0.5 / 9.5) / (1.5 / 8.5),
            std::sqrt(1 / 0.5 - 1 / 9.5 + 1 / 1.5 - 1 / 8.5), "cort independent");
  // Segmental vein, spinal canal, soft tissue: no event in either arm. Neither RR is defined
  // (nothing to compare): "defined" false and no "rr" or "ci95"; the incidences are 0 with
  // their Wilson intervals.
  for (const char* route : {"segmental_vein", "spinal_canal", "soft_tissue"}) {
    expect_pairs(br[route]["pairs"], 0, 0, 0, 8, route);
    for (const char* m : {"paired", "independent"}) {
      EXPECT_FALSE(br[route][m]["defined"].get<bool>()) << route << " " << m;
      EXPECT_FALSE(br[route][m].contains("rr")) << route << " " << m;
      EXPECT_FALSE(br[route][m].contains("ci95")) << route << " " << m;
    }
    expect_wilson(br[route]["incidence"]["arm_1"], 0, 9, route);
    expect_wilson(br[route]["incidence"]["arm_2"], 0, 8, route);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

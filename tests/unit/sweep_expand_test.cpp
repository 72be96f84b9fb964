// Expansion of sweep files (engine/run/sweep_expand.cpp): axes × zip, samples over the
// uncertainty distributions, cohort × arms; determinism from one seed; and bad inputs rejected
// before anything runs with an InputError naming the key and the value.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cementflow/errors.hpp"
#include "cementflow/sweep.hpp"
#include "sweep_fixture.hpp"
#include "test_support.hpp"

namespace cf = cementflow;
using nlohmann::json;

namespace {

class SweepExpand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cf::test::temp_dir("sweep_expand");
    cf::test::write_text_file(dir_, "scene.json", cf::test::tiny_box_scene_json());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  cf::SweepPlan parse(const std::string& body) {
    return cf::parse_sweep(R"({"schema": 1, "name": "t", "scene": "scene.json", )" + body + "}",
                           (dir_ / "sweep.json").string());
  }
  /// The InputError of a bad sweep (fails the test when none is thrown).
  cf::InputError error_of(const std::string& body) {
    try {
      parse(body);
    } catch (const cf::InputError& e) {
      return e;
    }
    ADD_FAILURE() << "no InputError for " << body;
    return cf::InputError("", "", "", "");
  }
  std::filesystem::path dir_;
};

json scene_of(const cf::SweepCase& c) {
  return json::parse(c.scene_json);
}

TEST_F(SweepExpand, AxesFormACartesianProductAndZipAdvancesTogether) {
  const cf::SweepPlan p = parse(R"("axes": {"injection.volume_ml": [0.2, 0.3],
      "cement.preset": ["newtonian_100", "generic_vertebroplasty", "generic_high_viscosity"]},
      "zip": {"injection.flow_rate_ml_per_min": [3, 6], "injection.needle.tip_mm": [[0,2,0],[0,3,0]]})");
  ASSERT_EQ(p.cases.size(), 2u * 3u * 2u);
  EXPECT_EQ(p.points, 12);
  EXPECT_EQ(p.columns, (std::vector<std::string>{"injection.volume_ml", "cement.preset",
                                                 "injection.flow_rate_ml_per_min",
                                                 "injection.needle.tip_mm"}));
  std::set<std::string> combos, ids;
  for (const cf::SweepCase& c : p.cases) {
    const json s = scene_of(c);
    // zip lists move together: flow 3 with tip y 2, flow 6 with tip y 3.
    const double flow = s["injection"]["flow_rate_ml_per_min"].get<double>();
    const double tip_y = s["injection"]["needle"]["tip_mm"][1].get<double>();
    EXPECT_EQ(flow == 3 ? 2.0 : 3.0, tip_y);
    // The parsed scene carries the values (SI inside).
    EXPECT_NEAR(c.scene.injection.volume_m3 * 1e6, s["injection"]["volume_ml"].get<double>(),
                1e-12);
    combos.insert(s["injection"]["volume_ml"].dump() + s["cement"]["preset"].dump() +
                  s["injection"]["flow_rate_ml_per_min"].dump());
    ids.insert(c.id);
    EXPECT_EQ(c.values.size(), p.columns.size());
  }
  EXPECT_EQ(combos.size(), 12u);  // every combination once
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(p.cases.front().id, "g00");
  EXPECT_EQ(p.cases.back().id, "g11");
}

TEST_F(SweepExpand, SamplesAreDeterministicAndFollowTheirDistributions) {
  const std::string body = R"("uncertainty": {
      "marrow.viscosity_pa_s": {"lognormal": {"median": 0.04, "sigma": 0.5}},
      "injection.volume_ml": {"uniform": [0.2, 0.4]},
      "bone.generate.porosity": {"normal": {"mean": 0.9, "sd": 0.01}},
      "simulation.max_time_s": {"integers": [500, 505]},
      "cement.preset": {"choice": ["newtonian_100", "generic_vertebroplasty", "generic_low_viscosity"],
                        "weights": [3, 1, 0]},
      "injection.needle.tip_mm": {"jitter_mm": 0.5}},
    "samples": 200, "seed": 99)";
  const cf::SweepPlan a = parse(body), b = parse(body);
  ASSERT_EQ(a.cases.size(), 200u);
  int newtonian = 0;
  double log_sum = 0;
  for (std::size_t i = 0; i < a.cases.size(); ++i) {
    EXPECT_EQ(a.cases[i].scene_json, b.cases[i].scene_json);  // same seed, same cases
    const json s = scene_of(a.cases[i]);
    const double v = s["injection"]["volume_ml"].get<double>();
    EXPECT_GE(v, 0.2);
    EXPECT_LT(v, 0.4);
    const long long t = s["simulation"]["max_time_s"].get<long long>();
    EXPECT_GE(t, 500);
    EXPECT_LE(t, 505);
    const std::string preset = s["cement"]["preset"].get<std::string>();
    EXPECT_NE(preset, "generic_low_viscosity");  // weight 0: never drawn
    newtonian += preset == "newtonian_100" ? 1 : 0;
    log_sum += std::log(s["marrow"]["viscosity_pa_s"].get<double>());
    const auto tip = s["injection"]["needle"]["tip_mm"];
    EXPECT_LT(std::abs(tip[0].get<double>()), 0.5 * 6);  // 6 sigma
    EXPECT_NE(tip[0].get<double>(), 0.0);
  }
  // Weights 3:1 -> 150 of 200 expected, sd sqrt(200 · 0.75 · 0.25) = 6.1.
  EXPECT_NEAR(newtonian, 150, 5 * 6.13);
  // The median of the lognormal is exp(mean log): within 5 standard errors (0.5/sqrt(200)).
  EXPECT_NEAR(log_sum / 200, std::log(0.04), 5 * 0.5 / std::sqrt(200.0));
  EXPECT_EQ(a.cases[0].id, "s000");
  // Another seed, other draws.
  std::string other = body;
  other.replace(other.find("\"seed\": 99"), 10, "\"seed\": 98");
  EXPECT_NE(parse(other).cases[0].scene_json, a.cases[0].scene_json);
}

TEST_F(SweepExpand, ArmsShareTheDrawsOfAUnit) {
  const cf::SweepPlan p = parse(R"("uncertainty": {"injection.needle.tip_mm": {"jitter_mm": 1.0}},
      "samples": 3, "seed": 5,
      "arms": {"low": {"injection": {"volume_ml": 0.2}}, "high": {"injection": {"volume_ml": 0.4}}})");
  ASSERT_EQ(p.cases.size(), 6u);
  EXPECT_EQ(p.arms, (std::vector<std::string>{"low", "high"}));
  for (std::size_t i = 0; i < 6; i += 2) {
    const json lo = scene_of(p.cases[i]), hi = scene_of(p.cases[i + 1]);
    EXPECT_EQ(p.cases[i].arm, "low");
    EXPECT_EQ(p.cases[i + 1].arm, "high");
    EXPECT_EQ(lo["injection"]["volume_ml"].get<double>(), 0.2);
    EXPECT_EQ(hi["injection"]["volume_ml"].get<double>(), 0.4);
    EXPECT_EQ(lo["injection"]["needle"]["tip_mm"], hi["injection"]["needle"]["tip_mm"]);
    EXPECT_EQ(p.cases[i].sample, p.cases[i + 1].sample);
  }
  EXPECT_EQ(p.cases[1].id, "s0_high");
}

TEST_F(SweepExpand, CohortDrawsPatientsAndEveryPatientGetsEveryArm) {
  // Vertebra bones at 2 mm (parsed only here: nothing is generated).
  cf::test::write_text_file(dir_, "vscene.json", R"({"schema": 1, "name": "v",
    "bone": {"generate": {"kind": "vertebra", "voxel_mm": 2}},
    "cement": {"preset": "generic_vertebroplasty"},
    "injection": {"mode": "vertebroplasty",
      "needle": {"tip_mm": [-2, 6, 0], "direction": [0.36, 0.93, 0], "gauge": 11, "length_mm": 120},
      "flow_rate_ml_per_min": 3, "volume_ml": 1}})");
  const cf::SweepPlan p = cf::parse_sweep(R"({"schema": 1, "name": "c", "scene": "vscene.json",
      "seed": 3,
      "cohort": {"patients": 40, "bone": {"generate": {"kind": "vertebra", "voxel_mm": 2,
                 "quality": "osteoporotic"}}, "fracture": {"none": 0.5, "wedge": 0.5}},
      "arms": {"vp": {}, "vp_big": {"injection": {"volume_ml": 2}}}})",
                                          (dir_ / "c.json").string());
  ASSERT_EQ(p.cases.size(), 80u);
  EXPECT_EQ(p.patients, 40);
  std::set<long long> seeds;
  int wedge = 0;
  for (std::size_t i = 0; i < p.cases.size(); i += 2) {
    const cf::SweepCase& a = p.cases[i];
    const cf::SweepCase& b = p.cases[i + 1];
    EXPECT_EQ(a.patient, b.patient);
    EXPECT_EQ(a.scene.bone.vertebra.seed, b.scene.bone.vertebra.seed);  // paired
    EXPECT_EQ(a.scene.bone.vertebra.fracture, b.scene.bone.vertebra.fracture);
    EXPECT_EQ(a.scene.bone.kind, cf::BoneSource::Kind::Vertebra);
    EXPECT_NEAR(b.scene.injection.volume_m3, 2e-6, 1e-18);
    seeds.insert(static_cast<long long>(a.scene.bone.vertebra.seed));
    wedge += a.scene.bone.vertebra.fracture == cf::VertebraParams::Fracture::Wedge ? 1 : 0;
  }
  EXPECT_EQ(seeds.size(), 40u);  // every patient its own bone
  EXPECT_NEAR(wedge, 20, 5 * std::sqrt(40 * 0.25));
  EXPECT_EQ(p.cases[0].id, "p00_vp");
  EXPECT_EQ(p.columns, (std::vector<std::string>{"bone.generate.seed", "bone.generate.fracture"}));
  EXPECT_EQ(p.cases[0].values[1],
            p.cases[0].scene.bone.vertebra.fracture == cf::VertebraParams::Fracture::Wedge
                ? "\"wedge\""
                : "\"none\"");
}

TEST_F(SweepExpand, BadInputsNameTheKeyAndTheValue) {
  struct Bad {
    std::string body, key, value;
  };
  const std::vector<Bad> bad{
      {R"("axes": {"injection.volume_ml": [0.2]}, "colour": 1)", "colour", ""},
      {R"("axes": {"injection.volume_ml": []})", "axes.injection.volume_ml", "[]"},
      {R"("axes": {"name.first": [1]})", "axes.name.first", "name.first"},
      {R"("axes": {"injection.needle.tip_mm.3": [1]})", "axes.injection.needle.tip_mm.3",
       "injection.needle.tip_mm.3"},
      {R"("zip": {"injection.volume_ml": [0.2, 0.3], "injection.flow_rate_ml_per_min": [3]})",
       "zip.injection.flow_rate_ml_per_min", "1 values"},
      {R"("uncertainty": {"marrow.viscosity_pa_s": {"lognormal": {"median": 0.04, "sigma": -1}}},
          "samples": 2)",
       "uncertainty.marrow.viscosity_pa_s.lognormal.sigma", "-1"},
      {R"("uncertainty": {"marrow.viscosity_pa_s": {"lognormal": {"median": 0, "sigma": 1}}},
          "samples": 2)",
       "uncertainty.marrow.viscosity_pa_s.lognormal.median", "0"},
      {R"("uncertainty": {"injection.volume_ml": {"uniform": [0.4, 0.2]}}, "samples": 2)",
       "uncertainty.injection.volume_ml.uniform", "[0.4,0.2]"},
      {R"("uncertainty": {"cement.preset": {"choice": ["a", "b"], "weights": [1]}}, "samples": 2)",
       "uncertainty.cement.preset.weights", "[1]"},
      {R"("uncertainty": {"injection.volume_ml": {"poisson": 3}}, "samples": 2)",
       "uncertainty.injection.volume_ml", "{\"poisson\":3}"},
      {R"("uncertainty": {"injection.volume_ml": {"jitter_mm": 1}}, "samples": 2)",
       "uncertainty.injection.volume_ml", "0.3"},
      {R"("uncertainty": {"injection.volume_ml": {"uniform": [0.2, 0.4]}})", "samples", ""},
      {R"("cohort": {"patients": 0})", "cohort.patients", "0"},
      {R"("cohort": {"bone": {"generate": {"kind": "vertebra"}}})", "cohort.patients", ""},
      {R"("cohort": {"patients": 2, "fracture": {"none": 1, "burst": 1}})", "cohort.fracture.burst",
       ""},
      {R"("seed": -4)", "seed", "-4"},
  };
  for (const Bad& b : bad) {
    const cf::InputError e = error_of(b.body);
    EXPECT_EQ(e.key(), b.key) << b.body << "\n -> " << e.what();
    EXPECT_EQ(e.value(), b.value) << b.body << "\n -> " << e.what();
    EXPECT_NE(std::string(e.what()).find("sweep.json"), std::string::npos) << e.what();
  }
}

TEST_F(SweepExpand, ValuesThatMakeInvalidScenesAreReportedWithTheCase) {
  // An axis value the scene parser rejects: the message carries the case, the scene key and the
  // value, from the parser.
  cf::InputError e = error_of(R"("axes": {"injection.volume_ml": [0.3, -1]})");
  EXPECT_NE(e.key().find("case g1"), std::string::npos) << e.what();
  EXPECT_NE(e.key().find("injection.volume_ml"), std::string::npos) << e.what();
  EXPECT_EQ(e.value(), "-1");
  // An arm that makes an invalid scene.
  e = error_of(R"("arms": {"ok": {}, "bad": {"cement": {"preset": "no_such_cement"}}})");
  EXPECT_NE(e.key().find("arm bad"), std::string::npos) << e.what();
  EXPECT_NE(e.key().find("cement.preset"), std::string::npos) << e.what();
  EXPECT_NE(e.value().find("no_such_cement"), std::string::npos) << e.what();
  // An unknown scene key reached through a path: the parser names it.
  e = error_of(R"("axes": {"injection.volume": [1]})");
  EXPECT_NE(e.key().find("injection.volume"), std::string::npos) << e.what();
}

TEST_F(SweepExpand, SceneUncertaintyBlockForRunSamples) {
  const std::string scene = cf::test::write_text_file(
      dir_, "u.json",
      cf::test::tiny_box_scene_json(
          R"(, "uncertainty": {"injection.needle.tip_mm": {"jitter_mm": 1.0}})"));
  const cf::SceneUncertainty su = cf::split_scene_uncertainty(scene);
  EXPECT_FALSE(su.uncertainty_json.empty());
  EXPECT_EQ(json::parse(su.scene_json).count("uncertainty"), 0u);
  EXPECT_NO_THROW(cf::parse_scene(su.scene_json, scene));
  const cf::SweepPlan p = cf::sample_scene(scene, 5, 1, 0.01);
  ASSERT_EQ(p.cases.size(), 5u);
  EXPECT_EQ(p.name, "tiny_box_samples");
  EXPECT_THROW(cf::sample_scene((dir_ / "scene.json").string(), 5, 1, 0.01), cf::InputError);
}

TEST(SweepExamples, EverySweepFileInScenesExpandsAndChecks) {
  std::vector<std::filesystem::path> files;
  for (const auto& e :
       std::filesystem::directory_iterator(cf::test::source_dir() / "scenes" / "sweeps"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  ASSERT_GE(files.size(), 2u) << "expected the viscosity-timing and cohort sweeps";
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    try {
      const cf::SweepPlan p = cf::load_sweep(f.string());
      EXPECT_EQ(p.name, f.stem().string()) << "sweep name should match the file name";
      EXPECT_GT(p.cases.size(), 1u);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

}  // namespace

// fit-rheology (include/cementflow/rheology_fit.hpp): every model recovers known parameters from
// exact synthetic data (to the optimizer's tolerance) and from noisy data (within 4 standard
// errors); the time and temperature dependence is recovered too; bad CSV input is an InputError
// naming the line and column; the CLI writes its outputs and exits 2 on bad input.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/rheology_fit.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
using cf::RheologyModel;

namespace {

struct Case {
  RheologyModel model;
  std::map<std::string, double> truth;
  double rate_lo, rate_hi;
};

cf::Rheology make(const Case& c) {
  cf::Rheology r;
  r.model = c.model;
  r.min_viscosity_pa_s = 1e-6;
  r.max_viscosity_pa_s = 1e12;
  for (const auto& [k, v] : c.truth) {
    if (k == "viscosity_pa_s") r.viscosity_pa_s = v;
    if (k == "consistency_pa_sn") r.consistency_pa_sn = v;
    if (k == "flow_index") r.flow_index = v;
    if (k == "zero_shear_viscosity_pa_s") r.zero_shear_viscosity_pa_s = v;
    if (k == "infinite_shear_viscosity_pa_s") r.infinite_shear_viscosity_pa_s = v;
    if (k == "time_constant_s") r.time_constant_s = v;
    if (k == "rate_index") r.rate_index = v;
    if (k == "yasuda_a") r.yasuda_a = v;
    if (k == "yield_stress_pa") r.yield_stress_pa = v;
  }
  return r;
}

std::vector<Case> cases() {
  return {
      {RheologyModel::Newtonian, {{"viscosity_pa_s", 120.0}}, 0.1, 100},
      {RheologyModel::PowerLaw, {{"consistency_pa_sn", 300.0}, {"flow_index", 0.5}}, 0.1, 100},
      {RheologyModel::Cross,
       {{"zero_shear_viscosity_pa_s", 2000.0},
        {"infinite_shear_viscosity_pa_s", 5.0},
        {"time_constant_s", 2.0},
        {"rate_index", 0.8}},
       1e-3,
       1e5},
      {RheologyModel::CarreauYasuda,
       {{"zero_shear_viscosity_pa_s", 2000.0},
        {"infinite_shear_viscosity_pa_s", 2.0},
        {"time_constant_s", 5.0},
        {"flow_index", 0.4},
        {"yasuda_a", 2.0}},
       1e-3,
       1e5},
      {RheologyModel::HerschelBulkley,
       {{"yield_stress_pa", 100.0}, {"consistency_pa_sn", 50.0}, {"flow_index", 0.5}},
       0.01,
       100},
  };
}

/// Synthetic data: 30 log-spaced rates, viscosity times e^(sigma z), z standard normal.
cf::RheometerData synth(const Case& c, double sigma, unsigned seed) {
  const cf::Rheology r = make(c);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  cf::RheometerData d;
  d.file = "synthetic.csv";
  for (int i = 0; i < 30; ++i) {
    const double g = c.rate_lo * std::pow(c.rate_hi / c.rate_lo, i / 29.0);
    d.shear_rate_per_s.push_back(g);
    d.viscosity_pa_s.push_back(cf::viscosity(r, g) * std::exp(sigma * z(rng)));
    d.line.push_back(i + 2);
  }
  return d;
}

}  // namespace

TEST(RheologyFit, ExactDataRecoversEveryModel) {
  for (const Case& c : cases()) {
    const cf::RheologyFit fit = cf::fit_rheology(synth(c, 0.0, 1), c.model);
    double worst = 0;
    for (const auto& p : fit.parameters) {
      ASSERT_TRUE(c.truth.count(p.key)) << p.key;
      worst = std::max(worst, std::abs(p.value / c.truth.at(p.key) - 1));
    }
    std::printf(
        "%-16s exact data: max relative parameter error %.2e, rms ln residual %.1e, %d "
        "iterations\n",
        cf::model_name(c.model), worst, fit.rms_log_residual, fit.iterations);
    EXPECT_EQ(fit.parameters.size(), c.truth.size());
    EXPECT_LT(worst, 1e-6) << cf::model_name(c.model);
    EXPECT_LT(fit.rms_log_residual, 1e-8);
  }
}

TEST(RheologyFit, NoisyDataRecoversParametersWithinTheirErrors) {
  // 3 % log-normal scatter, of the order of rheometer repeatability for PMMA doughs (Trivedi et
  // al. 2023, PHYSICS.md §L1a, reports larger systematic effects; this checks the statistics).
  for (const Case& c : cases()) {
    const cf::RheologyFit fit = cf::fit_rheology(synth(c, 0.03, 7), c.model);
    std::printf("%-16s noisy: R^2(ln) %.5f, residual std error %.4f\n", cf::model_name(c.model),
                fit.r_squared_log, fit.residual_std_error);
    EXPECT_NEAR(fit.residual_std_error, 0.03, 0.015) << cf::model_name(c.model);
    for (const auto& p : fit.parameters) {
      const double truth = c.truth.at(p.key);
      std::printf("    %-30s %12.5g +- %-10.3g truth %-8g (%.2f sigma)\n", p.key.c_str(), p.value,
                  p.std_error, truth, std::abs(p.value - truth) / p.std_error);
      ASSERT_TRUE(std::isfinite(p.std_error)) << p.key;
      EXPECT_GT(p.std_error, 0) << p.key;
      EXPECT_LT(std::abs(p.value - truth), 4 * p.std_error)
          << cf::model_name(c.model) << " " << p.key;
    }
  }
}

TEST(RheologyFit, TimeAndTemperatureDependence) {
  // Power law with K(t) = K0 e^((t_eq - t0)/tau), t_eq the Arrhenius-equivalent age at 22 °C:
  // rows at 25 and 37 °C, 2..9 min after mixing; recover K0 (at t0 = 120 s), n, tau and E.
  cf::Rheology truth;
  truth.model = RheologyModel::PowerLaw;
  truth.consistency_pa_sn = 80;
  truth.flow_index = 0.6;
  truth.min_viscosity_pa_s = 1e-6;
  truth.max_viscosity_pa_s = 1e12;
  truth.curing.model = cf::CureModel::Exponential;
  truth.curing.reference_age_s = 120;
  truth.curing.time_constant_s = 150;
  truth.curing.activation_energy_j_mol = 60e3;  // not the 44.4 kJ/mol start value
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0.0, 1.0);
  cf::RheometerData d;
  d.file = "synthetic.csv";
  for (double T : {25.0, 37.0})
    for (double t : {120.0, 240.0, 360.0, 540.0})
      for (double g : {0.3, 1.0, 3.0, 10.0, 30.0}) {
        d.shear_rate_per_s.push_back(g);
        d.viscosity_pa_s.push_back(cf::viscosity_at_age(truth, g, t, T) * std::exp(0.02 * z(rng)));
        d.time_s.push_back(t);
        d.temperature_c.push_back(T);
        d.line.push_back(static_cast<int>(d.line.size()) + 2);
      }
  const cf::RheologyFit fit = cf::fit_rheology(d, RheologyModel::PowerLaw);
  const std::map<std::string, double> expect{{"consistency_pa_sn", 80.0},
                                             {"flow_index", 0.6},
                                             {"curing.time_constant_s", 150.0},
                                             {"curing.activation_energy_kj_mol", 60.0}};
  ASSERT_EQ(fit.parameters.size(), expect.size());
  for (const auto& p : fit.parameters) {
    std::printf("  %-34s %12.5g +- %-10.3g truth %g\n", p.key.c_str(), p.value, p.std_error,
                expect.at(p.key));
    EXPECT_LT(std::abs(p.value - expect.at(p.key)), 4 * p.std_error) << p.key;
  }
  EXPECT_EQ(fit.rheology.curing.model, cf::CureModel::Exponential);
  EXPECT_DOUBLE_EQ(fit.rheology.curing.reference_age_s, 120.0);
  // The JSON block carries the curing and parses back as a scene cement (scene_test checks keys).
  const std::string j = cf::cement_json(fit.rheology);
  EXPECT_NE(j.find("\"curing\""), std::string::npos);
  EXPECT_NE(j.find("\"exponential\""), std::string::npos);
}

TEST(RheologyFit, CsvParsingAndBadInput) {
  const cf::RheometerData ok = cf::parse_rheometer_csv(
      "# rheometer export\n\nviscosity_pa_s, shear_rate_per_s\n100,1\n 50 ,4\n", "d.csv");
  ASSERT_EQ(ok.shear_rate_per_s.size(), 2u);
  EXPECT_DOUBLE_EQ(ok.shear_rate_per_s[1], 4.0);
  EXPECT_DOUBLE_EQ(ok.viscosity_pa_s[1], 50.0);
  EXPECT_EQ(ok.line[1], 5);
  EXPECT_TRUE(ok.time_s.empty());

  auto rejects = [](const std::string& text, const std::string& key, const std::string& value) {
    try {
      cf::parse_rheometer_csv(text, "d.csv");
    } catch (const cf::InputError& e) {
      EXPECT_EQ(e.file(), "d.csv");
      EXPECT_EQ(e.key(), key) << e.what();
      EXPECT_EQ(e.value(), value) << e.what();
      return true;
    }
    return false;
  };
  // Missing column, unknown column, duplicate column.
  EXPECT_TRUE(rejects("shear_rate_per_s\n1\n", "line 1 (header)", "shear_rate_per_s"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity,x\n", "line 1, column 2", "viscosity"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s,shear_rate_per_s\n", "line 1, column 3",
                      "shear_rate_per_s"));
  // temperature_c without time_s.
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s,temperature_c\n", "line 1, column 3",
                      "temperature_c"));
  // Non-numeric and non-finite cells, named by line and column.
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n1,100\n2,abc\n",
                      "line 3, column 2 (viscosity_pa_s)", "abc"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n1,100\n2,12x\n",
                      "line 3, column 2 (viscosity_pa_s)", "12x"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\ninf,100\n",
                      "line 2, column 1 (shear_rate_per_s)", "inf"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n1,\n", "line 2, column 2 (viscosity_pa_s)",
                      "an empty cell"));
  // Out of physical range.
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n0,100\n",
                      "line 2, column 1 (shear_rate_per_s)", "0"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n1,-5\n",
                      "line 2, column 2 (viscosity_pa_s)", "-5"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s,time_s,temperature_c\n1,5,-1,20\n",
                      "line 2, column 3 (time_s)", "-1"));
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s,time_s,temperature_c\n1,5,1,-300\n",
                      "line 2, column 4 (temperature_c)", "-300"));
  // Wrong number of cells; no rows; nothing at all.
  EXPECT_TRUE(rejects("shear_rate_per_s,viscosity_pa_s\n1,2,3\n", "line 2", "1,2,3"));
  EXPECT_TRUE(
      rejects("shear_rate_per_s,viscosity_pa_s\n# only a comment\n", "line 2", "no data rows"));
  EXPECT_TRUE(rejects("", "line 1", "no header"));

  // Too few points for the model: an InputError naming the rows.
  const cf::RheometerData three =
      cf::parse_rheometer_csv("shear_rate_per_s,viscosity_pa_s\n1,100\n2,80\n4,60\n", "d.csv");
  try {
    cf::fit_rheology(three, RheologyModel::CarreauYasuda);
    ADD_FAILURE() << "3 rows accepted for a 5-parameter model";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.key(), "rows");
    EXPECT_NE(std::string(e.what()).find("at least 6"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(cf::fit_rheology(three, RheologyModel::PowerLaw));
  EXPECT_THROW(cf::rheology_model_from_name("bingham", "<argument>", "--model"), cf::InputError);
}

TEST(RheologyFit, CommandLine) {
  const auto dir = cementflow::test::temp_dir("fit_cli");
  const auto csv = dir / "data.csv";
  {
    std::ofstream o(csv);
    o << "shear_rate_per_s,viscosity_pa_s\n";
    const Case c = cases()[1];
    const cf::RheometerData d = synth(c, 0.02, 11);
    for (size_t i = 0; i < d.shear_rate_per_s.size(); ++i)
      o << d.shear_rate_per_s[i] << "," << d.viscosity_pa_s[i] << "\n";
  }
  std::string out;
  const int rc =
      cementflow::test::run_command(cementflow::test::cli() + " fit-rheology " + csv.string() +
                                        " --model power_law --out " + (dir / "fit").string(),
                                    &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("consistency_pa_sn"), std::string::npos) << out;
  EXPECT_NE(out.find("\"cement\": {"), std::string::npos) << out;
  for (const char* f : {"fit.json", "cement.json", "fit.png"})
    EXPECT_TRUE(std::filesystem::exists(dir / "fit" / f)) << f;

  const auto bad = dir / "bad.csv";
  {
    std::ofstream o(bad);
    o << "shear_rate_per_s,viscosity_pa_s\n1,100\n2,oops\n";
  }
  const int rc2 = cementflow::test::run_command(
      cementflow::test::cli() + " fit-rheology " + bad.string() + " --model power_law", &out);
  EXPECT_EQ(rc2, 2) << out;
  EXPECT_NE(out.find("line 3, column 2"), std::string::npos) << out;
  EXPECT_NE(out.find("oops"), std::string::npos) << out;
  const int rc3 = cementflow::test::run_command(
      cementflow::test::cli() + " fit-rheology " + csv.string() + " --model bingham", &out);
  EXPECT_EQ(rc3, 2) << out;
}

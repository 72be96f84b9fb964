// The report (SPEC.md §5): to_json writes every contract key with the right JSON type, numbers
// read back to the same double, non-finite numbers stay valid JSON; timeline_csv matches it.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/report.hpp"

namespace cf = cementflow;
using json = nlohmann::json;

namespace {

/// Serialisation is required to round-trip exactly (SPEC.md §5 numbers are read back by planning
/// software), so the comparison here is of bit patterns, not of computed results.
bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// A report with every field set to a value that is not a short decimal.
cf::Report sample_report() {
  cf::Report r;
  r.scene = "unit_report";
  r.engine.version = "0.1.0";
  r.engine.backend = "OpenMP";
  r.engine.threads = 2;
  r.grid.voxel_mm = 0.5;
  r.grid.active_voxels = 301234;
  r.grid.blocks = 812;
  r.wall_time_s = 12.3;
  r.status = "stopped_at_leak";
  r.message = "leak into basivertebral_vein";
  r.injected_volume_ml = 0.1 + 0.2;  // 0.30000000000000004: needs 17 digits
  r.peak_injection_pressure_mpa = 1.0 / 3.0;
  r.peak_tip_pressure_kpa = 45.0;
  cf::Leak l;
  l.route = "basivertebral_vein";
  l.volume_ml = 0.12;
  l.first_time_s = 61.0;
  l.first_injected_ml = 2.9;
  l.location_mm = {0.5, -14.0, 1.0};
  r.leaks.push_back(l);
  r.leak_volume_ml = 0.12;
  r.leak_risk.score = 0.31;
  r.leak_risk.cls = "moderate";
  r.leak_risk.basis = "first leak at 2.9 mL";
  r.fill.cement_volume_in_bone_ml = 3.88;
  r.fill.endplate_contact = {true, false};
  r.fill.max_spread_mm = 21.0;
  r.mass_balance_error = 1.2e-9;
  r.timeline = {{0.0, 0.0, 0.0, 0.0}, {10.0, 0.5, 1.2, 8.0}, {20.0, 2.0 / 3.0, 1e-300, 7e22}};
  r.solver = {40, 1234, 77, 40, 0, "multigrid", 5};
  return r;
}

}  // namespace

TEST(Report, EverySpecKeyWithItsType) {
  const json j = json::parse(cf::to_json(sample_report()));
  struct Want {
    const char* pointer;
    bool (*ok)(const json&);
  };
  auto integer = [](const json& v) { return v.is_number_integer(); };
  auto number = [](const json& v) { return v.is_number(); };
  auto string = [](const json& v) { return v.is_string(); };
  auto array = [](const json& v) { return v.is_array(); };
  auto object = [](const json& v) { return v.is_object(); };
  auto boolean = [](const json& v) { return v.is_boolean(); };
  const std::vector<Want> want{
      {"/schema", integer},
      {"/scene", string},
      {"/engine", object},
      {"/engine/version", string},
      {"/engine/backend", string},
      {"/engine/threads", integer},
      {"/engine/precision", string},
      {"/grid", object},
      {"/grid/voxel_mm", number},
      {"/grid/active_voxels", integer},
      {"/grid/blocks", integer},
      {"/wall_time_s", number},
      {"/status", string},
      {"/message", string},
      {"/injected_volume_ml", number},
      {"/peak_injection_pressure_mpa", number},
      {"/peak_tip_pressure_kpa", number},
      {"/leaks", array},
      {"/leaks/0", object},
      {"/leaks/0/route", string},
      {"/leaks/0/volume_ml", number},
      {"/leaks/0/first_time_s", number},
      {"/leaks/0/first_injected_ml", number},
      {"/leaks/0/location_mm", array},
      {"/leaks/0/location_mm/2", number},
      {"/leak_volume_ml", number},
      {"/leak_risk", object},
      {"/leak_risk/score", number},
      {"/leak_risk/class", string},
      {"/leak_risk/basis", string},
      {"/fill", object},
      {"/fill/cement_volume_in_bone_ml", number},
      {"/fill/endplate_contact", array},
      {"/fill/endplate_contact/0", boolean},
      {"/fill/endplate_contact/1", boolean},
      {"/fill/max_spread_mm", number},
      {"/mass_balance_error", number},
      {"/timeline", array},
      {"/timeline/1", array},
      {"/timeline/1/3", number},
      {"/solver/pressure_solves", integer},
      {"/solver/total_iterations", integer},
      {"/solver/max_iterations", integer},
      {"/solver/steps", integer},
      {"/solver/transport_sweeps", integer},
  };
  for (const Want& w : want) {
    const json::json_pointer p(w.pointer);
    ASSERT_TRUE(j.contains(p)) << "missing " << w.pointer;
    EXPECT_TRUE(w.ok(j[p])) << w.pointer << " has the wrong type: " << j[p].dump();
  }
}

TEST(Report, NoKeysBeyondSpecAndExtensions) {
  const json j = json::parse(cf::to_json(sample_report()));
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  const std::set<std::string> spec{"schema",
                                   "scene",
                                   "engine",
                                   "grid",
                                   "wall_time_s",
                                   "status",
                                   "injected_volume_ml",
                                   "peak_injection_pressure_mpa",
                                   "peak_tip_pressure_kpa",
                                   "leaks",
                                   "leak_volume_ml",
                                   "leak_risk",
                                   "fill",
                                   "mass_balance_error",
                                   "timeline",
                                   "message",
                                   "solver"};
  EXPECT_EQ(keys, spec);
}

TEST(Report, ValuesRoundTrip) {
  const cf::Report r = sample_report();
  const json j = json::parse(cf::to_json(r));
  EXPECT_EQ(j["scene"], r.scene);
  EXPECT_EQ(j["status"], r.status);
  EXPECT_EQ(j["grid"]["active_voxels"].get<long long>(), r.grid.active_voxels);
  EXPECT_TRUE(same_bits(j["injected_volume_ml"].get<double>(), r.injected_volume_ml));
  EXPECT_TRUE(
      same_bits(j["peak_injection_pressure_mpa"].get<double>(), r.peak_injection_pressure_mpa));
  EXPECT_TRUE(same_bits(j["mass_balance_error"].get<double>(), r.mass_balance_error));
  EXPECT_TRUE(same_bits(j["leaks"][0]["location_mm"][1].get<double>(), r.leaks[0].location_mm[1]));
  EXPECT_EQ(j["leak_risk"]["class"], r.leak_risk.cls);
  EXPECT_EQ(j["fill"]["endplate_contact"][0].get<bool>(), r.fill.endplate_contact[0]);
  ASSERT_EQ(j["timeline"].size(), r.timeline.size());
  for (std::size_t i = 0; i < r.timeline.size(); ++i)
    for (std::size_t c = 0; c < 4; ++c)
      EXPECT_TRUE(same_bits(j["timeline"][i][c].get<double>(), r.timeline[i][c]))
          << "row " << i << " column " << c;
  EXPECT_EQ(j["solver"]["total_iterations"].get<long long>(), r.solver.total_iterations);
}

TEST(Report, EmptyMessageIsLeftOutAndEmptyListsStayLists) {
  cf::Report r;
  const json j = json::parse(cf::to_json(r));
  EXPECT_FALSE(j.contains("message"));
  EXPECT_TRUE(j["leaks"].is_array() && j["leaks"].empty() && j["timeline"].is_array() &&
              j["timeline"].empty());
}

TEST(Report, NonFiniteNumbersBecomeNull) {
  cf::Report r = sample_report();
  r.mass_balance_error = std::numeric_limits<double>::quiet_NaN();
  r.peak_tip_pressure_kpa = std::numeric_limits<double>::infinity();
  r.timeline[1][2] = -std::numeric_limits<double>::infinity();
  json j;
  ASSERT_NO_THROW(j = json::parse(cf::to_json(r)));
  EXPECT_TRUE(j["mass_balance_error"].is_null() && j["peak_tip_pressure_kpa"].is_null() &&
              j["timeline"][1][2].is_null() && j["timeline"][1][1].is_number());
}

TEST(Report, InvalidUtf8DoesNotThrow) {
  cf::Report r = sample_report();
  r.message = std::string("bad byte \xff here");
  json j;
  ASSERT_NO_THROW(j = json::parse(cf::to_json(r)));
  EXPECT_TRUE(j["message"].is_string());
}

TEST(Report, TimelineCsvMatchesTheTimeline) {
  const cf::Report r = sample_report();
  std::istringstream csv(cf::timeline_csv(r));
  std::string line;
  ASSERT_TRUE(static_cast<bool>(std::getline(csv, line)));
  EXPECT_EQ(line, "time_s,injected_ml,injection_pressure_mpa,tip_pressure_kpa");
  std::size_t row = 0;
  while (std::getline(csv, line)) {
    ASSERT_LT(row, r.timeline.size()) << "extra line: " << line;
    std::istringstream cells(line);
    std::string cell;
    std::size_t col = 0;
    while (std::getline(cells, cell, ',')) {
      ASSERT_LT(col, 4u) << line;
      EXPECT_TRUE(same_bits(std::stod(cell), r.timeline[row][col]))
          << "row " << row << " column " << col << ": " << cell;
      ++col;
    }
    EXPECT_EQ(col, 4u) << line;
    ++row;
  }
  EXPECT_EQ(row, r.timeline.size());
}

TEST(Report, KyphoplastyExtensionsOnlyWhenPresent) {
  // A vertebroplasty without cavity: the SPEC.md §5 "fill" keys only, no "kyphoplasty".
  const json plain = json::parse(cf::to_json(sample_report()));
  EXPECT_FALSE(plain["fill"].contains("cavity_fill_fraction"));
  EXPECT_FALSE(plain["fill"].contains("interdigitation_depth_mm"));
  EXPECT_FALSE(plain.contains("kyphoplasty"));

  cf::Report r = sample_report();
  r.fill.has_cavity = true;
  r.fill.cavity_fill_fraction = 2.0 / 3.0;
  r.fill.interdigitation_depth_mm = 0.5;
  r.kyphoplasty.present = true;
  cf::BalloonStats b;
  b.balloon_volume_ml = 3.0;
  b.radius_mm = 1.0 / 7.0;
  b.cavity_volume_ml = 3.0;
  b.displaced_bone_volume_ml = 0.1 + 0.2;
  b.rim_volume_ml = 3.0;
  b.rim_thickness_mm = 2.1;
  b.rim_bv_tv = 0.2;
  b.native_bv_tv = 0.1;
  r.kyphoplasty.stats.balloons = {b, b};
  r.kyphoplasty.stats.bone_volume_before_ml = 2.5;
  r.kyphoplasty.stats.bone_volume_after_ml = 2.5;
  const json j = json::parse(cf::to_json(r));
  EXPECT_TRUE(same_bits(j["fill"]["cavity_fill_fraction"].get<double>(), 2.0 / 3.0));
  EXPECT_TRUE(same_bits(j["fill"]["interdigitation_depth_mm"].get<double>(), 0.5));
  // The SPEC.md keys are still there, unchanged.
  EXPECT_TRUE(same_bits(j["fill"]["cement_volume_in_bone_ml"].get<double>(), 3.88));
  ASSERT_EQ(j["kyphoplasty"]["balloons"].size(), 2u);
  const json& jb = j["kyphoplasty"]["balloons"][1];
  EXPECT_TRUE(same_bits(jb["radius_mm"].get<double>(), 1.0 / 7.0));
  EXPECT_TRUE(same_bits(jb["displaced_bone_volume_ml"].get<double>(), 0.1 + 0.2));
  for (const char* k : {"balloon_volume_ml", "cavity_volume_ml", "rim_volume_ml",
                        "rim_thickness_mm", "rim_bv_tv", "native_bv_tv"})
    EXPECT_TRUE(jb[k].is_number_float()) << k;
  EXPECT_TRUE(same_bits(j["kyphoplasty"]["bone_volume_after_ml"].get<double>(), 2.5));
}

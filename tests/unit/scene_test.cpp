// Scene parsing (SPEC.md §3): the example scenes load, units are converted to SI once, and every
// kind of bad input is an InputError that names the key and the bad value.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/needle.hpp"
#include "cementflow/scene.hpp"
#include "cementflow/sweep.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
using json = nlohmann::json;

namespace {

// Unit conversions multiply decimal inputs by 1e-6 and divide by 60: a few roundings, each
// at most half an ulp, so 8 eps relative covers them with room.
constexpr double kConversionTol = 8 * std::numeric_limits<double>::epsilon();

bool close(double a, double b) {
  return std::abs(a - b) <= kConversionTol * std::abs(b);
}

const char* kFile = "test_scene.json";

/// A valid scene that every bad-input test changes in one place.
json base_scene() {
  return json::parse(R"({
    "schema": 1,
    "name": "unit_scene",
    "bone": { "generate": { "kind": "box", "size_mm": [20, 20, 20], "voxel_mm": 1.0,
                            "porosity": 0.9, "sink_faces": ["+x", "-x"] } },
    "cement": { "model": "newtonian", "viscosity_pa_s": 100 },
    "marrow": { "viscosity_pa_s": 0.04 },
    "injection": {
      "mode": "vertebroplasty",
      "needle": { "tip_mm": [0, 0, 0], "direction": [0, 1, 0], "gauge": 11, "length_mm": 120 },
      "flow_rate_ml_per_min": 3.0,
      "volume_ml": 4.0
    },
    "simulation": { "max_time_s": 600, "output_interval_s": 10 },
    "output": { "grids": ["cement_fraction", "pressure"] }
  })");
}

/// `scene` with the value at JSON pointer `where` replaced by `value` (created if absent).
json with(json scene, const std::string& where, const json& value) {
  scene[json::json_pointer(where)] = value;
  return scene;
}

/// `scene` without the key at JSON pointer `where`.
json without(json scene, const std::string& where) {
  const json::json_pointer p(where);
  scene[p.parent_pointer()].erase(p.back());
  return scene;
}

/// Parsing `text` throws an InputError for `key` whose message names the file, the key and
/// `value_text` (and says what was expected).
::testing::AssertionResult rejects_text(const std::string& text, const std::string& key,
                                        const std::string& value_text) {
  try {
    cf::parse_scene(text, kFile);
  } catch (const cf::InputError& e) {
    const std::string m = e.what();
    if (e.key() != key)
      return ::testing::AssertionFailure()
             << "key '" << e.key() << "' instead of '" << key << "': " << m;
    if (m.rfind(kFile, 0) != 0) return ::testing::AssertionFailure() << "no file name: " << m;
    if (m.find(value_text) == std::string::npos)
      return ::testing::AssertionFailure() << "no '" << value_text << "' in: " << m;
    if (m.find("expected") == std::string::npos)
      return ::testing::AssertionFailure() << "does not say what was expected: " << m;
    return ::testing::AssertionSuccess() << m;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not an InputError: " << e.what();
  }
  return ::testing::AssertionFailure() << "accepted";
}

::testing::AssertionResult rejects(const json& scene, const std::string& key,
                                   const std::string& value_text) {
  return rejects_text(scene.dump(2), key, value_text);
}

std::string write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

// --- valid scenes -------------------------------------------------------------------------------

TEST(Scene, EveryExampleSceneLoads) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(cf::test::source_dir() / "scenes"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  ASSERT_GE(files.size(), 3u) << "expected the three box_vp_*.json scenes";
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    try {
      // A scene may carry an uncertainty block for run --samples (sweep.hpp).
      const cf::SceneUncertainty su = cf::split_scene_uncertainty(f.string());
      const cf::Scene s = su.uncertainty_json.empty() ? cf::load_scene(f.string())
                                                      : cf::parse_scene(su.scene_json, f.string());
      EXPECT_EQ(s.name, f.stem().string()) << "scene name should match the file name";
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(Scene, DefaultSceneConvertsUnitsToSI) {
  const cf::Scene s =
      cf::load_scene((cf::test::source_dir() / "scenes" / "box_vp_default.json").string());
  EXPECT_EQ(s.bone.kind, cf::BoneSource::Kind::Box);
  EXPECT_TRUE(close(s.bone.box.size_mm[0], 40));
  EXPECT_TRUE(close(s.bone.box.voxel_mm, 1.0));
  EXPECT_TRUE(close(s.bone.box.shell_mm, 1.0));
  EXPECT_TRUE(s.bone.box.sink_faces.empty());
  EXPECT_TRUE(s.bone.box.vein);
  EXPECT_EQ(s.bone.box.vein_route, cf::LeakRoute::BasivertebralVein);
  EXPECT_TRUE(close(s.bone.box.vein_direction[1], -1));
  EXPECT_EQ(s.cement.preset, "generic_vertebroplasty");
  ASSERT_EQ(s.injection.needles.size(), 1u);
  EXPECT_EQ(s.injection.needles[0].gauge, 11);
  EXPECT_TRUE(close(s.injection.needles[0].inner_diameter_mm, cf::gauge_inner_diameter_mm(11)));
  EXPECT_FALSE(s.injection.needles[0].side_opening);
  // 3 mL/min = 3e-6 m^3 / 60 s = 5e-8 m^3/s; 2 mL = 2e-6 m^3.
  EXPECT_TRUE(close(s.injection.flow_rate_m3_s, 5e-8));
  EXPECT_TRUE(close(s.injection.volume_m3, 2e-6));
  EXPECT_TRUE(close(s.injection.max_pressure_pa, 10e6)) << "default limit is 10 MPa";
  EXPECT_FALSE(s.injection.stop_at_leak);
  EXPECT_TRUE(close(s.simulation.output_interval_s, 2));
}

TEST(Scene, ExtensionsAreRead) {
  json j = base_scene();
  j["injection"]["max_pressure_mpa"] = 6.5;
  j["injection"]["stop_at_leak"] = true;
  j["simulation"] = {{"max_time_s", 100},
                     {"output_interval_s", 2},
                     {"pressure_tolerance", 1e-9},
                     {"max_solver_iterations", 500},
                     {"courant", 0.5},
                     {"picard_tolerance", 1e-4},
                     {"max_picard_iterations", 3},
                     {"corey_exponent", 2},
                     {"arrival_saturation", 0.25},
                     {"inexact_picard", false}};
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_TRUE(close(s.injection.max_pressure_pa, 6.5e6));
  EXPECT_TRUE(s.injection.stop_at_leak);
  EXPECT_TRUE(close(s.simulation.pressure_tolerance, 1e-9));
  EXPECT_EQ(s.simulation.max_solver_iterations, 500);
  EXPECT_TRUE(close(s.simulation.courant, 0.5));
  EXPECT_TRUE(close(s.simulation.picard_tolerance, 1e-4));
  EXPECT_EQ(s.simulation.max_picard_iterations, 3);
  EXPECT_TRUE(close(s.simulation.corey_exponent, 2));
  EXPECT_TRUE(close(s.simulation.arrival_saturation, 0.25));
  EXPECT_FALSE(s.simulation.inexact_picard);
  EXPECT_TRUE(cf::parse_scene(base_scene().dump(), kFile).simulation.inexact_picard)
      << "inexact Picard is the default";
}

TEST(Scene, TimeSteppingKeysAreRead) {
  const cf::Scene d = cf::parse_scene(base_scene().dump(), kFile);
  EXPECT_EQ(d.simulation.time_stepping, "volume") << "volume stepping is the default";
  json j = base_scene();
  j["simulation"] = {{"time_stepping", "front_courant"}, {"volume_step_ml", 0.25},
                     {"max_front_courant", 6},           {"pressure_change", 0.05},
                     {"volume_picard_iterations", 3},    {"max_volume_growth", 0.3}};
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_EQ(s.simulation.time_stepping, "front_courant");
  EXPECT_TRUE(close(s.simulation.volume_step_m3, 0.25e-6));
  EXPECT_TRUE(close(s.simulation.max_front_courant, 6));
  EXPECT_TRUE(close(s.simulation.pressure_change, 0.05));
  EXPECT_EQ(s.simulation.volume_picard_iterations, 3);
  EXPECT_TRUE(close(s.simulation.max_volume_growth, 0.3));
  EXPECT_TRUE(close(d.simulation.max_volume_growth, 0.1)) << "the default growth bound";
}

TEST(SceneErrors, TimeSteppingValues) {
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"time_stepping", "cfl"}}),
                      "simulation.time_stepping", "\"cfl\""));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"volume_step_ml", 0}}),
                      "simulation.volume_step_ml", "0"));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"max_front_courant", -1}}),
                      "simulation.max_front_courant", "-1"));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"pressure_change", 1.5}}),
                      "simulation.pressure_change", "1.5"));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"volume_picard_iterations", 0}}),
                      "simulation.volume_picard_iterations", "0"));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"max_volume_growth", 0}}),
                      "simulation.max_volume_growth", "0"));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"max_volume_growth", "fast"}}),
                      "simulation.max_volume_growth", "\"fast\""));
}

TEST(Scene, DirectionsAreNormalised) {
  json j = with(base_scene(), "/injection/needle/direction", {0, 3, 4});
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_TRUE(close(s.injection.needles[0].direction[1], 0.6));
  EXPECT_TRUE(close(s.injection.needles[0].direction[2], 0.8));
}

TEST(Scene, InnerDiameterInsteadOfGaugeAndSideOpening) {
  json j = without(base_scene(), "/injection/needle/gauge");
  j["injection"]["needle"]["inner_diameter_mm"] = 2.0;
  j["injection"]["needle"]["opening"] = "side";
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_EQ(s.injection.needles[0].gauge, 0);
  EXPECT_TRUE(close(s.injection.needles[0].inner_diameter_mm, 2.0));
  EXPECT_TRUE(s.injection.needles[0].side_opening);
}

TEST(Scene, SeveralNeedles) {
  json j = without(base_scene(), "/injection/needle");
  j["injection"]["needles"] = {
      {{"tip_mm", {-3, 0, 0}}, {"direction", {1, 1, 0}}, {"gauge", 11}, {"length_mm", 120}},
      {{"tip_mm", {3, 0, 0}}, {"direction", {-1, 1, 0}}, {"gauge", 13}, {"length_mm", 100}}};
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  ASSERT_EQ(s.injection.needles.size(), 2u);
  EXPECT_EQ(s.injection.needles[1].gauge, 13);
  EXPECT_TRUE(close(s.injection.needles[1].length_mm, 100));
}

TEST(Scene, BoneFileIsResolvedAgainstTheSceneFolder) {
  json j = with(base_scene(), "/bone", {{"vdb", "bones/l1.vdb"}});
  const auto a = cf::parse_scene(j.dump(), "/data/scenes/vp.json");
  EXPECT_EQ(a.bone.kind, cf::BoneSource::Kind::File);
  EXPECT_EQ(a.bone.vdb_path, "/data/scenes/bones/l1.vdb");
  EXPECT_EQ(cf::parse_scene(j.dump(), "<scene>").bone.vdb_path, "bones/l1.vdb");
  EXPECT_EQ(cf::parse_scene(j.dump(), "").bone.vdb_path, "bones/l1.vdb");
  j["bone"]["vdb"] = "/abs/l1.vdb";
  EXPECT_EQ(cf::parse_scene(j.dump(), "/data/scenes/vp.json").bone.vdb_path, "/abs/l1.vdb");
}

TEST(Scene, BoxPhantomKeys) {
  json j = base_scene();
  j["bone"]["generate"]["permeability_m2"] = {4.45e-8, 3.44e-8, 3.44e-8};
  j["bone"]["generate"]["shell_mm"] = 1.5;
  j["bone"]["generate"]["vein"] = {{"start_mm", {0, -4, 0}},
                                   {"direction", {0, 0, -2}},
                                   {"diameter_mm", 2},
                                   {"route", "segmental_vein"}};
  const cf::BoxPhantom b = cf::parse_scene(j.dump(), kFile).bone.box;
  EXPECT_TRUE(close(b.permeability_m2[0], 4.45e-8));
  EXPECT_TRUE(close(b.shell_mm, 1.5));
  EXPECT_EQ(b.sink_faces, (std::vector<std::string>{"+x", "-x"}));
  EXPECT_TRUE(b.vein);
  EXPECT_TRUE(close(b.vein_direction[2], -1));
  EXPECT_TRUE(close(b.vein_diameter_mm, 2));
  EXPECT_EQ(b.vein_route, cf::LeakRoute::SegmentalVein);
}

TEST(Scene, ExplicitCementModels) {
  auto cement = [](const json& c) {
    return cf::parse_scene(with(base_scene(), "/cement", c).dump(), kFile).cement;
  };
  const auto pl = cement({{"model", "power_law"},
                          {"consistency_pa_sn", 300},
                          {"flow_index", 0.5},
                          {"min_viscosity_pa_s", 0.5},
                          {"max_viscosity_pa_s", 5e4}});
  EXPECT_EQ(pl.model, cf::RheologyModel::PowerLaw);
  EXPECT_TRUE(close(pl.consistency_pa_sn, 300));
  EXPECT_TRUE(close(pl.flow_index, 0.5));
  EXPECT_TRUE(close(pl.min_viscosity_pa_s, 0.5));
  EXPECT_TRUE(close(pl.max_viscosity_pa_s, 5e4));
  const auto cr = cement({{"model", "cross"},
                          {"zero_shear_viscosity_pa_s", 500},
                          {"infinite_shear_viscosity_pa_s", 1},
                          {"time_constant_s", 2},
                          {"rate_index", 0.7}});
  EXPECT_EQ(cr.model, cf::RheologyModel::Cross);
  EXPECT_TRUE(close(cr.rate_index, 0.7));
  const auto cy = cement({{"model", "carreau_yasuda"},
                          {"zero_shear_viscosity_pa_s", 500},
                          {"infinite_shear_viscosity_pa_s", 1},
                          {"time_constant_s", 2},
                          {"flow_index", 0.4},
                          {"yasuda_a", 1.5}});
  EXPECT_EQ(cy.model, cf::RheologyModel::CarreauYasuda);
  EXPECT_TRUE(close(cy.yasuda_a, 1.5));
  const auto hb = cement({{"model", "herschel_bulkley"},
                          {"yield_stress_pa", 50},
                          {"consistency_pa_sn", 200},
                          {"flow_index", 0.6}});
  EXPECT_EQ(hb.model, cf::RheologyModel::HerschelBulkley);
  EXPECT_TRUE(close(hb.yield_stress_pa, 50));
  // A Newtonian viscosity above the default clamp is kept, not clamped.
  const auto nt = cement({{"model", "newtonian"}, {"viscosity_pa_s", 2e5}});
  EXPECT_GE(nt.max_viscosity_pa_s, nt.viscosity_pa_s);
}

TEST(Scene, CuringAndStepppedCannula) {
  // A preset keeps its exponential cure; "curing" beside it overrides single keys.
  json j = with(base_scene(), "/cement", {{"preset", "generic_low_viscosity"}});
  cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_EQ(s.cement.curing.model, cf::CureModel::Exponential);
  EXPECT_DOUBLE_EQ(s.cement.curing.reference_age_s, 180.0);
  EXPECT_DOUBLE_EQ(s.cement.curing.room_temperature_c, 22.0);
  j = with(j, "/cement/curing", {{"room_temperature_c", 20}});
  s = cf::parse_scene(j.dump(), kFile);
  EXPECT_EQ(s.cement.curing.model, cf::CureModel::Exponential);
  EXPECT_DOUBLE_EQ(s.cement.curing.room_temperature_c, 20.0);
  EXPECT_DOUBLE_EQ(s.cement.curing.time_constant_s, 150.0);
  j = with(j, "/cement/curing", {{"model", "none"}});
  EXPECT_EQ(cf::parse_scene(j.dump(), kFile).cement.curing.model, cf::CureModel::None);
  // Kamal–Sourour on an explicit model, energies in kJ/mol.
  j = with(base_scene(), "/cement/curing",
           {{"model", "kamal_sourour"},
            {"k1_per_s", 0.001},
            {"k2_per_s", 0.02},
            {"m", 1},
            {"p", 2},
            {"gel_degree", 0.75},
            {"castro_a", 1.5},
            {"castro_b", 1},
            {"activation_energy_kj_mol", 50},
            {"body_temperature_c", 36.5}});
  s = cf::parse_scene(j.dump(), kFile);
  const cf::Curing& c = s.cement.curing;
  EXPECT_EQ(c.model, cf::CureModel::KamalSourour);
  EXPECT_DOUBLE_EQ(c.k2_per_s, 0.02);
  EXPECT_DOUBLE_EQ(c.kamal_p, 2.0);
  EXPECT_DOUBLE_EQ(c.gel_degree, 0.75);
  EXPECT_DOUBLE_EQ(c.activation_energy_j_mol, 50e3);
  EXPECT_DOUBLE_EQ(c.body_temperature_c, 36.5);
  EXPECT_DOUBLE_EQ(c.initial_degree, 0.0);
  // Stepped cannula: an 8G hub-side section before the 11G tip section.
  j = with(base_scene(), "/injection/needle/proximal", {{"gauge", 8}, {"length_mm", 80}});
  s = cf::parse_scene(j.dump(), kFile);
  const auto sec = cf::cannula_sections(s.injection.needles[0]);
  ASSERT_EQ(sec.size(), 2u);
  EXPECT_DOUBLE_EQ(sec[0].radius_m, 0.5 * 3.43e-3);
  EXPECT_DOUBLE_EQ(sec[0].length_m, 0.08);
  EXPECT_DOUBLE_EQ(sec[1].radius_m, 0.5 * 2.39e-3);
  EXPECT_DOUBLE_EQ(sec[1].length_m, 0.12);
  EXPECT_EQ(
      cf::cannula_sections(cf::parse_scene(base_scene().dump(), kFile).injection.needles[0]).size(),
      1u);
}

TEST(Scene, MakeBoneBuildsTheBoxPhantom) {
  const cf::Scene s =
      cf::load_scene((cf::test::source_dir() / "scenes" / "box_vp_power_law.json").string());
  const cf::BoneBlocks bone = cf::make_bone(s);
  // No shell and no vein: every voxel of the box is trabecular bone, and the box has
  // size / voxel = 20 voxels per axis. The sink faces add soft tissue outside it.
  const auto n = static_cast<std::size_t>(std::lround(s.bone.box.size_mm[0] / s.bone.box.voxel_mm));
  std::size_t trabecular = 0, soft_tissue = 0;
  for (std::int32_t m : bone.material) {
    trabecular += m == static_cast<std::int32_t>(cf::Material::Trabecular);
    soft_tissue += m == static_cast<std::int32_t>(cf::Material::SoftTissue);
  }
  EXPECT_EQ(trabecular, n * n * n);
  EXPECT_GT(soft_tissue, 0u) << "all six faces are sinks";
  EXPECT_EQ(bone.permeability.size(), 3 * bone.num_voxels()) << "complete_bone fills k";
}

TEST(Scene, MakeBoneLoadsAVdbBesideTheScene) {
  const auto dir = cf::test::temp_dir("scene_vdb");
  cf::BoxPhantom box;
  box.size_mm = {12, 12, 12};
  box.voxel_mm = 1;
  box.sink_faces = {"+x", "-x"};
  const cf::BoneBlocks made = cf::generate_box(box);
  cf::save_bone(made, (dir / "bone.vdb").string());
  json j = with(base_scene(), "/bone", {{"vdb", "bone.vdb"}});  // relative to the scene file
  const std::string path = write_file(dir / "scene.json", j.dump(2));
  const cf::BoneBlocks loaded = cf::make_bone(cf::load_scene(path));
  EXPECT_EQ(loaded.active_voxels(), made.active_voxels());
}

// --- bad input: one assertion each --------------------------------------------------------------

TEST(SceneErrors, UnknownTopLevelKey) {
  EXPECT_TRUE(rejects(with(base_scene(), "/colour", "red"), "colour", "one of: schema"));
}
TEST(SceneErrors, UnknownNestedKey) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/bevel", 1), "injection.needle.bevel",
                      "one of: tip_mm"));
}
TEST(SceneErrors, UnknownKeyInNeedleList) {
  json j = without(base_scene(), "/injection/needle");
  j["injection"]["needles"] = {base_scene()["injection"]["needle"],
                               base_scene()["injection"]["needle"]};
  j["injection"]["needles"][1]["bevel"] = 1;
  EXPECT_TRUE(rejects(j, "injection.needles[1].bevel", "one of: tip_mm"));
}
TEST(SceneErrors, UnknownSimulationKey) {
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation/time_step_s", 1), "simulation.time_step_s",
                      "max_time_s"));
}
TEST(SceneErrors, DuplicateKey) {
  std::string text = base_scene().dump(2);
  text.insert(text.find("\"volume_ml\""), "\"volume_ml\": 2.0,\n");
  EXPECT_TRUE(rejects_text(text, "injection.volume_ml", "second time"));
}
TEST(SceneErrors, SyntaxErrorNamesLine) {
  EXPECT_TRUE(rejects_text("{\n  \"schema\": 1,\n  \"name\": x\n}", "", "line 3"));
}
TEST(SceneErrors, NumberOverflowIsNotFinite) {
  std::string text = base_scene().dump(2);
  text.replace(text.find("\"volume_ml\": 4.0"), 16, "\"volume_ml\": 1e999");
  EXPECT_TRUE(rejects_text(text, "", "1e999"));
}
TEST(SceneErrors, NotAnObject) {
  EXPECT_TRUE(rejects_text("[1, 2]", "", "[1,2]"));
}
TEST(SceneErrors, WrongTypeString) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/flow_rate_ml_per_min", "3"),
                      "injection.flow_rate_ml_per_min", "\"3\""));
}
TEST(SceneErrors, WrongTypeBool) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/stop_at_leak", "yes"),
                      "injection.stop_at_leak", "\"yes\""));
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation", {{"inexact_picard", 1}}),
                      "simulation.inexact_picard", "1"));
}
TEST(SceneErrors, WrongTypeSection) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection", 5), "injection", "5"));
}
TEST(SceneErrors, MissingRequiredKey) {
  EXPECT_TRUE(
      rejects(without(base_scene(), "/injection/volume_ml"), "injection.volume_ml", "required"));
}
TEST(SceneErrors, MissingName) {
  EXPECT_TRUE(rejects(without(base_scene(), "/name"), "name", "required"));
}
TEST(SceneErrors, BadNameCharacters) {
  EXPECT_TRUE(rejects(with(base_scene(), "/name", "../evil"), "name", "\"../evil\""));
}
TEST(SceneErrors, FlowRateNotPositive) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/flow_rate_ml_per_min", 0),
                      "injection.flow_rate_ml_per_min", "got 0"));
}
TEST(SceneErrors, VolumeNotPositive) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/injection/volume_ml", -1), "injection.volume_ml", "got -1"));
}
TEST(SceneErrors, CementViscosityNotPositive) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/cement/viscosity_pa_s", 0), "cement.viscosity_pa_s", "got 0"));
}
TEST(SceneErrors, MarrowViscosityNotPositive) {
  EXPECT_TRUE(rejects(with(base_scene(), "/marrow/viscosity_pa_s", -0.04), "marrow.viscosity_pa_s",
                      "got -0.04"));
}
TEST(SceneErrors, PorosityAboveOne) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/generate/porosity", 1.5), "bone.generate.porosity",
                      "got 1.5"));
}
TEST(SceneErrors, PorosityZero) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/bone/generate/porosity", 0), "bone.generate.porosity", "got 0"));
}
TEST(SceneErrors, GaugeNotInTable) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/injection/needle/gauge", 12), "injection.needle.gauge", "12"));
}
TEST(SceneErrors, GaugeNotInteger) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/gauge", 11.5), "injection.needle.gauge",
                      "got 11.5"));
}
TEST(SceneErrors, GaugeAndInnerDiameter) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/inner_diameter_mm", 2.0),
                      "injection.needle.inner_diameter_mm", "not both"));
}
TEST(SceneErrors, NeitherGaugeNorInnerDiameter) {
  EXPECT_TRUE(rejects(without(base_scene(), "/injection/needle/gauge"), "injection.needle.gauge",
                      "inner_diameter_mm"));
}
TEST(SceneErrors, NeedleLengthNotPositive) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/length_mm", 0),
                      "injection.needle.length_mm", "got 0"));
}
TEST(SceneErrors, NeedleOpening) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/opening", "back"),
                      "injection.needle.opening", "\"back\""));
}
TEST(SceneErrors, DirectionZero) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/direction", {0, 0, 0}),
                      "injection.needle.direction", "[0,0,0]"));
}
TEST(SceneErrors, TipNotThreeNumbers) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/tip_mm", {0, 0}),
                      "injection.needle.tip_mm", "[0,0]"));
}
TEST(SceneErrors, TipOutsideBox) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/tip_mm", {0, 30, 0}),
                      "injection.needle.tip_mm", "[0,30,0]"));
}
TEST(SceneErrors, NeedleAndNeedles) {
  json j = base_scene();
  j["injection"]["needles"] = {j["injection"]["needle"]};
  EXPECT_TRUE(rejects(j, "injection.needles", "not both"));
}
TEST(SceneErrors, NoNeedle) {
  EXPECT_TRUE(rejects(without(base_scene(), "/injection/needle"), "injection.needle", "required"));
}
TEST(SceneErrors, SchemaNotOne) {
  EXPECT_TRUE(rejects(with(base_scene(), "/schema", 2), "schema", "got 2"));
}
TEST(SceneErrors, UnknownMode) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/injection/mode", "spray"), "injection.mode", "\"spray\""));
}
TEST(SceneErrors, BalloonInVertebroplasty) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/balloon", json::object()), "injection.balloon",
                      "no balloon in a vertebroplasty"));
}

// --- kyphoplasty (PHYSICS.md §M4)
// ------------------------------------------------------------------

namespace {
/// base_scene as a kyphoplasty: one balloon at the centre, the filler tip inside it.
json kp_scene() {
  json j = base_scene();
  j["injection"]["mode"] = "kyphoplasty";
  j["injection"]["balloon"] = {
      {"center_mm", {0, 0, 0}}, {"axis", {0, 1, 0}}, {"length_mm", 12}, {"volume_ml", 0.8}};
  j["injection"]["volume_ml"] = 0.8;
  return j;
}
}  // namespace

TEST(SceneKyphoplasty, OneBalloon) {
  const cf::Scene s = cf::parse_scene(kp_scene().dump(), kFile);
  EXPECT_EQ(s.injection.mode, "kyphoplasty");
  ASSERT_EQ(s.injection.balloons.size(), 1u);
  EXPECT_FALSE(s.injection.balloon_list);
  EXPECT_TRUE(close(s.injection.balloons[0].length_mm, 12));
  EXPECT_TRUE(close(s.injection.balloons[0].volume_ml, 0.8));
  EXPECT_EQ(cf::balloon_keys(s), std::vector<std::string>{"injection.balloon"});
}

TEST(SceneKyphoplasty, BalloonListAndAxisNormalised) {
  json j = without(kp_scene(), "/injection/balloon");
  j["injection"]["balloons"] = {
      {{"center_mm", {-4, 0, 0}}, {"axis", {0, 3, 4}}, {"length_mm", 10}, {"volume_ml", 0.3}},
      {{"center_mm", {4, 0, 0}}, {"axis", {0, 1, 0}}, {"length_mm", 10}, {"volume_ml", 0.3}}};
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  ASSERT_EQ(s.injection.balloons.size(), 2u);
  EXPECT_TRUE(close(s.injection.balloons[0].axis[1], 0.6));
  EXPECT_TRUE(close(s.injection.balloons[0].axis[2], 0.8));
  EXPECT_EQ(cf::balloon_keys(s)[1], "injection.balloons[1]");
}

TEST(SceneKyphoplasty, MakeBoneCarvesTheBalloon) {
  const cf::Scene s = cf::parse_scene(kp_scene().dump(), kFile);
  cf::KyphoplastyStats st;
  const cf::BoneBlocks b = cf::make_bone(s, &st);
  ASSERT_EQ(st.balloons.size(), 1u);
  const auto cavity = std::count(b.material.begin(), b.material.end(), 3);
  EXPECT_EQ(cavity, st.balloons[0].cavity_voxels);
  EXPECT_NEAR(static_cast<double>(cavity) * 1e-3, 0.8, 0.5e-3);  // 1 mm voxels
}

TEST(SceneKyphoplastyErrors, NoBalloon) {
  EXPECT_TRUE(rejects(without(kp_scene(), "/injection/balloon"), "injection.balloon", "required"));
}
TEST(SceneKyphoplastyErrors, BalloonAndBalloons) {
  json j = kp_scene();
  j["injection"]["balloons"] = {j["injection"]["balloon"]};
  EXPECT_TRUE(rejects(j, "injection.balloons", "not both"));
}
TEST(SceneKyphoplastyErrors, EmptyBalloonList) {
  json j = without(kp_scene(), "/injection/balloon");
  j["injection"]["balloons"] = json::array();
  EXPECT_TRUE(rejects(j, "injection.balloons", "[]"));
}
TEST(SceneKyphoplastyErrors, VolumeNotPositive) {
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/volume_ml", 0),
                      "injection.balloon.volume_ml", "got 0"));
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/volume_ml", -2),
                      "injection.balloon.volume_ml", "got -2"));
}
TEST(SceneKyphoplastyErrors, VolumeBeyondTheLength) {
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/volume_ml", 1.0),
                      "injection.balloon.volume_ml", "pi L^3 / 6 = 0.904779 mL"));
}
TEST(SceneKyphoplastyErrors, VolumeLargerThanTheBody) {
  json j = with(kp_scene(), "/injection/balloon/length_mm", 60);
  EXPECT_TRUE(rejects(with(j, "/injection/balloon/volume_ml", 9), "injection.balloon.volume_ml",
                      "less than the box phantom's volume (8 mL)"));
}
TEST(SceneKyphoplastyErrors, CentreOutsideTheBox) {
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/center_mm", {0, 0, 15}),
                      "injection.balloon.center_mm", "[0,0,15]"));
}
TEST(SceneKyphoplastyErrors, AxisZero) {
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/axis", {0, 0, 0}),
                      "injection.balloon.axis", "[0,0,0]"));
}
TEST(SceneKyphoplastyErrors, LengthMissing) {
  EXPECT_TRUE(rejects(without(kp_scene(), "/injection/balloon/length_mm"),
                      "injection.balloon.length_mm", "required"));
}
TEST(SceneKyphoplastyErrors, UnknownBalloonKey) {
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/pressure_mpa", 0.85),
                      "injection.balloon.pressure_mpa", "one of: center_mm"));
}
TEST(SceneKyphoplastyErrors, OverlappingBalloonsAtMakeBone) {
  json j = without(kp_scene(), "/injection/balloon");
  j["injection"]["balloons"] = {
      {{"center_mm", {-2, 0, 0}}, {"axis", {0, 1, 0}}, {"length_mm", 10}, {"volume_ml", 0.3}},
      {{"center_mm", {2, 0, 0}}, {"axis", {0, 1, 0}}, {"length_mm", 10}, {"volume_ml", 0.3}}};
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  try {
    cf::make_bone(s);
    FAIL() << "overlapping balloons accepted";
  } catch (const cf::InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.key(), "injection.balloons[1]") << m;
    EXPECT_EQ(m.rfind(kFile, 0), 0u) << m;
    EXPECT_NE(m.find("does not overlap injection.balloons[0]"), std::string::npos) << m;
  }
}
TEST(SceneKyphoplastyErrors, BalloonCuttingTheCortexAtMakeBone) {
  json j = with(kp_scene(), "/bone/generate/shell_mm", 1.0);
  j = with(j, "/injection/balloon/center_mm", {6, 0, 0});
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  try {
    cf::make_bone(s);
    FAIL() << "a balloon through the shell accepted";
  } catch (const cf::InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.key(), "injection.balloon") << m;
    EXPECT_NE(m.find("cut the cortex"), std::string::npos) << m;
  }
}

TEST(SceneErrors, MaxTimeShorterThanInjection) {
  // 4 mL at 3 mL/min takes 80 s.
  EXPECT_TRUE(
      rejects(with(base_scene(), "/simulation/max_time_s", 60), "simulation.max_time_s", "80 s"));
}
TEST(SceneErrors, DefaultMaxTimeShorterThanInjection) {
  // 40 mL at 3 mL/min takes 800 s, more than the default max_time_s of 600 s.
  json j = with(base_scene(), "/injection/volume_ml", 40);
  j["simulation"].erase("max_time_s");
  EXPECT_TRUE(rejects(j, "simulation.max_time_s", "800 s"));
}
TEST(SceneErrors, MaxSolverIterationsZero) {
  EXPECT_TRUE(rejects(with(base_scene(), "/simulation/max_solver_iterations", 0),
                      "simulation.max_solver_iterations", "got 0"));
}
TEST(SceneErrors, UnknownOutputGrid) {
  EXPECT_TRUE(rejects(with(base_scene(), "/output/grids", {"pressure", "temperature"}),
                      "output.grids[1]", "\"temperature\""));
}
TEST(SceneErrors, DuplicateOutputGrid) {
  EXPECT_TRUE(rejects(with(base_scene(), "/output/grids", {"pressure", "pressure"}),
                      "output.grids[1]", "\"pressure\""));
}
TEST(SceneErrors, UnknownPreset) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement", {{"preset", "no_such_cement"}}),
                      "cement.preset", "no_such_cement"));
}
TEST(SceneErrors, PresetAndModel) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/preset", "generic_vertebroplasty"), "cement",
                      "exactly one of"));
}
TEST(SceneErrors, UnknownModel) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/cement/model", "bingham"), "cement.model", "\"bingham\""));
}
TEST(SceneErrors, KeyOfAnotherModel) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/flow_index", 0.5), "cement.flow_index",
                      "one of: model, viscosity_pa_s"));
}
TEST(SceneErrors, PowerLawMaxBelowMin) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement",
                           {{"model", "power_law"},
                            {"consistency_pa_sn", 300},
                            {"flow_index", 0.5},
                            {"min_viscosity_pa_s", 10},
                            {"max_viscosity_pa_s", 5}}),
                      "cement.max_viscosity_pa_s", "got 5"));
}
TEST(SceneErrors, CrossInfiniteAboveZeroShear) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement",
                           {{"model", "cross"},
                            {"zero_shear_viscosity_pa_s", 10},
                            {"infinite_shear_viscosity_pa_s", 20},
                            {"time_constant_s", 1},
                            {"rate_index", 0.5}}),
                      "cement.infinite_shear_viscosity_pa_s", "got 20"));
}
TEST(SceneErrors, CuringNeedsAModel) {
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/curing", json::object()), "cement.curing.model",
                      "required key missing"));
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/curing", {{"model", "arrhenius"}}),
                      "cement.curing.model", "\"arrhenius\""));
}
TEST(SceneErrors, CuringOutOfRange) {
  const json kamal = {
      {"model", "kamal_sourour"}, {"k1_per_s", 0.001}, {"k2_per_s", 0.02}, {"m", 1}, {"p", 1},
      {"gel_degree", 0.8},        {"castro_a", 1.5},   {"castro_b", 1}};
  EXPECT_TRUE(
      rejects(with(with(base_scene(), "/cement/curing", kamal), "/cement/curing/gel_degree", 1.5),
              "cement.curing.gel_degree", "got 1.5"));
  EXPECT_TRUE(
      rejects(with(with(base_scene(), "/cement/curing", kamal), "/cement/curing/gel_degree", 0),
              "cement.curing.gel_degree", "0"));
  EXPECT_TRUE(
      rejects(with(with(base_scene(), "/cement/curing", kamal), "/cement/curing/k2_per_s", -1),
              "cement.curing.k2_per_s", "-1"));
  EXPECT_TRUE(rejects(without(with(base_scene(), "/cement/curing", kamal), "/cement/curing/m"),
                      "cement.curing.m", "required key missing"));
  EXPECT_TRUE(rejects(
      with(base_scene(), "/cement/curing", {{"model", "exponential"}, {"time_constant_s", -5}}),
      "cement.curing.time_constant_s", "-5"));
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/curing",
                           {{"model", "exponential"}, {"room_temperature_c", -400}}),
                      "cement.curing.room_temperature_c", "-400"));
  EXPECT_TRUE(rejects(with(base_scene(), "/cement/curing",
                           {{"model", "exponential"}, {"room_temperature_c", "warm"}}),
                      "cement.curing.room_temperature_c", "\"warm\""));
  // Kamal keys under an exponential cure, and vice versa.
  EXPECT_TRUE(
      rejects(with(base_scene(), "/cement/curing", {{"model", "exponential"}, {"gel_degree", 0.8}}),
              "cement.curing.gel_degree", "one of: model"));
  EXPECT_TRUE(rejects(
      with(with(base_scene(), "/cement/curing", kamal), "/cement/curing/time_constant_s", 100),
      "cement.curing.time_constant_s", "one of: model"));
}
TEST(SceneErrors, PowerLawParametersOutOfRange) {
  const json pl = {{"model", "power_law"}, {"consistency_pa_sn", 300}, {"flow_index", 0.5}};
  EXPECT_TRUE(rejects(with(with(base_scene(), "/cement", pl), "/cement/flow_index", 0),
                      "cement.flow_index", "got 0"));
  EXPECT_TRUE(rejects(with(with(base_scene(), "/cement", pl), "/cement/consistency_pa_sn", -3),
                      "cement.consistency_pa_sn", "got -3"));
}
TEST(SceneErrors, ProximalSection) {
  EXPECT_TRUE(rejects(with(base_scene(), "/injection/needle/proximal", {{"length_mm", 50}}),
                      "injection.needle.proximal.gauge", "exactly one of"));
  EXPECT_TRUE(
      rejects(with(base_scene(), "/injection/needle/proximal", {{"gauge", 12}, {"length_mm", 50}}),
              "injection.needle.proximal.gauge", "12"));
  EXPECT_TRUE(
      rejects(with(base_scene(), "/injection/needle/proximal", {{"gauge", 8}, {"length_mm", 0}}),
              "injection.needle.proximal.length_mm", "got 0"));
}
TEST(SceneErrors, UnknownGeneratorKind) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone", {{"generate", {{"kind", "cube"}}}}),
                      "bone.generate.kind", "\"cube\""));
}

// --- the vertebra generator in a scene ----------------------------------------------------------

json vertebra_scene() {
  return with(base_scene(), "/bone",
              {{"generate",
                {{"kind", "vertebra"},
                 {"seed", 7},
                 {"voxel_mm", 2.0},
                 {"quality", "healthy"},
                 {"fracture", "wedge"}}}});
}

TEST(Scene, VertebraKeys) {
  const cf::Scene s = cf::parse_scene(vertebra_scene().dump(), kFile);
  ASSERT_EQ(s.bone.kind, cf::BoneSource::Kind::Vertebra);
  EXPECT_EQ(s.bone.vertebra.seed, 7u);
  EXPECT_EQ(s.bone.vertebra.voxel_mm, 2.0);
  EXPECT_FALSE(s.bone.vertebra.osteoporotic);
  EXPECT_EQ(s.bone.vertebra.fracture, cf::VertebraParams::Fracture::Wedge);
  // Defaults: seed 1, 0.5 mm, osteoporotic, no fracture.
  const cf::Scene d = cf::parse_scene(
      with(base_scene(), "/bone", {{"generate", {{"kind", "vertebra"}}}}).dump(), kFile);
  EXPECT_EQ(d.bone.vertebra.seed, 1u);
  EXPECT_EQ(d.bone.vertebra.voxel_mm, 0.5);
  EXPECT_TRUE(d.bone.vertebra.osteoporotic);
  EXPECT_EQ(d.bone.vertebra.fracture, cf::VertebraParams::Fracture::None);
  // make_bone generates it, completed (permeability everywhere in the model).
  const cf::BoneBlocks b = cf::make_bone(s);
  EXPECT_GT(b.active_voxels(), 1000u);
  EXPECT_EQ(b.permeability.size(), 3 * b.num_voxels());
}

TEST(SceneErrors, VertebraBadValues) {
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/voxel_mm", 0),
                      "bone.generate.voxel_mm", "got 0"));
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/voxel_mm", -1),
                      "bone.generate.voxel_mm", "got -1"));
  // Too fine: over the voxel limit (memory).
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/voxel_mm", 0.05),
                      "bone.generate.voxel_mm", "voxels"));
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/fracture", "crack"),
                      "bone.generate.fracture", "\"crack\""));
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/quality", "young"),
                      "bone.generate.quality", "\"young\""));
  EXPECT_TRUE(
      rejects(with(vertebra_scene(), "/bone/generate/seed", -3), "bone.generate.seed", "got -3"));
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/bone/generate/porosity", 0.9),
                      "bone.generate.porosity", "one of"));
}

TEST(SceneErrors, VertebraTipOutsideTheBody) {
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/injection/needle/tip_mm", {0, 40, 0}),
                      "injection.needle.tip_mm", "[0,40,0]"));
  // In the spinal canal, behind the posterior wall.
  EXPECT_TRUE(rejects(with(vertebra_scene(), "/injection/needle/tip_mm", {0, -22, 0}),
                      "injection.needle.tip_mm", "[0,-22,0]"));
}
TEST(SceneErrors, BoneVdbAndGenerate) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/vdb", "l1.vdb"), "bone", "exactly one of"));
}
TEST(SceneErrors, SinkFaceUnknown) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/generate/sink_faces", {"+w"}),
                      "bone.generate.sink_faces[0]", "\"+w\""));
}
TEST(SceneErrors, TooManyVoxels) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/generate/voxel_mm", 0.001),
                      "bone.generate.voxel_mm", "got 0.001"));
}
TEST(SceneErrors, ShellTooThick) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/generate/shell_mm", 10), "bone.generate.shell_mm",
                      "got 10"));
}
TEST(SceneErrors, VeinRoute) {
  EXPECT_TRUE(rejects(with(base_scene(), "/bone/generate/vein",
                           {{"start_mm", {0, -4, 0}},
                            {"direction", {0, -1, 0}},
                            {"diameter_mm", 1.5},
                            {"route", "aorta"}}),
                      "bone.generate.vein.route", "\"aorta\""));
}
TEST(SceneErrors, VeinDiameterNotPositive) {
  EXPECT_TRUE(
      rejects(with(base_scene(), "/bone/generate/vein",
                   {{"start_mm", {0, -4, 0}}, {"direction", {0, -1, 0}}, {"diameter_mm", 0}}),
              "bone.generate.vein.diameter_mm", "got 0"));
}
TEST(SceneErrors, MissingFile) {
  const auto dir = cf::test::temp_dir("scene_missing");
  const std::string path = (dir / "absent.json").string();
  try {
    cf::load_scene(path);
    ADD_FAILURE() << "accepted a missing file";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(e.file(), path) << e.what();
  }
}
TEST(SceneErrors, DirectoryInsteadOfFile) {
  const auto dir = cf::test::temp_dir("scene_dir");
  try {
    cf::load_scene(dir.string());
    ADD_FAILURE() << "accepted a directory";
  } catch (const cf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a readable scene file"), std::string::npos) << e.what();
  }
}
TEST(SceneErrors, ErrorsFromAFileNameTheFile) {
  const auto dir = cf::test::temp_dir("scene_file_error");
  const std::string path =
      write_file(dir / "bad.json", with(base_scene(), "/injection/volume_ml", 0).dump());
  try {
    cf::load_scene(path);
    ADD_FAILURE() << "accepted volume_ml 0";
  } catch (const cf::InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": injection.volume_ml: got 0", 0), 0u)
        << e.what();
  }
}

// --- issue 15: leak gateways and catalogue balloons ---------------------------------------------

TEST(SceneLeakGateways, DefaultsAndOverrides) {
  const cf::Scene d = cf::parse_scene(base_scene().dump(), kFile);
  EXPECT_DOUBLE_EQ(d.gateways.vein.opening_mm, 0.2);
  EXPECT_DOUBLE_EQ(d.gateways.vein.length_mm, 1.0);
  EXPECT_DOUBLE_EQ(d.gateways.endplate.opening_mm, 0.1);
  EXPECT_DOUBLE_EQ(d.gateways.breach.opening_mm, 1.0);
  const json j = with(base_scene(), "/leak_gateways",
                      {{"vein", {{"opening_mm", 0.5}}}, {"breach", {{"length_mm", 2}}}});
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  EXPECT_DOUBLE_EQ(s.gateways.vein.opening_mm, 0.5);
  EXPECT_DOUBLE_EQ(s.gateways.vein.length_mm, 1.0);  // untouched default
  EXPECT_DOUBLE_EQ(s.gateways.breach.length_mm, 2.0);
  EXPECT_DOUBLE_EQ(s.gateways.endplate.opening_mm, 0.1);
}

TEST(SceneLeakGateways, BadValuesNameTheKey) {
  EXPECT_TRUE(rejects(with(base_scene(), "/leak_gateways", {{"artery", {{"opening_mm", 1}}}}),
                      "leak_gateways.artery", "one of: vein"));
  EXPECT_TRUE(rejects(with(base_scene(), "/leak_gateways", {{"vein", {{"opening_mm", 0}}}}),
                      "leak_gateways.vein.opening_mm", "got 0"));
  EXPECT_TRUE(rejects(with(base_scene(), "/leak_gateways", {{"endplate", {{"length_mm", -1}}}}),
                      "leak_gateways.endplate.length_mm", "got -1"));
}

TEST(SceneKyphoplasty, CatalogueBalloonSize) {
  // A 15/3 balloon (nominal length 15 mm, 3 mL), which length_mm = 15 would reject (> pi L^3/6).
  json j = without(kp_scene(), "/injection/balloon/length_mm");
  j["injection"]["balloon"]["nominal_length_mm"] = 15;
  j["injection"]["balloon"]["volume_ml"] = 3;
  const cf::Scene s = cf::parse_scene(j.dump(), kFile);
  ASSERT_EQ(s.injection.balloons.size(), 1u);
  EXPECT_DOUBLE_EQ(s.injection.balloons[0].length_mm, cf::catalogue_balloon_length_mm(15, 3));
  EXPECT_TRUE(rejects(with(kp_scene(), "/injection/balloon/nominal_length_mm", 15),
                      "injection.balloon.nominal_length_mm", "exactly one of length_mm"));
}

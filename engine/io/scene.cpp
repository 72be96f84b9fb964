// Scene parsing (SPEC.md §3): the one place where a scene's JSON is checked and converted to SI
// (STYLE.md habit 7). Every error is an InputError naming the file, the dotted key, the bad value
// and what was expected; unknown keys are errors, never ignored.

#include "cementflow/scene.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/needle.hpp"
#include "engine/bone/model_limits.hpp"
#include "engine/io/input_file.hpp"
#include "engine/io/output_grids.hpp"
#include "engine/io/scene_json.hpp"

namespace cementflow {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Unit conversions (definitions, not measurements): 1 mL = 1 cm^3 = 1e-6 m^3, 1 min = 60 s,
// 1 MPa = 1e6 Pa.
constexpr double kM3PerMl = 1e-6;
constexpr double kSecondsPerMinute = 60.0;
constexpr double kPaPerMpa = 1e6;

// Largest box phantom: detail::kMaxModelVoxels counting one sink layer on every side, the same
// limit and count as generate_box (engine/bone/phantom.cpp), so that a scene the parser accepts
// never fails inside the generator.
using detail::kMaxModelVoxels;

// Relative slack when comparing max_time_s with volume / flow rate: both come from decimal text
// through different unit conversions, so equal times may differ by a few ulps.
constexpr double kTimeSlack = 1e-9;

using namespace detail::scene_json;  // show, join, number_text, Range, Obj, parse_json_text

// Finite bounds on injection and needle sizes (issue 17): see parse_injection and parse_needle.
constexpr Range kFlowRange{1e-3, 1e3, false, false};     // mL/min
constexpr Range kVolumeRange{1e-4, 1e3, false, false};   // mL
constexpr Range kDiameterRange{0.05, 20, false, false};  // mm

// --- sections ---------------------------------------------------------------------------------

void check_name(const Obj& root, const std::string& name) {
  const std::string expected =
      "a non-empty name of letters, digits, '_', '.' and '-' (it becomes a folder name)";
  const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (name.empty() || !chars_ok || name == "." || name == "..")
    root.fail("name", json(name), expected);
}

std::string resolve_bone_path(const std::string& vdb, const std::string& scene_file) {
  fs::path p(vdb);
  if (p.is_absolute() || scene_file.empty() || scene_file.front() == '<') return p.string();
  return (fs::path(scene_file).parent_path() / p).lexically_normal().string();
}

/// Edge lengths the box phantom really has: round(size / voxel) whole voxels per axis
/// (engine/bone/phantom.cpp's layout).
std::array<double, 3> box_extent_mm(const BoxPhantom& b) {
  std::array<double, 3> e{};
  for (int a = 0; a < 3; ++a) e[a] = std::round(b.size_mm[a] / b.voxel_mm) * b.voxel_mm;
  return e;
}

std::string inside_box_text(const std::array<double, 3>& extent) {
  return "a point inside the box phantom (|x| < " + number_text(extent[0] / 2) + ", |y| < " +
         number_text(extent[1] / 2) + ", |z| < " + number_text(extent[2] / 2) + " mm)";
}

bool inside_box(const std::array<double, 3>& p, const std::array<double, 3>& extent) {
  for (int a = 0; a < 3; ++a)
    if (!(std::abs(p[a]) < extent[a] / 2)) return false;
  return true;
}

BoxPhantom parse_box(const Obj& g) {
  g.allow({"kind", "size_mm", "voxel_mm", "porosity", "permeability_m2", "shell_mm", "sink_faces",
           "vein"});
  BoxPhantom b;
  b.size_mm = g.vec3("size_mm", kPositive, "three positive edge lengths [X, Y, Z] in mm");
  const double min_edge = std::min({b.size_mm[0], b.size_mm[1], b.size_mm[2]});
  b.voxel_mm = g.number("voxel_mm", Range{0, min_edge / 2, true, false},
                        "a positive voxel edge in mm, at most half the smallest box edge (" +
                            number_text(min_edge / 2) + " mm)");
  double voxels = 1;
  for (double s : b.size_mm) voxels *= std::round(s / b.voxel_mm) + 2;
  if (voxels > kMaxModelVoxels)
    g.fail("voxel_mm", *g.get("voxel_mm"),
           "a voxel edge giving at most " + number_text(kMaxModelVoxels) +
               " voxels with the sink layers (this gives " + number_text(voxels) +
               "; use a .vdb bone for larger models)");
  b.porosity = g.number("porosity", kUnitOpenClosed, "a pore fraction in (0, 1]");
  if (g.has("permeability_m2"))
    b.permeability_m2 =
        g.vec3("permeability_m2", kPositive, "three positive permeabilities [kx, ky, kz] in m^2");
  b.shell_mm = g.number("shell_mm", Range{0, min_edge / 2, false, true},
                        "a shell thickness in mm, >= 0 and less than half the smallest box edge (" +
                            number_text(min_edge / 2) + " mm)",
                        0.0);
  if (b.shell_mm > 0) {
    // The generator makes the shell max(1, round(shell / voxel)) whole voxel layers thick and
    // needs trabecular bone left between the two sides of every axis.
    const long layers = std::max(1L, std::lround(b.shell_mm / b.voxel_mm));
    const double min_voxels = std::round(min_edge / b.voxel_mm);
    if (!(2.0 * static_cast<double>(layers) < min_voxels))
      g.fail("shell_mm", *g.get("shell_mm"),
             "a shell thinner than half the smallest box edge (it is " + std::to_string(layers) +
                 " voxel layers on each side of " + number_text(min_voxels) + ")");
  }
  if (g.has("sink_faces"))
    b.sink_faces = g.string_set("sink_faces", {"+x", "-x", "+y", "-y", "+z", "-z"});
  if (g.has("vein")) {
    const Obj v = g.object("vein");
    v.allow({"start_mm", "direction", "diameter_mm", "route"});
    b.vein = true;
    b.vein_start_mm = v.vec3("start_mm", kAny, "a point [x, y, z] in mm inside the box");
    if (!inside_box(b.vein_start_mm, box_extent_mm(b)))
      v.fail("start_mm", *v.get("start_mm"), inside_box_text(box_extent_mm(b)));
    b.vein_direction = v.direction("direction");
    b.vein_diameter_mm = v.number("diameter_mm", kPositive, "a positive vein diameter in mm");
    const std::string route =
        v.string("route", "basivertebral_vein or segmental_vein", "basivertebral_vein");
    if (route == "basivertebral_vein")
      b.vein_route = LeakRoute::BasivertebralVein;
    else if (route == "segmental_vein")
      b.vein_route = LeakRoute::SegmentalVein;
    else
      v.fail("route", json(route), "basivertebral_vein or segmental_vein");
  }
  return b;
}

/// {"kind": "vertebra", "seed": N, "voxel_mm": h, "quality": "osteoporotic"|"healthy",
///  "fracture": "none"|"wedge"|"cleft"} (engine/bone/vertebra.cpp).
VertebraParams parse_vertebra(const Obj& g) {
  g.allow({"kind", "seed", "voxel_mm", "quality", "fracture"});
  VertebraParams v;
  v.seed = static_cast<std::uint64_t>(
      g.integer("seed", 0, std::numeric_limits<long long>::max(), "an integer seed >= 0", 1));
  v.voxel_mm = g.number("voxel_mm", kPositive, "a positive voxel size in mm", v.voxel_mm);
  const std::string quality = g.string("quality", "osteoporotic or healthy", "osteoporotic");
  if (quality != "osteoporotic" && quality != "healthy")
    g.fail("quality", json(quality), "osteoporotic or healthy");
  v.osteoporotic = quality == "osteoporotic";
  const std::string fracture = g.string("fracture", "none, wedge or cleft", "none");
  v.fracture = fracture_from_name(fracture, g.file(), g.key("fracture"));
  try {
    check_vertebra_params(v, g.file(), g.path() + ".");
  } catch (const InputError& e) {
    if (!g.has("voxel_mm")) throw;
    g.fail("voxel_mm", *g.get("voxel_mm"), e.expected());
  }
  return v;
}

/// {"import": {"image": path, "label": path, "label_value": N, "threshold": T|"otsu",
/// "voxel_mm": h, "image_spacing_mm": s, "calibration": path, "sink_layers": n}} (extension of
/// SPEC.md §3; paths relative to the scene file; the same meaning as `cementflow import`).
ImportOptions parse_import(const Obj& g, const std::string& scene_file) {
  g.allow({"image", "label", "label_value", "threshold", "voxel_mm", "image_spacing_mm",
           "calibration", "sink_layers", "cortical_shell"});
  ImportOptions o;
  const auto path = [&](const std::string& k) {
    const std::string v = g.string(k, "a path relative to the scene file");
    if (v.empty()) g.fail(k, json(v), "a path relative to the scene file");
    return resolve_bone_path(v, scene_file);
  };
  o.image = path("image");
  if (g.has("label")) {
    o.label = path("label");
    o.label_value = static_cast<int>(
        g.integer("label_value", 0, 1000000, "the label's voxel value (an integer >= 0)"));
  } else if (g.has("label_value")) {
    g.fail("label_value", *g.get("label_value"), "a label_value only together with \"label\"");
  }
  if (g.has("threshold")) {
    const json& t = *g.get("threshold");
    if (t.is_number())
      o.threshold = number_text(g.number("threshold", kAny, "a grey value or \"otsu\""));
    else if (t.is_string() && t.get<std::string>() == "otsu")
      o.threshold = "otsu";
    else
      g.fail("threshold", t, "a grey value or \"otsu\"");
  }
  o.voxel_mm = g.number("voxel_mm", kPositive, "a positive voxel edge in mm", 0.0);
  o.image_spacing_mm =
      g.number("image_spacing_mm", kPositive, "the positive voxel size of a TIFF stack in mm", 0.0);
  if (g.has("calibration")) o.calibration = path("calibration");
  o.cortical_shell = g.boolean("cortical_shell", o.cortical_shell);
  o.sink_layers = static_cast<int>(
      g.integer("sink_layers", 0, 16, "0 to 16 soft-tissue voxel layers", o.sink_layers));
  return o;
}

BoneSource parse_bone(const Obj& root) {
  const Obj b = root.object("bone");
  b.allow({"vdb", "generate", "import"});
  BoneSource src;
  if (b.has("vdb") + b.has("generate") + b.has("import") != 1)
    throw InputError(b.file(), "bone", show(*root.get("bone")),
                     "exactly one of {\"vdb\": path}, {\"generate\": {...}} or "
                     "{\"import\": {...}}");
  if (b.has("import")) {
    src.kind = BoneSource::Kind::Import;
    src.import = parse_import(b.object("import"), root.file());
    return src;
  }
  if (b.has("vdb")) {
    const std::string vdb = b.string("vdb", "a path to a bone .vdb file");
    if (vdb.empty()) b.fail("vdb", json(vdb), "a path to a bone .vdb file");
    src.kind = BoneSource::Kind::File;
    src.vdb_path = resolve_bone_path(vdb, root.file());
    return src;
  }
  const Obj g = b.object("generate");
  const std::string kind = g.string("kind", "box or vertebra");
  if (kind == "vertebra") {
    src.kind = BoneSource::Kind::Vertebra;
    src.vertebra = parse_vertebra(g);
    return src;
  }
  if (kind != "box") g.fail("kind", json(kind), "box or vertebra");
  src.kind = BoneSource::Kind::Box;
  src.box = parse_box(g);
  return src;
}

/// `cement.curing` (PHYSICS.md §L1c) over `base` (the preset's curing, or none): keys not given
/// keep the base values; the physical ranges are checked by validate_curing
/// (engine/solve/rheology.cpp).
Curing parse_curing(const Obj& cement, Curing base) {
  const Obj c = cement.object("curing");
  const std::vector<std::string> models{"none", "exponential", "kamal_sourour"};
  if (c.has("model")) {
    const std::string m = c.string("model", "one of: " + join(models));
    if (m == "none") {
      base.model = CureModel::None;
    } else if (m == "exponential") {
      base.model = CureModel::Exponential;
    } else if (m == "kamal_sourour") {
      base.model = CureModel::KamalSourour;
    } else {
      c.fail("model", json(m), "one of: " + join(models));
    }
  } else if (base.model == CureModel::None) {
    c.need("model", "one of: " + join(models));
  }
  std::vector<std::string> keys{"model"};
  if (base.model != CureModel::None) {
    keys.insert(keys.end(), {"room_temperature_c", "body_temperature_c", "reference_temperature_c",
                             "activation_energy_kj_mol", "viscosity_activation_energy_kj_mol"});
  }
  if (base.model == CureModel::Exponential)
    keys.insert(keys.end(), {"reference_age_s", "time_constant_s"});
  if (base.model == CureModel::KamalSourour)
    keys.insert(keys.end(), {"k1_per_s", "k2_per_s", "m", "p", "initial_degree", "gel_degree",
                             "castro_a", "castro_b"});
  c.allow(keys);
  const std::string finite = "a finite number";
  auto num = [&c, &finite](const char* k, double fallback) {
    return c.number(k, kAny, finite, fallback);
  };
  base.room_temperature_c = num("room_temperature_c", base.room_temperature_c);
  base.body_temperature_c = num("body_temperature_c", base.body_temperature_c);
  base.reference_temperature_c = num("reference_temperature_c", base.reference_temperature_c);
  base.activation_energy_j_mol =
      1e3 * num("activation_energy_kj_mol", 1e-3 * base.activation_energy_j_mol);
  base.viscosity_activation_energy_j_mol = 1e3 * num("viscosity_activation_energy_kj_mol",
                                                     1e-3 * base.viscosity_activation_energy_j_mol);
  base.reference_age_s = num("reference_age_s", base.reference_age_s);
  base.time_constant_s = num("time_constant_s", base.time_constant_s);
  if (base.model == CureModel::KamalSourour) {
    // No defaults for the kinetics: PHYSICS.md gives no PMMA values (§L1c names the form only).
    auto need = [&c, &finite](const char* k) { return c.number(k, kAny, finite); };
    base.k1_per_s = num("k1_per_s", 0.0);
    base.k2_per_s = need("k2_per_s");
    base.kamal_m = need("m");
    base.kamal_p = need("p");
    base.initial_degree = num("initial_degree", 0.0);
    base.gel_degree = need("gel_degree");
    base.castro_a = need("castro_a");
    base.castro_b = need("castro_b");
  }
  return base;
}

}  // namespace

std::vector<CannulaSection> cannula_sections(const Needle& n) {
  std::vector<CannulaSection> v;
  if (n.proximal_inner_diameter_mm > 0 && n.proximal_length_mm > 0)
    v.push_back({0.5e-3 * n.proximal_inner_diameter_mm, 1e-3 * n.proximal_length_mm});
  v.push_back({0.5e-3 * n.inner_diameter_mm, 1e-3 * n.length_mm});
  return v;
}

namespace {

Rheology parse_cement(const Obj& root) {
  const Obj c = root.object("cement");
  if (c.has("preset") == c.has("model"))
    throw InputError(c.file(), "cement", show(*root.get("cement")),
                     "exactly one of {\"preset\": name} or {\"model\": ..., parameters}");
  if (c.has("preset")) {
    c.allow({"preset", "curing"});
    const std::string name = c.string("preset", "a preset name (see `cementflow presets`)");
    Rheology r = find_preset(name, c.file()).rheology;
    r.preset = name;
    if (c.has("curing")) r.curing = parse_curing(c, r.curing);
    return r;
  }

  const std::vector<std::string> models{"newtonian", "power_law", "cross", "carreau_yasuda",
                                        "herschel_bulkley"};
  const std::string model = c.string("model", "one of: " + join(models));
  Rheology r;
  // Viscosity clamps are an extension for every shear-dependent model (SPEC.md lists them for
  // the power law); a Newtonian cement has no use for them.
  const std::vector<std::string> clamps{"min_viscosity_pa_s", "max_viscosity_pa_s"};
  auto allow_with = [&c, &clamps](std::vector<std::string> keys, bool with_clamps) {
    keys.insert(keys.begin(), "model");
    keys.push_back("curing");
    if (with_clamps) keys.insert(keys.end(), clamps.begin(), clamps.end());
    c.allow(keys);
  };
  if (model == "newtonian") {
    allow_with({"viscosity_pa_s"}, false);
    r.model = RheologyModel::Newtonian;
    r.viscosity_pa_s = c.number("viscosity_pa_s", kPositive, "a positive viscosity in Pa·s");
    // The default clamps must not cut a Newtonian cement's own viscosity.
    r.min_viscosity_pa_s = std::min(r.min_viscosity_pa_s, r.viscosity_pa_s);
    r.max_viscosity_pa_s = std::max(r.max_viscosity_pa_s, r.viscosity_pa_s);
    if (c.has("curing")) r.curing = parse_curing(c, r.curing);
    return r;
  }
  if (model == "power_law") {
    allow_with({"consistency_pa_sn", "flow_index"}, true);
    r.model = RheologyModel::PowerLaw;
    r.consistency_pa_sn = c.number("consistency_pa_sn", kPositive, "a positive K in Pa·s^n");
    r.flow_index = c.number("flow_index", kPositive, "a positive flow index n");
  } else if (model == "cross" || model == "carreau_yasuda") {
    const bool cross = model == "cross";
    if (cross)
      allow_with({"zero_shear_viscosity_pa_s", "infinite_shear_viscosity_pa_s", "time_constant_s",
                  "rate_index"},
                 true);
    else
      allow_with({"zero_shear_viscosity_pa_s", "infinite_shear_viscosity_pa_s", "time_constant_s",
                  "flow_index", "yasuda_a"},
                 true);
    r.model = cross ? RheologyModel::Cross : RheologyModel::CarreauYasuda;
    r.zero_shear_viscosity_pa_s =
        c.number("zero_shear_viscosity_pa_s", kPositive, "a positive viscosity in Pa·s");
    r.infinite_shear_viscosity_pa_s = c.number(
        "infinite_shear_viscosity_pa_s", Range{0, r.zero_shear_viscosity_pa_s, false, true},
        "a viscosity in Pa·s, >= 0 and below zero_shear_viscosity_pa_s (" +
            number_text(r.zero_shear_viscosity_pa_s) + ")");
    r.time_constant_s = c.number("time_constant_s", kPositive, "a positive time constant in s");
    if (cross) {
      r.rate_index = c.number("rate_index", kPositive, "a positive rate index m");
    } else {
      r.flow_index = c.number("flow_index", kPositive, "a positive flow index n");
      r.yasuda_a = c.number("yasuda_a", kPositive, "a positive Yasuda exponent a");
    }
  } else if (model == "herschel_bulkley") {
    allow_with({"yield_stress_pa", "consistency_pa_sn", "flow_index", "regularization_s"}, true);
    r.model = RheologyModel::HerschelBulkley;
    r.yield_stress_pa = c.number("yield_stress_pa", kNonNegative, "a yield stress in Pa, >= 0");
    r.consistency_pa_sn = c.number("consistency_pa_sn", kPositive, "a positive K in Pa·s^n");
    r.flow_index = c.number("flow_index", kPositive, "a positive flow index n");
    r.regularization_s =
        c.number("regularization_s", kPositive, "a positive Papanastasiou regularization in s",
                 r.regularization_s);
  } else {
    c.fail("model", json(model), "one of: " + join(models));
  }
  r.min_viscosity_pa_s = c.number("min_viscosity_pa_s", kPositive, "a positive viscosity in Pa·s",
                                  r.min_viscosity_pa_s);
  r.max_viscosity_pa_s = c.number(
      "max_viscosity_pa_s", Range{r.min_viscosity_pa_s, kInf, true, false},
      "a viscosity in Pa·s above min_viscosity_pa_s (" + number_text(r.min_viscosity_pa_s) + ")",
      r.max_viscosity_pa_s);
  if (c.has("curing")) r.curing = parse_curing(c, r.curing);
  return r;
}

Needle parse_needle(const std::string& file, const json& j, const std::string& path,
                    const BoneSource& bone) {
  const Obj n(file, j, path);
  n.allow(
      {"tip_mm", "direction", "gauge", "inner_diameter_mm", "length_mm", "opening", "proximal"});
  Needle nd;
  nd.tip_mm = n.vec3("tip_mm", kAny, "a point [x, y, z] in mm");
  if (bone.kind == BoneSource::Kind::Box && !inside_box(nd.tip_mm, box_extent_mm(bone.box)))
    n.fail("tip_mm", *n.get("tip_mm"), inside_box_text(box_extent_mm(bone.box)));
  if (bone.kind == BoneSource::Kind::Vertebra && !vertebra_contains(bone.vertebra, nd.tip_mm))
    n.fail("tip_mm", *n.get("tip_mm"),
           "a point inside the vertebral body's trabecular bone (the generated body is about "
           "45-50 x 33-35 x 25-28 mm, centred on its centroid)");
  nd.direction = n.direction("direction");
  if (n.has("gauge") && n.has("inner_diameter_mm"))
    throw InputError(file, n.key("inner_diameter_mm"), show(*n.get("inner_diameter_mm")),
                     "either gauge or inner_diameter_mm, not both");
  if (n.has("gauge")) {
    const long long g = n.integer("gauge", std::numeric_limits<int>::min(),
                                  std::numeric_limits<int>::max(), "an integer Stubs gauge");
    nd.gauge = static_cast<int>(g);
    nd.inner_diameter_mm = gauge_inner_diameter_mm(nd.gauge, file, n.key("gauge"));
  } else if (n.has("inner_diameter_mm")) {
    nd.gauge = 0;
    nd.inner_diameter_mm =
        n.number("inner_diameter_mm", kDiameterRange, "an inner diameter from 0.05 to 20 mm");
  } else {
    throw InputError(file, n.key("gauge"), "",
                     "a Stubs gauge or an inner_diameter_mm (one of them is required)");
  }
  nd.length_mm = n.number("length_mm", kPositive, "a positive cannula length in mm");
  const std::string opening = n.string("opening", "front or side", "front");
  if (opening != "front" && opening != "side") n.fail("opening", json(opening), "front or side");
  nd.side_opening = opening == "side";
  if (n.has("proximal")) {
    // Stepped cannula: the hub-side section (PHYSICS.md §M3), a gauge or a diameter, and a length.
    const Obj pr = n.object("proximal");
    pr.allow({"gauge", "inner_diameter_mm", "length_mm"});
    if (pr.has("gauge") == pr.has("inner_diameter_mm"))
      throw InputError(file, pr.key("gauge"), pr.has("gauge") ? show(*pr.get("gauge")) : "",
                       "exactly one of gauge or inner_diameter_mm");
    if (pr.has("gauge")) {
      const long long g = pr.integer("gauge", std::numeric_limits<int>::min(),
                                     std::numeric_limits<int>::max(), "an integer Stubs gauge");
      nd.proximal_inner_diameter_mm =
          gauge_inner_diameter_mm(static_cast<int>(g), file, pr.key("gauge"));
    } else {
      nd.proximal_inner_diameter_mm =
          pr.number("inner_diameter_mm", kDiameterRange, "an inner diameter from 0.05 to 20 mm");
    }
    nd.proximal_length_mm = pr.number("length_mm", kPositive, "a positive section length in mm");
  }
  return nd;
}

Balloon parse_balloon(const std::string& file, const json& j, const std::string& path,
                      const BoneSource& bone) {
  const Obj o(file, j, path);
  o.allow({"center_mm", "axis", "length_mm", "nominal_length_mm", "volume_ml"});
  Balloon b;
  b.center_mm = o.vec3("center_mm", kAny, "a point [x, y, z] in mm");
  if (bone.kind == BoneSource::Kind::Box && !inside_box(b.center_mm, box_extent_mm(bone.box)))
    o.fail("center_mm", *o.get("center_mm"), inside_box_text(box_extent_mm(bone.box)));
  b.axis = o.direction("axis");
  if (o.has("length_mm") && o.has("nominal_length_mm"))
    o.fail("nominal_length_mm", *o.get("nominal_length_mm"),
           "exactly one of length_mm (inflated, end to end) or nominal_length_mm (catalogue size, "
           "e.g. 15 for a 15/3 balloon)");
  b.volume_ml = o.number("volume_ml", kPositive, "a positive inflated volume in mL");
  if (o.has("nominal_length_mm"))  // issue 15: catalogue sizes (kyphoplasty.hpp)
    b.length_mm = catalogue_balloon_length_mm(
        o.number("nominal_length_mm", kPositive, "a positive nominal balloon length in mm"),
        b.volume_ml);
  else
    b.length_mm = o.number("length_mm", kPositive, "a positive balloon length in mm (end to end)");
  const double vmax = balloon_max_volume_ml(b.length_mm);
  if (b.volume_ml > vmax)
    o.fail("volume_ml", *o.get("volume_ml"),
           "at most pi L^3 / 6 = " + number_text(vmax) + " mL, the sphere a balloon of length_mm " +
               number_text(b.length_mm) + " can reach");
  if (bone.kind == BoneSource::Kind::Box) {
    const auto e = box_extent_mm(bone.box);
    const double box_ml = e[0] * e[1] * e[2] * 1e-3;  // mm^3 -> mL
    if (b.volume_ml >= box_ml)
      o.fail("volume_ml", *o.get("volume_ml"),
             "less than the box phantom's volume (" + number_text(box_ml) + " mL)");
  }
  return b;
}

Injection parse_injection(const Obj& root, const BoneSource& bone) {
  const Obj in = root.object("injection");
  const std::string mode_expected = "vertebroplasty or kyphoplasty";
  Injection inj;
  inj.mode = in.string("mode", mode_expected, "vertebroplasty");
  if (inj.mode != "vertebroplasty" && inj.mode != "kyphoplasty")
    in.fail("mode", json(inj.mode), mode_expected);
  const bool kypho = inj.mode == "kyphoplasty";
  if (!kypho) {
    for (const char* k : {"balloon", "balloons"})
      if (in.has(k))
        in.fail(k, *in.get(k),
                "no balloon in a vertebroplasty (balloons need \"mode\": \"kyphoplasty\")");
  }
  in.allow({"mode", "needle", "needles", "balloon", "balloons", "flow_rate_ml_per_min", "volume_ml",
            "start_after_mixing_s", "max_pressure_mpa", "stop_at_leak"});
  if (kypho) {
    if (in.has("balloon") && in.has("balloons"))
      throw InputError(root.file(), in.key("balloons"), show(*in.get("balloons")),
                       "either injection.balloon or injection.balloons, not both");
    if (in.has("balloon")) {
      inj.balloons.push_back(
          parse_balloon(root.file(), *in.get("balloon"), in.key("balloon"), bone));
    } else if (in.has("balloons")) {
      const json& list = *in.get("balloons");
      if (!list.is_array() || list.empty())
        in.fail("balloons", list, "a non-empty list of balloon objects");
      inj.balloon_list = true;
      for (std::size_t i = 0; i < list.size(); ++i)
        inj.balloons.push_back(parse_balloon(
            root.file(), list[i], in.key("balloons") + "[" + std::to_string(i) + "]", bone));
    } else {
      throw InputError(root.file(), in.key("balloon"), "",
                       "a balloon object, or a list under injection.balloons, in a kyphoplasty "
                       "(required key missing)");
    }
  }

  if (in.has("needle") && in.has("needles"))
    throw InputError(root.file(), in.key("needles"), show(*in.get("needles")),
                     "either injection.needle or injection.needles, not both");
  if (in.has("needle")) {
    inj.needles.push_back(parse_needle(root.file(), *in.get("needle"), in.key("needle"), bone));
  } else if (in.has("needles")) {
    const json& list = *in.get("needles");
    if (!list.is_array() || list.empty())
      in.fail("needles", list, "a non-empty list of needle objects");
    for (std::size_t i = 0; i < list.size(); ++i)
      inj.needles.push_back(parse_needle(root.file(), list[i],
                                         in.key("needles") + "[" + std::to_string(i) + "]", bone));
  } else {
    throw InputError(root.file(), in.key("needle"), "",
                     "a needle object, or a list under injection.needles (required key missing)");
  }

  // Bounds far outside clinical practice (1-10 mL/min, 1-10 mL) but finite: 1e308 overflowed
  // inside the time loop (exit 3, no outputs) and 1e-300 mL "completed" (issue 17).
  inj.flow_rate_m3_s =
      in.number("flow_rate_ml_per_min", kFlowRange, "a flow rate from 0.001 to 1000 mL/min") *
      kM3PerMl / kSecondsPerMinute;
  inj.volume_m3 =
      in.number("volume_ml", kVolumeRange, "a volume from 0.0001 to 1000 mL") * kM3PerMl;
  inj.start_after_mixing_s = in.number("start_after_mixing_s", kNonNegative, "a time in s, >= 0",
                                       inj.start_after_mixing_s);
  inj.max_pressure_pa = in.number("max_pressure_mpa", kPositive, "a positive pressure in MPa",
                                  inj.max_pressure_pa / kPaPerMpa) *
                        kPaPerMpa;
  inj.stop_at_leak = in.boolean("stop_at_leak", inj.stop_at_leak);
  return inj;
}

SimulationSettings parse_simulation(const Obj& root, const Injection& inj) {
  SimulationSettings s;
  const double needed_s = inj.volume_m3 / inj.flow_rate_m3_s;
  const std::string time_expected =
      "at least volume_ml / flow_rate_ml_per_min = " + number_text(needed_s) + " s";
  if (root.has("simulation")) {
    const Obj o = root.object("simulation");
    o.allow({"max_time_s", "output_interval_s", "pressure_tolerance", "max_solver_iterations",
             "courant", "picard_tolerance", "max_picard_iterations", "corey_exponent",
             "arrival_saturation", "preconditioner", "inexact_picard", "time_stepping",
             "volume_step_ml", "max_front_courant", "pressure_change", "volume_picard_iterations",
             "max_volume_growth"});
    s.max_time_s = o.number("max_time_s", kPositive, "a positive time in s", s.max_time_s);
    // At least 1 ms: an interval of 1e-30 s never advanced the next output time (issue 17).
    s.output_interval_s = o.number("output_interval_s", Range{1e-3, kInf, false, false},
                                   "an interval of at least 0.001 s", s.output_interval_s);
    s.pressure_tolerance = o.number("pressure_tolerance", kUnitOpen,
                                    "a relative residual in (0, 1)", s.pressure_tolerance);
    s.max_solver_iterations =
        static_cast<int>(o.integer("max_solver_iterations", 1, std::numeric_limits<int>::max(),
                                   "a positive integer", s.max_solver_iterations));
    s.courant = o.number("courant", kPositive, "a positive Courant number", s.courant);
    s.picard_tolerance =
        o.number("picard_tolerance", kUnitOpen, "a relative change in (0, 1)", s.picard_tolerance);
    s.max_picard_iterations =
        static_cast<int>(o.integer("max_picard_iterations", 1, std::numeric_limits<int>::max(),
                                   "a positive integer", s.max_picard_iterations));
    s.corey_exponent =
        o.number("corey_exponent", kPositive, "a positive Corey exponent", s.corey_exponent);
    s.arrival_saturation = o.number("arrival_saturation", kUnitOpenClosed,
                                    "a cement fraction in (0, 1]", s.arrival_saturation);
    s.inexact_picard = o.boolean("inexact_picard", s.inexact_picard);
    // Time stepping (issue 13, engine/run/volume_stepping.hpp).
    if (o.has("time_stepping")) {
      const char* ts_expected = "\"volume\" or \"front_courant\"";
      s.time_stepping = o.string("time_stepping", ts_expected);
      if (s.time_stepping != "volume" && s.time_stepping != "front_courant")
        o.fail("time_stepping", json(s.time_stepping), ts_expected);
    }
    s.volume_step_m3 = 1e-6 * o.number("volume_step_ml", kPositive, "a positive volume in mL",
                                       s.volume_step_m3 * 1e6);
    s.max_front_courant =
        o.number("max_front_courant", kPositive, "a positive Courant number", s.max_front_courant);
    s.pressure_change =
        o.number("pressure_change", kUnitOpen, "a relative change in (0, 1)", s.pressure_change);
    s.max_volume_growth =
        o.number("max_volume_growth", kPositive, "a positive relative volume", s.max_volume_growth);
    s.volume_picard_iterations =
        static_cast<int>(o.integer("volume_picard_iterations", 1, std::numeric_limits<int>::max(),
                                   "a positive integer", s.volume_picard_iterations));
    if (o.has("preconditioner")) {
      const char* pc_expected = "\"multigrid\" or \"jacobi\"";
      s.preconditioner = o.string("preconditioner", pc_expected);
      if (s.preconditioner != "multigrid" && s.preconditioner != "jacobi")
        o.fail("preconditioner", json(s.preconditioner), pc_expected);
    }
    if (s.max_time_s < needed_s * (1 - kTimeSlack) && o.has("max_time_s"))
      o.fail("max_time_s", *o.get("max_time_s"), time_expected);
  }
  if (s.max_time_s < needed_s * (1 - kTimeSlack))
    throw InputError(root.file(), "simulation.max_time_s", number_text(s.max_time_s) + " (default)",
                     time_expected);
  return s;
}

std::vector<std::string> parse_output(const Obj& root, std::vector<std::string> grids) {
  if (!root.has("output")) return grids;
  const Obj o = root.object("output");
  o.allow({"grids"});
  if (o.has("grids")) grids = o.string_set("grids", detail::requestable_grid_names());
  return grids;
}

}  // namespace

Scene parse_scene(const std::string& json_text, const std::string& file) {
  const json doc = parse_json_text(json_text, file);
  if (!doc.is_object()) throw InputError(file, "", show(doc), "a JSON scene object (SPEC.md §3)");
  const Obj root(file, doc, "");
  root.allow({"schema", "name", "bone", "cement", "marrow", "injection", "simulation", "output",
              "leak_gateways"});

  Scene s;
  s.file = file;
  s.schema = static_cast<int>(root.integer("schema", 1, 1, "1 (the scene schema of this version)"));
  s.name = root.string("name", "a name string");
  check_name(root, s.name);
  s.bone = parse_bone(root);
  s.cement = parse_cement(root);
  validate_rheology(s.cement, file);
  if (root.has("marrow")) {
    const Obj m = root.object("marrow");
    m.allow({"viscosity_pa_s"});
    s.marrow_viscosity_pa_s = m.number("viscosity_pa_s", kPositive, "a positive viscosity in Pa·s",
                                       s.marrow_viscosity_pa_s);
  }
  if (root.has("leak_gateways")) {  // extension, issue 15 (docs/PHYSICS-LEAKS.md §G)
    const Obj g = root.object("leak_gateways");
    g.allow({"vein", "endplate", "breach"});
    const std::pair<const char*, Gateway*> classes[] = {{"vein", &s.gateways.vein},
                                                        {"endplate", &s.gateways.endplate},
                                                        {"breach", &s.gateways.breach}};
    for (const auto& [k, gw] : classes) {
      if (!g.has(k)) continue;
      const Obj o = g.object(k);
      o.allow({"opening_mm", "length_mm"});
      gw->opening_mm =
          o.number("opening_mm", kPositive, "a positive opening in mm", gw->opening_mm);
      gw->length_mm = o.number("length_mm", kNonNegative, "a length in mm, >= 0", gw->length_mm);
    }
  }
  s.injection = parse_injection(root, s.bone);
  s.simulation = parse_simulation(root, s.injection);
  s.output_grids = parse_output(root, s.output_grids);
  return s;
}

Scene load_scene(const std::string& path) {
  // A regular file of bounded size (issue 17: `run /dev/zero` read without limit).
  return parse_scene(detail::read_text_input(path, "a readable scene file"), path);
}

}  // namespace cementflow

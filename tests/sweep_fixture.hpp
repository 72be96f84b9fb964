#pragma once
// Tiny, fast scenes for the sweep tests: a 20 mm box at 2 mm voxels (1000 voxels) with a 2 mm
// shell and a vein behind the needle tip, Newtonian 100 Pa·s cement, a fraction of a millilitre.
// Whether a case leaks depends on the volume and on how far the tip is from the vein, so sweeps
// over those give both outcomes in a fraction of a second per case.

#include <filesystem>
#include <fstream>
#include <string>

namespace cementflow::test {

/// The scene as JSON text; `extra` is inserted as further top-level members (e.g. an
/// "uncertainty" block) and must start with a comma when not empty.
inline std::string tiny_box_scene_json(const std::string& extra = "") {
  return R"({
  "schema": 1,
  "name": "tiny_box",
  "bone": { "generate": { "kind": "box", "size_mm": [20, 20, 20], "voxel_mm": 2.0,
            "porosity": 0.9, "shell_mm": 2.0,
            "vein": { "start_mm": [0, -4, 0], "direction": [0, -1, 0], "diameter_mm": 2.0,
                      "route": "basivertebral_vein" } } },
  "cement": { "preset": "newtonian_100" },
  "marrow": { "viscosity_pa_s": 0.04 },
  "injection": {
    "mode": "vertebroplasty",
    "needle": { "tip_mm": [0, 2, 0], "direction": [0, 1, 0], "gauge": 11, "length_mm": 120 },
    "flow_rate_ml_per_min": 6.0,
    "volume_ml": 0.3,
    "start_after_mixing_s": 300
  },
  "simulation": { "max_time_s": 600, "output_interval_s": 1 }
)" + extra +
         "}\n";
}

/// Writes `text` to dir/name and returns the path.
inline std::string write_text_file(const std::filesystem::path& dir, const std::string& name,
                                   const std::string& text) {
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace cementflow::test

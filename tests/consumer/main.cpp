// A planner's program built against the installed package: generate a small box bone, run a
// short injection and print the report's headline numbers.
#include <cementflow/cementflow.hpp>

#include <iostream>

int main() {
  cementflow::Runtime runtime;
  cementflow::Scene scene = cementflow::parse_scene(R"({
    "schema": 1, "name": "consumer",
    "bone": {"generate": {"kind": "box", "size_mm": [12, 12, 12], "voxel_mm": 1.0,
                          "porosity": 0.9, "sink_faces": ["+x", "-x", "+y", "-y", "+z", "-z"]}},
    "cement": {"model": "newtonian", "viscosity_pa_s": 100},
    "injection": {"mode": "vertebroplasty",
                  "needle": {"tip_mm": [0, 0, 0], "direction": [0, 1, 0], "gauge": 11, "length_mm": 120},
                  "flow_rate_ml_per_min": 3.0, "volume_ml": 0.1, "start_after_mixing_s": 300},
    "simulation": {"max_time_s": 60, "output_interval_s": 1}
  })",
                                                    "<consumer>");
  cementflow::RunResult r = cementflow::run(scene, {});
  std::cout << cementflow::to_json(r.report) << "\n";
  return r.report.status == "completed" ? 0 : 1;
}

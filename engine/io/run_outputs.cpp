// The outputs of a run (SPEC.md §1): report.json, pressure_curve.csv and fill.vdb. Host-only.

#include <filesystem>
#include <string>

#include "cementflow/simulation.hpp"
#include "engine/io/fill_writer.hpp"
#include "engine/io/output_dir.hpp"

namespace cementflow {

void write_outputs(const Scene& scene, const RunResult& result, const std::string& dir) {
  namespace fs = std::filesystem;
  detail::make_output_dir(dir);
  detail::write_output_text(dir, "report.json", to_json(result.report) + "\n");
  detail::write_output_text(dir, "pressure_curve.csv", timeline_csv(result.report));
  detail::write_fill_vdb(result.fields, scene.output_grids, (fs::path(dir) / "fill.vdb").string());
}

}  // namespace cementflow

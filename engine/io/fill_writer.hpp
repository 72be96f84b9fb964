#pragma once
// Writer of fill.vdb (SPEC.md §6). Host-only (OpenVDB).

#include <string>
#include <vector>

#include "cementflow/run_fields.hpp"
#include "engine/io/output_grids.hpp"

namespace cementflow::detail {

/// Writes the requested grids of `fields` ("cement_fraction", "arrival_time", "pressure",
/// "velocity", "viscosity", plus always "material") into one VDB file with the bone's transform
/// (voxel size in mm, metadata units = "mm"). arrival_time is inactive where cement never arrived;
/// the other grids are active where the bone is. Throws InputError if `path` cannot be written.
void write_fill_vdb(const RunFields& fields, const std::vector<std::string>& grids,
                    const std::string& path);

}  // namespace cementflow::detail

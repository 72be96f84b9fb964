#pragma once
// The one list of output grids (SPEC.md §3 "output.grids", §6 fill.vdb): the scene parser checks
// output.grids against it, the fill writer writes from it. Defined in engine/io/fill_writer.cpp.
// Host-only, no OpenVDB in the interface.

#include <string>
#include <vector>

namespace cementflow::detail {

/// The grids a scene may request under output.grids, in the order errors list them.
const std::vector<std::string>& requestable_grid_names();

/// The names write_fill_vdb accepts: the requestable grids plus "material" (always written).
const std::vector<std::string>& fill_grid_names();

}  // namespace cementflow::detail

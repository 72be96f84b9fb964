#pragma once
// Writing arbitrary OpenVDB grids from plain data, with no OpenVDB type in the interface: any
// value type cementflow reads, any linear transform, tiles, metadata. The tests use it to make
// the malformed files a reader must reject (rotated or anisotropic transforms, wrong grid types,
// tiles), and tools can use it to write grids that are not a bone or a fill.
// Implemented in engine/io/vdb_info.cpp (host-only).

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace cementflow::detail {

/// A box of voxels set to one value with OpenVDB's fill (tiles where it covers whole nodes).
struct RawFill {
  std::array<int, 3> min{0, 0, 0}, max{0, 0, 0};  ///< inclusive index bounds
  std::array<double, 3> value{0, 0, 0};           ///< [0] for scalar grids
  bool active = true;
};

/// One grid. The transform maps index (i,j,k) to world axes[0]*i + axes[1]*j + axes[2]*k +
/// translation (mm).
struct RawGrid {
  std::string name;
  std::string type = "float";  ///< "float", "double", "int32", "int64", "bool", "vec3s", "vec3d",
                               ///< "vec3i"
  bool half = false;           ///< stored as 16-bit half floats (float, double, vec3 types)
  std::array<std::array<double, 3>, 3> axes{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  std::array<double, 3> translation{0, 0, 0};
  double background = 0;
  std::vector<std::array<int, 3>> coords;                      ///< active voxels
  std::vector<double> values;                                  ///< one per voxel (three for vec3s)
  std::vector<RawFill> fills;                                  ///< applied after the voxels
  std::vector<std::pair<std::string, std::string>> metadata;   ///< string metadata
  std::vector<std::pair<std::string, double>> float_metadata;  ///< double metadata
};

/// Writes the grids into `path`; throws InputError for an unknown type or an unwritable path.
void write_raw_vdb(const std::string& path, const std::vector<RawGrid>& grids,
                   const std::vector<std::pair<std::string, std::string>>& file_metadata = {});

}  // namespace cementflow::detail

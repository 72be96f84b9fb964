#pragma once
/// @file info.hpp
/// @brief Inspection of a VDB file: every grid with type, voxel size, bounding box in mm,
///        active voxels, statistics of scalar grids and metadata (`cementflow info`).

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace cementflow {

/// Summary of one grid of a VDB file.
struct GridInfo {
  std::string name, type, grid_class;
  std::array<double, 3> voxel_size_mm{0, 0, 0};
  std::array<double, 3> bbox_min_mm{0, 0, 0},
      bbox_max_mm{0, 0, 0};  ///< world bbox of active voxels
  long long active_voxels = 0;
  long long leaf_nodes = 0;
  bool has_stats = false;  ///< scalar grids: min, max, mean of active values
  double min = 0, max = 0, mean = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// Summary of a whole file.
struct FileInfo {
  std::string path;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<GridInfo> grids;
};

/// Reads a VDB file's grids. Throws InputError for a missing, unreadable or non-VDB file.
FileInfo inspect_vdb(const std::string& path);

/// Human-readable text of a FileInfo.
std::string to_text(const FileInfo& info);
/// JSON text of a FileInfo.
std::string to_json(const FileInfo& info);

}  // namespace cementflow

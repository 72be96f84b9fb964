#pragma once
/// @file render.hpp
/// @brief Pictures of a bone or a run (SPEC.md §1 extension `cementflow render`): PNG slices and
///        maximum-intensity projections of material, porosity and cement fraction, and VTK XML
///        ImageData (.vti) files for ParaView. No OpenVDB types here.

#include <array>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow {

/// What to render and where.
struct RenderOptions {
  std::string out_dir = ".";  ///< folder for the pictures (created if missing)
  bool has_at = false;        ///< slice through at_mm; default: the cement's or bone's centroid
  std::array<double, 3> at_mm{0, 0, 0};
  bool vtk = false;            ///< also write <stem>.vti
  std::string stem = "model";  ///< name of the .vti file (without extension)
};

/// Renders a VDB file holding a `material` grid (a bone file of SPEC.md §2 or a fill.vdb of
/// SPEC.md §6) with whatever of `porosity`, `cement_fraction` and `permeability` it holds.
/// Returns the paths written. Throws InputError naming the file (no material grid, unreadable)
/// or "--at" (a point outside the model's bounding box).
std::vector<std::string> render_vdb(const std::string& vdb_path, const RenderOptions& options);

/// Renders a bone, with the cement fraction of a run (per voxel, same layout as `bone`; may be
/// null or empty for the bone alone). Returns the paths written.
std::vector<std::string> render_bone(const BoneBlocks& bone,
                                     const std::vector<float>* cement_fraction,
                                     const RenderOptions& options);

}  // namespace cementflow

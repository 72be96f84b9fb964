#pragma once
// The size limit of a generated bone model, shared by the generators (engine/bone/phantom.cpp,
// engine/bone/vertebra.cpp) and the scene parser that checks it first (engine/io/scene.cpp).

#include "cementflow/bone.hpp"

namespace cementflow::detail {

// Largest generated model: 64^3 blocks of 8^3 voxels (2^27 ~ 1.3e8 voxels, ~3.2 GB of BoneBlocks
// arrays at 24 bytes per voxel). A validation phantom never needs more; larger models come from
// a .vdb file.
constexpr double kMaxModelVoxels = 64.0 * 64.0 * 64.0 * BoneBlocks::kBlockVoxels;

}  // namespace cementflow::detail

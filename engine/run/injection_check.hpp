#pragma once
// The input checks that need the grid (SPEC.md §2): the needle tips lie in a voxel the cement can
// enter, the displaced marrow has a way out, and the bone reachable from the tips holds the
// target volume. Host-only (no Kokkos, no OpenVDB).

#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/scene.hpp"
#include "engine/grid/block_index.hpp"

namespace cementflow::detail {

/// Checks the needle tips and the way out on the sorted grid `grid` indexed by `index`; returns
/// the tip voxels (flat indices, one per needle). Throws InputError naming the scene key.
std::vector<long long> check_injection(const Scene& scene, const BoneBlocks& grid,
                                       const BlockIndex& index);

/// Checks the values a bone built in code (not read from a file, whose reader checks them) hands
/// to the engine: porosity finite in [0, 1] and permeabilities finite and >= 0 in every active
/// voxel (a NaN would otherwise run as an impermeable voxel: issue 17). Throws InputError naming
/// the field, the voxel and the value.
void check_bone_values(const BoneBlocks& bone);

/// Whether voxel i conducts: inside the model, porosity > 0 and some permeability > 0.
bool conducts(const BoneBlocks& grid, long long i);

}  // namespace cementflow::detail

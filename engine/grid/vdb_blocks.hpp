#pragma once
// Host-only helpers shared by the OpenVDB readers and writers (bone_io.cpp, vdb_info.cpp,
// fill_writer.cpp): the mapping between BoneBlocks' 8^3 blocks and OpenVDB leaf nodes, the
// bone's transform, and the checks every reader does on a path before OpenVDB sees it.
// Includes OpenVDB: never include this from a Kokkos translation unit (DESIGN.md, compile
// firewall).

#include <openvdb/openvdb.h>

#include <array>
#include <cstddef>
#include <string>

#include "cementflow/bone.hpp"

namespace cementflow::detail {

static_assert(BoneBlocks::kBlockDim == openvdb::Int32Tree::LeafNodeType::DIM,
              "BoneBlocks blocks are OpenVDB leaf nodes");

/// OpenVDB leaf offset (z fastest: 64x + 8y + z) of the BoneBlocks local index (x fastest).
constexpr int leaf_offset(int local) {
  return ((local & 7) << 6) | (((local >> 3) & 7) << 3) | (local >> 6);
}
/// BoneBlocks local index (x fastest) of an OpenVDB leaf offset (z fastest).
constexpr int local_from_offset(int n) {
  return BoneBlocks::local_index(n >> 6, (n >> 3) & 7, n & 7);
}
static_assert(leaf_offset(BoneBlocks::local_index(1, 2, 3)) == 64 * 1 + 8 * 2 + 3, "leaf layout");
static_assert(local_from_offset(leaf_offset(300)) == 300, "leaf layout round trip");

/// Index coordinate of voxel `local` of a block with origin `o`.
inline openvdb::Coord voxel_coord(const std::array<int, 3>& o, int local) {
  return openvdb::Coord(o[0] + (local & 7), o[1] + ((local >> 3) & 7), o[2] + (local >> 6));
}

/// The bone's transform: uniform scale `voxel_mm`, index (0,0,0) at `origin_mm` (SPEC.md §2).
openvdb::math::Transform::Ptr bone_transform(double voxel_mm,
                                             const std::array<double, 3>& origin_mm);

/// Voxel size and world position of index (0,0,0) of a grid, in the file's units (mm).
struct GridFrame {
  double voxel_mm = 0;
  std::array<double, 3> origin_mm{0, 0, 0};
};
/// Reads a grid's frame; throws InputError(path, grid, ...) unless the transform is linear,
/// axis-aligned, uniform, positive and finite.
GridFrame grid_frame(const openvdb::GridBase& grid, const std::string& path);

/// Throws InputError naming `path` unless it is an existing, non-empty regular file.
void check_input_file(const std::string& path);

/// Everything a VDB file holds.
struct VdbContents {
  openvdb::MetaMap::Ptr metadata;  ///< file-level metadata
  openvdb::GridPtrVecPtr grids;    ///< all grids, fully loaded
};
/// Reads a whole VDB file (after check_input_file). OpenVDB's own file reader does not check its
/// stream after each read, so a truncated file makes it loop on garbage counts or crash; here the
/// file is read into memory and parsed from a stream that throws at the first short read, which
/// turns every truncation into an InputError naming the path.
VdbContents read_vdb(const std::string& path);

/// First grid named `name`, or nullptr.
openvdb::GridBase::Ptr find_grid(const VdbContents& vdb, const std::string& name);

/// Writes grids and file metadata to `path`; throws InputError(path, "", "", "a writable file
/// path") when the file cannot be written.
void write_vdb(const std::string& path, const openvdb::GridPtrVec& grids,
               const openvdb::MetaMap& file_meta);

/// Builds a grid from per-voxel block arrays: value(i) and active(i) of voxel index
/// i = block * 512 + local. Blocks with an aligned origin are written leaf by leaf; others
/// (not produced by this library) voxel by voxel.
template <typename GridT, typename ValueFn, typename ActiveFn>
typename GridT::Ptr blocks_to_grid(const BoneBlocks& bone,
                                   const typename GridT::ValueType& background, ValueFn value,
                                   ActiveFn active) {
  using LeafT = typename GridT::TreeType::LeafNodeType;
  auto grid = GridT::create(background);
  typename GridT::Accessor acc = grid->getAccessor();
  constexpr int nv = BoneBlocks::kBlockVoxels;
  for (std::size_t b = 0; b < bone.num_blocks(); ++b) {
    const auto& o = bone.block_origin[b];
    const std::size_t base = b * nv;
    int first = 0;
    while (first < nv && !active(base + static_cast<std::size_t>(first))) ++first;
    if (first == nv) continue;  // nothing active: no leaf
    const bool aligned = (o[0] & 7) == 0 && (o[1] & 7) == 0 && (o[2] & 7) == 0;
    LeafT* leaf = aligned ? acc.touchLeaf(openvdb::Coord(o[0], o[1], o[2])) : nullptr;
    for (int v = first; v < nv; ++v) {
      const std::size_t i = base + static_cast<std::size_t>(v);
      if (!active(i)) continue;
      if (leaf) {
        leaf->setValueOn(static_cast<openvdb::Index>(leaf_offset(v)), value(i));
      } else {
        acc.setValueOn(voxel_coord(o, v), value(i));
      }
    }
  }
  return grid;
}

}  // namespace cementflow::detail

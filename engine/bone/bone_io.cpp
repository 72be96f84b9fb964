// Reading and writing bone files (SPEC.md §2) and the BoneBlocks basics. Host-only (OpenVDB).
//
// A bone file holds `material` (Int32Grid), `porosity` (FloatGrid), optionally `permeability`
// (Vec3SGrid, m^2) and the extension `leak_route` (Int32Grid, LeakRoute codes). The active
// voxels of `material` are the model; every OpenVDB leaf of it becomes one 8^3 block.
// Everything a file can get wrong is reported as an InputError naming the file, the grid, the
// value and what was expected (STYLE.md habit 6); no input file may crash the program.

#include <openvdb/io/DelayedLoadMetadata.h>
#include <openvdb/io/Stream.h>
#include <openvdb/openvdb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <istream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/limits.hpp"
#include "cementflow/version.hpp"
#include "engine/bone/vdb_check.hpp"
#include "engine/grid/vdb_blocks.hpp"
#include "engine/io/output_dir.hpp"

namespace cementflow {

// --- BoneBlocks -------------------------------------------------------------------------------

const char* route_name(LeakRoute r) {
  switch (r) {
    case LeakRoute::None:
      return "none";
    case LeakRoute::BasivertebralVein:
      return "basivertebral_vein";
    case LeakRoute::SegmentalVein:
      return "segmental_vein";
    case LeakRoute::CorticalBreach:
      return "cortical_breach";
    case LeakRoute::EndplateDisc:
      return "endplate_disc";
    case LeakRoute::SpinalCanal:
      return "spinal_canal";
    case LeakRoute::SoftTissue:
      return "soft_tissue";
  }
  return "unknown";
}

std::size_t BoneBlocks::active_voxels() const {
  return static_cast<std::size_t>(std::count_if(material.begin(), material.end(),
                                                [](std::int32_t m) { return m != kInactive; }));
}

void BoneBlocks::resize(std::size_t nblocks) {
  const std::size_t n = nblocks * static_cast<std::size_t>(kBlockVoxels);
  block_origin.assign(nblocks, {0, 0, 0});
  material.assign(n, kInactive);
  porosity.assign(n, 0.0f);
  // Optional arrays keep their meaning: empty stays "derive", non-empty gets the new size.
  if (!permeability.empty()) permeability.assign(3 * n, 0.0f);
  if (!route.empty()) route.assign(n, static_cast<std::int32_t>(LeakRoute::None));
}

std::array<double, 3> BoneBlocks::voxel_center_mm(std::size_t b, int v) const {
  const auto& o = block_origin[b];
  const int x = v % kBlockDim, y = (v / kBlockDim) % kBlockDim, z = v / (kBlockDim * kBlockDim);
  return {origin_mm[0] + voxel_mm * (o[0] + x), origin_mm[1] + voxel_mm * (o[1] + y),
          origin_mm[2] + voxel_mm * (o[2] + z)};
}

namespace detail {

namespace {
std::string num(double x) {
  std::ostringstream s;
  s << std::setprecision(6) << x;
  return s.str();
}

// Relative tolerance for "the same voxel size / origin": a spacing computed in float and stored
// in double differs from the intended value by ~6e-8 relative (float epsilon / 2); 1e-6 accepts
// that while rejecting any real anisotropy or offset (a CT's 0.5 x 0.5 x 0.6 mm is 20 %).
constexpr double kFrameRelTol = 1e-6;
}  // namespace

openvdb::math::Transform::Ptr bone_transform(double voxel_mm,
                                             const std::array<double, 3>& origin_mm) {
  auto xf = openvdb::math::Transform::createLinearTransform(voxel_mm);
  xf->postTranslate(openvdb::Vec3d(origin_mm[0], origin_mm[1], origin_mm[2]));
  return xf;
}

GridFrame grid_frame(const openvdb::GridBase& grid, const std::string& path) {
  const auto& xf = grid.constTransform();
  const std::string name = grid.getName();
  const std::string expected =
      "a linear transform with one positive voxel size in mm along x, y, z";
  if (!xf.isLinear()) throw InputError(path, name, "a " + xf.mapType() + " transform", expected);
  const openvdb::Mat4d m = xf.baseMap()->getAffineMap()->getMat4();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      if (!std::isfinite(m[r][c])) throw InputError(path, name, "a non-finite transform", expected);
  const double h = m[0][0];
  if (!(h > 0)) throw InputError(path, name, "voxel size " + num(h) + " mm", expected);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      const double want = r == c ? h : 0.0;
      if (std::abs(m[r][c] - want) > kFrameRelTol * h) {
        const auto vs = xf.voxelSize();
        throw InputError(
            path, name,
            r == c ? "voxel size (" + num(vs[0]) + ", " + num(vs[1]) + ", " + num(vs[2]) + ") mm"
                   : "a rotated or sheared transform",
            expected);
      }
    }
  }
  GridFrame f;
  f.voxel_mm = h;
  f.origin_mm = {m[3][0], m[3][1], m[3][2]};
  return f;
}

void check_input_file(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string expected = "an OpenVDB .vdb file";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputError(path, "", "no such file", expected);
  if (fs::is_directory(st)) throw InputError(path, "", "a directory", expected);
  if (!fs::is_regular_file(st)) throw InputError(path, "", "not a regular file", expected);
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path, "", "an unreadable file (" + ec.message() + ")", expected);
  if (size == 0) throw InputError(path, "", "an empty file", expected);
}

namespace {
/// A read-only stream buffer over memory, with seeking (OpenVDB may ask for positions).
class MemoryBuf : public std::streambuf {
 public:
  MemoryBuf(char* data, std::size_t n) { setg(data, data, data + n); }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir,
                   std::ios_base::openmode which) override {
    if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
    char* base = dir == std::ios_base::beg ? eback() : dir == std::ios_base::cur ? gptr() : egptr();
    if (off < eback() - base || off > egptr() - base) return pos_type(off_type(-1));
    setg(eback(), base + off, egptr());
    return pos_type(gptr() - eback());
  }
  pos_type seekpos(pos_type p, std::ios_base::openmode which) override {
    return seekoff(off_type(p), std::ios_base::beg, which);
  }
};
}  // namespace

/// OpenVDB (10) trusts the counts inside a grid's DelayedLoadMetadata ("file_delayed_load",
/// written into every grid by OpenVDB >= 6.1): one flipped byte there corrupts the heap while
/// the metadata is read (issue 17; plain OpenVDB aborts too). The metadata only serves delayed
/// loading from an io::File, which cementflow never uses (it reads whole files from memory), so
/// its type name is renamed, in place and at the same length, to one OpenVDB does not know: it
/// then reads the value as opaque bytes of the stated size. A type name is stored as its 32-bit
/// length followed by its characters.
void disarm_delayed_load_metadata(std::vector<char>& bytes, const std::string& path) {
  static const std::string type = openvdb::io::DelayedLoadMetadata::staticTypeName();
  std::string pattern(4, '\0');
  const auto n = static_cast<std::uint32_t>(type.size());
  std::memcpy(pattern.data(), &n, 4);  // little-endian, as OpenVDB writes it
  pattern += type;
  std::string unknown = type;
  unknown[0] = 'x';  // "x_delayedload": not a registered metadata type
  auto it = bytes.begin();
  while ((it = std::search(it, bytes.end(), pattern.begin(), pattern.end())) != bytes.end()) {
    std::copy(unknown.begin(), unknown.end(), it + 4);
    it += static_cast<std::ptrdiff_t>(pattern.size());
    // Its value's byte count follows; OpenVDB would allocate that much before reading.
    std::uint32_t size = 0;
    const auto left = static_cast<std::size_t>(bytes.end() - it);
    if (left >= 4) std::memcpy(&size, &*it, 4);
    if (left < 4 || size > left - 4)
      throw InputError(path, "file_delayed_load",
                       "a grid metadata value of " + std::to_string(size) + " bytes with " +
                           std::to_string(left < 4 ? 0 : left - 4) + " left in the file",
                       "an undamaged OpenVDB .vdb file");
  }
}

VdbContents read_vdb(const std::string& path) {
  check_input_file(path);
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    const auto size = std::filesystem::file_size(path);
    check_memory(static_cast<double>(size), path, "", "the file, read whole");
    bytes.resize(static_cast<std::size_t>(size));
    if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size)))
      throw InputError(path, "", "an unreadable file", "an OpenVDB .vdb file");
  }
  disarm_delayed_load_metadata(bytes, path);
  // OpenVDB trusts the sizes the file states (issue 17): walk them first, then count the trees.
  const VdbStreamCheck walked = check_vdb_stream(bytes, path);
  check_memory(static_cast<double>(bytes.size()) + walked.tree_bytes, path, "",
               "the file, read whole, and its grids' trees");
  MemoryBuf buf(bytes.data(), bytes.size());
  std::istream is(&buf);
  is.exceptions(std::ios_base::failbit | std::ios_base::badbit | std::ios_base::eofbit);
  VdbContents out;
  try {
    openvdb::io::Stream stream(is, /*delayLoad=*/false);
    out.metadata = stream.getMetadata();
    out.grids = stream.getGrids();
    // A map OpenVDB read without complaint may still be singular (a scale of 0): its affine
    // form, which everything downstream asks for, throws then.
    if (out.grids)
      for (const auto& g : *out.grids)
        if (g) (void)g->constTransform().baseMap()->getAffineMap();
  } catch (const std::ios_base::failure&) {
    throw InputError(path, "", "a truncated or damaged file (it ends in the middle of its data)",
                     "a complete OpenVDB .vdb file");
  } catch (const std::exception& e) {
    throw InputError(path, "", std::string("a file OpenVDB cannot read (") + e.what() + ")",
                     "an OpenVDB .vdb file");
  }
  if (!out.metadata) out.metadata = std::make_shared<openvdb::MetaMap>();
  if (!out.grids) out.grids = std::make_shared<openvdb::GridPtrVec>();
  return out;
}

openvdb::GridBase::Ptr find_grid(const VdbContents& vdb, const std::string& name) {
  for (const auto& g : *vdb.grids)
    if (g && g->getName() == name) return g;
  return nullptr;
}

void write_vdb(const std::string& path, const openvdb::GridPtrVec& grids,
               const openvdb::MetaMap& file_meta) {
  // Written under a temporary name and renamed: a killed run never leaves a half-written file.
  const std::string tmp = temporary_name(path);
  try {
    openvdb::io::File file(tmp);
    file.write(grids, file_meta);
    file.close();
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw InputError(path, "", std::string("a write error (") + e.what() + ")",
                     "a writable file path");
  }
  commit_temporary(tmp, path);
}

}  // namespace detail

namespace {

using detail::num;

// Largest model load_bone accepts: 2^28 voxels is ~6.4 GB of BoneBlocks arrays (24 bytes per
// voxel: material, porosity, 3 permeabilities, route) before the device copy; bigger models
// need the multi-GPU decomposition (DESIGN.md, "Scale beyond one machine").
constexpr openvdb::Index64 kMaxLoadVoxels = openvdb::Index64(1) << 28;
// Bytes per active voxel while loading: the voxelized material leaf (4 bytes a value) and the
// BoneBlocks arrays (material 4, porosity 4, permeability 12, route 4).
constexpr double kLoadBytesPerVoxel = 28;

/// "index (i,j,k) = (x, y, z) mm" of voxel i of a bone.
std::string where(const BoneBlocks& bone, std::size_t i) {
  const std::size_t b = i / BoneBlocks::kBlockVoxels;
  const int v = static_cast<int>(i % BoneBlocks::kBlockVoxels);
  const openvdb::Coord c = detail::voxel_coord(bone.block_origin[b], v);
  const auto p = bone.voxel_center_mm(b, v);
  return "index (" + std::to_string(c.x()) + "," + std::to_string(c.y()) + "," +
         std::to_string(c.z()) + ") = (" + num(p[0]) + ", " + num(p[1]) + ", " + num(p[2]) + ") mm";
}

/// Metadata `units`, where present, must be the string "mm" (SPEC.md §2).
void check_units(const openvdb::MetaMap& meta, const std::string& path, const std::string& grid) {
  const openvdb::Metadata::ConstPtr m = meta["units"];
  if (!m) return;
  const std::string got = m->str();
  if (m->typeName() != openvdb::StringMetadata::staticTypeName() || got != "mm")
    throw InputError(path, grid.empty() ? "metadata units" : grid + " metadata units",
                     "\"" + got + "\"", "\"mm\" (SPEC.md §2)");
}

std::string grid_names(const detail::VdbContents& vdb) {
  std::string s;
  for (const auto& g : *vdb.grids)
    if (g) s += (s.empty() ? "" : ", ") + g->getName();
  return s.empty() ? "none" : s;
}

/// Grid `name` as GridT; nullptr when it is optional and absent.
template <typename GridT>
typename GridT::Ptr typed_grid(const detail::VdbContents& vdb, const std::string& path,
                               const std::string& name, const std::string& type, bool required) {
  const openvdb::GridBase::Ptr base = detail::find_grid(vdb, name);
  if (!base) {
    if (!required) return nullptr;
    throw InputError(path, name, "no such grid (grids in the file: " + grid_names(vdb) + ")",
                     "a " + type + " named '" + name + "' (SPEC.md §2)");
  }
  auto grid = openvdb::gridPtrCast<GridT>(base);
  if (!grid)
    throw InputError(path, name, "a grid of type " + base->type() + " (" + base->valueType() + ")",
                     "a " + type);
  check_units(*grid, path, name);
  return grid;
}

void check_same_frame(const detail::GridFrame& a, const openvdb::GridBase& grid,
                      const std::string& path) {
  const detail::GridFrame f = detail::grid_frame(grid, path);
  const double tol = detail::kFrameRelTol * a.voxel_mm;
  bool same = std::abs(f.voxel_mm - a.voxel_mm) <= tol;
  for (int d = 0; d < 3; ++d) same = same && std::abs(f.origin_mm[d] - a.origin_mm[d]) <= tol;
  if (!same)
    throw InputError(path, grid.getName(),
                     "voxel " + num(f.voxel_mm) + " mm at (" + num(f.origin_mm[0]) + ", " +
                         num(f.origin_mm[1]) + ", " + num(f.origin_mm[2]) + ") mm",
                     "the transform of 'material': voxel " + num(a.voxel_mm) + " mm at (" +
                         num(a.origin_mm[0]) + ", " + num(a.origin_mm[1]) + ", " +
                         num(a.origin_mm[2]) + ") mm");
}

/// Calls fn(i, active, value) for every voxel i of the model (material not kInactive) with the
/// grid's value there: leaf by leaf, one tile lookup for a block that lies inside a tile.
template <typename GridT, typename Fn>
void sample_model(const GridT& grid, const BoneBlocks& bone, Fn fn) {
  using ValueT = typename GridT::ValueType;
  auto acc = grid.getConstAccessor();
  constexpr int nv = BoneBlocks::kBlockVoxels;
  for (std::size_t b = 0; b < bone.num_blocks(); ++b) {
    const auto& o = bone.block_origin[b];
    const openvdb::Coord c(o[0], o[1], o[2]);
    const auto* leaf = acc.probeConstLeaf(c);
    ValueT tile = openvdb::zeroVal<ValueT>();
    const bool tile_on = leaf ? false : acc.probeValue(c, tile);
    for (int v = 0; v < nv; ++v) {
      const std::size_t i = b * nv + static_cast<std::size_t>(v);
      if (bone.material[i] == kInactive) continue;
      if (leaf) {
        const auto n = static_cast<openvdb::Index>(detail::leaf_offset(v));
        fn(i, leaf->isValueOn(n), leaf->getValue(n));
      } else {
        fn(i, tile_on, tile);
      }
    }
  }
}

}  // namespace

BoneBlocks load_bone(const std::string& path) {
  detail::VdbContents vdb = detail::read_vdb(path);
  check_units(*vdb.metadata, path, "");
  auto mat = typed_grid<openvdb::Int32Grid>(vdb, path, "material", "Int32Grid", true);
  auto por = typed_grid<openvdb::FloatGrid>(vdb, path, "porosity", "FloatGrid", true);
  auto perm = typed_grid<openvdb::Vec3SGrid>(vdb, path, "permeability", "Vec3SGrid", false);
  auto route = typed_grid<openvdb::Int32Grid>(vdb, path, "leak_route", "Int32Grid", false);
  vdb = {};  // the other grids of the file are not needed

  const detail::GridFrame frame = detail::grid_frame(*mat, path);
  check_same_frame(frame, *por, path);
  if (perm) check_same_frame(frame, *perm, path);
  if (route) check_same_frame(frame, *route, path);

  // The model: active voxels of `material`. Active tiles become voxels (blocks are leaves).
  auto& mtree = mat->tree();
  const openvdb::Index64 nactive = mtree.activeVoxelCount();
  if (nactive == 0)
    throw InputError(path, "material", "no active voxels", "the model as active voxels");
  if (nactive > kMaxLoadVoxels)
    throw InputError(path, "material", std::to_string(nactive) + " active voxels",
                     "at most " + std::to_string(kMaxLoadVoxels) + " voxels");
  // Active tiles become voxels below: a small file can state many (bytes, not voxels, issue 17).
  check_memory(static_cast<double>(nactive) * kLoadBytesPerVoxel, path, "material",
               std::to_string(nactive) + " active voxels x " +
                   std::to_string(static_cast<int>(kLoadBytesPerVoxel)) + " bytes");
  if (mtree.hasActiveTiles()) mtree.voxelizeActiveTiles();

  std::vector<const openvdb::Int32Tree::LeafNodeType*> leaves;
  leaves.reserve(mtree.leafCount());
  for (auto it = mtree.cbeginLeaf(); it; ++it)
    if (!it->isEmpty()) leaves.push_back(it.getLeaf());

  BoneBlocks bone;
  bone.voxel_mm = frame.voxel_mm;
  bone.origin_mm = frame.origin_mm;
  bone.resize(leaves.size());
  constexpr int nv = BoneBlocks::kBlockVoxels;
  for (std::size_t b = 0; b < leaves.size(); ++b) {
    const auto* leaf = leaves[b];
    const openvdb::Coord o = leaf->origin();
    bone.block_origin[b] = {o.x(), o.y(), o.z()};
    for (auto it = leaf->cbeginValueOn(); it; ++it) {
      const std::size_t i =
          b * nv + static_cast<std::size_t>(detail::local_from_offset(static_cast<int>(it.pos())));
      const std::int32_t m = *it;
      if (m < 0 || m > kMaxMaterial) {
        throw InputError(path, "material", "code " + std::to_string(m) + " at " + where(bone, i),
                         "a material code 0..7 (SPEC.md §2)");
      }
      bone.material[i] = m;
    }
  }
  mat.reset();

  sample_model(*por, bone, [&](std::size_t i, bool on, float v) {
    if (!on)
      throw InputError(path, "porosity", "no active value at " + where(bone, i),
                       "a porosity wherever 'material' is active");
    if (!(v >= 0.0f && v <= 1.0f))
      throw InputError(path, "porosity", num(static_cast<double>(v)) + " at " + where(bone, i),
                       "a pore fraction in [0, 1]");
    bone.porosity[i] = v;
  });

  if (perm) {
    bone.permeability.assign(3 * bone.num_voxels(), 0.0f);
    sample_model(*perm, bone, [&](std::size_t i, bool on, const openvdb::Vec3s& k) {
      if (!on)
        throw InputError(path, "permeability", "no active value at " + where(bone, i),
                         "a permeability wherever 'material' is active");
      for (int d = 0; d < 3; ++d) {
        if (!(std::isfinite(k[d]) && k[d] >= 0.0f))
          throw InputError(path, "permeability",
                           "(" + num(static_cast<double>(k[0])) + ", " +
                               num(static_cast<double>(k[1])) + ", " +
                               num(static_cast<double>(k[2])) + ") m^2 at " + where(bone, i),
                           "finite principal permeabilities >= 0 in m^2");
        bone.permeability[3 * i + static_cast<std::size_t>(d)] = k[d];
      }
    });
    // A voxel's (0, 0, 0) means "the engine's law" (complete_bone): a grid that is zero
    // everywhere says nothing, and a user who wrote it meant something else (issue 17).
    if (std::all_of(bone.permeability.begin(), bone.permeability.end(),
                    [](float k) { return k == 0.0f; }))
      throw InputError(path, "permeability", "zero in every voxel",
                       "non-zero permeabilities (remove the grid to use the engine's law; a "
                       "voxel's (0, 0, 0) alone means the law there)");
  }

  if (route) {
    // Extension grid: an inactive voxel has no route (LeakRoute::None).
    bone.route.assign(bone.num_voxels(), static_cast<std::int32_t>(LeakRoute::None));
    sample_model(*route, bone, [&](std::size_t i, bool on, std::int32_t r) {
      if (!on) return;
      if (r < static_cast<std::int32_t>(LeakRoute::None) || r >= kNumLeakRoutes)
        throw InputError(path, "leak_route", "code " + std::to_string(r) + " at " + where(bone, i),
                         "a leak route code -1..5 (LeakRoute)");
      bone.route[i] = r;
    });
  }
  return bone;
}

void save_bone(const BoneBlocks& bone, const std::string& path) {
  save_bone(bone, path, {});
}

void save_bone(const BoneBlocks& bone, const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& metadata) {
  const std::string src = "<bone>";
  const std::size_t n = bone.num_blocks() * BoneBlocks::kBlockVoxels;
  const std::string per_block = " (" + std::to_string(BoneBlocks::kBlockVoxels) + " per block, " +
                                std::to_string(bone.num_blocks()) + " blocks)";
  if (!(std::isfinite(bone.voxel_mm) && bone.voxel_mm > 0))
    throw InputError(src, "voxel_mm", num(bone.voxel_mm), "a positive voxel size in mm");
  for (double o : bone.origin_mm)
    if (!std::isfinite(o)) throw InputError(src, "origin_mm", num(o), "a finite position in mm");
  if (bone.material.size() != n)
    throw InputError(src, "material", std::to_string(bone.material.size()) + " values",
                     std::to_string(n) + per_block);
  if (bone.porosity.size() != n)
    throw InputError(src, "porosity", std::to_string(bone.porosity.size()) + " values",
                     std::to_string(n) + per_block);
  if (!bone.permeability.empty() && bone.permeability.size() != 3 * n)
    throw InputError(src, "permeability", std::to_string(bone.permeability.size()) + " values",
                     "none or " + std::to_string(3 * n) + " (kx, ky, kz per voxel)");
  if (!bone.route.empty() && bone.route.size() != n)
    throw InputError(src, "route", std::to_string(bone.route.size()) + " values",
                     "none or " + std::to_string(n) + per_block);

  const auto active = [&](std::size_t i) { return bone.material[i] != kInactive; };
  const auto xf = detail::bone_transform(bone.voxel_mm, bone.origin_mm);
  openvdb::GridPtrVec grids;
  const auto add = [&](openvdb::GridBase::Ptr g, const std::string& name) {
    g->setName(name);
    g->setTransform(xf->copy());
    g->insertMeta("units", openvdb::StringMetadata("mm"));
    grids.push_back(g);
  };

  add(detail::blocks_to_grid<openvdb::Int32Grid>(
          bone, kInactive, [&](std::size_t i) { return bone.material[i]; }, active),
      "material");
  add(detail::blocks_to_grid<openvdb::FloatGrid>(
          bone, 0.0f, [&](std::size_t i) { return bone.porosity[i]; }, active),
      "porosity");
  if (!bone.permeability.empty()) {
    add(detail::blocks_to_grid<openvdb::Vec3SGrid>(
            bone, openvdb::Vec3s(0.0f),
            [&](std::size_t i) {
              return openvdb::Vec3s(bone.permeability[3 * i], bone.permeability[3 * i + 1],
                                    bone.permeability[3 * i + 2]);
            },
            active),
        "permeability");
    grids.back()->insertMeta("unit", openvdb::StringMetadata("m^2"));
  }
  if (!bone.route.empty()) {
    add(detail::blocks_to_grid<openvdb::Int32Grid>(
            bone, static_cast<std::int32_t>(LeakRoute::None),
            [&](std::size_t i) { return bone.route[i]; }, active),
        "leak_route");
  }

  openvdb::MetaMap meta;
  meta.insertMeta("units", openvdb::StringMetadata("mm"));
  meta.insertMeta("creator",
                  openvdb::StringMetadata(std::string("cementflow ") + CEMENTFLOW_VERSION_STRING));
  for (const auto& [key, value] : metadata) meta.insertMeta(key, openvdb::StringMetadata(value));
  detail::write_vdb(path, grids, meta);
}

}  // namespace cementflow

// `cementflow info`: what a VDB file holds, grid by grid (type, class, voxel size, world bounding
// box in mm, active voxels, leaves, statistics of active values, metadata). Host-only (OpenVDB).

#include <openvdb/openvdb.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/info.hpp"
#include "engine/grid/vdb_blocks.hpp"
#include "engine/io/vdb_raw.hpp"

namespace cementflow {
namespace {

std::vector<std::pair<std::string, std::string>> metadata_of(const openvdb::MetaMap& meta) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = meta.beginMeta(); it != meta.endMeta(); ++it)
    out.emplace_back(it->first, it->second ? it->second->str() : std::string());
  return out;
}

/// min, max and mean of f(value) over the active values of a GridT (tiles weighted by their
/// voxel count); false when the grid is not a GridT.
template <typename GridT, typename F>
bool value_stats(const openvdb::GridBase& base, GridInfo& gi, F f) {
  const auto* grid = dynamic_cast<const GridT*>(&base);
  if (!grid) return false;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0, count = 0;
  for (auto it = grid->cbeginValueOn(); it; ++it) {
    const double x = f(*it);
    const auto n = static_cast<double>(it.getVoxelCount());
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x * n;
    count += n;
  }
  if (count > 0) {
    gi.has_stats = true;
    gi.min = lo;
    gi.max = hi;
    gi.mean = sum / count;
  }
  return true;
}

void fill_stats(const openvdb::GridBase& g, GridInfo& gi) {
  const auto scalar = [](auto v) { return static_cast<double>(v); };
  const auto magnitude = [](const auto& v) { return static_cast<double>(v.length()); };
  const auto magnitude_i = [](const openvdb::Vec3i& v) { return openvdb::Vec3d(v).length(); };
  const auto boolean = [](bool v) { return v ? 1.0 : 0.0; };
  value_stats<openvdb::FloatGrid>(g, gi, scalar) ||
      value_stats<openvdb::DoubleGrid>(g, gi, scalar) ||
      value_stats<openvdb::Int32Grid>(g, gi, scalar) ||
      value_stats<openvdb::Int64Grid>(g, gi, scalar) ||
      value_stats<openvdb::BoolGrid>(g, gi, boolean) ||
      value_stats<openvdb::Vec3SGrid>(g, gi, magnitude) ||
      value_stats<openvdb::Vec3DGrid>(g, gi, magnitude) ||
      value_stats<openvdb::Vec3IGrid>(g, gi, magnitude_i);
}

GridInfo grid_info(const openvdb::GridBase& g) {
  GridInfo gi;
  gi.name = g.getName();
  gi.type = g.valueType();
  gi.grid_class = openvdb::GridBase::gridClassToString(g.getGridClass());
  const openvdb::Vec3d vs = g.constTransform().voxelSize();
  gi.voxel_size_mm = {vs[0], vs[1], vs[2]};
  gi.active_voxels = static_cast<long long>(g.activeVoxelCount());
  gi.leaf_nodes = static_cast<long long>(g.baseTree().leafCount());
  if (gi.active_voxels > 0) {
    // Extent of the active voxels: their index bounding box grown by half a voxel (voxel faces,
    // not centres), mapped to world mm.
    const openvdb::CoordBBox bb = g.evalActiveVoxelBoundingBox();
    const openvdb::BBoxd ib(bb.min().asVec3d() - openvdb::Vec3d(0.5),
                            bb.max().asVec3d() + openvdb::Vec3d(0.5));
    const openvdb::BBoxd wb = g.constTransform().indexToWorld(ib);
    for (int d = 0; d < 3; ++d) {
      gi.bbox_min_mm[d] = wb.min()[d];
      gi.bbox_max_mm[d] = wb.max()[d];
    }
  }
  fill_stats(g, gi);
  gi.metadata = metadata_of(g);
  return gi;
}

std::string num(double x) {
  std::ostringstream s;
  s << std::setprecision(6) << x;
  return s.str();
}
std::string triple(const std::array<double, 3>& v) {
  return "(" + num(v[0]) + ", " + num(v[1]) + ", " + num(v[2]) + ")";
}
std::string join(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s;
  for (const auto& [k, v] : kv) s += (s.empty() ? "" : ", ") + k + " = " + v;
  return s.empty() ? "none" : s;
}

}  // namespace

FileInfo inspect_vdb(const std::string& path) {
  const detail::VdbContents vdb = detail::read_vdb(path);
  FileInfo info;
  info.path = path;
  info.metadata = metadata_of(*vdb.metadata);
  const auto& grids = vdb.grids;
  for (const auto& g : *grids)
    if (g) info.grids.push_back(grid_info(*g));
  return info;
}

std::string to_text(const FileInfo& info) {
  std::ostringstream out;
  out << "file      " << info.path << "\n";
  out << "metadata  " << join(info.metadata) << "\n";
  out << "grids     " << info.grids.size() << "\n\n";

  // One row per grid; columns padded to their widest entry.
  std::vector<std::vector<std::string>> rows = {{"name", "type", "class", "voxel_mm", "active",
                                                 "leaves", "bbox_min_mm", "bbox_max_mm", "min",
                                                 "max", "mean"}};
  for (const GridInfo& g : info.grids) {
    const auto& v = g.voxel_size_mm;
    const bool uniform = v[0] == v[1] && v[1] == v[2];
    const bool vector = g.type.rfind("vec3", 0) == 0;  // statistics of the magnitude
    const std::string pre = vector ? "|v| " : "";
    rows.push_back({g.name, g.type, g.grid_class,
                    uniform ? num(v[0]) : num(v[0]) + "x" + num(v[1]) + "x" + num(v[2]),
                    std::to_string(g.active_voxels), std::to_string(g.leaf_nodes),
                    g.active_voxels ? triple(g.bbox_min_mm) : "-",
                    g.active_voxels ? triple(g.bbox_max_mm) : "-",
                    g.has_stats ? pre + num(g.min) : "-", g.has_stats ? pre + num(g.max) : "-",
                    g.has_stats ? pre + num(g.mean) : "-"});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
  out << "\n";
  for (const GridInfo& g : info.grids) out << g.name << " metadata: " << join(g.metadata) << "\n";
  std::string s = out.str();
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string to_json(const FileInfo& info) {
  // Keys in a reading order (name first), not sorted.
  using json = nlohmann::ordered_json;
  const auto meta = [](const std::vector<std::pair<std::string, std::string>>& kv) {
    json m = json::object();
    for (const auto& [k, v] : kv) m[k] = v;
    return m;
  };
  json grids = json::array();
  for (const GridInfo& g : info.grids) {
    json j = {{"name", g.name},
              {"type", g.type},
              {"class", g.grid_class},
              {"voxel_size_mm", g.voxel_size_mm},
              {"active_voxels", g.active_voxels},
              {"leaf_nodes", g.leaf_nodes},
              {"metadata", meta(g.metadata)}};
    if (g.active_voxels > 0) {
      j["bbox_min_mm"] = g.bbox_min_mm;
      j["bbox_max_mm"] = g.bbox_max_mm;
    } else {
      j["bbox_min_mm"] = nullptr;
      j["bbox_max_mm"] = nullptr;
    }
    if (g.has_stats) {
      j["stats"] = {{"min", g.min},
                    {"max", g.max},
                    {"mean", g.mean},
                    {"of", g.type.rfind("vec3", 0) == 0 ? "magnitude" : "value"}};
    } else {
      j["stats"] = nullptr;
    }
    grids.push_back(std::move(j));
  }
  json root = {{"path", info.path}, {"metadata", meta(info.metadata)}, {"grids", std::move(grids)}};
  // Metadata strings are whatever the file holds: invalid UTF-8 is replaced (U+FFFD), not fatal
  // (issue 17: `info --json` exited 1 with json type_error 316).
  return root.dump(2, ' ', false, json::error_handler_t::replace);
}

// --- writing plain-data grids (engine/io/vdb_raw.hpp)
// ---------------------------------------------

namespace detail {
namespace {

template <typename GridT, typename Conv>
openvdb::GridBase::Ptr make_raw(const RawGrid& r, std::size_t per_voxel, Conv conv) {
  if (r.values.size() != per_voxel * r.coords.size())
    throw InputError("<raw grid>", r.name, std::to_string(r.values.size()) + " values",
                     std::to_string(per_voxel) + " per voxel");
  const std::array<double, 3> bg{r.background, r.background, r.background};
  auto g = GridT::create(conv(bg.data()));
  auto acc = g->getAccessor();
  for (std::size_t i = 0; i < r.coords.size(); ++i) {
    const auto& c = r.coords[i];
    acc.setValueOn(openvdb::Coord(c[0], c[1], c[2]), conv(&r.values[per_voxel * i]));
  }
  for (const RawFill& f : r.fills)
    g->fill(openvdb::CoordBBox(openvdb::Coord(f.min[0], f.min[1], f.min[2]),
                               openvdb::Coord(f.max[0], f.max[1], f.max[2])),
            conv(f.value.data()), f.active);
  return g;
}

openvdb::GridBase::Ptr raw_grid(const RawGrid& r) {
  if (r.type == "float")
    return make_raw<openvdb::FloatGrid>(r, 1,
                                        [](const double* v) { return static_cast<float>(v[0]); });
  if (r.type == "double")
    return make_raw<openvdb::DoubleGrid>(r, 1, [](const double* v) { return v[0]; });
  if (r.type == "int32")
    return make_raw<openvdb::Int32Grid>(
        r, 1, [](const double* v) { return static_cast<std::int32_t>(v[0]); });
  if (r.type == "int64")
    return make_raw<openvdb::Int64Grid>(
        r, 1, [](const double* v) { return static_cast<std::int64_t>(v[0]); });
  if (r.type == "bool")
    return make_raw<openvdb::BoolGrid>(r, 1, [](const double* v) { return v[0] != 0; });
  if (r.type == "vec3s")
    return make_raw<openvdb::Vec3SGrid>(r, 3, [](const double* v) {
      return openvdb::Vec3s(static_cast<float>(v[0]), static_cast<float>(v[1]),
                            static_cast<float>(v[2]));
    });
  if (r.type == "vec3d")
    return make_raw<openvdb::Vec3DGrid>(
        r, 3, [](const double* v) { return openvdb::Vec3d(v[0], v[1], v[2]); });
  if (r.type == "vec3i")
    return make_raw<openvdb::Vec3IGrid>(r, 3, [](const double* v) {
      return openvdb::Vec3i(static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]));
    });
  throw InputError("<raw grid>", r.name, "type \"" + r.type + "\"",
                   "float, double, int32, int64, bool, vec3s, vec3d or vec3i");
}

}  // namespace

void write_raw_vdb(const std::string& path, const std::vector<RawGrid>& grids,
                   const std::vector<std::pair<std::string, std::string>>& file_metadata) {
  openvdb::GridPtrVec out;
  for (const RawGrid& r : grids) {
    openvdb::GridBase::Ptr g = raw_grid(r);
    g->setName(r.name);
    g->setSaveFloatAsHalf(r.half);
    openvdb::Mat4d m = openvdb::Mat4d::identity();
    for (int a = 0; a < 3; ++a) {
      for (int c = 0; c < 3; ++c) m[a][c] = r.axes[a][c];
      m[3][a] = r.translation[a];
    }
    try {
      g->setTransform(openvdb::math::Transform::createLinearTransform(m));
    } catch (const std::exception& e) {
      throw InputError("<raw grid>", r.name,
                       std::string("a transform OpenVDB rejects (") + e.what() + ")",
                       "an invertible linear transform");
    }
    for (const auto& [k, v] : r.metadata) g->insertMeta(k, openvdb::StringMetadata(v));
    for (const auto& [k, v] : r.float_metadata) g->insertMeta(k, openvdb::DoubleMetadata(v));
    out.push_back(g);
  }
  openvdb::MetaMap meta;
  for (const auto& [k, v] : file_metadata) meta.insertMeta(k, openvdb::StringMetadata(v));
  write_vdb(path, out, meta);
}

}  // namespace detail
}  // namespace cementflow

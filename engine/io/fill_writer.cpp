// Writer of fill.vdb (SPEC.md §6): the result fields on the bone's blocks as OpenVDB grids with
// the bone's transform. Host-only (OpenVDB).

#include "engine/io/fill_writer.hpp"

#include <openvdb/openvdb.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/version.hpp"
#include "engine/grid/vdb_blocks.hpp"

namespace cementflow::detail {
namespace {

/// Grid name, its field, the unit written as grid metadata "unit", and a description.
struct ScalarField {
  const char* name;
  const std::vector<float>* values;
  const char* unit;
  const char* description;
};

std::string accepted_names() {
  std::string s;
  for (const auto& n : fill_grid_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void check_size(const std::string& name, std::size_t got, std::size_t want) {
  if (got != want)
    throw InputError("<fields>", name, std::to_string(got) + " values",
                     std::to_string(want) + " values, one per voxel of the grid (write_fill_vdb)");
}

}  // namespace

const std::vector<std::string>& requestable_grid_names() {
  static const std::vector<std::string> names{"cement_fraction", "arrival_time", "pressure",
                                              "velocity", "viscosity"};
  return names;
}

const std::vector<std::string>& fill_grid_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = requestable_grid_names();
    n.emplace_back("material");
    return n;
  }();
  return names;
}

void write_fill_vdb(const RunFields& fields, const std::vector<std::string>& grids,
                    const std::string& path) {
  const auto& names = fill_grid_names();
  for (const std::string& g : grids)
    if (std::find(names.begin(), names.end(), g) == names.end())
      throw InputError("<output>", "output.grids", "\"" + g + "\"", "one of " + accepted_names());
  const auto wanted = [&](const std::string& n) {
    return std::find(grids.begin(), grids.end(), n) != grids.end();
  };

  const BoneBlocks& bone = fields.grid;
  const std::size_t n = bone.num_voxels();
  check_size("material", n, bone.num_blocks() * BoneBlocks::kBlockVoxels);
  const auto in_bone = [&](std::size_t i) { return bone.material[i] != kInactive; };
  const auto xf = bone_transform(bone.voxel_mm, bone.origin_mm);

  openvdb::GridPtrVec out;
  const auto add = [&](openvdb::GridBase::Ptr g, const std::string& name, const char* unit,
                       const char* description) {
    g->setName(name);
    g->setTransform(xf->copy());
    g->insertMeta("units", openvdb::StringMetadata("mm"));
    if (unit) g->insertMeta("unit", openvdb::StringMetadata(unit));
    g->insertMeta("description", openvdb::StringMetadata(description));
    out.push_back(g);
  };

  add(blocks_to_grid<openvdb::Int32Grid>(
          bone, kInactive, [&](std::size_t i) { return bone.material[i]; }, in_bone),
      "material", nullptr, "tissue class (SPEC.md section 2 codes)");

  const ScalarField scalars[] = {
      {"cement_fraction", &fields.cement_fraction, "1", "cement volume fraction of the pore space"},
      {"pressure", &fields.pressure, "Pa", "gauge pressure"},
      {"viscosity", &fields.viscosity, "Pa*s", "cement viscosity"}};
  for (const ScalarField& f : scalars) {
    if (!wanted(f.name) || f.values->empty()) continue;
    check_size(f.name, f.values->size(), n);
    const std::vector<float>& v = *f.values;
    add(blocks_to_grid<openvdb::FloatGrid>(
            bone, 0.0f, [&](std::size_t i) { return v[i]; }, in_bone),
        f.name, f.unit, f.description);
  }
  // The pore space is what the fraction fills: a fog volume for viewers.
  for (auto& g : out)
    if (g->getName() == "cement_fraction") g->setGridClass(openvdb::GRID_FOG_VOLUME);

  if (wanted("arrival_time") && !fields.arrival_time.empty()) {
    check_size("arrival_time", fields.arrival_time.size(), n);
    const std::vector<float>& t = fields.arrival_time;
    // Active only where cement arrived (t >= 0); the background -1 reads as "never".
    add(blocks_to_grid<openvdb::FloatGrid>(
            bone, -1.0f, [&](std::size_t i) { return t[i]; },
            [&](std::size_t i) { return in_bone(i) && t[i] >= 0.0f; }),
        "arrival_time", "s", "time after the start of injection when cement first arrived");
  }

  if (wanted("velocity") && !fields.velocity.empty()) {
    check_size("velocity", fields.velocity.size(), 3 * n);
    const std::vector<float>& u = fields.velocity;
    auto g = blocks_to_grid<openvdb::Vec3SGrid>(
        bone, openvdb::Vec3s(0.0f),
        [&](std::size_t i) { return openvdb::Vec3s(u[3 * i], u[3 * i + 1], u[3 * i + 2]); },
        in_bone);
    g->setVectorType(openvdb::VEC_INVARIANT);  // world-axis components, not index-space
    add(g, "velocity", "m/s", "Darcy velocity of the cement (x, y, z)");
  }

  openvdb::MetaMap meta;
  meta.insertMeta("units", openvdb::StringMetadata("mm"));
  meta.insertMeta("creator",
                  openvdb::StringMetadata(std::string("cementflow ") + CEMENTFLOW_VERSION_STRING));
  write_vdb(path, out, meta);
}

}  // namespace cementflow::detail

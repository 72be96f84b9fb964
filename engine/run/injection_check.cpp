#include "engine/run/injection_check.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <sstream>

#include "cementflow/errors.hpp"
#include "engine/io/run_modes.hpp"

namespace cementflow::detail {

namespace {

constexpr double kM3PerMl = 1e-6;

std::string fmt3(const std::array<double, 3>& v) {
  std::ostringstream o;
  o << "[" << v[0] << ", " << v[1] << ", " << v[2] << "]";
  return o.str();
}

const char* material_name(int m) {
  static const char* names[] = {"soft tissue",      "trabecular bone", "cortical bone",
                                "cavity",           "a vein",          "the disc",
                                "the spinal canal", "needle track"};
  return (m >= 0 && m <= kMaxMaterial) ? names[m] : "outside the model";
}

std::string needle_key(const Scene& s, size_t k, const char* leaf) {
  if (s.injection.needles.size() == 1) return std::string("injection.needle.") + leaf;
  return "injection.needles[" + std::to_string(k) + "]." + leaf;
}

bool active(const BoneBlocks& g, long long j) {
  return j >= 0 && g.material[static_cast<size_t>(j)] >= 0;
}

/// A leak-destination voxel on the model's outer boundary: where the displaced marrow leaves.
bool outlet(const BoneBlocks& g, const BlockIndex& index, long long i) {
  if (!is_leak_destination(g.material[static_cast<size_t>(i)])) return false;
  for (int d = 0; d < 6; ++d)
    if (!active(g, index.neighbour(i, d))) return true;
  return false;
}

/// The tip voxel of needle k; throws InputError when the cement cannot enter there.
long long check_tip(const Scene& scene, size_t k, const BoneBlocks& g, const BlockIndex& index,
                    const std::string& file) {
  const auto& nd = scene.injection.needles[k];
  const long long i = index.find(nd.tip_mm);
  const int m = i >= 0 ? g.material[static_cast<size_t>(i)] : kInactive;
  if (m == kInactive) {
    std::array<double, 3> lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
    for (size_t b = 0; b < g.num_blocks(); ++b)
      for (size_t a = 0; a < 3; ++a) {
        const double o = g.origin_mm[a] + g.voxel_mm * g.block_origin[b][a];
        lo[a] = std::min(lo[a], o);
        hi[a] = std::max(hi[a], o + (kBlockDim - 1) * g.voxel_mm);
      }
    std::ostringstream e;
    e << "a point inside the bone model (its blocks span x " << lo[0] << ".." << hi[0] << ", y "
      << lo[1] << ".." << hi[1] << ", z " << lo[2] << ".." << hi[2] << " mm)";
    throw InputError(file, needle_key(scene, k, "tip_mm"), fmt3(nd.tip_mm), e.str());
  }
  if (m == static_cast<int>(Material::Cortical) || is_leak_destination(m))
    throw InputError(file, needle_key(scene, k, "tip_mm"),
                     fmt3(nd.tip_mm) + " (in " + material_name(m) + ")",
                     "the tip in trabecular bone, a cavity or the needle track");
  // Kyphoplasty: the bone filler delivers into a balloon cavity (PHYSICS.md §M4).
  if (injection_mode(scene.injection) == InjectionMode::Kyphoplasty &&
      m != static_cast<int>(Material::Cavity))
    throw InputError(file, needle_key(scene, k, "tip_mm"),
                     fmt3(nd.tip_mm) + " (in " + material_name(m) + ")",
                     "the filler tip inside a balloon cavity (material 3; make_bone carves the "
                     "balloons of a kyphoplasty scene)");
  if (!conducts(g, i))
    throw InputError(file, needle_key(scene, k, "tip_mm"), fmt3(nd.tip_mm) + " (no pore space)",
                     "the tip in a voxel with porosity > 0 and permeability > 0");
  return i;
}

}  // namespace

bool conducts(const BoneBlocks& g, long long i) {
  const auto u = static_cast<size_t>(i);
  return g.material[u] >= 0 && g.porosity[u] > 0 &&
         (g.permeability[3 * u] > 0 || g.permeability[3 * u + 1] > 0 ||
          g.permeability[3 * u + 2] > 0);
}

void check_bone_values(const BoneBlocks& bone) {
  const auto n = static_cast<size_t>(bone.num_voxels());
  auto where = [&](size_t i) {
    const size_t b = i / BoneBlocks::kBlockVoxels;
    const auto p = bone.voxel_center_mm(b, static_cast<int>(i % BoneBlocks::kBlockVoxels));
    std::ostringstream w;
    w << " at (" << p[0] << ", " << p[1] << ", " << p[2] << ") mm";
    return w.str();
  };
  auto num = [](double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  };
  for (size_t i = 0; i < n && i < bone.porosity.size(); ++i) {
    if (bone.material[i] == kInactive) continue;
    const double phi = static_cast<double>(bone.porosity[i]);
    if (!(std::isfinite(phi) && phi >= 0 && phi <= 1))
      throw InputError("<bone>", "porosity", num(phi) + where(i), "a finite number in [0, 1]");
    if (bone.permeability.size() == 3 * n)
      for (size_t d = 0; d < 3; ++d) {
        const double k = static_cast<double>(bone.permeability[3 * i + d]);
        if (!(std::isfinite(k) && k >= 0))
          throw InputError("<bone>", "permeability", num(k) + where(i),
                           "finite principal permeabilities >= 0 in m^2");
      }
  }
}

std::vector<long long> check_injection(const Scene& scene, const BoneBlocks& g,
                                       const BlockIndex& index) {
  const std::string file = scene.file.empty() ? "<scene>" : scene.file;
  std::vector<long long> tips;
  for (size_t k = 0; k < scene.injection.needles.size(); ++k)
    tips.push_back(check_tip(scene, k, g, index, file));

  // Flood fill from the tips through conducting voxels: is there an outlet, and how much pore
  // space (outside the leak destinations) can the cement reach?
  std::vector<char> seen(g.num_voxels(), 0);
  std::deque<long long> queue;
  for (long long t : tips)
    if (!seen[static_cast<size_t>(t)]) {
      seen[static_cast<size_t>(t)] = 1;
      queue.push_back(t);
    }
  bool has_outlet = false;
  double pore_mm3 = 0;
  const double vox_mm3 = g.voxel_mm * g.voxel_mm * g.voxel_mm;
  while (!queue.empty()) {
    const long long i = queue.front();
    queue.pop_front();
    const auto u = static_cast<size_t>(i);
    if (outlet(g, index, i)) has_outlet = true;
    if (!is_leak_destination(g.material[u]))
      pore_mm3 += static_cast<double>(g.porosity[u]) * vox_mm3;
    for (int d = 0; d < 6; ++d) {
      const long long j = index.neighbour(i, d);
      if (j < 0 || seen[static_cast<size_t>(j)] || !conducts(g, j)) continue;
      seen[static_cast<size_t>(j)] = 1;
      queue.push_back(j);
    }
  }
  if (!has_outlet)
    throw InputError(file, "bone", "no outlet reachable from the needle tip",
                     "a leak destination (material 0, 4, 5 or 6) on the model's outer boundary, "
                     "where the displaced marrow can leave (SPEC.md §2)");
  const double pore_ml = pore_mm3 * 1e-3;  // mm^3 -> mL
  if (scene.injection.volume_m3 / kM3PerMl > pore_ml) {
    std::ostringstream e;
    e << "at most " << pore_ml << " mL, the pore volume of the bone reachable from the needle tip";
    throw InputError(file, "injection.volume_ml",
                     std::to_string(scene.injection.volume_m3 / kM3PerMl), e.str());
  }
  return tips;
}

}  // namespace cementflow::detail

// The built-in box phantom (SPEC.md §3, "Built-in box phantom"): a homogeneous porous box
// centred on the origin, with an optional cortical shell, soft-tissue sink layers on chosen faces
// and an optional straight vein. Used by validation scenes, where every dimension must be known.
//
// Layout: the box has N = round(size / voxel) voxels per axis (so its real size is N * voxel);
// their centres are at -voxel * (N - 1) / 2 ... +voxel * (N - 1) / 2, which centres the box on the
// origin exactly. The index space starts at 0 (or at -1's place, index 0, when a sink layer lies
// on the lower face), so block origins are never negative.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "engine/bone/model_limits.hpp"

namespace cementflow {
namespace {

using detail::kMaxModelVoxels;  // the largest box (engine/bone/model_limits.hpp)

const char* const kFaceNames[6] = {"-x", "+x", "-y", "+y", "-z", "+z"};

std::string num(double x) {
  std::ostringstream s;
  s << std::setprecision(6) << x;
  return s.str();
}
std::string vec(const std::array<double, 3>& v) {
  return "[" + num(v[0]) + ", " + num(v[1]) + ", " + num(v[2]) + "]";
}

[[noreturn]] void bad(const std::string& key, const std::string& value,
                      const std::string& expected) {
  throw InputError("<scene>", "bone.generate." + key, value, expected);
}

/// The phantom's geometry in index space.
struct BoxLayout {
  double h = 0;
  std::array<int, 3> n{0, 0, 0};   ///< box voxels per axis
  std::array<int, 3> lo{0, 0, 0};  ///< index of the box's first voxel (1 with a lower sink layer)
  std::array<std::array<bool, 2>, 3> sink{};  ///< [axis][0 = lower, 1 = upper face]
  int shell_layers = 0;
  std::array<double, 3> origin_mm{0, 0, 0};  ///< centre of index (0,0,0)
  std::array<int, 3> dims{0, 0, 0};          ///< index extent: lo + n + upper sink layer
};

/// The vein: a cylinder test plus the voxels of its centre line (so that a vein thinner than a
/// voxel is still one face-connected chain of voxels from the start to the box boundary).
struct Vein {
  bool on = false;
  std::array<double, 3> start{0, 0, 0}, dir{0, 0, 0};
  double radius = 0;
  std::unordered_set<std::int64_t> line;  ///< linear indices i + dims0 * (j + dims1 * k)
};

std::int64_t linear(const BoxLayout& L, int i, int j, int k) {
  return i + static_cast<std::int64_t>(L.dims[0]) * (j + static_cast<std::int64_t>(L.dims[1]) * k);
}

bool in_box(const BoxLayout& L, const std::array<int, 3>& c) {
  for (int a = 0; a < 3; ++a)
    if (c[a] < L.lo[a] || c[a] >= L.lo[a] + L.n[a]) return false;
  return true;
}

/// Index of the voxel containing world point p (mm).
std::array<int, 3> voxel_of(const BoxLayout& L, const std::array<double, 3>& p) {
  std::array<int, 3> c{};
  for (int a = 0; a < 3; ++a)
    c[a] = static_cast<int>(std::floor((p[a] - L.origin_mm[a]) / L.h + 0.5));
  return c;
}

/// Centre-line voxels from the start to the box boundary: samples every h/8 along the line and
/// fills any step that changes more than one index with the intermediate voxels, one axis at a
/// time, so the chain is face-connected.
void trace_centre_line(const BoxLayout& L, Vein& vein) {
  std::array<int, 3> cur = voxel_of(L, vein.start);
  vein.line.insert(linear(L, cur[0], cur[1], cur[2]));
  const double step = L.h / 8;
  for (int s = 1;; ++s) {
    std::array<double, 3> p{};
    for (int a = 0; a < 3; ++a) p[a] = vein.start[a] + s * step * vein.dir[a];
    const std::array<int, 3> next = voxel_of(L, p);
    if (next == cur) continue;
    for (int a = 0; a < 3 && next != cur; ++a) {
      if (next[a] == cur[a]) continue;
      cur[a] = next[a];
      if (!in_box(L, cur)) return;
      vein.line.insert(linear(L, cur[0], cur[1], cur[2]));
    }
  }
}

bool is_vein(const BoxLayout& L, const Vein& vein, int i, int j, int k) {
  if (!vein.on) return false;
  const std::array<int, 3> c{i, j, k};
  double t = 0, r2 = 0;
  std::array<double, 3> d{};
  for (int a = 0; a < 3; ++a) {
    d[a] = L.origin_mm[a] + L.h * c[a] - vein.start[a];
    t += d[a] * vein.dir[a];
  }
  for (int a = 0; a < 3; ++a) {
    const double perp = d[a] - t * vein.dir[a];
    r2 += perp * perp;
  }
  if (t >= 0 && r2 <= vein.radius * vein.radius) return true;
  return vein.line.count(linear(L, i, j, k)) != 0;
}

/// Material of index voxel (i,j,k), kInactive outside the phantom.
std::int32_t material_at(const BoxLayout& L, const Vein& vein, int i, int j, int k) {
  const std::array<int, 3> c{i, j, k};
  int outside_axis = -1, outside_side = 0, outside_count = 0;
  int depth = L.n[0];  // distance in voxels to the nearest box face (0 = outermost layer)
  for (int a = 0; a < 3; ++a) {
    const int u = c[a] - L.lo[a];
    if (u < 0 || u >= L.n[a]) {
      ++outside_count;
      outside_axis = a;
      outside_side = u < 0 ? 0 : 1;
      if (u < -1 || u > L.n[a]) return kInactive;
    } else {
      depth = std::min(depth, std::min(u, L.n[a] - 1 - u));
    }
  }
  if (outside_count == 0) {
    if (is_vein(L, vein, i, j, k)) return static_cast<std::int32_t>(Material::Vein);
    if (depth < L.shell_layers) return static_cast<std::int32_t>(Material::Cortical);
    return static_cast<std::int32_t>(Material::Trabecular);
  }
  // One layer outside exactly one face, and that face is a sink: soft tissue.
  if (outside_count == 1 && L.sink[outside_axis][outside_side])
    return static_cast<std::int32_t>(Material::SoftTissue);
  return kInactive;
}

BoxLayout layout_of(const BoxPhantom& p) {
  for (int a = 0; a < 3; ++a)
    if (!(std::isfinite(p.size_mm[a]) && p.size_mm[a] > 0))
      bad("size_mm", vec(p.size_mm), "three positive sizes in mm");
  const double min_size = std::min({p.size_mm[0], p.size_mm[1], p.size_mm[2]});
  if (!(std::isfinite(p.voxel_mm) && p.voxel_mm > 0 && p.voxel_mm <= min_size / 2))
    bad("voxel_mm", num(p.voxel_mm),
        "a voxel size in mm > 0 and <= half the smallest size (" + num(min_size / 2) + ")");
  if (!(std::isfinite(p.porosity) && p.porosity > 0 && p.porosity <= 1))
    bad("porosity", num(p.porosity), "a pore fraction in (0, 1]");
  for (int a = 0; a < 3; ++a)
    if (!(std::isfinite(p.permeability_m2[a]) && p.permeability_m2[a] >= 0))
      bad("permeability_m2", vec(p.permeability_m2), "three finite permeabilities >= 0 in m^2");
  if (!(std::isfinite(p.shell_mm) && p.shell_mm >= 0 && p.shell_mm < min_size / 2))
    bad("shell_mm", num(p.shell_mm),
        "a shell thickness in mm >= 0 and < half the smallest size (" + num(min_size / 2) + ")");

  BoxLayout L;
  L.h = p.voxel_mm;
  for (const std::string& f : p.sink_faces) {
    const auto* it = std::find(std::begin(kFaceNames), std::end(kFaceNames), f);
    if (it == std::end(kFaceNames))
      bad("sink_faces", "\"" + f + "\"",
          "faces among \"+x\", \"-x\", \"+y\", \"-y\", \"+z\", \"-z\"");
    const auto idx = it - std::begin(kFaceNames);
    L.sink[idx / 2][idx % 2] = true;
  }
  double total = 1;
  for (int a = 0; a < 3; ++a) {
    const double nd = std::round(p.size_mm[a] / p.voxel_mm);
    total *= nd + 2;
    if (total > kMaxModelVoxels)
      bad("voxel_mm", num(p.voxel_mm),
          "a voxel size giving at most " + num(kMaxModelVoxels) + " voxels for a box of " +
              vec(p.size_mm) + " mm");
    L.n[a] = static_cast<int>(nd);
    L.lo[a] = L.sink[a][0] ? 1 : 0;
    L.dims[a] = L.lo[a] + L.n[a] + (L.sink[a][1] ? 1 : 0);
    L.origin_mm[a] = -L.h * (L.n[a] - 1) / 2 - L.h * L.lo[a];
  }
  if (p.shell_mm > 0) {
    // Whole voxels: the shell is round(shell / voxel) layers thick, at least one.
    L.shell_layers = std::max(1, static_cast<int>(std::lround(p.shell_mm / p.voxel_mm)));
    for (int a = 0; a < 3; ++a)
      if (2 * L.shell_layers >= L.n[a])
        bad("shell_mm", num(p.shell_mm),
            "a shell that leaves trabecular bone inside (" + std::to_string(L.shell_layers) +
                " voxel layers on each side of " + std::to_string(L.n[a]) + ")");
  }
  return L;
}

Vein vein_of(const BoxPhantom& p, const BoxLayout& L) {
  Vein v;
  if (!p.vein) return v;
  if (!(std::isfinite(p.vein_diameter_mm) && p.vein_diameter_mm > 0))
    bad("vein_diameter_mm", num(p.vein_diameter_mm), "a positive diameter in mm");
  double len2 = 0;
  for (double d : p.vein_direction) len2 += d * d;
  if (!(std::isfinite(len2) && len2 > 0))
    bad("vein_direction", vec(p.vein_direction), "a non-zero direction vector");
  for (int a = 0; a < 3; ++a) {
    const double half = L.h * L.n[a] / 2;
    if (!(std::isfinite(p.vein_start_mm[a]) && std::abs(p.vein_start_mm[a]) < half))
      bad("vein_start_mm", vec(p.vein_start_mm),
          "a point inside the box (|coordinate| < half its size along each axis)");
  }
  const auto r = static_cast<std::int32_t>(p.vein_route);
  if (r < 0 || r >= kNumLeakRoutes)
    bad("vein_route", std::to_string(r), "a leak route (basivertebral_vein, segmental_vein, ...)");
  v.on = true;
  v.start = p.vein_start_mm;
  for (int a = 0; a < 3; ++a) v.dir[a] = p.vein_direction[a] / std::sqrt(len2);
  v.radius = p.vein_diameter_mm / 2;
  trace_centre_line(L, v);
  return v;
}

}  // namespace

BoneBlocks generate_box(const BoxPhantom& p) {
  const BoxLayout L = layout_of(p);
  const Vein vein = vein_of(p, L);
  constexpr int bd = BoneBlocks::kBlockDim;
  constexpr int nv = BoneBlocks::kBlockVoxels;

  // Blocks covering [0, dims) per axis, in z-y-x order; blocks with no active voxel (corners
  // beyond two sink layers) are dropped.
  BoneBlocks bone;
  bone.voxel_mm = L.h;
  bone.origin_mm = L.origin_mm;
  std::array<int, 3> nb{};
  for (int a = 0; a < 3; ++a) nb[a] = (L.dims[a] + bd - 1) / bd;
  std::vector<std::int32_t> mat(nv);
  for (int bz = 0; bz < nb[2]; ++bz) {
    for (int by = 0; by < nb[1]; ++by) {
      for (int bx = 0; bx < nb[0]; ++bx) {
        const std::array<int, 3> o{bx * bd, by * bd, bz * bd};
        bool any = false;
        for (int v = 0; v < nv; ++v) {
          mat[v] = material_at(L, vein, o[0] + v % bd, o[1] + (v / bd) % bd, o[2] + v / (bd * bd));
          any = any || mat[v] != kInactive;
        }
        if (!any) continue;
        bone.block_origin.push_back(o);
        bone.material.insert(bone.material.end(), mat.begin(), mat.end());
      }
    }
  }

  const auto phi = static_cast<float>(p.porosity);
  bone.porosity.resize(bone.material.size());
  for (std::size_t i = 0; i < bone.material.size(); ++i) {
    const std::int32_t m = bone.material[i];
    // The vein is an open channel (pore fraction 1); every other voxel, the cortical shell and
    // the sink layers included, has the box's porosity (the shell differs by its permeability,
    // which complete_bone sets from the material).
    bone.porosity[i] = m == kInactive                                   ? 0.0f
                       : m == static_cast<std::int32_t>(Material::Vein) ? 1.0f
                                                                        : phi;
  }

  const bool given_k =
      p.permeability_m2[0] > 0 || p.permeability_m2[1] > 0 || p.permeability_m2[2] > 0;
  if (given_k) {
    // The given permeability goes to the trabecular voxels; complete_bone
    // (engine/bone/permeability.cpp) gives the other materials (shell, vein, soft tissue) their
    // defaults, which it derives for soft tissue from the trabecular values. All zero = leave
    // empty: the engine's law fills it.
    bone.permeability.resize(3 * bone.material.size());
    for (std::size_t i = 0; i < bone.material.size(); ++i)
      for (int d = 0; d < 3; ++d)
        bone.permeability[3 * i + static_cast<std::size_t>(d)] =
            bone.material[i] == static_cast<std::int32_t>(Material::Trabecular)
                ? static_cast<float>(p.permeability_m2[d])
                : 0.0f;
  }

  if (vein.on) {
    bone.route.assign(bone.material.size(), static_cast<std::int32_t>(LeakRoute::None));
    for (std::size_t i = 0; i < bone.material.size(); ++i)
      if (bone.material[i] == static_cast<std::int32_t>(Material::Vein))
        bone.route[i] = static_cast<std::int32_t>(p.vein_route);
  }
  return bone;
}

}  // namespace cementflow

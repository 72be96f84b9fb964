// Kyphoplasty balloons (PHYSICS.md §M4, §L6): cavity, compacted rim, and the cavity-fill
// measures of the report. Host-only (part of cementflow_io): it edits a BoneBlocks and reads a
// finished run's cement fraction; no Kokkos, no OpenVDB.
//
// Model, in the order carve_balloons applies it:
// 1. Shape. A balloon is a capsule (cylinder with hemispherical ends) along its axis, length L end
//    to end, radius r from V = pi r^2 (L - 2r) + 4/3 pi r^3 (kyphoplasty balloons are elongated:
//    10/15/20 mm, 2-4 mL each, PHYSICS.md §L6, C).
// 2. Cavity. The round(V / h^3) voxels whose centres are nearest the capsule's axis segment
//    become the cavity. The capsule is the set of points within r of that segment, so these
//    voxels are a voxelised capsule of (almost) radius r, and the cavity volume equals V to half a
//    voxel by construction. Every one of them must be trabecular bone (or needle track): a
//    balloon that would cut the cortical shell or an endplate, reach a vein, soft tissue, the disc
//    or leave the model is an input error (cortex and endplates stay intact, §M4). A cavity the
//    bone already had (a fracture cleft, material 3) may lie inside the balloon: those voxels
//    stay cavity, count towards the balloon's volume and hold no bone to displace.
//    The cavity is material 3 with porosity 1 (free fluid, §M2). The balloon is deflated and
//    withdrawn before the fill, so the cavity starts full of the displaced fluid (marrow, blood,
//    the saline of the tamp): the simulation starts with cement saturation 0 there and the
//    marrow viscosity (choice documented in scenes/README.md).
// 3. Rim. The bone volume the cavity held, sum (1 - phi) h^3, is pushed outward: trabecular
//    voxels are visited nearest the axis segment first (a flood through face-connected
//    trabecular voxels, so the rim never jumps across cortex), each compacted until its BV/TV
//    reaches twice its native BV/TV (§L6: "apparent density up to ~2x native", C; at most 1),
//    until all the displaced bone is placed; the last voxel takes the remainder. Its thickness
//    then follows: for a sphere, doubling BV/TV puts the bone of radius R in the shell R..2^(1/3)R,
//    t = 0.26 R, 2.1 mm for a 3 mL balloon, inside §L6's 1-3 mm (C). Bone volume is conserved to
//    float rounding (the bookkeeping uses the stored float porosities).
// 4. Permeability. A rim voxel's k is scaled by law(phi_new) / law(phi_old) with the engine's
//    trabecular law (engine/bone/permeability.cpp, Kozeny–Carman form, PHYSICS.md §L3a), which
//    keeps a given anisotropy and equals the law itself where k came from the law. The cavity's k
//    is left to complete_bone: 1e3 x the bone's largest trabecular k (PHYSICS.md §M2).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "engine/grid/block_index.hpp"

namespace cementflow {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMm3PerMl = 1e3;  // 1 mL = 1 cm^3 = 1000 mm^3 (definition)
// Rim compaction cap: BV/TV up to twice the native value (PHYSICS.md §L6, compacted shell
// "apparent density up to ~2x native", confidence C), never above 1 (solid).
constexpr double kRimDensityRatio = 2.0;
// Bone still to place (voxel volumes) below which the rim is complete: float rounding of the stored
// porosities (ulp ~6e-8 near 0.8) leaves a remainder of that order.
constexpr double kFloatSlack = 1e-6;
// Interdigitation depth: the percentile of the cement volume outside the cavity (see header).
constexpr double kInterdigitationQuantile = 0.95;

std::string num(double x) {
  std::ostringstream o;
  o.precision(6);
  o << x;
  return o.str();
}
std::string vec(const std::array<double, 3>& v) {
  return "[" + num(v[0]) + ", " + num(v[1]) + ", " + num(v[2]) + "]";
}

const char* material_text(int m) {
  switch (m) {
    case 0:
      return "soft tissue (material 0)";
    case 1:
      return "trabecular bone";
    case 2:
      return "the cortical shell or an endplate (material 2)";
    case 3:
      return "a cavity (material 3)";
    case 4:
      return "a vein (material 4)";
    case 5:
      return "the disc (material 5)";
    case 6:
      return "the spinal canal (material 6)";
    case 7:
      return "the needle track";
    default:
      return "outside the bone model";
  }
}

/// What reaching material m means, for the error message.
std::string consequence(int m) {
  if (m == static_cast<int>(Material::Cortical)) return ": it would cut the cortex";
  if (m == static_cast<int>(Material::Cavity)) return ": it overlaps another balloon";
  return "";
}

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
std::array<double, 3> sub(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}

/// A balloon's axis segment (the capsule is every point within `radius` of it).
struct Capsule {
  std::array<double, 3> a{}, b{};  ///< segment ends, mm
  double radius = 0;               ///< mm
  double distance(const std::array<double, 3>& p) const {
    const auto ab = sub(b, a), ap = sub(p, a);
    const double len2 = dot(ab, ab);
    const double t = len2 > 0 ? std::clamp(dot(ap, ab) / len2, 0.0, 1.0) : 0.0;
    const std::array<double, 3> q{a[0] + t * ab[0], a[1] + t * ab[1], a[2] + t * ab[2]};
    const auto d = sub(p, q);
    return std::sqrt(dot(d, d));
  }
};

/// Shortest distance between segments p1-q1 and p2-q2 (Ericson, Real-Time Collision Detection,
/// 2005, §5.1.9).
double segment_distance(const Capsule& s1, const Capsule& s2) {
  const auto d1 = sub(s1.b, s1.a), d2 = sub(s2.b, s2.a), r = sub(s1.a, s2.a);
  const double a = dot(d1, d1), e = dot(d2, d2), f = dot(d2, r);
  constexpr double kTiny = 1e-12;
  double s = 0, t = 0;
  if (a <= kTiny && e <= kTiny) {
    s = t = 0;
  } else if (a <= kTiny) {
    t = std::clamp(f / e, 0.0, 1.0);
  } else {
    const double c = dot(d1, r);
    if (e <= kTiny) {
      s = std::clamp(-c / a, 0.0, 1.0);
    } else {
      const double bb = dot(d1, d2), denom = a * e - bb * bb;
      s = denom > kTiny ? std::clamp((bb * f - c * e) / denom, 0.0, 1.0) : 0.0;
      t = (bb * s + f) / e;
      if (t < 0) {
        t = 0;
        s = std::clamp(-c / a, 0.0, 1.0);
      } else if (t > 1) {
        t = 1;
        s = std::clamp((bb - c) / a, 0.0, 1.0);
      }
    }
  }
  const std::array<double, 3> c1{s1.a[0] + s * d1[0], s1.a[1] + s * d1[1], s1.a[2] + s * d1[2]};
  const std::array<double, 3> c2{s2.a[0] + t * d2[0], s2.a[1] + t * d2[1], s2.a[2] + t * d2[2]};
  const auto d = sub(c1, c2);
  return std::sqrt(dot(d, d));
}

/// Volume (mm^3) of a capsule of radius rho around a segment of length ell (mm).
double capsule_volume_mm3(double rho, double ell) {
  return kPi * rho * rho * ell + 4.0 / 3.0 * kPi * rho * rho * rho;
}

/// Radius whose capsule around a segment of length ell has volume v_mm3 (bisection: the volume
/// grows monotonically with the radius).
double radius_for_volume(double v_mm3, double ell) {
  double lo = 0, hi = std::cbrt(3 * v_mm3 / (4 * kPi));  // the sphere (ell = 0) bounds it
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (capsule_volume_mm3(mid, ell) < v_mm3 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double bone_volume_ml(const BoneBlocks& bone) {
  double s = 0;
  for (std::size_t i = 0; i < bone.num_voxels(); ++i)
    if (bone.material[i] != kInactive) s += 1.0 - static_cast<double>(bone.porosity[i]);
  const double h = bone.voxel_mm;
  return s * h * h * h / kMm3PerMl;
}

bool balloon_material(int m) {
  return m == static_cast<int>(Material::Trabecular) ||
         m == static_cast<int>(Material::NeedleTrack);
}

}  // namespace

double balloon_max_volume_ml(double length_mm) {
  return kPi * length_mm * length_mm * length_mm / 6.0 / kMm3PerMl;
}

double balloon_radius_mm(double length_mm, double volume_ml) {
  if (!(std::isfinite(length_mm) && length_mm > 0 && std::isfinite(volume_ml) && volume_ml > 0))
    return 0;
  if (volume_ml > balloon_max_volume_ml(length_mm)) return 0;
  // V(r) = pi r^2 L - 2/3 pi r^3 grows on [0, L/2] (dV/dr = 2 pi r (L - r) > 0): bisection.
  const double v = volume_ml * kMm3PerMl;
  double lo = 0, hi = length_mm / 2;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * length_mm; ++it) {
    const double mid = 0.5 * (lo + hi);
    const double vm = kPi * mid * mid * length_mm - 2.0 / 3.0 * kPi * mid * mid * mid;
    (vm < v ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double catalogue_balloon_length_mm(double nominal_length_mm, double volume_ml) {
  if (!(std::isfinite(nominal_length_mm) && nominal_length_mm > 0 && std::isfinite(volume_ml) &&
        volume_ml > 0))
    return 0;
  // V(r) = pi r^2 L_n + 4/3 pi r^3 grows with r: bisection on [0, the sphere's radius].
  const double v = volume_ml * kMm3PerMl;
  double lo = 0, hi = std::cbrt(3 * v / (4 * kPi));
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (kPi * mid * mid * nominal_length_mm + 4.0 / 3.0 * kPi * mid * mid * mid < v ? lo : hi) = mid;
  }
  return nominal_length_mm + (lo + hi);
}

KyphoplastyStats carve_balloons(BoneBlocks& bone, const std::vector<Balloon>& balloons,
                                const std::string& file, const std::vector<std::string>& keys) {
  auto key_of = [&keys](std::size_t i) {
    return i < keys.size() ? keys[i] : "injection.balloons[" + std::to_string(i) + "]";
  };
  const double h = bone.voxel_mm;
  const double vox_mm3 = h * h * h;
  KyphoplastyStats stats;
  stats.bone_volume_before_ml = bone_volume_ml(bone);
  if (balloons.empty()) {
    stats.bone_volume_after_ml = stats.bone_volume_before_ml;
    return stats;
  }
  const bool has_k = bone.permeability.size() == 3 * bone.num_voxels();
  const bool has_route = bone.route.size() == bone.num_voxels();

  double trabecular_ml = 0;
  for (std::int32_t m : bone.material)
    if (balloon_material(m)) trabecular_ml += vox_mm3 / kMm3PerMl;

  // --- shapes, and the checks that need no voxels -------------------------------------------
  std::vector<Capsule> caps;
  for (std::size_t i = 0; i < balloons.size(); ++i) {
    const Balloon& bl = balloons[i];
    const std::string k = key_of(i);
    double n2 = dot(bl.axis, bl.axis);
    if (!(std::isfinite(n2) && n2 > 0))
      throw InputError(file, k + ".axis", vec(bl.axis), "a non-zero direction vector [x, y, z]");
    for (double c : bl.center_mm)
      if (!std::isfinite(c))
        throw InputError(file, k + ".center_mm", vec(bl.center_mm), "a point [x, y, z] in mm");
    if (!(std::isfinite(bl.length_mm) && bl.length_mm > 0))
      throw InputError(file, k + ".length_mm", num(bl.length_mm), "a positive length in mm");
    if (!(std::isfinite(bl.volume_ml) && bl.volume_ml > 0))
      throw InputError(file, k + ".volume_ml", num(bl.volume_ml), "a positive volume in mL");
    if (bl.volume_ml > balloon_max_volume_ml(bl.length_mm))
      throw InputError(file, k + ".volume_ml", num(bl.volume_ml),
                       "at most pi L^3 / 6 = " + num(balloon_max_volume_ml(bl.length_mm)) +
                           " mL, the sphere a balloon of length_mm " + num(bl.length_mm) +
                           " can reach");
    if (bl.volume_ml * kMm3PerMl < 0.5 * vox_mm3)
      throw InputError(file, k + ".volume_ml", num(bl.volume_ml),
                       "at least half a voxel (" + num(0.5 * vox_mm3 / kMm3PerMl) +
                           " mL at voxel_mm " + num(h) + ")");
    if (bl.volume_ml > trabecular_ml)
      throw InputError(
          file, k + ".volume_ml", num(bl.volume_ml),
          "at most the trabecular volume of the bone model (" + num(trabecular_ml) + " mL)");
    const double r = balloon_radius_mm(bl.length_mm, bl.volume_ml);
    const double half = 0.5 * bl.length_mm - r;
    const double n = std::sqrt(n2);
    Capsule c;
    c.radius = r;
    for (int a = 0; a < 3; ++a) {
      c.a[static_cast<std::size_t>(a)] = bl.center_mm[static_cast<std::size_t>(a)] -
                                         half * bl.axis[static_cast<std::size_t>(a)] / n;
      c.b[static_cast<std::size_t>(a)] = bl.center_mm[static_cast<std::size_t>(a)] +
                                         half * bl.axis[static_cast<std::size_t>(a)] / n;
    }
    for (std::size_t j = 0; j < i; ++j) {
      const double d = segment_distance(c, caps[j]);
      if (d < c.radius + caps[j].radius)
        throw InputError(file, k, "centre " + vec(bl.center_mm) + ", radius " + num(r) + " mm",
                         "a balloon that does not overlap " + key_of(j) + " (axis distance " +
                             num(d) + " mm < radii " + num(c.radius) + " + " + num(caps[j].radius) +
                             " mm)");
    }
    caps.push_back(c);
  }

  // --- every balloon inside the model's bounding box, before any voxel is visited (issue 17: a
  // balloon of length_mm 1e9 visited ~1e12 candidate voxels for 1.4 h before its error) --------
  if (bone.num_blocks() > 0) {
    std::array<double, 3> blo{}, bhi{};
    for (std::size_t a = 0; a < 3; ++a) {
      int mn = bone.block_origin[0][a], mx = mn;
      for (const auto& o : bone.block_origin) {
        mn = std::min(mn, o[a]);
        mx = std::max(mx, o[a]);
      }
      blo[a] = bone.origin_mm[a] + (mn - 1.5) * h;  // a voxel of slack beyond the blocks
      bhi[a] = bone.origin_mm[a] + (mx + BoneBlocks::kBlockDim + 0.5) * h;
    }
    for (std::size_t i = 0; i < caps.size(); ++i) {
      const Capsule& c = caps[i];
      for (std::size_t a = 0; a < 3; ++a)
        if (!(std::min(c.a[a], c.b[a]) - c.radius >= blo[a] &&
              std::max(c.a[a], c.b[a]) + c.radius <= bhi[a]))
          throw InputError(file, key_of(i),
                           "centre " + vec(balloons[i].center_mm) + ", length_mm " +
                               num(balloons[i].length_mm) + ", radius " + num(c.radius) +
                               " mm, reaching outside the bone model (" + vec(blo) + " to " +
                               vec(bhi) + " mm)",
                           "a balloon inside trabecular bone (move it or make it smaller)");
    }
  }

  // --- cavities ---------------------------------------------------------------------------------
  const detail::BlockIndex index(bone);
  std::vector<float> native = bone.porosity;  // closed vein voxels get their new one below
  std::vector<std::vector<long long>> cavity(balloons.size());
  std::vector<double> displaced_bv(balloons.size(), 0.0);  // in voxel volumes
  std::vector<char> carved(bone.num_voxels(), 0);          // cavity made by this call
  std::vector<long long> compressed;                       // vein voxels a balloon took in
  for (std::size_t i = 0; i < balloons.size(); ++i) {
    const Capsule& c = caps[i];
    const auto n_want =
        static_cast<std::size_t>(std::llround(balloons[i].volume_ml * kMm3PerMl / vox_mm3));
    // Every index within r + 2h of the segment (so the round(V/h^3) nearest are among them).
    const double reach = c.radius + 2 * h;
    std::array<int, 3> lo{}, hi{};
    for (std::size_t a = 0; a < 3; ++a) {
      lo[a] =
          static_cast<int>(std::floor((std::min(c.a[a], c.b[a]) - reach - bone.origin_mm[a]) / h));
      hi[a] =
          static_cast<int>(std::ceil((std::max(c.a[a], c.b[a]) + reach - bone.origin_mm[a]) / h));
    }
    struct Cand {
      double d;
      std::array<int, 3> c;
    };
    std::vector<Cand> cand;
    for (int z = lo[2]; z <= hi[2]; ++z)
      for (int y = lo[1]; y <= hi[1]; ++y)
        for (int x = lo[0]; x <= hi[0]; ++x) {
          const std::array<int, 3> ijk{x, y, z};
          const double d = c.distance(index.position(ijk));
          if (d <= reach) cand.push_back({d, ijk});
        }
    std::sort(cand.begin(), cand.end(), [](const Cand& p, const Cand& q) {
      return p.d != q.d ? p.d < q.d : p.c < q.c;  // ties: by index, so the shape is reproducible
    });
    cand.resize(std::min(cand.size(), n_want));
    for (const Cand& cd : cand) {
      const long long v = index.voxel(cd.c[0], cd.c[1], cd.c[2]);
      const int m = v >= 0 ? bone.material[static_cast<std::size_t>(v)] : kInactive;
      // A cavity the bone already had (a fracture cleft) may lie in the balloon: it stays cavity,
      // with no bone to displace. One carved here by another balloon is an overlap.
      const bool cleft = m == static_cast<int>(Material::Cavity) && !carved[static_cast<size_t>(v)];
      // An intraosseous vein in the balloon's way is compressed, not an obstacle (issue 15): its
      // lumen inside the balloon becomes cavity (no bone to displace), and it is closed where it
      // meets the cavity's wall (below).
      const bool vein = m == static_cast<int>(Material::Vein);
      if (vein) compressed.push_back(v);
      if (!balloon_material(m) && !cleft && !vein)
        throw InputError(file, key_of(i),
                         "centre " + vec(balloons[i].center_mm) + ", radius " + num(c.radius) +
                             " mm, reaches " + material_text(m) + " at " +
                             vec(index.position(cd.c)) + " mm" + consequence(m),
                         "a balloon inside trabecular bone (move it or make it smaller)");
      const auto u = static_cast<std::size_t>(v);
      displaced_bv[i] += 1.0 - static_cast<double>(bone.porosity[u]);
      bone.material[u] = static_cast<std::int32_t>(Material::Cavity);
      bone.porosity[u] = 1.0f;
      if (has_k)
        for (std::size_t a = 0; a < 3; ++a) bone.permeability[3 * u + a] = 0.0f;
      if (has_route) bone.route[u] = static_cast<std::int32_t>(LeakRoute::None);
      carved[u] = 1;
      cavity[i].push_back(v);
    }
  }

  // --- compressed veins ------------------------------------------------------------------------
  // The vein's lumen is pressed shut against the cavity wall: each vein voxel that touches a
  // carved cavity voxel becomes trabecular bone with the mean native porosity of its trabecular
  // neighbours (the collapsed lumen takes on the surrounding marrow space; 0.9 if it has none)
  // and the law's permeability, so the rim below compacts it like the rest and the cavity no
  // longer opens into the vein; the vein beyond it still drains.
  if (!compressed.empty()) {
    std::vector<long long> close;
    for (std::size_t v = 0; v < bone.num_voxels(); ++v) {
      if (bone.material[v] != static_cast<int>(Material::Vein)) continue;
      for (long long w : index.neighbours(static_cast<long long>(v)))
        if (w >= 0 && carved[static_cast<std::size_t>(w)]) {
          close.push_back(static_cast<long long>(v));
          break;
        }
    }
    for (long long v : close) {
      double sum = 0;
      int count = 0;
      for (long long w : index.neighbours(v))
        if (w >= 0 &&
            bone.material[static_cast<std::size_t>(w)] == static_cast<int>(Material::Trabecular)) {
          sum += static_cast<double>(native[static_cast<std::size_t>(w)]);
          ++count;
        }
      const double phi = count > 0 ? sum / count : 0.9;
      const auto u = static_cast<std::size_t>(v);
      bone.material[u] = static_cast<std::int32_t>(Material::Trabecular);
      bone.porosity[u] = static_cast<float>(phi);
      native[u] = bone.porosity[u];
      if (has_k) {
        const auto k = trabecular_permeability(phi);
        for (std::size_t a = 0; a < 3; ++a) bone.permeability[3 * u + a] = static_cast<float>(k[a]);
      }
      if (has_route) bone.route[u] = static_cast<std::int32_t>(LeakRoute::None);
    }
  }
  // --- rims: the displaced bone, nearest first ----------------------------------------------
  std::vector<char> seen(bone.num_voxels(), 0);
  for (std::size_t i = 0; i < balloons.size(); ++i) {
    const Capsule& c = caps[i];
    BalloonStats st;
    st.balloon_volume_ml = balloons[i].volume_ml;
    st.radius_mm = c.radius;
    st.cavity_voxels = static_cast<long long>(cavity[i].size());
    st.cavity_volume_ml = static_cast<double>(cavity[i].size()) * vox_mm3 / kMm3PerMl;
    st.displaced_bone_volume_ml = displaced_bv[i] * vox_mm3 / kMm3PerMl;

    using Item = std::pair<double, long long>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> front;
    std::fill(seen.begin(), seen.end(), 0);
    auto push_neighbours = [&](long long v) {
      for (long long w : index.neighbours(v)) {
        if (w < 0 || seen[static_cast<std::size_t>(w)]) continue;
        if (bone.material[static_cast<std::size_t>(w)] != static_cast<int>(Material::Trabecular))
          continue;
        seen[static_cast<std::size_t>(w)] = 1;
        front.push({c.distance(index.center(w)), w});
      }
    };
    for (long long v : cavity[i]) seen[static_cast<std::size_t>(v)] = 1;
    for (long long v : cavity[i]) push_neighbours(v);

    double remaining = displaced_bv[i];  // voxel volumes of bone still to place
    double rim_bv = 0, rim_native = 0;
    while (remaining > kFloatSlack && !front.empty()) {
      const long long v = front.top().second;
      front.pop();
      push_neighbours(v);
      const auto u = static_cast<std::size_t>(v);
      const float phi_old = bone.porosity[u];
      const double b_old = 1.0 - static_cast<double>(phi_old);
      const double cap = std::min(1.0, kRimDensityRatio * (1.0 - static_cast<double>(native[u])));
      const double room = cap - b_old;
      if (room <= 0) continue;
      const bool last = room >= remaining;
      const double add = last ? remaining : room;
      const auto phi_new = static_cast<float>(std::max(0.0, 1.0 - (b_old + add)));
      if (phi_new >= phi_old) continue;  // less than a float step of room left
      // Book what the float storage really moved, so that the total is conserved.
      remaining -= static_cast<double>(phi_old) - static_cast<double>(phi_new);
      bone.porosity[u] = phi_new;
      if (has_k) {
        const double k_old = trabecular_permeability(phi_old)[2];
        const double ratio = k_old > 0 ? trabecular_permeability(phi_new)[2] / k_old : 0.0;
        for (std::size_t a = 0; a < 3; ++a)
          bone.permeability[3 * u + a] =
              static_cast<float>(static_cast<double>(bone.permeability[3 * u + a]) * ratio);
      }
      ++st.rim_voxels;
      rim_bv += 1.0 - static_cast<double>(phi_new);
      rim_native += 1.0 - static_cast<double>(native[u]);
      if (last) break;
    }
    // Anything more than float rounding left means the trabecular bone around the cavity is full.
    if (remaining > kFloatSlack)
      throw InputError(file, key_of(i) + ".volume_ml", num(balloons[i].volume_ml),
                       "a smaller balloon: the trabecular bone connected to its cavity cannot take "
                       "the displaced bone (" +
                           num(remaining * vox_mm3 / kMm3PerMl) + " mL of " +
                           num(st.displaced_bone_volume_ml) +
                           " mL left over at twice native BV/TV)");
    st.rim_volume_ml = static_cast<double>(st.rim_voxels) * vox_mm3 / kMm3PerMl;
    if (st.rim_voxels > 0) {
      st.rim_bv_tv = rim_bv / static_cast<double>(st.rim_voxels);
      st.native_bv_tv = rim_native / static_cast<double>(st.rim_voxels);
    }
    // Equivalent uniform thickness: the capsule around the same axis segment that holds the
    // cavity's volume has radius r_c; the one that holds cavity + rim has r_o; t = r_o - r_c.
    const auto ab = sub(c.b, c.a);
    const double ell = std::sqrt(dot(ab, ab));
    const double v_cav = st.cavity_volume_ml * kMm3PerMl;
    const double v_rim = st.rim_volume_ml * kMm3PerMl;
    st.rim_thickness_mm =
        v_rim > 0 ? radius_for_volume(v_cav + v_rim, ell) - radius_for_volume(v_cav, ell) : 0.0;
    stats.balloons.push_back(st);
  }

  complete_bone(bone);  // the cavity's permeability (and anything else still empty)
  stats.bone_volume_after_ml = bone_volume_ml(bone);
  return stats;
}

CavityFill measure_cavity_fill(const BoneBlocks& bone, const std::vector<float>& cement_fraction) {
  CavityFill out;
  const std::size_t nv = bone.num_voxels();
  if (cement_fraction.size() != nv) return out;
  const double h = bone.voxel_mm;
  const double vox_mm3 = h * h * h;
  const detail::BlockIndex index(bone);
  const auto cavity = static_cast<std::int32_t>(Material::Cavity);

  double cav_pore = 0, cav_cement = 0;
  std::vector<std::array<double, 3>> surface;  // centres of cavity voxels on the cavity's surface
  for (std::size_t u = 0; u < nv; ++u) {
    if (bone.material[u] != cavity) continue;
    out.has_cavity = true;
    const double pore = static_cast<double>(bone.porosity[u]) * vox_mm3;
    cav_pore += pore;
    cav_cement += static_cast<double>(cement_fraction[u]) * pore;
    for (long long w : index.neighbours(static_cast<long long>(u)))
      if (w < 0 || bone.material[static_cast<std::size_t>(w)] != cavity) {
        surface.push_back(index.center(static_cast<long long>(u)));
        break;
      }
  }
  if (!out.has_cavity) return out;
  out.cavity_volume_ml = cav_pore / kMm3PerMl;
  out.cavity_fill_fraction = cav_pore > 0 ? cav_cement / cav_pore : 0.0;

  // Cement in bone outside the cavity: distance from the cavity surface, weighted percentile.
  std::vector<std::pair<double, double>> dw;  // (distance mm, cement mm^3)
  double total = 0;
  for (std::size_t u = 0; u < nv; ++u) {
    const int m = bone.material[u];
    if (m == kInactive || m == cavity || is_leak_destination(m)) continue;
    const double w =
        static_cast<double>(cement_fraction[u]) * static_cast<double>(bone.porosity[u]) * vox_mm3;
    if (!(w > 0)) continue;
    const auto x = index.center(static_cast<long long>(u));
    double d2 = std::numeric_limits<double>::infinity();
    for (const auto& s : surface) {
      const auto d = sub(x, s);
      d2 = std::min(d2, dot(d, d));
    }
    dw.emplace_back(std::sqrt(d2) - 0.5 * h, w);
    total += w;
  }
  out.cement_outside_cavity_ml = total / kMm3PerMl;
  if (dw.empty()) return out;
  std::sort(dw.begin(), dw.end());
  double acc = 0;
  for (const auto& [d, w] : dw) {
    acc += w;
    if (acc >= kInterdigitationQuantile * total) {
      out.interdigitation_depth_mm = d;
      break;
    }
  }
  if (acc < kInterdigitationQuantile * total) out.interdigitation_depth_mm = dw.back().first;
  return out;
}

}  // namespace cementflow

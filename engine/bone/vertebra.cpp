// The lumbar vertebra generator (SPEC.md §1 `generate vertebra`, §2 conventions): a vertebral body
// with a cortical shell and thicker endplates, a trabecular BV/TV field with regional and random
// variation, the basivertebral venous plexus draining through the basivertebral foramen into the
// anterior epidural veins, segmental veins through the anterolateral cortex, pedicles, the spinal
// canal, a slab of disc above and below and a soft-tissue layer around it all. Variants: a wedge
// fracture (anterior height loss, densified band, anterior cortical breach) and an intravertebral
// cleft (cavity with a sclerotic rim, open to the disc through an endplate crack).
//
// Axes are patient RAS+ in mm (x right, y anterior, z superior). The shape is built in a
// generator frame with the body's mid-height cross-section centred on the origin; the voxel grid
// is then shifted so that the centroid of the body's voxels is exactly (0, 0, 0) (SPEC.md §2).
//
// Numbers and where they come from (confidence codes of PHYSICS.md: A abstract-verified, B
// textbook, C estimate / anatomical texts, not verified here):
// - body 45–50 mm wide (x), 33–35 mm deep (y), 25–28 mm high (z); the seed draws each uniformly in
//   these ranges (PHYSICS.md §L3b, lumbar, C); volume 25–40 cm^3 (same row) is checked by a test.
// - concave waist: the cross-section at mid-height is 6 % smaller than at the endplates (lumbar
//   bodies are waisted, anatomical texts, C); endplates 1 mm concave at the centre (C).
// - kidney-shaped cross-section: elliptical anteriorly, flatter (superellipse exponent 3)
//   posteriorly, with the posterior wall 2.5 mm concave at the midline toward the canal (C).
// - cortical shell 0.5 mm (vertebral shell ~0.2–0.5 mm, Silva et al., Bone 1994;15:409, C) and
//   endplates 0.8 mm (thicker than the shell, ~0.5–1 mm, C), in whole voxel layers, at least one.
// - trabecular BV/TV: osteoporotic mean 0.09 (Kinzl et al. 2012: 0.057–0.138 in augmented bodies,
//   A; Hildebrand 1999 / Thomsen 2013 elderly lumbar 0.07–0.12, C); healthy mean 0.15 (BV/TV falls
//   with age, Thomsen et al., Bone 2013;57:47, A as a trend; young-adult value C). Regional
//   variation: +25 % next to the endplates (decaying over 3 mm), posterior +10 % / anterior −10 %
//   (denser posterior and subchondral bone, C), times a log-normal random field with sigma 0.18
//   and correlation length 4 mm (mm-scale heterogeneity of vertebral cancellous bone, C); the
//   field is rescaled so the trabecular mean equals the target, then clamped to [0.03, 0.40].
// - permeability: the engine's law (engine/bone/permeability.cpp, PHYSICS.md §L3a), which makes the
//   superior–inferior permeability the largest (k_AP / k_SI = 0.773, Baroud et al. 2004, A).
// - basivertebral foramen at mid-height of the posterior wall on the midline; the basivertebral
//   vein 2 mm across at the foramen, branching (1.2 mm branches, C) at the end of its bony canal,
//   17 % of the body's depth in front of the posterior wall: the basivertebral canal reaches
//   12–21.8 % of the vertebral body's antero-posterior diameter (Tzika, Paraskevas, Piagkou et al.,
//   Surg Radiol Anat 2021;43:889, 1561 dried vertebrae and CT of 10 spines; abstract, A), the
//   midpoint taken; the branches stay at that depth, left/right and up/down (until session 6 the
//   canal reached 40 % and its branches 5 mm further, C: twice the measured depth); it drains into
//   two longitudinal anterior internal vertebral (epidural) veins 2 mm across, 4 mm either side of
//   the midline, which run the model's height (C).
// - segmental veins 1.2 mm across, four at mid-height through the anterolateral and lateral
//   cortex (azimuth ±35° and ±80° from anterior), starting 3 mm inside the wall (C).
// - pedicles 9 mm wide × 14 mm high, 14 mm long, converging 15° toward anterior, their medial
//   walls bounding the canal; centred 2 mm above mid-height (Zindrick et al., Spine 1987;12:160,
//   lumbar pedicle dimensions and angles, C).
// - spinal canal 22 mm wide × 16 mm deep (lumbar canal, anatomical texts, C), touching the
//   posterior wall, through the model's whole height.
// - discs: a 3 mm slab above and below with the endplate's outline (the real disc is ~10 mm; the
//   slab is what a leak needs: a destination with an outer boundary; modelling choice, C).
// - soft tissue: a 2 mm layer around everything (sink at venous pressure; modelling choice, C).
// - porosity of non-trabecular tissue: cortical 0.10 (Haversian porosity, Cowin 1999, C); disc
//   0.80 (water content of the nucleus ~80 %, C); canal and soft tissue 0.90 (as the box phantom);
//   veins and cavities 1 (open channels).
// - wedge fracture: 30 % anterior height loss (Genant semi-quantitative grade 2 is 25–40 %,
//   Genant et al., JBMR 1993;8:1137, B), a 4 mm band under the collapsed endplate with BV/TV
//   x 1.8 (compacted trabeculae, up to ~2x native: PHYSICS.md §L6, C) and a 2.5 mm-radius breach of
//   the anterior cortex at its upper corner (cortical disruption, PHYSICS.md §L5a).
// - cleft: an ellipsoidal cavity 18 × 12 × 5 mm in the upper anterior-central body with a 1.5 mm
//   sclerotic rim (BV/TV x 1.8, C), open to the upper disc through a 3 mm endplate crack
//   (intravertebral clefts shift leaks toward cortical and discal routes, PHYSICS.md §L5b).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/limits.hpp"
#include "engine/bone/model_limits.hpp"

namespace cementflow {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Dimension ranges (PHYSICS.md §L3b, C).
constexpr double kWidthMin = 45, kWidthMax = 50;
constexpr double kDepthMin = 33, kDepthMax = 35;
constexpr double kHeightMin = 25, kHeightMax = 28;
constexpr double kWaist = 0.06;              // mid-height shrink of the cross-section (C)
constexpr double kEndplateConcavity = 1.0;   // mm (C)
constexpr double kPosteriorConcavity = 2.5;  // mm (C)
constexpr double kPosteriorExponent = 3.0;   // superellipse exponent of the posterior half (C)
constexpr double kShellMm = 0.5;             // Silva et al. 1994 (C)
constexpr double kEndplateMm = 0.8;          // C
constexpr double kDiscMm = 3.0;              // slab of disc kept (modelling choice)
constexpr double kSoftTissueMm = 2.0;        // sink layer (modelling choice)

// Trabecular BV/TV (see the header).
constexpr double kBvtvOsteoporotic = 0.09;
constexpr double kBvtvHealthy = 0.15;
constexpr double kEndplateBoost = 0.25, kEndplateDecayMm = 3.0;
constexpr double kApGradient = 0.10;
constexpr double kFieldSigma = 0.18, kFieldLengthMm = 4.0;
constexpr int kFieldModes = 48;
constexpr double kBvtvMin = 0.03, kBvtvMax = 0.40;

// Porosity of the other tissues (see the header).
constexpr float kPorosityCortical = 0.10f;
constexpr float kPorosityDisc = 0.80f;
constexpr float kPorositySoft = 0.90f;
constexpr float kPorosityCanal = 0.90f;

// Veins, pedicles, canal (see the header).
constexpr double kBasivertebralDiameter = 2.0, kBranchDiameter = 1.2;
constexpr double kBasivertebralCanalDepth = 0.17;  // of the AP depth (Tzika et al. 2021: 12–21.8 %)
constexpr double kEpiduralDiameter = 2.0, kEpiduralOffset = 4.0;
constexpr double kSegmentalDiameter = 1.2, kSegmentalDepth = 3.0;
constexpr double kPedicleWidth = 9.0, kPedicleHeight = 14.0, kPedicleLength = 14.0;
constexpr double kPedicleAngleDeg = 15.0, kPedicleZ = 2.0;
constexpr double kCanalWidth = 22.0, kCanalDepth = 16.0;

// Fractures (see the header).
constexpr double kWedgeLoss = 0.30;
constexpr double kDensify = 1.8;
constexpr double kWedgeBandMm = 4.0;
constexpr double kBreachRadius = 2.5;
constexpr std::array<double, 3> kCleftSemiAxes{9.0, 6.0, 2.5};
constexpr double kCleftRimMm = 1.5, kCrackRadius = 1.5;

// Model size limit: the box phantom's (engine/bone/model_limits.hpp).
using detail::kMaxModelVoxels;
// Peak memory of generate_vertebra per voxel of its dense grid: the working classes, masks, depth
// maps and BV/TV field, then the blocks. Measured: `generate vertebra --voxel-mm 0.25` peaks at
// 293 MB RSS for 6.27e6 voxels, 38 bytes a voxel above the process's 54 MB; 72 is an upper bound.
constexpr double kGenerationBytesPerVoxel = 72;
// Coarsest voxel that still leaves the body ~12 voxels high and its veins resolvable.
constexpr double kMaxVoxelMm = 2.0;

// Dense working classes, before material codes.
enum Cls : std::uint8_t {
  kNone = 0,
  kTrab,
  kCort,
  kCavity,
  kVeinBv,   // basivertebral plexus
  kVeinSeg,  // segmental vein
  kDisc,
  kCanal,
  kSoft
};

std::string num(double x) {
  std::ostringstream s;
  s.precision(6);
  s << x;
  return s.str();
}

/// Deterministic uniform [0, 1) from a 64-bit state (SplitMix64; portable, unlike the
/// distributions of <random>).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {  // Box–Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
};

/// The analytic shape in the generator frame.
struct Shape {
  double W = 47, D = 34, H = 26.5;
  VertebraParams::Fracture fracture = VertebraParams::Fracture::None;

  double waist(double z) const {
    const double u = std::clamp(2 * z / H, -1.0, 1.0);
    return 1 - kWaist * (1 - u * u);
  }
  /// Normalised radius of (x, y) in the cross-section scaled by s (<= 1 inside).
  double radius(double x, double y, double s) const {
    const double a = s * W / 2, b = s * D / 2;
    const double xa = std::abs(x) / a;
    if (y >= 0) return std::sqrt(xa * xa + (y / b) * (y / b));
    // Posterior half: superellipse, with the midline concavity moving the wall forward.
    const double conc =
        kPosteriorConcavity * std::max(0.0, 1 - (x / (0.45 * W)) * (x / (0.45 * W)));
    const double yb = -y / (b - conc);
    return std::pow(std::pow(xa, kPosteriorExponent) + std::pow(yb, kPosteriorExponent),
                    1 / kPosteriorExponent);
  }
  /// Height loss of the superior endplate at depth y (wedge: 0 at the posterior wall).
  double top_loss(double y) const {
    if (fracture != VertebraParams::Fracture::Wedge) return 0;
    return kWedgeLoss * H * std::clamp((y + D / 2) / D, 0.0, 1.0);
  }
  double z_top(double x, double y) const {
    const double r = radius(x, y, 1.0);
    return H / 2 - kEndplateConcavity * std::max(0.0, 1 - r * r) - top_loss(y);
  }
  double z_bottom(double x, double y) const {
    const double r = radius(x, y, 1.0);
    return -H / 2 + kEndplateConcavity * std::max(0.0, 1 - r * r);
  }
  bool in_body(double x, double y, double z) const {
    if (z > z_top(x, y) || z < z_bottom(x, y)) return false;
    return radius(x, y, waist(z)) <= 1;
  }
  /// Disc slab: the endplate's outline, between the body and the model's top/bottom.
  bool in_disc(double x, double y, double z) const {
    if (radius(x, y, 1.0) > 1) return false;
    return z > z_top(x, y) || z < z_bottom(x, y);
  }
  double posterior_wall_y() const { return -D / 2 + kPosteriorConcavity; }  // midline, endplate
  bool in_canal(double x, double y) const {
    const double yc = posterior_wall_y() - kCanalDepth / 2;
    const double u = x / (kCanalWidth / 2), v = (y - yc) / (kCanalDepth / 2);
    return u * u + v * v <= 1;
  }
  /// Pedicle `side` (-1 left, +1 right): elliptical cylinder from inside the posterior wall
  /// posteriorly and laterally.
  bool in_pedicle(double x, double y, double z, int side) const {
    const double th = kPedicleAngleDeg * kPi / 180;
    const double bx = side * (kCanalWidth / 2 + kPedicleWidth / 2), by = -D / 2 + 4.0;
    const double dx = side * std::sin(th), dy = -std::cos(th);  // axis toward posterior
    const double rx = x - bx, ry = y - by;
    const double t = rx * dx + ry * dy;
    if (t < 0 || t > kPedicleLength + 4.0) return false;
    const double px = rx - t * dx, py = ry - t * dy;
    const double lat = std::sqrt(px * px + py * py) / (kPedicleWidth / 2);
    const double ver = (z - kPedicleZ) / (kPedicleHeight / 2);
    return lat * lat + ver * ver <= 1;
  }
  bool in_cleft(double x, double y, double z, double grow) const {
    const std::array<double, 3> c{0, 3, H / 2 - 5};
    const double u = (x - c[0]) / (kCleftSemiAxes[0] + grow),
                 v = (y - c[1]) / (kCleftSemiAxes[1] + grow),
                 w = (z - c[2]) / (kCleftSemiAxes[2] + grow);
    return u * u + v * v + w * w <= 1;
  }
};

Shape shape_of(const VertebraParams& p) {
  Rng r{p.seed * 0x2545F4914F6CDD1DULL + 1};
  Shape s;
  s.W = kWidthMin + (kWidthMax - kWidthMin) * r.uniform();
  s.D = kDepthMin + (kDepthMax - kDepthMin) * r.uniform();
  s.H = kHeightMin + (kHeightMax - kHeightMin) * r.uniform();
  s.fracture = p.fracture;
  return s;
}

/// The dense working grid.
struct Grid {
  double h = 0;
  std::array<double, 3> lo{};  // generator-frame centre of voxel (0,0,0)
  std::array<int, 3> n{};
  std::vector<std::uint8_t> cls;
  std::vector<std::uint8_t> body;  // 1 inside the vertebral body (for the centroid)
  std::size_t idx(int i, int j, int k) const {
    return static_cast<std::size_t>(i) +
           static_cast<std::size_t>(n[0]) *
               (static_cast<std::size_t>(j) + static_cast<std::size_t>(n[1]) * k);
  }
  std::array<double, 3> at(int i, int j, int k) const {
    return {lo[0] + h * i, lo[1] + h * j, lo[2] + h * k};
  }
  bool inside(int i, int j, int k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < n[0] && j < n[1] && k < n[2];
  }
};

/// Model extent in the generator frame.
void extent(const Shape& s, std::array<double, 3>& lo, std::array<double, 3>& hi) {
  const double th = kPedicleAngleDeg * kPi / 180;
  const double ped_back = -s.D / 2 + 4.0 - (kPedicleLength + 4.0) * std::cos(th);
  const double canal_back = s.posterior_wall_y() - kCanalDepth;
  const double ped_side = kCanalWidth / 2 + kPedicleWidth + (kPedicleLength + 4.0) * std::sin(th);
  lo = {-std::max(s.W / 2, ped_side) - kSoftTissueMm,
        std::min(ped_back, canal_back) - kSoftTissueMm, -s.H / 2 - kDiscMm};
  hi = {-lo[0], s.D / 2 + kSoftTissueMm, s.H / 2 + kDiscMm};
}

std::array<int, 3> grid_dims(const Shape& s, double h, double* total) {
  std::array<double, 3> lo{}, hi{};
  extent(s, lo, hi);
  std::array<int, 3> n{};
  double t = 1;
  for (int a = 0; a < 3; ++a) {
    const double na = std::floor((hi[a] - lo[a]) / h) + 1;
    t *= na;
    n[a] = static_cast<int>(std::min(na, 1e9));
  }
  if (total) *total = t;
  return n;
}

/// Distance in voxels (1 = the outermost layer) from each `mask` voxel to the nearest non-mask
/// voxel along axis a, in either direction; 0 outside the mask.
std::vector<int> axis_depth(const Grid& g, const std::vector<std::uint8_t>& mask, int a) {
  std::vector<int> d(mask.size(), 0);
  std::array<int, 3> c{};
  const int len = g.n[a];
  const int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
  std::vector<int> fwd(static_cast<std::size_t>(len));
  for (c[b2] = 0; c[b2] < g.n[b2]; ++c[b2])
    for (c[b1] = 0; c[b1] < g.n[b1]; ++c[b1]) {
      int run = 0;
      for (c[a] = 0; c[a] < len; ++c[a]) {
        run = mask[g.idx(c[0], c[1], c[2])] ? run + 1 : 0;
        fwd[static_cast<std::size_t>(c[a])] = run;
      }
      run = 0;
      for (c[a] = len - 1; c[a] >= 0; --c[a]) {
        const std::size_t i = g.idx(c[0], c[1], c[2]);
        run = mask[i] ? run + 1 : 0;
        d[i] = std::min(run, fwd[static_cast<std::size_t>(c[a])]);
      }
    }
  return d;
}

/// Marks with `cls` the active voxels of a vein from p0 to p1 of diameter `dia`: the cylinder
/// plus the face-connected chain of voxels along its centre line (so a vein thinner than a voxel
/// is still connected). With `to_edge`, the centre line goes on past p1 until it leaves the
/// model, so the vein reaches the outer boundary.
void draw_vein(Grid& g, std::array<double, 3> p0, std::array<double, 3> p1, double dia,
               std::uint8_t cls, bool to_edge) {
  std::array<double, 3> dir{};
  double len = 0;
  for (int a = 0; a < 3; ++a) {
    dir[a] = p1[a] - p0[a];
    len += dir[a] * dir[a];
  }
  len = std::sqrt(len);
  for (double& x : dir) x /= len;
  const double r = dia / 2;
  auto mark = [&](int i, int j, int k) {
    if (!g.inside(i, j, k)) return false;
    std::uint8_t& c = g.cls[g.idx(i, j, k)];
    if (c == kNone) return false;
    if (c == kCavity) return true;  // a vein does not run through a cleft
    if (c != kVeinBv) c = cls;      // the basivertebral plexus keeps its route where veins cross
    return true;
  };
  auto voxel_of = [&](const std::array<double, 3>& p) {
    std::array<int, 3> c{};
    for (int a = 0; a < 3; ++a) c[a] = static_cast<int>(std::floor((p[a] - g.lo[a]) / g.h + 0.5));
    return c;
  };
  // Cylinder between p0 and p1.
  std::array<int, 3> lo{}, hi{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::max(0, static_cast<int>(std::floor((std::min(p0[a], p1[a]) - r - g.lo[a]) / g.h)));
    hi[a] = std::min(g.n[a] - 1,
                     static_cast<int>(std::ceil((std::max(p0[a], p1[a]) + r - g.lo[a]) / g.h)));
  }
  for (int k = lo[2]; k <= hi[2]; ++k)
    for (int j = lo[1]; j <= hi[1]; ++j)
      for (int i = lo[0]; i <= hi[0]; ++i) {
        const auto x = g.at(i, j, k);
        double t = 0;
        for (int a = 0; a < 3; ++a) t += (x[a] - p0[a]) * dir[a];
        if (t < 0 || t > len) continue;
        double r2 = 0;
        for (int a = 0; a < 3; ++a) {
          const double q = x[a] - p0[a] - t * dir[a];
          r2 += q * q;
        }
        if (r2 <= r * r) mark(i, j, k);
      }
  // Centre line, face-connected.
  std::array<int, 3> cur = voxel_of(p0);
  mark(cur[0], cur[1], cur[2]);
  bool entered = g.inside(cur[0], cur[1], cur[2]) && g.cls[g.idx(cur[0], cur[1], cur[2])] != kNone;
  const double step = g.h / 8;
  const double max_t = to_edge ? 1e3 : len;
  for (double t = step; t <= max_t; t += step) {
    std::array<double, 3> p{};
    for (int a = 0; a < 3; ++a) p[a] = p0[a] + t * dir[a];
    const auto next = voxel_of(p);
    for (int a = 0; a < 3 && next != cur; ++a) {
      if (next[a] == cur[a]) continue;
      cur[a] = next[a];
      const bool active = mark(cur[0], cur[1], cur[2]);
      if (active) entered = true;
      if (to_edge && t > len && entered && !active) return;  // left the model
    }
    if (!g.inside(cur[0], cur[1], cur[2])) return;
  }
}

/// Smooth unit-variance Gaussian random field: a sum of random Fourier modes with a Gaussian
/// spectrum (covariance exp(-r^2 / (2 L^2))).
struct RandomField {
  std::vector<std::array<double, 4>> modes;  // kx, ky, kz, phase
  RandomField(std::uint64_t seed, double length_mm) {
    Rng r{seed ^ 0xD1B54A32D192ED03ULL};
    for (int m = 0; m < kFieldModes; ++m)
      modes.push_back({r.normal() / length_mm, r.normal() / length_mm, r.normal() / length_mm,
                       2 * kPi * r.uniform()});
  }
  double operator()(const std::array<double, 3>& x) const {
    double s = 0;
    for (const auto& m : modes) s += std::cos(m[0] * x[0] + m[1] * x[1] + m[2] * x[2] + m[3]);
    return s * std::sqrt(2.0 / kFieldModes);
  }
};

}  // namespace

VertebraParams::Fracture fracture_from_name(const std::string& name, const std::string& file,
                                            const std::string& key) {
  if (name == "none") return VertebraParams::Fracture::None;
  if (name == "wedge") return VertebraParams::Fracture::Wedge;
  if (name == "cleft") return VertebraParams::Fracture::Cleft;
  throw InputError(file, key, "\"" + name + "\"", "none, wedge or cleft");
}

const char* fracture_name(VertebraParams::Fracture f) {
  switch (f) {
    case VertebraParams::Fracture::None:
      return "none";
    case VertebraParams::Fracture::Wedge:
      return "wedge";
    case VertebraParams::Fracture::Cleft:
      return "cleft";
  }
  return "unknown";
}

void check_vertebra_params(const VertebraParams& p, const std::string& file,
                           const std::string& key_prefix) {
  const std::string key = key_prefix + "voxel_mm";
  if (!(std::isfinite(p.voxel_mm) && p.voxel_mm > 0 && p.voxel_mm <= kMaxVoxelMm))
    throw InputError(file, key, num(p.voxel_mm),
                     "a voxel size in mm > 0 and <= " + num(kMaxVoxelMm));
  // The largest body of the seed ranges, so the limit does not depend on the seed.
  Shape big;
  big.W = kWidthMax;
  big.D = kDepthMax;
  big.H = kHeightMax;
  double total = 0;
  grid_dims(big, p.voxel_mm, &total);
  if (total > kMaxModelVoxels)
    throw InputError(file, key, num(p.voxel_mm),
                     "a voxel size giving at most " + num(kMaxModelVoxels) +
                         " voxels (this gives " + num(total) + "; about 0.1 mm is the finest)");
  check_memory(
      total * kGenerationBytesPerVoxel, file, key,
      num(total) + " voxels x " + num(kGenerationBytesPerVoxel) + " bytes (generation peak)");
  const int f = static_cast<int>(p.fracture);
  if (f < 0 || f > 2)
    throw InputError(file, key_prefix + "fracture", std::to_string(f), "none, wedge or cleft");
}

namespace {

/// Centroid of the analytic body in the generator frame, on a 0.5 mm sampling (the voxel body's
/// centroid differs by a fraction of a voxel). Remembered per (seed, fracture): a scene may check
/// many needle tips.
std::array<double, 3> analytic_centroid(const VertebraParams& p, const Shape& s) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint64_t, int>, std::array<double, 3>> memo;
  const auto key = std::make_pair(p.seed, static_cast<int>(p.fracture));
  {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto it = memo.find(key);
    if (it != memo.end()) return it->second;
  }
  const double h = 0.5;
  double c[3] = {0, 0, 0};
  double n = 0;
  for (double z = -s.H / 2; z <= s.H / 2; z += h)
    for (double y = -s.D / 2; y <= s.D / 2; y += h)
      for (double x = -s.W / 2; x <= s.W / 2; x += h)
        if (s.in_body(x, y, z)) {
          c[0] += x;
          c[1] += y;
          c[2] += z;
          n += 1;
        }
  const std::array<double, 3> r{c[0] / n, c[1] / n, c[2] / n};
  const std::lock_guard<std::mutex> lock(mutex);
  if (memo.size() > 64) memo.clear();  // bounded
  memo[key] = r;
  return r;
}

}  // namespace

bool vertebra_contains(const VertebraParams& p, const std::array<double, 3>& p_mm) {
  const Shape s = shape_of(p);
  // The generator frame differs from the centroid frame by the centroid of the body.
  const std::array<double, 3> c = analytic_centroid(p, s);
  const double x = p_mm[0] + c[0], y = p_mm[1] + c[1], z = p_mm[2] + c[2];
  if (!s.in_body(x, y, z)) return false;
  if (p.fracture == VertebraParams::Fracture::Cleft && s.in_cleft(x, y, z, 0)) return true;
  // Inside the trabecular interior: the shell (whole voxel layers) plus one voxel inside along
  // every axis, the endplates' thickness along z.
  const double h = p.voxel_mm;
  const std::array<double, 3> m{std::max(kShellMm, h) + h, std::max(kShellMm, h) + h,
                                std::max(kEndplateMm, h) + h};
  for (int a = 0; a < 3; ++a)
    for (int sg = -1; sg <= 1; sg += 2) {
      std::array<double, 3> q{x, y, z};
      q[static_cast<std::size_t>(a)] += sg * m[static_cast<std::size_t>(a)];
      if (!s.in_body(q[0], q[1], q[2])) return false;
    }
  return true;
}

BoneBlocks generate_vertebra(const VertebraParams& p, VertebraInfo* info) {
  check_vertebra_params(p, "<arguments>", "");
  const Shape s = shape_of(p);
  const double h = p.voxel_mm;

  Grid g;
  g.h = h;
  std::array<double, 3> lo{}, hi{};
  extent(s, lo, hi);
  g.lo = lo;
  g.n = grid_dims(s, h, nullptr);
  const std::size_t nv = static_cast<std::size_t>(g.n[0]) * g.n[1] * g.n[2];
  g.cls.assign(nv, kNone);
  g.body.assign(nv, 0);

  // 1. Body, pedicles (bone), discs, canal.
  std::vector<std::uint8_t> bone(nv, 0), pedicle(nv, 0);
  for (int k = 0; k < g.n[2]; ++k)
    for (int j = 0; j < g.n[1]; ++j)
      for (int i = 0; i < g.n[0]; ++i) {
        const auto x = g.at(i, j, k);
        const std::size_t v = g.idx(i, j, k);
        if (s.in_body(x[0], x[1], x[2])) {
          g.body[v] = 1;
          bone[v] = 1;
        } else if (s.in_pedicle(x[0], x[1], x[2], -1) || s.in_pedicle(x[0], x[1], x[2], +1)) {
          bone[v] = 1;
          pedicle[v] = 1;
        } else if (s.in_disc(x[0], x[1], x[2])) {
          g.cls[v] = kDisc;
        } else if (s.in_canal(x[0], x[1])) {
          g.cls[v] = kCanal;
        }
      }

  // 2. Cortical shell and endplates: bone voxels within the shell's voxel layers of the outside
  // along any axis (along z the endplate's layers for the body). Whole layers, at least one: a
  // closed shell that no face-connected path crosses.
  const int shell = std::max(1, static_cast<int>(std::lround(kShellMm / h)));
  const int endplate = std::max(1, static_cast<int>(std::lround(kEndplateMm / h)));
  {
    const auto dx = axis_depth(g, bone, 0), dy = axis_depth(g, bone, 1),
               dz = axis_depth(g, bone, 2);
    for (std::size_t v = 0; v < nv; ++v) {
      if (!bone[v]) continue;
      const int zl = pedicle[v] ? shell : endplate;
      g.cls[v] = (std::min(dx[v], dy[v]) <= shell || dz[v] <= zl) ? kCort : kTrab;
    }
  }

  // 3. Fracture variants: the cleft's cavity and its endplate crack; the wedge's breach.
  if (p.fracture == VertebraParams::Fracture::Cleft) {
    for (int k = 0; k < g.n[2]; ++k)
      for (int j = 0; j < g.n[1]; ++j)
        for (int i = 0; i < g.n[0]; ++i) {
          const auto x = g.at(i, j, k);
          const std::size_t v = g.idx(i, j, k);
          if (!g.body[v]) continue;
          const bool crack = std::hypot(x[0], x[1] - 3.0) <= kCrackRadius && x[2] > s.H / 2 - 5;
          if (s.in_cleft(x[0], x[1], x[2], 0) || (crack && g.cls[v] == kCort)) g.cls[v] = kCavity;
        }
    // The crack must reach the disc: open every body voxel on the crack's axis above the cleft.
    const int ic = static_cast<int>(std::lround((0 - g.lo[0]) / h));
    const int jc = static_cast<int>(std::lround((3.0 - g.lo[1]) / h));
    for (int k = 0; k < g.n[2]; ++k) {
      const std::size_t v = g.idx(ic, jc, k);
      if (g.body[v] && g.at(ic, jc, k)[2] > s.H / 2 - 5) g.cls[v] = kCavity;
    }
  }
  if (p.fracture == VertebraParams::Fracture::Wedge) {
    // Centre 1.5 mm below the collapsed anterior rim, so the endplate stays closed.
    const double za = s.z_top(0, s.D / 2) - kBreachRadius - 1.5;
    for (std::size_t v = 0; v < nv; ++v) {
      if (g.cls[v] != kCort || !g.body[v]) continue;
      const auto k = static_cast<int>(v / (static_cast<std::size_t>(g.n[0]) * g.n[1]));
      const auto j = static_cast<int>((v / static_cast<std::size_t>(g.n[0])) % g.n[1]);
      const auto i = static_cast<int>(v % static_cast<std::size_t>(g.n[0]));
      const auto x = g.at(i, j, k);
      // The anterior wall in front of the breach centre: the breach opens the anterior cortex.
      if (x[1] > 0 && std::hypot(x[0], x[2] - za) <= kBreachRadius) g.cls[v] = kTrab;
    }
  }

  // 4. Soft tissue: a layer around everything (box dilation, one axis at a time).
  {
    const int layers = std::max(1, static_cast<int>(std::lround(kSoftTissueMm / h)));
    std::vector<std::uint8_t> m(nv);
    for (std::size_t v = 0; v < nv; ++v) m[v] = g.cls[v] != kNone;
    for (int a = 0; a < 3; ++a) {
      std::vector<std::uint8_t> out(m);
      const int b1 = (a + 1) % 3, b2 = (a + 2) % 3;
      std::array<int, 3> c{};
      for (c[b2] = 0; c[b2] < g.n[b2]; ++c[b2])
        for (c[b1] = 0; c[b1] < g.n[b1]; ++c[b1]) {
          int last = -1000000;  // last set index along the line
          for (c[a] = 0; c[a] < g.n[a]; ++c[a]) {
            if (m[g.idx(c[0], c[1], c[2])]) last = c[a];
            if (c[a] - last <= layers) out[g.idx(c[0], c[1], c[2])] = 1;
          }
          last = 1000000;
          for (c[a] = g.n[a] - 1; c[a] >= 0; --c[a]) {
            if (m[g.idx(c[0], c[1], c[2])]) last = c[a];
            if (last - c[a] <= layers) out[g.idx(c[0], c[1], c[2])] = 1;
          }
        }
      m.swap(out);
    }
    for (std::size_t v = 0; v < nv; ++v)
      if (m[v] && g.cls[v] == kNone) g.cls[v] = kSoft;
  }

  // 5. Veins. Basivertebral plexus: epidural veins (full height), their connector, the trunk
  // through the foramen and its branches; then the segmental veins.
  {
    const double yw = s.posterior_wall_y();
    const double ye = yw - 1.5;  // the epidural veins, just behind the posterior wall
    for (int side = -1; side <= 1; side += 2)
      draw_vein(g, {side * kEpiduralOffset, ye, lo[2] - 1}, {side * kEpiduralOffset, ye, hi[2] + 1},
                kEpiduralDiameter, kVeinBv, false);
    draw_vein(g, {-kEpiduralOffset, ye, 0}, {kEpiduralOffset, ye, 0}, kEpiduralDiameter, kVeinBv,
              false);
    const std::array<double, 3> hub{0, yw + kBasivertebralCanalDepth * s.D, 0};
    draw_vein(g, {0, ye, 0}, hub, kBasivertebralDiameter, kVeinBv, false);
    for (int side = -1; side <= 1; side += 2) {
      draw_vein(g, hub, {side * 9.0, hub[1], 0}, kBranchDiameter, kVeinBv, false);
      draw_vein(g, hub, {0, hub[1], side * 5.0}, kBranchDiameter, kVeinBv, false);
    }
    for (double deg : {-80.0, -35.0, 35.0, 80.0}) {
      const double az = deg * kPi / 180;
      const double ux = std::sin(az), uy = std::cos(az);
      // Wall point along this azimuth at mid-height (the cross-section's radius there).
      double t = 0;
      while (s.in_body(t * ux, t * uy, 0)) t += 0.05;
      draw_vein(g, {(t - kSegmentalDepth) * ux, (t - kSegmentalDepth) * uy, 0},
                {(t + 1) * ux, (t + 1) * uy, 0}, kSegmentalDiameter, kVeinSeg, true);
    }
  }

  // 6. BV/TV of the trabecular voxels.
  std::vector<float> bvtv(nv, 0.0f);
  const double target = p.osteoporotic ? kBvtvOsteoporotic : kBvtvHealthy;
  {
    const RandomField field(p.seed, kFieldLengthMm);
    double sum = 0;
    std::size_t count = 0;
    for (int k = 0; k < g.n[2]; ++k)
      for (int j = 0; j < g.n[1]; ++j)
        for (int i = 0; i < g.n[0]; ++i) {
          const std::size_t v = g.idx(i, j, k);
          if (g.cls[v] != kTrab) continue;
          const auto x = g.at(i, j, k);
          const double d_end =
              std::max(0.0, std::min(s.z_top(x[0], x[1]) - x[2], x[2] - s.z_bottom(x[0], x[1])));
          const double ap = std::clamp(-x[1] / (s.D / 2), -1.0, 1.0);
          const double reg =
              (1 + kEndplateBoost * std::exp(-d_end / kEndplateDecayMm)) * (1 + kApGradient * ap);
          const double rnd = std::exp(kFieldSigma * field(x) - 0.5 * kFieldSigma * kFieldSigma);
          bvtv[v] = static_cast<float>(reg * rnd);
          sum += static_cast<double>(bvtv[v]);
          ++count;
        }
    const double scale = count > 0 ? target * static_cast<double>(count) / sum : 1.0;
    for (std::size_t v = 0; v < nv; ++v)
      if (g.cls[v] == kTrab)
        bvtv[v] = static_cast<float>(
            std::clamp(static_cast<double>(bvtv[v]) * scale, kBvtvMin, kBvtvMax));
    // Fracture densification after the scaling: the compacted band / sclerotic rim add bone.
    if (p.fracture != VertebraParams::Fracture::None)
      for (int k = 0; k < g.n[2]; ++k)
        for (int j = 0; j < g.n[1]; ++j)
          for (int i = 0; i < g.n[0]; ++i) {
            const std::size_t v = g.idx(i, j, k);
            if (g.cls[v] != kTrab || !g.body[v]) continue;
            const auto x = g.at(i, j, k);
            const bool dense = p.fracture == VertebraParams::Fracture::Wedge
                                   ? (s.z_top(x[0], x[1]) - x[2] <= kWedgeBandMm && x[1] > -s.D / 6)
                                   : s.in_cleft(x[0], x[1], x[2], kCleftRimMm);
            if (dense)
              bvtv[v] =
                  static_cast<float>(std::min(kBvtvMax, static_cast<double>(bvtv[v]) * kDensify));
          }
  }

  // 7. Centroid of the body (voxels of the vertebral body, whatever their material).
  double c[3] = {0, 0, 0};
  std::size_t nbody = 0;
  for (int k = 0; k < g.n[2]; ++k)
    for (int j = 0; j < g.n[1]; ++j)
      for (int i = 0; i < g.n[0]; ++i)
        if (g.body[g.idx(i, j, k)]) {
          const auto x = g.at(i, j, k);
          for (int a = 0; a < 3; ++a) c[a] += x[a];
          ++nbody;
        }
  for (double& x : c) x /= static_cast<double>(nbody);

  // 8. Pack into 8^3 blocks.
  constexpr int bd = BoneBlocks::kBlockDim;
  BoneBlocks out;
  out.voxel_mm = h;
  for (int a = 0; a < 3; ++a) out.origin_mm[a] = g.lo[a] - c[a];
  std::array<int, 3> nb{};
  for (int a = 0; a < 3; ++a) nb[a] = (g.n[a] + bd - 1) / bd;
  for (int bz = 0; bz < nb[2]; ++bz)
    for (int by = 0; by < nb[1]; ++by)
      for (int bx = 0; bx < nb[0]; ++bx) {
        const std::array<int, 3> o{bx * bd, by * bd, bz * bd};
        bool any = false;
        for (int v = 0; v < BoneBlocks::kBlockVoxels && !any; ++v) {
          const int i = o[0] + v % bd, j = o[1] + (v / bd) % bd, k = o[2] + v / (bd * bd);
          any = g.inside(i, j, k) && g.cls[g.idx(i, j, k)] != kNone;
        }
        if (any) out.block_origin.push_back(o);
      }
  const std::size_t nblocks = out.block_origin.size();
  out.material.assign(nblocks * BoneBlocks::kBlockVoxels, kInactive);
  out.porosity.assign(nblocks * BoneBlocks::kBlockVoxels, 0.0f);
  out.route.assign(nblocks * BoneBlocks::kBlockVoxels, static_cast<std::int32_t>(LeakRoute::None));
  for (std::size_t b = 0; b < nblocks; ++b) {
    const auto& o = out.block_origin[b];
    for (int v = 0; v < BoneBlocks::kBlockVoxels; ++v) {
      const int i = o[0] + v % bd, j = o[1] + (v / bd) % bd, k = o[2] + v / (bd * bd);
      if (!g.inside(i, j, k)) continue;
      const std::size_t gv = g.idx(i, j, k);
      const std::size_t ov = b * BoneBlocks::kBlockVoxels + static_cast<std::size_t>(v);
      std::int32_t m = kInactive;
      float phi = 0;
      switch (g.cls[gv]) {
        case kNone:
          break;
        case kTrab:
          m = static_cast<std::int32_t>(Material::Trabecular);
          phi = 1.0f - bvtv[gv];
          break;
        case kCort:
          m = static_cast<std::int32_t>(Material::Cortical);
          phi = kPorosityCortical;
          break;
        case kCavity:
          m = static_cast<std::int32_t>(Material::Cavity);
          phi = 1.0f;
          break;
        case kVeinBv:
        case kVeinSeg:
          m = static_cast<std::int32_t>(Material::Vein);
          phi = 1.0f;
          out.route[ov] = static_cast<std::int32_t>(
              g.cls[gv] == kVeinBv ? LeakRoute::BasivertebralVein : LeakRoute::SegmentalVein);
          break;
        case kDisc:
          m = static_cast<std::int32_t>(Material::Disc);
          phi = kPorosityDisc;
          break;
        case kCanal:
          m = static_cast<std::int32_t>(Material::SpinalCanal);
          phi = kPorosityCanal;
          break;
        case kSoft:
          m = static_cast<std::int32_t>(Material::SoftTissue);
          phi = kPorositySoft;
          break;
        default:
          break;
      }
      out.material[ov] = m;
      out.porosity[ov] = phi;
    }
  }
  complete_bone(out);

  if (info) {
    info->width_mm = s.W;
    info->depth_mm = s.D;
    info->height_mm = s.H;
    info->body_volume_ml = static_cast<double>(nbody) * h * h * h * 1e-3;
    info->bvtv_target = target;
    info->shift_mm = {-c[0], -c[1], -c[2]};
  }
  return out;
}

}  // namespace cementflow

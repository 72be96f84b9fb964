// `cementflow import` (SPEC.md §1): images -> a bone model on an isotropic, axis-aligned RAS grid.
//
// Micro-CT (no label): grey value > threshold (given, or Otsu's) is bone; the porosity of an
// output voxel is the pore fraction of the image voxels whose centres it contains (at the image's
// own voxel size that is the binary pore grid, 0 or 1). Every voxel is trabecular bone; a bath of
// soft tissue (a sink) surrounds the sample so that displaced marrow can leave.
//
// Clinical CT (a label mask and its value): HU -> BMD -> BV/TV with a linear calibration
// (CtCalibration, sources below), porosity = 1 - BV/TV; the output voxels at least half inside
// the label are bone, those of them on the label's boundary (a face towards a non-label voxel)
// form the cortical shell; a shell of soft tissue (the sink) surrounds the label.
//
// Resampling: each output voxel of edge h is sampled at s^3 sub-cell centres, s = ceil(h / the
// image's smallest spacing) (at most 32): the label by nearest neighbour (its fraction decides the
// material), HU by trilinear interpolation and the micro-CT pore indicator by nearest neighbour
// (averaged). With h an integer multiple of the micro-CT voxel the average is exact.

#include "cementflow/import.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cementflow/errors.hpp"
#include "engine/bone/image_io.hpp"

namespace cementflow {
namespace {

using detail::Volume;
using json = nlohmann::json;

const char* const kArgs = "<arguments>";

std::string num(double x) {
  std::ostringstream s;
  s << std::setprecision(6) << x;
  return s.str();
}

// Default HU -> BMD: BMD [mg HA/cm^3] = 0.8 * HU. Water is 0 HU and 0 mg/cm^3 by the definition
// of the Hounsfield scale; the slope is that of the hydroxyapatite-in-water calibration rods of
// QCT phantoms at 120 kVp, which lies between about 0.7 and 0.9 mg/cm^3 per HU across scanners
// (scanner- and kVp-specific; asynchronous/phantomless QCT calibrates it per scanner, e.g.
// Wang et al., Sci Rep 2017;7:6284). Confidence C: give the scanner's phantom calibration with
// --calibration for quantitative work.
// BV/TV = BMD / 1200 mg HA/cm^3, the mineral density of fully dense bone tissue used by the
// homogenized-FE literature (Pahr & Zysset; Dall'Ara et al., Bone 2013;52:27), confidence B.
// With these, L1 of the TotalSegmentator example (mean 196 HU) has BV/TV 0.13, porosity 0.87,
// inside the 0.86–0.94 of augmented human vertebrae (PHYSICS.md §L3b, Kinzl et al.).
constexpr double kDefaultSlope = 0.8, kDefaultTissue = 1200;
// Plausible ranges; outside them a calibration is refused as absurd. Slopes: QCT phantoms span
// ~0.5–1.2 mg/cm^3 per HU from 80 to 140 kVp; K2HPO4 and HA differ by < 20 % (Goodsitt, Bone
// Miner 1992;19:145); a factor of ~2 around them is allowed. Intercepts: phantoms give a few tens
// of mg/cm^3. Tissue: 800–2000 mg HA/cm^3 brackets measured tissue mineral densities.
constexpr double kMinSlope = 0.2, kMaxSlope = 2.0, kMaxAbsIntercept = 200;
constexpr double kMinTissue = 800, kMaxTissue = 2000;
// Porosity bounds of imported bone voxels: BV/TV in [0.02, 0.95]. Above 0.98 the permeability law
// is capped anyway (engine/bone/permeability.cpp); below 0.05 it would be zero for dense voxels of
// the posterior elements, which are still bone a fluid can slowly cross.
constexpr double kMinPorosity = 0.05, kMaxPorosity = 0.98;

/// Calls f(p) at the ss^3 sub-sample points (cell centres of an ss^3 split) of the model voxel of
/// edge h centred at c.
template <class F>
void for_each_subsample(const std::array<double, 3>& c, double h, int ss, F&& f) {
  for (int qz = 0; qz < ss; ++qz)
    for (int qy = 0; qy < ss; ++qy)
      for (int qx = 0; qx < ss; ++qx)
        f(std::array<double, 3>{c[0] + h * ((qx + 0.5) / ss - 0.5),
                                c[1] + h * ((qy + 0.5) / ss - 0.5),
                                c[2] + h * ((qz + 0.5) / ss - 0.5)});
}

int supersampling(double h, const std::array<double, 3>& s) {
  const double m = std::min({s[0], s[1], s[2]});
  return std::clamp(static_cast<int>(std::ceil(h / m - 1e-6)), 1, 32);
}

/// Otsu's threshold (Otsu, IEEE Trans SMC 1979;9:62): the grey value T maximising the
/// between-class variance of {v <= T} and {v > T}. Integer images use one bin per value (up to
/// 4096 values), others 256 bins; T is a bin's upper value.
double otsu(const std::vector<double>& v, const std::string& file) {
  const auto [mn_it, mx_it] = std::minmax_element(v.begin(), v.end());
  const double mn = *mn_it, mx = *mx_it;
  if (!(mx > mn))
    throw InputError(file, "grey values", "constant " + num(mn), "an image to threshold");
  const bool integral =
      std::all_of(v.begin(), v.end(), [](double x) { return x == std::floor(x); });
  const int bins = integral && mx - mn < 4096 ? static_cast<int>(mx - mn) + 1 : 256;
  const double width = integral && bins > 1 && mx - mn < 4096 ? 1.0 : (mx - mn) / bins;
  std::vector<double> hist(static_cast<std::size_t>(bins), 0.0);
  for (double x : v) {
    const int b = std::min(bins - 1, static_cast<int>((x - mn) / width));
    hist[static_cast<std::size_t>(b)] += 1;
  }
  double total = 0, sum = 0;
  for (int b = 0; b < bins; ++b) {
    total += hist[static_cast<std::size_t>(b)];
    sum += b * hist[static_cast<std::size_t>(b)];
  }
  double w0 = 0, s0 = 0, best = -1;
  int best_b = 0;
  for (int b = 0; b < bins - 1; ++b) {
    w0 += hist[static_cast<std::size_t>(b)];
    s0 += b * hist[static_cast<std::size_t>(b)];
    const double w1 = total - w0;
    if (w0 == 0 || w1 == 0) continue;
    const double m0 = s0 / w0, m1 = (sum - s0) / w1;
    const double between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      best_b = b;
    }
  }
  // Integer bins: values <= mn + b are class 0. Float bins: the bin's upper edge.
  return width == 1.0 && integral ? mn + best_b : mn + (best_b + 1) * width;
}

/// A dense output grid in index space, turned into sparse blocks at the end.
struct Dense {
  std::array<int, 3> n{0, 0, 0};
  double h = 0;
  std::array<double, 3> origin{0, 0, 0};  ///< world centre of index (0,0,0)
  std::vector<std::int32_t> material;
  std::vector<float> porosity;
  std::size_t at(int i, int j, int k) const {
    return static_cast<std::size_t>(i) +
           static_cast<std::size_t>(n[0]) *
               (static_cast<std::size_t>(j) +
                static_cast<std::size_t>(n[1]) * static_cast<std::size_t>(k));
  }
  std::array<double, 3> centre(int i, int j, int k) const {
    return {origin[0] + h * i, origin[1] + h * j, origin[2] + h * k};
  }
};

/// Sets up the dense grid covering [lo, hi] (world mm) with `layers` extra voxels on every side;
/// refuses it before allocating when it would exceed kMaxImportVoxels.
Dense make_dense(const std::array<double, 3>& lo, const std::array<double, 3>& hi, double h,
                 int layers, const std::string& file) {
  Dense d;
  d.h = h;
  double total = 1;
  for (int a = 0; a < 3; ++a) {
    const double cells = std::ceil((hi[a] - lo[a]) / h - 1e-6);
    const double na = std::max(1.0, cells) + 2.0 * layers;
    total *= std::ceil(na / 8) * 8;
    if (na > 1e7) total = 1e30;
    d.n[a] = static_cast<int>(std::min(na, 1e7));
    // Centre the covered span on the region.
    const double span = std::max(1.0, cells) * h;
    d.origin[a] = 0.5 * (lo[a] + hi[a]) - 0.5 * span + 0.5 * h - layers * h;
  }
  if (total > kMaxImportVoxels)
    throw InputError(file, "--voxel-mm", num(h),
                     "a voxel size giving at most " + num(kMaxImportVoxels) + " voxels (" +
                         num(total) + " here, " + num(total * 24 / 1e9) +
                         " GB): choose a larger --voxel-mm");
  d.material.assign(static_cast<std::size_t>(d.n[0]) * d.n[1] * d.n[2], kInactive);
  d.porosity.assign(d.material.size(), 0.0f);
  return d;
}

/// Dense grid -> sparse BoneBlocks (blocks with at least one active voxel).
BoneBlocks to_blocks(const Dense& d) {
  BoneBlocks bone;
  bone.voxel_mm = d.h;
  bone.origin_mm = d.origin;
  const int nb[3] = {(d.n[0] + 7) / 8, (d.n[1] + 7) / 8, (d.n[2] + 7) / 8};
  std::vector<std::array<int, 3>> blocks;
  for (int bk = 0; bk < nb[2]; ++bk)
    for (int bj = 0; bj < nb[1]; ++bj)
      for (int bi = 0; bi < nb[0]; ++bi) {
        bool any = false;
        for (int z = 8 * bk; z < std::min(d.n[2], 8 * bk + 8) && !any; ++z)
          for (int y = 8 * bj; y < std::min(d.n[1], 8 * bj + 8) && !any; ++y)
            for (int x = 8 * bi; x < std::min(d.n[0], 8 * bi + 8) && !any; ++x)
              any = d.material[d.at(x, y, z)] != kInactive;
        if (any) blocks.push_back({8 * bi, 8 * bj, 8 * bk});
      }
  bone.resize(blocks.size());  // resets block_origin: set it after
  bone.block_origin = blocks;
  for (std::size_t b = 0; b < blocks.size(); ++b)
    for (int z = 0; z < 8; ++z)
      for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x) {
          const int i = blocks[b][0] + x, j = blocks[b][1] + y, k = blocks[b][2] + z;
          if (i >= d.n[0] || j >= d.n[1] || k >= d.n[2]) continue;
          const std::size_t v = b * BoneBlocks::kBlockVoxels +
                                static_cast<std::size_t>(BoneBlocks::local_index(x, y, z));
          bone.material[v] = d.material[d.at(i, j, k)];
          bone.porosity[v] = d.porosity[d.at(i, j, k)];
        }
  return bone;
}

/// World bounding box of the image voxels (their full extent, not only the centres) for which
/// `take(index)` holds; false if none.
template <typename Take>
bool world_box(const Volume& v, Take take, std::array<double, 3>& lo, std::array<double, 3>& hi) {
  std::array<std::int64_t, 3> imin{v.dims}, imax{-1, -1, -1};
  for (std::int64_t k = 0; k < v.dims[2]; ++k)
    for (std::int64_t j = 0; j < v.dims[1]; ++j)
      for (std::int64_t i = 0; i < v.dims[0]; ++i)
        if (take(v.index(i, j, k))) {
          imin = {std::min(imin[0], i), std::min(imin[1], j), std::min(imin[2], k)};
          imax = {std::max(imax[0], i), std::max(imax[1], j), std::max(imax[2], k)};
        }
  if (imax[0] < 0) return false;
  lo = {1e300, 1e300, 1e300};
  hi = {-1e300, -1e300, -1e300};
  for (int c = 0; c < 8; ++c) {
    const std::array<double, 3> ijk{(c & 1 ? imax[0] + 0.5 : imin[0] - 0.5),
                                    (c & 2 ? imax[1] + 0.5 : imin[1] - 0.5),
                                    (c & 4 ? imax[2] + 0.5 : imin[2] - 0.5)};
    const auto w = v.to_world(ijk);
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], w[a]);
      hi[a] = std::max(hi[a], w[a]);
    }
  }
  return true;
}

/// Nearest image voxel of a world point; false outside the image.
bool nearest(const Volume& v, const std::array<double, 3>& w, std::size_t& idx) {
  const auto c = v.to_index(w);
  std::int64_t q[3];
  for (int a = 0; a < 3; ++a) {
    q[a] = static_cast<std::int64_t>(std::floor(c[a] + 0.5));
    if (q[a] < 0 || q[a] >= v.dims[a]) return false;
  }
  idx = v.index(q[0], q[1], q[2]);
  return true;
}

/// Trilinear interpolation (index clamped to the image).
double trilinear(const Volume& v, const std::array<double, 3>& w) {
  const auto c = v.to_index(w);
  std::int64_t i0[3];
  double f[3];
  for (int a = 0; a < 3; ++a) {
    const double x = std::clamp(c[a], 0.0, static_cast<double>(v.dims[a] - 1));
    i0[a] = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(x)), v.dims[a] - 1);
    f[a] = x - static_cast<double>(i0[a]);
  }
  double r = 0;
  for (int corner = 0; corner < 8; ++corner) {
    double wgt = 1;
    std::int64_t q[3];
    for (int a = 0; a < 3; ++a) {
      const bool up = (corner >> a) & 1;
      q[a] = std::min(i0[a] + (up ? 1 : 0), v.dims[a] - 1);
      wgt *= up ? f[a] : 1 - f[a];
    }
    if (wgt != 0) r += wgt * v.values[v.index(q[0], q[1], q[2])];
  }
  return r;
}

void fill_summary(const BoneBlocks& bone, ImportSummary& s) {
  s.voxel_mm = bone.voxel_mm;
  s.active_voxels = bone.active_voxels();
  double c[3] = {0, 0, 0}, por = 0;
  std::size_t n = 0;
  s.bone_min_mm = {1e300, 1e300, 1e300};
  s.bone_max_mm = {-1e300, -1e300, -1e300};
  for (std::size_t b = 0; b < bone.num_blocks(); ++b)
    for (int v = 0; v < BoneBlocks::kBlockVoxels; ++v) {
      const std::size_t i = b * BoneBlocks::kBlockVoxels + static_cast<std::size_t>(v);
      const int m = bone.material[i];
      if (m != static_cast<int>(Material::Trabecular) && m != static_cast<int>(Material::Cortical))
        continue;
      const auto p = bone.voxel_center_mm(b, v);
      for (int a = 0; a < 3; ++a) {
        c[a] += p[a];
        s.bone_min_mm[a] = std::min(s.bone_min_mm[a], p[a]);
        s.bone_max_mm[a] = std::max(s.bone_max_mm[a], p[a]);
      }
      por += static_cast<double>(bone.porosity[i]);
      ++n;
    }
  s.bone_voxels = n;
  s.bone_volume_ml = static_cast<double>(n) * bone.voxel_mm * bone.voxel_mm * bone.voxel_mm / 1000;
  if (n > 0) {
    for (int a = 0; a < 3; ++a) s.bone_centroid_mm[a] = c[a] / static_cast<double>(n);
    s.mean_bone_porosity = por / static_cast<double>(n);
  }
}

/// Soft tissue gets the median porosity of the bone (complete_bone gives it the median
/// trabecular permeability: the destination beyond a breach is no more resistant than the bone).
void soft_tissue_porosity(Dense& d) {
  std::vector<float> p;
  for (std::size_t i = 0; i < d.material.size(); ++i)
    if (d.material[i] == 1 || d.material[i] == 2) p.push_back(d.porosity[i]);
  float med = 0.9f;
  if (!p.empty()) {
    std::nth_element(p.begin(), p.begin() + static_cast<long>(p.size() / 2), p.end());
    med = p[p.size() / 2];
  }
  for (std::size_t i = 0; i < d.material.size(); ++i)
    if (d.material[i] == 0) d.porosity[i] = med;
}

/// Marks inactive voxels within `layers` voxels (26-neighbourhood steps) of a bone voxel as soft
/// tissue.
void add_sink(Dense& d, int layers) {
  for (int step = 0; step < layers; ++step) {
    std::vector<std::int32_t> m = d.material;
    for (int k = 0; k < d.n[2]; ++k)
      for (int j = 0; j < d.n[1]; ++j)
        for (int i = 0; i < d.n[0]; ++i) {
          if (d.material[d.at(i, j, k)] != kInactive) continue;
          bool near = false;
          for (int dk = -1; dk <= 1 && !near; ++dk)
            for (int dj = -1; dj <= 1 && !near; ++dj)
              for (int di = -1; di <= 1 && !near; ++di) {
                const int a = i + di, b = j + dj, c = k + dk;
                if (a < 0 || b < 0 || c < 0 || a >= d.n[0] || b >= d.n[1] || c >= d.n[2]) continue;
                near = d.material[d.at(a, b, c)] != kInactive;
              }
          if (near) m[d.at(i, j, k)] = static_cast<std::int32_t>(Material::SoftTissue);
        }
    d.material.swap(m);
  }
}

double output_voxel(const ImportOptions& o, const Volume& img) {
  const auto s = img.spacing_mm();
  return o.voxel_mm > 0 ? o.voxel_mm : std::min({s[0], s[1], s[2]});
}

void fill_image_summary(const Volume& img, ImportSummary& s) {
  for (int a = 0; a < 3; ++a) s.image_dims[a] = static_cast<std::size_t>(img.dims[a]);
  s.image_spacing_mm = img.spacing_mm();
}

ImportResult import_microct(const ImportOptions& o, const Volume& img) {
  ImportResult r;
  ImportSummary& s = r.summary;
  s.mode = "microct";
  fill_image_summary(img, s);
  if (o.threshold.empty() || o.threshold == "otsu") {
    s.threshold = otsu(img.values, o.image);
    s.otsu = true;
  } else {
    std::size_t used = 0;
    double t = 0;
    try {
      t = std::stod(o.threshold, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != o.threshold.size() || !std::isfinite(t))
      throw InputError(kArgs, "--threshold", o.threshold, "a grey value or otsu");
    s.threshold = t;
  }
  std::size_t nbone = 0;
  for (double x : img.values) nbone += x > s.threshold ? 1 : 0;
  if (nbone == 0 || nbone == img.values.size())
    throw InputError(o.image, "--threshold", num(s.threshold),
                     std::string("a threshold between the image's grey values (it leaves ") +
                         (nbone == 0 ? "no bone" : "no pores") + ")");
  s.image_bv_tv = static_cast<double>(nbone) / static_cast<double>(img.values.size());

  const double h = output_voxel(o, img);
  std::array<double, 3> lo{}, hi{};
  world_box(
      img, [](std::size_t) { return true; }, lo, hi);
  Dense d = make_dense(lo, hi, h, o.sink_layers, o.image);
  const int ss = supersampling(h, img.spacing_mm());
  for (int k = 0; k < d.n[2]; ++k)
    for (int j = 0; j < d.n[1]; ++j)
      for (int i = 0; i < d.n[0]; ++i) {
        const auto c = d.centre(i, j, k);
        int inside = 0, pores = 0;
        for_each_subsample(c, h, ss, [&](const std::array<double, 3>& p) {
          std::size_t idx;
          if (!nearest(img, p, idx)) return;
          ++inside;
          pores += img.values[idx] > s.threshold ? 0 : 1;
        });
        if (2 * inside < ss * ss * ss) continue;
        d.material[d.at(i, j, k)] = static_cast<std::int32_t>(Material::Trabecular);
        d.porosity[d.at(i, j, k)] = static_cast<float>(static_cast<double>(pores) / inside);
      }
  add_sink(d, o.sink_layers);
  soft_tissue_porosity(d);
  r.bone = to_blocks(d);
  return r;
}

ImportResult import_clinical(const ImportOptions& o, const Volume& ct) {
  ImportResult r;
  ImportSummary& s = r.summary;
  s.mode = "clinical";
  fill_image_summary(ct, s);
  s.calibration = CtCalibration{};
  s.calibration.source =
      "default: BMD = 0.8 mg/cm3/HU * HU (phantom-typical 120 kVp, confidence C); BV/TV = BMD / "
      "1200 mg/cm3 (Dall'Ara et al. 2013)";
  if (!o.calibration.empty()) s.calibration = load_calibration(o.calibration);
  const CtCalibration& cal = s.calibration;
  const auto bv_tv = [&](double hu) {
    return (cal.bmd_slope_mg_cm3_per_hu * hu + cal.bmd_intercept_mg_cm3) / cal.tissue_bmd_mg_cm3;
  };

  const Volume lab = detail::read_image(o.label);
  const double want = o.label_value;
  std::size_t count = 0;
  std::set<long> present;
  for (double x : lab.values) {
    if (x != std::floor(x))
      throw InputError(o.label, "voxel values", num(x), "whole-number labels");
    if (x == want) ++count;
    if (x != 0 && present.size() < 40) present.insert(static_cast<long>(x));
  }
  if (count == 0) {
    std::string list;
    for (long p : present) list += (list.empty() ? "" : ", ") + std::to_string(p);
    throw InputError(o.label, "--label-value", std::to_string(o.label_value),
                     "a label present in the mask (" +
                         (list.empty() ? "it is empty" : "it holds " + list) + ")");
  }
  // Statistics at the label's own voxels: volume, mean HU (nearest CT voxel), mean BV/TV.
  std::size_t outside = 0;
  double sum_hu = 0, sum_bvtv = 0;
  for (std::int64_t k = 0; k < lab.dims[2]; ++k)
    for (std::int64_t j = 0; j < lab.dims[1]; ++j)
      for (std::int64_t i = 0; i < lab.dims[0]; ++i) {
        if (lab.values[lab.index(i, j, k)] != want) continue;
        std::size_t idx;
        const auto w =
            lab.to_world({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
        if (!nearest(ct, w, idx)) {
          ++outside;
          continue;
        }
        sum_hu += ct.values[idx];
        sum_bvtv += std::clamp(bv_tv(ct.values[idx]), 0.0, 1.0);
      }
  if (outside == count)
    throw InputError(o.label, "--label",
                     "label " + std::to_string(o.label_value) + " lies outside the CT " + o.image,
                     "a label mask that overlaps the CT in world coordinates");
  if (outside > 0)
    throw InputError(o.label, "--label",
                     std::to_string(outside) + " of " + std::to_string(count) +
                         " voxels of label " + std::to_string(o.label_value) + " outside the CT " +
                         o.image,
                     "a label inside the CT's field of view");
  const auto ls = lab.spacing_mm();
  const auto& A = lab.affine;
  const double det = std::abs(A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                              A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                              A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]));
  s.label_voxels = count;
  s.label_volume_ml = static_cast<double>(count) * det / 1000;
  s.label_mean_hu = sum_hu / static_cast<double>(count);
  s.label_bv_tv = sum_bvtv / static_cast<double>(count);

  const double h = output_voxel(o, ct);
  std::array<double, 3> lo{}, hi{};
  world_box(
      lab, [&](std::size_t i) { return lab.values[i] == want; }, lo, hi);
  Dense d = make_dense(lo, hi, h, o.sink_layers + 1, o.label);
  const auto cs = ct.spacing_mm();
  const int ss =
      supersampling(h, {std::min(cs[0], ls[0]), std::min(cs[1], ls[1]), std::min(cs[2], ls[2])});
  std::vector<char> in_label(d.material.size(), 0);
  for (int k = 0; k < d.n[2]; ++k)
    for (int j = 0; j < d.n[1]; ++j)
      for (int i = 0; i < d.n[0]; ++i) {
        const auto c = d.centre(i, j, k);
        int hits = 0;
        double hu = 0;
        for_each_subsample(c, h, ss, [&](const std::array<double, 3>& p) {
          std::size_t idx;
          if (!nearest(lab, p, idx) || lab.values[idx] != want) return;
          ++hits;
          hu += trilinear(ct, p);
        });
        if (2 * hits < ss * ss * ss) continue;
        const std::size_t at = d.at(i, j, k);
        in_label[at] = 1;
        const double b = std::clamp(bv_tv(hu / hits), 1 - kMaxPorosity, 1 - kMinPorosity);
        d.porosity[at] = static_cast<float>(1 - b);
      }
  // Cortical shell: label voxels with a face neighbour outside the label.
  for (int k = 0; k < d.n[2]; ++k)
    for (int j = 0; j < d.n[1]; ++j)
      for (int i = 0; i < d.n[0]; ++i) {
        const std::size_t at = d.at(i, j, k);
        if (!in_label[at]) continue;
        bool boundary = false;
        const int nb[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
        for (const auto& o6 : nb) {
          const int a = i + o6[0], b = j + o6[1], c = k + o6[2];
          if (a < 0 || b < 0 || c < 0 || a >= d.n[0] || b >= d.n[1] || c >= d.n[2] ||
              !in_label[d.at(a, b, c)])
            boundary = true;
        }
        d.material[at] = static_cast<std::int32_t>(
            boundary && o.cortical_shell ? Material::Cortical : Material::Trabecular);
      }
  if (std::none_of(in_label.begin(), in_label.end(), [](char c) { return c != 0; }))
    throw InputError(o.label, "--voxel-mm", num(h),
                     "a voxel size small enough to resolve label " + std::to_string(o.label_value) +
                         " (no output voxel is half inside it)");
  add_sink(d, o.sink_layers);
  soft_tissue_porosity(d);
  r.bone = to_blocks(d);
  return r;
}

void check_options(const ImportOptions& o) {
  if (o.image.empty()) throw InputError(kArgs, "IMAGE", "\"\"", "an image file or folder");
  if (!(std::isfinite(o.voxel_mm) && o.voxel_mm >= 0))
    throw InputError(kArgs, "--voxel-mm", num(o.voxel_mm), "a positive voxel size in mm");
  if (!(std::isfinite(o.image_spacing_mm) && o.image_spacing_mm >= 0))
    throw InputError(kArgs, "--image-spacing-mm", num(o.image_spacing_mm),
                     "a positive voxel size in mm");
  if (o.sink_layers < 0 || o.sink_layers > 16)
    throw InputError(kArgs, "--sink-layers", std::to_string(o.sink_layers), "0 to 16 voxel layers");
  if (o.label.empty()) {
    if (o.label_value >= 0)
      throw InputError(kArgs, "--label-value", std::to_string(o.label_value),
                       "--label MASK together with --label-value");
    if (!o.calibration.empty())
      throw InputError(kArgs, "--calibration", o.calibration,
                       "a calibration only with a clinical CT and --label");
  } else {
    if (o.label_value < 0)
      throw InputError(kArgs, "--label-value", std::to_string(o.label_value),
                       "the label's voxel value (>= 0) with --label");
    if (!o.threshold.empty())
      throw InputError(kArgs, "--threshold", o.threshold,
                       "no threshold with --label (clinical CT uses the HU calibration)");
  }
}

}  // namespace

void check_calibration(const CtCalibration& c, const std::string& file) {
  if (!(c.bmd_slope_mg_cm3_per_hu >= kMinSlope && c.bmd_slope_mg_cm3_per_hu <= kMaxSlope))
    throw InputError(file, "bmd_slope_mg_cm3_per_hu", num(c.bmd_slope_mg_cm3_per_hu),
                     "a slope between " + num(kMinSlope) + " and " + num(kMaxSlope) +
                         " mg/cm^3 per HU (QCT phantoms give 0.5-1.2)");
  if (!(std::abs(c.bmd_intercept_mg_cm3) <= kMaxAbsIntercept))
    throw InputError(file, "bmd_intercept_mg_cm3", num(c.bmd_intercept_mg_cm3),
                     "an intercept between -" + num(kMaxAbsIntercept) + " and " +
                         num(kMaxAbsIntercept) + " mg/cm^3");
  if (!(c.tissue_bmd_mg_cm3 >= kMinTissue && c.tissue_bmd_mg_cm3 <= kMaxTissue))
    throw InputError(file, "tissue_bmd_mg_cm3", num(c.tissue_bmd_mg_cm3),
                     "a bone-tissue mineral density between " + num(kMinTissue) + " and " +
                         num(kMaxTissue) + " mg HA/cm^3");
}

CtCalibration load_calibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "", "a file that cannot be read", "a calibration JSON file");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(path, "", "invalid JSON (" + std::string(e.what()) + ")",
                     "a calibration JSON object");
  }
  if (!doc.is_object()) throw InputError(path, "", doc.dump(), "a calibration JSON object");
  CtCalibration c;
  c.source = path;
  for (const auto& [key, value] : doc.items()) {
    if (key == "source") {
      if (!value.is_string()) throw InputError(path, key, value.dump(), "a string");
      c.source = value.get<std::string>() + " (" + path + ")";
      continue;
    }
    double* target = key == "bmd_slope_mg_cm3_per_hu" ? &c.bmd_slope_mg_cm3_per_hu
                     : key == "bmd_intercept_mg_cm3"  ? &c.bmd_intercept_mg_cm3
                     : key == "tissue_bmd_mg_cm3"     ? &c.tissue_bmd_mg_cm3
                                                      : nullptr;
    if (!target)
      throw InputError(path, key, value.dump(),
                       "one of bmd_slope_mg_cm3_per_hu, bmd_intercept_mg_cm3, tissue_bmd_mg_cm3, "
                       "source");
    if (!value.is_number()) throw InputError(path, key, value.dump(), "a number");
    *target = value.get<double>();
  }
  check_calibration(c, path);
  return c;
}

ImportResult import_image(const ImportOptions& o) {
  check_options(o);
  if (!o.calibration.empty()) load_calibration(o.calibration);  // check it before the images
  const Volume img = detail::read_image(o.image, o.image_spacing_mm);
  ImportResult r = o.label.empty() ? import_microct(o, img) : import_clinical(o, img);
  complete_bone(r.bone);
  fill_summary(r.bone, r.summary);
  return r;
}

ImportSummary import_to_vdb(const ImportOptions& o, const std::string& vdb_path) {
  ImportResult r = import_image(o);
  const ImportSummary& s = r.summary;
  std::vector<std::pair<std::string, std::string>> meta{
      {"source_image", o.image}, {"import_mode", s.mode}, {"import_voxel_mm", num(s.voxel_mm)}};
  if (s.mode == "microct") {
    meta.push_back({"threshold", num(s.threshold) + (s.otsu ? " (otsu)" : " (given)")});
    meta.push_back({"image_bv_tv", num(s.image_bv_tv)});
  } else {
    meta.push_back({"source_label", o.label});
    meta.push_back({"label_value", std::to_string(o.label_value)});
    meta.push_back({"calibration", "BMD_mg_cm3 = " + num(s.calibration.bmd_slope_mg_cm3_per_hu) +
                                       " * HU + " + num(s.calibration.bmd_intercept_mg_cm3) +
                                       "; BV/TV = BMD / " + num(s.calibration.tissue_bmd_mg_cm3) +
                                       "; source: " + s.calibration.source});
    meta.push_back({"label_volume_ml", num(s.label_volume_ml)});
    meta.push_back({"label_mean_hu", num(s.label_mean_hu)});
  }
  save_bone(r.bone, vdb_path, meta);
  return s;
}

}  // namespace cementflow

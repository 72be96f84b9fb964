// Pictures of a bone or a run (`cementflow render`, `cementflow run --render`). Host-only
// (OpenVDB, libpng).
//
// What is drawn (the palette is fixed and documented in README.md, "Pictures"):
// - material_{axial,coronal,sagittal}.png: slices through the chosen point, material codes in
//   categorical colours; material_mip_*.png: the largest material code along each ray (so veins,
//   discs and canal show through bone).
// - porosity_*.png / porosity_mip_*.png: BV/TV = 1 - porosity of the bone (materials 1, 2, 3, 7)
//   on a viridis-like ramp from 0 (dark violet) to >= 0.25 (yellow), leak destinations grey
//   (slice / densest bone along the ray).
// - cement_*.png / cement_mip_*.png: cement over bone: the bone in grey (brighter = denser), the
//   cement fraction on a yellow (low) to red (1) ramp inside the bone and on a magenta ramp where
//   it has leaked (leak destinations, material 0, 4, 5, 6); cement below 0.02 is not drawn.
// Orientation (radiological): axial seen from the feet, patient right on the image's left,
// anterior up; coronal seen from the front, right on the left, superior up; sagittal seen from
// the patient's left, anterior on the left, superior up. Inactive voxels are black. A 10 mm white
// scale bar sits in the lower-left corner.
// - <stem>.vti: VTK XML ImageData (point data on voxel centres, raw appended binary, UInt64
//   headers) with material (Int32, -1 outside the model), porosity, cement_fraction (Float32) and
//   permeability (3 x Float32, m^2) where present, in mm: readable by ParaView 5.x.

#include "cementflow/render.hpp"

#include <openvdb/openvdb.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/grid/vdb_blocks.hpp"
#include "engine/io/png_io.hpp"

namespace cementflow {
namespace {

namespace fs = std::filesystem;

// Smallest cement fraction drawn (below it a voxel shows bone only).
constexpr float kCementShown = 0.02f;
// BV/TV at the top of the porosity ramp: cortical bone saturates; trabecular BV/TV (0.05–0.2,
// PHYSICS.md §L3b) spans most of the ramp.
constexpr double kBvtvTop = 0.25;
// Target image size: the longest side of the model is scaled to about this many pixels.
constexpr int kTargetPixels = 480;
constexpr double kScaleBarMm = 10.0;

/// The model as a dense box of voxels.
struct Volume {
  std::array<int, 3> n{0, 0, 0};
  double h = 1;
  std::array<double, 3> origin{0, 0, 0};  ///< world centre of voxel (0,0,0), mm
  std::vector<std::int32_t> mat;          ///< kInactive outside the model
  std::vector<float> phi;                 ///< empty if absent
  std::vector<float> cem;                 ///< empty if absent
  std::vector<float> perm;                ///< 3 per voxel, empty if absent
  std::size_t idx(int i, int j, int k) const {
    return static_cast<std::size_t>(i) +
           static_cast<std::size_t>(n[0]) *
               (static_cast<std::size_t>(j) + static_cast<std::size_t>(n[1]) * k);
  }
  std::size_t size() const { return static_cast<std::size_t>(n[0]) * n[1] * n[2]; }
};

using Rgb = std::array<std::uint8_t, 3>;

Rgb material_colour(std::int32_t m) {
  switch (m) {
    case 0:
      return {120, 70, 60};  // soft tissue: brown
    case 1:
      return {230, 205, 145};  // trabecular: beige
    case 2:
      return {255, 255, 255};  // cortical: white
    case 3:
      return {0, 200, 200};  // cavity: cyan
    case 4:
      return {40, 80, 235};  // vein: blue
    case 5:
      return {90, 190, 90};  // disc: green
    case 6:
      return {190, 110, 220};  // canal: violet
    case 7:
      return {255, 140, 0};  // needle track: orange
    default:
      return {0, 0, 0};  // outside the model
  }
}

std::uint8_t byte(double x) {
  return static_cast<std::uint8_t>(std::lround(std::clamp(x, 0.0, 255.0)));
}

/// Viridis-like ramp of t in [0, 1] (five stops of matplotlib's viridis, linearly interpolated).
Rgb ramp(double t) {
  static constexpr double kStops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  Rgb o{};
  for (std::size_t c = 0; c < 3; ++c) o[c] = byte((1 - f) * kStops[i][c] + f * kStops[i + 1][c]);
  return o;
}

/// Porosity picture of voxel i: BV/TV of bone on the ramp; leak destinations grey.
Rgb density_colour(std::int32_t m, double bvtv) {
  if (m == kInactive) return {0, 0, 0};
  if (is_leak_destination(m)) return {70, 70, 70};
  return ramp(bvtv / kBvtvTop);
}

/// Yellow (t = 0) to red (t = 1): cement in bone.
Rgb cement_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  return {byte(255 - 35 * t), byte(230 * (1 - t)), 0};
}
/// Pale to full magenta: leaked cement.
Rgb leak_colour(double t) {
  t = std::clamp(t, 0.0, 1.0);
  return {255, byte(180 * (1 - t)), 255};
}

Rgb blend(const Rgb& a, const Rgb& b, double alpha) {
  Rgb o{};
  for (int c = 0; c < 3; ++c)
    o[static_cast<std::size_t>(c)] =
        byte((1 - alpha) * a[static_cast<std::size_t>(c)] + alpha * b[static_cast<std::size_t>(c)]);
  return o;
}

/// Grey level of a bone voxel under the cement: denser = brighter.
Rgb bone_grey(const Volume& v, std::size_t i) {
  const std::int32_t m = v.mat[i];
  if (m == kInactive) return {0, 0, 0};
  if (is_leak_destination(m)) return {45, 45, 45};
  double g = m == 2 ? 215 : (m == 3 ? 25 : 120);
  if (m == 1 && !v.phi.empty()) g = 70 + 400 * (1.0 - static_cast<double>(v.phi[i]));
  const auto b = byte(std::min(g, 200.0));
  return {b, b, b};
}

Rgb cement_pixel(const Volume& v, std::size_t i) {
  const Rgb base = bone_grey(v, i);
  const float s = v.cem[i];
  if (v.mat[i] == kInactive || !(s >= kCementShown)) return base;
  const Rgb c = is_leak_destination(v.mat[i]) ? leak_colour(s) : cement_colour(s);
  return blend(base, c, 0.35 + 0.65 * static_cast<double>(s));
}

/// One view: image axes (u to the right, v down) in terms of volume axes.
struct View {
  const char* name;
  int ua, va, wa;  ///< volume axis along the image's columns, rows, and the viewing depth
  bool u_flip;     ///< columns run toward decreasing coordinate
};
// Axial: columns = x decreasing (right on the left), rows = y decreasing (anterior up).
// Coronal: columns = x decreasing, rows = z decreasing. Sagittal: columns = y decreasing
// (anterior on the left), rows = z decreasing.
constexpr View kViews[3] = {
    {"axial", 0, 1, 2, true}, {"coronal", 0, 2, 1, true}, {"sagittal", 1, 2, 0, true}};

int pixel_scale(const Volume& v) {
  const int longest = std::max({v.n[0], v.n[1], v.n[2]});
  return std::max(1, kTargetPixels / std::max(1, longest));
}

void scale_bar(detail::RgbImage& im, double h, int scale) {
  const int len = static_cast<int>(std::lround(kScaleBarMm / h * scale));
  const int y0 = im.height - 6;
  for (int t = 0; t < 3; ++t)
    for (int x = 4; x < 4 + len; ++x) im.set(x, y0 + t, 255, 255, 255);
}

/// Draws one image: `colour(column, row)` gives the voxel-plane pixel colour.
template <typename Fn>
detail::RgbImage draw(const Volume& v, const View& view, Fn colour) {
  const int s = pixel_scale(v);
  const int nu = v.n[static_cast<std::size_t>(view.ua)],
            nv = v.n[static_cast<std::size_t>(view.va)];
  detail::RgbImage im(nu * s, nv * s, 0, 0, 0);
  for (int r = 0; r < nv; ++r)
    for (int c = 0; c < nu; ++c) {
      const int u = view.u_flip ? nu - 1 - c : c;
      const int w = nv - 1 - r;  // rows run toward decreasing coordinate (up = +)
      const Rgb px = colour(u, w);
      for (int dy = 0; dy < s; ++dy)
        for (int dx = 0; dx < s; ++dx) im.set(c * s + dx, r * s + dy, px[0], px[1], px[2]);
    }
  scale_bar(im, v.h, s);
  return im;
}

std::size_t at(const Volume& v, const View& view, int u, int w, int d) {
  std::array<int, 3> c{};
  c[static_cast<std::size_t>(view.ua)] = u;
  c[static_cast<std::size_t>(view.va)] = w;
  c[static_cast<std::size_t>(view.wa)] = d;
  return v.idx(c[0], c[1], c[2]);
}

double bvtv(const Volume& v, std::size_t i) {
  return v.mat[i] == kInactive ? -1.0 : 1.0 - static_cast<double>(v.phi[i]);
}

std::string fmt(double x) {
  std::ostringstream o;
  o.precision(6);
  o << x;
  return o.str();
}

/// Default slice point: the cement's centroid (weighted by fraction) if there is cement, else the
/// centroid of the bone (materials 1, 2, 3, 7), else the middle of the box. In voxel indices.
std::array<int, 3> default_point(const Volume& v) {
  double c[3] = {0, 0, 0}, wsum = 0;
  for (int pass = 0; pass < 2 && wsum == 0; ++pass)
    for (int k = 0; k < v.n[2]; ++k)
      for (int j = 0; j < v.n[1]; ++j)
        for (int i = 0; i < v.n[0]; ++i) {
          const std::size_t q = v.idx(i, j, k);
          const std::int32_t m = v.mat[q];
          double w = 0;
          if (pass == 0 && !v.cem.empty() && v.cem[q] >= kCementShown && !is_leak_destination(m))
            w = static_cast<double>(v.cem[q]);
          if (pass == 1 && (m == 1 || m == 2 || m == 3 || m == 7)) w = 1;
          c[0] += w * i;
          c[1] += w * j;
          c[2] += w * k;
          wsum += w;
        }
  std::array<int, 3> p{};
  for (int a = 0; a < 3; ++a)
    p[static_cast<std::size_t>(a)] = wsum > 0 ? static_cast<int>(std::lround(c[a] / wsum))
                                              : v.n[static_cast<std::size_t>(a)] / 2;
  return p;
}

void write_vti(const Volume& v, const std::string& path) {
  struct Array {
    const char* name;
    const char* type;
    int comps;
    const void* data;
    std::size_t bytes;
  };
  std::vector<Array> arrays;
  arrays.push_back({"material", "Int32", 1, v.mat.data(), v.mat.size() * sizeof(std::int32_t)});
  if (!v.phi.empty())
    arrays.push_back({"porosity", "Float32", 1, v.phi.data(), v.phi.size() * sizeof(float)});
  if (!v.cem.empty())
    arrays.push_back({"cement_fraction", "Float32", 1, v.cem.data(), v.cem.size() * sizeof(float)});
  if (!v.perm.empty())
    arrays.push_back({"permeability", "Float32", 3, v.perm.data(), v.perm.size() * sizeof(float)});
  const std::uint16_t probe = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  const char* order = first == 1 ? "LittleEndian" : "BigEndian";

  std::ostringstream x;
  x << "<?xml version=\"1.0\"?>\n"
    << "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"" << order
    << "\" header_type=\"UInt64\">\n";
  const std::string extent = "0 " + std::to_string(v.n[0] - 1) + " 0 " +
                             std::to_string(v.n[1] - 1) + " 0 " + std::to_string(v.n[2] - 1);
  x.precision(17);
  x << "  <ImageData WholeExtent=\"" << extent << "\" Origin=\"" << v.origin[0] << " "
    << v.origin[1] << " " << v.origin[2] << "\" Spacing=\"" << v.h << " " << v.h << " " << v.h
    << "\">\n";
  x << "    <Piece Extent=\"" << extent << "\">\n      <PointData Scalars=\"material\">\n";
  std::uint64_t offset = 0;
  for (const auto& a : arrays) {
    x << "        <DataArray type=\"" << a.type << "\" Name=\"" << a.name
      << "\" NumberOfComponents=\"" << a.comps << "\" format=\"appended\" offset=\"" << offset
      << "\"/>\n";
    offset += sizeof(std::uint64_t) + a.bytes;
  }
  x << "      </PointData>\n      <CellData/>\n    </Piece>\n  </ImageData>\n"
    << "  <AppendedData encoding=\"raw\">\n   _";
  std::ofstream o(path, std::ios::binary);
  if (!o) throw InputError(path, "--out", path, "a writable folder for the .vti file");
  const std::string head = x.str();
  o.write(head.data(), static_cast<std::streamsize>(head.size()));
  for (const auto& a : arrays) {
    const std::uint64_t n = a.bytes;
    o.write(reinterpret_cast<const char*>(&n), sizeof n);
    o.write(static_cast<const char*>(a.data), static_cast<std::streamsize>(a.bytes));
  }
  const std::string tail = "\n  </AppendedData>\n</VTKFile>\n";
  o.write(tail.data(), static_cast<std::streamsize>(tail.size()));
  if (!o) throw InputError(path, "--out", path, "a writable folder for the .vti file");
}

std::vector<std::string> render_volume(const Volume& v, const RenderOptions& opt) {
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (!fs::is_directory(opt.out_dir, ec))
    throw InputError(opt.out_dir, "--out", opt.out_dir, "a folder that can be created");

  std::array<int, 3> p = default_point(v);
  if (opt.has_at) {
    for (int a = 0; a < 3; ++a) {
      const auto sa = static_cast<std::size_t>(a);
      const double f = (opt.at_mm[sa] - v.origin[sa]) / v.h;
      const int q = static_cast<int>(std::lround(f));
      if (!std::isfinite(f) || q < 0 || q >= v.n[sa]) {
        std::ostringstream e;
        e << "a point inside the model's box: x " << v.origin[0] << ".."
          << v.origin[0] + v.h * (v.n[0] - 1) << ", y " << v.origin[1] << ".."
          << v.origin[1] + v.h * (v.n[1] - 1) << ", z " << v.origin[2] << ".."
          << v.origin[2] + v.h * (v.n[2] - 1) << " mm";
        throw InputError("<arguments>", "--at",
                         fmt(opt.at_mm[0]) + "," + fmt(opt.at_mm[1]) + "," + fmt(opt.at_mm[2]),
                         e.str());
      }
      p[sa] = q;
    }
  }

  std::vector<std::string> written;
  auto save = [&](const std::string& name, const detail::RgbImage& im) {
    const std::string path = (fs::path(opt.out_dir) / name).string();
    detail::write_png(path, im);
    written.push_back(path);
  };
  for (const View& view : kViews) {
    const int depth = p[static_cast<std::size_t>(view.wa)];
    const int nd = v.n[static_cast<std::size_t>(view.wa)];
    const std::string n = view.name;
    // Material.
    save("material_" + n + ".png", draw(v, view, [&](int u, int w) {
           return material_colour(v.mat[at(v, view, u, w, depth)]);
         }));
    save("material_mip_" + n + ".png", draw(v, view, [&](int u, int w) {
           std::int32_t m = kInactive;
           for (int d = 0; d < nd; ++d) m = std::max(m, v.mat[at(v, view, u, w, d)]);
           return material_colour(m);
         }));
    // Porosity, as BV/TV.
    if (!v.phi.empty()) {
      save("porosity_" + n + ".png", draw(v, view, [&](int u, int w) {
             const std::size_t i = at(v, view, u, w, depth);
             return density_colour(v.mat[i], bvtv(v, i));
           }));
      save("porosity_mip_" + n + ".png", draw(v, view, [&](int u, int w) {
             // The densest bone along the ray; grey where the ray meets only leak destinations.
             double b = -1;
             bool dest = false;
             for (int d = 0; d < nd; ++d) {
               const std::size_t i = at(v, view, u, w, d);
               if (v.mat[i] == kInactive) continue;
               if (is_leak_destination(v.mat[i]))
                 dest = true;
               else
                 b = std::max(b, bvtv(v, i));
             }
             if (b >= 0) return density_colour(1, b);
             return dest ? density_colour(0, 0) : Rgb{0, 0, 0};
           }));
    }
    // Cement over bone.
    if (!v.cem.empty()) {
      save("cement_" + n + ".png",
           draw(v, view, [&](int u, int w) { return cement_pixel(v, at(v, view, u, w, depth)); }));
      save("cement_mip_" + n + ".png", draw(v, view, [&](int u, int w) {
             // The densest bone along the ray under the most cement along it.
             std::size_t best = 0, bone = 0;
             float smax = -1;
             int gmax = -1;
             for (int d = 0; d < nd; ++d) {
               const std::size_t i = at(v, view, u, w, d);
               if (v.mat[i] == kInactive) continue;
               const int g = bone_grey(v, i)[0];
               if (g > gmax) {
                 gmax = g;
                 bone = i;
               }
               if (v.cem[i] > smax) {
                 smax = v.cem[i];
                 best = i;
               }
             }
             if (gmax < 0) return Rgb{0, 0, 0};
             if (!(smax >= kCementShown)) return bone_grey(v, bone);
             const Rgb c =
                 is_leak_destination(v.mat[best]) ? leak_colour(smax) : cement_colour(smax);
             return blend(bone_grey(v, bone), c, 0.35 + 0.65 * static_cast<double>(smax));
           }));
    }
  }
  if (opt.vtk) {
    const std::string path = (fs::path(opt.out_dir) / (opt.stem + ".vti")).string();
    write_vti(v, path);
    written.push_back(path);
  }
  return written;
}

/// Dense volume over the bounding box of the bone's active voxels.
Volume volume_of(const BoneBlocks& bone, const std::vector<float>* cement) {
  std::array<int, 3> lo{1 << 30, 1 << 30, 1 << 30}, hi{-(1 << 30), -(1 << 30), -(1 << 30)};
  for (std::size_t b = 0; b < bone.num_blocks(); ++b)
    for (int l = 0; l < BoneBlocks::kBlockVoxels; ++l) {
      if (bone.material[b * BoneBlocks::kBlockVoxels + static_cast<std::size_t>(l)] == kInactive)
        continue;
      const std::array<int, 3> c{bone.block_origin[b][0] + (l & 7),
                                 bone.block_origin[b][1] + ((l >> 3) & 7),
                                 bone.block_origin[b][2] + (l >> 6)};
      for (int a = 0; a < 3; ++a) {
        const auto sa = static_cast<std::size_t>(a);
        lo[sa] = std::min(lo[sa], c[sa]);
        hi[sa] = std::max(hi[sa], c[sa]);
      }
    }
  if (hi[0] < lo[0]) throw InputError("<bone>", "material", "no active voxel", "a non-empty model");
  Volume v;
  v.h = bone.voxel_mm;
  for (int a = 0; a < 3; ++a) {
    const auto sa = static_cast<std::size_t>(a);
    v.n[sa] = hi[sa] - lo[sa] + 1;
    v.origin[sa] = bone.origin_mm[sa] + bone.voxel_mm * lo[sa];
  }
  v.mat.assign(v.size(), kInactive);
  v.phi.assign(v.size(), 0.0f);
  const bool with_cement = cement && cement->size() == bone.num_voxels();
  if (with_cement) v.cem.assign(v.size(), 0.0f);
  const bool with_k = bone.permeability.size() == 3 * bone.num_voxels();
  if (with_k) v.perm.assign(3 * v.size(), 0.0f);
  for (std::size_t b = 0; b < bone.num_blocks(); ++b)
    for (int l = 0; l < BoneBlocks::kBlockVoxels; ++l) {
      const std::size_t s = b * BoneBlocks::kBlockVoxels + static_cast<std::size_t>(l);
      if (bone.material[s] == kInactive) continue;
      const std::size_t d = v.idx(bone.block_origin[b][0] + (l & 7) - lo[0],
                                  bone.block_origin[b][1] + ((l >> 3) & 7) - lo[1],
                                  bone.block_origin[b][2] + (l >> 6) - lo[2]);
      v.mat[d] = bone.material[s];
      v.phi[d] = bone.porosity[s];
      if (with_cement) v.cem[d] = (*cement)[s];
      if (with_k)
        for (std::size_t c = 0; c < 3; ++c) v.perm[3 * d + c] = bone.permeability[3 * s + c];
    }
  return v;
}

}  // namespace

std::vector<std::string> render_bone(const BoneBlocks& bone,
                                     const std::vector<float>* cement_fraction,
                                     const RenderOptions& options) {
  return render_volume(volume_of(bone, cement_fraction), options);
}

std::vector<std::string> render_vdb(const std::string& vdb_path, const RenderOptions& options) {
  const detail::VdbContents vdb = detail::read_vdb(vdb_path);
  const auto base = detail::find_grid(vdb, "material");
  const auto mat = openvdb::gridPtrCast<openvdb::Int32Grid>(base);
  if (!mat)
    throw InputError(vdb_path, "material", base ? "a grid of type " + base->valueType() : "none",
                     "an Int32 material grid (a bone file or a fill.vdb)");
  const detail::GridFrame frame = detail::grid_frame(*mat, vdb_path);
  const openvdb::CoordBBox box = mat->evalActiveVoxelBoundingBox();
  if (box.empty())
    throw InputError(vdb_path, "material", "no active voxel", "a non-empty material grid");

  Volume v;
  v.h = frame.voxel_mm;
  for (int a = 0; a < 3; ++a) {
    const auto sa = static_cast<std::size_t>(a);
    v.n[sa] = box.dim()[a];
    v.origin[sa] = frame.origin_mm[sa] + frame.voxel_mm * box.min()[a];
  }
  v.mat.assign(v.size(), kInactive);
  for (auto it = mat->cbeginValueOn(); it; ++it) {
    // Tiles are not produced by this library; expand them voxel by voxel all the same.
    openvdb::CoordBBox bb;
    it.getBoundingBox(bb);
    for (auto c = bb.begin(); c; ++c) {
      const openvdb::Coord q = *c - box.min();
      v.mat[v.idx(q.x(), q.y(), q.z())] = *it;
    }
  }
  // The same frame as the material grid, or the grid is refused.
  auto same_frame = [&](const openvdb::GridBase& g) {
    const detail::GridFrame f = detail::grid_frame(g, vdb_path);
    bool same = std::abs(f.voxel_mm - frame.voxel_mm) <= 1e-6 * frame.voxel_mm;
    for (std::size_t a = 0; a < 3; ++a)
      same = same && std::abs(f.origin_mm[a] - frame.origin_mm[a]) <= 1e-6 * frame.voxel_mm;
    if (!same)
      throw InputError(vdb_path, g.getName(), "a transform unlike the material grid's",
                       "the material grid's voxel size and origin");
  };
  auto read_float = [&](const char* name, std::vector<float>& out) {
    const auto g = openvdb::gridPtrCast<openvdb::FloatGrid>(detail::find_grid(vdb, name));
    if (!g) return;
    same_frame(*g);
    out.assign(v.size(), 0.0f);
    auto acc = g->getConstAccessor();
    for (int k = 0; k < v.n[2]; ++k)
      for (int j = 0; j < v.n[1]; ++j)
        for (int i = 0; i < v.n[0]; ++i) {
          const openvdb::Coord c = box.min() + openvdb::Coord(i, j, k);
          if (acc.isValueOn(c)) out[v.idx(i, j, k)] = acc.getValue(c);
        }
  };
  read_float("porosity", v.phi);
  read_float("cement_fraction", v.cem);
  if (const auto g =
          openvdb::gridPtrCast<openvdb::Vec3SGrid>(detail::find_grid(vdb, "permeability"))) {
    same_frame(*g);
    v.perm.assign(3 * v.size(), 0.0f);
    auto acc = g->getConstAccessor();
    for (int k = 0; k < v.n[2]; ++k)
      for (int j = 0; j < v.n[1]; ++j)
        for (int i = 0; i < v.n[0]; ++i) {
          const openvdb::Coord c = box.min() + openvdb::Coord(i, j, k);
          if (!acc.isValueOn(c)) continue;
          const openvdb::Vec3s k3 = acc.getValue(c);
          for (int a = 0; a < 3; ++a)
            v.perm[3 * v.idx(i, j, k) + static_cast<std::size_t>(a)] = k3[a];
        }
  }
  return render_volume(v, options);
}

}  // namespace cementflow

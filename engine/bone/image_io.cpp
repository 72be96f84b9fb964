// Image readers for `cementflow import` (see image_io.hpp). TIFF through libtiff, NIfTI through
// libnifti2 (NIfTI-1 and -2, gzip), DICOM through GDCM (which decodes JPEG 2000 with OpenJPEG).
// MetaImage (.mhd) has no Debian library short of ITK, so its small text header is parsed here,
// strictly: every key must be known, the data must be uncompressed raw of the exact size.

#include "engine/bone/image_io.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmPixelFormat.h>
#include <gdcmTrace.h>
#include <nifti2_io.h>

#include "cementflow/errors.hpp"

namespace cementflow::detail {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string num(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

[[noreturn]] void bad(const std::string& file, const std::string& key, const std::string& value,
                      const std::string& expected) {
  throw InputError(file, key, value, expected);
}

void check_size(const std::string& file, const std::array<std::int64_t, 3>& d) {
  for (int a = 0; a < 3; ++a)
    if (d[a] < 1)
      bad(file, "dimensions", num(static_cast<double>(d[a])), "at least one voxel per axis");
  const double n =
      static_cast<double>(d[0]) * static_cast<double>(d[1]) * static_cast<double>(d[2]);
  if (n > kMaxImageVoxels)
    bad(file, "dimensions", num(n) + " voxels",
        "an image of at most " + num(kMaxImageVoxels) + " voxels");
}

/// Diagonal affine with the given spacing and origin (no rotation).
std::array<std::array<double, 4>, 3> diagonal_affine(const std::array<double, 3>& spacing,
                                                     const std::array<double, 3>& origin) {
  std::array<std::array<double, 4>, 3> a{};
  for (int r = 0; r < 3; ++r) {
    a[r][r] = spacing[r];
    a[r][3] = origin[r];
  }
  return a;
}

void check_affine(const std::string& file, const Volume& v) {
  const auto s = v.spacing_mm();
  for (int a = 0; a < 3; ++a)
    if (!(std::isfinite(s[a]) && s[a] > 0))
      bad(file, "voxel spacing", num(s[a]), "a positive, finite voxel size in mm on every axis");
  for (const auto& row : v.affine)
    for (double x : row)
      if (!std::isfinite(x)) bad(file, "orientation", num(x), "a finite voxel-to-world transform");
  // Non-degenerate axes: the determinant relative to the spacings.
  const auto& A = v.affine;
  const double det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                     A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                     A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
  if (!(std::abs(det) > 1e-6 * s[0] * s[1] * s[2]))
    bad(file, "orientation", "degenerate axes", "three independent image axes");
}

// ---------------------------------------------------------------------------------------------
// TIFF
// ---------------------------------------------------------------------------------------------

struct TiffCloser {
  void operator()(TIFF* t) const {
    if (t) TIFFClose(t);
  }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

extern "C" void tiff_quiet(const char*, const char*, va_list) {}

/// Appends one TIFF page (the current directory of `t`) to `out`; checks it is w x h.
void read_tiff_page(TIFF* t, const std::string& file, std::uint32_t& w, std::uint32_t& h,
                    std::vector<double>& out) {
  std::uint32_t pw = 0, ph = 0;
  std::uint16_t bits = 0, spp = 1, fmt = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &pw);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &ph);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  if (spp != 1) bad(file, "SamplesPerPixel", std::to_string(spp), "1 (a grey-value image)");
  if (TIFFIsTiled(t)) bad(file, "layout", "tiled", "a strip (scanline) TIFF");
  if (!(bits == 8 || bits == 16 || bits == 32))
    bad(file, "BitsPerSample", std::to_string(bits), "8, 16 or 32");
  if (!(fmt == SAMPLEFORMAT_UINT || fmt == SAMPLEFORMAT_INT || fmt == SAMPLEFORMAT_IEEEFP) ||
      (fmt == SAMPLEFORMAT_IEEEFP && bits != 32))
    bad(file, "SampleFormat", std::to_string(fmt), "unsigned or signed integers or 32-bit floats");
  if (w == 0 && h == 0) {
    w = pw;
    h = ph;
  }
  if (pw != w || ph != h || pw == 0 || ph == 0)
    bad(file, "image size", std::to_string(pw) + "x" + std::to_string(ph),
        "every slice " + std::to_string(w) + "x" + std::to_string(h) + " like the first");
  const tmsize_t line = TIFFScanlineSize(t);
  if (line < static_cast<tmsize_t>(pw) * (bits / 8)) bad(file, "scanline", num(line), "a full row");
  std::vector<unsigned char> buf(static_cast<std::size_t>(line));
  for (std::uint32_t r = 0; r < ph; ++r) {
    if (TIFFReadScanline(t, buf.data(), r, 0) < 0)
      bad(file, "row " + std::to_string(r), "unreadable", "a readable TIFF strip");
    for (std::uint32_t c = 0; c < pw; ++c) {
      const unsigned char* p = buf.data() + static_cast<std::size_t>(c) * (bits / 8);
      double v = 0;
      if (bits == 8) {
        v = fmt == SAMPLEFORMAT_INT ? static_cast<double>(static_cast<std::int8_t>(*p))
                                    : static_cast<double>(*p);
      } else if (bits == 16) {
        std::uint16_t u;
        std::memcpy(&u, p, 2);  // libtiff returns native byte order
        v = fmt == SAMPLEFORMAT_INT ? static_cast<double>(static_cast<std::int16_t>(u))
                                    : static_cast<double>(u);
      } else if (fmt == SAMPLEFORMAT_IEEEFP) {
        float f;
        std::memcpy(&f, p, 4);
        v = static_cast<double>(f);
      } else {
        std::uint32_t u;
        std::memcpy(&u, p, 4);
        v = fmt == SAMPLEFORMAT_INT ? static_cast<double>(static_cast<std::int32_t>(u))
                                    : static_cast<double>(u);
      }
      out.push_back(v);
    }
  }
}

/// Voxel size from an ImageJ header ("unit=mm|micron", "spacing=") and the XResolution tag;
/// 0 when the file does not say.
double imagej_spacing_mm(TIFF* t) {
  char* desc = nullptr;
  float xres = 0;
  if (!TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &desc) || !desc) return 0;
  if (!TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres) || !(xres > 0)) return 0;
  const std::string d(desc);
  const auto value = [&](const std::string& key) -> std::string {
    const auto p = d.find("\n" + key + "=");
    if (p == std::string::npos) return "";
    const auto e = d.find('\n', p + 1);
    return d.substr(p + key.size() + 2,
                    e == std::string::npos ? std::string::npos : e - (p + key.size() + 2));
  };
  const std::string unit = value("unit");
  double scale = 0;
  if (unit == "mm") scale = 1;
  if (unit == "micron" || unit == "um" || unit == "\\u00B5m") scale = 1e-3;
  if (scale == 0) return 0;
  return scale / static_cast<double>(xres);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Volume geometry
// ---------------------------------------------------------------------------------------------

std::array<double, 3> Volume::spacing_mm() const {
  std::array<double, 3> s{};
  for (int c = 0; c < 3; ++c)
    s[c] = std::sqrt(affine[0][c] * affine[0][c] + affine[1][c] * affine[1][c] +
                     affine[2][c] * affine[2][c]);
  return s;
}

std::array<double, 3> Volume::to_world(const std::array<double, 3>& ijk) const {
  std::array<double, 3> w{};
  for (int r = 0; r < 3; ++r)
    w[r] = affine[r][0] * ijk[0] + affine[r][1] * ijk[1] + affine[r][2] * ijk[2] + affine[r][3];
  return w;
}

std::array<double, 3> Volume::to_index(const std::array<double, 3>& world) const {
  const auto& A = affine;
  const double det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                     A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                     A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
  double inv[3][3];
  inv[0][0] = (A[1][1] * A[2][2] - A[1][2] * A[2][1]) / det;
  inv[0][1] = (A[0][2] * A[2][1] - A[0][1] * A[2][2]) / det;
  inv[0][2] = (A[0][1] * A[1][2] - A[0][2] * A[1][1]) / det;
  inv[1][0] = (A[1][2] * A[2][0] - A[1][0] * A[2][2]) / det;
  inv[1][1] = (A[0][0] * A[2][2] - A[0][2] * A[2][0]) / det;
  inv[1][2] = (A[0][2] * A[1][0] - A[0][0] * A[1][2]) / det;
  inv[2][0] = (A[1][0] * A[2][1] - A[1][1] * A[2][0]) / det;
  inv[2][1] = (A[0][1] * A[2][0] - A[0][0] * A[2][1]) / det;
  inv[2][2] = (A[0][0] * A[1][1] - A[0][1] * A[1][0]) / det;
  const double d[3] = {world[0] - A[0][3], world[1] - A[1][3], world[2] - A[2][3]};
  std::array<double, 3> ijk{};
  for (int r = 0; r < 3; ++r) ijk[r] = inv[r][0] * d[0] + inv[r][1] * d[1] + inv[r][2] * d[2];
  return ijk;
}

// ---------------------------------------------------------------------------------------------
// TIFF stack: a folder of single-page TIFFs (sorted by name = slice order) or one multi-page TIFF.
// Micro-CT has no patient orientation: index axes map to x, y, z, voxel (0,0,0) at the origin.
// ---------------------------------------------------------------------------------------------

Volume read_tiff_stack(const std::string& path, double spacing_mm) {
  TIFFSetWarningHandler(tiff_quiet);
  TIFFSetErrorHandler(tiff_quiet);
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const std::string ext = lower(e.path().extension().string());
      if (e.is_regular_file() && (ext == ".tif" || ext == ".tiff")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) bad(path, "", "a folder without .tif files", "a folder of TIFF slices");
  } else {
    files.push_back(path);
  }
  Volume v;
  v.format = "tiff";
  v.source = path;
  std::uint32_t w = 0, h = 0;
  std::int64_t slices = 0;
  double file_spacing = 0;
  for (const auto& f : files) {
    TiffPtr t(TIFFOpen(f.c_str(), "r"));
    if (!t)
      bad(f, "", fs::exists(f, ec) ? "not a readable TIFF file" : "no such file",
          "a readable TIFF image");
    if (slices == 0) file_spacing = imagej_spacing_mm(t.get());
    do {
      read_tiff_page(t.get(), f, w, h, v.values);
      ++slices;
      if (static_cast<double>(w) * h * static_cast<double>(slices) > kMaxImageVoxels)
        bad(path, "dimensions", "more than " + num(kMaxImageVoxels) + " voxels",
            "an image of at most " + num(kMaxImageVoxels) + " voxels");
    } while (TIFFReadDirectory(t.get()));
  }
  v.dims = {static_cast<std::int64_t>(w), static_cast<std::int64_t>(h), slices};
  const double s = spacing_mm > 0 ? spacing_mm : file_spacing;
  if (!(s > 0))
    bad(path, "voxel size", "not stored in the TIFF",
        "the micro-CT voxel size given with --image-spacing-mm (or an ImageJ unit and "
        "resolution)");
  v.affine = diagonal_affine({s, s, s}, {0, 0, 0});
  check_affine(path, v);
  return v;
}

// ---------------------------------------------------------------------------------------------
// MetaImage (.mhd + raw). World coordinates are LPS (the ITK convention); converted to RAS.
// ---------------------------------------------------------------------------------------------

Volume read_metaimage(const std::string& mhd) {
  std::ifstream in(mhd);
  std::error_code ec;
  if (!in)
    bad(mhd, "", fs::exists(mhd, ec) ? "a file that cannot be read" : "no such file",
        "a readable MetaImage header");
  std::map<std::string, std::string> kv;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      bad(mhd, "line " + std::to_string(lineno), line, "a 'Key = Value' line");
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t");
      const auto e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    const std::string key = trim(line.substr(0, eq)), val = trim(line.substr(eq + 1));
    static const char* const known[] = {"ObjectType",
                                        "NDims",
                                        "BinaryData",
                                        "BinaryDataByteOrderMSB",
                                        "ElementByteOrderMSB",
                                        "CompressedData",
                                        "Offset",
                                        "Origin",
                                        "Position",
                                        "ElementSpacing",
                                        "ElementSize",
                                        "DimSize",
                                        "ElementType",
                                        "ElementDataFile",
                                        "TransformMatrix",
                                        "Rotation",
                                        "Orientation",
                                        "CenterOfRotation",
                                        "AnatomicalOrientation",
                                        "ElementNumberOfChannels",
                                        "HeaderSize",
                                        "Comment",
                                        "ObjectSubType",
                                        "Name",
                                        "ElementMin",
                                        "ElementMax",
                                        "TransformType",
                                        "ID",
                                        "ParentID",
                                        "Color"};
    if (std::find(std::begin(known), std::end(known), key) == std::end(known))
      bad(mhd, key, val, "a MetaImage key this reader knows (line " + std::to_string(lineno) + ")");
    kv[key] = val;
    if (key == "ElementDataFile") break;  // the last key by the format's definition
  }
  const auto get = [&](const std::string& k) -> std::string {
    const auto it = kv.find(k);
    return it == kv.end() ? "" : it->second;
  };
  const auto numbers = [&](const std::string& k, std::size_t n) {
    std::istringstream s(get(k));
    std::vector<double> out;
    double x;
    while (s >> x) out.push_back(x);
    if (out.size() != n || !s.eof()) bad(mhd, k, get(k), std::to_string(n) + " numbers");
    return out;
  };
  if (!get("ObjectType").empty() && get("ObjectType") != "Image")
    bad(mhd, "ObjectType", get("ObjectType"), "Image");
  if (get("NDims") != "3") bad(mhd, "NDims", get("NDims"), "3");
  if (!get("ElementNumberOfChannels").empty() && get("ElementNumberOfChannels") != "1")
    bad(mhd, "ElementNumberOfChannels", get("ElementNumberOfChannels"), "1");
  if (lower(get("CompressedData")) == "true")
    bad(mhd, "CompressedData", get("CompressedData"), "False (uncompressed raw data)");
  if (!get("BinaryData").empty() && lower(get("BinaryData")) != "true")
    bad(mhd, "BinaryData", get("BinaryData"), "True");
  std::string msb = get("ElementByteOrderMSB");
  if (msb.empty()) msb = get("BinaryDataByteOrderMSB");
  const bool big_endian = lower(msb) == "true";
  if (!msb.empty() && lower(msb) != "true" && lower(msb) != "false")
    bad(mhd, "BinaryDataByteOrderMSB", msb, "True or False");

  Volume v;
  v.format = "metaimage";
  v.source = mhd;
  const auto dim = numbers("DimSize", 3);
  for (int a = 0; a < 3; ++a) {
    if (!(dim[a] >= 1 && dim[a] == std::floor(dim[a])))
      bad(mhd, "DimSize", get("DimSize"), "three positive whole numbers");
    v.dims[a] = static_cast<std::int64_t>(dim[a]);
  }
  check_size(mhd, v.dims);
  const auto sp = numbers(kv.count("ElementSpacing") ? "ElementSpacing" : "ElementSize", 3);
  std::vector<double> origin{0, 0, 0};
  for (const char* k : {"Offset", "Origin", "Position"})
    if (kv.count(k)) origin = numbers(k, 3);
  std::vector<double> dir{1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (const char* k : {"TransformMatrix", "Rotation", "Orientation"})
    if (kv.count(k)) dir = numbers(k, 9);
  // Each consecutive triple of TransformMatrix is the LPS direction of one index axis (ITK's
  // MetaImageIO reads it this way); LPS -> RAS negates x and y.
  for (int r = 0; r < 3; ++r) {
    const double flip = r < 2 ? -1.0 : 1.0;
    for (int c = 0; c < 3; ++c) v.affine[r][c] = flip * dir[3 * c + r] * sp[c];
    v.affine[r][3] = flip * origin[r];
  }
  check_affine(mhd, v);

  struct Type {
    const char* name;
    int bytes;
    char kind;  // 'u', 'i', 'f'
  };
  static const Type types[] = {{"MET_UCHAR", 1, 'u'}, {"MET_CHAR", 1, 'i'},  {"MET_USHORT", 2, 'u'},
                               {"MET_SHORT", 2, 'i'}, {"MET_UINT", 4, 'u'},  {"MET_INT", 4, 'i'},
                               {"MET_FLOAT", 4, 'f'}, {"MET_DOUBLE", 8, 'f'}};
  const Type* type = nullptr;
  for (const auto& t : types)
    if (get("ElementType") == t.name) type = &t;
  if (!type)
    bad(mhd, "ElementType", get("ElementType"),
        "MET_UCHAR, MET_CHAR, MET_USHORT, MET_SHORT, MET_UINT, MET_INT, MET_FLOAT or MET_DOUBLE");
  const std::string data_name = get("ElementDataFile");
  if (data_name.empty() || data_name == "LOCAL" || data_name.find(' ') != std::string::npos)
    bad(mhd, "ElementDataFile", data_name, "the name of one raw data file beside the header");
  const fs::path data = fs::path(mhd).parent_path() / data_name;
  long header = 0;
  if (kv.count("HeaderSize")) {
    const auto hs = numbers("HeaderSize", 1)[0];
    if (!(hs >= 0 && hs == std::floor(hs)))
      bad(mhd, "HeaderSize", get("HeaderSize"), "a byte count >= 0");
    header = static_cast<long>(hs);
  }
  const std::uintmax_t want = v.size() * static_cast<std::size_t>(type->bytes);
  const std::uintmax_t have = fs::file_size(data, ec);
  if (ec) bad(data.string(), "", "no such file", "the raw data named by " + mhd);
  if (have != want + static_cast<std::uintmax_t>(header))
    bad(data.string(), "size", std::to_string(have) + " bytes",
        std::to_string(want + static_cast<std::uintmax_t>(header)) + " bytes (DimSize x " +
            type->name + " in " + mhd + ")");
  std::ifstream raw(data, std::ios::binary);
  std::vector<unsigned char> bytes(want);
  raw.seekg(header);
  raw.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(want));
  if (!raw) bad(data.string(), "", "a read error", "readable raw data");
  v.values.resize(v.size());
  const int nb = type->bytes;
  for (std::size_t i = 0; i < v.size(); ++i) {
    unsigned char b[8];
    for (int k = 0; k < nb; ++k)
      b[k] = bytes[i * static_cast<std::size_t>(nb) +
                   static_cast<std::size_t>(big_endian ? nb - 1 - k : k)];
    double x = 0;
    switch (nb) {
      case 1:
        x = type->kind == 'i' ? static_cast<double>(static_cast<std::int8_t>(b[0])) : b[0];
        break;
      case 2: {
        std::uint16_t u;
        std::memcpy(&u, b, 2);
        x = type->kind == 'i' ? static_cast<double>(static_cast<std::int16_t>(u)) : u;
        break;
      }
      case 4: {
        std::uint32_t u;
        std::memcpy(&u, b, 4);
        if (type->kind == 'f') {
          float f;
          std::memcpy(&f, b, 4);
          x = static_cast<double>(f);
        } else {
          x = type->kind == 'i' ? static_cast<double>(static_cast<std::int32_t>(u)) : u;
        }
        break;
      }
      default:
        std::memcpy(&x, b, 8);
    }
    if (!std::isfinite(x))
      bad(data.string(), "voxel " + std::to_string(i), num(x), "a finite value");
    v.values[i] = x;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// NIfTI (libnifti2): world = sform when set, else qform, else the voxel sizes; RAS already.
// ---------------------------------------------------------------------------------------------

Volume read_nifti(const std::string& path) {
  nifti_set_debug_level(0);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    bad(path, "", fs::exists(path, ec) ? "not a regular file" : "no such file",
        "a readable NIfTI image");
  std::unique_ptr<nifti_image, void (*)(nifti_image*)> nim(nifti_image_read(path.c_str(), 0),
                                                           nifti_image_free);
  if (!nim)
    bad(path, "", "not a readable NIfTI file", "a NIfTI-1 or NIfTI-2 image (.nii, .nii.gz)");
  for (int d = 4; d <= 7; ++d)
    if (nim->dim[d] > 1)
      bad(path, "dim[" + std::to_string(d) + "]", std::to_string(nim->dim[d]),
          "a single 3-D volume (no time series or vector data)");
  Volume v;
  v.format = "nifti";
  v.source = path;
  v.dims = {nim->nx, nim->ny, std::max<std::int64_t>(1, nim->nz)};
  check_size(path, v.dims);
  if (nifti_image_load(nim.get()) != 0 || !nim->data)
    bad(path, "data", "unreadable (truncated or corrupt)", "the image data the header describes");
  const nifti_dmat44* m = nullptr;
  if (nim->sform_code > 0)
    m = &nim->sto_xyz;
  else if (nim->qform_code > 0)
    m = &nim->qto_xyz;
  if (m) {
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) v.affine[r][c] = m->m[r][c];
  } else {
    v.affine = diagonal_affine({nim->dx, nim->dy, nim->dz}, {0, 0, 0});
  }
  check_affine(path, v);
  const double slope = nim->scl_slope, inter = nim->scl_inter;
  const bool scale = std::isfinite(slope) && slope != 0;
  const std::size_t n = v.size();
  v.values.resize(n);
  const void* d = nim->data;
  const auto conv = [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(d);
    for (std::size_t i = 0; i < n; ++i) v.values[i] = static_cast<double>(p[i]);
  };
  switch (nim->datatype) {
    case DT_UINT8:
      conv(std::uint8_t{});
      break;
    case DT_INT8:
      conv(std::int8_t{});
      break;
    case DT_UINT16:
      conv(std::uint16_t{});
      break;
    case DT_INT16:
      conv(std::int16_t{});
      break;
    case DT_UINT32:
      conv(std::uint32_t{});
      break;
    case DT_INT32:
      conv(std::int32_t{});
      break;
    case DT_INT64:
      conv(std::int64_t{});
      break;
    case DT_UINT64:
      conv(std::uint64_t{});
      break;
    case DT_FLOAT32:
      conv(float{});
      break;
    case DT_FLOAT64:
      conv(double{});
      break;
    default:
      bad(path, "datatype", nifti_datatype_string(nim->datatype),
          "a scalar integer or floating-point type");
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (scale) v.values[i] = slope * v.values[i] + inter;
    if (!std::isfinite(v.values[i]))
      bad(path, "voxel " + std::to_string(i), num(v.values[i]), "a finite value");
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// DICOM series (GDCM): every file of the folder is one slice of the same series; slices sorted
// along the slice normal by ImagePositionPatient, equally spaced; values = slope * stored +
// intercept (HU for CT). LPS -> RAS.
// ---------------------------------------------------------------------------------------------

Volume read_dicom_series(const std::string& folder) {
  gdcm::Trace::WarningOff();
  gdcm::Trace::ErrorOff();
  struct Slice {
    std::string file;
    double pos = 0;
    std::array<double, 3> origin{};
    std::vector<double> values;
  };
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file()) files.push_back(e.path().string());
  if (ec || files.empty()) bad(folder, "", "no files", "a folder with a DICOM series");
  std::sort(files.begin(), files.end());

  std::array<double, 6> cosines{};
  std::array<double, 2> pixel{};
  unsigned cols = 0, rows = 0;
  std::array<double, 3> normal{};
  std::vector<Slice> slices;
  for (const auto& f : files) {
    gdcm::ImageReader reader;
    reader.SetFileName(f.c_str());
    if (!reader.Read()) bad(f, "", "not a readable DICOM image", "a DICOM slice of the series");
    const gdcm::Image& img = reader.GetImage();
    if (img.GetNumberOfDimensions() != 2 && img.GetDimension(2) != 1)
      bad(f, "NumberOfFrames", std::to_string(img.GetDimension(2)), "one frame per file");
    const gdcm::PixelFormat pf = img.GetPixelFormat();
    if (pf.GetSamplesPerPixel() != 1)
      bad(f, "SamplesPerPixel", std::to_string(pf.GetSamplesPerPixel()), "1 (a grey-value CT)");
    const unsigned c = img.GetDimension(0), r = img.GetDimension(1);
    const double* dc = img.GetDirectionCosines();
    std::array<double, 6> cs{dc[0], dc[1], dc[2], dc[3], dc[4], dc[5]};
    std::array<double, 2> px{img.GetSpacing(0), img.GetSpacing(1)};
    if (slices.empty()) {
      cols = c;
      rows = r;
      cosines = cs;
      pixel = px;
      normal = {cs[1] * cs[5] - cs[2] * cs[4], cs[2] * cs[3] - cs[0] * cs[5],
                cs[0] * cs[4] - cs[1] * cs[3]};
    } else {
      if (c != cols || r != rows)
        bad(f, "Rows/Columns", std::to_string(r) + "x" + std::to_string(c),
            std::to_string(rows) + "x" + std::to_string(cols) + " like " + slices[0].file);
      for (int k = 0; k < 6; ++k)
        if (std::abs(cs[static_cast<std::size_t>(k)] - cosines[static_cast<std::size_t>(k)]) > 1e-4)
          bad(f, "ImageOrientationPatient", "differs", "the orientation of " + slices[0].file);
      if (std::abs(px[0] - pixel[0]) > 1e-4 || std::abs(px[1] - pixel[1]) > 1e-4)
        bad(f, "PixelSpacing", num(px[0]) + "\\" + num(px[1]),
            num(pixel[0]) + "\\" + num(pixel[1]) + " like " + slices[0].file);
    }
    Slice s;
    s.file = f;
    for (int a = 0; a < 3; ++a)
      s.origin[static_cast<std::size_t>(a)] = img.GetOrigin(static_cast<unsigned>(a));
    s.pos = s.origin[0] * normal[0] + s.origin[1] * normal[1] + s.origin[2] * normal[2];
    std::vector<char> buf(img.GetBufferLength());
    if (!img.GetBuffer(buf.data()))
      bad(f, "PixelData", "cannot be decoded", "pixel data GDCM can decode");
    const double slope = img.GetSlope(), inter = img.GetIntercept();
    const std::size_t n = static_cast<std::size_t>(c) * r;
    s.values.resize(n);
    const auto conv = [&](auto tag) {
      using T = decltype(tag);
      if (buf.size() < n * sizeof(T)) bad(f, "PixelData", "too short", "Rows x Columns pixels");
      for (std::size_t i = 0; i < n; ++i) {
        T x;
        std::memcpy(&x, buf.data() + i * sizeof(T), sizeof(T));
        s.values[i] = slope * static_cast<double>(x) + inter;
      }
    };
    switch (pf.GetScalarType()) {
      case gdcm::PixelFormat::UINT8:
        conv(std::uint8_t{});
        break;
      case gdcm::PixelFormat::INT8:
        conv(std::int8_t{});
        break;
      case gdcm::PixelFormat::UINT12:
      case gdcm::PixelFormat::UINT16:
        conv(std::uint16_t{});
        break;
      case gdcm::PixelFormat::INT12:
      case gdcm::PixelFormat::INT16:
        conv(std::int16_t{});
        break;
      case gdcm::PixelFormat::UINT32:
        conv(std::uint32_t{});
        break;
      case gdcm::PixelFormat::INT32:
        conv(std::int32_t{});
        break;
      default:
        bad(f, "BitsAllocated", pf.GetScalarTypeAsString(), "8, 16 or 32-bit integer pixels");
    }
    slices.push_back(std::move(s));
  }
  std::sort(slices.begin(), slices.end(),
            [](const Slice& a, const Slice& b) { return a.pos < b.pos; });
  double dz = 1;
  if (slices.size() > 1) {
    dz = slices[1].pos - slices[0].pos;
    if (!(dz > 1e-6))
      bad(slices[1].file, "ImagePositionPatient", "the same position as " + slices[0].file,
          "one slice per position");
    for (std::size_t k = 2; k < slices.size(); ++k) {
      const double d = slices[k].pos - slices[k - 1].pos;
      if (std::abs(d - dz) > 1e-3 * dz + 1e-4)
        bad(slices[k].file, "ImagePositionPatient",
            "slice gap " + num(d) + " mm after " + slices[k - 1].file,
            "equally spaced slices (" + num(dz) + " mm)");
    }
  }
  Volume v;
  v.format = "dicom";
  v.source = folder;
  v.dims = {static_cast<std::int64_t>(cols), static_cast<std::int64_t>(rows),
            static_cast<std::int64_t>(slices.size())};
  check_size(folder, v.dims);
  // LPS: x = origin + i * dc_row * dx + j * dc_col * dy + k * normal * dz; RAS negates x and y.
  for (int r = 0; r < 3; ++r) {
    const double flip = r < 2 ? -1.0 : 1.0;
    v.affine[r][0] = flip * cosines[static_cast<std::size_t>(r)] * pixel[0];
    v.affine[r][1] = flip * cosines[static_cast<std::size_t>(3 + r)] * pixel[1];
    v.affine[r][2] = flip * normal[static_cast<std::size_t>(r)] * dz;
    v.affine[r][3] = flip * slices[0].origin[static_cast<std::size_t>(r)];
  }
  check_affine(folder, v);
  v.values.reserve(v.size());
  for (const auto& s : slices) v.values.insert(v.values.end(), s.values.begin(), s.values.end());
  return v;
}

// ---------------------------------------------------------------------------------------------

Volume read_image(const std::string& path, double tiff_spacing_mm) {
  std::error_code ec;
  if (!fs::exists(path, ec)) bad(path, "", "no such file or folder", "an image to import");
  const std::string l = lower(path);
  if (fs::is_directory(path, ec)) {
    bool tif = false;
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const std::string ext = lower(e.path().extension().string());
      if (ext == ".tif" || ext == ".tiff") tif = true;
    }
    return tif ? read_tiff_stack(path, tiff_spacing_mm) : read_dicom_series(path);
  }
  if (ends_with(l, ".tif") || ends_with(l, ".tiff")) return read_tiff_stack(path, tiff_spacing_mm);
  if (ends_with(l, ".mhd")) return read_metaimage(path);
  if (ends_with(l, ".nii") || ends_with(l, ".nii.gz")) return read_nifti(path);
  bad(path, "format", fs::path(path).extension().string(),
      "a TIFF stack (folder or .tif), a MetaImage .mhd, a NIfTI .nii/.nii.gz or a DICOM folder");
}

}  // namespace cementflow::detail

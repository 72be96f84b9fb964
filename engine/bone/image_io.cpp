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
#include <gdcmReader.h>
#include <gdcmTrace.h>
#include <nifti2_io.h>

#include <zlib.h>

#include "cementflow/errors.hpp"
#include "cementflow/limits.hpp"

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
  check_memory(n * sizeof(double), file, "dimensions", num(n) + " voxels x 8 bytes");
}

// Plausible image geometry (mm): a voxel from 10 nm (nano-CT) to 1 m, positions within 1 km.
// Outside, OpenVDB's transforms fail later with an unrelated message (issue 17: pixdim 1e-30).
constexpr double kMinSpacingMm = 1e-5, kMaxSpacingMm = 1e3, kMaxPositionMm = 1e6;

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
    if (!(std::isfinite(s[a]) && s[a] >= kMinSpacingMm && s[a] <= kMaxSpacingMm))
      bad(file, "voxel spacing", num(s[a]),
          "a finite voxel size from " + num(kMinSpacingMm) + " to " + num(kMaxSpacingMm) +
              " mm on every axis");
  for (const auto& row : v.affine)
    for (double x : row)
      if (!std::isfinite(x)) bad(file, "orientation", num(x), "a finite voxel-to-world transform");
  for (const auto& row : v.affine)
    if (!(std::abs(row[3]) <= kMaxPositionMm))
      bad(file, "origin", num(row[3]) + " mm",
          "an image position within " + num(kMaxPositionMm) + " mm of the scanner origin");
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
  check_memory((static_cast<double>(out.size()) + static_cast<double>(pw) * ph) * sizeof(double),
               file, "image size",
               "the slices so far and one of " + std::to_string(pw) + "x" + std::to_string(ph) +
                   " voxels, 8 bytes each");
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
      if (!std::isfinite(v))
        bad(file, "row " + std::to_string(r) + ", column " + std::to_string(c), num(v),
            "a finite grey value");
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
  if (kv.count("ObjectType") && get("ObjectType") != "Image")
    bad(mhd, "ObjectType", get("ObjectType"), "Image");
  if (get("NDims") != "3") bad(mhd, "NDims", get("NDims"), "3");
  if (!get("ElementNumberOfChannels").empty() && get("ElementNumberOfChannels") != "1")
    bad(mhd, "ElementNumberOfChannels", get("ElementNumberOfChannels"), "1");
  if (kv.count("CompressedData") && lower(get("CompressedData")) != "false")
    bad(mhd, "CompressedData", get("CompressedData"), "False (uncompressed raw data)");
  if (kv.count("BinaryData") && lower(get("BinaryData")) != "true")
    bad(mhd, "BinaryData", get("BinaryData"), "True");
  if (kv.count("AnatomicalOrientation")) {
    // Three letters, one of R/L, A/P, S/I each (ITK: "RAI"); "?" marks unknown axes.
    const std::string o = get("AnatomicalOrientation");
    bool ok = o.size() == 3;
    int seen[3] = {0, 0, 0};
    for (char c : o) {
      const auto u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const int axis = (u == 'R' || u == 'L')   ? 0
                       : (u == 'A' || u == 'P') ? 1
                       : (u == 'S' || u == 'I') ? 2
                                                : -1;
      if (u == '?') continue;
      if (axis < 0 || seen[axis]++) ok = false;
    }
    if (!ok)
      bad(mhd, "AnatomicalOrientation", o,
          "three letters, one of R/L, A/P and S/I each (e.g. RAI)");
  }
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
  const char* sp_key = kv.count("ElementSpacing") ? "ElementSpacing" : "ElementSize";
  const auto sp = numbers(sp_key, 3);
  for (int a = 0; a < 3; ++a)
    if (!(sp[static_cast<std::size_t>(a)] > 0))
      bad(mhd, sp_key, get(sp_key), "three positive voxel spacings in mm");
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

namespace {
/// What libnifti would repair without telling (issue 17): a NaN, infinite or (without an sform)
/// non-positive pixdim silently becomes 1 mm. Checked on the raw header.
void check_nifti_header(const std::string& path) {
  int nver = 0;
  std::unique_ptr<void, void (*)(void*)> hdr(nifti_read_header(path.c_str(), &nver, 1), std::free);
  if (!hdr)
    bad(path, "", "not a readable NIfTI file", "a NIfTI-1 or NIfTI-2 image (.nii, .nii.gz)");
  double pixdim[4] = {0, 0, 0, 0};
  int sform = 0;
  if (nver == 2) {
    const auto* h = static_cast<const nifti_2_header*>(hdr.get());
    for (int i = 1; i <= 3; ++i) pixdim[i] = h->pixdim[i];
    sform = h->sform_code;
  } else {
    const auto* h = static_cast<const nifti_1_header*>(hdr.get());
    for (int i = 1; i <= 3; ++i) pixdim[i] = static_cast<double>(h->pixdim[i]);
    sform = h->sform_code;
  }
  for (int i = 1; i <= 3; ++i) {
    const bool finite = std::isfinite(pixdim[i]);
    if (!finite || (sform <= 0 && !(pixdim[i] > 0)))
      bad(path, "pixdim[" + std::to_string(i) + "]", num(pixdim[i]),
          "a positive, finite voxel size in mm");
  }
}

/// The data must be all there before libnifti allocates for it: an uncompressed file at least
/// `need` bytes long; a gzip stream complete (its CRC and length trailer: issue 17, a .nii.gz
/// missing its last 4 bytes was accepted) and decompressing to at least `need` bytes.
void check_nifti_data_size(const std::string& path, double need) {
  std::error_code ec;
  const double have = static_cast<double>(fs::file_size(path, ec));
  if (ec) bad(path, "", "an unreadable file", "a readable NIfTI image");
  const bool gz = ends_with(lower(path), ".gz");
  if (!gz) {
    if (have < need)
      bad(path, "data", num(have) + " bytes in the file",
          "at least " + num(need) + " bytes (the header's dimensions x datatype)");
    return;
  }
  gzFile g = gzopen(path.c_str(), "rb");
  if (!g) bad(path, "", "an unreadable file", "a readable NIfTI image");
  std::vector<char> buf(1 << 16);
  double total = 0;
  int n = 0;
  while ((n = gzread(g, buf.data(), static_cast<unsigned>(buf.size()))) > 0) total += n;
  int err = Z_OK;
  const char* msg = gzerror(g, &err);
  const std::string what = msg ? msg : "";
  gzclose(g);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    bad(path, "gzip", "a damaged or truncated stream (" + what + ")", "a complete .nii.gz file");
  if (total < need)
    bad(path, "data", num(total) + " bytes after decompression",
        "at least " + num(need) + " bytes (the header's dimensions x datatype)");
}
}  // namespace

Volume read_nifti(const std::string& path) {
  nifti_set_debug_level(0);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    bad(path, "", fs::exists(path, ec) ? "not a regular file" : "no such file",
        "a readable NIfTI image");
  check_nifti_header(path);
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
  check_nifti_data_size(
      nim->iname ? std::string(nim->iname) : path,
      static_cast<double>(nim->iname_offset) + static_cast<double>(v.size()) * nim->nbyper);
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

namespace {
/// GDCM allocates each element's value at the length the file states, before reading it (a
/// 600-byte file asked for 1.4 GB: found by fuzz/fuzz_dicom.cpp). This walks the element headers
/// (tag, VR, length; never the values) of the meta group and the data set, into sequences and
/// items, and refuses a length that runs past its container or the file.
class DicomLengthCheck {
 public:
  explicit DicomLengthCheck(const std::string& file) : file_(file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) bad(file, "", "an unreadable file", "a DICOM slice");
    check_memory(static_cast<double>(size), file, "", "the file, read whole");
    std::ifstream in(file, std::ios::binary);
    b_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void run() {
    std::size_t p = b_.size() >= 132 && std::memcmp(b_.data() + 128, "DICM", 4) == 0 ? 132 : 0;
    explicit_ = p == 132 || (b_.size() >= 6 && std::isupper(b_[4]) && std::isupper(b_[5]));
    // GDCM guesses the byte order from the first tag: a meta group that reads (0200,xxxx) or a
    // first group of the form 0xNN00 makes it read big-endian lengths where this walk read
    // little-endian ones (a fuzzed file asked for 1.5 GB so). Big-endian files are retired.
    if (b_.size() >= p + 2) {
      const unsigned first = u16(p);
      if ((p == 132 && first != 0x0002) || (first & 0xFFu) == 0)
        fail(p, "a first element of group " + std::to_string(first) +
                    " (a byte-swapped or missing meta header)");
    }
    walk(p, b_.size(), 0, Mode::DataSet, false);
    // GDCM reads group-2 elements until another group starts; at the end of the file it asserts.
    if (meta_) fail(b_.size(), "no data set after the meta header");
  }

 private:
  enum class Mode { DataSet, Sequence, Fragments };
  unsigned u16(std::size_t p) const {
    return big_ ? (b_[p] << 8u | b_[p + 1]) : (b_[p] | b_[p + 1] << 8u);
  }
  std::uint32_t u32(std::size_t p) const {
    const std::uint32_t a = u16(p), c = u16(p + 2);
    return big_ ? (a << 16u | c) : (a | c << 16u);
  }
  [[noreturn]] void fail(std::size_t p, const std::string& what) const {
    bad(file_, "byte " + std::to_string(p), what, "an undamaged DICOM file");
  }
  /// Walks [p, end): a data set (or an item's), a sequence's items or pixel data fragments.
  /// `open`: the container has an undefined length and ends with its delimiter (an item's
  /// (FFFE,E00D), a sequence's (FFFE,E0DD)); returns the position after it. A delimiter anywhere
  /// else, a missing one or an element header cut by the end is refused: GDCM asserts on them.
  std::size_t walk(std::size_t p, std::size_t end, int depth, Mode mode, bool open) {
    if (depth > 32) fail(p, "sequences nested more than 32 deep");
    while (p + 8 <= end) {
      const unsigned group = u16(p), elem = u16(p + 2);
      if (group == 0xFFFE) {  // items and delimiters: no VR, 4-byte length
        const std::uint32_t len = u32(p + 4);
        if (elem == 0xE0DD || elem == 0xE00D) {
          const unsigned want = mode == Mode::DataSet ? 0xE00D : 0xE0DD;
          if (!open || elem != want) fail(p, "a misplaced delimiter");
          return p + 8;
        }
        if (elem != 0xE000 || mode == Mode::DataSet) fail(p, "a misplaced item tag");
        if (len == 0xFFFFFFFFu) {
          if (mode == Mode::Fragments) fail(p, "a pixel data fragment of undefined length");
          p = walk(p + 8, end, depth + 1, Mode::DataSet, true);
          continue;
        }
        if (len > end - (p + 8))
          fail(p, "an item of " + std::to_string(len) + " bytes past the end");
        if (mode == Mode::Sequence) walk(p + 8, p + 8 + len, depth + 1, Mode::DataSet, false);
        p += 8 + static_cast<std::size_t>(len);
        continue;
      }
      if (mode != Mode::DataSet) fail(p, "an element where an item was expected");
      if (group != 2 && meta_) {  // the meta group ends: the transfer syntax takes over
        meta_ = false;
        if (syntax_ == "1.2.840.10008.1.2") explicit_ = false;
        if (syntax_ == "1.2.840.10008.1.2.2") big_ = true;
        if (syntax_ == "1.2.840.10008.1.2.1.99") return end;  // deflated: GDCM inflates
      }
      const bool expl = explicit_ || group == 2;
      std::size_t hdr = 8;
      std::uint32_t len = 0;
      bool sq = false;
      if (expl) {
        const char v0 = static_cast<char>(b_[p + 4]), v1 = static_cast<char>(b_[p + 5]);
        if (!std::isupper(static_cast<unsigned char>(v0)) ||
            !std::isupper(static_cast<unsigned char>(v1)))
          fail(p, "no value representation for tag (" + std::to_string(group) + "," +
                      std::to_string(elem) + ")");
        const std::string vr{v0, v1};
        // GDCM reads an unknown VR as something else and trusts the length it then finds.
        static const char* const all_vr[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL",
                                             "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
                                             "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC",
                                             "UI", "UL", "UN", "UR", "US", "UT", "UV"};
        if (std::find(std::begin(all_vr), std::end(all_vr), vr) == std::end(all_vr))
          fail(p, "an unknown value representation '" + vr + "'");
        static const char* const long_vr[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                              "SV", "UC", "UN", "UR", "UT", "UV"};
        if (std::find(std::begin(long_vr), std::end(long_vr), vr) != std::end(long_vr)) {
          if (p + 12 > end) fail(p, "an element header cut by the end of its container");
          hdr = 12;
          len = u32(p + 8);
        } else {
          len = u16(p + 6);
        }
        sq = vr == "SQ";
      } else {
        len = u32(p + 4);
      }
      const bool pixels = group == 0x7FE0 && elem == 0x0010;
      if (group == 2 && (sq || len == 0xFFFFFFFFu))  // GDCM's meta reader asserts on both
        fail(p, "a sequence or an undefined length in the meta header");
      if (len == 0xFFFFFFFFu) {
        p = walk(p + hdr, end, depth + 1, pixels ? Mode::Fragments : Mode::Sequence, true);
        continue;
      }
      if (len > end - (p + hdr))
        fail(p, "an element (" + std::to_string(group) + "," + std::to_string(elem) + ") of " +
                    std::to_string(len) + " bytes with " + std::to_string(end - (p + hdr)) +
                    " left");
      if (group == 2 && elem == 0x0010)
        syntax_.assign(reinterpret_cast<const char*>(b_.data() + p + hdr), len);
      while (!syntax_.empty() && (syntax_.back() == '\0' || syntax_.back() == ' '))
        syntax_.pop_back();
      if (sq) walk(p + hdr, p + hdr + len, depth + 1, Mode::Sequence, false);
      p += hdr + static_cast<std::size_t>(len);
    }
    if (p < end)
      fail(p, "an element header cut by the end of its container (" + std::to_string(end - p) +
                  " bytes left)");
    if (open) fail(p, "an undefined-length sequence or item without its delimiter");
    return end;
  }

  std::string file_;
  std::vector<unsigned char> b_;
  bool explicit_ = true, big_ = false, meta_ = true;
  std::string syntax_;
};
}  // namespace

namespace {
/// GDCM's image layer asserts (aborts the process) on image attributes it does not expect: a
/// missing PixelRepresentation, an unknown photometric interpretation, a palette without its
/// tables, NumberOfFrames 0, overlays it cannot count (found by fuzz/fuzz_dicom.cpp). This reads
/// the data set alone (its element headers were walked) and checks, before gdcm::ImageReader,
/// the attributes a CT slice needs: each present, of its value representation, in range.
void check_dicom_image_attributes(const std::string& f) {
  gdcm::Reader r;
  r.SetFileName(f.c_str());
  if (!r.Read()) bad(f, "", "not a readable DICOM file", "a DICOM slice of the series");
  const gdcm::DataSet& ds = r.GetFile().GetDataSet();
  const auto value = [&](std::uint16_t group, std::uint16_t elem, const std::string& name,
                         gdcm::VR::VRType vr) -> std::string {
    const gdcm::Tag t(group, elem);
    if (!ds.FindDataElement(t)) bad(f, name, "missing", "a CT slice's image attributes");
    const gdcm::DataElement& de = ds.GetDataElement(t);
    const gdcm::ByteValue* bv = de.GetByteValue();
    // Explicit VR files state it; implicit ones leave it to the dictionary (INVALID here).
    if (!bv || (de.GetVR() != vr && de.GetVR() != gdcm::VR::INVALID))
      bad(f, name, std::string("a value of VR ") + gdcm::VR::GetVRString(de.GetVR()),
          std::string("a value of VR ") + gdcm::VR::GetVRString(vr));
    return std::string(bv->GetPointer(), bv->GetLength());
  };
  const auto us = [&](std::uint16_t elem, const std::string& name, unsigned lo, unsigned hi) {
    const std::string v = value(0x0028, elem, name, gdcm::VR::US);
    if (v.size() != 2) bad(f, name, num(static_cast<double>(v.size())) + " bytes", "one US value");
    std::uint16_t x = 0;
    std::memcpy(&x, v.data(), 2);
    if (x < lo || x > hi)
      bad(f, name, num(x), "a value in [" + num(lo) + ", " + num(hi) + "] for a grey-value CT");
    return static_cast<unsigned>(x);
  };
  const auto trimmed = [](std::string v) {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
    return v;
  };
  us(0x0002, "SamplesPerPixel", 1, 1);
  us(0x0010, "Rows", 1, 65535);
  us(0x0011, "Columns", 1, 65535);
  const unsigned allocated = us(0x0100, "BitsAllocated", 8, 32);
  if (allocated != 8 && allocated != 16 && allocated != 32)
    bad(f, "BitsAllocated", num(allocated), "8, 16 or 32");
  const unsigned stored = us(0x0101, "BitsStored", 1, allocated);
  us(0x0102, "HighBit", stored - 1, stored - 1);
  us(0x0103, "PixelRepresentation", 0, 1);
  const std::string pi = trimmed(value(0x0028, 0x0004, "PhotometricInterpretation", gdcm::VR::CS));
  if (pi != "MONOCHROME1" && pi != "MONOCHROME2")
    bad(f, "PhotometricInterpretation", pi, "MONOCHROME1 or MONOCHROME2 (a grey-value CT)");
  if (ds.FindDataElement(gdcm::Tag(0x0028, 0x0008))) {
    const std::string frames = trimmed(value(0x0028, 0x0008, "NumberOfFrames", gdcm::VR::IS));
    if (frames != "1") bad(f, "NumberOfFrames", frames, "one frame per file");
  }
  if (!ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010)))
    bad(f, "PixelData", "missing", "a CT slice's pixel data");
  for (const gdcm::DataElement& de : ds.GetDES()) {
    const auto g = de.GetTag().GetGroup();
    if ((g >= 0x5000 && g <= 0x50FF) || (g >= 0x6000 && g <= 0x60FF))
      bad(f, "group " + num(g), "curves or overlays", "a CT slice without curves or overlays");
  }
}
}  // namespace

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
    DicomLengthCheck(f).run();
    check_dicom_image_attributes(f);
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
    check_memory(static_cast<double>(img.GetBufferLength()) + static_cast<double>(c) * r *
                                                                  sizeof(double) *
                                                                  static_cast<double>(files.size()),
                 f, "Rows/Columns",
                 std::to_string(r) + "x" + std::to_string(c) + " pixels x " +
                     std::to_string(files.size()) + " slices, 8 bytes each");
    std::vector<char> buf(img.GetBufferLength());
    if (!img.GetBuffer(buf.data()))
      bad(f, "PixelData", "cannot be decoded", "pixel data GDCM can decode");
    const double slope = img.GetSlope(), inter = img.GetIntercept();
    if (!(std::isfinite(slope) && slope != 0 && std::isfinite(inter)))
      bad(f, "RescaleSlope/RescaleIntercept", num(slope) + "/" + num(inter),
          "a finite, non-zero slope and a finite intercept");
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

// Regression tests of issue 17's findings at the library level: each input below was found to
// crash, hang, exhaust memory, exit 1 or be silently accepted; now each is refused with an
// InputError (exit 2 in the CLI) naming the file and the problem, or handled.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <zlib.h>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/import.hpp"
#include "cementflow/info.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "cementflow/limits.hpp"
#include "cementflow/rheology_fit.hpp"
#include "cementflow/runtime.hpp"
#include "cementflow/scene.hpp"
#include "engine/bone/image_io.hpp"
#include "engine/bone/vdb_check.hpp"
#include "engine/io/input_file.hpp"
#include "engine/io/output_dir.hpp"
#include "engine/io/vdb_raw.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
namespace fs = std::filesystem;

namespace {

/// The InputError's message that f() throws; a test failure if it throws nothing or another type.
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const cf::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an InputError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an InputError, nothing was thrown";
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "'" << (text) << "'"

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The memory budget for one test, restored afterwards.
struct BudgetGuard {
  explicit BudgetGuard(double bytes) { cf::set_memory_budget_bytes(bytes); }
  ~BudgetGuard() { cf::set_memory_budget_bytes(0); }
};

// --- minimal NIfTI-1 writer (3 x 3 x 3 int16) --------------------------------------------------
std::string nifti1(float pixdim, float sform_offset, bool use_sform) {
  std::string h(352, '\0');
  const auto put = [&h](std::size_t at, const void* v, std::size_t n) {
    std::memcpy(h.data() + at, v, n);
  };
  const std::int32_t sizeof_hdr = 348;
  put(0, &sizeof_hdr, 4);
  const std::int16_t dim[8] = {3, 3, 3, 3, 1, 1, 1, 1};
  put(40, dim, sizeof dim);
  const std::int16_t datatype = 4, bitpix = 16;  // DT_INT16
  put(70, &datatype, 2);
  put(72, &bitpix, 2);
  const float pd[8] = {1, pixdim, pixdim, pixdim, 0, 0, 0, 0};
  put(76, pd, sizeof pd);
  const float vox_offset = 352, slope = 1, inter = 0;
  put(108, &vox_offset, 4);
  put(112, &slope, 4);
  put(116, &inter, 4);
  const std::int16_t qform = use_sform ? 0 : 1, sform = use_sform ? 1 : 0;
  put(252, &qform, 2);
  put(254, &sform, 2);
  const float srow[3][4] = {{pixdim, 0, 0, sform_offset}, {0, pixdim, 0, 0}, {0, 0, pixdim, 0}};
  put(280, srow, sizeof srow);
  put(344, "n+1", 4);
  for (int i = 0; i < 27; ++i) {
    const std::int16_t v = static_cast<std::int16_t>(100 * i);
    h.append(reinterpret_cast<const char*>(&v), 2);
  }
  return h;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// --- minimal little-endian TIFF writer: one 4 x 4 float32 page ---------------------------------
std::string tiff_float(const std::vector<float>& v) {
  std::string t("II*\0", 4);
  const auto u32 = [&t](std::uint32_t x) { t.append(reinterpret_cast<const char*>(&x), 4); };
  const auto u16 = [&t](std::uint16_t x) { t.append(reinterpret_cast<const char*>(&x), 2); };
  u32(8 + 64);  // IFD after the pixel data
  t.append(reinterpret_cast<const char*>(v.data()), 64);
  const std::uint16_t tags[][3] = {{256, 3, 4},  {257, 3, 4}, {258, 3, 32}, {259, 3, 1},
                                   {262, 3, 1},  {273, 4, 8}, {277, 3, 1},  {278, 3, 4},
                                   {279, 4, 64}, {339, 3, 3}};
  u16(static_cast<std::uint16_t>(std::size(tags)));
  for (const auto& g : tags) {
    u16(g[0]);
    u16(g[1]);
    u32(1);
    if (g[1] == 3) {
      u16(g[2]);
      u16(0);
    } else {
      u32(g[2]);
    }
  }
  u32(0);
  return t;
}

}  // namespace

// --- error messages ---------------------------------------------------------------------------

TEST(Robustness, ErrorMessagesAreOneBoundedLine) {
  // A 50 MB string value was echoed whole on the error line.
  const cf::InputError big("s.json", "name", std::string(50'000'000, 'x'), "a short name");
  EXPECT_LT(std::string(big.what()).size(), 1000u);
  EXPECT_HAS(big.what(), "50000000 bytes");
  EXPECT_EQ(big.value().size(), 50'000'000u);  // the value itself is kept for callers
  const cf::InputError ctl("s.json", "k", std::string("a\nb\0c", 5), "text");
  EXPECT_EQ(std::string(ctl.what()).find('\n'), std::string::npos) << ctl.what();
  EXPECT_HAS(ctl.what(), "a\\x0ab\\x00c");
}

// --- the memory budget (item 6) ------------------------------------------------------------------

TEST(Robustness, MemoryBudgetRefusesBeforeAllocating) {
  EXPECT_GT(cf::memory_budget_bytes(), 0.0);
  const BudgetGuard g(1e6);  // 1 MB
  std::string m = input_error([] { cf::check_memory(2e6, "f.json", "k", "what"); });
  EXPECT_HAS(m, "needs about 0.002 GB");
  EXPECT_HAS(m, "--max-memory-gb");
  // The box phantom (40 x 30 x 25 mm at 0.5 mm: 2.5e5 voxels) and the vertebra are estimated
  // before their grids exist.
  m = input_error([] { cf::generate_box(cf::BoxPhantom{}); });
  EXPECT_HAS(m, "bone.generate.voxel_mm");
  EXPECT_HAS(m, "needs about");
  m = input_error([] { cf::check_vertebra_params(cf::VertebraParams{}, "v.json", ""); });
  EXPECT_HAS(m, "v.json");
  EXPECT_HAS(m, "needs about");
}

TEST(Robustness, ThreadCountsKokkosCannotHoldAreRefused) {
  // --threads 600 (or OMP_NUM_THREADS=600) wrote past Kokkos's 512 thread slots. Refused before
  // Kokkos is touched (this process's Kokkos is already initialised by the test main).
  std::string m = input_error([] { cf::Runtime r(600); });
  EXPECT_HAS(m, "--threads");
  EXPECT_HAS(m, "512");
  ::setenv("OMP_NUM_THREADS", "600", 1);
  m = input_error([] { cf::Runtime r; });
  ::unsetenv("OMP_NUM_THREADS");
  EXPECT_HAS(m, "OMP_NUM_THREADS");
}

// --- text inputs ------------------------------------------------------------------------------

TEST(Robustness, TextInputsMustBeBoundedRegularFiles) {
  const auto dir = cf::test::temp_dir("robust_text");
  // `fit-rheology /dev/zero` read without limit.
  std::string m = input_error([] { cf::read_rheometer_csv("/dev/zero"); });
  EXPECT_HAS(m, "/dev/zero");
  EXPECT_HAS(m, "not a regular file");
  m = input_error([&] { cf::read_rheometer_csv(dir.string()); });
  EXPECT_HAS(m, "a directory");
  write_bytes(dir / "big.json", std::string(100, ' '));
  m = input_error([&] { cf::detail::read_text_input((dir / "big.json").string(), "x", 10); });
  EXPECT_HAS(m, "100 bytes");
  // A NUL byte in a CSV.
  m = input_error([] {
    cf::parse_rheometer_csv(std::string("shear_rate_per_s,viscosity_pa_s\n1,2\n\0", 38), "d.csv");
  });
  EXPECT_HAS(m, "NUL");
}

TEST(Robustness, JsonDepthAndNulCharactersAreBounded) {
  // 74,000 nested arrays overflowed the stack when the value was echoed.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string m = input_error([&] { cf::detail::parse_json_input(deep, "d.json", "a scene"); });
  EXPECT_HAS(m, "d.json");
  EXPECT_HAS(m, "nested more than 64");
  // 64 levels are fine.
  EXPECT_NO_THROW(cf::detail::parse_json_input(std::string(64, '[') + std::string(64, ']'),
                                               "ok.json", "a scene"));
  // A NUL after the document, and "\u0000" inside a string (a path "box.vdb\u0000junk").
  m = input_error([] { cf::detail::parse_json_input(std::string("{}\0", 3), "n.json", "x"); });
  EXPECT_HAS(m, "NUL byte at byte 2");
  m = input_error(
      [] { cf::detail::parse_json_input(R"({"vdb": "box.vdb\u0000junk"})", "p.json", "x"); });
  EXPECT_HAS(m, "NUL character");
  // The calibration file of `import` goes through the same reader.
  const auto dir = cf::test::temp_dir("robust_json");
  write_bytes(dir / "cal.json", deep);
  m = input_error([&] { cf::load_calibration((dir / "cal.json").string()); });
  EXPECT_HAS(m, "nested");
}

// --- fit-rheology -------------------------------------------------------------------------------

TEST(Robustness, ConstantViscosityFitsAndPlotsInFiniteMemory) {
  // Three equal rows: the plot's axis range was degenerate and its tick loop never ended.
  const auto dir = cf::test::temp_dir("robust_fit_const");
  const auto data =
      cf::parse_rheometer_csv("shear_rate_per_s,viscosity_pa_s\n1,100\n2,100\n3,100\n", "c.csv");
  for (auto model : {cf::RheologyModel::Newtonian, cf::RheologyModel::PowerLaw}) {
    const auto fit = cf::fit_rheology(data, model);
    const auto out = dir / cf::model_name(model);
    cf::write_fit_outputs(data, fit, out.string());
    EXPECT_GT(fs::file_size(out / "fit.png"), 1000u);
    EXPECT_NEAR(fit.rheology.model == cf::RheologyModel::Newtonian ? fit.rheology.viscosity_pa_s
                                                                   : fit.rheology.consistency_pa_sn,
                100.0, 1e-6);
  }
}

TEST(Robustness, FitsThatTheDataCannotDetermineAreRefused) {
  // One shear rate: the power law's flow index was reported as 1 with null errors.
  const auto one_rate =
      cf::parse_rheometer_csv("shear_rate_per_s,viscosity_pa_s\n10,100\n10,120\n10,90\n", "o.csv");
  std::string m = input_error([&] { cf::fit_rheology(one_rate, cf::RheologyModel::PowerLaw); });
  EXPECT_HAS(m, "o.csv");
  EXPECT_HAS(m, "1 distinct shear rate");
  EXPECT_NO_THROW(cf::fit_rheology(one_rate, cf::RheologyModel::Newtonian));
  // Shear-thickening data: the Carreau-Yasuda (here Cross: same check) fit put its infinite-shear
  // viscosity above the zero-shear one (101 > 9.9 Pa s: a law `run` rejects) and exited 0.
  const auto thick = cf::parse_rheometer_csv(
      "shear_rate_per_s,viscosity_pa_s\n0.01,10\n0.1,11\n1,20\n10,60\n100,95\n1000,100\n", "t.csv");
  m = input_error([&] { cf::fit_rheology(thick, cf::RheologyModel::Cross); });
  EXPECT_HAS(m, "t.csv");
  EXPECT_HAS(m, "try another --model");
}

// --- images -------------------------------------------------------------------------------------

TEST(Robustness, MetaImageHeadersAreStrict) {
  const auto dir = cf::test::temp_dir("robust_mhd");
  write_bytes(dir / "d.raw", std::string(8, '\1'));
  const auto header = [&](const std::string& extra, const std::string& spacing = "1 1 1") {
    const auto p = dir / "h.mhd";
    write_bytes(p, "ObjectType = Image\nNDims = 3\n" + extra + "ElementSpacing = " + spacing +
                       "\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = d.raw\n");
    return p.string();
  };
  EXPECT_NO_THROW(cf::detail::read_metaimage(header("AnatomicalOrientation = RAI\n")));
  EXPECT_HAS(input_error([&] { cf::detail::read_metaimage(header("CompressedData = yes\n")); }),
             "CompressedData");
  const std::string empty_type = dir.string() + "/e.mhd";
  write_bytes(empty_type,
              "ObjectType =\nNDims = 3\nElementSpacing = 1 1 1\nDimSize = 2 2 2\nElementType = "
              "MET_UCHAR\nElementDataFile = d.raw\n");
  EXPECT_HAS(input_error([&] { cf::detail::read_metaimage(empty_type); }), "ObjectType");
  EXPECT_HAS(input_error([&] { cf::detail::read_metaimage(header("", "1 -1 1")); }),
             "ElementSpacing");
  EXPECT_HAS(
      input_error([&] { cf::detail::read_metaimage(header("AnatomicalOrientation = XYZ\n")); }),
      "AnatomicalOrientation");
}

TEST(Robustness, NiftiGeometryMustBePlausibleAndDataComplete) {
  const auto dir = cf::test::temp_dir("robust_nifti");
  const auto read = [&](const std::string& name, const std::string& bytes) {
    write_bytes(dir / name, bytes);
    return cf::detail::read_nifti((dir / name).string());
  };
  const auto v = read("ok.nii", nifti1(0.8f, 10, true));
  EXPECT_NEAR(v.spacing_mm()[0], 0.8, 1e-6);
  EXPECT_NO_THROW(read("ok.nii.gz", gzip(nifti1(0.8f, 10, false))));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // pixdim NaN or Inf silently became 1 mm; 1e30 was accepted; 1e-30 and an sform offset of
  // 1e30 exited 1 ("Non-zero scale values required").
  for (float bad : {nan, inf}) {
    EXPECT_HAS(input_error([&] { read("p.nii", nifti1(bad, 0, false)); }), "pixdim[1]");
    EXPECT_HAS(input_error([&] { read("s.nii", nifti1(bad, 0, true)); }), "pixdim");
  }
  for (float bad : {1e30f, 1e-30f})
    EXPECT_HAS(input_error([&] { read("q.nii", nifti1(bad, 0, false)); }), "voxel spacing");
  EXPECT_HAS(input_error([&] { read("o.nii", nifti1(1, 1e30f, true)); }), "origin");
  // A gzip file missing its last 4 bytes (the length of its trailer) was accepted.
  std::string gz = gzip(nifti1(0.8f, 10, false));
  gz.resize(gz.size() - 4);
  EXPECT_HAS(input_error([&] { read("t.nii.gz", gz); }), "gzip");
  // An uncompressed file shorter than its header says is refused before libnifti allocates.
  std::string cut = nifti1(0.8f, 10, false);
  cut.resize(cut.size() - 10);
  EXPECT_HAS(input_error([&] { read("c.nii", cut); }), "bytes");
}

TEST(Robustness, NonFiniteVoxelsAndAbsurdOutputVoxelsAreRefused) {
  const auto dir = cf::test::temp_dir("robust_tiff");
  std::vector<float> px(16, 100.0f);
  px[5] = std::numeric_limits<float>::quiet_NaN();
  write_bytes(dir / "nan.tif", tiff_float(px));
  EXPECT_HAS(input_error([&] { cf::detail::read_tiff_stack((dir / "nan.tif").string(), 0.1); }),
             "finite");
  // --voxel-mm 1e9 made a model of 27 voxels.
  for (float& x : px) x = 100.0f;
  for (int i = 0; i < 16; i += 3) px[static_cast<std::size_t>(i)] = 900.0f;
  write_bytes(dir / "ok.tif", tiff_float(px));
  cf::ImportOptions o;
  o.image = (dir / "ok.tif").string();
  o.image_spacing_mm = 0.1;
  o.voxel_mm = 1e9;
  EXPECT_HAS(input_error([&] { cf::import_image(o); }), "--voxel-mm");
}

// --- DICOM ---------------------------------------------------------------------------------------

/// One explicit-VR little-endian element.
std::string dicom_element(std::uint16_t group, std::uint16_t elem, const std::string& vr,
                          const std::string& value) {
  std::string e(4, '\0');
  std::memcpy(e.data(), &group, 2);
  std::memcpy(e.data() + 2, &elem, 2);
  e += vr;
  const bool long_vr = vr == "OB" || vr == "OW" || vr == "SQ" || vr == "UN" || vr == "UT";
  if (long_vr) {
    const auto n = static_cast<std::uint32_t>(value.size());
    e += std::string(2, '\0');
    e.append(reinterpret_cast<const char*>(&n), 4);
  } else {
    const auto n = static_cast<std::uint16_t>(value.size());
    e.append(reinterpret_cast<const char*>(&n), 2);
  }
  return e + value;
}

/// Preamble, "DICM", the transfer syntax (explicit VR little endian), then `body`.
std::string dicom_file(const std::string& body) {
  return std::string(128, '\0') + "DICM" +
         dicom_element(0x0002, 0x0010, "UI", std::string("1.2.840.10008.1.2.1") + '\0') +
         dicom_element(0x0008, 0x0060, "CS", "CT") + body;
}

TEST(Robustness, DicomElementHeadersAreWalkedBeforeGdcmReadsThem) {
  // fuzz/fuzz_dicom.cpp found files that make GDCM assert (abort) or allocate 1.5 GB: an element
  // header cut by the end of the file (the first finding, 329 bytes ending in 5 stray bytes), an
  // unknown value representation ("DW" for "DS") whose next bytes GDCM takes for a length.
  const auto dir = cf::test::temp_dir("robust_dicom");
  const auto read = [&](const std::string& bytes) {
    fs::remove_all(dir / "series");
    fs::create_directories(dir / "series");
    write_bytes(dir / "series" / "slice.dcm", bytes);
    return input_error([&] { (void)cf::detail::read_dicom_series((dir / "series").string()); });
  };
  const std::string cut = read(dicom_file(std::string("\0\0\x2e\x34\0", 5)));
  EXPECT_HAS(cut, "slice.dcm");
  EXPECT_HAS(cut, "cut by the end");
  EXPECT_HAS(read(dicom_file(dicom_element(0x0028, 0x0030, "DW", "0.8\\0.8 "))),
             "unknown value representation 'DW'");
  // Delimiters only where an undefined length ends, and every undefined length ends with one.
  const std::string end_of_sequence("\xfe\xff\xdd\xe0\0\0\0\0", 8);
  EXPECT_HAS(read(dicom_file(end_of_sequence + dicom_element(0x0010, 0x0010, "PN", "X^Y "))),
             "misplaced delimiter");
  std::string open_sequence = dicom_element(0x0008, 0x1140, "SQ", "");
  open_sequence.replace(open_sequence.size() - 4, 4, "\xff\xff\xff\xff");
  EXPECT_HAS(read(dicom_file(open_sequence)), "without its delimiter");
  // GDCM's meta header reader asserts at the end of the file and on sequences.
  EXPECT_HAS(read(dicom_file("").substr(0, 132 + 28)), "no data set after the meta header");
  EXPECT_HAS(read(dicom_file(dicom_element(0x0002, 0x0020, "SQ", "") +
                             dicom_element(0x0010, 0x0010, "PN", "X^Y "))),
             "sequence or an undefined length in the meta header");
  // GDCM takes a meta header that reads (0200,0000) for a big-endian file (1.5 GB asked).
  std::string swapped = dicom_file("");
  std::swap(swapped[132], swapped[133]);
  EXPECT_HAS(read(swapped), "byte-swapped or missing meta header");
  // Complete element headers pass the walk; the image attributes GDCM asserts on come next.
  EXPECT_HAS(read(dicom_file("")), "SamplesPerPixel: got missing");

  // The fuzz seed (a 4 x 4 CT slice) imports; without its PixelRepresentation (the tag changed
  // to (0028,01F4), as the fuzzer did) GDCM asserted in PixmapReader::ReadImageInternal.
  const std::string seed = read_bytes(cf::test::source_dir() / "fuzz/corpus/dicom/ct_4x4.dcm");
  fs::remove_all(dir / "series");
  fs::create_directories(dir / "series");
  write_bytes(dir / "series" / "slice.dcm", seed);
  EXPECT_EQ(cf::detail::read_dicom_series((dir / "series").string()).values.size(), 16u);
  const std::string pixel_representation("\x28\0\x03\x01US", 6);
  const std::size_t at = seed.find(pixel_representation);
  ASSERT_NE(at, std::string::npos);
  std::string no_rep = seed;
  no_rep[at + 2] = '\xf4';
  EXPECT_HAS(read(no_rep), "PixelRepresentation: got missing");
  std::string palette = seed;
  const std::size_t mono = palette.find("MONOCHROME2");
  ASSERT_NE(mono, std::string::npos);
  palette.replace(mono, 11, "PALETTE COL");
  EXPECT_HAS(read(palette), "PhotometricInterpretation: got PALETTE COL");
}

// --- VDB files ----------------------------------------------------------------------------------

TEST(Robustness, DamagedDelayedLoadMetadataIsNeverTrusted) {
  // One flipped byte in a grid's DelayedLoadMetadata corrupted the heap inside OpenVDB 10.
  const auto dir = cf::test::temp_dir("robust_vdb_delayed");
  cf::BoxPhantom p;
  p.size_mm = {4, 4, 4};
  p.voxel_mm = 1.0;
  cf::BoneBlocks bone = cf::generate_box(p);
  cf::complete_bone(bone);
  const auto good = dir / "good.vdb";
  cf::save_bone(bone, good.string());
  const std::string bytes = read_bytes(good);
  const std::string type = "__delayedload";
  std::size_t found = 0, tried = 0;
  for (auto at = bytes.find(type); at != std::string::npos; at = bytes.find(type, at + 1)) {
    ++found;
    // After the type name: the value's byte count (4 bytes), then the value (its counts).
    const std::size_t value = at + type.size();
    for (std::size_t k = value; k < std::min(bytes.size(), value + 20); ++k) {
      std::string bad = bytes;
      bad[k] = static_cast<char>(bad[k] ^ 0x5a);
      const auto path = dir / "bad.vdb";
      write_bytes(path, bad);
      ++tried;
      try {
        (void)cf::load_bone(path.string());
      } catch (const cf::InputError&) {
      }
      try {
        const auto info = cf::inspect_vdb(path.string());
        (void)cf::to_json(info);
      } catch (const cf::InputError&) {
      }
    }
  }
  EXPECT_GE(found, 2u);  // material and porosity grids at least
  EXPECT_GT(tried, 0u);
  EXPECT_EQ(cf::load_bone(good.string()).active_voxels(), bone.active_voxels());
}

TEST(Robustness, VdbStreamWalkerReadsValidFilesToTheirEnd) {
  // The walker must mirror OpenVDB's reader byte for byte: on valid files of every grid type it
  // accepts (full and half floats, tiles, both transforms) it stops exactly at the end.
  const auto dir = cf::test::temp_dir("robust_vdb_walk");
  std::vector<cf::detail::RawGrid> grids;
  for (const char* type :
       {"float", "double", "int32", "int64", "bool", "vec3s", "vec3d", "vec3i"}) {
    for (bool half : {false, true}) {
      cf::detail::RawGrid g;
      g.name = std::string(type) + (half ? "_half" : "");
      g.type = type;
      g.half = half;
      g.axes = {{{0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.6}}};
      g.translation = {1, -2, 3};
      const bool vector = std::string(type).rfind("vec3", 0) == 0;
      for (int i = 0; i < 20; ++i) {
        g.coords.push_back({i, 2 * i, -i});
        g.values.push_back(i + 0.5);
        if (vector) g.values.insert(g.values.end(), {1.0 - i, 2.0 * i});
      }
      g.fills.push_back({{128, 128, 128}, {383, 383, 383}, {7, 8, 9}, true});  // 8 tiles
      g.metadata = {{"note", "a string"}};
      g.float_metadata = {{"scale", 2.5}};
      grids.push_back(g);
    }
  }
  const auto raw = dir / "all_types.vdb";
  cf::detail::write_raw_vdb(raw.string(), grids, {{"units", "mm"}});
  cf::BoxPhantom p;
  p.size_mm = {4, 4, 4};
  p.voxel_mm = 1.0;
  cf::BoneBlocks bone = cf::generate_box(p);
  cf::complete_bone(bone);
  const auto box = dir / "box.vdb";
  cf::save_bone(bone, box.string());
  for (const auto& file : {raw, box}) {
    const std::string bytes = read_bytes(file);
    std::vector<char> v(bytes.begin(), bytes.end());
    cf::detail::disarm_delayed_load_metadata(v, file.string());
    const auto walked = cf::detail::check_vdb_stream(v, file.string());
    EXPECT_EQ(walked.bytes_read, v.size()) << file;
    EXPECT_GT(walked.tree_bytes, 0.0);
    EXPECT_NO_THROW((void)cf::inspect_vdb(file.string()));
  }
}

TEST(Robustness, VdbSizesAreCheckedBeforeOpenVdbAllocates) {
  // fuzz/fuzz_bone_vdb.cpp found a bone VDB (a part of the file copied over another) whose
  // porosity grid then states a blosc block of 0x3ff0000000000000 bytes (the double 1.0), which
  // OpenVDB allocated inside io::bloscFromStream (ASan: allocation-size-too-big; Release:
  // std::bad_alloc). Committed as a fuzz seed; every size the file states is now checked first.
  const auto dir = cf::test::temp_dir("robust_vdb_sizes");
  const std::string finding =
      (cf::test::source_dir() / "fuzz/corpus/bone_vdb/finding_blosc_size.vdb").string();
  const std::string msg = input_error([&] { (void)cf::load_bone(finding); });
  EXPECT_HAS(msg, "finding_blosc_size.vdb: grid 'porosity'");
  EXPECT_HAS(msg, "a blosc block of 4607182418800017408 bytes");
  EXPECT_HAS(input_error([&] { (void)cf::inspect_vdb(finding); }), "blosc block");

  // A huge size (the finding's 0x3ff0...) planted at every offset of a valid bone file: each
  // variant is refused or read; those planted on a compressed block's size are refused by
  // name, and every 251st variant is read by OpenVDB too (under ASan in CI).
  cf::BoxPhantom p;
  p.size_mm = {3, 3, 3};
  p.voxel_mm = 1.0;
  cf::BoneBlocks bone = cf::generate_box(p);
  cf::complete_bone(bone);
  const auto good = dir / "good.vdb";
  cf::save_bone(bone, good.string());
  const std::string bytes = read_bytes(good);
  const std::uint64_t huge = 0x3ff0000000000000ull;
  std::size_t blocks = 0, read = 0;
  std::vector<char> disarmed(bytes.begin(), bytes.end());
  cf::detail::disarm_delayed_load_metadata(disarmed, good.string());
  for (std::size_t k = 0; k + 8 <= bytes.size(); ++k) {
    std::vector<char> v = disarmed;
    std::memcpy(v.data() + k, &huge, 8);
    try {
      (void)cf::detail::check_vdb_stream(v, "bad.vdb");
    } catch (const cf::InputError& e) {
      const std::string what = e.what();
      if (what.find("block") != std::string::npos) ++blocks;
    }
    if (k % 251 != 0) continue;
    std::string bad = bytes;  // read the way the CLI reads it: load_bone disarms by itself
    std::memcpy(bad.data() + k, &huge, 8);
    const auto path = dir / "bad.vdb";
    write_bytes(path, bad);
    ++read;
    try {
      (void)cf::load_bone(path.string());
    } catch (const cf::InputError&) {
    }
    try {
      (void)cf::to_json(cf::inspect_vdb(path.string()));
    } catch (const cf::InputError&) {
    }
  }
  EXPECT_GE(blocks, 2u);  // the material and porosity grids' leaf blocks at least
  EXPECT_GT(read, 10u);
  EXPECT_EQ(cf::load_bone(good.string()).active_voxels(), bone.active_voxels());
}

TEST(Robustness, VdbActiveTilesAreCountedAgainstTheMemoryBudget) {
  // A few hundred bytes of tiles can state 2^27 active voxels; load_bone voxelizes them.
  const auto dir = cf::test::temp_dir("robust_vdb_tiles");
  cf::detail::RawGrid mat, por;
  mat.name = "material";
  mat.type = "int32";
  mat.background = -1;
  mat.fills.push_back({{0, 0, 0}, {511, 511, 511}, {1, 0, 0}, true});
  por.name = "porosity";
  por.type = "float";
  por.fills.push_back({{0, 0, 0}, {511, 511, 511}, {0.5, 0, 0}, true});
  const auto path = dir / "tiles.vdb";
  cf::detail::write_raw_vdb(path.string(), {mat, por});
  EXPECT_LT(fs::file_size(path), 100000u);
  BudgetGuard budget(1e9);
  const std::string msg = input_error([&] { (void)cf::load_bone(path.string()); });
  EXPECT_HAS(msg, "134217728 active voxels x 28 bytes");
  EXPECT_HAS(msg, "material");
}

TEST(Robustness, AllZeroPermeabilityGridAndNonUtf8Metadata) {
  const auto dir = cf::test::temp_dir("robust_vdb_misc");
  cf::detail::RawGrid m;
  m.name = "material";
  m.type = "int32";
  m.background = -1;
  for (int i = 0; i < 4; ++i) {
    m.coords.push_back({i, 0, 0});
    m.values.push_back(1);
  }
  cf::detail::RawGrid por = m;
  por.name = "porosity";
  por.type = "float";
  por.background = 0;
  por.values.assign(4, 0.8);
  cf::detail::RawGrid k = m;
  k.name = "permeability";
  k.type = "vec3s";
  k.background = 0;
  k.values.assign(12, 0.0);
  const auto zero = dir / "zero_k.vdb";
  cf::detail::write_raw_vdb(zero.string(), {m, por, k});
  const std::string msg = input_error([&] { cf::load_bone(zero.string()); });
  EXPECT_HAS(msg, "permeability");
  EXPECT_HAS(msg, "zero in every voxel");
  k.values[3] = 1e-9;  // one voxel given: fine
  cf::detail::write_raw_vdb(zero.string(), {m, por, k});
  EXPECT_NO_THROW(cf::load_bone(zero.string()));
  // `info --json` on metadata holding a byte that is not UTF-8 exited 1 (json type_error 316).
  const auto meta = dir / "meta.vdb";
  cf::detail::write_raw_vdb(meta.string(), {m, por}, {{"note", "caf\xe9 \xff"}});
  const std::string j = cf::to_json(cf::inspect_vdb(meta.string()));
  const auto parsed = nlohmann::json::parse(j);
  EXPECT_TRUE(parsed.contains("metadata"));
}

// --- kyphoplasty
// ----------------------------------------------------------------------------------

TEST(Robustness, ABalloonLongerThanTheBoneIsRefusedBeforeCarving) {
  // length_mm 1e9 visited ~1e12 candidate voxels (1.4 h) before its error.
  cf::BoxPhantom p;
  p.size_mm = {20, 20, 20};
  p.voxel_mm = 1.0;
  p.shell_mm = 1.0;
  cf::BoneBlocks bone = cf::generate_box(p);
  cf::complete_bone(bone);
  cf::Balloon b;
  b.center_mm = {0, 0, 0};
  b.axis = {0, 1, 0};
  b.length_mm = 1e9;
  b.volume_ml = 0.5;
  const std::string m = input_error([&] { cf::carve_balloons(bone, {b}, "kp.json"); });
  EXPECT_HAS(m, "kp.json");
  EXPECT_HAS(m, "outside the bone model");
}

// --- cement -------------------------------------------------------------------------------------

TEST(Robustness, AnAbsurdReferenceAgeIsNamedAsSuch) {
  // reference_age_s 1e308 was reported as "cement.consistency_pa_sn: got 0".
  cf::Curing c;
  c.model = cf::CureModel::Exponential;
  c.reference_age_s = 1e308;
  c.time_constant_s = 150;
  const std::string m = input_error([&] { cf::validate_curing(c, "c.json"); });
  EXPECT_HAS(m, "cement.curing.reference_age_s");
  EXPECT_HAS(m, "1e+308");
}

// --- outputs ------------------------------------------------------------------------------------

TEST(Robustness, OutputsAreWrittenUnderATemporaryNameAndRenamed) {
  // A killed run left half-written files under their final names. Now each file is complete
  // under its final name or absent; the temporary is gone after a write.
  const auto dir = cf::test::temp_dir("robust_atomic");
  cf::detail::write_output_text(dir.string(), "report.json", "{}\n");
  cf::BoxPhantom p;
  p.size_mm = {4, 4, 4};
  p.voxel_mm = 1.0;
  cf::BoneBlocks bone = cf::generate_box(p);
  cf::complete_bone(bone);
  cf::save_bone(bone, (dir / "bone.vdb").string());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"bone.vdb", "report.json"}));
  EXPECT_EQ(read_bytes(dir / "report.json"), "{}\n");
  EXPECT_EQ(cf::load_bone((dir / "bone.vdb").string()).active_voxels(), bone.active_voxels());
  // The temporary name is the final one plus ".tmp-<pid>": a write into a missing folder fails
  // naming the final file and leaves nothing behind.
  EXPECT_HAS(input_error([&] { cf::save_bone(bone, (dir / "no/such/dir/b.vdb").string()); }),
             "b.vdb");
}

// --- scenes -------------------------------------------------------------------------------------

namespace {
std::string default_scene() {
  return read_bytes(cf::test::source_dir() / "scenes/box_vp_default.json");
}
std::string with(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}
}  // namespace

TEST(Robustness, ScenesAreBoundedAndFinite) {
  const std::string ok = default_scene();
  EXPECT_NO_THROW(cf::parse_scene(ok, "s.json"));
  // 74,000 nested arrays as a value crashed; a NUL after the scene, and "\u0000" in a path, were
  // accepted.
  std::string m = input_error([&] {
    cf::parse_scene(with(ok, "\"porosity\": 0.9",
                         "\"porosity\": " + std::string(100000, '[') + std::string(100000, ']')),
                    "d.json");
  });
  EXPECT_HAS(m, "nested more than 64");
  m = input_error([&] { cf::parse_scene(ok + std::string(1, '\0'), "n.json"); });
  EXPECT_HAS(m, "NUL");
  m = input_error([&] {
    cf::parse_scene(with(ok, "\"name\": \"box_vp_default\"", "\"name\": \"a\\u0000b\""), "u.json");
  });
  EXPECT_HAS(m, "NUL");
  // output_interval_s 1e-30 spun forever; volume_ml 1e-300 "completed"; a flow rate or needle
  // diameter of 1e308 ended in exit 3 without outputs.
  m = input_error([&] {
    cf::parse_scene(with(ok, "\"output_interval_s\": 2", "\"output_interval_s\": 1e-30"), "o.json");
  });
  EXPECT_HAS(m, "simulation.output_interval_s");
  m = input_error(
      [&] { cf::parse_scene(with(ok, "\"volume_ml\": 2.0", "\"volume_ml\": 1e-300"), "v.json"); });
  EXPECT_HAS(m, "injection.volume_ml");
  m = input_error([&] {
    cf::parse_scene(with(ok, "\"flow_rate_ml_per_min\": 3.0", "\"flow_rate_ml_per_min\": 1e308"),
                    "f.json");
  });
  EXPECT_HAS(m, "injection.flow_rate_ml_per_min");
  m = input_error([&] {
    cf::parse_scene(with(ok, "\"gauge\": 11", "\"inner_diameter_mm\": 1e308"), "i.json");
  });
  EXPECT_HAS(m, "inner_diameter_mm");
  // `run /dev/zero` read without limit.
  m = input_error([] { cf::load_scene("/dev/zero"); });
  EXPECT_HAS(m, "not a regular file");
}

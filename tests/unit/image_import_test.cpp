// `cementflow import` on small synthetic images (no third-party data): the strict MetaImage
// reader (byte order, LPS -> RAS, bad headers), Otsu's threshold, the exactness of the porosity
// average when the output voxel is a whole number of image voxels, the clinical pipeline (label
// -> material, cortical shell, soft-tissue sink, HU calibration) and the checks of bad input.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/import.hpp"
#include "cementflow/scene.hpp"
#include "engine/bone/image_io.hpp"
#include "tests/test_support.hpp"

namespace cf = cementflow;
namespace fs = std::filesystem;

namespace {

/// Writes `values` (x fastest) as MET_SHORT raw + .mhd header; `extra` lines go in the header.
std::string write_mhd(const fs::path& dir, const std::string& name, std::array<int, 3> dims,
                      std::array<double, 3> spacing, const std::vector<std::int16_t>& values,
                      const std::string& extra = "", bool msb = false) {
  const fs::path raw = dir / (name + ".raw");
  std::ofstream r(raw, std::ios::binary);
  for (std::int16_t v : values) {
    unsigned char b[2];
    std::memcpy(b, &v, 2);
    if (msb) std::swap(b[0], b[1]);
    r.write(reinterpret_cast<const char*>(b), 2);
  }
  const fs::path mhd = dir / (name + ".mhd");
  std::ofstream h(mhd);
  h << "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = "
    << (msb ? "True" : "False") << "\nCompressedData = False\n"
    << extra << "ElementSpacing = " << spacing[0] << " " << spacing[1] << " " << spacing[2]
    << "\nDimSize = " << dims[0] << " " << dims[1] << " " << dims[2]
    << "\nElementType = MET_SHORT\nElementDataFile = " << name << ".raw\n";
  return mhd.string();
}

/// A two-phase "micro-CT": grey 40 (marrow) and 200 (bone) in a 3-D checker pattern of 2-voxel
/// cells, plus +-10 of deterministic noise. Bone where (i/2 + j/2 + k/2) is odd.
std::vector<std::int16_t> checker(int n, std::size_t* bone) {
  std::vector<std::int16_t> v;
  *bone = 0;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const bool b = ((i / 2 + j / 2 + k / 2) % 2) == 1;
        *bone += b;
        const int noise = ((i * 7 + j * 13 + k * 29) % 21) - 10;
        v.push_back(static_cast<std::int16_t>((b ? 200 : 40) + noise));
      }
  return v;
}

std::string expect_input_error(const cf::ImportOptions& o) {
  try {
    cf::import_image(o);
  } catch (const cf::InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for " << o.image;
  return "";
}

}  // namespace

TEST(ImageIo, MetaImageLittleAndBigEndianGiveTheSameVoxelsInRas) {
  const auto dir = cf::test::temp_dir("mhd_endian");
  std::vector<std::int16_t> v;
  for (int i = 0; i < 2 * 3 * 4; ++i) v.push_back(static_cast<std::int16_t>(i * 100 - 1000));
  const std::string extra = "Offset = 10 20 30\n";
  const auto le =
      cf::detail::read_metaimage(write_mhd(dir, "le", {2, 3, 4}, {0.5, 1, 2}, v, extra));
  const auto be =
      cf::detail::read_metaimage(write_mhd(dir, "be", {2, 3, 4}, {0.5, 1, 2}, v, extra, true));
  ASSERT_EQ(le.values.size(), v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(le.values[i], v[i]);
    EXPECT_EQ(be.values[i], v[i]);
  }
  // MetaImage positions are LPS: RAS x = -10, y = -20, z = 30; index axes along -x, -y, +z.
  const auto w = le.to_world({1, 2, 3});
  EXPECT_DOUBLE_EQ(w[0], -10 - 0.5);
  EXPECT_DOUBLE_EQ(w[1], -20 - 2.0);
  EXPECT_DOUBLE_EQ(w[2], 30 + 6.0);
  const auto back = le.to_index(w);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(back[a], (std::array<double, 3>{1, 2, 3})[a], 1e-12);
}

TEST(ImageIo, MetaImageRejectsBadHeadersNamingFileAndKey) {
  const auto dir = cf::test::temp_dir("mhd_bad");
  const std::vector<std::int16_t> v(8, 0);
  const auto msg = [](const std::string& path) -> std::string {
    try {
      cf::detail::read_metaimage(path);
    } catch (const cf::InputError& e) {
      return e.what();
    }
    return "";
  };
  // Unknown key.
  std::string m = msg(write_mhd(dir, "a", {2, 2, 2}, {1, 1, 1}, v, "Bogus = 1\n"));
  EXPECT_NE(m.find("a.mhd"), std::string::npos) << m;
  EXPECT_NE(m.find("Bogus"), std::string::npos) << m;
  // Raw data shorter than DimSize says.
  const std::string b = write_mhd(dir, "b", {2, 2, 2}, {1, 1, 1}, v);
  fs::resize_file(dir / "b.raw", 10);
  m = msg(b);
  EXPECT_NE(m.find("b.raw"), std::string::npos) << m;
  EXPECT_NE(m.find("16 bytes"), std::string::npos) << m;
  // Compressed data, 2-D images, zero spacing.
  m = msg(write_mhd(dir, "c", {2, 2, 2}, {1, 1, 1}, v, "CompressedData = True\n"));
  EXPECT_NE(m.find("CompressedData"), std::string::npos) << m;
  m = msg(write_mhd(dir, "d", {2, 2, 2}, {0, 1, 1}, v));
  EXPECT_NE(m.find("spacing"), std::string::npos) << m;
  // Missing data file.
  const std::string e = write_mhd(dir, "e", {2, 2, 2}, {1, 1, 1}, v);
  fs::remove(dir / "e.raw");
  m = msg(e);
  EXPECT_NE(m.find("e.raw"), std::string::npos) << m;
  EXPECT_NE(m.find("no such file"), std::string::npos) << m;
}

TEST(Import, MicroCtOtsuSeparatesTwoPhasesAndCoarsePorosityIsTheExactAverage) {
  const auto dir = cf::test::temp_dir("import_checker");
  const int n = 16;
  std::size_t nbone = 0;
  const auto mhd = write_mhd(dir, "c", {n, n, n}, {0.02, 0.02, 0.02}, checker(n, &nbone));
  cf::ImportOptions o;
  o.image = mhd;
  o.voxel_mm = 0.08;  // 4 x 4 x 4 image voxels per output voxel
  const cf::ImportResult r = cf::import_image(o);
  // Otsu's threshold lies between the phases (grey 30..50 and 190..210).
  EXPECT_TRUE(r.summary.otsu);
  EXPECT_GE(r.summary.threshold, 50);
  EXPECT_LT(r.summary.threshold, 190);
  const double bvtv = static_cast<double>(nbone) / (n * n * n);
  EXPECT_DOUBLE_EQ(r.summary.image_bv_tv, bvtv);
  // 4^3 output voxels of trabecular bone + a one-voxel soft-tissue bath: 6^3 active.
  EXPECT_EQ(r.summary.bone_voxels, 64u);
  EXPECT_EQ(r.summary.active_voxels, 216u);
  EXPECT_NEAR(r.summary.mean_bone_porosity, 1 - bvtv, 1e-6);
  // Each 4^3 block of the checker has exactly half bone: every coarse porosity is 0.5.
  for (std::size_t i = 0; i < r.bone.num_voxels(); ++i) {
    if (r.bone.material[i] == static_cast<int>(cf::Material::Trabecular)) {
      EXPECT_FLOAT_EQ(r.bone.porosity[i], 0.5f);
    }
  }
  // Permeability by the engine's law from the porosity.
  for (std::size_t i = 0; i < r.bone.num_voxels(); ++i)
    if (r.bone.material[i] == static_cast<int>(cf::Material::Trabecular)) {
      EXPECT_FLOAT_EQ(r.bone.permeability[3 * i + 2],
                      static_cast<float>(cf::trabecular_permeability(0.5)[2]));
      break;
    }
  // The bone keeps the image's world position: voxel (0,0,0) at the LPS origin, the MetaImage i
  // axis along LPS +x = RAS -x, so the image spans RAS x -0.31..0.01 and z -0.01..0.31 mm.
  EXPECT_NEAR(r.summary.bone_min_mm[0], -0.31 + 0.04, 1e-9);
  EXPECT_NEAR(r.summary.bone_max_mm[2], 0.31 - 0.04, 1e-9);
  // A given threshold: bone = grey > T.
  o.threshold = "199";
  const auto t = cf::import_image(o);
  EXPECT_FALSE(t.summary.otsu);
  EXPECT_LT(t.summary.image_bv_tv, bvtv);
  EXPECT_GT(t.summary.image_bv_tv, 0);
}

TEST(Import, ClinicalLabelGivesShellSinkAndCalibratedPorosity) {
  const auto dir = cf::test::temp_dir("import_clinical");
  // CT: 12^3 voxels of 1 mm, 300 HU in a centred 6^3 cube labelled 7, -100 HU around.
  const int n = 12;
  std::vector<std::int16_t> ct, lab;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const bool in = i >= 3 && i < 9 && j >= 3 && j < 9 && k >= 3 && k < 9;
        ct.push_back(in ? 300 : -100);
        lab.push_back(in ? 7 : 0);
      }
  cf::ImportOptions o;
  o.image = write_mhd(dir, "ct", {n, n, n}, {1, 1, 1}, ct);
  o.label = write_mhd(dir, "lab", {n, n, n}, {1, 1, 1}, lab);
  o.label_value = 7;
  const auto r = cf::import_image(o);
  EXPECT_EQ(r.summary.label_voxels, 216u);
  EXPECT_DOUBLE_EQ(r.summary.label_volume_ml, 0.216);
  EXPECT_DOUBLE_EQ(r.summary.label_mean_hu, 300);
  // Default calibration: BV/TV = 0.8 * 300 / 1200 = 0.2.
  EXPECT_NEAR(r.summary.label_bv_tv, 0.2, 1e-12);
  std::size_t trab = 0, cort = 0, soft = 0;
  for (std::size_t i = 0; i < r.bone.num_voxels(); ++i) {
    const int m = r.bone.material[i];
    trab += m == 1;
    cort += m == 2;
    soft += m == 0;
    if (m == 1 || m == 2) {
      EXPECT_NEAR(r.bone.porosity[i], 0.8f, 1e-6f);
    }
  }
  EXPECT_EQ(trab, 64u);                // the 4^3 interior
  EXPECT_EQ(cort, 216u - 64u);         // the boundary layer of the label
  EXPECT_EQ(soft, 8u * 8 * 8 - 216u);  // one layer of soft tissue around it
  // A calibration file changes the numbers.
  const fs::path cal = dir / "cal.json";
  std::ofstream(cal) << R"({"bmd_slope_mg_cm3_per_hu": 1.0, "bmd_intercept_mg_cm3": -60,
                          "tissue_bmd_mg_cm3": 1200, "source": "phantom"})";
  o.calibration = cal.string();
  EXPECT_NEAR(cf::import_image(o).summary.label_bv_tv, 0.2, 1e-12);  // (300 - 60) / 1200
  // Without the shell every label voxel is trabecular.
  o.cortical_shell = false;
  const auto open = cf::import_image(o);
  std::size_t open_trab = 0, open_cort = 0;
  for (int m : open.bone.material) {
    open_trab += m == 1;
    open_cort += m == 2;
  }
  EXPECT_EQ(open_trab, 216u);
  EXPECT_EQ(open_cort, 0u);
}

TEST(Import, BadInputIsAnInputErrorNamingFileAndProblem) {
  const auto dir = cf::test::temp_dir("import_bad");
  const int n = 8;
  std::vector<std::int16_t> ct(n * n * n, 100), lab(n * n * n, 0);
  lab[0] = 3;
  const auto ct_path = write_mhd(dir, "ct", {n, n, n}, {1, 1, 1}, ct);
  const auto lab_path = write_mhd(dir, "lab", {n, n, n}, {1, 1, 1}, lab);
  const auto far = write_mhd(dir, "far", {n, n, n}, {1, 1, 1}, lab, "Offset = 500 0 0\n");
  cf::ImportOptions o;
  o.image = ct_path;
  o.label = lab_path;
  // Missing label value: the message lists the labels present.
  o.label_value = 5;
  std::string m = expect_input_error(o);
  EXPECT_NE(m.find("lab.mhd"), std::string::npos) << m;
  EXPECT_NE(m.find("holds 3"), std::string::npos) << m;
  // A label outside the CT.
  o.label = far;
  o.label_value = 3;
  m = expect_input_error(o);
  EXPECT_NE(m.find("far.mhd"), std::string::npos) << m;
  EXPECT_NE(m.find("outside the CT"), std::string::npos) << m;
  // Absurd calibration.
  o.label = lab_path;
  const fs::path cal = dir / "cal.json";
  std::ofstream(cal) << R"({"bmd_slope_mg_cm3_per_hu": 50})";
  o.calibration = cal.string();
  m = expect_input_error(o);
  EXPECT_NE(m.find("cal.json"), std::string::npos) << m;
  EXPECT_NE(m.find("bmd_slope_mg_cm3_per_hu"), std::string::npos) << m;
  std::ofstream(cal) << R"({"tissue_bmd": 1200})";
  m = expect_input_error(o);
  EXPECT_NE(m.find("tissue_bmd"), std::string::npos) << m;
  // A voxel size whose model would exceed the memory limit (a 1 mm label at 1 um: 1e9 voxels).
  o.calibration.clear();
  o.voxel_mm = 0.001;
  m = expect_input_error(o);
  EXPECT_NE(m.find("--voxel-mm"), std::string::npos) << m;
  EXPECT_NE(m.find("GB"), std::string::npos) << m;
  // A label value without a label, a threshold with a label, an unreadable image.
  cf::ImportOptions p;
  p.image = ct_path;
  p.label_value = 3;
  EXPECT_NE(expect_input_error(p).find("--label-value"), std::string::npos);
  p.label_value = -1;
  p.threshold = "abc";
  EXPECT_NE(expect_input_error(p).find("--threshold"), std::string::npos);
  p.threshold = "1000";  // above every grey value: no bone
  EXPECT_NE(expect_input_error(p).find("no bone"), std::string::npos);
  const fs::path junk = dir / "junk.nii";
  std::ofstream(junk) << "not a nifti file at all";
  p.image = junk.string();
  p.threshold.clear();
  m = expect_input_error(p);
  EXPECT_NE(m.find("junk.nii"), std::string::npos) << m;
  p.image = (dir / "missing.mhd").string();
  m = expect_input_error(p);
  EXPECT_NE(m.find("missing.mhd"), std::string::npos) << m;
}

TEST(Import, SceneImportFormIsCheckedAndResolvesPathsAgainstTheSceneFile) {
  const std::string head =
      R"({"schema": 1, "name": "imp", "cement": {"preset": "generic_vertebroplasty"},
    "injection": {"needle": {"tip_mm": [0, 0, 0], "direction": [0, 1, 0], "gauge": 11,
    "length_mm": 100}, "flow_rate_ml_per_min": 1, "volume_ml": 0.1}, "bone": )";
  const auto scene = [&](const std::string& bone) {
    return cf::parse_scene(head + bone + "}", "/data/scenes/s.json");
  };
  const cf::Scene s =
      scene(R"({"import": {"image": "ct.nii.gz", "label": "../seg.nii.gz", "label_value": 31,
                "voxel_mm": 1.5}})");
  ASSERT_EQ(s.bone.kind, cf::BoneSource::Kind::Import);
  EXPECT_EQ(s.bone.import.image, "/data/scenes/ct.nii.gz");
  EXPECT_EQ(s.bone.import.label, "/data/seg.nii.gz");
  EXPECT_EQ(s.bone.import.label_value, 31);
  EXPECT_DOUBLE_EQ(s.bone.import.voxel_mm, 1.5);
  EXPECT_EQ(scene(R"({"import": {"image": "m.mhd", "threshold": "otsu"}})").bone.import.threshold,
            "otsu");
  EXPECT_EQ(scene(R"({"import": {"image": "m.mhd", "threshold": 63}})").bone.import.threshold,
            "63");
  const auto fails = [&](const std::string& bone, const std::string& key) {
    try {
      scene(bone);
      ADD_FAILURE() << "accepted " << bone;
    } catch (const cf::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  fails(R"({"import": {"image": "a.mhd", "bogus": 1}})", "bone.import.bogus");
  fails(R"({"import": {"image": "a.mhd", "label_value": 3}})", "bone.import.label_value");
  fails(R"({"import": {"image": "a.mhd", "label": "l.nii"}})", "bone.import.label_value");
  fails(R"({"import": {"image": "a.mhd", "threshold": "high"}})", "bone.import.threshold");
  fails(R"({"import": {"image": "a.mhd", "voxel_mm": -1}})", "bone.import.voxel_mm");
  fails(R"({"import": {"image": "a.mhd"}, "vdb": "b.vdb"})", "bone");
}

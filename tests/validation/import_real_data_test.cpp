// `cementflow import` on the real third-party data of ../shared/data (its README.md has the
// reference numbers, computed there with numpy/scipy/nibabel from the same files):
//  - LHDL human trabecular micro-CT (ciclope repository): BV/TV at raw thresholds >63, >80, >100,
//    >142 = 0.228, 0.194, 0.159, 0.095; the TIFF stack and the raw+mhd copy hold the same voxels.
//  - TotalSegmentator CT + labels (NIfTI): L1 (31) 59.9 mL, mean 196 HU; L2 60.4, L3 66.0, T12
//    49.4 mL.
//  - TotalSegmentator DICOM series (JPEG 2000 and uncompressed copies) + its NIfTI label: T12
//    (32) 23,576 voxels, about 45 mL, mean 267 HU (checks DICOM LPS vs NIfTI RAS geometry).
//  - VerSe mask (NIfTI float64, P-I-R orientation): L1 (20) 38.3 mL, centroids of the JSON.
// Tolerances: the README's references are rounded to the digits shown, and the voxel counts are
// the same operation, so the tolerance is half a unit of the last digit shown. The resampled
// models (1 mm voxels from 3 mm labels) are compared within 2 %: they change the voxel shape, not
// the count, when the grids align.
// Skipped with a message when ../shared/data is absent.

#include <gtest/gtest.h>

#include <array>
#include <cmath>
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

fs::path data(const std::string& rel) {
  return cf::test::shared_data() / rel;
}

#define REQUIRE_DATA(p)                                                                 \
  do {                                                                                  \
    if (!fs::exists(p)) GTEST_SKIP() << "third-party data not found: " << (p).string(); \
  } while (0)

const char* const kLhdlMhd = "trabecular_microct_lhdl/lhdl_3155_D_4_bc_200x200x200_uint8.mhd";
const char* const kLhdlTiff = "trabecular_microct_lhdl/tiff_stack";
const char* const kTsCt = "clinical_ct_totalsegmentator/example_ct.nii.gz";
const char* const kTsSeg = "clinical_ct_totalsegmentator/example_seg_fast_force_split.nii.gz";
const char* const kDicomSeg = "clinical_ct_totalsegmentator/example_seg_dicom.nii.gz";
const char* const kVerse = "vertebra_mask_verse/sub-verse004_seg-vert_msk.nii.gz";

cf::ImportSummary clinical(const std::string& ct, const std::string& seg, int label,
                           double voxel_mm = 0) {
  cf::ImportOptions o;
  o.image = data(ct).string();
  o.label = data(seg).string();
  o.label_value = label;
  o.voxel_mm = voxel_mm;
  return cf::import_image(o).summary;
}

/// Runs the CLI; returns its exit status and output.
int cli(const std::string& args, std::string* out) {
  return cf::test::run_command(cf::test::cli() + " " + args, out);
}

}  // namespace

TEST(ImportLhdl, TiffStackAndMetaImageHoldTheSameVoxels) {
  REQUIRE_DATA(data(kLhdlMhd));
  REQUIRE_DATA(data(kLhdlTiff));
  const auto mhd = cf::detail::read_metaimage(data(kLhdlMhd).string());
  const auto tif = cf::detail::read_tiff_stack(data(kLhdlTiff).string(), 0.0195);
  ASSERT_EQ(mhd.dims, (std::array<std::int64_t, 3>{200, 200, 200}));
  ASSERT_EQ(tif.dims, mhd.dims);
  EXPECT_EQ(tif.values, mhd.values);
  for (int a = 0; a < 3; ++a) EXPECT_DOUBLE_EQ(mhd.spacing_mm()[a], 0.0195);
  // TIFF stores no voxel size: without --image-spacing-mm the import refuses it.
  EXPECT_THROW(cf::detail::read_tiff_stack(data(kLhdlTiff).string(), 0), cf::InputError);
}

TEST(ImportLhdl, BvTvAtRawThresholdsMatchesTheReference) {
  REQUIRE_DATA(data(kLhdlMhd));
  // README §1: raw thresholds >63, >80, >100, >142 give 0.228, 0.194, 0.159, 0.095.
  const std::array<std::pair<const char*, double>, 4> ref{
      {{"63", 0.228}, {"80", 0.194}, {"100", 0.159}, {"142", 0.095}}};
  for (const auto& [t, bvtv] : ref) {
    cf::ImportOptions o;
    o.image = data(kLhdlMhd).string();
    o.threshold = t;
    o.voxel_mm = 0.0975;  // 5 x 5 x 5 image voxels per model voxel: 40^3 model voxels
    const auto r = cf::import_image(o);
    EXPECT_NEAR(r.summary.image_bv_tv, bvtv, 0.0005) << "threshold " << t;
    // Coarse porosities average the pore indicator exactly (aligned 5^3 groups).
    EXPECT_EQ(r.summary.bone_voxels, 64000u);
    EXPECT_NEAR(r.summary.mean_bone_porosity, 1 - r.summary.image_bv_tv, 1e-6) << t;
    std::printf("[lhdl] threshold >%s: BV/TV %.4f (reference %.3f), model porosity %.4f\n", t,
                r.summary.image_bv_tv, bvtv, r.summary.mean_bone_porosity);
  }
}

TEST(ImportLhdl, TenfoldCoarseningOfMicroctCubeSceneIsExact) {
  REQUIRE_DATA(data(kLhdlMhd));
  cf::ImportOptions o;  // as scenes/microct_cube.json: 10^3 image voxels per model voxel
  o.image = data(kLhdlMhd).string();
  o.threshold = "63";
  o.voxel_mm = 0.195;
  const auto r = cf::import_image(o);
  EXPECT_EQ(r.summary.bone_voxels, 8000u);
  EXPECT_EQ(r.summary.active_voxels, 22u * 22 * 22);
  EXPECT_NEAR(r.summary.mean_bone_porosity, 1 - r.summary.image_bv_tv, 1e-6);
}

TEST(ImportLhdl, OtsuThresholdAndBinaryPoreGrid) {
  REQUIRE_DATA(data(kLhdlMhd));
  cf::ImportOptions o;
  o.image = data(kLhdlMhd).string();
  const auto r = cf::import_image(o);  // Otsu, the image's own 19.5 um voxels: binary porosity
  EXPECT_TRUE(r.summary.otsu);
  // Bone is bright and sparse (mean grey 47): Otsu falls between marrow and bone.
  EXPECT_GT(r.summary.threshold, 30);
  EXPECT_LT(r.summary.threshold, 142);
  EXPECT_EQ(r.summary.bone_voxels, 8000000u);
  std::size_t non_binary = 0;
  for (std::size_t i = 0; i < r.bone.num_voxels(); ++i)
    non_binary +=
        r.bone.material[i] == 1 && r.bone.porosity[i] != 0.0f && r.bone.porosity[i] != 1.0f;
  EXPECT_EQ(non_binary, 0u);
  EXPECT_NEAR(r.summary.mean_bone_porosity, 1 - r.summary.image_bv_tv, 1e-6);
  std::printf("[lhdl] Otsu threshold %g: BV/TV %.4f\n", r.summary.threshold, r.summary.image_bv_tv);
}

TEST(ImportTotalSegmentator, VertebraVolumesAndMeanHu) {
  REQUIRE_DATA(data(kTsCt));
  // README §2: L1 59.9 mL, mean 196 HU; L2 60.4, L3 66.0, T12 49.4 mL.
  const auto l1 = clinical(kTsCt, kTsSeg, 31);
  EXPECT_NEAR(l1.label_volume_ml, 59.9, 0.05);
  EXPECT_NEAR(l1.label_mean_hu, 196, 0.5);
  EXPECT_NEAR(clinical(kTsCt, kTsSeg, 30).label_volume_ml, 60.4, 0.05);
  EXPECT_NEAR(clinical(kTsCt, kTsSeg, 29).label_volume_ml, 66.0, 0.05);
  EXPECT_NEAR(clinical(kTsCt, kTsSeg, 32).label_volume_ml, 49.4, 0.05);
  std::printf("[totalseg] L1: %zu voxels, %.2f mL (ref 59.9), mean %.1f HU (ref 196), BV/TV %.3f\n",
              l1.label_voxels, l1.label_volume_ml, l1.label_mean_hu, l1.label_bv_tv);
  // The 1 mm model: 27 model voxels per 3 mm label voxel; the bone volume is the label's.
  const auto m = clinical(kTsCt, kTsSeg, 31, 1.0);
  EXPECT_NEAR(m.bone_volume_ml, 59.9, 0.02 * 59.9);
  // Porosity 1 - 0.8 HU / 1200 inside the PHYSICS.md §L3b range of vertebrae (0.86-0.94) on
  // average, within 0.05.
  EXPECT_GT(m.mean_bone_porosity, 0.81);
  EXPECT_LT(m.mean_bone_porosity, 0.99);
  std::printf(
      "[totalseg] L1 model at 1 mm: %zu bone voxels, %.2f mL, mean porosity %.3f, "
      "centroid (%.1f, %.1f, %.1f) mm\n",
      m.bone_voxels, m.bone_volume_ml, m.mean_bone_porosity, m.bone_centroid_mm[0],
      m.bone_centroid_mm[1], m.bone_centroid_mm[2]);
}

TEST(ImportTotalSegmentator, DicomSeriesT12MatchesTheNiftiLabel) {
  for (const char* series : {"clinical_ct_totalsegmentator/dicom_series_j2k",
                             "clinical_ct_totalsegmentator/dicom_series_uncompressed"}) {
    REQUIRE_DATA(data(series));
    const auto t12 = clinical(series, kDicomSeg, 32);
    // README §2: 23,576 voxels, about 45 mL in the field of view, mean 267 HU.
    EXPECT_EQ(t12.label_voxels, 23576u) << series;
    EXPECT_NEAR(t12.label_volume_ml, 23576 * 0.9765625 * 0.9765625 * 2.0 / 1000, 1e-6);
    EXPECT_NEAR(t12.label_mean_hu, 267, 0.5) << series;
    std::printf("[dicom] %s T12: %zu voxels, %.2f mL, mean %.1f HU (ref 267)\n", series,
                t12.label_voxels, t12.label_volume_ml, t12.label_mean_hu);
  }
  const auto j2k =
      cf::detail::read_dicom_series(data("clinical_ct_totalsegmentator/dicom_series_j2k").string());
  const auto raw = cf::detail::read_dicom_series(
      data("clinical_ct_totalsegmentator/dicom_series_uncompressed").string());
  EXPECT_EQ(j2k.values, raw.values);
  // 20 slices from z = -804.5 to -766.5 mm, 2 mm apart (README §2).
  EXPECT_EQ(j2k.dims, (std::array<std::int64_t, 3>{512, 512, 20}));
  EXPECT_NEAR(j2k.to_world({0, 0, 0})[2], -804.5, 1e-3);
  EXPECT_NEAR(j2k.to_world({0, 0, 19})[2], -766.5, 1e-3);
}

TEST(ImportVerse, L1VolumeAndCentroidsInPirOrientation) {
  REQUIRE_DATA(data(kVerse));
  const auto v = cf::detail::read_nifti(data(kVerse).string());
  ASSERT_EQ(v.dims, (std::array<std::int64_t, 3>{161, 338, 61}));
  // P-I-R: index axis 0 points to -y (posterior), 1 to -z (inferior), 2 to +x (right).
  EXPECT_LT(v.affine[1][0], 0);
  EXPECT_LT(v.affine[2][1], 0);
  EXPECT_GT(v.affine[0][2], 0);
  // README §3: L1 = label 20, 38.3 mL.
  std::size_t n = 0;
  for (double x : v.values) n += x == 20;
  const auto s = v.spacing_mm();
  const double ml = static_cast<double>(n) * s[0] * s[1] * s[2] / 1000;
  EXPECT_NEAR(ml, 38.3, 0.05);
  // sub-verse004_seg-subreg_ctd.json: the vertebral-body centroid of each label in voxel
  // coordinates (P, I, R). Each lies inside its own label, and they descend along I from T9 to L5.
  const std::array<std::array<double, 4>, 9> ctd{{{16, 79.1, 40.9, 32.3},
                                                  {17, 79.3, 63.4, 32.2},
                                                  {18, 76.0, 88.6, 32.1},
                                                  {19, 70.6, 117.3, 31.6},
                                                  {20, 63.2, 141.9, 31.8},
                                                  {21, 53.0, 167.7, 30.8},
                                                  {22, 46.5, 202.0, 29.8},
                                                  {23, 46.8, 235.3, 29.1},
                                                  {24, 57.2, 266.4, 29.3}}};
  for (const auto& c : ctd) {
    const auto at = v.index(std::llround(c[1]), std::llround(c[2]), std::llround(c[3]));
    EXPECT_EQ(v.values[at], c[0]) << "centroid of label " << c[0];
  }
  // In world coordinates (RAS) L1's body centroid lies below T12's and above L2's.
  const auto w = [&](int i) { return v.to_world({ctd[i][1], ctd[i][2], ctd[i][3]}); };
  EXPECT_LT(w(4)[2], w(3)[2]);
  EXPECT_GT(w(4)[2], w(5)[2]);
  std::printf(
      "[verse] L1 (20): %zu voxels, %.2f mL (ref 38.3); body centroid at RAS (%.1f, %.1f, "
      "%.1f) mm\n",
      n, ml, w(4)[0], w(4)[1], w(4)[2]);
}

TEST(ImportCli, WritesTheBoneAndExitsTwoOnBadInput) {
  REQUIRE_DATA(data(kTsCt));
  const auto dir = cf::test::temp_dir("import_cli");
  const std::string ct = data(kTsCt).string(), seg = data(kTsSeg).string();
  const std::string out = (dir / "l1.vdb").string();
  std::string o;
  ASSERT_EQ(
      cli("import " + ct + " --label " + seg + " --label-value 31 --voxel-mm 1.5 --out " + out, &o),
      0)
      << o;
  const cf::BoneBlocks b = cf::load_bone(out);
  std::size_t bone = 0;
  for (int m : b.material) bone += (m == 1 || m == 2);
  EXPECT_NEAR(static_cast<double>(bone) * 1.5 * 1.5 * 1.5 / 1000, 59.9, 0.05 * 59.9);
  EXPECT_EQ(b.permeability.size(), 3 * b.num_voxels());
  ASSERT_EQ(cli("info " + out, &o), 0) << o;
  EXPECT_NE(o.find("source_image"), std::string::npos) << o;

  // Exit 2, one line naming the file and the problem.
  const auto bad = [&](const std::string& args, const std::string& what1,
                       const std::string& what2) {
    std::string e;
    EXPECT_EQ(cli("import " + args + " --out " + (dir / "x.vdb").string(), &e), 2) << args << e;
    EXPECT_NE(e.find(what1), std::string::npos) << e;
    EXPECT_NE(e.find(what2), std::string::npos) << e;
  };
  bad(ct + " --label " + seg + " --label-value 250", "example_seg_fast_force_split", "holds");
  bad(ct + " --label " + seg + " --label-value 31 --voxel-mm 0.01", "--voxel-mm", "GB");
  bad(ct + " --label " + data(kDicomSeg).string() + " --label-value 32", "example_seg_dicom",
      "outside the CT");
  const fs::path cal = dir / "cal.json";
  std::ofstream(cal) << R"({"bmd_slope_mg_cm3_per_hu": -3})";
  bad(ct + " --label " + seg + " --label-value 31 --calibration " + cal.string(), "cal.json",
      "bmd_slope_mg_cm3_per_hu");
  bad((dir / "nothing.nii.gz").string(), "nothing.nii.gz", "no such file");
  // An inconsistent DICOM series: one slice missing leaves a 4 mm gap.
  REQUIRE_DATA(data("clinical_ct_totalsegmentator/dicom_series_uncompressed"));
  const fs::path series = dir / "series";
  fs::create_directories(series);
  std::vector<fs::path> files;
  for (const auto& e :
       fs::directory_iterator(data("clinical_ct_totalsegmentator/dicom_series_uncompressed")))
    files.push_back(e.path());
  for (const auto& f : files) fs::copy_file(f, series / f.filename());
  const auto slices = cf::detail::read_dicom_series(series.string());
  // Remove the slice at z index 10 (found by its position in the sorted volume).
  std::string victim;
  for (const auto& f : files) {
    fs::path tmp = dir / "one";
    fs::create_directories(tmp);
    fs::copy_file(f, tmp / f.filename(), fs::copy_options::overwrite_existing);
    const auto one = cf::detail::read_dicom_series(tmp.string());
    fs::remove_all(tmp);
    if (std::abs(one.affine[2][3] - slices.to_world({0, 0, 10})[2]) < 1e-3)
      victim = f.filename().string();
  }
  ASSERT_FALSE(victim.empty());
  fs::remove(series / victim);
  bad(series.string(), "ImagePositionPatient", "equally spaced");
  std::ofstream(series / "zz_not_dicom.dcm") << "garbage";
  bad(series.string(), "zz_not_dicom.dcm", "DICOM");
}

TEST(ImportScenes, VpFromCtNeedleTipIsInL1TrabecularBone) {
  REQUIRE_DATA(data(kTsCt));
  const fs::path scene = cf::test::source_dir() / "scenes" / "vp_from_ct.json";
  const cf::Scene s = cf::load_scene(scene.string());
  ASSERT_EQ(s.bone.kind, cf::BoneSource::Kind::Import);
  const cf::BoneBlocks b = cf::make_bone(s);
  const auto tip = s.injection.needles.at(0).tip_mm;
  // Find the voxel that contains the tip.
  int found = cf::kInactive;
  for (std::size_t k = 0; k < b.num_blocks(); ++k)
    for (int l = 0; l < 512; ++l) {
      const auto c = b.voxel_center_mm(k, l);
      if (std::abs(c[0] - tip[0]) <= b.voxel_mm / 2 && std::abs(c[1] - tip[1]) <= b.voxel_mm / 2 &&
          std::abs(c[2] - tip[2]) <= b.voxel_mm / 2)
        found = b.material[k * 512 + static_cast<std::size_t>(l)];
    }
  EXPECT_EQ(found, static_cast<int>(cf::Material::Trabecular));
}

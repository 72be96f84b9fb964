// The 3D Slicer CLI module (`cementflow slicer`, SPEC.md §8): its descriptor validates against
// the Execution Model schema (tests/slicer/execution_model.xsd, xmllint), every flag it
// declares is one the module takes, and a run on the real TotalSegmentator CT (../shared/data)
// as Slicer invokes it writes the cement fraction and the leak label map on the CT's grid (same
// size, spacing, origin, direction), the report and the returned parameters, with Slicer's
// progress lines on stdout.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/bone/image_io.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using cementflow::test::cli;
using cementflow::test::run_command;
using cementflow::test::shared_data;
using cementflow::test::source_dir;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path xsd() {
  return source_dir() / "tests" / "slicer" / "execution_model.xsd";
}

std::string descriptor(const fs::path& dir) {
  std::string out;
  EXPECT_EQ(run_command(cli() + " slicer --xml > " + (dir / "module.xml").string()), 0);
  return read_file(dir / "module.xml");
}

}  // namespace

TEST(SlicerModule, DescriptorValidatesAgainstTheExecutionModelSchema) {
  const fs::path dir = cementflow::test::temp_dir("slicer_xml");
  const std::string xml = descriptor(dir);
  std::string out;
  ASSERT_EQ(
      run_command(
          "xmllint --noout --schema " + xsd().string() + " " + (dir / "module.xml").string(), &out),
      0)
      << out;
  EXPECT_NE(out.find("validates"), std::string::npos) << out;
  // Every input parameter and every file/image output has a flag (only simple return values,
  // written to the return-parameter file, have none).
  ASSERT_EQ(run_command("xmllint --xpath \"count(//parameters/*[not(self::label or "
                        "self::description)][(channel='input' or self::image or self::file) and "
                        "not(longflag)])\" " +
                            (dir / "module.xml").string(),
                        &out),
            0);
  EXPECT_EQ(out.substr(0, out.find_last_not_of("\n") + 1), "0");
  for (const char* needed :
       {"<category>", "<title>", "coordinateSystem=\"ras\"", "<longflag>ct</longflag>",
        "<longflag>vertebraLabel</longflag>", "<longflag>bone</longflag>",
        "<longflag>entry</longflag>", "<longflag>target</longflag>", "<longflag>mode</longflag>",
        "<longflag>preset</longflag>", "<longflag>volumeMl</longflag>",
        "<longflag>flowRateMlPerMin</longflag>", "<longflag>cementFraction</longflag>",
        "<longflag>leakLabel</longflag>", "<longflag>report</longflag>",
        "<name>peakInjectionPressure</name>", "<name>leakVolume</name>",
        "<element>generic_vertebroplasty</element>", "Cement volume (mL)"})
    EXPECT_NE(xml.find(needed), std::string::npos) << needed;

  // The flags it declares are the flags the module takes.
  std::string help;
  ASSERT_EQ(run_command(cli() + " slicer --help", &help), 0);
  const std::regex flag_re("<longflag>([A-Za-z0-9_]+)</longflag>");
  int flags = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), flag_re);
       it != std::sregex_iterator(); ++it, ++flags)
    EXPECT_NE(help.find("--" + (*it)[1].str() + " "), std::string::npos) << (*it)[1].str();
  EXPECT_GE(flags, 15);

  // The schema check can fail: a flag with a hyphen and a label before the description.
  std::string broken = xml;
  broken.replace(broken.find("<longflag>volumeMl</longflag>"),
                 std::string("<longflag>volumeMl</longflag>").size(),
                 "<longflag>volume-ml</longflag>");
  std::ofstream(dir / "broken.xml") << broken;
  EXPECT_NE(
      run_command(
          "xmllint --noout --schema " + xsd().string() + " " + (dir / "broken.xml").string(), &out),
      0);
  fs::remove_all(dir);
}

TEST(SlicerModule, BadArgumentsGiveOneLineAndExitTwo) {
  std::string out;
  EXPECT_EQ(run_command(cli() + " slicer --entry 0,0,0 --target 0,10,0", &out), 2);
  EXPECT_NE(out.find("--ct"), std::string::npos) << out;
  EXPECT_EQ(run_command(cli() + " slicer --bone nothing.vdb --entry 0,0,0 --target 0,0,0", &out),
            2);
  EXPECT_NE(out.find("--entry"), std::string::npos) << out;
}

TEST(SlicerModule, RealCtRunWritesOutputsOnTheCtGrid) {
  const fs::path ct_path = shared_data() / "clinical_ct_totalsegmentator" / "example_ct.nii.gz";
  const fs::path seg_path =
      shared_data() / "clinical_ct_totalsegmentator" / "example_seg_fast_force_split.nii.gz";
  ASSERT_TRUE(fs::exists(ct_path)) << "real data missing: " << ct_path;
  ASSERT_TRUE(fs::exists(seg_path)) << "real data missing: " << seg_path;
  const fs::path dir = cementflow::test::temp_dir("slicer_ct");
  // L1 (label 31) with the needle of scenes/vp_from_ct.json: tip (-6, 128, 386) along
  // (0.467, 0.884, 0); the entry 40 mm back along the needle.
  const double tip[3] = {-6, 128, 386}, d[3] = {0.467, 0.884, 0};
  std::ostringstream entry, target;
  entry << tip[0] - 40 * d[0] << "," << tip[1] - 40 * d[1] << "," << tip[2] - 40 * d[2];
  target << tip[0] << "," << tip[1] << "," << tip[2];
  const std::string cmd =
      cli() + " slicer --ct " + ct_path.string() + " --vertebraLabel " + seg_path.string() +
      " --labelValue 31 --voxelMm 2 --entry " + entry.str() + " --target " + target.str() +
      " --mode vertebroplasty --preset generic_vertebroplasty --volumeMl 1 --flowRateMlPerMin 3 " +
      "--threads 1 --cementFraction " + (dir / "fraction.nii.gz").string() + " --leakLabel " +
      (dir / "leaks.nii.gz").string() + " --report " + (dir / "report.json").string() +
      " --returnparameterfile " + (dir / "returned.txt").string() + " 2>" +
      (dir / "stderr.txt").string();
  std::string out;
  ASSERT_EQ(run_command(cmd, &out), 0) << out << read_file(dir / "stderr.txt");

  // Slicer's progress protocol on stdout.
  EXPECT_NE(out.find("<filter-start>"), std::string::npos);
  EXPECT_NE(out.find("<filter-end>"), std::string::npos);
  const std::regex prog_re("<filter-progress>([0-9.]+)</filter-progress>");
  double last = -1;
  int n = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), prog_re);
       it != std::sregex_iterator(); ++it, ++n) {
    const double p = std::stod((*it)[1]);
    EXPECT_GE(p, last);
    EXPECT_LE(p, 1.0);
    last = p;
  }
  EXPECT_GE(n, 3);
  EXPECT_EQ(last, 1.0);

  // Outputs on the CT's grid.
  const auto ct = cementflow::detail::read_nifti(ct_path.string());
  const auto frac = cementflow::detail::read_nifti((dir / "fraction.nii.gz").string());
  const auto leaks = cementflow::detail::read_nifti((dir / "leaks.nii.gz").string());
  for (const auto* v : {&frac, &leaks}) {
    EXPECT_EQ(v->dims, ct.dims);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c)
        EXPECT_NEAR(v->affine[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)],
                    ct.affine[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)], 1e-4)
            << "affine[" << r << "][" << c << "]";
  }
  // Cement around the tip: the CT voxel holding it is labelled cement, and its fraction is the
  // largest within 10 mm (the cement spreads from there).
  const auto ti = ct.to_index({tip[0], tip[1], tip[2]});
  const auto at = ct.index(std::llround(ti[0]), std::llround(ti[1]), std::llround(ti[2]));
  EXPECT_GE(leaks.values[at], 1.0);
  EXPECT_GT(frac.values[at], 0.3);
  double fmax = 0, fmin = 1;
  std::size_t labelled = 0;
  for (std::size_t i = 0; i < frac.values.size(); ++i) {
    fmax = std::max(fmax, frac.values[i]);
    fmin = std::min(fmin, frac.values[i]);
    labelled += leaks.values[i] >= 1 ? 1 : 0;
  }
  EXPECT_GE(fmin, 0.0);
  EXPECT_LE(fmax, 1.0 + 1e-6);
  // 1 mL of cement at BV/TV ~0.13 fills ~1.15 mL of bone: at least 1.15 mL / 27 mm^3 ~ 40 CT
  // voxels of 3 mm hold some cement (the fraction threshold 0.02 shows more).
  EXPECT_GE(labelled, 40u);

  // The report and the returned parameters.
  const auto report = nlohmann::json::parse(read_file(dir / "report.json"));
  EXPECT_EQ(report["status"], "completed");
  EXPECT_NEAR(report["injected_volume_ml"].get<double>(), 1.0, 1e-3);
  const std::string ret = read_file(dir / "returned.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ret, m, std::regex("peakInjectionPressure = ([0-9.eE+-]+)")))
      << ret;
  EXPECT_NEAR(std::stod(m[1]), report["peak_injection_pressure_mpa"].get<double>(),
              1e-5 * report["peak_injection_pressure_mpa"].get<double>());
  ASSERT_TRUE(std::regex_search(ret, m, std::regex("leakVolume = ([0-9.eE+-]+)"))) << ret;
  EXPECT_NEAR(std::stod(m[1]), report["leak_volume_ml"].get<double>(), 1e-6);
  EXPECT_NE(ret.find("runStatus = completed"), std::string::npos) << ret;
  fs::remove_all(dir);
}

#ifdef CEMENTFLOW_WITH_DICOM_SEG
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

namespace {

/// Reads a SEG back with DCMTK (dcmdata) and checks it against the CT's grid and the leak label
/// map written by the same run: frames, segment of each frame, plane positions (LPS), and the
/// number of set pixels per segment.
void check_seg(const fs::path& seg_path, const cementflow::detail::Volume& ct,
               const cementflow::detail::Volume& labels, std::string* for_uid) {
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(seg_path.c_str()).good()) << seg_path;
  DcmDataset* ds = ff.getDataset();
  OFString modality, sop_class;
  ds->findAndGetOFString(DCM_Modality, modality);
  ds->findAndGetOFString(DCM_SOPClassUID, sop_class);
  EXPECT_EQ(modality, "SEG");
  EXPECT_EQ(sop_class, UID_SegmentationStorage);
  Uint16 rows = 0, cols = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  EXPECT_EQ(rows, ct.dims[1]);
  EXPECT_EQ(cols, ct.dims[0]);
  Sint32 frames = 0;
  ds->findAndGetSint32(DCM_NumberOfFrames, frames);
  const long nz = static_cast<long>(ct.dims[2]);
  ASSERT_EQ(frames, 2 * nz);
  DcmSequenceOfItems* segments = nullptr;
  ASSERT_TRUE(ds->findAndGetSequence(DCM_SegmentSequence, segments).good());
  ASSERT_EQ(segments->card(), 2u);
  OFString label0, label1;
  segments->getItem(0)->findAndGetOFString(DCM_SegmentLabel, label0);
  segments->getItem(1)->findAndGetOFString(DCM_SegmentLabel, label1);
  EXPECT_EQ(label0, "Cement in bone");
  EXPECT_EQ(label1, "Cement leak");
  OFString f;
  ds->findAndGetOFString(DCM_FrameOfReferenceUID, f);
  *for_uid = f.c_str();

  DcmSequenceOfItems* per_frame = nullptr;
  ASSERT_TRUE(ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, per_frame).good());
  ASSERT_EQ(static_cast<long>(per_frame->card()), 2 * nz);
  for (long fr = 0; fr < 2 * nz; ++fr) {
    DcmItem* item = per_frame->getItem(static_cast<unsigned long>(fr));
    Uint16 segment = 0;
    item->findAndGetUint16(DCM_ReferencedSegmentNumber, segment, 0, OFTrue);
    EXPECT_EQ(segment, fr < nz ? 1 : 2) << fr;
    double pos[3] = {0, 0, 0};
    for (unsigned long c = 0; c < 3; ++c)
      item->findAndGetFloat64(DCM_ImagePositionPatient, pos[c], c, OFTrue);
    const auto o = ct.to_world({0, 0, static_cast<double>(fr % nz)});
    EXPECT_NEAR(pos[0], -o[0], 1e-3) << fr;  // LPS
    EXPECT_NEAR(pos[1], -o[1], 1e-3) << fr;
    EXPECT_NEAR(pos[2], o[2], 1e-3) << fr;
  }
  // Binary pixel data: one bit per pixel, frames one after another, least significant bit first.
  const Uint8* bits = nullptr;
  unsigned long nbytes = 0;
  ASSERT_TRUE(ds->findAndGetUint8Array(DCM_PixelData, bits, &nbytes).good());
  const std::size_t frame_px = static_cast<std::size_t>(rows) * cols;
  ASSERT_GE(nbytes * 8, 2 * static_cast<std::size_t>(nz) * frame_px);
  std::size_t set[2] = {0, 0};
  for (std::size_t b = 0; b < 2 * static_cast<std::size_t>(nz) * frame_px; ++b)
    if (bits[b / 8] >> (b % 8) & 1) ++set[b < static_cast<std::size_t>(nz) * frame_px ? 0 : 1];
  std::size_t expected[2] = {0, 0};
  for (double v : labels.values) {
    if (v == 1) ++expected[0];
    if (v >= 2) ++expected[1];
  }
  EXPECT_EQ(set[0], expected[0]);
  EXPECT_EQ(set[1], expected[1]);
  EXPECT_GT(set[0], 10u);
}

}  // namespace

TEST(SlicerModule, DicomSegOfCementAndLeaksReadsBackOnTheCtGrid) {
  const fs::path ts = shared_data() / "clinical_ct_totalsegmentator";
  ASSERT_TRUE(fs::exists(ts / "dicom_series_uncompressed")) << "real data missing: " << ts;
  const fs::path dir = cementflow::test::temp_dir("slicer_seg");
  // NIfTI CT (L1) and the DICOM series (T12, 20 slices; needle from behind into the body).
  struct Case {
    std::string ct, label, value, entry, target;
  } cases[] = {
      {(ts / "example_ct.nii.gz").string(), (ts / "example_seg_fast_force_split.nii.gz").string(),
       "31", "-24.68,92.64,386", "-6,128,386"},
      {(ts / "dicom_series_uncompressed").string(), (ts / "example_seg_dicom.nii.gz").string(),
       "32", "9.8,80,-790", "9.8,120,-790"}};
  std::string for_uid[2];
  for (int c = 0; c < 2; ++c) {
    const fs::path seg = dir / ("seg" + std::to_string(c) + ".dcm"),
                   leaks = dir / ("leaks" + std::to_string(c) + ".nii.gz");
    std::string out;
    ASSERT_EQ(run_command(cli() + " slicer --ct " + cases[c].ct + " --vertebraLabel " +
                              cases[c].label + " --labelValue " + cases[c].value +
                              " --voxelMm 2 --entry " + cases[c].entry + " --target " +
                              cases[c].target + " --volumeMl 0.5 --threads 1 --leakLabel " +
                              leaks.string() + " --dicomSeg " + seg.string(),
                          &out),
              0)
        << out;
    const auto ct = cementflow::detail::read_image(cases[c].ct);
    const auto labels = cementflow::detail::read_nifti(leaks.string());
    check_seg(seg, ct, labels, &for_uid[c]);
  }
  // The SEG of the DICOM CT shares the series' frame of reference (the test series is
  // de-identified without study, series or SOP instance UIDs, so only this link can be checked).
  DcmFileFormat src;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(ts / "dicom_series_uncompressed")) files.push_back(e);
  std::sort(files.begin(), files.end());
  ASSERT_TRUE(src.loadFile(files.front().c_str()).good());
  OFString src_for;
  src.getDataset()->findAndGetOFString(DCM_FrameOfReferenceUID, src_for);
  EXPECT_FALSE(src_for.empty());
  EXPECT_EQ(for_uid[1], src_for.c_str());
  EXPECT_NE(for_uid[0], for_uid[1]);  // the NIfTI CT's SEG has a frame of reference of its own
  fs::remove_all(dir);
}
#endif

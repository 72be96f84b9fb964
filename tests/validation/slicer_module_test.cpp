// The 3D Slicer CLI module (`cementflow slicer`, SPEC.md §8): its descriptor validates against
// the Execution Model schema (tests/slicer/execution_model.xsd, xmllint), every flag it
// declares is one the module takes, and a run on the real TotalSegmentator CT (../shared/data)
// as Slicer invokes it writes the cement fraction and the leak label map on the CT's grid (same
// size, spacing, origin, direction), the report and the returned parameters, with Slicer's
// progress lines on stdout.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/image_io.hpp"
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

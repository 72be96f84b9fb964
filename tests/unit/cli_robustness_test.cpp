// Regression tests of issue 17's findings that live in the command line (the built CLI is run):
// arguments that crashed or were silently accepted now exit 2 with one line naming the argument;
// constant rheometer data finish; a signal during a run's setup ends it at once.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using cementflow::test::cli;
using cementflow::test::run_command;

namespace {

/// Runs the CLI with `args`; expects exit status `want` and, on a refusal, one line naming `part`.
void expect_cli(const std::string& args, int want, const std::string& part) {
  std::string out;
  const int rc = run_command(cli() + " " + args, &out);
  EXPECT_EQ(rc, want) << args << "\n" << out;
  EXPECT_NE(out.find(part), std::string::npos) << args << "\n" << out;
  if (want == 2) {
    // One line on stderr (nothing else is printed for a refused input).
    EXPECT_EQ(out.find('\n'), out.size() - 1) << args << "\n" << out;
  }
}

}  // namespace

TEST(CliRobustness, ArgumentsOutsideTheirRangeExit2) {
  const auto dir = cementflow::test::temp_dir("cli_robust_args");
  const std::string scene =
      (cementflow::test::source_dir() / "scenes/box_vp_default.json").string();
  // --threads 600 and OMP_NUM_THREADS=600 crashed inside Kokkos.
  expect_cli("run " + scene + " --threads 600 --out " + dir.string(), 2, "--threads");
  std::string out;
  EXPECT_EQ(run_command("OMP_NUM_THREADS=600 " + cli() + " run " + scene + " --out " + dir.string(),
                        &out),
            2)
      << out;
  EXPECT_NE(out.find("OMP_NUM_THREADS"), std::string::npos) << out;
  // Seeds outside 0..2^64-1 wrapped around or were accepted.
  const std::string vout = " --voxel-mm 2 --out " + (dir / "v.vdb").string();
  expect_cli("generate vertebra --seed -1" + vout, 2, "--seed");
  expect_cli("generate vertebra --seed 18446744073709551616" + vout, 2, "--seed");
  expect_cli("generate vertebra --seed 12abc" + vout, 2, "--seed");
  expect_cli("generate vertebra --seed 18446744073709551615" + vout, 0, "wrote");
  // `render --at ''` meant the default point.
  expect_cli("render " + (dir / "v.vdb").string() + " --at ''", 2, "--at");
  // `generate box --permeability-m2 0 0 0` wrote the law's value; `import --voxel-mm 0` meant
  // the default.
  expect_cli("generate box --permeability-m2 0 0 0 --out " + (dir / "b.vdb").string(), 2,
             "--permeability-m2");
  expect_cli(
      "import " + (dir / "none.mhd").string() + " --voxel-mm 0 --out " + (dir / "i.vdb").string(),
      2, "--voxel-mm");
  // `fit-rheology /dev/zero` read without limit.
  expect_cli("fit-rheology /dev/zero --model newtonian --out " + (dir / "fit").string(), 2,
             "not a regular file");
  // --max-memory-gb: the estimate is named before anything is allocated.
  expect_cli("generate box --max-memory-gb 0.001 --out " + (dir / "b.vdb").string(), 2,
             "needs about");
}

TEST(CliRobustness, ConstantViscosityDataFinish) {
  // fit-rheology on three equal rows grew by ~200 MB/s without end after writing fit.json.
  const auto dir = cementflow::test::temp_dir("cli_robust_fit");
  std::ofstream(dir / "c.csv") << "shear_rate_per_s,viscosity_pa_s\n1,100\n2,100\n3,100\n";
  for (const char* model : {"newtonian", "power_law"}) {
    std::string out;
    const std::string o = (dir / model).string();
    ASSERT_EQ(run_command(cli() + " fit-rheology " + (dir / "c.csv").string() + " --model " +
                              model + " --out " + o,
                          &out),
              0)
        << out;
    EXPECT_TRUE(fs::exists(fs::path(o) / "fit.png")) << out;
  }
}

TEST(CliRobustness, ASignalDuringSetupEndsTheRunAtOnce) {
  // SIGINT was ignored while the bone was generated (47 s for a 0.25 mm vertebra); SIGHUP ended
  // a run with no message. The scene generates a vertebra at 0.25 mm (tens of seconds); the
  // signal comes after 3 s (the handlers are installed as `run` starts), long before the first
  // time step.
  const auto dir = cementflow::test::temp_dir("cli_robust_signal");
  std::ifstream in(cementflow::test::source_dir() / "scenes/vp_unipedicular_osteoporotic.json");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = s.find("\"voxel_mm\": 1.0");
  ASSERT_NE(at, std::string::npos);
  s.replace(at, 15, "\"voxel_mm\": 0.25");
  std::ofstream(dir / "fine.json") << s;
  for (const char* sig : {"INT", "HUP"}) {
    std::string out;
    const int rc = run_command("(" + cli() + " run " + (dir / "fine.json").string() + " --out " +
                                   (dir / "out").string() + " --threads 1 & p=$!; sleep 3; kill -" +
                                   sig + " $p; wait $p)",
                               &out);
    EXPECT_EQ(rc, 3) << sig << "\n" << out;
    EXPECT_NE(out.find("interrupted before the first time step"), std::string::npos) << out;
  }
  // `generate` started as a background job of a script inherits SIGINT ignored: it now restores
  // the default action, so the shell sees it killed by SIGINT (status 130) long before the 0.25 mm
  // vertebra is done, and no file is left (written under a temporary name, renamed at the end).
  std::string out;
  const fs::path vdb = dir / "fine.vdb";
  const int rc = run_command("(" + cli() + " generate vertebra --voxel-mm 0.25 --out " +
                                 vdb.string() + " & p=$!; sleep 1; kill -INT $p; wait $p)",
                             &out);
  EXPECT_EQ(rc, 130) << out;
  EXPECT_FALSE(fs::exists(vdb)) << out;
}

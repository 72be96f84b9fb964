// `cementflow sweep` end to end on tiny box scenes (tests/sweep_fixture.hpp, a fraction of a
// second per case): exit codes, --dry-run, the outputs against the case reports, a failed case
// as a row, resume (only a deleted case runs again), shards merging to the single-process
// sweep.csv, SIGINT leaving a consistent folder, MPI ranks (np = 2) against one process, and
// `run --samples`.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sweep_fixture.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using cementflow::test::cli;
using cementflow::test::run_command;
using nlohmann::json;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  // Cells here hold no commas inside quotes except JSON arrays, which are quoted.
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(p));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        row.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    row.push_back(cell);
    rows.push_back(row);
  }
  return rows;
}

/// sweep.csv without the wall_time_s column (the only one that differs between two runs).
std::vector<std::vector<std::string>> csv_without_wall_time(const fs::path& p) {
  auto rows = read_csv(p);
  if (rows.empty()) return rows;
  const auto& h = rows[0];
  const auto it = std::find(h.begin(), h.end(), "wall_time_s");
  const auto col = static_cast<std::size_t>(it - h.begin());
  for (auto& r : rows)
    if (col < r.size()) r.erase(r.begin() + static_cast<long>(col));
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  return static_cast<std::size_t>(it - header.begin());
}

class SweepCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        cementflow::test::temp_dir(std::string("sweep_cli_") +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    cementflow::test::write_text_file(dir_, "scene.json", cementflow::test::tiny_box_scene_json());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string sweep_file(const std::string& name, const std::string& body) {
    return cementflow::test::write_text_file(
        dir_, name, R"({"schema": 1, "name": "t", "scene": "scene.json", )" + body + "}");
  }
  int sweep(const std::string& file, const std::string& out, const std::string& extra,
            std::string* output) {
    return run_command(
        "OMP_NUM_THREADS=1 " + cli() + " sweep " + file + " --out " + out + " --quiet " + extra,
        output);
  }
  fs::path dir_;
};

// Four cases: two volumes × two tip positions (closer to or further from the vein).
const char* kGrid =
    R"("axes": {"injection.volume_ml": [0.1, 0.5], "injection.needle.tip_mm": [[0, 0, 0], [0, 4, 0]]})";

TEST_F(SweepCli, BadSweepExitsTwoNamingKeyAndValueBeforeRunning) {
  const std::string f = sweep_file("bad.json", R"("axes": {"injection.volume_ml": [0.2, -3]})");
  std::string out;
  EXPECT_EQ(sweep(f, (dir_ / "o").string(), "", &out), 2) << out;
  EXPECT_NE(out.find("bad.json"), std::string::npos) << out;
  EXPECT_NE(out.find("injection.volume_ml"), std::string::npos) << out;
  EXPECT_NE(out.find("-3"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "o"));  // nothing ran
  const std::string g = sweep_file("bad2.json", R"("cohort": {"patients": 0})");
  EXPECT_EQ(sweep(g, (dir_ / "o").string(), "", &out), 2) << out;
  EXPECT_NE(out.find("cohort.patients"), std::string::npos) << out;
  EXPECT_EQ(sweep(sweep_file("ok.json", kGrid), (dir_ / "o").string(), "--shard 2/2", &out), 2)
      << out;
  EXPECT_NE(out.find("--shard"), std::string::npos) << out;
}

TEST_F(SweepCli, DryRunListsTheCases) {
  std::string out;
  ASSERT_EQ(run_command(cli() + " sweep " + sweep_file("s.json", kGrid) + " --dry-run --out " +
                            (dir_ / "o").string(),
                        &out),
            0)
      << out;
  for (const char* id : {"g0 ", "g1 ", "g2 ", "g3 "})
    EXPECT_NE(out.find(std::string("  ") + id), std::string::npos) << out;
  EXPECT_NE(out.find("4 cases"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ / "o"));
}

TEST_F(SweepCli, OutputsAgreeWithTheCaseReportsAndResumeRunsOnlyWhatIsMissing) {
  const std::string f = sweep_file("s.json", kGrid);
  const fs::path o = dir_ / "o";
  std::string out;
  ASSERT_EQ(sweep(f, o.string(), "", &out), 0) << out;
  const auto rows = read_csv(o / "sweep.csv");
  ASSERT_EQ(rows.size(), 5u);
  const auto& h = rows[0];
  const json sj = json::parse(read_file(o / "sweep.json"));
  long long leaking = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const json rep = json::parse(read_file(o / "cases" / rows[i][0] / "report.json"));
    EXPECT_EQ(rows[i][column(h, "status")], rep["status"].get<std::string>());
    EXPECT_EQ(rows[i][column(h, "status")], "completed");
    const double leak = std::stod(rows[i][column(h, "leak_volume_ml")]);
    EXPECT_EQ(leak, rep["leak_volume_ml"].get<double>());  // shortest round-trip text
    EXPECT_EQ(rep["case"]["id"], rows[i][0]);
    leaking += leak > 0.01 ? 1 : 0;
  }
  EXPECT_EQ(sj["overall"]["any"]["count"].get<long long>(), leaking);
  EXPECT_EQ(sj["overall"]["any"]["n"].get<long long>(), 4);
  EXPECT_EQ(sj["groups"].size(), 4u);
  EXPECT_TRUE(fs::exists(o / "incidence.png"));
  EXPECT_TRUE(fs::exists(o / "pressure_cdf.png"));

  // Resume: delete one case; the rerun runs it alone and leaves the other reports untouched.
  const std::string kept = read_file(o / "cases" / "g0" / "report.json");
  fs::remove_all(o / "cases" / "g2");
  ASSERT_EQ(
      run_command("OMP_NUM_THREADS=1 " + cli() + " sweep " + f + " --out " + o.string(), &out), 0)
      << out;
  EXPECT_NE(out.find("1 to run (3 done already)"), std::string::npos) << out;
  EXPECT_EQ(read_file(o / "cases" / "g0" / "report.json"), kept);
  EXPECT_TRUE(fs::exists(o / "cases" / "g2" / "report.json"));
  EXPECT_EQ(csv_without_wall_time(o / "sweep.csv"), [&] {
    auto r = rows;
    const auto col = column(h, "wall_time_s");
    for (auto& x : r) x.erase(x.begin() + static_cast<long>(col));
    return r;
  }());
  // A changed input is a new case: its old report does not count.
  const std::string f2 = sweep_file(
      "s2.json",
      R"("axes": {"injection.volume_ml": [0.1, 0.45], "injection.needle.tip_mm": [[0, 0, 0], [0, 4, 0]]})");
  ASSERT_EQ(
      run_command("OMP_NUM_THREADS=1 " + cli() + " sweep " + f2 + " --out " + o.string(), &out), 0)
      << out;
  EXPECT_NE(out.find("2 to run (2 done already)"), std::string::npos) << out;
}

TEST_F(SweepCli, AFailedCaseIsARowAndTheSweepGoesOn) {
  // A 1 kPa pressure limit stops the first case at once; the second completes.
  const std::string f =
      sweep_file("s.json", R"("axes": {"injection.max_pressure_mpa": [0.001, 10]})");
  const fs::path o = dir_ / "o";
  std::string out;
  EXPECT_EQ(sweep(f, o.string(), "", &out), 3) << out;
  const auto rows = read_csv(o / "sweep.csv");
  ASSERT_EQ(rows.size(), 3u);
  const auto st = column(rows[0], "status"), msg = column(rows[0], "message");
  EXPECT_EQ(rows[1][st], "stopped_at_pressure_limit");
  EXPECT_FALSE(rows[1][msg].empty());
  EXPECT_EQ(rows[2][st], "completed");
  const json sj = json::parse(read_file(o / "sweep.json"));
  EXPECT_EQ(sj["cases"]["incomplete"].get<long long>(), 1);
}

TEST_F(SweepCli, ShardsMergeToTheSameSweepCsvAsOneProcess) {
  const std::string f = sweep_file("s.json", kGrid);
  std::string out;
  ASSERT_EQ(sweep(f, (dir_ / "one").string(), "", &out), 0) << out;
  const fs::path sh = dir_ / "sharded";
  ASSERT_EQ(sweep(f, sh.string(), "--shard 0/2", &out), 0) << out;
  ASSERT_EQ(sweep(f, sh.string(), "--shard 1/2", &out), 0) << out;
  EXPECT_TRUE(fs::exists(sh / "cases" / "g0" / "report.json"));
  EXPECT_TRUE(fs::exists(sh / "cases" / "g1" / "report.json"));
  ASSERT_EQ(
      run_command("OMP_NUM_THREADS=1 " + cli() + " sweep " + f + " --out " + sh.string(), &out), 0)
      << out;
  EXPECT_NE(out.find("0 to run (4 done already)"), std::string::npos) << out;
  EXPECT_EQ(csv_without_wall_time(sh / "sweep.csv"),
            csv_without_wall_time(dir_ / "one" / "sweep.csv"));
}

TEST_F(SweepCli, SigintLeavesAConsistentFolderThatResumes) {
  // 24 cases of a larger volume; SIGINT after 1.5 s (timeout --preserve-status passes on the
  // sweep's own exit status).
  const std::string f = sweep_file("s.json", R"("axes": {"injection.volume_ml": [0.5, 0.6, 0.7],
      "injection.needle.tip_mm": [[0,0,0],[0,1,0],[0,2,0],[0,3,0],[1,0,0],[1,1,0],[1,2,0],[1,3,0]]})");
  const fs::path o = dir_ / "o";
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = sweep(f, o.string(), "", &out);  // reference run time of the whole sweep
  const double whole = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(rc, 0) << out;
  fs::remove_all(o);
  char cmd[64];
  std::snprintf(cmd, sizeof cmd, "timeout -s INT --preserve-status %.2f ", whole / 3);
  EXPECT_EQ(run_command(std::string(cmd) + "env OMP_NUM_THREADS=1 " + cli() + " sweep " + f +
                            " --quiet --out " + o.string(),
                        &out),
            3)
      << out;
  // Every case folder holds one whole report (no temporary file); sweep.csv lists every case.
  long long reports = 0;
  for (const auto& d : fs::directory_iterator(o / "cases")) {
    for (const auto& e : fs::directory_iterator(d.path()))
      EXPECT_EQ(e.path().filename(), "report.json") << e.path();
    EXPECT_NO_THROW(json::parse(read_file(d.path() / "report.json")));
    ++reports;
  }
  const auto rows = read_csv(o / "sweep.csv");
  ASSERT_EQ(rows.size(), 25u);
  EXPECT_LT(reports, 24);
  long long not_run = 0;
  for (std::size_t i = 1; i < rows.size(); ++i)
    not_run += rows[i][column(rows[0], "status")] == "not_run" ? 1 : 0;
  EXPECT_GT(not_run, 0);
  ASSERT_EQ(sweep(f, o.string(), "", &out), 0) << out;  // resumes and completes
  EXPECT_EQ(read_csv(o / "sweep.csv").size(), 25u);
}

#ifdef CEMENTFLOW_TEST_MPI
TEST_F(SweepCli, MpiRanksGiveTheSameOutputsAsOneProcess) {
  const std::string f = sweep_file("s.json", kGrid);
  std::string out;
  ASSERT_EQ(sweep(f, (dir_ / "one").string(), "", &out), 0) << out;
  const std::string mpi = std::string(CEMENTFLOW_MPIEXEC) +
                          " --oversubscribe --allow-run-as-root -np 2 -x OMP_NUM_THREADS=1 ";
  ASSERT_EQ(run_command("OMPI_MCA_rmaps_base_oversubscribe=1 " + mpi + cli() + " sweep " + f +
                            " --quiet --out " + (dir_ / "mpi").string(),
                        &out),
            0)
      << out;
  EXPECT_EQ(csv_without_wall_time(dir_ / "mpi" / "sweep.csv"),
            csv_without_wall_time(dir_ / "one" / "sweep.csv"));
  const json a = json::parse(read_file(dir_ / "mpi" / "sweep.json"));
  const json b = json::parse(read_file(dir_ / "one" / "sweep.json"));
  EXPECT_EQ(a["overall"], b["overall"]);
  EXPECT_EQ(a["relative_risks"], b["relative_risks"]);
  for (int g = 0; g < 4; ++g) {
    const json rep =
        json::parse(read_file(dir_ / "mpi" / "cases" / ("g" + std::to_string(g)) / "report.json"));
    EXPECT_EQ(rep["engine"]["threads"].get<int>(), 1);  // 2 ranks x 1 thread
  }
}
#endif

TEST_F(SweepCli, RunSamplesAddsTheLeakProbability) {
  const std::string scene = cementflow::test::write_text_file(
      dir_, "u.json",
      cementflow::test::tiny_box_scene_json(
          R"(, "uncertainty": {"injection.volume_ml": {"uniform": [0.1, 0.6]}})"));
  const fs::path o = dir_ / "run";
  std::string out;
  // Without --samples the block is ignored and the plan runs as written.
  ASSERT_EQ(
      run_command("OMP_NUM_THREADS=1 " + cli() + " run " + scene + " --quiet --out " + o.string(),
                  &out),
      0)
      << out;
  EXPECT_EQ(json::parse(read_file(o / "report.json")).count("leak_probability"), 0u);
  ASSERT_EQ(run_command("OMP_NUM_THREADS=1 " + cli() + " run " + scene +
                            " --quiet --samples 6 --seed 3 --render --out " + o.string(),
                        &out),
            0)
      << out;
  const json rep = json::parse(read_file(o / "report.json"));
  ASSERT_TRUE(rep.contains("leak_probability")) << rep.dump();
  const json& lp = rep["leak_probability"];
  EXPECT_EQ(lp["samples"].get<long long>(), 6);
  EXPECT_EQ(lp["threshold_ml"].get<double>(), 0.01);
  // The probability is the fraction of the sample reports that leaked.
  long long leaked = 0;
  for (int s = 0; s < 6; ++s) {
    const json r =
        json::parse(read_file(o / "samples" / "cases" / ("s" + std::to_string(s)) / "report.json"));
    leaked += r["leak_volume_ml"].get<double>() > 0.01 ? 1 : 0;
  }
  EXPECT_DOUBLE_EQ(lp["any"].get<double>(), static_cast<double>(leaked) / 6);
  EXPECT_LE(lp["ci95"][0].get<double>(), lp["any"].get<double>());
  EXPECT_GE(lp["ci95"][1].get<double>(), lp["any"].get<double>());
  EXPECT_TRUE(lp["by_route"].contains("basivertebral_vein"));
  EXPECT_NE(rep["leak_risk"]["basis"].get<std::string>().find("not a calibrated"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(o / "pressure_curve.png"));
  // --samples without an uncertainty block: exit 2 naming the key.
  EXPECT_EQ(run_command(cli() + " run " + (dir_ / "scene.json").string() +
                            " --quiet --samples 2 --out " + (dir_ / "x").string(),
                        &out),
            2);
  EXPECT_NE(out.find("uncertainty"), std::string::npos) << out;
}

}  // namespace

// Client tests of `cementflow serve` (SPEC.md §8, API v1) against the real server binary on
// 127.0.0.1: the test starts it on a free port (--port 0), talks to it with httplib's client and
// raw sockets, and stops it with SIGTERM. Every wait is a bounded loop. The tests run in one
// process, in order (ctest runs the binary once): the last ones check that the server still
// answers /v1/health after all of it, shuts down gracefully and serves its finished runs again
// after a restart.

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using cementflow::test::cli;
using cementflow::test::run_command;

namespace {

const char* kToken = "s3cret-token-0123456789abcdef";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// A report without its wall-clock time (the only field that differs between two runs).
std::string without_wall_time(const std::string& report) {
  return std::regex_replace(report, std::regex(R"(\n *"wall_time_s": [^\n]*)"), "");
}

/// A started `cementflow serve` child process.
struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
  int out_fd = -1;

  /// Starts the CLI's serve with `args`; waits (at most 60 s) for its "listening" line.
  bool start(const std::vector<std::string>& args, const fs::path& log) {
    // Everything the child needs is prepared before fork(): this process has threads, so the
    // child may only call async-signal-safe functions before exec.
    std::vector<std::string> all{cli(), "serve"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text{"OMP_NUM_THREADS=1"};
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("OMP_NUM_THREADS=", 0) != 0) env_text.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fds[2];
    if (err < 0 || ::pipe(fds) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      ::close(fds[0]);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(err);
    ::close(fds[1]);
    out_fd = fds[0];
    std::string text;
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
      pollfd p{out_fd, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buf[512];
        const ssize_t n = ::read(out_fd, buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        std::smatch m;
        if (std::regex_search(text, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"))) {
          port = std::stoi(m[1]);
          return true;
        }
      }
    }
    return false;
  }

  /// SIGTERM, then waits (at most 30 s) for the exit status; SIGKILL and -1 if it hangs.
  int stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 300; ++i) {
      const pid_t r = ::waitpid(pid, &st, WNOHANG);
      if (r == pid) {
        pid = -1;
        if (out_fd >= 0) ::close(out_fd);
        out_fd = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    pid = -1;
    return -1;
  }
  ~ServerProcess() { stop(); }
};

httplib::Headers auth(const std::string& token = kToken) {
  return {{"Authorization", "Bearer " + token}};
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(cementflow::test::temp_dir("serve"));
    const fs::path data = *dir_ / "data", outside = *dir_ / "outside";
    fs::create_directories(data);
    fs::create_directories(outside);
    write_file(*dir_ / "token", std::string(kToken) + "\n");
    // A small box bone in the data folder, one outside it and a link from inside to outside.
    std::string out;
    ASSERT_EQ(run_command(cli() +
                              " generate box --size-mm 20 16 16 --voxel-mm 2 --shell-mm 2 "
                              "--sink-faces=+z --sink-faces=-z --out " +
                              (data / "box.vdb").string(),
                          &out),
              0)
        << out;
    fs::copy_file(data / "box.vdb", outside / "secret.vdb");
    // The real CT and its labels (../shared/data), by name inside the data folder.
    const fs::path ts = cementflow::test::shared_data() / "clinical_ct_totalsegmentator";
    ASSERT_TRUE(fs::exists(ts / "example_ct.nii.gz")) << "real data missing: " << ts;
    fs::copy_file(ts / "example_ct.nii.gz", data / "ct.nii.gz");
    fs::copy_file(ts / "example_seg_fast_force_split.nii.gz", data / "seg.nii.gz");
    fs::create_symlink(outside / "secret.vdb", data / "link.vdb");
    server_ = new ServerProcess;
    ASSERT_TRUE(server_->start(
        {"--port", "0", "--token-file", (*dir_ / "token").string(), "--data-dir", data.string(),
         "--threads", "1", "--max-jobs", "60", "--max-body-mb", "0.25", "--read-timeout-s", "3"},
        *dir_ / "server.log"))
        << read_file(*dir_ / "server.log");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static httplib::Client client() {
    httplib::Client c("127.0.0.1", server_->port);
    c.set_connection_timeout(5);
    c.set_read_timeout(20);
    c.set_write_timeout(5);
    return c;
  }

  /// The tiny fast scene: a generated 20x16x16 mm box at 2 mm, 0.3 mL.
  static json tiny_scene(double volume_ml = 0.3) {
    json s = json::parse(R"({
      "schema": 1, "name": "tiny_box",
      "bone": {"generate": {"kind": "box", "size_mm": [20, 16, 16], "voxel_mm": 2.0,
                            "porosity": 0.9, "shell_mm": 2.0, "sink_faces": ["+z", "-z"]}},
      "cement": {"preset": "generic_vertebroplasty"},
      "injection": {"mode": "vertebroplasty",
                    "needle": {"tip_mm": [0, 0, 0], "direction": [0, 1, 0], "gauge": 11,
                             "length_mm": 120},
                    "flow_rate_ml_per_min": 3.0, "volume_ml": 0.3},
      "simulation": {"max_time_s": 600, "output_interval_s": 2}
    })");
    s["injection"]["volume_ml"] = volume_ml;
    return s;
  }

  /// A scene that runs long enough to be cancelled: 1 mm voxels, 6 mL.
  static json long_scene() {
    json s = tiny_scene(6.0);
    s["name"] = "long_box";
    s["bone"]["generate"]["size_mm"] = {40, 30, 25};
    s["bone"]["generate"]["voxel_mm"] = 1.0;
    s["bone"]["generate"]["shell_mm"] = 1.0;
    s["bone"]["generate"]["sink_faces"] = {"+z", "-z"};
    return s;
  }

  /// Polls a run until it has ended (at most `seconds`); returns its last status JSON.
  static json wait_for(const std::string& id, double seconds = 60) {
    auto c = client();
    json st;
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(seconds)) {
      auto r = c.Get("/v1/runs/" + id, auth());
      if (r && r->status == 200) {
        st = json::parse(r->body);
        const std::string s = st["status"];
        if (s == "completed" || s == "failed" || s == "cancelled") return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return st;
  }

  /// POSTs a scene and returns the run id ("" on failure, with the response in `body`).
  static std::string submit(const std::string& scene, int* status = nullptr,
                            std::string* body = nullptr) {
    auto c = client();
    auto r = c.Post("/v1/runs", auth(), scene, "application/json");
    if (status) *status = r ? r->status : -1;
    if (body) *body = r ? r->body : "";
    if (!r || r->status != 202) return "";
    return json::parse(r->body)["id"];
  }

  static fs::path* dir_;
  static ServerProcess* server_;
  static std::string completed_id_;
  static std::string completed_report_;
};
fs::path* ServeTest::dir_ = nullptr;
ServerProcess* ServeTest::server_ = nullptr;
std::string ServeTest::completed_id_;
std::string ServeTest::completed_report_;

}  // namespace

namespace {

/// Connects a raw TCP socket to the server (for malformed and slow clients).
int raw_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads until the peer closes or `seconds` pass; returns what came and whether it closed.
std::string raw_read_all(int fd, double seconds, bool* closed) {
  std::string text;
  *closed = false;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::duration<double>(seconds)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[1024];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        break;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
  }
  return text;
}

}  // namespace

TEST_F(ServeTest, HealthNeedsNoToken) {
  auto c = client();
  auto r = c.Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json h = json::parse(r->body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["api"], 1);
}

TEST_F(ServeTest, AuthNoneWrongRight) {
  auto c = client();
  const std::string scene = tiny_scene().dump();
  auto none = c.Post("/v1/runs", scene, "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_NE(json::parse(none->body)["error"].get<std::string>().find("missing bearer token"),
            std::string::npos);
  auto wrong = c.Post("/v1/runs", auth("s3cret-token-0123456789abcdeX"), scene, "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(json::parse(wrong->body)["error"], "invalid bearer token");
  auto shorter = c.Get("/v1/runs/0123456789abcdef0123456789abcdef", auth("s3cret"));
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->status, 401);
  auto other_scheme = c.Get("/v1/runs/0123456789abcdef0123456789abcdef",
                            {{"Authorization", std::string("Basic ") + kToken}});
  ASSERT_TRUE(other_scheme);
  EXPECT_EQ(other_scheme->status, 401);
  auto right = c.Get("/v1/runs/0123456789abcdef0123456789abcdef", auth());
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 404);  // authorised, but no such run
}

TEST_F(ServeTest, ReportIsTheClisReportButForWallTime) {
  const json scene = tiny_scene();
  const std::string id = submit(scene.dump());
  ASSERT_FALSE(id.empty());
  const json st = wait_for(id);
  ASSERT_EQ(st["status"], "completed") << st.dump();
  auto c = client();
  auto rep = c.Get("/v1/runs/" + id + "/report", auth());
  ASSERT_TRUE(rep);
  ASSERT_EQ(rep->status, 200);
  auto fill = c.Get("/v1/runs/" + id + "/fill.vdb", auth());
  ASSERT_TRUE(fill);
  ASSERT_EQ(fill->status, 200);
  EXPECT_GT(fill->body.size(), 1000u);
  EXPECT_EQ(fill->body.substr(0, 4), std::string("\x20\x42\x44\x56", 4));  // VDB magic

  // The same scene through the CLI, same engine threads.
  const fs::path scene_file = *dir_ / "tiny_box.json", out = *dir_ / "cli_out";
  write_file(scene_file, scene.dump(2));
  std::string log;
  ASSERT_EQ(run_command(cli() + " run " + scene_file.string() + " --threads 1 --quiet --out " +
                            out.string(),
                        &log),
            0)
      << log;
  const std::string cli_report = read_file(out / "report.json");
  ASSERT_NE(cli_report.find("\"wall_time_s\""), std::string::npos);
  EXPECT_EQ(without_wall_time(rep->body), without_wall_time(cli_report));
  EXPECT_NE(without_wall_time(cli_report), cli_report);  // the time was there and is gone
  completed_id_ = id;
  completed_report_ = rep->body;
}

TEST_F(ServeTest, InvalidScenesGetTheClisMessage) {
  // The same bad scenes through the CLI (file <request>-named in the server's message).
  const std::vector<std::string> bad = {
      "this is not json",
      R"({"schema": 1})",
      tiny_scene().dump().replace(tiny_scene().dump().find("\"volume_ml\":0.3"),
                                  std::string("\"volume_ml\":0.3").size(), "\"volume_ml\":-2"),
      "[1, 2, 3]",
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    int status = 0;
    std::string body;
    EXPECT_TRUE(submit(bad[i], &status, &body).empty());
    EXPECT_EQ(status, 400) << body;
    const std::string err = json::parse(body)["error"];
    const fs::path f = *dir_ / ("bad" + std::to_string(i) + ".json");
    write_file(f, bad[i]);
    std::string out;
    EXPECT_EQ(
        run_command(cli() + " run " + f.string() + " --quiet --out " + (*dir_ / "bad_out").string(),
                    &out),
        2);
    // "cementflow: FILE: ..." on the CLI; "<request>: ..." from the server.
    std::string cli_msg = out.substr(0, out.find('\n'));
    cli_msg = cli_msg.substr(std::string("cementflow: ").size());
    cli_msg.replace(0, f.string().size(), "<request>");
    EXPECT_EQ(err, cli_msg) << bad[i];
  }
}

TEST_F(ServeTest, OversizedAndMalformedBodies) {
  auto c = client();
  // 0.25 MB limit: a 0.3 MB body gets 413 with a JSON error.
  std::string big = tiny_scene().dump();
  big.insert(big.size() - 1, ", \"padding\": \"" + std::string(300 * 1024, 'x') + "\"");
  auto r = c.Post("/v1/runs", auth(), big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["error"], "request body too large");
  // A body that says it is huge but is not sent: refused from its Content-Length.
  const int fd = raw_connect(server_->port);
  ASSERT_GE(fd, 0);
  const std::string head = "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           std::string(kToken) + "\r\nContent-Length: 999999999999\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  bool closed = false;
  const std::string resp = raw_read_all(fd, 10, &closed);
  ::close(fd);
  EXPECT_NE(resp.find(" 413 "), std::string::npos) << resp;
  // Garbage instead of HTTP.
  const int g = raw_connect(server_->port);
  ASSERT_GE(g, 0);
  const std::string garbage = "\x01\x02 NOT HTTP AT ALL\r\n\r\n";
  ::send(g, garbage.data(), garbage.size(), MSG_NOSIGNAL);
  const std::string gresp = raw_read_all(g, 10, &closed);
  ::close(g);
  EXPECT_TRUE(closed);
  EXPECT_NE(gresp.find(" 400 "), std::string::npos) << gresp;
  // Unknown endpoint and a bad run id: JSON 404.
  auto nf = c.Get("/v1/nothing", auth());
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_TRUE(json::parse(nf->body).contains("error"));
}

TEST_F(ServeTest, BonesOnlyByNameInsideTheDataDir) {
  auto with_bone = [](const json& bone) {
    json s = tiny_scene();
    s["bone"] = bone;
    return s.dump();
  };
  const fs::path secret = *dir_ / "outside" / "secret.vdb";
  const std::vector<std::pair<json, std::string>> escapes = {
      {json{{"vdb", "../outside/secret.vdb"}}, "bone.vdb"},
      {json{{"vdb", "sub/../../outside/secret.vdb"}}, "bone.vdb"},
      {json{{"vdb", secret.string()}}, "bone.vdb"},
      {json{{"vdb", "link.vdb"}}, "bone.vdb"},  // a symlink to outside/secret.vdb
      {json{{"vdb", "missing.vdb"}}, "bone.vdb"},
      {json{{"import", {{"image", "../outside/secret.vdb"}, {"threshold", 10}}}},
       "bone.import.image"},
  };
  for (const auto& [bone, key] : escapes) {
    int status = 0;
    std::string body;
    EXPECT_TRUE(submit(with_bone(bone), &status, &body).empty()) << bone.dump();
    EXPECT_EQ(status, 400) << body;
    const std::string err = json::parse(body)["error"];
    EXPECT_EQ(err.rfind("<request>: " + key + ":", 0), 0u) << err;
  }
  // By name inside the data folder: accepted and run.
  json s = tiny_scene();
  s["bone"] = json{{"vdb", "box.vdb"}};
  const std::string id = submit(s.dump());
  ASSERT_FALSE(id.empty());
  const json st = wait_for(id);
  EXPECT_EQ(st["status"], "completed") << st.dump();
}

TEST_F(ServeTest, SlowClientIsDroppedAndDoesNotBlockOthers) {
  const int fd = raw_connect(server_->port);
  ASSERT_GE(fd, 0);
  const std::string partial = "POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  // Others are served meanwhile.
  auto c = client();
  const auto t0 = std::chrono::steady_clock::now();
  auto h = c.Get("/v1/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  // The slow one is disconnected after the server's read timeout (3 s here).
  bool closed = false;
  raw_read_all(fd, 30, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
}

TEST_F(ServeTest, FiftyConcurrentClients) {
  ASSERT_FALSE(completed_id_.empty());
  const std::string bad = R"({"schema": 1, "name": 5})";
  std::atomic<int> ok{0}, accepted{0};
  std::vector<std::string> ids(50);
  std::vector<std::string> errors(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i)
    threads.emplace_back([&, i] {
      auto c = client();
      auto h = c.Get("/v1/health");
      auto st = c.Get("/v1/runs/" + completed_id_, auth());
      auto rep = c.Get("/v1/runs/" + completed_id_ + "/report", auth());
      auto b = c.Post("/v1/runs", auth(), bad, "application/json");
      bool good = h && h->status == 200 && st && st->status == 200 && rep && rep->status == 200 &&
                  rep->body == completed_report_ && b && b->status == 400;
      if (i % 5 == 0) {  // ten of them also start a run
        auto p = c.Post("/v1/runs", auth(), tiny_scene(0.1).dump(), "application/json");
        good = good && p && p->status == 202;
        if (p && p->status == 202) {
          ids[static_cast<std::size_t>(i)] = json::parse(p->body)["id"];
          ++accepted;
        }
      }
      auto code = [](const httplib::Result& r) {
        return r ? std::to_string(r->status) : "error " + httplib::to_string(r.error());
      };
      if (good)
        ++ok;
      else
        errors[static_cast<std::size_t>(i)] = "client " + std::to_string(i) + ": health " +
                                              code(h) + ", status " + code(st) + ", report " +
                                              code(rep) + ", bad scene " + code(b);
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (!e.empty()) ADD_FAILURE() << e;
  }
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(accepted.load(), 10);
  for (const auto& id : ids) {
    if (!id.empty()) {
      EXPECT_EQ(wait_for(id, 120)["status"], "completed") << id;
    }
  }
}

TEST_F(ServeTest, DeleteCancelsARunAndKeepsItsOutputs) {
  const std::string id = submit(long_scene().dump());
  ASSERT_FALSE(id.empty());
  auto c = client();
  // Wait (bounded) until it runs, then cancel.
  json st;
  for (int i = 0; i < 600; ++i) {
    auto r = c.Get("/v1/runs/" + id, auth());
    ASSERT_TRUE(r);
    st = json::parse(r->body);
    if (st["status"] != "queued") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(st["status"], "running") << st.dump();
  auto d = c.Delete("/v1/runs/" + id, auth());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 202);
  st = wait_for(id);
  EXPECT_EQ(st["status"], "cancelled") << st.dump();
  auto rep = c.Get("/v1/runs/" + id + "/report", auth());
  ASSERT_TRUE(rep);
  ASSERT_EQ(rep->status, 200);
  const json report = json::parse(rep->body);
  EXPECT_EQ(report["status"], "failed");
  EXPECT_LT(report["injected_volume_ml"].get<double>(), 6.0);
  EXPECT_NE(report["message"].get<std::string>().find("cancelled by the client"),
            std::string::npos);
  auto fill = c.Get("/v1/runs/" + id + "/fill.vdb", auth());
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->status, 200);
  // A finished run cannot be cancelled again.
  auto again = c.Delete("/v1/runs/" + id, auth());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);
}

TEST_F(ServeTest, RunTimeLimitAndBoundedQueue) {
  // A second server: runs stopped after 0.5 s, one run waiting at most.
  const fs::path data = *dir_ / "data2";
  fs::create_directories(data);
  ServerProcess s2;
  ASSERT_TRUE(s2.start({"--port", "0", "--token-file", (*dir_ / "token").string(), "--data-dir",
                        data.string(), "--threads", "1", "--max-jobs", "1", "--max-run-s", "0.5"},
                       *dir_ / "server2.log"));
  httplib::Client c("127.0.0.1", s2.port);
  c.set_read_timeout(20);
  const std::string scene = long_scene().dump();
  auto a = c.Post("/v1/runs", auth(), scene, "application/json");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->status, 202);
  const std::string id_a = json::parse(a->body)["id"];
  // Wait until A runs, so B is the one queued run.
  for (int i = 0; i < 600; ++i) {
    auto r = c.Get("/v1/runs/" + id_a, auth());
    if (r && json::parse(r->body)["status"] != "queued") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto b = c.Post("/v1/runs", auth(), scene, "application/json");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 202);
  auto full = c.Post("/v1/runs", auth(), scene, "application/json");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 429);
  EXPECT_NE(json::parse(full->body)["error"].get<std::string>().find("queue full"),
            std::string::npos);
  // A is stopped by the limit: failed, outputs kept.
  json st;
  for (int i = 0; i < 600; ++i) {
    auto r = c.Get("/v1/runs/" + id_a, auth());
    ASSERT_TRUE(r);
    st = json::parse(r->body);
    if (st["status"] != "queued" && st["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(st["status"], "failed") << st.dump();
  auto rep = c.Get("/v1/runs/" + id_a + "/report", auth());
  ASSERT_TRUE(rep);
  ASSERT_EQ(rep->status, 200);
  EXPECT_NE(json::parse(rep->body)["message"].get<std::string>().find("--max-run-s"),
            std::string::npos);
  auto fill = c.Get("/v1/runs/" + id_a + "/fill.vdb", auth());
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->status, 200);
  EXPECT_EQ(s2.stop(), 0);
}

TEST_F(ServeTest, ImportedCtByNameRunsAsTheCliDoes) {
  // L1 of the TotalSegmentator CT with the needle of scenes/vp_from_ct.json, 2 mm, 0.5 mL.
  json scene = tiny_scene(0.5);
  scene["name"] = "ct_l1";
  scene["bone"] = json::parse(R"({"import": {"image": "ct.nii.gz", "label": "seg.nii.gz",
      "label_value": 31, "voxel_mm": 2.0, "cortical_shell": false}})");
  scene["injection"]["needle"]["tip_mm"] = {-6, 128, 386};
  scene["injection"]["needle"]["direction"] = {0.467, 0.884, 0};
  const std::string id = submit(scene.dump());
  ASSERT_FALSE(id.empty());
  const json st = wait_for(id, 240);
  ASSERT_EQ(st["status"], "completed") << st.dump();
  auto c = client();
  auto rep = c.Get("/v1/runs/" + id + "/report", auth());
  ASSERT_TRUE(rep);
  ASSERT_EQ(rep->status, 200);
  // The CLI on the same scene, with the images beside the scene file.
  const fs::path scene_file = *dir_ / "data" / "ct_l1.json", out = *dir_ / "cli_ct";
  std::ofstream(scene_file) << scene.dump(2);
  std::string log;
  ASSERT_EQ(run_command(cli() + " run " + scene_file.string() + " --threads 1 --quiet --out " +
                            out.string(),
                        &log),
            0)
      << log;
  EXPECT_EQ(without_wall_time(rep->body), without_wall_time(read_file(out / "report.json")));
  EXPECT_NEAR(json::parse(rep->body)["injected_volume_ml"].get<double>(), 0.5, 1e-3);
}

TEST_F(ServeTest, HealthAfterAllOfItThenGracefulShutdownKeepsFinishedRuns) {
  ASSERT_FALSE(completed_id_.empty());
  {
    auto c = client();
    auto h = c.Get("/v1/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  }
  EXPECT_EQ(server_->stop(), 0);
  // Restarted on the same data folder, it serves the finished run again.
  ASSERT_TRUE(server_->start({"--port", "0", "--token-file", (*dir_ / "token").string(),
                              "--data-dir", (*dir_ / "data").string(), "--threads", "1"},
                             *dir_ / "server3.log"));
  auto c = client();
  auto st = c.Get("/v1/runs/" + completed_id_, auth());
  ASSERT_TRUE(st);
  ASSERT_EQ(st->status, 200);
  EXPECT_EQ(json::parse(st->body)["status"], "completed");
  auto rep = c.Get("/v1/runs/" + completed_id_ + "/report", auth());
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->body, completed_report_);
  auto h = c.Get("/v1/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

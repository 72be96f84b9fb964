// `cementflow serve`: HTTP API v1 of SPEC.md §8 on cpp-httplib.
//
// Threads: httplib's pool answers requests (listening in its own thread); the main thread is the
// worker, taking runs from a bounded queue and running them through the public library: Kokkos
// 3.4's host backends keep their instance per host thread, so kernels run only from the thread
// that initialised Kokkos, and runs execute one at a time (--workers 1), each with all the
// engine's threads. One watchdog thread stops runs past --max-run-s by setting their cancel
// flag (RunOptions::cancel, checked by the engine after every step); one thread waits for
// SIGINT/SIGTERM (blocked everywhere else) and stops the server.

#include "service/server.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "cementflow/cementflow.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace cementflow::service {

bool token_equal(const std::string& expected, const std::string& given) {
  unsigned diff = static_cast<unsigned>(expected.size() != given.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned>(static_cast<unsigned char>(expected[i]) ^ g);
  }
  return diff == 0;
}

namespace {

/// Debian's cpp-httplib 0.11 is a compiled library whose listening socket has a backlog of 5
/// (CPPHTTPLIB_LISTEN_BACKLOG, fixed when the library was built): a burst of clients overflows it
/// and the kernel resets some connections. Finds that socket (listening, bound to `port`) and
/// listens again with the system's largest backlog (Linux updates the backlog in place).
void widen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = -1;
    if (addr.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}

/// True when `p` (canonical) is `root` (canonical) or below it.
bool is_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == p.end() || *q != *r) return false;
  return true;
}

}  // namespace

fs::path resolve_in_data_dir(const fs::path& data_dir, const std::string& name,
                             const std::string& file, const std::string& key) {
  const std::string expected =
      "the name of a file inside the server's data folder (relative, no '..', no link out)";
  const fs::path p(name);
  if (name.empty() || p.is_absolute() || p.has_root_name() || p.has_root_directory())
    throw InputError(file, key, json(name).dump(), expected);
  for (const auto& part : p)
    if (part == "..") throw InputError(file, key, json(name).dump(), expected);
  std::error_code ec;
  const fs::path root = fs::canonical(data_dir, ec);
  if (ec) throw InputError(file, key, json(name).dump(), "a data folder that exists");
  const fs::path full = fs::weakly_canonical(root / p, ec);
  if (ec || !is_within(root, full)) throw InputError(file, key, json(name).dump(), expected);
  if (!fs::is_regular_file(full, ec))
    throw InputError(file, key, json(name).dump(), "an existing file in the server's data folder");
  return full;
}

namespace {

constexpr const char* kRequestFile = "<request>";

std::string error_body(const std::string& message) {
  return json{{"error", message}}.dump() + "\n";
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_body(message), "application/json");
}

std::string random_id() {
  std::random_device rd;
  std::ostringstream s;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    s << buf;
  }
  return s.str();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text_atomic(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  fs::rename(tmp, p);
}

using Clock = std::chrono::steady_clock;

struct Job {
  std::string id;
  fs::path dir;
  Scene scene;
  std::string status = "queued";  // queued, running, completed, failed, cancelled
  std::string message;
  std::string report_status;  // the report's own status once written
  Progress progress;
  bool has_report = false;
  bool has_fill = false;
  std::atomic<bool> cancel{false};
  std::atomic<bool> cancel_requested{false};  // DELETE (not the time limit or a shutdown)
  std::atomic<bool> timed_out{false};
  Clock::time_point deadline{};
  bool running = false;
};

bool finished(const std::string& status) {
  return status == "completed" || status == "failed" || status == "cancelled";
}

class Service {
 public:
  explicit Service(const ServeOptions& o) : opt_(o) {}

  int run();

 private:
  // --- jobs ------------------------------------------------------------------------------------
  json status_json(const Job& j) const {
    json p = {{"time_s", j.progress.time_s},
              {"injected_ml", j.progress.injected_ml},
              {"target_ml", j.progress.target_ml},
              {"injection_pressure_mpa", j.progress.injection_pressure_mpa},
              {"fraction", j.progress.target_ml > 0
                               ? std::min(1.0, j.progress.injected_ml / j.progress.target_ml)
                               : 0.0}};
    json s = {{"id", j.id}, {"status", j.status}, {"progress", p}};
    if (!j.message.empty()) s["message"] = j.message;
    if (!j.report_status.empty()) s["report_status"] = j.report_status;
    return s;
  }

  void save_status(const Job& j) const {
    std::error_code ec;
    fs::create_directories(j.dir, ec);
    json s = status_json(j);
    s["has_report"] = j.has_report;
    s["has_fill"] = j.has_fill;
    try {
      write_text_atomic(j.dir / "status.json", s.dump(2) + "\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cementflow serve: cannot write %s: %s\n",
                   (j.dir / "status.json").c_str(), e.what());
    }
  }

  /// Finished runs of an earlier server (their status.json) become servable again.
  void load_previous_runs() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(runs_dir_, ec)) {
      const fs::path st = e.path() / "status.json";
      if (!fs::is_regular_file(st, ec)) continue;
      try {
        const json s = json::parse(read_text(st));
        auto j = std::make_shared<Job>();
        j->id = s.at("id").get<std::string>();
        if (j->id != e.path().filename().string()) continue;
        j->dir = e.path();
        j->status = s.at("status").get<std::string>();
        if (!finished(j->status)) {  // interrupted without a chance to finish: say so
          j->status = "failed";
          j->message = "interrupted: the server stopped while the run was " +
                       s.at("status").get<std::string>();
        } else {
          j->message = s.value("message", "");
        }
        j->report_status = s.value("report_status", "");
        j->has_report = fs::is_regular_file(j->dir / "report.json", ec);
        j->has_fill = fs::is_regular_file(j->dir / "fill.vdb", ec);
        const json& p = s.at("progress");
        j->progress.time_s = p.value("time_s", 0.0);
        j->progress.injected_ml = p.value("injected_ml", 0.0);
        j->progress.target_ml = p.value("target_ml", 0.0);
        j->progress.injection_pressure_mpa = p.value("injection_pressure_mpa", 0.0);
        jobs_[j->id] = j;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "cementflow serve: ignoring %s: %s\n", st.c_str(), ex.what());
      }
    }
  }

  /// Bone and image names of a request: only inside --data-dir.
  void confine_paths(Scene& s) const {
    if (s.bone.kind == BoneSource::Kind::File) {
      s.bone.vdb_path =
          resolve_in_data_dir(data_dir_, s.bone.vdb_path, kRequestFile, "bone.vdb").string();
    } else if (s.bone.kind == BoneSource::Kind::Import) {
      ImportOptions& im = s.bone.import;
      im.image =
          resolve_in_data_dir(data_dir_, im.image, kRequestFile, "bone.import.image").string();
      if (!im.label.empty())
        im.label =
            resolve_in_data_dir(data_dir_, im.label, kRequestFile, "bone.import.label").string();
      if (!im.calibration.empty())
        im.calibration =
            resolve_in_data_dir(data_dir_, im.calibration, kRequestFile, "bone.import.calibration")
                .string();
    }
  }

  void worker_loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = queue_.front();
        queue_.pop_front();
        job->status = "running";
        job->running = true;
        job->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(opt_.max_run_s));
      }
      execute(*job);
    }
  }

  void execute(Job& job) {
    RunOptions ro;
    ro.cancel = &job.cancel;
    ro.progress = [&](const Progress& p) {
      std::lock_guard<std::mutex> lk(mu_);
      job.progress = p;
    };
    std::string status, message, report_status;
    bool has_report = false, has_fill = false;
    try {
      // cementflow::run, with the report's message set before the outputs are written.
      KyphoplastyStats balloons;
      const BoneBlocks bone = make_bone(job.scene, &balloons);
      RunResult r = simulate(job.scene, bone, ro);
      if (job.scene.injection.mode == "kyphoplasty") {
        r.report.kyphoplasty.present = true;
        r.report.kyphoplasty.stats = balloons;
      }
      report_status = r.report.status;
      if (job.cancel.load() && r.report.status == "failed") {
        if (job.timed_out.load()) {
          r.report.message = "stopped by the server's run-time limit (--max-run-s " +
                             json(opt_.max_run_s).dump() + ")";
          status = "failed";
        } else if (job.cancel_requested.load()) {
          r.report.message = "cancelled by the client (DELETE /v1/runs/" + job.id + ")";
          status = "cancelled";
        } else {
          r.report.message = "cancelled: the server shut down";
          status = "cancelled";
        }
      } else {
        status = r.report.status == "completed" || r.report.status == "stopped_at_leak"
                     ? "completed"
                     : "failed";
      }
      message = r.report.message;
      write_outputs(job.scene, r, job.dir.string());
      has_report = true;
      has_fill = true;
    } catch (const InputError& e) {
      status = "failed";
      message = e.what();
    } catch (const std::exception& e) {
      status = "failed";
      message = std::string("error: ") + e.what();
    }
    std::error_code ec;
    has_report = has_report || fs::is_regular_file(job.dir / "report.json", ec);
    has_fill = has_fill || fs::is_regular_file(job.dir / "fill.vdb", ec);
    {
      std::lock_guard<std::mutex> lk(mu_);
      job.status = status;
      job.message = message;
      job.report_status = report_status;
      job.has_report = has_report;
      job.has_fill = has_fill;
      job.running = false;
      save_status(job);
    }
    std::fprintf(stderr, "cementflow serve: run %s %s%s%s\n", job.id.c_str(), status.c_str(),
                 message.empty() ? "" : ": ", message.c_str());
  }

  void watchdog_loop() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stopping_) {
      cv_watchdog_.wait_for(lk, std::chrono::milliseconds(100));
      const auto now = Clock::now();
      for (auto& [id, j] : jobs_)
        if (j->running && now >= j->deadline && !j->cancel.load()) {
          j->timed_out = true;
          j->cancel = true;
        }
    }
  }

  // --- HTTP ------------------------------------------------------------------------------------
  void routes(httplib::Server& svr);
  std::shared_ptr<Job> find(const std::string& id) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
  }

  ServeOptions opt_;
  fs::path data_dir_, runs_dir_;
  std::string token_;
  std::mutex mu_;  // jobs_, queue_, every Job's non-atomic fields
  std::condition_variable cv_, cv_watchdog_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
};

void Service::routes(httplib::Server& svr) {
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/v1/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                    token_equal(token_, auth.substr(prefix.size()));
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401,
               auth.empty() ? "missing bearer token (Authorization: Bearer <token>)"
                            : "invalid bearer token");
    return httplib::Server::HandlerResponse::Handled;
  });

  svr.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
    std::size_t queued = 0, running = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      queued = queue_.size();
      for (const auto& [id, j] : jobs_) running += j->running ? 1 : 0;
    }
    res.set_content(json{{"status", "ok"},
                         {"api", 1},
                         {"version", CEMENTFLOW_VERSION_STRING},
                         {"queued", queued},
                         {"running", running}}
                            .dump() +
                        "\n",
                    "application/json");
  });

  svr.Post("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = std::make_shared<Job>();
    try {
      job->scene = parse_scene(req.body, kRequestFile);
      confine_paths(job->scene);
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
      return;
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) {
      send_error(res, 503, "the server is shutting down");
      return;
    }
    if (static_cast<int>(queue_.size()) >= opt_.max_jobs) {
      res.set_header("Retry-After", "5");
      send_error(res, 429,
                 "queue full: " + std::to_string(queue_.size()) + " runs waiting (--max-jobs " +
                     std::to_string(opt_.max_jobs) + "); retry later");
      return;
    }
    do job->id = random_id();
    while (jobs_.count(job->id));
    job->dir = runs_dir_ / job->id;
    std::error_code ec;
    fs::create_directories(job->dir, ec);
    if (ec) {
      send_error(res, 500, "cannot create the run folder: " + ec.message());
      return;
    }
    save_status(*job);
    jobs_[job->id] = job;
    queue_.push_back(job);
    cv_.notify_one();
    res.status = 202;
    res.set_header("Location", "/v1/runs/" + job->id);
    res.set_content(json{{"id", job->id}, {"status", "queued"}}.dump() + "\n", "application/json");
  });

  const std::string id_re = "/v1/runs/([0-9a-f]{32})";

  svr.Get(id_re, [this](const httplib::Request& req, httplib::Response& res) {
    auto job = find(req.matches[1]);
    if (!job) return send_error(res, 404, "no run " + std::string(req.matches[1]));
    std::lock_guard<std::mutex> lk(mu_);
    res.set_content(status_json(*job).dump() + "\n", "application/json");
  });

  auto serve_file = [this](const httplib::Request& req, httplib::Response& res,
                           const std::string& name, const char* type) {
    auto job = find(req.matches[1]);
    if (!job) return send_error(res, 404, "no run " + std::string(req.matches[1]));
    std::string status;
    {
      std::lock_guard<std::mutex> lk(mu_);
      status = job->status;
    }
    const fs::path p = job->dir / name;
    std::error_code ec;
    if (!finished(status) || !fs::is_regular_file(p, ec))
      return send_error(
          res, finished(status) ? 404 : 409,
          "run " + job->id + " is " + status + ": no " + name + (finished(status) ? "" : " yet"));
    const auto size = static_cast<std::size_t>(fs::file_size(p, ec));
    auto in = std::make_shared<std::ifstream>(p, std::ios::binary);
    if (ec || !*in) return send_error(res, 500, "cannot read " + name);
    res.set_content_provider(size, type,
                             [in](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               std::vector<char> buf(std::min<std::size_t>(length, 1 << 16));
                               in->seekg(static_cast<std::streamoff>(offset));
                               in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                               const auto n = static_cast<std::size_t>(in->gcount());
                               if (n == 0) return false;
                               return sink.write(buf.data(), n);
                             });
  };
  svr.Get(id_re + "/report", [serve_file](const httplib::Request& req, httplib::Response& res) {
    serve_file(req, res, "report.json", "application/json");
  });
  svr.Get(id_re + "/fill.vdb", [serve_file](const httplib::Request& req, httplib::Response& res) {
    serve_file(req, res, "fill.vdb", "application/octet-stream");
  });

  svr.Delete(id_re, [this](const httplib::Request& req, httplib::Response& res) {
    auto job = find(req.matches[1]);
    if (!job) return send_error(res, 404, "no run " + std::string(req.matches[1]));
    std::lock_guard<std::mutex> lk(mu_);
    if (finished(job->status))
      return send_error(res, 409,
                        "run " + job->id + " has already " +
                            (job->status == "completed" ? "completed" : "ended") + " (" +
                            job->status + ")");
    if (job->status == "queued") {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
      job->status = "cancelled";
      job->message = "cancelled by the client (DELETE /v1/runs/" + job->id + ") before it ran";
      save_status(*job);
    } else {
      job->cancel_requested = true;
      job->cancel = true;
    }
    res.status = 202;
    res.set_content(
        json{{"id", job->id}, {"status", job->status}, {"cancel_requested", true}}.dump() + "\n",
        "application/json");
  });

  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg;
    switch (res.status) {
      case 404:
        msg = "no such endpoint: " + req.method + " " + req.path;
        break;
      case 413:
        msg = "request body too large";
        break;
      case 400:
        msg = "malformed HTTP request";
        break;
      default:
        msg = "HTTP " + std::to_string(res.status);
    }
    res.set_content(error_body(msg), "application/json");
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string msg = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          msg = std::string("internal error: ") + e.what();
        } catch (...) {
        }
        send_error(res, 500, msg);
      });
}

int Service::run() {
  // Options, checked before anything starts.
  const std::string args = "<arguments>";
  if (opt_.token_file.empty())
    throw InputError(args, "--token-file", "", "a file holding the bearer token");
  {
    std::ifstream in(opt_.token_file);
    if (!in)
      throw InputError(opt_.token_file, "--token-file", "", "a readable file with the token");
    std::getline(in, token_);
    while (!token_.empty() &&
           (token_.back() == '\r' || token_.back() == ' ' || token_.back() == '\t'))
      token_.pop_back();
    if (token_.size() < 16 || token_.find_first_of(" \t") != std::string::npos)
      throw InputError(opt_.token_file, "--token-file",
                       "(" + std::to_string(token_.size()) + " characters)",
                       "a token of at least 16 characters without spaces on the first line");
  }
  std::error_code ec;
  if (opt_.data_dir.empty() || !fs::is_directory(opt_.data_dir, ec))
    throw InputError(args, "--data-dir", opt_.data_dir, "an existing folder");
  data_dir_ = fs::canonical(opt_.data_dir);
  runs_dir_ = opt_.runs_dir.empty() ? data_dir_ / "runs" : fs::path(opt_.runs_dir);
  fs::create_directories(runs_dir_, ec);
  if (ec) throw InputError(args, "--runs-dir", runs_dir_.string(), "a folder that can be created");
  runs_dir_ = fs::canonical(runs_dir_);
  if (opt_.max_jobs < 1)
    throw InputError(args, "--max-jobs", std::to_string(opt_.max_jobs), ">= 1");
  if (opt_.workers != 1)
    throw InputError(args, "--workers", std::to_string(opt_.workers),
                     "1: the engine runs one job at a time on the thread that started it "
                     "(Kokkos 3.4 host backends)");
  if (!(opt_.max_body_mb > 0))
    throw InputError(args, "--max-body-mb", json(opt_.max_body_mb).dump(), "> 0");
  if (!(opt_.max_run_s > 0))
    throw InputError(args, "--max-run-s", json(opt_.max_run_s).dump(), "> 0");
  if (opt_.port < 0 || opt_.port > 65535)
    throw InputError(args, "--port", std::to_string(opt_.port), "0..65535");

  // SIGINT/SIGTERM go to one waiting thread only (blocked here, inherited by every thread).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Runtime runtime(opt_.threads);
  load_previous_runs();

  httplib::Server svr;
  svr.new_task_queue = [] { return new httplib::ThreadPool(16); };
  svr.set_payload_max_length(static_cast<std::size_t>(opt_.max_body_mb * 1024 * 1024));
  const auto to = std::chrono::milliseconds(static_cast<long>(opt_.read_timeout_s * 1000));
  svr.set_read_timeout(to);
  svr.set_write_timeout(to);
  svr.set_keep_alive_timeout(static_cast<time_t>(std::max(1.0, opt_.read_timeout_s)));
  svr.set_keep_alive_max_count(100);
  routes(svr);

  int port = opt_.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt_.host);
    if (port < 0) throw InputError(args, "--host", opt_.host, "an address this machine has");
  } else if (!svr.bind_to_port(opt_.host, port)) {
    throw InputError(args, "--port", std::to_string(port),
                     "a free port on " + opt_.host + " (it is in use or not allowed)");
  }

  widen_backlog(port);
  std::thread watchdog([this] { watchdog_loop(); });

  std::atomic<bool> done{false}, listening_ended{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (done.load()) return;
    std::fprintf(stderr, "cementflow serve: %s: shutting down\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    // stop() only acts once listen has started: repeat until it has returned.
    while (!listening_ended.load()) {
      svr.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  std::printf("cementflow serve: listening on http://%s:%d (API v1), data %s, runs %s\n",
              opt_.host.c_str(), port, data_dir_.c_str(), runs_dir_.c_str());
  std::fflush(stdout);
  bool ok = true;
  std::thread http([&] {
    ok = svr.listen_after_bind();
    listening_ended = true;
    // Shutdown: no new runs; cancel what is queued or running; keep every run's folder.
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
    for (auto& j : queue_) {
      j->status = "cancelled";
      j->message = "cancelled: the server shut down before the run started";
      save_status(*j);
    }
    queue_.clear();
    for (auto& [id, j] : jobs_)
      if (j->running) j->cancel = true;
    cv_.notify_all();
    cv_watchdog_.notify_all();
  });

  // The engine runs here, on the thread that initialised it (Kokkos 3.4's host backends keep
  // their instance per thread), until the server stops.
  worker_loop();
  http.join();
  watchdog.join();
  done = true;
  if (signals.joinable()) {
    pthread_kill(signals.native_handle(), SIGTERM);  // wake it if the server stopped otherwise
    signals.join();
  }
  std::printf("cementflow serve: stopped; %zu runs kept in %s\n", jobs_.size(), runs_dir_.c_str());
  return ok ? 0 : 1;
}

}  // namespace

int serve(const ServeOptions& options) {
  Service s(options);
  return s.run();
}

}  // namespace cementflow::service

#pragma once
/// @file server.hpp
/// @brief `cementflow serve`: the planner back end's HTTP service, API v1 of SPEC.md §8
///        (cpp-httplib). Jobs run in-process through the public library (cementflow.hpp).

#include <filesystem>
#include <string>

namespace cementflow::service {

/// Settings of the service (`cementflow serve --help`).
struct ServeOptions {
  std::string host = "127.0.0.1";  ///< loopback by default
  int port = 8080;                 ///< 0: pick a free port (printed on stdout)
  std::string token_file;          ///< bearer token, one line (at least 16 characters)
  std::string data_dir;            ///< bones by name inside this folder only
  std::string runs_dir;            ///< run folders (default <data_dir>/runs)
  int max_jobs = 8;                ///< queued (not yet running) runs before 429
  double max_body_mb = 1;          ///< request bodies over this get 413
  double max_run_s = 600;          ///< a run past this is stopped (status failed, outputs kept)
  int workers = 1;                 ///< must be 1: runs execute one at a time on the main thread
  int threads = -1;                ///< host threads of the engine (<= 0: backend default)
  double read_timeout_s = 5;       ///< a client that sends nothing for this long is dropped
};

/// Runs the service until SIGINT or SIGTERM, then shuts down gracefully: stops accepting,
/// cancels what is queued or running (their outputs and status are kept on disk) and keeps
/// every finished run's folder, which a restarted server serves again. Throws InputError for
/// bad options (token file, data folder). Returns the process exit status.
/// Blocks SIGINT/SIGTERM in the calling thread (and the threads it starts): call it before
/// anything else starts threads (the engine's runtime is created inside).
int serve(const ServeOptions& options);

/// Resolves a bone or image name from a request inside `data_dir`: relative, no "..", no
/// absolute path, and (after following links) still inside `data_dir`; the file must exist.
/// Throws InputError(file, key, name, ...) otherwise.
std::filesystem::path resolve_in_data_dir(const std::filesystem::path& data_dir,
                                          const std::string& name, const std::string& file,
                                          const std::string& key);

/// Compares a presented token with the expected one in time that depends only on the expected
/// token's length.
bool token_equal(const std::string& expected, const std::string& given);

}  // namespace cementflow::service

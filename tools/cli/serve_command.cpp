// `cementflow serve` (SPEC.md §8, HTTP API v1): options -> service/server.hpp.

#include <cstdio>
#include <memory>

#include "tools/cli/commands.hpp"

#ifdef CEMENTFLOW_WITH_HTTP
#include "service/server.hpp"
#endif

namespace cementflow::cli {

#ifdef CEMENTFLOW_WITH_HTTP
Command add_serve_command(CLI::App& app) {
  auto o = std::make_shared<service::ServeOptions>();
  auto* s = app.add_subcommand(
      "serve", "HTTP service for planning systems (API v1, SPEC.md §8; loopback by default)");
  s->add_option("--host", o->host, "address to listen on (default 127.0.0.1)");
  s->add_option("--port", o->port, "port (default 8080; 0 picks a free one and prints it)");
  s->add_option("--token-file", o->token_file, "file whose first line is the bearer token")
      ->required();
  s->add_option("--data-dir", o->data_dir, "folder of the bones clients may name")->required();
  s->add_option("--runs-dir", o->runs_dir, "folder of the run outputs (default <data-dir>/runs)");
  s->add_option("--max-jobs", o->max_jobs, "runs waiting in the queue before 429 (default 8)");
  s->add_option("--max-body-mb", o->max_body_mb, "largest request body in MB (default 1)");
  s->add_option("--max-run-s", o->max_run_s, "wall-clock limit of one run in s (default 600)");
  s->add_option("--workers", o->workers, "worker threads: 1 (the engine runs one job at a time)");
  s->add_option("--threads", o->threads, "engine host threads (default: OMP_NUM_THREADS or all)");
  s->add_option("--read-timeout-s", o->read_timeout_s,
                "drop a client that sends nothing for this long (default 5)");
  return {s, [o] { return service::serve(*o); }};
}
#else
Command add_serve_command(CLI::App& app) {
  auto* s = app.add_subcommand("serve", "HTTP service (not in this build: needs cpp-httplib)");
  s->allow_extras();
  return {s, [] {
            std::fprintf(stderr,
                         "cementflow: serve: this build has no HTTP service; install the Debian "
                         "package libcpp-httplib-dev and reconfigure\n");
            return 1;
          }};
}
#endif

}  // namespace cementflow::cli

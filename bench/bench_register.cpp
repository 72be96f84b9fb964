// Registers the engine benchmarks in a fixed order, whatever the link order of the files: the
// STREAM triad first, so that the matvec can report its fraction of the bandwidth measured in the
// same run; then the pressure solver, the transport step and whole scenes.

#include "bench/bench_common.hpp"

#include <cstdlib>
#include <cstring>

namespace cementflow::bench {

bool full_run() {
  const char* v = std::getenv("CEMENTFLOW_BENCH_FULL");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

namespace {

const bool kRegistered = [] {
  register_stream();
  register_pressure();
  register_transport();
  register_simulate();
  return true;
}();

}  // namespace
}  // namespace cementflow::bench

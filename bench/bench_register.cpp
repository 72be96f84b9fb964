// Registers the engine benchmarks in a fixed order, whatever the link order of the files: the
// STREAM triad first, so that the matvec can report its fraction of the bandwidth measured in the
// same run; then the pressure solver, the transport step and whole scenes.

#include "bench/bench_common.hpp"

namespace cementflow::bench {
namespace {

const bool kRegistered = [] {
  register_stream();
  register_pressure();
  register_solvers();
  register_transport();
  register_simulate();
  return true;
}();

}  // namespace
}  // namespace cementflow::bench

// Shared benchmark main: Kokkos and OpenVDB are initialised once, then Google Benchmark runs.
#include <benchmark/benchmark.h>

#include "cementflow/runtime.hpp"

int main(int argc, char** argv) {
  cementflow::Runtime runtime;
  ::benchmark::Initialize(&argc, argv);
  if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ::benchmark::AddCustomContext("backend", cementflow::Runtime::backend());
  ::benchmark::AddCustomContext("threads", std::to_string(cementflow::Runtime::concurrency()));
  ::benchmark::RunSpecifiedBenchmarks();
  ::benchmark::Shutdown();
  return 0;
}

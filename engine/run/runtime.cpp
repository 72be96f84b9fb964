#include "cementflow/runtime.hpp"

#include <Kokkos_Core.hpp>

#include <cstdlib>
#include <string>

#include "cementflow/errors.hpp"
#include "engine/run/vdb_init.hpp"
#include "kernels/kokkos_compat.hpp"

namespace cementflow {

namespace {
// Kokkos's OpenMP backend keeps one slot per thread in a fixed array (Kokkos 3.4:
// OpenMPExec::m_pool[MAX_THREAD_COUNT = 512]); more threads write past it (issue 17:
// `--threads 600` crashed).
constexpr int kMaxThreads = 512;

/// The thread count, checked before Kokkos sees it: --threads N, else OMP_NUM_THREADS.
int checked_threads(int threads) {
  const std::string limit = "1 to " + std::to_string(kMaxThreads) + " threads";
  if (threads > kMaxThreads)
    throw InputError("<arguments>", "--threads", std::to_string(threads), limit);
  if (threads <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    if (env && *env) {
      // OpenMP reads a list ("8,4"): the first entry is the outer team.
      char* end = nullptr;
      const long n = std::strtol(env, &end, 10);
      if (end == env || n < 1 || n > kMaxThreads)
        throw InputError("<environment>", "OMP_NUM_THREADS", env, limit);
    }
  }
  return threads;
}
}  // namespace

struct Runtime::Impl {
  explicit Impl(int threads) : guard(detail::kokkos_settings(checked_threads(threads))) {
    detail::openvdb_initialize();
  }
  ~Impl() { detail::openvdb_uninitialize(); }
  Kokkos::ScopeGuard guard;
};

Runtime::Runtime(int threads) : impl_(std::make_unique<Impl>(threads)) {}
Runtime::~Runtime() = default;

std::string Runtime::backend() {
  return Kokkos::DefaultExecutionSpace::name();
}

int Runtime::concurrency() {
  return static_cast<int>(Kokkos::DefaultExecutionSpace().concurrency());
}

std::string Runtime::kokkos_version() {
  const int v = KOKKOS_VERSION;
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." +
         std::to_string(v % 100);
}

}  // namespace cementflow

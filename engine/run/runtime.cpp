#include "cementflow/runtime.hpp"

#include <Kokkos_Core.hpp>

#include <string>

#include "engine/run/vdb_init.hpp"
#include "kernels/kokkos_compat.hpp"

namespace cementflow {

struct Runtime::Impl {
  explicit Impl(int threads) : guard(detail::kokkos_settings(threads)) {
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

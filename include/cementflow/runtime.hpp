#pragma once
/// @file runtime.hpp
/// @brief Initialises the parallel runtime (Kokkos) and OpenVDB once, for the life of the object.

#include <memory>
#include <string>

namespace cementflow {

/// Create one in main (the CLI, the test main, the bench main, a planner's program) before any
/// other cementflow call; it finalises Kokkos when destroyed.
class Runtime {
 public:
  /// @param threads host threads (<= 0: the backend's default, e.g. OMP_NUM_THREADS)
  explicit Runtime(int threads = -1);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// Name of the Kokkos default execution space ("OpenMP", "Serial", "Cuda").
  static std::string backend();
  /// Threads (host) or concurrency (device) of the default execution space.
  static int concurrency();
  /// Kokkos version as "3.4.1".
  static std::string kokkos_version();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cementflow

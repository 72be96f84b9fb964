#pragma once
// The Thrust execution policy that matches Kokkos's default execution space (DESIGN.md):
// thrust::cuda::par on Kokkos's stream for CUDA, thrust::omp::par for OpenMP, thrust::cpp::par
// else.

#include <Kokkos_Core.hpp>

#if defined(CEMENTFLOW_THRUST_CUDA)
#include <thrust/system/cuda/execution_policy.h>
#elif defined(CEMENTFLOW_THRUST_OMP)
#include <thrust/system/omp/execution_policy.h>
#else
#include <thrust/system/cpp/execution_policy.h>
#endif

namespace cementflow::kernels {

inline auto thrust_policy() {
#if defined(CEMENTFLOW_THRUST_CUDA)
  return thrust::cuda::par.on(Kokkos::DefaultExecutionSpace().cuda_stream());
#elif defined(CEMENTFLOW_THRUST_OMP)
  return thrust::omp::par;
#else
  return thrust::cpp::par;
#endif
}

}  // namespace cementflow::kernels

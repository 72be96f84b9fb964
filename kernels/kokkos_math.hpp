#pragma once
// Device math functions under one name for Kokkos 3.4 (Kokkos::Experimental::) and Kokkos >= 3.7
// (Kokkos::): the only API difference our kernels meet.

#include <Kokkos_Core.hpp>

namespace cementflow::kernels::math {
#if KOKKOS_VERSION >= 30700
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::fmax;
using Kokkos::fmin;
using Kokkos::log;
using Kokkos::pow;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::fmax;
using Kokkos::Experimental::fmin;
using Kokkos::Experimental::log;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sqrt;
#endif
}  // namespace cementflow::kernels::math

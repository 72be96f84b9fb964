#pragma once
// The one place where Kokkos 3.4 (what tools/setup.sh builds) and Kokkos 4.x (what GPU users
// have) differ in the API we use (DESIGN.md, "Parallel backends"): the device math functions
// (Kokkos 3.7 promoted them from Kokkos::Experimental to Kokkos, kokkos/kokkos PR #4791; Kokkos 4
// dropped the Experimental spelling) and the initialisation settings.

#include <Kokkos_Core.hpp>

namespace cementflow::kernels::math {
#if KOKKOS_VERSION >= 30700
using Kokkos::exp;
using Kokkos::expm1;
using Kokkos::fabs;
using Kokkos::fmax;
using Kokkos::fmin;
using Kokkos::log;
using Kokkos::pow;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::exp;
using Kokkos::Experimental::expm1;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::fmax;
using Kokkos::Experimental::fmin;
using Kokkos::Experimental::log;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sqrt;
#endif
}  // namespace cementflow::kernels::math

namespace cementflow::detail {

#if KOKKOS_VERSION >= 30700
using KokkosInitSettings = Kokkos::InitializationSettings;
inline KokkosInitSettings kokkos_settings(int threads) {
  KokkosInitSettings s;
  if (threads > 0) s.set_num_threads(threads);
  s.set_disable_warnings(true);
  return s;
}
#else
using KokkosInitSettings = Kokkos::InitArguments;
inline KokkosInitSettings kokkos_settings(int threads) {
  KokkosInitSettings s;
  if (threads > 0) s.num_threads = threads;
  s.disable_warnings = true;
  return s;
}
#endif

}  // namespace cementflow::detail

#pragma once
// The one place where Kokkos 3.4 (what tools/setup.sh builds) and Kokkos 4.x (what GPU users
// have) differ in the API we use (DESIGN.md, "Parallel backends").

#include <Kokkos_Core.hpp>

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

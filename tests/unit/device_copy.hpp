#pragma once
// Copies between std::vector and device Views for the kernel tests (multigrid, transport).

#include <string>
#include <vector>

#include "engine/grid/device_grid.hpp"

namespace cementflow::test {

template <class T>
std::vector<T> host(const detail::DView<T*>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<T>(h.data(), h.data() + h.extent(0));
}

template <class T>
detail::DView<T*> device(const std::vector<T>& v, const char* label) {
  detail::DView<T*> d(std::string(label), v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}

}  // namespace cementflow::test

#include "engine/run/leak_analysis.hpp"

#include "kernels/cement_volume_kernels.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;

double sum_where(const DView<double*>& x, const DView<int*>& key, int want) {
  double s = 0;
  Kokkos::parallel_reduce("cementflow::simulation::sum_where",
                          Policy(0, static_cast<int>(x.extent(0))),
                          kernels::SumWhere<DView<double*>, DView<int*>>{x, key, want}, s);
  return s;
}
}  // namespace

CementTally tally_cement(const DeviceGrid& grid, RunState& st) {
  const double vox = grid.h_m * grid.h_m * grid.h_m;
  Kokkos::parallel_for("cementflow::simulation::cement_volume",
                       Policy(0, static_cast<int>(grid.num_voxels())),
                       kernels::CementVolume<DView<int*>, DView<float*>, DView<double*>>{
                           grid.material, grid.porosity, st.s, st.bout, st.pore, vox});
  CementTally t;
  t.in_bone = sum_where(st.pore, st.route_of, kNumLeakRoutes);
  for (int r = 0; r < kNumLeakRoutes; ++r)
    t.route[static_cast<size_t>(r)] = sum_where(st.pore, st.route_of, r);
  return t;
}

std::array<double, 3> leak_location(const BoneBlocks& grid, const BlockIndex& index,
                                    const DView<double*>& pore, int route) {
  auto hpore = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pore);
  double w = 0, c[3] = {0, 0, 0};
  const auto n = static_cast<long long>(grid.num_voxels());
  for (long long i = 0; i < n; ++i) {
    const int m = grid.material[static_cast<size_t>(i)];
    if (m < 0 || !is_leak_destination(m)) continue;
    const int rc = grid.route[static_cast<size_t>(i)];
    const int ri = rc >= 0 ? rc : static_cast<int>(LeakRoute::SoftTissue);
    if (ri != route || hpore(i) <= 0) continue;
    const auto x = index.center(i);
    for (int a = 0; a < 3; ++a) c[a] += hpore(i) * x[static_cast<size_t>(a)];
    w += hpore(i);
  }
  if (w > 0) return {c[0] / w, c[1] / w, c[2] / w};
  return {0, 0, 0};
}

bool LeakTracker::update(const CementTally& tally, const DView<double*>& pore, double t,
                         double injected_m3) {
  bool new_leak = false;
  for (int r = 0; r < kNumLeakRoutes; ++r) {
    const auto u = static_cast<size_t>(r);
    Leak& L = record_[u];
    if (!leaked_[u] && tally.route[u] > kLeakOnsetM3) {
      leaked_[u] = true;
      new_leak = true;
      L.route = route_name(static_cast<LeakRoute>(r));
      L.first_time_s = t;
      L.first_injected_ml = injected_m3 / kM3PerMl;
      // Where: the cement-weighted centre of that route's voxels now.
      L.location_mm = leak_location(grid_, index_, pore, r);
    }
    L.volume_ml = tally.route[u] / kM3PerMl;
  }
  return new_leak;
}

std::vector<Leak> LeakTracker::leaks() const {
  std::vector<Leak> out;
  for (int r = 0; r < kNumLeakRoutes; ++r)
    if (leaked_[static_cast<size_t>(r)]) out.push_back(record_[static_cast<size_t>(r)]);
  return out;
}

}  // namespace cementflow::detail

#include "engine/run/run_state.hpp"

#include <algorithm>
#include <utility>

#include "cementflow/bone.hpp"
#include "cementflow/rheology.hpp"
#include "kernels/cement_volume_kernels.hpp"
#include "kernels/cure_kernels.hpp"
#include "kernels/porous_viscosity_kernels.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;
}  // namespace

RunState make_run_state(const DeviceGrid& grid, const Scene& scene, const CementParams& cement,
                        const std::vector<long long>& tips) {
  const int n = static_cast<int>(grid.num_voxels());
  const auto& inj = scene.injection;
  RunState st;
  st.s = DView<double*>("cementflow::simulation::saturation", n);
  st.p = DView<double*>("cementflow::simulation::pressure", n);
  st.q = DView<double*>("cementflow::simulation::source", n);
  st.mu = DView<double*>("cementflow::simulation::mu_c", n);
  st.lambda = DView<double*>("cementflow::simulation::lambda_t", n);
  st.speed = DView<double*>("cementflow::simulation::speed", n);
  st.bout = DView<double*>("cementflow::simulation::boundary_out", n);
  st.pore = DView<double*>("cementflow::simulation::pore_cement", n);
  st.arrival = DView<float*>("cementflow::simulation::arrival", n);
  st.vel = DView<float*>("cementflow::simulation::velocity", 3 * static_cast<size_t>(n));
  st.route_of = DView<int*>("cementflow::simulation::route_or_bone", n);
  Kokkos::deep_copy(st.arrival, -1.0f);
  {
    const double q_needle = inj.flow_rate_m3_s / static_cast<double>(inj.needles.size());
    auto hq = Kokkos::create_mirror_view(st.q);
    Kokkos::deep_copy(hq, 0.0);
    for (long long t : tips) hq(t) += q_needle;
    Kokkos::deep_copy(st.q, hq);
  }
  Kokkos::parallel_for(
      "cementflow::simulation::route_of", Policy(0, n),
      kernels::RouteOrBone<DView<int*>>{grid.material, grid.route, st.route_of,
                                        static_cast<int>(LeakRoute::SoftTissue), kNumLeakRoutes});

  // Cement viscosity: porous-media apparent viscosity per voxel (PHYSICS.md §L4), shifted by the
  // local cure state (§L1c). The cure state (equivalent age or cure degree) is carried with the
  // cement and mixed by volume in each cell (Transport, kernels::mixed_state); it ages at the bone
  // temperature there, and at room temperature in the syringe and cannula from mixing until the
  // cement leaves the needle. At any moment the cement injected first is the oldest: all of it
  // was mixed together, and the first spent longer at body temperature, where it cures faster.
  const Curing& cure = scene.cement.curing;
  st.syringe_state = advance_cure(cure, initial_cure_state(cure), cure.room_temperature_c,
                                  inj.start_after_mixing_s);
  st.cure_state = DView<double*>("cementflow::simulation::cure_state", cement.curing ? n : 0);
  if (cement.curing) Kokkos::deep_copy(st.cure_state, st.syringe_state);
  Kokkos::deep_copy(
      st.mu,
      viscosity(shifted_rheology(scene.cement, cure_viscosity_factor(cure, st.syringe_state,
                                                                     cure.body_temperature_c)),
                1.0));
  st.k_geo = DView<double*>("cementflow::simulation::k_geo", n);
  Kokkos::parallel_for("cementflow::simulation::k_geo", Policy(0, n),
                       kernels::GeometricMeanPermeability<DView<float*>, DView<double*>>{
                           grid.kx, grid.ky, grid.kz, st.k_geo});
  return st;
}

void age_cement(const Scene& scene, const CementParams& cement, double dt, RunState& st) {
  if (!cement.curing) return;
  const int n = static_cast<int>(st.s.extent(0));
  Kokkos::parallel_for(
      "cementflow::simulation::age_cement", Policy(0, n),
      kernels::AgeCement<DView<double*>>{st.s, st.cure_state, cement.cure, cement.t_body_k, dt});
  const Curing& cure = scene.cement.curing;
  st.syringe_state = advance_cure(cure, st.syringe_state, cure.room_temperature_c, dt);
}

RunFields collect_fields(const RunState& st, BoneBlocks sorted) {
  RunFields f;
  const auto n = static_cast<size_t>(st.s.extent(0));
  auto hs = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), st.s);
  auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), st.p);
  auto hm = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), st.mu);
  auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), st.arrival);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), st.vel);
  f.cement_fraction.resize(n);
  f.pressure.resize(n);
  f.viscosity.resize(n);
  f.arrival_time.resize(n);
  f.velocity.resize(3 * n);
  for (size_t i = 0; i < n; ++i) {
    f.cement_fraction[i] = static_cast<float>(std::clamp(hs(i), 0.0, 1.0));
    f.pressure[i] = static_cast<float>(hp(i));
    f.viscosity[i] = static_cast<float>(hm(i));
    f.arrival_time[i] = ha(i);
  }
  for (size_t i = 0; i < f.velocity.size(); ++i) f.velocity[i] = hv(i);
  f.grid = std::move(sorted);
  return f;
}

}  // namespace cementflow::detail

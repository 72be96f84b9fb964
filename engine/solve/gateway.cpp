#include "engine/solve/gateway.hpp"

#include "kernels/kokkos_compat.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;

/// Marks in `mask` the faces between a conducting bone voxel and a leak-destination voxel (bit d
/// of the bone voxel); returns how many. (A free function: an extended device lambda may not live
/// in a constructor.)
int find_gateway_faces(const DeviceGrid& grid, const DView<int*>& mask) {
  const auto nb = grid.neighbour;
  const auto mat = grid.material;
  const auto phi = grid.porosity;
  int faces = 0;
  Kokkos::parallel_reduce(
      "cementflow::gateway::find_faces", Policy(0, static_cast<int>(grid.num_voxels())),
      KOKKOS_LAMBDA(int i, int& count) {
        int m = 0;
        const int mi = mat(i);
        if (mi >= 0 && !kernels::leak_destination(mi) && phi(i) > 0) {
          const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
          for (int d = 0; d < 6; ++d) {
            const int j = kernels::neighbour_voxel(nb, b, v, d);
            if (j >= 0 && mat(j) >= 0 && kernels::leak_destination(mat(j))) {
              m |= 1 << d;
              ++count;
            }
          }
        }
        mask(i) = m;
      },
      faces);
  return faces;
}
}  // namespace

Gateways::Gateways(const DeviceGrid& grid, const LeakGateways& g,
                   const kernels::RheologyParams& rheo, double mu_m, double corey)
    : grid_(grid), mu_m_(mu_m), corey_(corey) {
  const Gateway* cls[3] = {&g.vein, &g.endplate, &g.breach};
  for (int c = 0; c < 3; ++c) factors_.factor[c] = gateway_entry_pressure_pa(1.0, *cls[c]);
  tau_y_ = rheo.model == kernels::RheologyParams::herschel_bulkley ? rheo.yield_stress : 0.0;
  if (!(tau_y_ > 0)) return;
  DView<int*> mask("cementflow::gateway::mask", static_cast<size_t>(grid.num_voxels()));
  const int faces = find_gateway_faces(grid, mask);
  faces_ = closed_ = faces;
  if (faces > 0) mask_ = mask;
}

std::function<void(PressureOperator&)> Gateways::adjuster(const DView<double*>& lambda,
                                                          const DView<double*>& s) const {
  if (closed_ == 0) return {};
  return [this, lambda, s](PressureOperator& op) { apply_closed_faces(op, lambda, s); };
}

void Gateways::apply_closed_faces(PressureOperator& op, const DView<double*>& lambda,
                                  const DView<double*>& s) const {
  const auto nb = grid_.neighbour;
  const auto kx = grid_.kx, ky = grid_.ky, kz = grid_.kz;
  const auto mask = mask_;
  auto tx = op.tx, ty = op.ty, tz = op.tz;
  const double h = grid_.h_m, mu_m = mu_m_, corey = corey_;
  Kokkos::parallel_for(
      "cementflow::gateway::closed_faces", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i) {
        const int m = mask(i);
        if (m == 0) return;
        const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
        for (int d = 0; d < 6; ++d) {
          if (((m >> d) & 1) == 0) continue;
          const int j = kernels::neighbour_voxel(nb, b, v, d);
          const int a = kernels::dir_axis(d);
          const double ki = a == 0 ? kx(i) : (a == 1 ? ky(i) : kz(i));
          const double kj = a == 0 ? kx(j) : (a == 1 ? ky(j) : kz(j));
          const auto t = static_cast<float>(
              kernels::closed_gateway_transmissibility(h, ki, s(i), mu_m, corey, kj, lambda(j)));
          // The +d face is stored at i, the -d face at j (kernels::face_t); each gateway face has
          // exactly one bone side, so no two threads write the same slot.
          const int owner = (d & 1) ? i : j;
          if (a == 0)
            tx(owner) = t;
          else if (a == 1)
            ty(owner) = t;
          else
            tz(owner) = t;
        }
      });
}

std::vector<int> Gateways::mask_on_host() const {
  std::vector<int> out(mask_.extent(0));
  if (out.empty()) return out;
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), mask_);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = h(i);
  return out;
}

void Gateways::restore_mask(const std::vector<int>& mask) {
  auto h = Kokkos::create_mirror_view(mask_);
  int closed = 0;
  for (std::size_t i = 0; i < mask.size() && i < mask_.extent(0); ++i) {
    h(i) = mask[i];
    for (int d = 0; d < 6; ++d) closed += (mask[i] >> d) & 1;
  }
  Kokkos::deep_copy(mask_, h);
  closed_ = closed;
}

int Gateways::open_where_exceeded(const DView<double*>& p, const DView<double*>& s,
                                  const DView<double*>& cure_state, const kernels::CureParams& cure,
                                  double fresh_state, double t_body, double s_open) {
  if (closed_ == 0) return 0;
  const auto nb = grid_.neighbour;
  const auto route = grid_.route;
  const auto mask = mask_;
  const kernels::GatewayFactors fac = factors_;
  const double tau_y = tau_y_;
  const bool curing = cure.model != kernels::CureParams::none;
  int still_closed = 0;
  Kokkos::parallel_reduce(
      "cementflow::gateway::open", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i, int& count) {
        int m = mask(i);
        if (m == 0) return;
        const double tau =
            tau_y *
            (curing ? kernels::cure_factor(cure, s(i) > 0 ? cure_state(i) : fresh_state, t_body)
                    : 1.0);
        const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
        for (int d = 0; d < 6; ++d) {
          if (((m >> d) & 1) == 0) continue;
          const int j = kernels::neighbour_voxel(nb, b, v, d);
          const double entry = tau * fac.factor[kernels::gateway_class(route(j))];
          if (kernels::gateway_opens(s(i), s_open, p(i), p(j), entry))
            m &= ~(1 << d);
          else
            ++count;
        }
        mask(i) = m;
      },
      still_closed);
  const int opened = closed_ - still_closed;
  closed_ = still_closed;
  return opened;
}

}  // namespace cementflow::detail

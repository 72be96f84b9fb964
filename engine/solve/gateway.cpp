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

/// The open fraction of the gateway face from bone voxel i to destination voxel j, from the state
/// (kernels::gateway_fraction with the entry pressure of the face's class and the yield stress of
/// the cell's cement at its cure state, PHYSICS-LEAKS.md §M7.4).
struct FaceOpening {
  DView<int*> route;
  DView<double*> p, s, cure_state;
  kernels::GatewayFactors factors;
  kernels::CureParams cure;
  double tau_y, fresh_state, t_body, s_open;

  KOKKOS_INLINE_FUNCTION double tau(int i) const {
    if (cure.model == kernels::CureParams::none) return tau_y;
    return tau_y * kernels::cure_factor(cure, s(i) > 0 ? cure_state(i) : fresh_state, t_body);
  }
  KOKKOS_INLINE_FUNCTION double operator()(int i, int j, double tau_i) const {
    const double entry = tau_i * factors.factor[kernels::gateway_class(route(j))];
    return kernels::gateway_fraction(s(i), s_open, p(i), p(j), entry);
  }
};
}  // namespace

Gateways::Gateways(const DeviceGrid& grid, const LeakGateways& g,
                   const kernels::RheologyParams& rheo, double mu_m, double corey,
                   const kernels::CureParams& cure, double t_body_k, double s_open)
    : grid_(grid), cure_(cure), mu_m_(mu_m), corey_(corey), t_body_(t_body_k), s_open_(s_open) {
  const Gateway* cls[3] = {&g.vein, &g.endplate, &g.breach};
  for (int c = 0; c < 3; ++c) factors_.factor[c] = gateway_entry_pressure_pa(1.0, *cls[c]);
  tau_y_ = rheo.model == kernels::RheologyParams::herschel_bulkley ? rheo.yield_stress : 0.0;
  if (!(tau_y_ > 0)) return;
  const auto n = static_cast<size_t>(grid.num_voxels());
  DView<int*> faces("cementflow::gateway::faces", n);
  const int count = find_gateway_faces(grid, faces);
  if (count == 0) return;
  faces_ = count;
  faces_mask_ = faces;
  mask_ = DView<int*>("cementflow::gateway::closed", n);
  Kokkos::deep_copy(mask_, faces);
  fraction_ = DView<float*>("cementflow::gateway::fraction", 6 * n);
}

std::function<void(PressureOperator&)> Gateways::adjuster(const DView<double*>& lambda,
                                                          const GateInputs& in) {
  if (faces_ == 0) return {};
  return [this, lambda, in](PressureOperator& op) { apply(op, lambda, in); };
}

void Gateways::apply(PressureOperator& op, const DView<double*>& lambda, const GateInputs& in) {
  const auto nb = grid_.neighbour;
  const auto kx = grid_.kx, ky = grid_.ky, kz = grid_.kz;
  const auto faces = faces_mask_, mask = mask_;
  const auto fraction = fraction_;
  const auto s = in.s;
  auto tx = op.tx, ty = op.ty, tz = op.tz;
  const double h = grid_.h_m, mu_m = mu_m_, corey = corey_;
  const FaceOpening open{grid_.route, in.p,   in.s,           in.cure_state, factors_,
                         cure_,       tau_y_, in.fresh_state, t_body_,       s_open_};
  Kokkos::parallel_for(
      "cementflow::gateway::faces", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i) {
        const int m = faces(i);
        if (m == 0) return;
        const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
        const double tau_i = open.tau(i);
        int shut = 0;
        for (int d = 0; d < 6; ++d) {
          if (((m >> d) & 1) == 0) continue;
          const int j = kernels::neighbour_voxel(nb, b, v, d);
          const int a = kernels::dir_axis(d);
          const double ki = a == 0 ? kx(i) : (a == 1 ? ky(i) : kz(i));
          const double kj = a == 0 ? kx(j) : (a == 1 ? ky(j) : kz(j));
          const double f = open(i, j, tau_i);
          fraction(6 * i + d) = static_cast<float>(f);
          if (!(f > 0)) shut |= 1 << d;
          // The +d face is stored at i, the -d face at j (kernels::face_t); each gateway face has
          // exactly one bone side, so no two threads write the same slot.
          const int owner = (d & 1) ? i : j;
          float& slot = a == 0 ? tx(owner) : (a == 1 ? ty(owner) : tz(owner));
          const double t_closed =
              kernels::closed_gateway_transmissibility(h, ki, s(i), mu_m, corey, kj, lambda(j));
          slot = static_cast<float>(
              kernels::gateway_transmissibility(t_closed, static_cast<double>(slot), f));
        }
        mask(i) = shut;
      });
}

Gateways::Change Gateways::change(const GateInputs& in) const {
  Change c;
  if (faces_ == 0) return c;
  const auto nb = grid_.neighbour;
  const auto faces = faces_mask_;
  const auto fraction = fraction_;
  const FaceOpening open{grid_.route, in.p,   in.s,           in.cure_state, factors_,
                         cure_,       tau_y_, in.fresh_state, t_body_,       s_open_};
  Kokkos::parallel_reduce(
      "cementflow::gateway::change", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i, int& flips, double& most) {
        const int m = faces(i);
        if (m == 0) return;
        const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
        const double tau_i = open.tau(i);
        for (int d = 0; d < 6; ++d) {
          if (((m >> d) & 1) == 0) continue;
          const double f = open(i, kernels::neighbour_voxel(nb, b, v, d), tau_i);
          const double was = static_cast<double>(fraction(6 * i + d));
          if ((f > 0) != (was > 0)) ++flips;
          const double df = f > was ? f - was : was - f;
          if (df > most) most = df;
        }
      },
      c.flips, Kokkos::Max<double>(c.fraction));
  return c;
}

}  // namespace cementflow::detail

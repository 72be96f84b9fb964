#include "engine/transport.hpp"

#include <limits>

#include "kernels/transport_kernels.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;
// Sweeps stop when no saturation changes by more than this between two sweeps. The final update
// is conservative whatever this is; it bounds how far s may stray outside [0, 1] (by ~this).
constexpr double kSweepTolerance = 1e-12;
constexpr int kMaxSweeps = 500;
}  // namespace

Transport::Transport(const DeviceGrid& grid, double mu_m, double corey)
    : grid_(grid),
      mu_m_(mu_m),
      corey_(corey),
      s_iter_("cementflow::transport::s_iter", static_cast<size_t>(grid.num_voxels())),
      s_next_("cementflow::transport::s_next", static_cast<size_t>(grid.num_voxels())) {}

double Transport::front_time_step(const PressureOperator& op, const DView<double*>& p,
                                  const DView<double*>& q, const DView<double*>& s,
                                  const DView<double*>& mu_c) const {
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto phi = grid_.porosity;
  const auto tx = op.tx, ty = op.ty, tz = op.tz, tb = op.tb;
  const double vol = grid_.h_m * grid_.h_m * grid_.h_m;
  const double mu_m = mu_m_, a = corey_;
  double dt = std::numeric_limits<double>::max();
  Kokkos::parallel_reduce(
      "cementflow::transport::front_time_step", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i, double& m) {
        const double ph = phi(i);
        if (mat(i) < 0 || s(i) >= 0.5 || ph <= 0) return;
        const auto c = kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s, mu_c, mu_m, a, i);
        if (c.in_c > 0) {
          const double t = ph * vol * (1.0 - s(i)) / c.in_c;
          if (t < m) m = t;
        }
      },
      Kokkos::Min<double>(dt));
  return dt;
}

TransportStats Transport::step(const PressureOperator& op, const DView<double*>& p,
                               const DView<double*>& q, const DView<double*>& mu_c, double t,
                               double dt, double arrival_saturation, DView<double*>& s,
                               DView<double*>& boundary_out, DView<float*>& arrival) {
  const int n = static_cast<int>(grid_.num_voxels());
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto phi = grid_.porosity;
  const auto tx = op.tx, ty = op.ty, tz = op.tz, tb = op.tb;
  const double cap_per_phi = grid_.h_m * grid_.h_m * grid_.h_m / dt;
  const double mu_m = mu_m_, a = corey_;
  auto s_old = s, s_it = s_iter_, s_nx = s_next_;
  Kokkos::deep_copy(s_it, s_old);

  TransportStats st;
  for (st.sweeps = 1; st.sweeps <= kMaxSweeps; ++st.sweeps) {
    double change = 0;
    Kokkos::parallel_reduce(
        "cementflow::transport::implicit_sweep", Policy(0, n),
        KOKKOS_LAMBDA(int i, double& m) {
          double sn = s_old(i);
          const double ph = phi(i);
          if (mat(i) >= 0 && ph > 0) {
            const auto c = kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s_it, mu_c, mu_m, a, i);
            if (c.in_c > 0 || s_old(i) > 0)
              sn = kernels::solve_cell(ph * cap_per_phi, s_old(i), c.in_c, c.out, mu_c(i), mu_m, a);
          }
          s_nx(i) = sn;
          const double dlt = sn > s_it(i) ? sn - s_it(i) : s_it(i) - sn;
          if (dlt > m) m = dlt;
        },
        Kokkos::Max<double>(change));
    Kokkos::deep_copy(s_it, s_nx);
    st.max_change = change;
    if (change <= kSweepTolerance) break;
  }

  // Conservative update from the fluxes at the converged iterate: every face flux leaves one
  // voxel and enters its neighbour with the same value, so the total is exact.
  Kokkos::parallel_for(
      "cementflow::transport::conservative_update", Policy(0, n), KOKKOS_LAMBDA(int i) {
        const double ph = phi(i);
        if (mat(i) < 0 || ph <= 0) {
          s_nx(i) = s_old(i);
          return;
        }
        const auto c = kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s_it, mu_c, mu_m, a, i);
        const double fi = kernels::fractional_flow(s_it(i), mu_c(i), mu_m, a);
        const double sn = s_old(i) + (c.in_c - fi * c.out) / (ph * cap_per_phi);
        s_nx(i) = sn;
        boundary_out(i) += dt * fi * c.out_boundary;
        if (arrival(i) < 0 && sn >= arrival_saturation && sn > s_old(i)) {
          const double frac = (arrival_saturation - s_old(i)) / (sn - s_old(i));
          arrival(i) = static_cast<float>(t + dt * (frac < 0 ? 0.0 : frac));
        }
      });
  Kokkos::deep_copy(s, s_nx);
  return st;
}

void Transport::velocity(const PressureOperator& op, const DView<double*>& p, DView<float*>& vel3,
                         DView<double*>& speed) const {
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto tx = op.tx, ty = op.ty, tz = op.tz;
  const double area = grid_.h_m * grid_.h_m;
  Kokkos::parallel_for(
      "cementflow::transport::velocity", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i) {
        const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
        double u[3] = {0, 0, 0}, mag[3] = {0, 0, 0};
        if (mat(i) >= 0) {
          for (int d = 0; d < 6; ++d) {
            const int j = kernels::neighbour_voxel(nb, b, v, d);
            if (j < 0) continue;
            const double f = kernels::face_flux(tx, ty, tz, p, i, j, d);  // out of i
            const int ax = kernels::dir_axis(d);
            u[ax] += 0.5 * f * kernels::dir_sign(d) / area;
            mag[ax] += 0.5 * (f < 0 ? -f : f) / area;
          }
        }
        for (int ax = 0; ax < 3; ++ax) vel3(3 * i + ax) = static_cast<float>(u[ax]);
        speed(i) = kernels::math::sqrt(mag[0] * mag[0] + mag[1] * mag[1] + mag[2] * mag[2]);
      });
}

}  // namespace cementflow::detail

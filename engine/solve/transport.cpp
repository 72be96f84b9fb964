#include "engine/solve/transport.hpp"

#include <algorithm>
#include <limits>

#include "kernels/block_stencil.hpp"
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
      s_next_("cementflow::transport::s_next", static_cast<size_t>(grid.num_voxels())),
      flag_("cementflow::transport::front_flag", static_cast<size_t>(grid.num_voxels())),
      list_("cementflow::transport::front_list", static_cast<size_t>(grid.num_voxels())) {}

double Transport::front_time_step(const PressureOperator& op, const DView<double*>& p,
                                  const DView<double*>& q, const DView<double*>& s,
                                  const DView<double*>& mu_c) const {
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto phi = grid_.porosity;
  const auto tx = op.tx, ty = op.ty, tz = op.tz, tb = op.tb;
  const double vol = grid_.h_m * grid_.h_m * grid_.h_m;
  const double mu_m = mu_m_, a = corey_;
  const auto gate = gate_;
  double dt = std::numeric_limits<double>::max();
  Kokkos::parallel_reduce(
      "cementflow::transport::front_time_step", Policy(0, static_cast<int>(grid_.num_voxels())),
      KOKKOS_LAMBDA(int i, double& m) {
        const double ph = phi(i);
        // Leak destinations do not limit the step: cement there is tallied as leaked whatever its
        // path inside, and a vein's fast channel would otherwise shrink every later step to the
        // milliseconds its few voxels take to fill.
        if (mat(i) < 0 || s(i) >= 0.5 || ph <= 0 || kernels::leak_destination(mat(i))) return;
        const auto c = kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s, mu_c, mu_m, a, i, gate);
        // The time the current flow through the cell takes to fill its remaining pore space:
        // once its upstream is full the front crosses it at that rate.
        if (c.in_c > 0 && c.in_total > 0) {
          const double t = ph * vol * (1.0 - s(i)) / c.in_total;
          if (t < m) m = t;
        }
      },
      Kokkos::Min<double>(dt));
  return dt;
}

TransportStats Transport::step(const PressureOperator& op, const DView<double*>& p,
                               const DView<double*>& q, const DView<double*>& mu_c, double t,
                               double dt, double arrival_saturation, DView<double*>& s,
                               DView<double*>& boundary_out, DView<float*>& arrival,
                               CarriedState* carried) {
  const int n = static_cast<int>(grid_.num_voxels());
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto phi = grid_.porosity;
  const auto tx = op.tx, ty = op.ty, tz = op.tz, tb = op.tb;
  const double cap_per_phi = grid_.h_m * grid_.h_m * grid_.h_m / dt;
  const double mu_m = mu_m_, a = corey_;
  const auto gate = gate_;
  auto s_old = s, s_it = s_iter_, s_nx = s_next_;
  auto flag = flag_, list = list_;
  Kokkos::deep_copy(s_it, s_old);
  Kokkos::deep_copy(s_nx, s_old);

  // The implicit sweeps visit the cells that hold cement, receive it from a source, or touch a
  // cell that holds it in the current iterate. When the converged iterate has put cement into a
  // cell whose neighbours were not visited, the set grows and the sweeps go on, so every cell the
  // front reaches within the step is solved implicitly.
  // Cells holding less than kTrace of cement (the implicit upwind scheme's exponentially small
  // tail ahead of the front, which after one step covers most of the bone) are not swept: they
  // keep their old value in the iterate and get the flux-form update below like every cell, which
  // is explicit for them and stable (the fractional-flow slope there is ~mu_m/mu_c << 1).
  // Conservation is unaffected; the front set shrinks from most of the bone to the real front.
  constexpr double kTrace = 1e-10;
  TransportStats st;
  int m = -1;
  while (st.sweeps < kMaxSweeps) {
    Kokkos::parallel_for(
        "cementflow::transport::mark_front", Policy(0, n), KOKKOS_LAMBDA(int i) {
          int on = 0;
          if (mat(i) >= 0 && phi(i) > 0) {
            on = s_it(i) > kTrace || q(i) > 0;
            const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
            for (int d = 0; d < 6 && !on; ++d) {
              const int j = kernels::neighbour_voxel(nb, b, v, d);
              on = j >= 0 && s_it(j) > kTrace;
            }
          }
          flag(i) = on;
        });
    int count = 0;
    Kokkos::parallel_reduce(
        "cementflow::transport::count_front", Policy(0, n),
        KOKKOS_LAMBDA(int i, int& c) { c += flag(i); }, count);
    if (count == m) break;  // the set did not grow: done
    m = count;
    Kokkos::parallel_scan(
        "cementflow::transport::list_front", Policy(0, n),
        KOKKOS_LAMBDA(int i, int& offset, const bool final) {
          if (flag(i)) {
            if (final) list(offset) = i;
            offset += 1;
          }
        });
    while (st.sweeps < kMaxSweeps) {
      ++st.sweeps;
      double change = 0;
      Kokkos::parallel_reduce(
          "cementflow::transport::implicit_sweep", Policy(0, m),
          KOKKOS_LAMBDA(int k, double& mx) {
            const int i = list(k);
            const auto c =
                kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s_it, mu_c, mu_m, a, i, gate);
            const double sn = (c.in_c > 0 || s_old(i) > 0)
                                  ? kernels::solve_cell(static_cast<double>(phi(i)) * cap_per_phi,
                                                        s_old(i), c.in_c, c.out, mu_c(i), mu_m, a)
                                  : s_old(i);
            s_nx(i) = sn;
            const double dlt = sn > s_it(i) ? sn - s_it(i) : s_it(i) - sn;
            if (dlt > mx) mx = dlt;
          },
          Kokkos::Max<double>(change));
      Kokkos::parallel_for(
          "cementflow::transport::accept_sweep", Policy(0, m), KOKKOS_LAMBDA(int k) {
            const int i = list(k);
            s_it(i) = s_nx(i);
          });
      st.max_change = change;
      if (change <= kSweepTolerance) break;
    }
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
        const auto c = kernels::cell_flows(nb, tx, ty, tz, tb, p, q, s_it, mu_c, mu_m, a, i, gate);
        const double fi = kernels::fractional_flow(s_it(i), mu_c(i), mu_m, a);
        const double sn = s_old(i) + (c.in_c - fi * c.out) / (ph * cap_per_phi);
        s_nx(i) = sn;
        boundary_out(i) += dt * fi * c.out_boundary;
        if (arrival(i) < 0 && sn >= arrival_saturation && sn > s_old(i)) {
          const double frac = (arrival_saturation - s_old(i)) / (sn - s_old(i));
          arrival(i) = static_cast<float>(t + dt * (frac < 0 ? 0.0 : frac));
        }
      });
  if (carried) {
    // The carried state, implicit upwind over the same cells and fluxes (kernels::mixed_state):
    // Jacobi sweeps until no state changes by more than kSweepTolerance relative to the largest.
    if (c_iter_.extent(0) != static_cast<size_t>(n)) {
      c_iter_ = DView<double*>("cementflow::transport::c_iter", static_cast<size_t>(n));
      c_next_ = DView<double*>("cementflow::transport::c_next", static_cast<size_t>(n));
    }
    auto c_old = carried->state, c_it = c_iter_, c_nx = c_next_;
    const double c_in = carried->inflow;
    Kokkos::deep_copy(c_it, c_old);
    double scale = 0;
    Kokkos::parallel_reduce(
        "cementflow::transport::state_scale", Policy(0, n),
        KOKKOS_LAMBDA(int i, double& mx) {
          const double v = c_old(i) < 0 ? -c_old(i) : c_old(i);
          if (v > mx) mx = v;
        },
        Kokkos::Max<double>(scale));
    scale = std::max({scale, c_in < 0 ? -c_in : c_in, 1e-300});
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
      double change = 0;
      Kokkos::parallel_reduce(
          "cementflow::transport::state_sweep", Policy(0, m),
          KOKKOS_LAMBDA(int k, double& mx) {
            const int i = list(k);
            const double cn = kernels::mixed_state(nb, tx, ty, tz, p, q, s_it, mu_c, mu_m, a, i,
                                                   static_cast<double>(phi(i)) * cap_per_phi,
                                                   s_old(i), c_old(i), c_in, c_it, gate);
            c_nx(i) = cn;
            const double dlt = cn > c_it(i) ? cn - c_it(i) : c_it(i) - cn;
            if (dlt > mx) mx = dlt;
          },
          Kokkos::Max<double>(change));
      Kokkos::parallel_for(
          "cementflow::transport::accept_state", Policy(0, m), KOKKOS_LAMBDA(int k) {
            const int i = list(k);
            c_it(i) = c_nx(i);
          });
      if (change <= kSweepTolerance * scale) break;
    }
    Kokkos::deep_copy(c_old, c_it);
  }
  Kokkos::deep_copy(s, s_nx);
  return st;
}

void Transport::velocity(const PressureOperator& op, const DView<double*>& p, DView<float*>& vel3,
                         DView<double*>& speed) const {
  const auto nb = grid_.neighbour;
  const auto mat = grid_.material;
  const auto tx = op.tx, ty = op.ty, tz = op.tz;
  const double area = grid_.h_m * grid_.h_m;
  if (kernels::kHostBlockKernels && op.faces.extent(0) > 0) {
    Kokkos::parallel_for(
        "cementflow::transport::velocity_blocks", Policy(0, grid_.nblocks),
        kernels::BlockVelocity<DView<int* [6]>, DView<float*>, DView<double*>, DView<float*>> {
          nb, op.faces, p, vel3, speed, area
        });
    return;
  }
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

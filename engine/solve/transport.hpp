#pragma once
// Cement saturation transport on the block grid (PHYSICS.md §M2): implicit upwind per cell solved
// by parallel nonlinear Jacobi sweeps, then one conservative flux-form update so that
// injected = in bone + leaked holds to round-off every step, whatever the sweep tolerance.

#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"

namespace cementflow::detail {

struct TransportStats {
  int sweeps = 0;
  double max_change = 0;
};

/// A property carried by the cement (its cure state, PHYSICS.md §L1c), mixed by cement volume in
/// each cell (kernels::mixed_state). `inflow` is the state of the cement the sources inject.
struct CarriedState {
  DView<double*> state;
  double inflow = 0;
};

class Transport {
 public:
  /// mu_m marrow viscosity (Pa s), corey relative-permeability exponent.
  Transport(const DeviceGrid& grid, double mu_m, double corey);

  /// Time step (s) in which the front crosses one cell: over the cells with s < 1/2 that receive
  /// cement, dt = min phi V (1 - s) / q_in (q_in their total inflow). Returns the largest double
  /// when no cell receives cement.
  double front_time_step(const PressureOperator& op, const DView<double*>& p,
                         const DView<double*>& q, const DView<double*>& s,
                         const DView<double*>& mu_c) const;

  /// Advances s by dt at time t. `boundary_out` accumulates per voxel the cement volume (m^3)
  /// that left through the outer boundary; `arrival` records when s first reached
  /// `arrival_saturation` (seconds, linear in time within the step).
  TransportStats step(const PressureOperator& op, const DView<double*>& p, const DView<double*>& q,
                      const DView<double*>& mu_c, double t, double dt, double arrival_saturation,
                      DView<double*>& s, DView<double*>& boundary_out, DView<float*>& arrival,
                      CarriedState* carried = nullptr);

  /// Darcy velocity per voxel (average of the two face fluxes per axis, m/s) and the speed used
  /// for the shear rate (mean of the face-flux magnitudes per axis, so a source voxel is not 0).
  void velocity(const PressureOperator& op, const DView<double*>& p, DView<float*>& vel3,
                DView<double*>& speed) const;

  /// Leak gateways closed to the cement (per bone voxel a 6-bit mask of closed faces,
  /// engine/solve/gateway.cpp); an empty view (the default) means none.
  void set_gates(const DView<int*>& gate) { gate_ = gate; }

  double marrow_viscosity() const { return mu_m_; }
  double corey() const { return corey_; }

 private:
  const DeviceGrid& grid_;
  double mu_m_, corey_;
  DView<double*> s_iter_, s_next_;
  DView<double*> c_iter_, c_next_;  ///< carried-state sweeps (allocated on first use)
  DView<int*> flag_, list_;
  DView<int*> gate_;  ///< closed leak-gateway faces (empty: none)
};

}  // namespace cementflow::detail

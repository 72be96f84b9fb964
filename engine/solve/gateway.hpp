#pragma once
// Host driver of the leak gateways (kernels/gateway_kernels.hpp, docs/PHYSICS-LEAKS.md §G): the
// closed-face mask, its effect on the pressure operator, and the monotone opening update.

#include <functional>
#include <vector>

#include "cementflow/gateway.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/gateway_kernels.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow::detail {

class Gateways {
 public:
  /// Closes every face between a conducting bone voxel and a leak-destination voxel when the
  /// cement has a yield stress (Herschel–Bulkley tau_y > 0); otherwise there are none and the
  /// run is the plain two-phase model.
  Gateways(const DeviceGrid& grid, const LeakGateways& geometry,
           const kernels::RheologyParams& rheo, double mu_m, double corey);

  bool active() const { return closed_ > 0; }
  /// Per voxel the 6-bit mask of closed gateway faces (empty view when none).
  const DView<int*>& mask() const { return mask_; }

  /// The face adjustment for PressureSolver::assemble at total mobility lambda and saturation s
  /// (empty when no gateway is closed).
  std::function<void(PressureOperator&)> adjuster(const DView<double*>& lambda,
                                                  const DView<double*>& s) const;

  /// Opens the closed faces whose entry pressure is exceeded (kernels::gateway_opens), with the
  /// yield stress of each bone cell's cement at its cure state (`cure_state`, or `fresh_state`
  /// where the cell has none) at t_body (K). Returns how many opened.
  int open_where_exceeded(const DView<double*>& p, const DView<double*>& s,
                          const DView<double*>& cure_state, const kernels::CureParams& cure,
                          double fresh_state, double t_body, double s_open);

  /// Rewrites the closed gateway faces of `op` (kernels::closed_gateway_transmissibility).
  void apply_closed_faces(PressureOperator& op, const DView<double*>& lambda,
                          const DView<double*>& s) const;

  int gateway_faces() const { return faces_; }
  int closed_faces() const { return closed_; }

  /// Checkpoint/restart (issue 17): the closed-face mask, and setting it back (the count of
  /// closed faces recomputed from it).
  std::vector<int> mask_on_host() const;
  void restore_mask(const std::vector<int>& mask);

 private:
  const DeviceGrid& grid_;
  kernels::GatewayFactors factors_;
  double tau_y_ = 0, mu_m_ = 0.04, corey_ = 1;
  DView<int*> mask_;
  int faces_ = 0, closed_ = 0;
};

}  // namespace cementflow::detail

#pragma once
// Host driver of the leak gateways (kernels/gateway_kernels.hpp, docs/PHYSICS-LEAKS.md §G): the
// gateway faces, their open fraction (a Bingham passage, Buckingham–Reiner), its effect on the
// pressure operator and the mask of faces closed to the cement.

#include <functional>
#include <vector>

#include "cementflow/gateway.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/gateway_kernels.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow::detail {

/// The state a gateway face's opening depends on: pressure, cement fraction and cure state per
/// voxel, and the cure state of fresh cement (cells without a state of their own).
struct GateInputs {
  DView<double*> p, s, cure_state;
  double fresh_state = 0;
};

class Gateways {
 public:
  /// Finds every face between a conducting bone voxel and a leak-destination voxel when the
  /// cement has a yield stress (Herschel–Bulkley tau_y > 0); otherwise there are none and the
  /// run is the plain two-phase model. All start closed.
  Gateways(const DeviceGrid& grid, const LeakGateways& geometry,
           const kernels::RheologyParams& rheo, double mu_m, double corey,
           const kernels::CureParams& cure, double t_body_k, double s_open);

  /// Per voxel the 6-bit mask of the gateway faces closed to the cement (empty view when none).
  /// Set from the state at every assembly, so a checkpoint need not carry it.
  const DView<int*>& mask() const { return mask_; }

  /// The face adjustment for PressureSolver::assemble at total mobility lambda and the state
  /// `in` (empty when there are no gateways): sets each gateway face's open fraction from `in`
  /// (kernels::gateway_fraction), its transmissibility (kernels::gateway_transmissibility) and
  /// the closed mask.
  std::function<void(PressureOperator&)> adjuster(const DView<double*>& lambda,
                                                  const GateInputs& in);

  /// How the state `in` would change the faces the operator was last assembled with: the number
  /// of faces that would open or close, and the largest change of an open fraction.
  struct Change {
    int flips = 0;
    double fraction = 0;
  };
  Change change(const GateInputs& in) const;

  /// What adjuster() does (public for nvcc: an extended device lambda may not live in a private
  /// member function).
  void apply(PressureOperator& op, const DView<double*>& lambda, const GateInputs& in);

 private:
  const DeviceGrid& grid_;
  kernels::GatewayFactors factors_;
  kernels::CureParams cure_;
  double tau_y_ = 0, mu_m_ = 0.04, corey_ = 1, t_body_ = 310.15, s_open_ = 0.5;
  DView<int*> faces_mask_;  ///< per voxel the 6-bit mask of its gateway faces (fixed)
  DView<int*> mask_;        ///< per voxel the 6-bit mask of its faces closed to the cement
  DView<float*> fraction_;  ///< 6 per voxel: the open fraction the operator was assembled with
  int faces_ = 0;
};

}  // namespace cementflow::detail

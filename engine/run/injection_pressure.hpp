#pragma once
// The pressures the surgeon feels (PHYSICS.md §M3): the injection pressure = the pressure at the
// needle opening (the well model of engine/solve/well.hpp, issue 15) + the cannula pressure drop
// of the cement in the syringe. The seam for other cannula models. Kokkos translation units only.

#include <vector>

#include "cementflow/needle.hpp"
#include "cementflow/scene.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/rheology_params.hpp"

namespace cementflow::detail {

/// The cannula pressure drop of the injected cement, rheology converted once per run.
class CannulaDrop {
 public:
  CannulaDrop(const Scene& scene, const CementParams& cement);
  /// Largest pressure drop (Pa) over the needles for the cement in the syringe at cure state
  /// `syringe_state` (room temperature), each needle carrying its share of the flow.
  double operator()(double syringe_state) const;

 private:
  kernels::RheologyParams law_;  ///< the fresh cement's law
  Curing cure_;
  double q_needle_;
  std::vector<std::vector<CannulaSection>> sections_;  ///< per needle
};

}  // namespace cementflow::detail

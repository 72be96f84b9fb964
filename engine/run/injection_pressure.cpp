#include "engine/run/injection_pressure.hpp"

#include <algorithm>

#include "cementflow/rheology.hpp"

namespace cementflow::detail {

CannulaDrop::CannulaDrop(const Scene& scene, const CementParams& cement)
    : law_(cement.law),
      cure_(scene.cement.curing),
      q_needle_(scene.injection.flow_rate_m3_s /
                static_cast<double>(scene.injection.needles.size())) {
  for (const auto& nd : scene.injection.needles) sections_.push_back(cannula_sections(nd));
}

double CannulaDrop::operator()(double syringe_state) const {
  // The syringe cement: the law shifted by its cure factor at room temperature (§L1c).
  const kernels::RheologyParams p =
      shifted_params(law_, cure_viscosity_factor(cure_, syringe_state, cure_.room_temperature_c));
  double dp = 0;
  for (const auto& sections : sections_) {
    // Stepped cannula: the sections add (PHYSICS.md §M3).
    double d = 0;
    for (const auto& sec : sections)
      d += cannula_pressure_drop(p, q_needle_, sec.radius_m, sec.length_m);
    dp = std::max(dp, d);
  }
  return dp;
}

}  // namespace cementflow::detail

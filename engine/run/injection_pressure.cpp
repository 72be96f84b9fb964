#include "engine/run/injection_pressure.hpp"

#include <algorithm>

#include "cementflow/rheology.hpp"

namespace cementflow::detail {

double tip_pressure(const DView<double*>& p, const std::vector<long long>& tips) {
  // Reads only the tip entries (issue 13: the whole field used to be copied to the host every
  // step): the few tip indices go to the device, one max-reduction comes back.
  DView<int*> idx("cementflow::run::tips", tips.size());
  auto h = Kokkos::create_mirror_view(idx);
  for (size_t k = 0; k < tips.size(); ++k) h(k) = static_cast<int>(tips[k]);
  Kokkos::deep_copy(idx, h);
  double m = 0;
  Kokkos::parallel_reduce(
      "cementflow::run::tip_pressure",
      Kokkos::RangePolicy<ExecSpace>(0, static_cast<int>(tips.size())),
      KOKKOS_LAMBDA(int k, double& mx) {
        const double v = p(idx(k));
        if (v > mx) mx = v;
      },
      Kokkos::Max<double>(m));
  return std::max(m, 0.0);
}

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

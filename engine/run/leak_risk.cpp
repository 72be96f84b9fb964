#include "engine/run/leak_risk.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cementflow::detail {

namespace {
// Leak-risk score: 1 - exp(-V_leak / 0.05 mL) from the simulated leak volume, and a near-miss
// term 0.5 exp(-d / 2 mm) from the gap between the cement and the nearest leak destination.
// 0.05 mL is of the order of the smallest leaks reported on CT (Yeom et al. 2003; assumption,
// confidence C); classes: low < 0.2 <= moderate < 0.6 <= high.
constexpr double kRiskVolumeMl = 0.05;
constexpr double kRiskGapMm = 2.0;
}  // namespace

Report::Risk leak_risk(double leak_volume_ml, double gap_mm, double threshold) {
  Report::Risk risk;
  const double vol_term = 1 - std::exp(-leak_volume_ml / kRiskVolumeMl);
  const double gap_term = std::isfinite(gap_mm) ? 0.5 * std::exp(-gap_mm / kRiskGapMm) : 0.0;
  risk.score = std::max(vol_term, gap_term);
  risk.cls = risk.score < 0.2 ? "low" : (risk.score < 0.6 ? "moderate" : "high");
  std::ostringstream basis;
  basis << "score = max(1 - exp(-V_leak / " << kRiskVolumeMl << " mL), 0.5 exp(-gap / "
        << kRiskGapMm << " mm)) with simulated leak volume V_leak = " << leak_volume_ml
        << " mL and gap = ";
  if (std::isfinite(gap_mm))
    basis << gap_mm << " mm";
  else
    basis << "none (no leak destination in the model)";
  basis << " between the cement (fraction >= " << threshold
        << ") and the nearest leak destination; classes low < 0.2 <= moderate < 0.6 <= high. "
           "A model-based index, not a calibrated clinical probability (clinical rates: "
           "PHYSICS.md §L5a).";
  risk.basis = basis.str();
  return risk;
}

}  // namespace cementflow::detail

#pragma once
// The leak-risk score of a run (SPEC.md §5 "leak_risk") and the text that states its basis.
// Host-only.

#include "cementflow/report.hpp"

namespace cementflow::detail {

/// Score from the simulated leak volume (mL) and the gap (mm, +infinity for none) between the
/// cement (fraction >= threshold) and the nearest leak destination; class and basis text.
Report::Risk leak_risk(double leak_volume_ml, double gap_mm, double threshold);

}  // namespace cementflow::detail

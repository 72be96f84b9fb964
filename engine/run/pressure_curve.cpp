// The pressure–volume curve as PNG (include/cementflow/pressure_curve.hpp), drawn with the
// engine's plotter (engine/plot.hpp): the timeline's injection pressure (syringe side: tip plus
// cannula) and tip pressure in kPa on a logarithmic axis, since the two differ by one to three
// orders of magnitude, against the injected volume; a vertical line per leak route at the volume
// injected when that route first leaked.

#include "cementflow/pressure_curve.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/io/plot.hpp"

namespace cementflow {

void write_pressure_curve_png(const Report& report, const std::string& path) {
  detail::PlotSeries inj, tip;
  inj.label = "injection pressure (syringe)";
  inj.color = {31, 119, 180};
  tip.label = "tip pressure";
  tip.color = {214, 39, 40};
  for (const auto& row : report.timeline) {
    if (row[2] > 0) inj.x.push_back(row[1]), inj.y.push_back(row[2] * 1e3);  // MPa -> kPa
    if (row[3] > 0) tip.x.push_back(row[1]), tip.y.push_back(row[3]);
  }
  std::vector<detail::PlotSeries> series;
  double lo = 0, hi = 0;
  for (const auto* s : {&inj, &tip})
    for (double y : s->y) {
      lo = lo > 0 ? std::min(lo, y) : y;
      hi = std::max(hi, y);
    }
  if (inj.x.empty() && tip.x.empty())
    throw InputError(path, "timeline", "no row with a positive pressure",
                     "a run that injected cement (report timeline)");
  if (!inj.x.empty()) series.push_back(inj);
  if (!tip.x.empty()) series.push_back(tip);
  const std::array<std::array<std::uint8_t, 3>, 6> colors{
      {{44, 160, 44}, {148, 103, 189}, {255, 127, 14}, {140, 86, 75}, {23, 190, 207}, {0, 0, 0}}};
  std::size_t k = 0;
  for (const Leak& l : report.leaks) {
    detail::PlotSeries onset;
    onset.label = "leak onset: " + l.route;
    onset.color = colors[k++ % colors.size()];
    onset.x = {l.first_injected_ml, l.first_injected_ml};
    onset.y = {lo, hi};
    series.push_back(onset);
  }
  detail::PlotSpec spec;
  spec.title = "pressure against injected volume: " + report.scene;
  spec.x_label = "injected volume (mL)";
  spec.y_label = "pressure (kPa, gauge)";
  spec.log_y = true;
  detail::write_plot_png(path, spec, series);
}

}  // namespace cementflow

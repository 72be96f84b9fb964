#pragma once
/// @file plot.hpp
/// @brief Small XY line/point plots written as PNG (host only, cementflow_io): axes with nice
///        ticks and numeric tick labels, axis labels, a title and a legend, drawn with an
///        embedded 5x7 bitmap font. Used by `fit-rheology` (data against fit) and the
///        pressure–volume curve.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cementflow::detail {

/// One data series: a polyline through (x[i], y[i]) in order, or markers when `points`.
struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  bool points = false;
  std::array<std::uint8_t, 3> color{0, 0, 0};
};

/// Figure settings. Sizes in pixels.
struct PlotSpec {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 800, height = 560;
};

/// Draws `series` on one pair of axes spanning all their data and writes the figure to `path` as
/// PNG. Text is ASCII plus the UTF-8 "·" and "°" (other characters are drawn as '?').
/// Throws InputError (file `path`) for: no series or no data points, x/y of different lengths,
/// a non-finite value, a value <= 0 on a logarithmic axis, a figure smaller than 200 x 150 or
/// larger than 8000 x 8000; and as write_png when the file cannot be written.
void write_plot_png(const std::string& path, const PlotSpec& spec,
                    const std::vector<PlotSeries>& series);

}  // namespace cementflow::detail

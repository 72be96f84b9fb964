#pragma once
/// @file pressure_curve.hpp
/// @brief The pressure–volume curve of a run as a picture (`run --render`): injection and tip
///        pressure against the injected volume, with the leak onsets marked by route — the plot
///        device makers compare with their bench tests.

#include <string>

#include "cementflow/report.hpp"

namespace cementflow {

/// Writes the report's timeline as a PNG plot to `path` (log pressure axis in kPa; rows with a
/// non-positive pressure are left out). Throws InputError when the report has no timeline with
/// a positive pressure or the file cannot be written.
void write_pressure_curve_png(const Report& report, const std::string& path);

}  // namespace cementflow

#pragma once
/// @file rheology_fit.hpp
/// @brief `cementflow fit-rheology`: nonlinear least-squares fit of a cement model to rheometer
///        data (SPEC.md §3a), with parameter uncertainties, goodness of fit, a plot and a
///        ready-to-paste cement JSON block.

#include <cstddef>
#include <string>
#include <vector>

#include "cementflow/rheology.hpp"

namespace cementflow {

/// Rheometer measurements (SPEC.md §3a): one entry per CSV row, SI units.
struct RheometerData {
  std::string file;
  std::vector<double> shear_rate_per_s, viscosity_pa_s;
  std::vector<double> time_s;         ///< since mixing; empty without a time_s column
  std::vector<double> temperature_c;  ///< empty without a temperature_c column
  std::vector<int> line;              ///< 1-based CSV line of each row
};

/// Reads a rheometer CSV: a header naming the columns (shear_rate_per_s and viscosity_pa_s
/// required; time_s, temperature_c optional; any order), then one row per measurement; `#`
/// starts a comment line, blank lines are skipped. Throws InputError naming the file, the line and
/// column, the cell and what was expected: a missing or unknown column, a row with the wrong
/// number of cells, a cell that is not a finite number, a rate or viscosity <= 0, a time < 0, a
/// temperature <= -273.15 °C, temperature_c without time_s, no rows.
RheometerData read_rheometer_csv(const std::string& path);
/// The same for CSV text; `file` names it in errors.
RheometerData parse_rheometer_csv(const std::string& text, const std::string& file);

/// Model name ("newtonian", ...) to model; InputError naming `file` and `key` otherwise.
RheologyModel rheology_model_from_name(const std::string& name, const std::string& file,
                                       const std::string& key);

/// One fitted parameter: its scene key, value and standard error (NaN when not identifiable).
struct FitParameter {
  std::string key;
  double value = 0;
  double std_error = 0;
};

/// Result of fit_rheology.
struct RheologyFit {
  Rheology rheology;  ///< the fitted cement (with an exponential curing when time_s was given)
  std::vector<FitParameter> parameters;
  std::size_t points = 0;
  double rms_log_residual = 0;    ///< sqrt(mean (ln mu_fit - ln mu_data)^2)
  double residual_std_error = 0;  ///< sqrt(SSR / (N - P)) in ln units
  double r_squared_log = 0;       ///< 1 - SSR / SST of ln mu
  double max_relative_error = 0;  ///< max |mu_fit / mu_data - 1|
  int iterations = 0;
  std::string status;  ///< Eigen LM status text
};

/// Fits `model` to the data by Levenberg–Marquardt (Eigen unsupported LevenbergMarquardt) on
/// the residuals ln mu_fit - ln mu_data (viscosity data span decades; a relative error model).
/// Positive parameters are fitted as logarithms, mu_inf and tau_y (>= 0) as squares; the
/// Papanastasiou regularization stays at its default. With a time_s column the law is multiplied
/// by e^((t_eq - t0)/tau) (curing "exponential", t0 = the earliest time in the data) and tau is
/// fitted; with temperature_c as well, t_eq is the Arrhenius-equivalent age at the reference
/// temperature (22 °C, or the data's temperature when all rows share one) and E is fitted when the
/// data hold two or more temperatures. Standard errors from s^2 (J^T J)^-1 at the optimum, mapped
/// to the natural parameters by the delta method. Throws InputError (file, "rows") when there are
/// not more rows than parameters, SimulationError when the fit does not converge.
RheologyFit fit_rheology(const RheometerData& data, RheologyModel model);

/// The fitted cement as a JSON object for a scene's "cement" key (SPEC.md §3).
std::string cement_json(const Rheology& r);

/// Writes fit.json (parameters, errors, goodness of fit), cement.json (cement_json) and fit.png
/// (data against the fit, log-log) into `dir`, created if needed.
void write_fit_outputs(const RheometerData& data, const RheologyFit& fit, const std::string& dir);

}  // namespace cementflow

// fit-rheology (include/cementflow/rheology_fit.hpp): CSV reading (SPEC.md §3a), the
// Levenberg–Marquardt fit (Eigen's unsupported LevenbergMarquardt module, central-difference
// Jacobian from its NumericalDiff), standard errors, and the outputs (fit.json, cement.json,
// fit.png). Host only (cementflow_io).

#include "cementflow/rheology_fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <unsupported/Eigen/LevenbergMarquardt>
#include <unsupported/Eigen/NumericalDiff>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/io/output_dir.hpp"
#include "engine/io/plot.hpp"

namespace cementflow {

namespace {

using json = nlohmann::ordered_json;

constexpr double kAbsoluteZeroC = -273.15;    // definition
constexpr double kGasConstant = 8.314462618;  // J/(mol K), CODATA 2018 exact

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

std::string where(int line, std::size_t col, const std::string& name) {
  return "line " + std::to_string(line) + ", column " + std::to_string(col + 1) +
         (name.empty() ? "" : " (" + name + ")");
}

}  // namespace

RheometerData parse_rheometer_csv(const std::string& text, const std::string& file) {
  static const std::vector<std::string> known{"shear_rate_per_s", "viscosity_pa_s", "time_s",
                                              "temperature_c"};
  std::string known_list;
  for (const auto& k : known) known_list += (known_list.empty() ? "" : ", ") + k;
  RheometerData d;
  d.file = file;
  std::vector<std::string> header;
  int col_of[4] = {-1, -1, -1, -1};
  std::istringstream in(text);
  std::string raw;
  int line_no = 0, header_line = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cells = split(line);
    if (header.empty()) {
      header = cells;
      header_line = line_no;
      for (std::size_t c = 0; c < header.size(); ++c) {
        const auto it = std::find(known.begin(), known.end(), header[c]);
        if (it == known.end())
          throw InputError(file, where(line_no, c, ""), header[c],
                           "a header naming the columns, each one of: " + known_list);
        const auto k = static_cast<std::size_t>(it - known.begin());
        if (col_of[k] >= 0)
          throw InputError(file, where(line_no, c, ""), header[c], "each column name once");
        col_of[k] = static_cast<int>(c);
      }
      for (std::size_t k = 0; k < 2; ++k)
        if (col_of[k] < 0)
          throw InputError(file, "line " + std::to_string(line_no) + " (header)", line,
                           "a column named " + known[k] + " (required, SPEC.md §3a)");
      if (col_of[3] >= 0 && col_of[2] < 0)
        throw InputError(file, where(line_no, static_cast<std::size_t>(col_of[3]), ""),
                         "temperature_c",
                         "a time_s column as well (the temperature shifts the cure with time)");
      continue;
    }
    if (cells.size() != header.size())
      throw InputError(file, "line " + std::to_string(line_no), line,
                       std::to_string(header.size()) +
                           " comma-separated cells (one per header "
                           "column), not " +
                           std::to_string(cells.size()));
    double v[4] = {0, 0, 0, 0};
    for (std::size_t k = 0; k < 4; ++k) {
      if (col_of[k] < 0) continue;
      const auto c = static_cast<std::size_t>(col_of[k]);
      const std::string& cell = cells[c];
      std::size_t used = 0;
      double x = std::numeric_limits<double>::quiet_NaN();
      try {
        x = std::stod(cell, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (cell.empty() || used != cell.size() || !std::isfinite(x))
        throw InputError(file, where(line_no, c, known[k]), cell.empty() ? "an empty cell" : cell,
                         "a finite number");
      const bool ok = k < 2 ? x > 0 : (k == 2 ? x >= 0 : x > kAbsoluteZeroC);
      if (!ok)
        throw InputError(file, where(line_no, c, known[k]), cell,
                         k == 0   ? "a shear rate > 0 (1/s)"
                         : k == 1 ? "a viscosity > 0 (Pa s)"
                         : k == 2 ? "a time since mixing >= 0 (s)"
                                  : "a temperature above absolute zero (°C)");
      v[k] = x;
    }
    d.shear_rate_per_s.push_back(v[0]);
    d.viscosity_pa_s.push_back(v[1]);
    if (col_of[2] >= 0) d.time_s.push_back(v[2]);
    if (col_of[3] >= 0) d.temperature_c.push_back(v[3]);
    d.line.push_back(line_no);
  }
  if (header.empty())
    throw InputError(file, "line 1", "no header",
                     "a header line such as shear_rate_per_s,viscosity_pa_s (SPEC.md §3a)");
  if (d.line.empty())
    throw InputError(file, "line " + std::to_string(header_line + 1), "no data rows",
                     "one row per measurement after the header");
  return d;
}

RheometerData read_rheometer_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "", "a readable CSV file (SPEC.md §3a)");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_rheometer_csv(s.str(), path);
}

RheologyModel rheology_model_from_name(const std::string& name, const std::string& file,
                                       const std::string& key) {
  for (RheologyModel m : {RheologyModel::Newtonian, RheologyModel::PowerLaw, RheologyModel::Cross,
                          RheologyModel::CarreauYasuda, RheologyModel::HerschelBulkley})
    if (name == model_name(m)) return m;
  throw InputError(file, key, name,
                   "one of: newtonian, power_law, cross, carreau_yasuda, herschel_bulkley");
}

namespace {

/// How one fitted coordinate maps to a model parameter.
enum class Map { Log, Square, Linear };

struct Param {
  std::string key;  ///< scene key of the natural parameter
  Map map;
  double* target;    ///< where the natural value goes in the work Rheology
  double scale = 1;  ///< natural value = scale * mapped(x) (kJ/mol -> J/mol)
};

double natural(Map m, double x) {
  switch (m) {
    case Map::Log:
      return std::exp(x);
    case Map::Square:
      return x * x;
    case Map::Linear:
      return x;
  }
  return x;
}
double derivative(Map m, double x) {  // d natural / d x
  switch (m) {
    case Map::Log:
      return std::exp(x);
    case Map::Square:
      return 2 * x;
    case Map::Linear:
      return 1;
  }
  return 1;
}
double to_coordinate(Map m, double v) {
  switch (m) {
    case Map::Log:
      return std::log(v);
    case Map::Square:
      return std::sqrt(std::max(v, 0.0));
    case Map::Linear:
      return v;
  }
  return v;
}

/// The model being fitted: a Rheology whose fitted fields are set from x.
struct Problem {
  const RheometerData* data = nullptr;
  Rheology work;
  std::vector<Param> params;
  bool use_time = false;
  double t0 = 0;

  void set(const Eigen::VectorXd& x) {
    for (std::size_t k = 0; k < params.size(); ++k)
      *params[k].target = params[k].scale * natural(params[k].map, x[static_cast<Eigen::Index>(k)]);
  }
  /// Model viscosity of row i with the current parameters.
  double model(std::size_t i) const {
    double f = 1;
    if (use_time) {
      const Curing& c = work.curing;
      double shift = 1;
      if (!data->temperature_c.empty())
        shift = std::exp(-c.activation_energy_j_mol / kGasConstant *
                         (1 / (data->temperature_c[i] - kAbsoluteZeroC) -
                          1 / (c.reference_temperature_c - kAbsoluteZeroC)));
      f = std::exp((shift * data->time_s[i] - t0) / c.time_constant_s);
    }
    return viscosity(shifted_rheology(work, f), data->shear_rate_per_s[i]);
  }
};

struct Residuals : Eigen::DenseFunctor<double> {
  Problem* pb;
  Residuals(Problem* p, int n_params, int n_rows) : DenseFunctor<double>(n_params, n_rows), pb(p) {}
  int operator()(const InputType& x, ValueType& r) const {
    pb->set(x);
    for (Eigen::Index i = 0; i < r.size(); ++i) {
      const double m = pb->model(static_cast<std::size_t>(i));
      const double v =
          std::log(m) - std::log(pb->data->viscosity_pa_s[static_cast<std::size_t>(i)]);
      r[i] = std::isfinite(v) ? v : 1e3;  // a model value out of range: a large residual
    }
    return 0;
  }
};

const char* status_text(Eigen::LevenbergMarquardtSpace::Status s) {
  using namespace Eigen::LevenbergMarquardtSpace;
  switch (s) {
    case RelativeReductionTooSmall:
      return "converged (relative reduction of the sum of squares below ftol)";
    case RelativeErrorTooSmall:
      return "converged (relative change of the parameters below xtol)";
    case RelativeErrorAndReductionTooSmall:
      return "converged (parameters and sum of squares)";
    case CosinusTooSmall:
      return "converged (residuals orthogonal to the Jacobian)";
    case TooManyFunctionEvaluation:
      return "stopped: too many function evaluations";
    case FtolTooSmall:
      return "converged (ftol too small: no further reduction possible)";
    case XtolTooSmall:
      return "converged (xtol too small: no further improvement possible)";
    case GtolTooSmall:
      return "converged (gtol too small)";
    default:
      return "failed (improper input parameters)";
  }
}

}  // namespace

RheologyFit fit_rheology(const RheometerData& data, RheologyModel model) {
  const std::size_t n = data.shear_rate_per_s.size();
  Problem pb;
  pb.data = &data;
  Rheology& r = pb.work;
  r.model = model;
  r.min_viscosity_pa_s = 1e-300;  // no clamps while fitting
  r.max_viscosity_pa_s = 1e300;
  pb.use_time = !data.time_s.empty();

  // Initial guess: linear least squares of ln mu = a + b ln(gdot) [+ c (t - t0)] (a power law,
  // exponential in time), which every model below starts from.
  if (pb.use_time) pb.t0 = *std::min_element(data.time_s.begin(), data.time_s.end());
  const int cols = pb.use_time ? 3 : 2;
  Eigen::MatrixXd A(static_cast<Eigen::Index>(n), cols);
  Eigen::VectorXd b(static_cast<Eigen::Index>(n));
  double ln_min = HUGE_VAL, ln_max = -HUGE_VAL;
  for (std::size_t i = 0; i < n; ++i) {
    const auto ii = static_cast<Eigen::Index>(i);
    A(ii, 0) = 1;
    A(ii, 1) = std::log(data.shear_rate_per_s[i]);
    if (pb.use_time) A(ii, 2) = data.time_s[i] - pb.t0;
    b[ii] = std::log(data.viscosity_pa_s[i]);
    ln_min = std::min(ln_min, b[ii]);
    ln_max = std::max(ln_max, b[ii]);
  }
  const Eigen::VectorXd lin = A.completeOrthogonalDecomposition().solve(b);
  const double slope = std::clamp(lin[1], -0.95, 0.5);  // n - 1 of the power-law guess
  const double k0 = std::exp(lin[0]);
  const double gmid = std::exp(A.col(1).mean());
  Eigen::VectorXd x0;
  auto add = [&](const std::string& key, Map m, double* target, double value, double scale = 1) {
    pb.params.push_back({key, m, target, scale});
    x0.conservativeResize(x0.size() + 1);
    x0[x0.size() - 1] = to_coordinate(m, value / scale);
  };
  switch (model) {
    case RheologyModel::Newtonian:
      add("viscosity_pa_s", Map::Log, &r.viscosity_pa_s, k0 * std::pow(gmid, slope));
      break;
    case RheologyModel::PowerLaw:
      add("consistency_pa_sn", Map::Log, &r.consistency_pa_sn, k0);
      add("flow_index", Map::Log, &r.flow_index, 1 + slope);
      break;
    case RheologyModel::Cross:
      add("zero_shear_viscosity_pa_s", Map::Log, &r.zero_shear_viscosity_pa_s,
          1.5 * std::exp(ln_max));
      add("infinite_shear_viscosity_pa_s", Map::Square, &r.infinite_shear_viscosity_pa_s,
          0.1 * std::exp(ln_min));
      add("time_constant_s", Map::Log, &r.time_constant_s, 1 / gmid);
      add("rate_index", Map::Log, &r.rate_index, std::max(0.2, -slope));
      break;
    case RheologyModel::CarreauYasuda:
      add("zero_shear_viscosity_pa_s", Map::Log, &r.zero_shear_viscosity_pa_s,
          1.5 * std::exp(ln_max));
      add("infinite_shear_viscosity_pa_s", Map::Square, &r.infinite_shear_viscosity_pa_s,
          0.1 * std::exp(ln_min));
      add("time_constant_s", Map::Log, &r.time_constant_s, 1 / gmid);
      add("flow_index", Map::Log, &r.flow_index, std::min(0.8, 1 + slope));
      add("yasuda_a", Map::Log, &r.yasuda_a, 2.0);
      break;
    case RheologyModel::HerschelBulkley:
      add("yield_stress_pa", Map::Square, &r.yield_stress_pa,
          0.1 * std::exp(ln_min) *
              *std::min_element(data.shear_rate_per_s.begin(), data.shear_rate_per_s.end()));
      add("consistency_pa_sn", Map::Log, &r.consistency_pa_sn, k0);
      add("flow_index", Map::Log, &r.flow_index, 1 + slope);
      break;
  }
  if (pb.use_time) {
    Curing& c = r.curing;
    c.model = CureModel::Exponential;
    c.reference_age_s = pb.t0;
    std::set<double> temps(data.temperature_c.begin(), data.temperature_c.end());
    if (temps.size() == 1) c.reference_temperature_c = *temps.begin();
    const double tau = lin[2] > 0 ? 1 / lin[2] : 1e6;
    add("curing.time_constant_s", Map::Log, &c.time_constant_s, tau);
    if (temps.size() >= 2)
      add("curing.activation_energy_kj_mol", Map::Linear, &c.activation_energy_j_mol,
          c.activation_energy_j_mol, 1e3);
  }
  const int p = static_cast<int>(pb.params.size());
  if (n <= static_cast<std::size_t>(p))
    throw InputError(data.file, "rows", std::to_string(n) + " data rows",
                     "more rows than the " + std::to_string(p) + " fitted parameters of " +
                         model_name(model) + (pb.use_time ? " with time dependence" : "") +
                         " (at least " + std::to_string(p + 1) + ")");

  Residuals f(&pb, p, static_cast<int>(n));
  Eigen::NumericalDiff<Residuals, Eigen::Central> nd(f);
  Eigen::LevenbergMarquardt<Eigen::NumericalDiff<Residuals, Eigen::Central>> lm(nd);
  lm.setMaxfev(4000 * (p + 1));
  lm.setXtol(1e-12);
  lm.setFtol(1e-14);
  Eigen::VectorXd x = x0;
  const auto status = lm.minimize(x);
  using namespace Eigen::LevenbergMarquardtSpace;
  if (status == ImproperInputParameters || status == TooManyFunctionEvaluation || !x.allFinite())
    throw SimulationError(std::string("fit-rheology: the ") + model_name(model) + " fit of " +
                          data.file + " did not converge: " + status_text(status));

  // Residuals, goodness of fit and the covariance at the optimum.
  Eigen::VectorXd res(static_cast<Eigen::Index>(n));
  f(x, res);
  Eigen::MatrixXd J(static_cast<Eigen::Index>(n), p);
  nd.df(x, J);
  const double ssr = res.squaredNorm();
  const double mean = b.mean();
  const double sst = (b.array() - mean).square().sum();
  RheologyFit out;
  out.points = n;
  out.rms_log_residual = std::sqrt(ssr / static_cast<double>(n));
  out.residual_std_error = std::sqrt(ssr / static_cast<double>(n - static_cast<std::size_t>(p)));
  out.r_squared_log = sst > 0 ? 1 - ssr / sst : 1.0;
  for (Eigen::Index i = 0; i < res.size(); ++i)
    out.max_relative_error = std::max(out.max_relative_error, std::abs(std::expm1(res[i])));
  out.iterations = static_cast<int>(lm.iterations());
  out.status = status_text(status);
  // (J^T J)^-1 by SVD; directions with singular values below 1e-10 of the largest are not
  // identified by the data: their parameters get NaN errors.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(J, Eigen::ComputeThinV);
  const Eigen::VectorXd sv = svd.singularValues();
  const double s2 = out.residual_std_error * out.residual_std_error;
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(p, p);
  std::vector<bool> identified(static_cast<std::size_t>(p), true);
  for (Eigen::Index k = 0; k < sv.size(); ++k) {
    const Eigen::VectorXd v = svd.matrixV().col(k);
    if (sv[k] > 1e-10 * sv[0]) {
      cov += v * v.transpose() / (sv[k] * sv[k]);
    } else {
      for (Eigen::Index j = 0; j < p; ++j)
        if (std::abs(v[j]) > 1e-3) identified[static_cast<std::size_t>(j)] = false;
    }
  }
  cov *= s2;
  pb.set(x);
  for (int k = 0; k < p; ++k) {
    const Param& q = pb.params[static_cast<std::size_t>(k)];
    const double value = q.scale * natural(q.map, x[k]);
    const double se = identified[static_cast<std::size_t>(k)]
                          ? std::abs(q.scale * derivative(q.map, x[k])) * std::sqrt(cov(k, k))
                          : std::numeric_limits<double>::quiet_NaN();
    out.parameters.push_back({q.key,
                              q.key == "curing.activation_energy_kj_mol" ? value / 1e3 : value,
                              q.key == "curing.activation_energy_kj_mol" ? se / 1e3 : se});
  }
  out.rheology = pb.work;
  const Rheology defaults;
  out.rheology.min_viscosity_pa_s = defaults.min_viscosity_pa_s;
  out.rheology.max_viscosity_pa_s = defaults.max_viscosity_pa_s;
  out.rheology.preset.clear();
  return out;
}

std::string cement_json(const Rheology& r) {
  json j;
  j["model"] = model_name(r.model);
  switch (r.model) {
    case RheologyModel::Newtonian:
      j["viscosity_pa_s"] = r.viscosity_pa_s;
      break;
    case RheologyModel::PowerLaw:
      j["consistency_pa_sn"] = r.consistency_pa_sn;
      j["flow_index"] = r.flow_index;
      break;
    case RheologyModel::Cross:
      j["zero_shear_viscosity_pa_s"] = r.zero_shear_viscosity_pa_s;
      j["infinite_shear_viscosity_pa_s"] = r.infinite_shear_viscosity_pa_s;
      j["time_constant_s"] = r.time_constant_s;
      j["rate_index"] = r.rate_index;
      break;
    case RheologyModel::CarreauYasuda:
      j["zero_shear_viscosity_pa_s"] = r.zero_shear_viscosity_pa_s;
      j["infinite_shear_viscosity_pa_s"] = r.infinite_shear_viscosity_pa_s;
      j["time_constant_s"] = r.time_constant_s;
      j["flow_index"] = r.flow_index;
      j["yasuda_a"] = r.yasuda_a;
      break;
    case RheologyModel::HerschelBulkley:
      j["yield_stress_pa"] = r.yield_stress_pa;
      j["consistency_pa_sn"] = r.consistency_pa_sn;
      j["flow_index"] = r.flow_index;
      j["regularization_s"] = r.regularization_s;
      break;
  }
  if (r.model != RheologyModel::Newtonian) {
    j["min_viscosity_pa_s"] = r.min_viscosity_pa_s;
    j["max_viscosity_pa_s"] = r.max_viscosity_pa_s;
  }
  const Curing& c = r.curing;
  if (c.model == CureModel::Exponential) {
    json k;
    k["model"] = "exponential";
    k["reference_age_s"] = c.reference_age_s;
    k["time_constant_s"] = c.time_constant_s;
    k["reference_temperature_c"] = c.reference_temperature_c;
    k["activation_energy_kj_mol"] = c.activation_energy_j_mol * 1e-3;
    j["curing"] = k;
  }
  return j.dump(2);
}

void write_fit_outputs(const RheometerData& data, const RheologyFit& fit, const std::string& dir) {
  namespace fs = std::filesystem;
  detail::make_output_dir(dir);
  auto write_text = [&](const std::string& name, const std::string& text) {
    detail::write_output_text(dir, name, text);
  };
  json j;
  j["data"] = data.file;
  j["model"] = model_name(fit.rheology.model);
  j["points"] = fit.points;
  json ps = json::array();
  for (const auto& q : fit.parameters) {
    json e;
    e["key"] = q.key;
    e["value"] = q.value;
    if (std::isfinite(q.std_error))
      e["std_error"] = q.std_error;
    else
      e["std_error"] = nullptr;
    ps.push_back(e);
  }
  j["parameters"] = ps;
  j["goodness_of_fit"] = {{"residuals", "ln(mu_fit) - ln(mu_data)"},
                          {"rms_log_residual", fit.rms_log_residual},
                          {"residual_std_error", fit.residual_std_error},
                          {"r_squared_log", fit.r_squared_log},
                          {"max_relative_error", fit.max_relative_error}};
  j["iterations"] = fit.iterations;
  j["status"] = fit.status;
  j["cement"] = json::parse(cement_json(fit.rheology));
  write_text("fit.json", j.dump(2) + "\n");
  write_text("cement.json", cement_json(fit.rheology) + "\n");

  // Plot: data as markers, the fit as lines; with time, one line per distinct (time, T).
  using detail::PlotSeries;
  std::vector<PlotSeries> series;
  PlotSeries pts;
  pts.label = "data";
  pts.points = true;
  pts.color = {200, 40, 40};
  pts.x = data.shear_rate_per_s;
  pts.y = data.viscosity_pa_s;
  series.push_back(pts);
  const double gmin = *std::min_element(data.shear_rate_per_s.begin(), data.shear_rate_per_s.end());
  const double gmax = *std::max_element(data.shear_rate_per_s.begin(), data.shear_rate_per_s.end());
  std::set<std::pair<double, double>> states;
  for (std::size_t i = 0; i < data.shear_rate_per_s.size(); ++i)
    states.insert({data.time_s.empty() ? 0.0 : data.time_s[i],
                   data.temperature_c.empty() ? fit.rheology.curing.reference_temperature_c
                                              : data.temperature_c[i]});
  const std::array<std::uint8_t, 3> palette[] = {
      {20, 60, 200}, {20, 140, 60}, {160, 90, 10}, {120, 30, 160}, {0, 130, 140}};
  std::size_t k = 0;
  for (const auto& st : states) {
    if (k >= 12) break;  // a legend of at most 12 curves
    PlotSeries line;
    line.color = palette[k % 5];
    std::ostringstream lab;
    lab << model_name(fit.rheology.model) << " fit";
    if (!data.time_s.empty()) lab << ", t = " << st.first << " s";
    if (!data.temperature_c.empty()) lab << ", " << st.second << " °C";
    line.label = lab.str();
    const double lo = gmin == gmax ? gmin / 2 : gmin, hi = gmin == gmax ? gmax * 2 : gmax;
    for (int s = 0; s <= 100; ++s) {
      const double g = lo * std::pow(hi / lo, s / 100.0);
      const double mu = data.time_s.empty()
                            ? viscosity(fit.rheology, g)
                            : viscosity_at_age(fit.rheology, g, st.first, st.second);
      if (!(mu > 0) || !std::isfinite(mu)) continue;
      line.x.push_back(g);
      line.y.push_back(mu);
    }
    if (!line.x.empty()) series.push_back(line);
    ++k;
  }
  detail::PlotSpec spec;
  spec.title = std::string("fit-rheology: ") + model_name(fit.rheology.model);
  spec.x_label = "shear rate (1/s)";
  spec.y_label = "viscosity (Pa·s)";
  spec.log_x = spec.log_y = true;
  detail::write_plot_png((fs::path(dir) / "fit.png").string(), spec, series);
}

}  // namespace cementflow

// Cement rheology on the host (SPEC.md §3, PHYSICS.md §L1, §L4). The formulas live once, in
// kernels/rheology_kernels.hpp; the host functions below call them (STYLE.md habit 8: the host
// twin is the serial reference of the device code).

#include "cementflow/rheology.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/rheology_params.hpp"
#include "kernels/rheology_kernels.hpp"

namespace cementflow {

namespace detail {

kernels::RheologyParams to_params(const Rheology& r) {
  kernels::RheologyParams p;
  switch (r.model) {
    case RheologyModel::Newtonian:
      p.model = kernels::RheologyParams::newtonian;
      break;
    case RheologyModel::PowerLaw:
      p.model = kernels::RheologyParams::power_law;
      break;
    case RheologyModel::Cross:
      p.model = kernels::RheologyParams::cross;
      break;
    case RheologyModel::CarreauYasuda:
      p.model = kernels::RheologyParams::carreau_yasuda;
      break;
    case RheologyModel::HerschelBulkley:
      p.model = kernels::RheologyParams::herschel_bulkley;
      break;
  }
  p.viscosity = r.viscosity_pa_s;
  p.consistency = r.consistency_pa_sn;
  p.flow_index = r.flow_index;
  p.mu0 = r.zero_shear_viscosity_pa_s;
  p.mu_inf = r.infinite_shear_viscosity_pa_s;
  p.lambda = r.time_constant_s;
  p.rate_index = r.rate_index;
  p.yasuda_a = r.yasuda_a;
  p.yield_stress = r.yield_stress_pa;
  p.regularization = r.regularization_s;
  p.min_viscosity = r.min_viscosity_pa_s;
  p.max_viscosity = r.max_viscosity_pa_s;
  return p;
}

}  // namespace detail

const char* model_name(RheologyModel m) {
  switch (m) {
    case RheologyModel::Newtonian:
      return "newtonian";
    case RheologyModel::PowerLaw:
      return "power_law";
    case RheologyModel::Cross:
      return "cross";
    case RheologyModel::CarreauYasuda:
      return "carreau_yasuda";
    case RheologyModel::HerschelBulkley:
      return "herschel_bulkley";
  }
  return "unknown";
}

double viscosity(const Rheology& r, double gamma_dot) {
  return kernels::viscosity(detail::to_params(r), gamma_dot);
}

double porous_viscosity(const Rheology& r, double u_m_s, double k, double phi) {
  return kernels::porous_viscosity(detail::to_params(r), u_m_s, k, phi);
}

namespace {

std::string number(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

/// Throws unless `v` is finite and passes `ok`.
template <class Ok>
void check(const std::string& file, const char* key, double v, Ok ok, const char* expected) {
  if (!std::isfinite(v) || !ok(v))
    throw InputError(file, std::string("cement.") + key, number(v), expected);
}

const auto positive = [](double v) { return v > 0; };
const auto non_negative = [](double v) { return v >= 0; };

}  // namespace

void validate_rheology(const Rheology& r, const std::string& file) {
  switch (r.model) {
    case RheologyModel::Newtonian:
      check(file, "viscosity_pa_s", r.viscosity_pa_s, positive, "a viscosity > 0 (Pa s)");
      break;
    case RheologyModel::PowerLaw:
      check(file, "consistency_pa_sn", r.consistency_pa_sn, positive, "a consistency > 0 (Pa s^n)");
      check(file, "flow_index", r.flow_index, positive, "a flow index n > 0");
      break;
    case RheologyModel::Cross:
    case RheologyModel::CarreauYasuda:
      check(file, "zero_shear_viscosity_pa_s", r.zero_shear_viscosity_pa_s, positive,
            "a viscosity > 0 (Pa s)");
      check(file, "infinite_shear_viscosity_pa_s", r.infinite_shear_viscosity_pa_s, non_negative,
            "a viscosity >= 0 (Pa s)");
      check(file, "time_constant_s", r.time_constant_s, non_negative, "a time constant >= 0 (s)");
      if (r.model == RheologyModel::Cross) {
        check(file, "rate_index", r.rate_index, positive, "a rate index m > 0");
      } else {
        check(file, "flow_index", r.flow_index, positive, "a flow index n > 0");
        check(file, "yasuda_a", r.yasuda_a, positive, "a Yasuda exponent a > 0");
      }
      break;
    case RheologyModel::HerschelBulkley:
      check(file, "yield_stress_pa", r.yield_stress_pa, non_negative, "a yield stress >= 0 (Pa)");
      check(file, "consistency_pa_sn", r.consistency_pa_sn, positive, "a consistency > 0 (Pa s^n)");
      check(file, "flow_index", r.flow_index, positive, "a flow index n > 0");
      check(file, "regularization_s", r.regularization_s, positive,
            "a Papanastasiou regularization m > 0 (s)");
      break;
  }
  check(file, "min_viscosity_pa_s", r.min_viscosity_pa_s, positive, "a viscosity > 0 (Pa s)");
  const double lo = r.min_viscosity_pa_s;
  check(
      file, "max_viscosity_pa_s", r.max_viscosity_pa_s, [lo](double v) { return v > lo; },
      "a viscosity above min_viscosity_pa_s (Pa s)");
}

// --- presets ------------------------------------------------------------------------------------
//
// Generic cements only (no brand data). Each power-law K is derived from a cited apparent
// viscosity mu_ref at the reference shear rate gamma_ref = 1 1/s, the middle (in log) of the
// intertrabecular range 0.1–10 1/s of PHYSICS.md §L1c: K = mu_ref gamma_ref^(1-n) = mu_ref.
//
// Clamps shared by all presets:
//  - max 7.5e4 Pa s: the cured plateau of Nicholas et al. 2007 (PHYSICS.md §L1a, A; §L1c).
//  - min 0.1 Pa s: 2.5x the marrow viscosity 0.04 Pa s (PHYSICS.md §L7, Bryant 1989, A), so the
//    cement never becomes less viscous than the fluid it displaces (the mobility ratio cannot
//    invert through a numerical excursion of the shear rate). It is never reached physically: the
//    least viscous preset (LV, K = 30 Pa s^0.6) gets there only at (30/0.1)^(1/0.4) = 1.6e6 1/s,
//    five decades above the cannula wall rate (~40 1/s, PHYSICS.md §M3/§L1c).

namespace {

constexpr double kMinPresetViscosity = 0.1;    // Pa s, 2.5 x marrow (PHYSICS.md §L7), see above
constexpr double kMaxPresetViscosity = 7.5e4;  // Pa s, Nicholas 2007 (PHYSICS.md §L1a, A)

Rheology power_law(double k_pa_sn, double n, const char* name) {
  Rheology r;
  r.model = RheologyModel::PowerLaw;
  r.consistency_pa_sn = k_pa_sn;
  r.flow_index = n;
  r.min_viscosity_pa_s = kMinPresetViscosity;
  r.max_viscosity_pa_s = kMaxPresetViscosity;
  r.preset = name;
  return r;
}

std::vector<CementPreset> make_presets() {
  std::vector<CementPreset> v;
  v.push_back({"generic_vertebroplasty",
               "Generic vertebroplasty PMMA, shear-thinning power law (engine default)",
               "Confidence C. K = 300 Pa s^n, n = 0.5: PHYSICS.md §L7 illustrative default "
               "(confidence C), within "
               "the §L1b ranges n 0.2-0.8 and K 1e2-1e4 Pa s^n (Farrar & Rose 2001; Dunne & Orr "
               "1998; Lewis 2006; C). Apparent viscosity 300 Pa s at the reference pore shear rate "
               "1 1/s, ~44 Pa s at the 11G wall rate ~47 1/s. Clamps [0.1, 7.5e4] Pa s: 2.5 x "
               "marrow (§L7, Bryant 1989, A) and the cured plateau (Nicholas 2007, §L1a, A).",
               power_law(300.0, 0.5, "generic_vertebroplasty")});
  v.push_back(
      {"generic_low_viscosity",
       "Generic low-viscosity (LV) vertebroplasty cement early in its working window",
       "Confidence C. 30 Pa s at the reference pore shear rate 1 1/s, mid-range of the LV apparent "
       "viscosity ~10-50 Pa s at 2-4 min (PHYSICS.md §L1b; Lewis 2006/2011 reviews, Baroud "
       "et al. 2006; C), so K = 30 Pa s^n; n = 0.6, upper half of the §L1b range 0.2-0.8 "
       "because n decreases as cure proceeds and LV cements are injected early (C). Clamps "
       "[0.1, 7.5e4] Pa s (§L7 marrow x 2.5; Nicholas 2007, §L1a, A).",
       power_law(30.0, 0.6, "generic_low_viscosity")});
  v.push_back(
      {"generic_high_viscosity",
       "Generic high-viscosity (HV) vertebroplasty cement in its working window",
       "Confidence C. 1000 Pa s at the reference pore shear rate 1 1/s: HV cements reach >= "
       "1e2-3e2 Pa s "
       "within 1-3 min and ~1e3 Pa s or more later (PHYSICS.md §L1b; Lewis 2006/2011, "
       "manufacturer IFUs; C); they are injected after that dough phase, so the preset takes "
       "1e3 Pa s, K = 1000 Pa s^n; n = 0.4, lower half of §L1b 0.2-0.8 (doughier, more "
       "shear-thinning; C). Clamps [0.1, 7.5e4] Pa s (§L7 marrow x 2.5; Nicholas 2007, §L1a, "
       "A).",
       power_law(1000.0, 0.4, "generic_high_viscosity")});
  {
    Rheology r;
    r.model = RheologyModel::Newtonian;
    r.viscosity_pa_s = 100.0;
    r.min_viscosity_pa_s = kMinPresetViscosity;
    r.max_viscosity_pa_s = kMaxPresetViscosity;
    r.preset = "newtonian_100";
    v.push_back({"newtonian_100", "Newtonian 100 Pa s cement (verification and comparison runs)",
                 "Confidence A. 100 Pa s: regular vertebroplasty PMMA 100-125 Pa s (Boger et al., "
                 "JBMR-B 2008;86:474, "
                 "doi:10.1002/jbm.b.31044; PHYSICS.md §L1a/§L7; confidence A), lower end.",
                 r});
  }
  v.push_back(
      {"generic_kyphoplasty_dough",
       "Generic doughy high-viscosity cement for the low-pressure kyphoplasty cavity fill",
       "Confidence C. 3000 Pa s at the reference pore shear rate 1 1/s: kyphoplasty fills the "
       "cavity with "
       "doughy high-viscosity cement (PHYSICS.md §L6, A qualitative); late/HV consistency "
       "reaches 1e3-1e4 Pa s^n (§L1b, C), geometric middle ~3e3, so K = 3000 Pa s^n; n = 0.3, "
       "low end of §L1b 0.2-0.8 for a late, doughy cement (C). Clamps [0.1, 7.5e4] Pa s (§L7 "
       "marrow x 2.5; Nicholas 2007, §L1a, A).",
       power_law(3000.0, 0.3, "generic_kyphoplasty_dough")});
  return v;
}

}  // namespace

const std::vector<CementPreset>& presets() {
  static const std::vector<CementPreset> all = make_presets();
  return all;
}

const CementPreset& find_preset(const std::string& name, const std::string& file) {
  std::string names;
  for (const auto& p : presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw InputError(file, "cement.preset", name, "one of: " + names);
}

}  // namespace cementflow

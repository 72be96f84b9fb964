// Cement rheology on the host (SPEC.md §3, PHYSICS.md §L1, §L4). The formulas live once, in
// kernels/rheology_kernels.hpp; the host functions below call them (STYLE.md habit 8: the host
// twin is the serial reference of the device code).

#include "cementflow/rheology.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/solve/rheology_params.hpp"
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

kernels::RheologyParams shifted_params(const kernels::RheologyParams& p, double factor) {
  kernels::RheologyParams s = p;
  const double f = std::isfinite(factor) ? factor : kernels::kGelledFactor;
  s.viscosity *= f;
  s.consistency *= f;
  s.mu0 *= f;
  s.mu_inf *= f;
  s.yield_stress *= f;
  return s;
}

kernels::CureParams to_cure_params(const Curing& c) {
  kernels::CureParams p;
  switch (c.model) {
    case CureModel::None:
      p.model = kernels::CureParams::none;
      break;
    case CureModel::Exponential:
      p.model = kernels::CureParams::exponential;
      break;
    case CureModel::KamalSourour:
      p.model = kernels::CureParams::kamal_sourour;
      break;
  }
  p.t_ref = kelvin(c.reference_temperature_c);
  p.e_over_r = c.activation_energy_j_mol / kernels::kGasConstant;
  p.e_eta_over_r = c.viscosity_activation_energy_j_mol / kernels::kGasConstant;
  p.t0 = c.reference_age_s;
  p.tau = c.time_constant_s;
  p.k1 = c.k1_per_s;
  p.k2 = c.k2_per_s;
  p.m = c.kamal_m;
  p.p = c.kamal_p;
  p.alpha_g = c.gel_degree;
  p.a = c.castro_a;
  p.b = c.castro_b;
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

const char* cure_model_name(CureModel m) {
  switch (m) {
    case CureModel::None:
      return "none";
    case CureModel::Exponential:
      return "exponential";
    case CureModel::KamalSourour:
      return "kamal_sourour";
  }
  return "unknown";
}

double initial_cure_state(const Curing& c) {
  return c.model == CureModel::KamalSourour ? c.initial_degree : 0.0;
}

double advance_cure(const Curing& c, double state, double temperature_c, double dt_s) {
  return kernels::advance_cure(detail::to_cure_params(c), state, detail::kelvin(temperature_c),
                               dt_s);
}

double cure_viscosity_factor(const Curing& c, double state, double temperature_c) {
  const double f =
      kernels::cure_factor(detail::to_cure_params(c), state, detail::kelvin(temperature_c));
  return f >= kernels::kGelledFactor ? std::numeric_limits<double>::infinity() : f;
}

Rheology shifted_rheology(const Rheology& r, double factor) {
  Rheology s = r;
  const double f = std::isfinite(factor) ? factor : kernels::kGelledFactor;
  s.viscosity_pa_s *= f;
  s.consistency_pa_sn *= f;
  s.zero_shear_viscosity_pa_s *= f;
  s.infinite_shear_viscosity_pa_s *= f;
  s.yield_stress_pa *= f;
  return s;
}

double viscosity_at_age(const Rheology& r, double gamma_dot, double age_since_mixing_s,
                        double temperature_c) {
  const double state =
      advance_cure(r.curing, initial_cure_state(r.curing), temperature_c, age_since_mixing_s);
  return viscosity(shifted_rheology(r, cure_viscosity_factor(r.curing, state, temperature_c)),
                   gamma_dot);
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
      {
        // The law falls from mu_0 to mu_inf: mu_inf above mu_0 is shear thickening, which these
        // laws do not describe (issue 17: fit-rheology wrote such a cement, `run` refused it).
        const double mu0 = r.zero_shear_viscosity_pa_s;
        check(
            file, "infinite_shear_viscosity_pa_s", r.infinite_shear_viscosity_pa_s,
            [mu0](double v) { return v < mu0; },
            "an infinite-shear viscosity below zero_shear_viscosity_pa_s (Pa s)");
      }
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
  validate_curing(r.curing, file);
}

void validate_curing(const Curing& c, const std::string& file) {
  if (c.model == CureModel::None) return;
  const auto key = [](const char* k) { return std::string("curing.") + k; };
  const auto celsius = [](double v) { return v > -kernels::kZeroCelsiusK; };
  check(file, key("room_temperature_c").c_str(), c.room_temperature_c, celsius,
        "a temperature above absolute zero (°C)");
  check(file, key("body_temperature_c").c_str(), c.body_temperature_c, celsius,
        "a temperature above absolute zero (°C)");
  check(file, key("reference_temperature_c").c_str(), c.reference_temperature_c, celsius,
        "a temperature above absolute zero (°C)");
  check(file, key("activation_energy_kj_mol").c_str(), c.activation_energy_j_mol * 1e-3,
        non_negative, "an activation energy >= 0 (kJ/mol)");
  check(file, key("viscosity_activation_energy_kj_mol").c_str(),
        c.viscosity_activation_energy_j_mol * 1e-3, non_negative,
        "an activation energy >= 0 (kJ/mol)");
  if (c.model == CureModel::Exponential) {
    // A day bounds any PMMA cement's working life (setting takes minutes, PHYSICS.md §L1b); larger
    // ages underflowed K0 = K e^(-t0/tau) to 0 and were reported as a zero consistency.
    check(
        file, key("reference_age_s").c_str(), c.reference_age_s,
        [](double v) { return v >= 0 && v <= 86400; }, "an age since mixing from 0 to 86400 s");
    check(file, key("time_constant_s").c_str(), c.time_constant_s, positive,
          "an e-folding time > 0 (s)");
    return;
  }
  check(file, key("k1_per_s").c_str(), c.k1_per_s, non_negative, "a rate constant >= 0 (1/s)");
  check(file, key("k2_per_s").c_str(), c.k2_per_s, non_negative, "a rate constant >= 0 (1/s)");
  check(file, key("m").c_str(), c.kamal_m, positive, "an exponent m > 0");
  check(file, key("p").c_str(), c.kamal_p, positive, "an exponent p > 0");
  check(
      file, key("gel_degree").c_str(), c.gel_degree, [](double v) { return v > 0 && v < 1; },
      "a gel cure degree alpha_g in (0, 1)");
  const double ag = c.gel_degree;
  check(
      file, key("initial_degree").c_str(), c.initial_degree,
      [ag](double v) { return v >= 0 && v < ag; }, "a cure degree in [0, gel_degree)");
  check(file, key("castro_a").c_str(), c.castro_a, non_negative, "an exponent A >= 0");
  check(file, key("castro_b").c_str(), c.castro_b, non_negative, "an exponent B >= 0");
  if (!(c.k1_per_s > 0) && !(c.initial_degree > 0 && c.k2_per_s > 0))
    throw InputError(file, "cement.curing.k1_per_s", number(c.k1_per_s),
                     "k1_per_s > 0, or initial_degree > 0 with k2_per_s > 0 (else the cure never "
                     "starts)");
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

// Exponential cure shared by the vertebroplasty and kyphoplasty presets (PHYSICS.md §L1b/§L1c,
// confidence C): tau = 150 s, the geometric middle of the 1.5–4 min (90–240 s) e-folding time
// at 20–23 °C (Krause, Miller & Ng 1982; Farrar & Rose 2001), reference temperature 22 °C; the
// Arrhenius shift of the cure with E = 44.4 kJ/mol (2x faster at 37 °C than at 25 °C, Nicholas
// 2007, §L1a A, §L1b derived). Each preset's K holds at its own reference age t0.
constexpr double kPresetTauS = 150.0;

Curing exponential_cure(double t0_s) {
  Curing c;
  c.model = CureModel::Exponential;
  c.reference_age_s = t0_s;
  c.time_constant_s = kPresetTauS;
  return c;
}

Rheology power_law(double k_pa_sn, double n, const char* name, double t0_s) {
  Rheology r;
  r.curing = exponential_cure(t0_s);
  r.model = RheologyModel::PowerLaw;
  r.consistency_pa_sn = k_pa_sn;
  r.flow_index = n;
  r.min_viscosity_pa_s = kMinPresetViscosity;
  r.max_viscosity_pa_s = kMaxPresetViscosity;
  r.preset = name;
  return r;
}

// Herschel–Bulkley presets (issue 15, docs/PHYSICS-LEAKS.md §P): the K, n and cure of the
// generic power-law class plus a yield stress tau_y. No published yield stress of a named
// vertebroplasty PMMA was found (searched: rheometry reviews Lewis 2011, Trivedi 2023/2024,
// Nicholas 2007, Farrar & Rose 2001 abstracts), so tau_y is derived from how the cements are
// handled (confidence C, derived): a paste holds a bolus of height H on the spatula when
// tau_y >~ rho g H / 2 (slump criterion of a Bingham paste, Pashias et al., J Rheol 1996;40:1179),
// rho ~ 1.4 g/cm^3 (PMMA with 10-30 % radiopacifier; C): an HV "dough" that stands as a 3 cm bolus
// has tau_y >= 200 Pa, a medium paste that stands as 1.5 cm ~ 100 Pa, and an LV cement that runs
// off the spatula like honey (H < 5 mm) < 35 Pa, taken as 0.
Rheology herschel_bulkley(double tau_y_pa, double k_pa_sn, double n, const char* name,
                          double t0_s) {
  Rheology r = power_law(k_pa_sn, n, name, t0_s);
  r.model = RheologyModel::HerschelBulkley;
  r.yield_stress_pa = tau_y_pa;
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
               power_law(300.0, 0.5, "generic_vertebroplasty", 300.0)});
  v.push_back(
      {"generic_low_viscosity",
       "Generic low-viscosity (LV) vertebroplasty cement early in its working window",
       "Confidence C. 30 Pa s at the reference pore shear rate 1 1/s, mid-range of the LV apparent "
       "viscosity ~10-50 Pa s at 2-4 min (PHYSICS.md §L1b; Lewis 2006/2011 reviews, Baroud "
       "et al. 2006; C), so K = 30 Pa s^n; n = 0.6, upper half of the §L1b range 0.2-0.8 "
       "because n decreases as cure proceeds and LV cements are injected early (C). Clamps "
       "[0.1, 7.5e4] Pa s (§L7 marrow x 2.5; Nicholas 2007, §L1a, A). K holds at 180 s after "
       "mixing (the middle of 2-4 min); with tau = 150 s it reaches 30 e^(420/150) = 490 Pa s "
       "at 10 min, inside the §L1b 1e2-1e3 Pa s by 8-12 min.",
       power_law(30.0, 0.6, "generic_low_viscosity", 180.0)});
  v.push_back(
      {"generic_high_viscosity",
       "Generic high-viscosity (HV) vertebroplasty cement in its working window",
       "Confidence C. 1000 Pa s at the reference pore shear rate 1 1/s: HV cements reach >= "
       "1e2-3e2 Pa s "
       "within 1-3 min and ~1e3 Pa s or more later (PHYSICS.md §L1b; Lewis 2006/2011, "
       "manufacturer IFUs; C); they are injected after that dough phase, so the preset takes "
       "1e3 Pa s, K = 1000 Pa s^n; n = 0.4, lower half of §L1b 0.2-0.8 (doughier, more "
       "shear-thinning; C). Clamps [0.1, 7.5e4] Pa s (§L7 marrow x 2.5; Nicholas 2007, §L1a, "
       "A). K holds at 300 s after mixing; with tau = 150 s it is 1000 e^(-180/150) = 300 Pa s at "
       "2 min, consistent with the §L1b >= 1e2-3e2 Pa s within 1-3 min.",
       power_law(1000.0, 0.4, "generic_high_viscosity", 300.0)});
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
       power_law(3000.0, 0.3, "generic_kyphoplasty_dough", 300.0)});
  v.push_back({"lv_liquid",
               "Low-viscosity class with the yield-stress model: a liquid (tau_y = 0) at "
               "injection",
               "Confidence C. K = 30 Pa s^n, n = 0.6, t0 = 180 s as generic_low_viscosity "
               "(PHYSICS.md §L1b, C); tau_y = 0: LV cements (e.g. Vertebroplastic, Osteopal V LV, "
               "Simplex P) are "
               "injected as a liquid that runs off the spatula (tau_y < rho g H / 2 ~ 35 Pa for "
               "H < 5 mm; derived, C). Leak gateways do not hold it (docs/PHYSICS-LEAKS.md §G).",
               herschel_bulkley(0.0, 30.0, 0.6, "lv_liquid", 180.0)});
  v.push_back({"mv_paste", "Medium-viscosity class with the yield-stress model: a soft paste",
               "Confidence C. K = 300 Pa s^n, n = 0.5, t0 = 300 s as generic_vertebroplasty "
               "(PHYSICS.md §L7, C); tau_y = 100 Pa: a paste that stands as a ~1.5 cm bolus "
               "(rho g H / 2 with rho 1.4 g/cm^3; derived, C).",
               herschel_bulkley(100.0, 300.0, 0.5, "mv_paste", 300.0)});
  v.push_back(
      {"hv_dough",
       "High-viscosity class with the yield-stress model: a dough (e.g. Confidence, "
       "Vertecem V+, Kyphon HV-R are handled as a dough)",
       "Confidence C. K = 1000 Pa s^n, n = 0.4, t0 = 300 s as generic_high_viscosity "
       "(PHYSICS.md §L1b, C); tau_y = 300 Pa: a dough that stands as a 3 cm bolus has tau_y >= "
       "rho g H / 2 = 200 Pa (rho 1.4 g/cm^3; derived, C), taken 1.5x that bound. "
       "Leak gateways hold it below 2 tau_y L / a (docs/PHYSICS-LEAKS.md §G).",
       herschel_bulkley(300.0, 1000.0, 0.4, "hv_dough", 300.0)});
  for (auto& p : v) {
    const Curing& c = p.rheology.curing;
    if (c.model != CureModel::Exponential) continue;
    std::ostringstream o;
    o << " Cure (C): exponential K(t) = K0 e^((t - t0)/tau), t0 = " << c.reference_age_s
      << " s after mixing, tau = " << c.time_constant_s
      << " s at 22 °C (§L1b: 1.5-4 min at 20-23 °C, Krause 1982, Farrar & Rose 2001; C), "
         "Arrhenius-shifted age with E = 44.4 kJ/mol (2x faster cure at 37 °C than at 25 °C, "
         "Nicholas 2007, §L1a A, §L1b derived); syringe 22 °C, bone 37 °C (§L7).";
    p.source += o.str();
  }
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

#pragma once
/// @file rheology.hpp
/// @brief Cement rheology on the host: generalized-Newtonian models with viscosity bounds
///        (SPEC.md §3, PHYSICS.md §L1, §L4). The device twins live in kernels/rheology_kernels.hpp.

#include <string>
#include <vector>

namespace cementflow {

/// Constitutive model of the cement.
enum class RheologyModel { Newtonian, PowerLaw, Cross, CarreauYasuda, HerschelBulkley };

/// Time dependence of the cement viscosity (PHYSICS.md §L1c).
enum class CureModel {
  None,         ///< the viscosity law does not change with time
  Exponential,  ///< K(t) = K0 e^((t_eq - t0)/tau), t_eq the Arrhenius-equivalent age
  KamalSourour  ///< transported cure degree alpha, Castro–Macosko divergence at alpha_g
};

/// Cure settings of a cement (scene key `cement.curing`, SPEC.md §3). Temperatures in °C; the
/// engine converts to kelvin. The cure state of a parcel of cement is its Arrhenius-equivalent
/// age at the reference temperature (Exponential) or its cure degree alpha (KamalSourour); the
/// cement ages at `room_temperature_c` in the syringe and cannula from mixing until it leaves the
/// needle, then at `body_temperature_c` in the bone.
struct Curing {
  CureModel model = CureModel::None;
  /// Syringe and cannula: 22 °C, PHYSICS.md §L7 table ("22 °C syringe"; §L1b: 20–23 °C).
  double room_temperature_c = 22.0;
  double body_temperature_c = 37.0;  ///< bone (PHYSICS.md §L7 table)
  /// Temperature at which the model parameters and the rates below are given: 22 °C, the
  /// temperature of the §L1b viscosity–time data (20–23 °C, Krause 1982; Lewis 2006; C).
  double reference_temperature_c = 22.0;
  /// Apparent activation energy of the cure (J/mol): E = R ln2 / (1/298.15 K - 1/310.15 K)
  /// = 44.4 kJ/mol, cure 2x faster at 37 °C than at 25 °C (Nicholas et al. 2007, PHYSICS.md
  /// §L1a A, §L1b "derived").
  double activation_energy_j_mol = 44.4e3;
  /// Arrhenius temperature shift of the viscosity itself, exp[E_eta/R (1/T - 1/T_ref)]
  /// (PHYSICS.md §L1c). 0 (off) by default: PHYSICS.md gives no value for PMMA.
  double viscosity_activation_energy_j_mol = 0.0;
  // Exponential: K(t) = K0 e^((t - t0)/tau) (PHYSICS.md §L1c "simplest useful default").
  double reference_age_s = 300.0;  ///< t0: age since mixing at which the law's parameters hold
  double time_constant_s = 150.0;  ///< tau (§L1b: 1.5–4 min at 20–23 °C, C)
  // Kamal–Sourour: d alpha/dt = (k1 + k2 alpha^m)(1 - alpha)^p, k_i Arrhenius in T (§L1c, B);
  // Castro–Macosko: eta/eta_0 = (alpha_g/(alpha_g - alpha))^(A + B alpha) (§L1c, §M6).
  double k1_per_s = 0.0;
  double k2_per_s = 0.0;
  double kamal_m = 1.0;
  double kamal_p = 1.0;
  double initial_degree = 0.0;  ///< alpha at mixing
  double gel_degree = 0.8;      ///< alpha_g in (0, 1)
  double castro_a = 1.5;
  double castro_b = 1.0;
};

/// Parameters of a cement model, SI units. Unused fields keep their defaults.
struct Rheology {
  RheologyModel model = RheologyModel::Newtonian;
  double viscosity_pa_s = 100.0;         ///< Newtonian viscosity (Boger 2008: 100–125 Pa·s)
  double consistency_pa_sn = 300.0;      ///< K of the power law / Herschel–Bulkley
  double flow_index = 0.5;               ///< n
  double zero_shear_viscosity_pa_s = 0;  ///< Cross, Carreau–Yasuda
  double infinite_shear_viscosity_pa_s = 0;
  double time_constant_s = 0;  ///< λ of Cross, Carreau–Yasuda
  double rate_index = 0;       ///< m of Cross
  double yasuda_a = 2;         ///< a of Carreau–Yasuda
  double yield_stress_pa = 0;  ///< τ_y of Herschel–Bulkley
  double regularization_s =
      100;  ///< Papanastasiou m (s): e^(-m*0.1/s) ~ 5e-5 at the slowest pore shear
  double min_viscosity_pa_s = 1e-3;  ///< lower clamp
  double max_viscosity_pa_s =
      7.5e4;           ///< upper clamp: cured plateau (Nicholas et al. 2007, PHYSICS.md §L1a)
  std::string preset;  ///< preset name when it came from one
  Curing curing;       ///< time dependence (none by default)
};

/// Model name as in SPEC.md ("newtonian", "power_law", ...).
const char* model_name(RheologyModel m);

/// Apparent viscosity (Pa·s) at shear rate gamma_dot (1/s), clamped to the bounds. Rates below
/// 1e-12 1/s (including gamma_dot <= 0) are raised to that floor: the finite low-rate limit.
double viscosity(const Rheology& r, double gamma_dot);

/// Christopher–Middleman porous-media viscosity (PHYSICS.md §L4): for a power law,
/// mu_eff = H |u|^(n-1) with H = (K/12)(9+3/n)^n (150 k phi)^((1-n)/2), i.e.
/// c K (c Gamma)^(n-1) with c = (3n+1)/(4n) and Gamma = 12|u|/sqrt(150 k phi); Herschel–Bulkley
/// uses the same c from its n (so tau_y = 0 is the power law; its yield term is the n = 1 form);
/// Newtonian, Cross and Carreau–Yasuda take the viscosity at Gamma (n = 1 form). Clamped.
/// The derivation is in kernels/rheology_kernels.hpp.
/// @param u_m_s Darcy speed |u| (m/s), k permeability (m^2), phi porosity.
double porous_viscosity(const Rheology& r, double u_m_s, double k, double phi);

/// Checks the parameters of the model `r.model` and its curing (finite; viscosities, K, n, a, m >
/// 0; tau_y, lambda, mu_inf >= 0; 0 < min_viscosity < max_viscosity). Throws InputError naming
/// `file` and the key `cement.<parameter>` (SPEC.md §3 names) at the first bad one.
void validate_rheology(const Rheology& r, const std::string& file = "<scene>");

/// Cure-model name as in the scene ("none", "exponential", "kamal_sourour").
const char* cure_model_name(CureModel m);

/// Cure state at mixing: age 0 (Exponential) or initial_degree (KamalSourour); 0 for None.
double initial_cure_state(const Curing& c);

/// The cure state after `dt_s` seconds at `temperature_c`, starting from `state`: the
/// equivalent age grows by a_T dt with a_T = exp[-E/R (1/T - 1/T_ref)]; the cure degree follows
/// Kamal–Sourour (classical RK4 with steps of at most 0.01/(k1 + k2) at T). None: unchanged.
double advance_cure(const Curing& c, double state, double temperature_c, double dt_s);

/// Factor (>= 0, possibly +inf past the gel point) that multiplies the whole viscosity law at
/// cure state `state` and temperature `temperature_c`: e^((t_eq - t0)/tau) or the Castro–Macosko
/// term, times the viscosity Arrhenius shift. The clamps still apply to the product.
double cure_viscosity_factor(const Curing& c, double state, double temperature_c);

/// The law of `r` with every viscosity parameter (mu, K, mu0, mu_inf, tau_y) multiplied by
/// `factor`, the clamps unchanged: the cement at a given cure state (a vertical shift of the flow
/// curve, so the cannula pressure drop without active clamps scales by `factor` too).
Rheology shifted_rheology(const Rheology& r, double factor);

/// Apparent viscosity of the cement of age `age_since_mixing_s` that has stayed at
/// `temperature_c` since mixing (e.g. a rheometer sample): viscosity(shifted_rheology(...)).
double viscosity_at_age(const Rheology& r, double gamma_dot, double age_since_mixing_s,
                        double temperature_c);

/// Checks the cure settings (finite, T > -273.15 °C, tau > 0, rates >= 0, exponents > 0,
/// 0 < alpha_g < 1, 0 <= alpha_0 < alpha_g, k1 > 0 or alpha_0 > 0 so that the cure starts).
/// Throws InputError naming `file` and the key `cement.curing.<name>`.
void validate_curing(const Curing& c, const std::string& file = "<scene>");

/// A named cement preset (SPEC.md §3 `{"preset": name}`), with its sources.
struct CementPreset {
  std::string name;
  std::string description;
  std::string source;  ///< citations and confidence code (PHYSICS.md)
  Rheology rheology;
};
/// All built-in presets.
const std::vector<CementPreset>& presets();
/// Looks a preset up; throws InputError naming `file` and key `cement.preset` if unknown.
const CementPreset& find_preset(const std::string& name, const std::string& file);

}  // namespace cementflow

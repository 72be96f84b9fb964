#pragma once
/// @file rheology.hpp
/// @brief Cement rheology on the host: generalized-Newtonian models with viscosity bounds
///        (SPEC.md §3, PHYSICS.md §L1, §L4). The device twins live in kernels/rheology_kernels.hpp.

#include <string>
#include <vector>

namespace cementflow {

/// Constitutive model of the cement.
enum class RheologyModel { Newtonian, PowerLaw, Cross, CarreauYasuda, HerschelBulkley };

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

/// Checks the parameters of the model `r.model` (finite; viscosities, K, n, a, m > 0; tau_y,
/// lambda, mu_inf >= 0; 0 < min_viscosity < max_viscosity). Throws InputError naming `file` and
/// the key `cement.<parameter>` (SPEC.md §3 names) at the first bad one.
void validate_rheology(const Rheology& r, const std::string& file = "<scene>");

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

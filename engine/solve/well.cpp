#include "engine/solve/well.hpp"

#include <algorithm>
#include <map>

namespace cementflow::detail {

namespace {
double value_at(const DView<double*>& v, long long i) {
  double x = 0;
  Kokkos::deep_copy(x, Kokkos::subview(v, static_cast<size_t>(i)));
  return x;
}
}  // namespace

WellModel::WellModel(const BoneBlocks& grid, const std::vector<long long>& tips,
                     const Injection& inj, double q_needle, double mu_m, double corey) {
  std::map<long long, size_t> at;
  const double h = grid.voxel_mm * 1e-3;
  for (size_t n = 0; n < tips.size() && n < inj.needles.size(); ++n) {
    const long long i = tips[n];
    const auto sec = cannula_sections(inj.needles[n]);
    const double r_w = sec.back().radius_m;  // the tip section: where the cement leaves
    const auto it = at.find(i);
    if (it != at.end()) {
      auto& w = points_[it->second];
      w.q += q_needle;
      w.r_w = std::min(w.r_w, r_w);
      continue;
    }
    const auto u = static_cast<size_t>(i);
    const double k0 = static_cast<double>(grid.permeability[3 * u]),
                 k1 = static_cast<double>(grid.permeability[3 * u + 1]),
                 k2 = static_cast<double>(grid.permeability[3 * u + 2]);
    kernels::WellPoint w;
    w.q = q_needle;
    w.r_w = r_w;
    w.phi = static_cast<double>(grid.porosity[u]);
    w.mu_m = mu_m;
    w.corey = corey;
    if (k0 > 0 && k1 > 0 && k2 > 0) {
      w.k_g = std::cbrt(k0 * k1 * k2);
      w.r_eq = kernels::well_equivalent_radius(h, kernels::lattice_green_origin(k0, k1, k2));
    }  // else k_g = 0: no correction (a tip voxel must conduct; checked before the run)
    at[i] = points_.size();
    voxel_.push_back(i);
    points_.push_back(w);
  }
}

double WellModel::opening_pressure(const DView<double*>& p, const DView<double*>& s,
                                   const DView<double*>& cure_state,
                                   const kernels::RheologyParams& rheo,
                                   const kernels::CureParams& cure, double fresh_state,
                                   double t_body) const {
  double best = 0;
  for (size_t n = 0; n < points_.size(); ++n) {
    kernels::WellPoint w = points_[n];
    w.s = std::clamp(value_at(s, voxel_[n]), 0.0, 1.0);
    if (cure.model != kernels::CureParams::none) {
      const double state = w.s > 0 ? value_at(cure_state, voxel_[n]) : fresh_state;
      w.cure = kernels::cure_factor(cure, state, t_body);
    }
    const double pw = value_at(p, voxel_[n]) + kernels::well_pressure_correction(rheo, w);
    best = n == 0 ? pw : std::max(best, pw);
  }
  return best;
}

}  // namespace cementflow::detail

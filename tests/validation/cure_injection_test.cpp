// The cure state in the engine (PHYSICS.md §L1c, M2): carried with the cement and mixed by volume,
// aged at room temperature in the syringe and at body temperature in the bone.
//  1. 1-D piston displacement of a curing Newtonian cement: the cement at distance x from the
//     inlet was injected at t_i = T - x A phi / Q, so its equivalent age is
//     t_mix + t_i + a_b (T - t_i) and ln mu(x) is linear in x with slope (a_b - 1) A phi/(Q tau)
//     (a_b the Arrhenius shift of 37 °C against the 22 °C syringe): the oldest cement leads.
//  2. The same injection started later after mixing needs a higher injection pressure and gives
//     a more compact fill (PHYSICS.md §L1a: Habib 2010 / Krebs 2005 early vs late injection).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "bone_builder.hpp"
#include "cementflow/simulation.hpp"
#include "kernels/rheology_kernels.hpp"
#include "scene_builder.hpp"

namespace cf = cementflow;

namespace {

cf::Scene column_scene(double volume_m3, double q) {
  cf::Scene s = cf::test::newtonian_scene("cure_column", 100, volume_m3, q);
  s.cement.min_viscosity_pa_s = 1;
  s.cement.max_viscosity_pa_s = 1e7;
  s.cement.curing.model = cf::CureModel::Exponential;
  s.cement.curing.reference_age_s = 0;
  s.cement.curing.time_constant_s = 30;
  s.injection.start_after_mixing_s = 60;
  return s;
}

}  // namespace

TEST(CureInjection, CureStateIsCarriedWithTheCement) {
  // 8 x 8 x L column, plane source over z = 0 (64 needles), outlet at z = L (soft tissue).
  const int L = 48;
  const double h = 0.5e-3, phi = 0.8, k = 4.45e-8;
  const cf::BoneBlocks bone = cf::test::build_bone({0, 0, 0}, {8, 8, L + 1}, 0.5,
                                                   [&](int, int, int z) { return z == L ? 0 : 1; },
                                                   static_cast<float>(phi), {k, k, k});
  const double A = 64 * h * h, Q = 5e-9, V = A * phi * 30 * h;  // 30 cells of cement
  cf::Scene s = column_scene(V, Q);
  s.injection.needles.clear();
  for (int x = 0; x < 8; ++x)
    for (int y = 0; y < 8; ++y) {
      cf::Needle nd;
      nd.tip_mm = {x * 0.5, y * 0.5, 0};
      s.injection.needles.push_back(nd);
    }
  const cf::RunResult r = cf::simulate(s, bone, {});
  ASSERT_EQ(r.report.status, "completed") << r.report.message;
  // Mean ln mu per layer, over the layers full of cement.
  std::vector<double> lnmu(static_cast<size_t>(L), 0.0), sat(static_cast<size_t>(L), 0.0);
  const auto& g = r.fields.grid;
  for (size_t b = 0; b < g.num_blocks(); ++b)
    for (int v = 0; v < 512; ++v) {
      const size_t i = b * 512 + static_cast<size_t>(v);
      if (g.material[i] != 1) continue;
      const auto z = static_cast<size_t>(g.block_origin[b][2] + (v >> 6));
      lnmu[z] += std::log(static_cast<double>(r.fields.viscosity[i])) / 64.0;
      sat[z] += static_cast<double>(r.fields.cement_fraction[i]) / 64.0;
    }
  // Least-squares slope of ln mu over layers 3..22 (full of cement, away from the inlet and
  // the smeared front at ~30).
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (int z = 3; z <= 22; ++z) {
    ASSERT_GT(sat[static_cast<size_t>(z)], 0.999) << z;
    const double x = z * h, y = lnmu[static_cast<size_t>(z)];
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    n += 1;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const double a_b = std::exp(-44.4e3 / cf::kernels::kGasConstant * (1 / 310.15 - 1 / 295.15));
  const double exact = (a_b - 1) * A * phi / (Q * 30.0);
  std::printf(
      "cure column: d ln(mu)/dx simulated %.4f 1/mm, exact %.4f 1/mm (a_b = %.4f), "
      "rel error %.3g\n",
      slope * 1e-3, exact * 1e-3, a_b, std::abs(slope / exact - 1));
  // The piston front is the only place where the carried state is smeared (first-order upwind);
  // behind it the state is linear in x, which upwind mixing transports exactly, so the slope is
  // exact up to the step-wise aging (dt a few % of the 30 s time constant): 3 %.
  EXPECT_NEAR(slope / exact, 1.0, 0.03);
  EXPECT_LT(r.report.mass_balance_error, 1e-12);
}

TEST(CureInjection, LaterStartGivesHigherPressureAndMoreCompactFill) {
  // Ball of 14 voxels radius, generic_vertebroplasty preset (power law, exponential cure), Corey-2
  // mobilities so that the front saturation depends on the viscosity ratio; 0.2 mL at 3 mL/min
  // started 180 s and 480 s after mixing (Habib et al. 2010 used 3.5-9.5 min, PHYSICS.md §L1a).
  const double k = 4.45e-8, phi = 0.9;
  const cf::BoneBlocks bone = cf::test::ball_bone(14, 0.5, static_cast<float>(phi), {k, k, k});
  double peak[2], rg[2];
  long touched[2];
  const double starts[2] = {180.0, 480.0};
  for (int c = 0; c < 2; ++c) {
    cf::Scene s;
    s.name = "cure_ball";
    s.cement = cf::find_preset("generic_vertebroplasty", "test").rheology;
    s.marrow_viscosity_pa_s = 0.4;  // upper end of the PHYSICS.md §L2 sensitivity range
    cf::Needle nd;
    nd.tip_mm = {0, 0, 0};
    s.injection.needles = {nd};
    s.injection.flow_rate_m3_s = 5e-8;
    s.injection.volume_m3 = 0.2e-6;
    s.injection.start_after_mixing_s = starts[c];
    s.injection.max_pressure_pa = 1e12;
    s.simulation.max_time_s = 1e5;
    s.simulation.corey_exponent = 2;
    const cf::RunResult r = cf::simulate(s, bone, {});
    ASSERT_EQ(r.report.status, "completed") << r.report.message;
    peak[c] = r.report.peak_injection_pressure_mpa;
    double m = 0, m2 = 0;
    touched[c] = 0;
    const auto& g = r.fields.grid;
    for (size_t b = 0; b < g.num_blocks(); ++b)
      for (int v = 0; v < 512; ++v) {
        const size_t i = b * 512 + static_cast<size_t>(v);
        if (g.material[i] < 0) continue;
        const double sc = static_cast<double>(r.fields.cement_fraction[i]);
        if (sc > 0.01) ++touched[c];
        const auto x = g.voxel_center_mm(b, v);
        m += sc;
        m2 += sc * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
      }
    rg[c] = std::sqrt(m2 / m);
    std::printf(
        "start %.0f s after mixing: peak injection pressure %.4g MPa, radius of gyration "
        "%.4f mm, %ld voxels with cement > 1 %%, mass balance %.2g\n",
        starts[c], peak[c], rg[c], touched[c], r.report.mass_balance_error);
    EXPECT_LT(r.report.mass_balance_error, 1e-12);
  }
  // Cement 300 s older at room temperature: K x e^(300/150) = 7.4 in the cannula, which carries
  // ~95 % of the pressure (PHYSICS.md §M3, Baroud & Steffen 2005).
  EXPECT_GT(peak[1], 5.0 * peak[0]);
  EXPECT_LT(rg[1], rg[0]);
  EXPECT_LT(touched[1], touched[0]);
}

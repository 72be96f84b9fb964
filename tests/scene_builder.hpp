#pragma once
// A scene for validation runs against closed forms: Newtonian cement into marrow (0.04 Pa s), one
// needle at the origin, no pressure limit, no output cadence to speak of, and a pressure solve far
// tighter than the tolerances the tests check.

#include "cementflow/scene.hpp"

namespace cementflow::test {

inline Scene newtonian_scene(const char* name, double mu_c, double volume_m3, double q_m3_s) {
  Scene s;
  s.name = name;
  s.cement.model = RheologyModel::Newtonian;
  s.cement.viscosity_pa_s = mu_c;
  s.marrow_viscosity_pa_s = 0.04;
  Needle nd;
  nd.tip_mm = {0, 0, 0};
  s.injection.needles = {nd};
  s.injection.flow_rate_m3_s = q_m3_s;
  s.injection.volume_m3 = volume_m3;
  s.injection.max_pressure_pa = 1e12;
  s.simulation.max_time_s = 1e5;
  s.simulation.output_interval_s = 1e4;
  s.simulation.pressure_tolerance = 1e-10;
  return s;
}

}  // namespace cementflow::test

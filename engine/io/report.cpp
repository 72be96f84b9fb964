// The run report (SPEC.md §5) as JSON and the timeline as CSV (pressure_curve.csv).
// Numbers are written so that they read back to the same double (nlohmann's shortest
// round-trip form); a non-finite number becomes null so that the file stays valid JSON.

#include "cementflow/report.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

namespace cementflow {
namespace {

using ojson = nlohmann::ordered_json;  // keeps SPEC.md's key order in the file

/// A number, or null when it is NaN or infinite (JSON has no such numbers).
ojson num(double x) {
  return std::isfinite(x) ? ojson(x) : ojson(nullptr);
}

ojson vec(const std::array<double, 3>& v) {
  return ojson::array({num(v[0]), num(v[1]), num(v[2])});
}

/// Shortest text that reads back to the same double ("nan", "inf", "-inf" when not finite).
std::string csv_number(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("nan");
}

}  // namespace

std::string to_json(const Report& r) {
  ojson j;
  j["schema"] = r.schema;
  j["scene"] = r.scene;
  j["engine"] = {{"version", r.engine.version},
                 {"backend", r.engine.backend},
                 {"threads", r.engine.threads},
                 {"precision", r.engine.precision}};
  j["grid"] = {{"voxel_mm", num(r.grid.voxel_mm)},
               {"active_voxels", r.grid.active_voxels},
               {"blocks", r.grid.blocks}};
  j["wall_time_s"] = num(r.wall_time_s);
  j["status"] = r.status;
  if (!r.message.empty()) j["message"] = r.message;  // extension
  j["injected_volume_ml"] = num(r.injected_volume_ml);
  j["peak_injection_pressure_mpa"] = num(r.peak_injection_pressure_mpa);
  j["peak_tip_pressure_kpa"] = num(r.peak_tip_pressure_kpa);
  ojson leaks = ojson::array();
  for (const Leak& l : r.leaks)
    leaks.push_back({{"route", l.route},
                     {"volume_ml", num(l.volume_ml)},
                     {"first_time_s", num(l.first_time_s)},
                     {"first_injected_ml", num(l.first_injected_ml)},
                     {"location_mm", vec(l.location_mm)}});
  j["leaks"] = std::move(leaks);
  j["leak_volume_ml"] = num(r.leak_volume_ml);
  j["leak_risk"] = {
      {"score", num(r.leak_risk.score)}, {"class", r.leak_risk.cls}, {"basis", r.leak_risk.basis}};
  if (r.leak_probability.present) {  // extension (SPEC.md §4): run --samples N
    const auto& lp = r.leak_probability;
    ojson by_route = ojson::object();
    for (const auto& q : lp.by_route)
      by_route[q.route] = {{"p", num(q.p)},
                           {"ci95", ojson::array({num(q.ci95[0]), num(q.ci95[1])})}};
    j["leak_probability"] = {{"any", num(lp.any)},
                             {"ci95", ojson::array({num(lp.ci95[0]), num(lp.ci95[1])})},
                             {"by_route", std::move(by_route)},
                             {"samples", lp.samples},
                             {"evaluated", lp.evaluated},
                             {"leaking", lp.leaking},
                             {"threshold_ml", num(lp.threshold_ml)},
                             {"seed", lp.seed},
                             {"interval", "Wilson score 95 %"}};
  }
  j["fill"] = {
      {"cement_volume_in_bone_ml", num(r.fill.cement_volume_in_bone_ml)},
      {"endplate_contact", ojson::array({r.fill.endplate_contact[0], r.fill.endplate_contact[1]})},
      {"max_spread_mm", num(r.fill.max_spread_mm)}};
  if (r.fill.has_cavity) {  // extension: cavity fill (kyphoplasty, fracture cleft)
    j["fill"]["cavity_fill_fraction"] = num(r.fill.cavity_fill_fraction);
    j["fill"]["interdigitation_depth_mm"] = num(r.fill.interdigitation_depth_mm);
  }
  j["mass_balance_error"] = num(r.mass_balance_error);
  if (r.kyphoplasty.present) {  // extension: the balloons (engine/bone/balloon.cpp)
    ojson balloons = ojson::array();
    for (const BalloonStats& b : r.kyphoplasty.stats.balloons)
      balloons.push_back({{"balloon_volume_ml", num(b.balloon_volume_ml)},
                          {"radius_mm", num(b.radius_mm)},
                          {"cavity_volume_ml", num(b.cavity_volume_ml)},
                          {"displaced_bone_volume_ml", num(b.displaced_bone_volume_ml)},
                          {"rim_volume_ml", num(b.rim_volume_ml)},
                          {"rim_thickness_mm", num(b.rim_thickness_mm)},
                          {"rim_bv_tv", num(b.rim_bv_tv)},
                          {"native_bv_tv", num(b.native_bv_tv)}});
    j["kyphoplasty"] = {{"balloons", std::move(balloons)},
                        {"bone_volume_before_ml", num(r.kyphoplasty.stats.bone_volume_before_ml)},
                        {"bone_volume_after_ml", num(r.kyphoplasty.stats.bone_volume_after_ml)}};
  }
  ojson timeline = ojson::array();
  for (const auto& row : r.timeline)
    timeline.push_back(ojson::array({num(row[0]), num(row[1]), num(row[2]), num(row[3])}));
  j["timeline"] = std::move(timeline);
  j["solver"] = {{"pressure_solves", r.solver.pressure_solves},  // extension
                 {"total_iterations", r.solver.total_iterations},
                 {"max_iterations", r.solver.max_iterations},
                 {"steps", r.solver.steps},
                 {"transport_sweeps", r.solver.transport_sweeps},
                 {"preconditioner", r.solver.preconditioner},
                 {"multigrid_levels", r.solver.multigrid_levels}};
  if (r.checkpoint.written > 0 || r.checkpoint.resumed ||
      !r.checkpoint.error.empty()) {  // extension: checkpoint/restart
    j["checkpoint"] = {{"written", r.checkpoint.written}, {"file", r.checkpoint.file}};
    if (r.checkpoint.resumed)
      j["checkpoint"]["resumed"] = {{"at_step", r.checkpoint.resumed_at_step},
                                    {"at_time_s", num(r.checkpoint.resumed_at_time_s)}};
    if (!r.checkpoint.error.empty()) j["checkpoint"]["error"] = r.checkpoint.error;
  }
  // Invalid UTF-8 in a string (a message quoting a file name, say) is replaced, not thrown on.
  return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string timeline_csv(const Report& r) {
  std::string out = "time_s,injected_ml,injection_pressure_mpa,tip_pressure_kpa\n";
  for (const auto& row : r.timeline) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_number(row[i]);
    out += "\n";
  }
  return out;
}

}  // namespace cementflow

// The outputs of a sweep (SPEC.md §4): sweep.csv (one row per case, in case order), sweep.json
// (per group — grid point × arm — the case counts, leak incidence overall and per route with
// Wilson 95 % intervals, mean/median/5th/95th percentiles of the headline numbers; relative risks
// between every pair of arms, any leak and per route, paired and, for reference, as if
// independent) and PNG charts. All of it is computed from the case reports in the folder, whoever
// wrote them (one process, MPI ranks or shards), so every way of running a sweep gives the same
// files.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/sweep.hpp"
#include "engine/io/output_dir.hpp"
#include "engine/io/plot.hpp"

namespace cementflow {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

ojson num(double x) {
  return std::isfinite(x) ? ojson(x) : ojson(nullptr);
}

std::string csv_number(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("nan");
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// A swept value for the CSV: strings without their JSON quotes, everything else as JSON.
std::string value_text(const std::string& json_text) {
  const ojson v = ojson::parse(json_text);
  return v.is_string() ? v.get<std::string>() : json_text;
}

bool leaked(double volume_ml, double threshold_ml) {
  return volume_ml > threshold_ml;
}

ojson proportion_json(const Proportion& p) {
  return {{"count", p.count},
          {"n", p.n},
          {"p", num(p.p)},
          {"ci95", ojson::array({num(p.ci95[0]), num(p.ci95[1])})}};
}

ojson summary_json(const Summary& s) {
  return {{"n", s.n},          {"mean", num(s.mean)}, {"median", num(s.median)},
          {"p05", num(s.p05)}, {"p95", num(s.p95)},   {"min", num(s.min)},
          {"max", num(s.max)}};
}

ojson rr_json(const RelativeRisk& r) {
  ojson j = {{"defined", r.defined}, {"n", r.n}, {"method", r.method}};
  if (r.defined) {
    j["rr"] = num(r.rr);
    j["ci95"] = ojson::array({num(r.ci95[0]), num(r.ci95[1])});
  }
  return j;
}

/// The headline numbers summarised per group.
const std::vector<std::string>& headline_keys() {
  static const std::vector<std::string> k{
      "peak_injection_pressure_mpa", "peak_tip_pressure_kpa", "leak_volume_ml",
      "first_leak_injected_ml",      "max_spread_mm",         "wall_time_s"};
  return k;
}

double headline(const CaseOutcome& o, const std::string& key) {
  if (key == "peak_injection_pressure_mpa") return o.peak_injection_pressure_mpa;
  if (key == "peak_tip_pressure_kpa") return o.peak_tip_pressure_kpa;
  if (key == "leak_volume_ml") return o.leak_volume_ml;
  if (key == "first_leak_injected_ml") return o.first_leak_injected_ml;
  if (key == "max_spread_mm") return o.max_spread_mm;
  return o.wall_time_s;
}

/// Route index of "any route" (the leaked volume overall); 0 .. leak_routes().size() − 1 are the
/// routes.
constexpr std::size_t kAnyRoute = static_cast<std::size_t>(-1);

/// Whether a case leaked (overall, or through one route).
bool leaked(const CaseOutcome& o, std::size_t route, double threshold_ml) {
  return leaked(route == kAnyRoute ? o.leak_volume_ml : o.leak_by_route_ml[route].second,
                threshold_ml);
}

/// Leak incidence over a set of outcomes: any route and per route.
struct Incidence {
  Proportion any;
  std::vector<Proportion> by_route;
  const Proportion& of(std::size_t route) const {
    return route == kAnyRoute ? any : by_route[route];
  }
};
Incidence incidence(const std::vector<const CaseOutcome*>& outs, double threshold_ml) {
  long long n = 0, any = 0;
  std::vector<long long> per(leak_routes().size(), 0);
  for (const CaseOutcome* o : outs) {
    if (!o->evaluated()) continue;
    ++n;
    if (leaked(*o, kAnyRoute, threshold_ml)) ++any;
    for (std::size_t r = 0; r < per.size(); ++r)
      if (leaked(*o, r, threshold_ml)) ++per[r];
  }
  Incidence inc;
  inc.any = wilson(any, n);
  for (long long c : per) inc.by_route.push_back(wilson(c, n));
  return inc;
}

ojson incidence_json(const Incidence& inc) {
  ojson by_route = ojson::object();
  for (std::size_t r = 0; r < inc.by_route.size(); ++r)
    by_route[leak_routes()[r]] = proportion_json(inc.by_route[r]);
  return {{"any", proportion_json(inc.any)}, {"by_route", by_route}};
}

/// Two arms compared for one route (kAnyRoute: any leak): the 2×2 table of the pairs (the same
/// patient and sample evaluated under both arms), the paired relative risk arm 1 / arm 2 and, for
/// reference, the relative risk as if the arms were independent groups, from their incidences.
ojson compare_arms(const std::vector<std::pair<const CaseOutcome*, const CaseOutcome*>>& pairs,
                   const Incidence& i1, const Incidence& i2, std::size_t route,
                   double threshold_ml) {
  long long a = 0, b = 0, c = 0, d = 0;
  for (const auto& p : pairs) {
    const bool l1 = leaked(*p.first, route, threshold_ml);
    const bool l2 = leaked(*p.second, route, threshold_ml);
    (l1 && l2 ? a : l1 ? b : l2 ? c : d) += 1;
  }
  const Proportion& p1 = i1.of(route);
  const Proportion& p2 = i2.of(route);
  return {{"pairs", {{"both", a}, {"only_1", b}, {"only_2", c}, {"neither", d}}},
          {"paired", rr_json(relative_risk_paired(a, b, c, d))},
          {"independent", rr_json(relative_risk_independent(p1.count, p1.n, p2.count, p2.n))},
          {"incidence", {{"arm_1", proportion_json(p1)}, {"arm_2", proportion_json(p2)}}}};
}

/// A group of cases: one grid point and one arm.
struct Group {
  long long point = 0;
  std::string arm;
  std::string id;
  std::vector<const CaseOutcome*> outs;
  std::vector<const SweepCase*> cases;
};

const std::array<std::array<std::uint8_t, 3>, 8> kColors{{{0, 0, 0},
                                                          {31, 119, 180},
                                                          {214, 39, 40},
                                                          {44, 160, 44},
                                                          {148, 103, 189},
                                                          {255, 127, 14},
                                                          {140, 86, 75},
                                                          {23, 190, 207}}};

/// incidence.png: per group, leak incidence (any route and each route that leaked) with the
/// Wilson 95 % intervals as vertical bars.
void chart_incidence(const std::string& path, const std::vector<Group>& groups,
                     const std::vector<Incidence>& inc) {
  std::vector<detail::PlotSeries> series;
  const std::size_t nr = leak_routes().size();
  for (std::size_t r = 0; r <= nr; ++r) {  // r = 0: any route; then the routes
    bool any_event = r == 0;
    for (const Incidence& i : inc) any_event = any_event || i.by_route[r - 1].count > 0;
    if (!any_event) continue;
    const auto color = kColors[r % kColors.size()];
    const double offset = 0.08 * (static_cast<double>(r) - static_cast<double>(nr) / 2);
    detail::PlotSeries pts;
    pts.label = r == 0 ? "any route" : leak_routes()[r - 1];
    pts.points = true;
    pts.color = color;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const Proportion& p = r == 0 ? inc[g].any : inc[g].by_route[r - 1];
      if (p.n == 0) continue;
      const double x = static_cast<double>(g + 1) + offset;
      pts.x.push_back(x);
      pts.y.push_back(100 * p.p);
      detail::PlotSeries bar;  // unlabelled: not in the legend
      bar.color = color;
      bar.x = {x, x};
      bar.y = {100 * p.ci95[0], 100 * p.ci95[1]};
      series.push_back(bar);
    }
    if (!pts.x.empty()) series.push_back(pts);
  }
  if (series.empty()) return;
  detail::PlotSpec spec;
  spec.title = "leak incidence per group (Wilson 95 % intervals)";
  spec.x_label = "group (sweep.json groups[], from 1)";
  spec.y_label = "cases leaking (%)";
  detail::write_plot_png(path, spec, series);
}

/// Empirical CDFs of one headline number per group (at most 8 groups drawn, else all cases).
void chart_cdf(const std::string& path, const std::string& key, const std::string& label,
               const std::vector<Group>& groups) {
  std::vector<detail::PlotSeries> series;
  auto cdf = [&](const std::vector<const CaseOutcome*>& outs, const std::string& name,
                 std::array<std::uint8_t, 3> color) {
    std::vector<double> v;
    for (const CaseOutcome* o : outs)
      if (o->evaluated()) v.push_back(headline(*o, key));
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    detail::PlotSeries s;
    s.label = name;
    s.color = color;
    const double n = static_cast<double>(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {  // a step function
      s.x.push_back(v[i]);
      s.y.push_back(static_cast<double>(i) / n);
      s.x.push_back(v[i]);
      s.y.push_back(static_cast<double>(i + 1) / n);
    }
    series.push_back(s);
  };
  if (groups.size() <= kColors.size()) {
    for (std::size_t g = 0; g < groups.size(); ++g)
      cdf(groups[g].outs, groups[g].id, kColors[g % kColors.size()]);
  } else {
    std::vector<const CaseOutcome*> all;
    for (const Group& g : groups) all.insert(all.end(), g.outs.begin(), g.outs.end());
    cdf(all, "all cases", kColors[1]);
  }
  if (series.empty()) return;
  detail::PlotSpec spec;
  spec.title = "distribution of " + label + " over the cases";
  spec.x_label = label;
  spec.y_label = "fraction of cases <= x";
  detail::write_plot_png(path, spec, series);
}

}  // namespace

long long write_sweep_outputs(const SweepPlan& plan, const std::string& out_dir) {
  detail::make_output_dir(out_dir);
  std::vector<CaseOutcome> outs;
  outs.reserve(plan.cases.size());
  for (const SweepCase& c : plan.cases) outs.push_back(read_case(plan, c, out_dir));

  // --- sweep.csv -------------------------------------------------------------------------------
  std::string csv = "case,arm,patient,sample";
  for (const std::string& col : plan.columns) csv += "," + cell(col);
  csv += ",status,message,peak_injection_pressure_mpa,peak_tip_pressure_kpa,leak_volume_ml";
  for (const std::string& r : leak_routes()) csv += ",leak_" + r + "_ml";
  csv +=
      ",first_leak_injected_ml,max_spread_mm,endplate_contact_inferior,endplate_contact_superior,"
      "wall_time_s\n";
  long long incomplete = 0;
  for (std::size_t i = 0; i < plan.cases.size(); ++i) {
    const SweepCase& c = plan.cases[i];
    const CaseOutcome& o = outs[i];
    if (o.status != "completed" && o.status != "stopped_at_leak") ++incomplete;
    csv += cell(c.id) + "," + cell(c.arm) + "," +
           (c.patient >= 0 ? std::to_string(c.patient) : "") + "," +
           (c.sample >= 0 ? std::to_string(c.sample) : "");
    for (const std::string& v : c.values) csv += "," + cell(value_text(v));
    csv += "," + cell(o.status) + "," + cell(o.message);
    if (!o.present) {
      csv += std::string(8 + leak_routes().size(), ',') + "\n";  // the empty outcome cells
      continue;
    }
    csv += "," + csv_number(o.peak_injection_pressure_mpa) + "," +
           csv_number(o.peak_tip_pressure_kpa) + "," + csv_number(o.leak_volume_ml);
    for (const auto& rv : o.leak_by_route_ml) csv += "," + csv_number(rv.second);
    csv += "," + (o.first_leak_injected_ml >= 0 ? csv_number(o.first_leak_injected_ml) : "") + "," +
           csv_number(o.max_spread_mm) + "," + (o.endplate_contact[0] ? "1" : "0") + "," +
           (o.endplate_contact[1] ? "1" : "0") + "," + csv_number(o.wall_time_s) + "\n";
  }
  detail::write_output_text(out_dir, "sweep.csv", csv);

  // --- groups: grid point × arm, in case order ---------------------------------------------------
  std::vector<Group> groups;
  std::map<std::pair<long long, std::string>, std::size_t> group_of;
  for (std::size_t i = 0; i < plan.cases.size(); ++i) {
    const SweepCase& c = plan.cases[i];
    const auto key = std::make_pair(c.point, c.arm);
    auto it = group_of.find(key);
    if (it == group_of.end()) {
      Group g;
      g.point = c.point;
      g.arm = c.arm;
      if (plan.points > 1) g.id = "g" + std::to_string(c.point);
      if (!c.arm.empty()) g.id += (g.id.empty() ? "" : "_") + c.arm;
      if (g.id.empty()) g.id = "all";
      it = group_of.emplace(key, groups.size()).first;
      groups.push_back(g);
    }
    groups[it->second].outs.push_back(&outs[i]);
    groups[it->second].cases.push_back(&c);
  }

  ojson j;
  j["schema"] = 1;
  j["name"] = plan.name;
  j["sweep_file"] = plan.file;
  j["seed"] = plan.seed;
  j["leak_threshold_ml"] = plan.leak_threshold_ml;
  j["leak_definition"] =
      "a case leaks when its leaked volume (overall, or by the route) exceeds leak_threshold_ml; "
      "incidence is over the evaluated cases (status completed, stopped_at_leak or "
      "stopped_at_pressure_limit), with the Wilson score 95 % interval";
  std::map<std::string, long long> by_status;
  for (const CaseOutcome& o : outs) ++by_status[o.status];
  ojson statuses = ojson::object();
  for (const auto& s : by_status) statuses[s.first] = s.second;
  j["cases"] = {{"total", static_cast<long long>(plan.cases.size())},
                {"incomplete", incomplete},
                {"by_status", statuses}};
  std::vector<const CaseOutcome*> all;
  for (const CaseOutcome& o : outs) all.push_back(&o);
  j["overall"] = incidence_json(incidence(all, plan.leak_threshold_ml));

  std::vector<Incidence> incs;
  ojson jg = ojson::array();
  for (const Group& g : groups) {
    ojson values = ojson::object();
    const SweepCase& first = *g.cases.front();
    // Axes and zip values are the same for every case of a group (the first columns).
    for (std::size_t k = 0; k < plan.columns.size(); ++k) {
      bool same = true;
      for (const SweepCase* c : g.cases) same = same && c->values[k] == first.values[k];
      if (same) values[plan.columns[k]] = ojson::parse(first.values[k]);
    }
    long long evaluated = 0;
    for (const CaseOutcome* o : g.outs) evaluated += o->evaluated() ? 1 : 0;
    incs.push_back(incidence(g.outs, plan.leak_threshold_ml));
    ojson summaries = ojson::object();
    for (const std::string& key : headline_keys()) {
      std::vector<double> v;
      for (const CaseOutcome* o : g.outs)
        if (o->evaluated() && (key != "first_leak_injected_ml" || o->first_leak_injected_ml >= 0))
          v.push_back(headline(*o, key));
      summaries[key] = summary_json(summarize(v));
    }
    jg.push_back({{"id", g.id},
                  {"point", g.point},
                  {"arm", g.arm},
                  {"values", values},
                  {"cases", static_cast<long long>(g.cases.size())},
                  {"evaluated", evaluated},
                  {"leak", incidence_json(incs.back())},
                  {"summary", summaries}});
  }
  j["groups"] = jg;

  // --- relative risks between arms, per grid point ---------------------------------------------
  ojson rrs = ojson::array();
  for (std::size_t a = 0; a < groups.size(); ++a)
    for (std::size_t b = a + 1; b < groups.size(); ++b) {
      const Group& g1 = groups[a];
      const Group& g2 = groups[b];
      if (g1.point != g2.point || g1.arm.empty() || g2.arm.empty()) continue;
      // Pairs: the same patient and sample under both arms, both evaluated.
      std::map<std::pair<long long, long long>, const CaseOutcome*> second;
      for (std::size_t k = 0; k < g2.cases.size(); ++k)
        second[{g2.cases[k]->patient, g2.cases[k]->sample}] = g2.outs[k];
      std::vector<std::pair<const CaseOutcome*, const CaseOutcome*>> pairs;
      for (std::size_t k = 0; k < g1.cases.size(); ++k) {
        auto it = second.find({g1.cases[k]->patient, g1.cases[k]->sample});
        if (it != second.end() && g1.outs[k]->evaluated() && it->second->evaluated())
          pairs.emplace_back(g1.outs[k], it->second);
      }
      const double thr = plan.leak_threshold_ml;
      ojson e = {{"point", g1.point}, {"arm_1", g1.arm}, {"arm_2", g2.arm}};
      e.update(compare_arms(pairs, incs[a], incs[b], kAnyRoute, thr));
      ojson by_route = ojson::object();
      for (std::size_t r = 0; r < leak_routes().size(); ++r)
        by_route[leak_routes()[r]] = compare_arms(pairs, incs[a], incs[b], r, thr);
      e["by_route"] = by_route;
      rrs.push_back(e);
    }
  j["relative_risks"] = rrs;

  // --- charts ----------------------------------------------------------------------------------
  ojson charts = ojson::array();
  auto chart = [&](const std::string& name, auto&& draw) {
    const std::string p = (fs::path(out_dir) / name).string();
    std::error_code ec;
    fs::remove(p, ec);
    draw(p);
    if (fs::exists(p, ec)) charts.push_back(name);
  };
  chart("incidence.png", [&](const std::string& p) { chart_incidence(p, groups, incs); });
  chart("pressure_cdf.png", [&](const std::string& p) {
    chart_cdf(p, "peak_injection_pressure_mpa", "peak injection pressure (MPa)", groups);
  });
  chart("leak_volume_cdf.png", [&](const std::string& p) {
    chart_cdf(p, "leak_volume_ml", "leaked volume (mL)", groups);
  });
  j["charts"] = charts;
  detail::write_output_text(out_dir, "sweep.json",
                            j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n");
  return incomplete;
}

Report::LeakProbability leak_probability(const SweepPlan& plan,
                                         const std::vector<CaseOutcome>& outcomes) {
  std::vector<const CaseOutcome*> ptrs;
  for (const CaseOutcome& o : outcomes) ptrs.push_back(&o);
  const Incidence inc = incidence(ptrs, plan.leak_threshold_ml);
  Report::LeakProbability lp;
  lp.present = true;
  lp.any = inc.any.p;
  lp.ci95 = inc.any.ci95;
  for (std::size_t r = 0; r < inc.by_route.size(); ++r)
    lp.by_route.push_back({leak_routes()[r], inc.by_route[r].p, inc.by_route[r].ci95});
  lp.samples = static_cast<long long>(outcomes.size());
  lp.evaluated = inc.any.n;
  lp.leaking = inc.any.count;
  lp.threshold_ml = plan.leak_threshold_ml;
  lp.seed = plan.seed;
  return lp;
}

}  // namespace cementflow

namespace cementflow {

long long run_sweep(const SweepPlan& plan, const SweepOptions& options) {
  run_sweep_cases(plan, sweep_todo(plan, options), options);
  return write_sweep_outputs(plan, options.out_dir);
}

Report::LeakProbability run_samples(const SweepPlan& plan, const SweepOptions& options,
                                    long long* incomplete) {
  const long long n = run_sweep(plan, options);
  if (incomplete) *incomplete = n;
  std::vector<CaseOutcome> outs;
  for (const SweepCase& c : plan.cases) outs.push_back(read_case(plan, c, options.out_dir));
  return leak_probability(plan, outs);
}

}  // namespace cementflow

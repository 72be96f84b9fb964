// Statistics of sweep outcomes (include/cementflow/sweep.hpp): Wilson score intervals for leak
// incidence, type-7 percentiles, and relative risks between arms with 95 % intervals, for
// independent groups (Katz log-Wald) and for paired binary data (delta-method log-Wald for matched
// pairs). Plain formulas, checked against published and hand-computed values in
// tests/unit/sweep_stats_test.cpp, coverage by simulation included.

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cementflow/sweep.hpp"

namespace cementflow {

namespace {
constexpr double kZ95 = 1.959963984540054;  // the 0.975 quantile of the standard normal

/// exp(log rr ± z·se) as an interval.
std::array<double, 2> log_wald(double rr, double se) {
  const double l = std::log(rr);
  return {std::exp(l - kZ95 * se), std::exp(l + kZ95 * se)};
}
}  // namespace

Proportion wilson(long long count, long long n, double z) {
  Proportion r;
  r.count = count;
  r.n = n;
  if (n <= 0) return r;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(count) / nn;
  r.p = p;
  // Wilson (1927): (p + z²/2n ± z sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n).
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double centre = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  r.ci95 = {std::max(0.0, centre - half), std::min(1.0, centre + half)};
  if (count == 0) r.ci95[0] = 0;  // exact ends (the formula gives them up to round-off)
  if (count == n) r.ci95[1] = 1;
  return r;
}

RelativeRisk relative_risk_independent(long long x1, long long n1, long long x2, long long n2) {
  RelativeRisk r;
  r.method =
      "independent groups: Wald interval on log RR, var = 1/x1 - 1/n1 + 1/x2 - 1/n2 (Katz et al. "
      "1978); 0.5 added to every count when one is zero";
  r.n = n1 + n2;
  if (n1 <= 0 || n2 <= 0) return r;
  double a = static_cast<double>(x1), m1 = static_cast<double>(n1);
  double b = static_cast<double>(x2), m2 = static_cast<double>(n2);
  if (x1 == 0 || x2 == 0) {
    if (x1 == 0 && x2 == 0) return r;  // no event in either group: nothing to compare
    a += 0.5, b += 0.5, m1 += 0.5, m2 += 0.5;
  }
  r.defined = true;
  r.rr = (a / m1) / (b / m2);
  const double se = std::sqrt(std::max(0.0, 1 / a - 1 / m1 + 1 / b - 1 / m2));
  r.ci95 = log_wald(r.rr, se);
  return r;
}

RelativeRisk relative_risk_paired(long long a, long long b, long long c, long long d) {
  RelativeRisk r;
  r.method =
      "paired (every unit in both arms): RR = (a+b)/(a+c), Wald interval on log RR with the "
      "matched-pairs delta-method variance (b+c)/((a+b)(a+c)) (the Wald interval for the "
      "ratio of paired probabilities in Fagerland, Lydersen & Laake 2014, Stat Med 33:2850)";
  r.n = a + b + c + d;
  const long long e1 = a + b, e2 = a + c;        // events under condition 1 and 2
  if (r.n <= 0 || e1 <= 0 || e2 <= 0) return r;  // RR 0 or undefined: no log interval
  r.defined = true;
  r.rr = static_cast<double>(e1) / static_cast<double>(e2);
  const double se =
      std::sqrt(static_cast<double>(b + c) / (static_cast<double>(e1) * static_cast<double>(e2)));
  r.ci95 = log_wald(r.rr, se);
  return r;
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  q = std::min(1.0, std::max(0.0, q));
  // Hyndman & Fan (1996) type 7: h = (n − 1) q, interpolate between x[floor h] and x[floor h + 1].
  const double h = static_cast<double>(values.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = static_cast<long long>(values.size());
  if (values.empty()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.mean = s.median = s.p05 = s.p95 = s.min = s.max = nan;
    return s;
  }
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  s.median = percentile(values, 0.5);
  s.p05 = percentile(values, 0.05);
  s.p95 = percentile(values, 0.95);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

}  // namespace cementflow

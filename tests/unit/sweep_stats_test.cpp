// Statistics of sweeps (engine/run/sweep_stats.cpp) on toy data with known answers: the Wilson
// interval against Newcombe (1998, Stat Med 17:857, Table I, method 3), relative risks against
// hand-computed values of their formulas, type-7 percentiles against NumPy's definition, and
// the coverage of the intervals by simulation with a fixed seed — the Wilson coverage is also
// compared with its exact value from the binomial distribution.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cementflow/sweep.hpp"
#include "engine/run/sweep_detail.hpp"

namespace cf = cementflow;

namespace {

// Newcombe's table gives 4 decimals: half a unit of the last one.
constexpr double kTable = 0.5e-4;

TEST(SweepStats, WilsonMatchesNewcombeTable) {
  struct Row {
    long long x, n;
    double lo, hi;
  };
  for (const Row& r :
       {Row{81, 263, 0.2553, 0.3662}, Row{15, 148, 0.0624, 0.1605}, Row{0, 20, 0.0, 0.1611},
        Row{1, 29, 0.0061, 0.1718}, Row{29, 29, 0.8830, 1.0}}) {
    const cf::Proportion p = cf::wilson(r.x, r.n);
    EXPECT_NEAR(p.ci95[0], r.lo, kTable) << r.x << "/" << r.n;
    EXPECT_NEAR(p.ci95[1], r.hi, kTable) << r.x << "/" << r.n;
    EXPECT_DOUBLE_EQ(p.p, static_cast<double>(r.x) / static_cast<double>(r.n));
  }
  const cf::Proportion none = cf::wilson(0, 0);  // no cases: the whole range
  EXPECT_EQ(none.ci95[0], 0.0);
  EXPECT_EQ(none.ci95[1], 1.0);
}

/// Draws Binomial(n, p) with the sweep's own generator.
long long binomial(cf::detail::Rng& rng, long long n, double p) {
  long long k = 0;
  for (long long i = 0; i < n; ++i) k += rng.uniform() < p ? 1 : 0;
  return k;
}

/// Exact coverage of the Wilson interval: the sum of Binomial(n, p) probabilities of the x whose
/// interval holds p.
double exact_wilson_coverage(long long n, double p) {
  double cov = 0;
  for (long long x = 0; x <= n; ++x) {
    const cf::Proportion w = cf::wilson(x, n);
    if (w.ci95[0] <= p && p <= w.ci95[1]) {
      const double logc = std::lgamma(static_cast<double>(n) + 1) -
                          std::lgamma(static_cast<double>(x) + 1) -
                          std::lgamma(static_cast<double>(n - x) + 1);
      cov += std::exp(logc + static_cast<double>(x) * std::log(p) +
                      static_cast<double>(n - x) * std::log1p(-p));
    }
  }
  return cov;
}

TEST(SweepStats, WilsonCoverageBySimulation) {
  // 4000 replicates: the Monte-Carlo standard error of a coverage near 0.95 is 0.0034.
  constexpr int kReps = 4000;
  const double mc_se = std::sqrt(0.95 * 0.05 / kReps);
  cf::detail::Rng rng(20261129, {1});
  for (long long n : {20LL, 60LL, 200LL})
    for (double p : {0.05, 0.2, 0.5}) {
      int hits = 0;
      for (int r = 0; r < kReps; ++r) {
        const cf::Proportion w = cf::wilson(binomial(rng, n, p), n);
        hits += (w.ci95[0] <= p && p <= w.ci95[1]) ? 1 : 0;
      }
      const double sim = static_cast<double>(hits) / kReps;
      const double exact = exact_wilson_coverage(n, p);
      EXPECT_NEAR(sim, exact, 4 * mc_se) << "n " << n << " p " << p;
      // Wilson's coverage oscillates around the nominal 95 % (Brown, Cai & DasGupta 2001,
      // Fig. 5: between about 0.92 and 0.98 for these n and p).
      EXPECT_GT(exact, 0.92) << "n " << n << " p " << p;
      EXPECT_LT(exact, 0.985) << "n " << n << " p " << p;
    }
}

TEST(SweepStats, RelativeRiskIndependentKatz) {
  // 10/50 against 5/50: RR 2, se(log RR) = sqrt(1/10 − 1/50 + 1/5 − 1/50) = 0.52915.
  const cf::RelativeRisk r = cf::relative_risk_independent(10, 50, 5, 50);
  ASSERT_TRUE(r.defined);
  EXPECT_NEAR(r.rr, 2.0, 1e-12);
  EXPECT_NEAR(r.ci95[0], 0.7362082, 1e-6);
  EXPECT_NEAR(r.ci95[1], 5.4332454, 1e-6);
  // A zero count: 0.5 added to every x and n (0.5/20.5 over 4.5/20.5).
  const cf::RelativeRisk z = cf::relative_risk_independent(0, 20, 4, 20);
  ASSERT_TRUE(z.defined);
  EXPECT_NEAR(z.rr, 1.0 / 9.0, 1e-12);
  EXPECT_NEAR(z.ci95[0], 0.0063830, 1e-6);
  EXPECT_NEAR(z.ci95[1], 1.9341377, 1e-6);
  EXPECT_FALSE(cf::relative_risk_independent(0, 20, 0, 20).defined);
  EXPECT_FALSE(cf::relative_risk_independent(3, 0, 1, 20).defined);
}

TEST(SweepStats, RelativeRiskPaired) {
  // a = 10 both, b = 15 only under 1, c = 5 only under 2, d = 70: RR = 25/15,
  // se(log RR) = sqrt((15 + 5) / (25 · 15)) = 0.23094.
  const cf::RelativeRisk r = cf::relative_risk_paired(10, 15, 5, 70);
  ASSERT_TRUE(r.defined);
  EXPECT_EQ(r.n, 100);
  EXPECT_NEAR(r.rr, 25.0 / 15.0, 1e-12);
  EXPECT_NEAR(r.ci95[0], 1.0599178, 1e-6);
  EXPECT_NEAR(r.ci95[1], 2.6207484, 1e-6);
  // No discordant pair: the same outcome in every pair, RR exactly 1 with a zero-width interval.
  const cf::RelativeRisk same = cf::relative_risk_paired(7, 0, 0, 13);
  ASSERT_TRUE(same.defined);
  EXPECT_EQ(same.rr, 1.0);
  EXPECT_EQ(same.ci95[0], 1.0);
  EXPECT_EQ(same.ci95[1], 1.0);
  EXPECT_FALSE(cf::relative_risk_paired(0, 0, 4, 16).defined);  // no event under 1: RR 0
}

TEST(SweepStats, RelativeRiskCoverageBySimulation) {
  constexpr int kReps = 2000;
  const double mc_se = std::sqrt(0.95 * 0.05 / kReps);
  cf::detail::Rng rng(7, {2});
  // Paired: cell probabilities of (leak under 1, leak under 2), positively correlated as arms on
  // the same patient are; true RR = (p11 + p10) / (p11 + p01) = 0.35 / 0.25 = 1.4.
  const double p11 = 0.15, p10 = 0.20, p01 = 0.10;
  const double rr_paired = (p11 + p10) / (p11 + p01);
  int hits = 0;
  for (int r = 0; r < kReps; ++r) {
    long long a = 0, b = 0, c = 0, d = 0;
    for (int i = 0; i < 200; ++i) {
      const double u = rng.uniform();
      (u < p11 ? a : u < p11 + p10 ? b : u < p11 + p10 + p01 ? c : d) += 1;
    }
    const cf::RelativeRisk rr = cf::relative_risk_paired(a, b, c, d);
    hits += rr.defined && rr.ci95[0] <= rr_paired && rr_paired <= rr.ci95[1] ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(hits) / kReps, 0.95, 4 * mc_se);
  // Independent: 0.3 against 0.2 with 200 per group, RR 1.5.
  hits = 0;
  for (int r = 0; r < kReps; ++r) {
    const cf::RelativeRisk rr =
        cf::relative_risk_independent(binomial(rng, 200, 0.3), 200, binomial(rng, 200, 0.2), 200);
    hits += rr.defined && rr.ci95[0] <= 1.5 && 1.5 <= rr.ci95[1] ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(hits) / kReps, 0.95, 4 * mc_se);
}

TEST(SweepStats, PercentilesType7) {
  const std::vector<double> v{7, 1, 10, 4, 2, 9, 3, 8, 6, 5};  // 1..10, shuffled
  // NumPy: np.percentile(range(1, 11), [0, 5, 50, 95, 100]) = 1, 1.45, 5.5, 9.55, 10.
  EXPECT_DOUBLE_EQ(cf::percentile(v, 0.0), 1.0);
  EXPECT_NEAR(cf::percentile(v, 0.05), 1.45, 1e-12);
  EXPECT_NEAR(cf::percentile(v, 0.5), 5.5, 1e-12);
  EXPECT_NEAR(cf::percentile(v, 0.95), 9.55, 1e-12);
  EXPECT_DOUBLE_EQ(cf::percentile(v, 1.0), 10.0);
  EXPECT_TRUE(std::isnan(cf::percentile({}, 0.5)));
  const cf::Summary s = cf::summarize(v);
  EXPECT_EQ(s.n, 10);
  EXPECT_NEAR(s.mean, 5.5, 1e-12);
  EXPECT_NEAR(s.median, 5.5, 1e-12);
  EXPECT_EQ(s.min, 1.0);
  EXPECT_EQ(s.max, 10.0);
}

TEST(SweepStats, RandomStreamsAreDeterministicAndUniform) {
  cf::detail::Rng a(42, {3, 4}), b(42, {3, 4}), c(42, {3, 5});
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
  // below(n) is uniform: 60000 draws in 6 bins, each within 5 sigma of 10000.
  std::vector<int> bins(6, 0);
  for (int i = 0; i < 60000; ++i) ++bins[a.below(6)];
  for (int k : bins) EXPECT_NEAR(k, 10000, 5 * std::sqrt(60000 * (1.0 / 6) * (5.0 / 6)));
  // normal(): mean 0, variance 1 within 5 standard errors.
  double s = 0, s2 = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const double z = a.normal();
    s += z;
    s2 += z * z;
  }
  EXPECT_NEAR(s / kN, 0.0, 5 / std::sqrt(kN));
  EXPECT_NEAR(s2 / kN, 1.0, 5 * std::sqrt(2.0 / kN));
}

}  // namespace

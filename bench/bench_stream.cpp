// STREAM triad a = b + s c (McCalpin, "Memory bandwidth and machine balance", 1995) on Kokkos
// Views of doubles: the memory-bandwidth ceiling that the matvec is compared with. Bytes counted as
// STREAM does: 3 * 8 per element (two reads, one write; the write-allocate read is not counted,
// and the matvec byte model does not count it either, so the fraction compares like with like).

#include <algorithm>
#include <limits>

#include "bench/bench_common.hpp"

namespace cementflow::bench {

namespace {

constexpr double kTriadScalar = 3.0;
constexpr double kBytesPerElement = 3.0 * sizeof(double);
/// Triads timed (best kept) when the matvec needs the bandwidth and the stream benchmark did not
/// run.
constexpr int kInlineTriads = 10;

double g_stream_gbs = 0;

struct TriadArrays {
  DView<double*> a, b, c;
  explicit TriadArrays(long long n)
      : a("cementflow::bench::stream_a", static_cast<size_t>(n)),
        b("cementflow::bench::stream_b", static_cast<size_t>(n)),
        c("cementflow::bench::stream_c", static_cast<size_t>(n)) {
    Kokkos::deep_copy(b, 1.0);
    Kokkos::deep_copy(c, 2.0);
  }
  void triad() const {
    const auto ta = a, tb = b, tc = c;
    const double s = kTriadScalar;
    Kokkos::parallel_for(
        "cementflow::bench::stream_triad", Policy(0, static_cast<long long>(a.extent(0))),
        KOKKOS_LAMBDA(const long long i) { ta(i) = tb(i) + s * tc(i); });
  }
};

void stream_triad(benchmark::State& state) {
  const long long n = state.range(0);
  const TriadArrays arr(n);
  arr.triad();  // first touch outside the timing
  double total = 0, best = std::numeric_limits<double>::max();
  for (auto _ : state) {
    const double s = fenced_seconds([&] { arr.triad(); });
    state.SetIterationTime(s);
    total += s;
    best = std::min(best, s);
  }
  const double bytes = kBytesPerElement * static_cast<double>(n);
  // STREAM reports the best rate: the ceiling, least disturbed by other work on the machine.
  set_stream_triad_gbs(bytes / best * 1e-9);
  state.counters["GB/s"] = bytes * static_cast<double>(state.iterations()) / total * 1e-9;
  state.counters["best_GB/s"] = bytes / best * 1e-9;
  state.counters["bytes_per_iter"] = bytes;
}

}  // namespace

void set_stream_triad_gbs(double gbs) {
  g_stream_gbs = gbs;
}

double stream_triad_gbs() {
  if (g_stream_gbs > 0) return g_stream_gbs;
  const TriadArrays arr(kStreamLength);
  arr.triad();
  double best = std::numeric_limits<double>::max();
  for (int k = 0; k < kInlineTriads; ++k)
    best = std::min(best, fenced_seconds([&] { arr.triad(); }));
  g_stream_gbs = kBytesPerElement * static_cast<double>(kStreamLength) / best * 1e-9;
  return g_stream_gbs;
}

void register_stream() {
  benchmark::RegisterBenchmark("stream_triad", stream_triad)
      ->ArgName("doubles")
      ->Arg(kStreamLength)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace cementflow::bench

// The process-wide memory budget (include/cementflow/limits.hpp).

#include "cementflow/limits.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>

#include "cementflow/errors.hpp"

namespace cementflow {
namespace {
std::atomic<double> g_budget{0.0};
}

double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<double>(pages) * static_cast<double>(page);
}

double memory_budget_bytes() {
  const double b = g_budget.load();
  if (b > 0) return b;
  const double phys = physical_memory_bytes();
  return phys > 0 ? 0.8 * phys : 64.0 * 1024 * 1024 * 1024;
}

void set_memory_budget_bytes(double bytes) {
  g_budget.store(std::isfinite(bytes) && bytes > 0 ? bytes : 0.0);
}

std::string gigabytes(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

void check_memory(double bytes, const std::string& file, const std::string& key,
                  const std::string& what) {
  const double budget = memory_budget_bytes();
  if (!(bytes <= budget))
    throw InputError(file, key, "needs about " + gigabytes(bytes) + " (estimate: " + what + ")",
                     "at most the memory budget of " + gigabytes(budget) +
                         " (--max-memory-gb; default 80 % of this machine's RAM)");
}

}  // namespace cementflow

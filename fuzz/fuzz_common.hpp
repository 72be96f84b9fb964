#pragma once
// Shared by the libFuzzer harnesses (fuzz/fuzz_*.cpp): a private scratch folder per process, a
// small memory budget (inputs that would need more must be refused before allocating, exit 2),
// and the rule that only cementflow::InputError may leave a parser. Anything else (another
// exception, which the CLI reports with exit 1; a crash; a sanitizer report; a hang; a memory
// blow-up) is a finding.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cementflow/errors.hpp"
#include "cementflow/limits.hpp"

namespace cffuzz {

/// Memory budget of the harnesses; tools/fuzz.sh runs them with a larger -rss_limit_mb.
constexpr double kBudgetBytes = 256.0 * 1024 * 1024;

inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(base && *base ? base : "/tmp") /
                              ("cementflow-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    cementflow::set_memory_budget_bytes(kBudgetBytes);
    return d;
  }();
  return dir;
}

inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t n) {
  const std::filesystem::path p = scratch() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
  return p.string();
}

/// Runs f(); an InputError is the expected way to refuse input.
template <class F>
void expect_input_errors_only(F&& f) {
  try {
    f();
  } catch (const cementflow::InputError&) {
  }
}

}  // namespace cffuzz

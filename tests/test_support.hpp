#pragma once
// Helpers shared by the tests: paths to the real data and to the CLI, temp folders.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>

namespace cementflow::test {

/// ../shared/data beside the project root.
inline std::filesystem::path shared_data() {
  return CEMENTFLOW_SHARED_DATA;
}
inline std::filesystem::path source_dir() {
  return CEMENTFLOW_SOURCE_DIR;
}
inline std::string cli() {
  return CEMENTFLOW_CLI;
}

/// A fresh, empty folder under the system temp dir, unique per test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("cementflow_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// Runs a shell command, returns its exit status (0..255), stderr+stdout in `output`.
inline int run_command(const std::string& cmd, std::string* output = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace cementflow::test

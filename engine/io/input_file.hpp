#pragma once
// Reading text inputs at the boundary (issue 17): a path must name a regular file of bounded
// size (`run /dev/zero` read without limit), text must hold no NUL byte (a scene followed by a
// NUL, or "box.vdb\u0000junk" as a path, was silently accepted), and JSON nesting is bounded
// (74,000 nested arrays overflowed the stack when echoed). Host-only; no OpenVDB or Kokkos.

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace cementflow::detail {

/// Largest text input read whole (scenes, sweeps, CSV, calibration): 64 MiB.
constexpr std::size_t kMaxTextInputBytes = std::size_t(64) << 20;
/// Deepest JSON nesting accepted (scenes are 3-4 levels deep).
constexpr int kMaxJsonDepth = 64;

/// The whole content of a regular file of at most `max_bytes`; InputError(path, ...) naming
/// `expected` when it is missing, not a regular file (a folder, /dev/zero, a FIFO), too large or
/// unreadable.
std::string read_text_input(const std::string& path, const std::string& expected,
                            std::size_t max_bytes = kMaxTextInputBytes);

/// InputError(file, where, ...) when `text` holds a NUL byte (names its byte offset).
void check_no_nul(const std::string& text, const std::string& file, const std::string& where);

/// Parses JSON, refusing (InputError naming `file`) invalid JSON, a NUL byte (also inside
/// strings) and nesting deeper than kMaxJsonDepth, before any recursive walk of the value.
nlohmann::json parse_json_input(const std::string& text, const std::string& file,
                                const std::string& expected);

}  // namespace cementflow::detail

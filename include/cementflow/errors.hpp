#pragma once
/// @file errors.hpp
/// @brief Typed errors of the cementflow library. The library never exits; the CLI maps
///        InputError to exit status 2 and SimulationError to exit status 3 (SPEC.md §1).

#include <stdexcept>
#include <string>

namespace cementflow {

/// Invalid input: a scene, a grid, an image or an argument. Carries what and where.
class InputError : public std::runtime_error {
 public:
  /// @param file     the file (or "<argument>", "<scene>") the bad value came from
  /// @param key      the key, grid or column that holds it (may be empty)
  /// @param value    the offending value as text (may be empty)
  /// @param expected what was expected instead
  InputError(std::string file, std::string key, std::string value, std::string expected);

  const std::string& file() const noexcept { return file_; }
  const std::string& key() const noexcept { return key_; }
  const std::string& value() const noexcept { return value_; }
  const std::string& expected() const noexcept { return expected_; }

 private:
  std::string file_, key_, value_, expected_;
};

/// The simulation could not finish (diverged, no path for the cement, a limit hit).
/// What was computed so far has been written before this is thrown.
class SimulationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cementflow

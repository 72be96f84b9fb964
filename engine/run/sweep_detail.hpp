#pragma once
/// @file sweep_detail.hpp
/// @brief Internals shared by the sweep files (engine/run/sweep_*.cpp): the seeded random
///        streams, JSON reading and dotted paths into a scene.

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cementflow::detail {

/// SplitMix64 step (Steele, Lea & Flood 2014): advances `state`, returns the next output.
std::uint64_t splitmix64(std::uint64_t& state);
/// FNV-1a 64-bit hash of a text (stable across platforms, unlike std::hash).
std::uint64_t hash_text(const std::string& s);

/// A deterministic random stream keyed by a seed and a list of integers.
class Rng {
 public:
  Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> keys);
  std::uint64_t next();
  double uniform();                      ///< [0, 1), 53 random bits
  double normal();                       ///< standard normal (Box–Muller)
  std::uint64_t below(std::uint64_t n);  ///< uniform integer in [0, n), unbiased

 private:
  std::uint64_t state_;
};

/// Short text of a JSON value for error messages.
std::string show_json(const nlohmann::ordered_json& j);
/// Reads and parses a JSON file; InputError naming the file otherwise.
nlohmann::ordered_json read_json_file(const std::string& path, const std::string& what);
/// Parses JSON text; InputError naming `file` otherwise.
nlohmann::ordered_json parse_json(const std::string& text, const std::string& file,
                                  const std::string& what);
/// "a.b.0.c" -> {"a", "b", "0", "c"}.
std::vector<std::string> split_path(const std::string& path);
/// The node at a dotted path (objects by key, lists by index); missing object keys are created
/// when `create`; nullptr when the path is not in the document.
nlohmann::ordered_json* find_path(nlohmann::ordered_json& root, const std::string& path,
                                  bool create);

}  // namespace cementflow::detail

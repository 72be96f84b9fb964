#pragma once
// The JSON reader of the scene parser (engine/io/scene.cpp): JSON text to nlohmann::json with
// syntax errors and duplicate keys reported by line, and Obj, one JSON object with its dotted path,
// whose typed getters throw InputError naming the file, the key, the value and what was expected.
// Host-only.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cementflow/errors.hpp"

namespace cementflow::detail::scene_json {

using json = nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The offending value as short text for an error message.
inline std::string show(const json& v) {
  if (v.is_number_float() && !std::isfinite(v.get<double>())) return "a non-finite number";
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMaxShown = 80;
  if (s.size() > kMaxShown) s = s.substr(0, kMaxShown) + "...";
  return s;
}

inline std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

inline std::string number_text(double x) {
  std::ostringstream o;
  o.precision(6);
  o << x;
  return o.str();
}

/// A closed, open or half-open interval of allowed numbers.
struct Range {
  double lo = -kInf, hi = kInf;
  bool lo_open = false, hi_open = false;
  bool contains(double x) const {
    if (!std::isfinite(x)) return false;
    const bool above = lo_open ? x > lo : x >= lo;
    const bool below = hi_open ? x < hi : x <= hi;
    return above && below;
  }
};
constexpr Range kPositive{0, kInf, true, false};
constexpr Range kNonNegative{0, kInf, false, false};
constexpr Range kAny{};
constexpr Range kUnitOpenClosed{0, 1, true, false};  // (0, 1]
constexpr Range kUnitOpen{0, 1, true, true};         // (0, 1)

/// One JSON object of the scene, with its dotted path for error messages.
class Obj {
 public:
  Obj(const std::string& file, const json& j, std::string path)
      : file_(file), j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw InputError(file_, path_, show(j_), "an object {...}");
  }

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  /// Rejects every key not in `allowed`.
  void allow(const std::vector<std::string>& allowed) const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
        throw InputError(file_, key(it.key()), "", "one of: " + join(allowed));
  }

  bool has(const std::string& k) const { return j_.contains(k); }
  const json* get(const std::string& k) const {
    auto it = j_.find(k);
    return it == j_.end() ? nullptr : &*it;
  }
  const json& need(const std::string& k, const std::string& expected) const {
    const json* v = get(k);
    if (!v) throw InputError(file_, key(k), "", expected + " (required key missing)");
    return *v;
  }
  [[noreturn]] void fail(const std::string& k, const json& v, const std::string& expected) const {
    throw InputError(file_, key(k), show(v), expected);
  }

  Obj object(const std::string& k) const { return Obj(file_, need(k, "an object {...}"), key(k)); }

  double number(const std::string& k, const Range& r, const std::string& expected) const {
    return to_number(k, need(k, expected), r, expected);
  }
  double number(const std::string& k, const Range& r, const std::string& expected,
                double fallback) const {
    const json* v = get(k);
    return v ? to_number(k, *v, r, expected) : fallback;
  }

  long long integer(const std::string& k, long long lo, long long hi,
                    const std::string& expected) const {
    return to_integer(k, need(k, expected), lo, hi, expected);
  }
  long long integer(const std::string& k, long long lo, long long hi, const std::string& expected,
                    long long fallback) const {
    const json* v = get(k);
    return v ? to_integer(k, *v, lo, hi, expected) : fallback;
  }

  std::string string(const std::string& k, const std::string& expected) const {
    const json& v = need(k, expected);
    if (!v.is_string()) fail(k, v, expected);
    return v.get<std::string>();
  }
  std::string string(const std::string& k, const std::string& expected,
                     const std::string& fallback) const {
    return has(k) ? string(k, expected) : fallback;
  }

  bool boolean(const std::string& k, bool fallback) const {
    const json* v = get(k);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(k, *v, "true or false");
    return v->get<bool>();
  }

  /// Three finite numbers, each in `r`.
  std::array<double, 3> vec3(const std::string& k, const Range& r,
                             const std::string& expected) const {
    const json& v = need(k, expected);
    if (!v.is_array() || v.size() != 3) fail(k, v, expected);
    std::array<double, 3> out{};
    for (std::size_t i = 0; i < 3; ++i) {
      if (!v[i].is_number() || !r.contains(v[i].get<double>())) fail(k, v, expected);
      out[i] = v[i].get<double>();
    }
    return out;
  }

  /// A unit vector from three finite numbers that are not all zero.
  std::array<double, 3> direction(const std::string& k) const {
    const std::string expected = "a non-zero direction vector [x, y, z]";
    std::array<double, 3> d = vec3(k, kAny, expected);
    const double n = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(n > 0) || !std::isfinite(n)) fail(k, *get(k), expected);
    for (double& c : d) c /= n;
    return d;
  }

  /// A list of distinct strings, each one of `allowed`.
  std::vector<std::string> string_set(const std::string& k,
                                      const std::vector<std::string>& allowed) const {
    const json& v = *get(k);
    const std::string expected = "a list of distinct names from: " + join(allowed);
    if (!v.is_array()) fail(k, v, expected);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const json& e = v[i];
      const std::string ek = k + "[" + std::to_string(i) + "]";
      if (!e.is_string() ||
          std::find(allowed.begin(), allowed.end(), e.get<std::string>()) == allowed.end())
        fail(ek, e, "one of: " + join(allowed));
      if (std::find(out.begin(), out.end(), e.get<std::string>()) != out.end())
        fail(ek, e, "each name once (a duplicate)");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  double to_number(const std::string& k, const json& v, const Range& r,
                   const std::string& expected) const {
    if (!v.is_number() || !r.contains(v.get<double>())) fail(k, v, expected);
    return v.get<double>();
  }
  long long to_integer(const std::string& k, const json& v, long long lo, long long hi,
                       const std::string& expected) const {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(hi) || static_cast<long long>(u) < lo)
        fail(k, v, expected);
      return static_cast<long long>(u);
    }
    if (!v.is_number_integer()) fail(k, v, expected);
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi) fail(k, v, expected);
    return static_cast<long long>(x);
  }

  const std::string& file_;
  const json& j_;
  std::string path_;
};

/// Parses a scene's JSON text; throws InputError (file `file`) for invalid JSON, with line and
/// column, and for a key given twice in one object.
json parse_json_text(const std::string& text, const std::string& file);

}  // namespace cementflow::detail::scene_json

#include "cementflow/errors.hpp"

#include <cstdio>
#include <utility>

namespace cementflow {
namespace {
// The message is one line of bounded length (issue 17: a 50 MB string value was echoed whole):
// control characters are escaped and each part is cut at kMaxPart bytes.
constexpr std::size_t kMaxPart = 240;

std::string shown(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  for (; i < s.size() && out.size() < kMaxPart; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string compose_raw(const std::string& file, const std::string& key, const std::string& value,
                        const std::string& expected) {
  std::string m = file.empty() ? std::string("<input>") : file;
  if (!key.empty()) m += ": " + key;
  if (!value.empty()) m += ": got " + value;
  if (!expected.empty()) m += (value.empty() ? ": " : ", ") + std::string("expected ") + expected;
  return m;
}

std::string compose(const std::string& file, const std::string& key, const std::string& value,
                    const std::string& expected) {
  return compose_raw(shown(file), shown(key), shown(value), expected);
}
}  // namespace

InputError::InputError(std::string file, std::string key, std::string value, std::string expected)
    : std::runtime_error(compose(file, key, value, expected)),
      file_(std::move(file)),
      key_(std::move(key)),
      value_(std::move(value)),
      expected_(std::move(expected)) {}

}  // namespace cementflow

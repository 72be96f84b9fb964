#include "cementflow/errors.hpp"

#include <utility>

namespace cementflow {
namespace {
std::string compose(const std::string& file, const std::string& key, const std::string& value,
                    const std::string& expected) {
  std::string m = file.empty() ? std::string("<input>") : file;
  if (!key.empty()) m += ": " + key;
  if (!value.empty()) m += ": got " + value;
  if (!expected.empty()) m += (value.empty() ? ": " : ", ") + std::string("expected ") + expected;
  return m;
}
}  // namespace

InputError::InputError(std::string file, std::string key, std::string value, std::string expected)
    : std::runtime_error(compose(file, key, value, expected)),
      file_(std::move(file)),
      key_(std::move(key)),
      value_(std::move(value)),
      expected_(std::move(expected)) {}

}  // namespace cementflow

#include "engine/io/output_dir.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "cementflow/errors.hpp"

namespace cementflow::detail {

void make_output_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(dir, "--out", dir, "a folder that can be created and written");
}

void write_output_text(const std::string& dir, const std::string& name, const std::string& text) {
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  std::ofstream o(path);
  o << text;
  if (!o) throw InputError(path.string(), "--out", dir, "a writable output folder");
}

}  // namespace cementflow::detail

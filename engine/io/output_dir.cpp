#include "engine/io/output_dir.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include <unistd.h>

#include "cementflow/errors.hpp"

namespace cementflow::detail {

void make_output_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(dir, "--out", dir, "a folder that can be created and written");
}

std::string temporary_name(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}

void commit_temporary(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(path, "--out", "", "a writable output folder (rename failed)");
  }
}

void write_output_text(const std::string& dir, const std::string& name, const std::string& text) {
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  const std::string tmp = temporary_name(path.string());
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o << text;
    o.flush();
    if (!o) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw InputError(path.string(), "--out", dir, "a writable output folder");
    }
  }
  commit_temporary(tmp, path.string());
}

}  // namespace cementflow::detail

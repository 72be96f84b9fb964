#pragma once
/// @file output_dir.hpp
/// @brief The output folder of a command (run, fit-rheology): created on demand, text files
///        written into it; failures are InputErrors naming the folder and the `--out` key.

#include <string>

namespace cementflow::detail {

/// Creates `dir` (and its parents). Throws InputError when it cannot be created.
void make_output_dir(const std::string& dir);

/// Writes `text` to `dir`/`name` through a temporary file renamed into place, so that a killed
/// process never leaves a half-written file under the final name. Throws InputError naming the
/// file when it cannot be written.
/// `path` + ".tmp-<pid>": where a file is written before commit_temporary() renames it.
std::string temporary_name(const std::string& path);
/// Renames `tmp` to `path` (atomic on one file system); removes `tmp` and throws on failure.
void commit_temporary(const std::string& tmp, const std::string& path);

void write_output_text(const std::string& dir, const std::string& name, const std::string& text);

}  // namespace cementflow::detail

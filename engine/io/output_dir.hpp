#pragma once
/// @file output_dir.hpp
/// @brief The output folder of a command (run, fit-rheology): created on demand, text files
///        written into it; failures are InputErrors naming the folder and the `--out` key.

#include <string>

namespace cementflow::detail {

/// Creates `dir` (and its parents). Throws InputError when it cannot be created.
void make_output_dir(const std::string& dir);

/// Writes `text` to `dir`/`name`. Throws InputError naming the file when it cannot be written.
void write_output_text(const std::string& dir, const std::string& name, const std::string& text);

}  // namespace cementflow::detail

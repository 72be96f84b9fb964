#pragma once
// Subcommands that live in their own files (serve, slicer): each adds itself to the CLI11 app
// and returns the action to run when it was the one parsed.

#include <CLI/CLI.hpp>

#include <functional>

namespace cementflow::cli {

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> action;  ///< may throw the library's typed errors (main maps them)
};

/// `cementflow serve`: the HTTP service (service/server.hpp); without cpp-httplib in the build
/// it says so and exits 1.
Command add_serve_command(CLI::App& app);
/// `cementflow slicer`: the 3D Slicer CLI module (--xml prints its descriptor).
Command add_slicer_command(CLI::App& app);

}  // namespace cementflow::cli

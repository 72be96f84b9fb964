#pragma once
/// @file limits.hpp
/// @brief The memory budget: inputs that would need more memory than this are refused with an
///        InputError (exit 2) before anything is allocated (issue 17, SPEC.md §1
///        `--max-memory-gb`).

#include <cstdint>
#include <string>

namespace cementflow {

/// Physical memory of this machine in bytes (0 when unknown).
double physical_memory_bytes();

/// The budget in bytes: set_memory_budget_bytes(), else 80 % of the physical memory (64 GiB when
/// that is unknown).
double memory_budget_bytes();

/// Sets the budget (bytes > 0); 0 restores the default. Process-wide; the CLI's
/// `--max-memory-gb` sets it.
void set_memory_budget_bytes(double bytes);

/// Throws InputError(file, key, "needs about X GB (estimate: <what>)", "at most the budget of Y GB
/// (--max-memory-gb)") when `bytes` exceeds the budget.
void check_memory(double bytes, const std::string& file, const std::string& key,
                  const std::string& what);

/// "1.25 GB" style text for a byte count.
std::string gigabytes(double bytes);

}  // namespace cementflow

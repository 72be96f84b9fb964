#pragma once
// OpenVDB's global registration, behind a plain function so that Kokkos translation units need
// not include OpenVDB (compile firewall, DESIGN.md).

namespace cementflow::detail {
void openvdb_initialize();
void openvdb_uninitialize();
}  // namespace cementflow::detail

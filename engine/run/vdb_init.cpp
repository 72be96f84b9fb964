#include "engine/run/vdb_init.hpp"

#include <openvdb/openvdb.h>

namespace cementflow::detail {
void openvdb_initialize() {
  openvdb::initialize();
}
void openvdb_uninitialize() {
  openvdb::uninitialize();
}
}  // namespace cementflow::detail

#pragma once
// Checks the bytes of an OpenVDB file before OpenVDB reads them (issue 17). OpenVDB 10's reader
// trusts the counts a file states: it allocates a string, a metadata value or a compressed block
// at the stated size before reading it (a crafted bone VDB asked for 0x3ff0000000000000 bytes
// inside io::bloscFromStream: found by fuzz/fuzz_bone_vdb.cpp), and it reads an "uncompressed"
// block of the stated size into a node buffer of fixed size. Host-only (OpenVDB).

#include <cstddef>
#include <string>
#include <vector>

namespace cementflow::detail {

/// Walks the bytes of a .vdb file (file format 222..224, as openvdb::io::Stream reads it, grid
/// by grid: descriptor, metadata, transform, tree topology, leaf buffers; never the values) and
/// throws InputError(path, "grid 'NAME'" or "", what and at which byte, expected) where a stated
/// size runs past the file or disagrees with what OpenVDB will read into. Accepts the grid types
/// cementflow reads or lists (float, double, int32, int64, bool, vec3s, vec3d, vec3i; half-float
/// storage too).
/// Renames every grid's DelayedLoadMetadata type in place so that OpenVDB reads it as opaque
/// bytes (it corrupted the heap on a damaged one); run before check_vdb_stream, which refuses that
/// type. Defined in bone_io.cpp.
void disarm_delayed_load_metadata(std::vector<char>& bytes, const std::string& path);

/// What check_vdb_stream found.
struct VdbStreamCheck {
  double tree_bytes = 0;       ///< what OpenVDB will allocate for the trees (nodes, leaf buffers)
  std::size_t bytes_read = 0;  ///< where OpenVDB's reader stops (the file's size, unless padded)
};
VdbStreamCheck check_vdb_stream(const std::vector<char>& bytes, const std::string& path);

}  // namespace cementflow::detail

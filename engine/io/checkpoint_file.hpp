#pragma once
// The checkpoint file format (issue 17, README "Checkpoint and restart"). Host-only, no Kokkos,
// no OpenVDB: the Kokkos side (engine/run/checkpoint.cpp) fills a CheckpointData and hands it
// over.
//
// Layout (little-endian, as written by x86-64 and the CUDA hosts we build for):
//   bytes 0-7    magic "CFCKPT\r\n"
//   u32          format version (kCheckpointFormat)
//   u32          byte-order mark 0x01020304
//   u64          number of sections (at most kMaxSections)
//   per section  u32 type (0 text, 1 float64, 2 float32), u32 name length (1..kMaxNameBytes),
//                u64 element count, the name, the elements
//   u64          checksum: fnv1a64 of every byte before it
// The reader checks the magic and the version first (a file of another format version is named
// as such), then the size and the checksum, then every section's size against the bytes left,
// before it allocates anything.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/scene.hpp"

namespace cementflow::detail {

constexpr std::uint32_t kCheckpointFormat = 1;
constexpr char kCheckpointMagic[8] = {'C', 'F', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr std::uint64_t kMaxSections = 256;
constexpr std::uint32_t kMaxNameBytes = 256;

/// The content of a checkpoint: named text sections (key=value lines or free text) and named
/// arrays.
struct CheckpointData {
  std::map<std::string, std::string> text;
  std::map<std::string, std::vector<double>> f64;
  std::map<std::string, std::vector<float>> f32;
};

/// FNV-1a, 64 bit, over 8-byte little-endian words (then the tail bytes one by one): fast enough
/// for GB-sized fields; an identity check, not a cryptographic hash.
std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ULL);

/// 16 lower-case hex digits.
std::string hex64(std::uint64_t v);

/// Writes `data` to `path` through a temporary name renamed into place. Throws InputError naming
/// the file when it cannot be written.
void write_checkpoint_file(const std::string& path, const CheckpointData& data);

/// Reads and checks a checkpoint file (see the layout above). Throws InputError(path, key,
/// value, expected) for a missing, damaged, truncated or foreign file.
CheckpointData read_checkpoint_file(const std::string& path);

/// key=value lines (values must not hold a newline) and back. parse_key_values throws
/// InputError(path, section, ...) for a line without '='.
std::string key_values(const std::map<std::string, std::string>& kv);
std::map<std::string, std::string> parse_key_values(const std::string& text,
                                                    const std::string& path,
                                                    const std::string& section);

/// A double as text that reads back to the same double (%.17g).
std::string exact(double v);

/// The scene's canonical text (scene_hash hashes it): one key=value line per setting.
std::string canonical_scene(const Scene& scene);

/// The identity of the grid a run ran on (the sorted grid of download_grid): header keys
/// bone.voxel_mm, bone.blocks, bone.voxels, bone.active_voxels, bone.dims (extent in voxels of
/// its blocks), bone.checksum (fnv1a64 of its origin, block origins and fields).
std::map<std::string, std::string> bone_identity(const BoneBlocks& sorted);

}  // namespace cementflow::detail

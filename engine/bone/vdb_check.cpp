// The OpenVDB stream walker of vdb_check.hpp. It mirrors, read for read, what OpenVDB 10 does in
// io::Stream(std::istream&) for file formats 222..224: Archive::readHeader, MetaMap::readMeta,
// GridDescriptor::read, Archive::readGrid (per-grid compression, metadata, transform,
// Tree::readTopology, Tree::readBuffers) and io::readCompressedValues / readData /
// unzipFromStream / bloscFromStream. Where OpenVDB would allocate or read what the file states,
// the walker first checks the stated size against the bytes left and against the size OpenVDB
// reads into. Host-only (OpenVDB).

#include "engine/bone/vdb_check.hpp"

#include <openvdb/io/Compression.h>
#include <openvdb/openvdb.h>

#include <array>
#include <bitset>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "cementflow/errors.hpp"

namespace cementflow::detail {
namespace {

const char* const kExpected = "an undamaged OpenVDB .vdb file";
// Root node keys (voxel index of a tile or child) beyond this are refused: OpenVDB adds node
// extents (up to 4096 voxels) to them in int32 arithmetic. A bone at 0.01 mm spans < 1e5 voxels.
constexpr std::int64_t kMaxIndex = std::int64_t(1) << 30;

class StreamWalker {
 public:
  StreamWalker(const std::vector<char>& bytes, const std::string& path)
      : b_(reinterpret_cast<const unsigned char*>(bytes.data())), n_(bytes.size()), path_(path) {}

  VdbStreamCheck run() {
    if (get<std::int64_t>("the magic number") != std::int64_t(openvdb::OPENVDB_MAGIC)) {
      p_ = 0;
      fail("no OpenVDB magic number", "an OpenVDB .vdb file");
    }
    version_ = get<std::uint32_t>("the file format version");
    if (version_ < openvdb::OPENVDB_FILE_VERSION_NODE_MASK_COMPRESSION ||
        version_ > openvdb::OPENVDB_FILE_VERSION)
      fail("file format version " + std::to_string(version_),
           "format " + std::to_string(openvdb::OPENVDB_FILE_VERSION_NODE_MASK_COMPRESSION) + ".." +
               std::to_string(openvdb::OPENVDB_FILE_VERSION) + " (OpenVDB 3 to 10)");
    skip(4 + 4 + 1 + 36, "the header");  // library version, grid offsets flag, UUID
    meta_map();
    const auto grids = get<std::int32_t>("the grid count");
    // A grid takes at least 52 bytes: three strings, three offsets, compression, metadata
    // count, a transform name.
    if (grids < 0 || static_cast<std::uint64_t>(grids) > left() / 52)
      fail(std::to_string(grids) + " grids in " + std::to_string(left()) + " bytes");
    for (std::int32_t g = 0; g < grids; ++g) grid(g);
    return {tree_bytes_, p_};
  }

 private:
  // --- bytes -----------------------------------------------------------------------------------
  std::uint64_t left() const { return n_ - p_; }

  [[noreturn]] void fail(const std::string& what, const std::string& expected = kExpected) const {
    throw InputError(path_, key_, what + " at byte " + std::to_string(p_), expected);
  }
  void need(std::uint64_t k, const std::string& what) const {
    if (k > left())
      fail(what + " of " + std::to_string(k) + " bytes with " + std::to_string(left()) +
           " left in the file (truncated or damaged)");
  }
  void skip(std::uint64_t k, const std::string& what) {
    need(k, what);
    p_ += static_cast<std::size_t>(k);
  }
  template <typename T>
  T get(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_ + p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  /// openvdb::readString: a 32-bit length, then the characters.
  std::string str(const std::string& what) {
    const auto len = get<std::uint32_t>(what + "'s length");
    need(len, what);
    std::string s(reinterpret_cast<const char*>(b_ + p_), len);
    p_ += len;
    return s;
  }
  /// Set bits of the `nbytes`-byte node mask at the current position (read, not skipped).
  std::uint64_t mask_count(std::size_t nbytes, const std::string& what) {
    need(nbytes, what);
    std::uint64_t on = 0;
    for (std::size_t i = 0; i < nbytes; ++i) on += std::bitset<8>(b_[p_ + i]).count();
    p_ += nbytes;
    return on;
  }

  // --- metadata, transform -----------------------------------------------------------------------
  /// MetaMap::readMeta: a count, then name, type name, byte count and value for each.
  void meta_map() {
    const auto count = get<std::uint32_t>("the metadata count");
    need(std::uint64_t(count) * 12, std::to_string(count) + " metadata entries");
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::string name = str("a metadata name");
      const std::string type = str("metadata '" + name + "''s type");
      const auto size = get<std::uint32_t>("metadata '" + name + "''s size");
      const std::string what = "metadata '" + name + "' (" + type + ")";
      if (type == openvdb::StringMetadata::staticTypeName()) {
        skip(size, what);
        continue;
      }
      // TypedMetadata<T>::readValue reads sizeof(T) whatever size the file states.
      const std::size_t fixed = fixed_metadata_size(type);
      if (fixed > 0) {
        if (size != fixed)
          fail(what + " of " + std::to_string(size) + " bytes",
               "a " + type + " value of " + std::to_string(fixed) + " bytes");
        skip(size, what);
      } else if (openvdb::Metadata::isRegisteredType(type)) {
        // A type OpenVDB reads with its own layout (e.g. delayed-load metadata, which
        // read_vdb renames before this walk): not trusted.
        fail(what, "metadata of the plain types (string, bool, numbers, vectors, matrices)");
      } else {
        skip(size, what);  // UnknownMetadata: opaque bytes
      }
    }
  }

  static std::size_t fixed_metadata_size(const std::string& type) {
    using namespace openvdb;
    static const std::map<std::string, std::size_t> sizes = {
        {BoolMetadata::staticTypeName(), sizeof(bool)},
        {DoubleMetadata::staticTypeName(), sizeof(double)},
        {FloatMetadata::staticTypeName(), sizeof(float)},
        {Int32Metadata::staticTypeName(), sizeof(std::int32_t)},
        {Int64Metadata::staticTypeName(), sizeof(std::int64_t)},
        {Vec2IMetadata::staticTypeName(), sizeof(Vec2i)},
        {Vec2SMetadata::staticTypeName(), sizeof(Vec2s)},
        {Vec2DMetadata::staticTypeName(), sizeof(Vec2d)},
        {Vec3IMetadata::staticTypeName(), sizeof(Vec3i)},
        {Vec3SMetadata::staticTypeName(), sizeof(Vec3s)},
        {Vec3DMetadata::staticTypeName(), sizeof(Vec3d)},
        {Vec4IMetadata::staticTypeName(), sizeof(Vec4i)},
        {Vec4SMetadata::staticTypeName(), sizeof(Vec4s)},
        {Vec4DMetadata::staticTypeName(), sizeof(Vec4d)},
        {Mat4SMetadata::staticTypeName(), sizeof(Mat4s)},
        {Mat4DMetadata::staticTypeName(), sizeof(Mat4d)},
    };
    const auto it = sizes.find(type);
    return it == sizes.end() ? 0 : it->second;
  }

  /// Transform::read: the map's type name, then its fixed-size fields (math/Maps.h).
  void transform(int depth) {
    using namespace openvdb::math;
    const std::string type = str("the transform's map type");
    const std::size_t vec3d = sizeof(openvdb::Vec3d), mat4d = sizeof(openvdb::Mat4d);
    if (type == AffineMap::mapType() || type == UnitaryMap::mapType()) {
      skip(mat4d, "the " + type);
    } else if (type == ScaleMap::mapType() || type == UniformScaleMap::mapType()) {
      skip(5 * vec3d, "the " + type);
    } else if (type == TranslationMap::mapType()) {
      skip(vec3d, "the " + type);
    } else if (type == ScaleTranslateMap::mapType() ||
               type == UniformScaleTranslateMap::mapType()) {
      skip(6 * vec3d, "the " + type);
    } else if (type == NonlinearFrustumMap::mapType() && depth == 0) {
      skip(2 * vec3d + 2 * sizeof(double), "the " + type);  // bounding box, taper, depth
      transform(depth + 1);
    } else {
      fail("a transform of type '" + type + "'", "a linear or frustum transform");
    }
  }

  // --- grids -------------------------------------------------------------------------------------
  void grid(std::int32_t index) {
    key_ = "grid " + std::to_string(index);
    const std::string name = str("the grid name");
    key_ = "grid '" + name + "'";
    std::string type = str("the grid type");
    const std::string half_suffix = "_HalfFloat";  // GridDescriptor: saved as half floats
    const bool half =
        type.size() > half_suffix.size() &&
        type.compare(type.size() - half_suffix.size(), half_suffix.size(), half_suffix) == 0;
    if (half) type.resize(type.size() - half_suffix.size());
    const std::string parent = str("the instance parent name");
    using TreeFn = void (StreamWalker::*)(bool);
    static const std::map<std::string, TreeFn> readers = {
        {openvdb::FloatTree::treeType(), &StreamWalker::tree<openvdb::FloatTree>},
        {openvdb::DoubleTree::treeType(), &StreamWalker::tree<openvdb::DoubleTree>},
        {openvdb::Int32Tree::treeType(), &StreamWalker::tree<openvdb::Int32Tree>},
        {openvdb::Int64Tree::treeType(), &StreamWalker::tree<openvdb::Int64Tree>},
        {openvdb::BoolTree::treeType(), &StreamWalker::tree<openvdb::BoolTree>},
        {openvdb::Vec3STree::treeType(), &StreamWalker::tree<openvdb::Vec3STree>},
        {openvdb::Vec3DTree::treeType(), &StreamWalker::tree<openvdb::Vec3DTree>},
        {openvdb::Vec3ITree::treeType(), &StreamWalker::tree<openvdb::Vec3ITree>},
    };
    const auto reader = readers.find(type);
    if (reader == readers.end())
      fail("a grid of type '" + type + "'",
           "a float, double, int32, int64, bool, vec3s, vec3d or vec3i grid");
    skip(3 * sizeof(std::int64_t), "the grid offsets");
    compression_ = get<std::uint32_t>("the grid compression");
    const std::uint32_t known =
        openvdb::io::COMPRESS_ZIP | openvdb::io::COMPRESS_ACTIVE_MASK | openvdb::io::COMPRESS_BLOSC;
    if (compression_ & ~known)
      fail("compression flags " + std::to_string(compression_), "zip, blosc, active mask");
    meta_map();
    transform(0);
    if (parent.empty()) (this->*(reader->second))(half);  // an instance shares its parent's tree
  }

  /// Tree::readTopology (buffer count, root: background, tiles, children), then readBuffers.
  template <typename TreeT>
  void tree(bool half) {
    using RootT = typename TreeT::RootNodeType;
    using ValueT = typename TreeT::ValueType;
    (void)get<std::int32_t>("the tree's buffer count");
    skip(sizeof(ValueT), "the background value");
    const auto tiles = get<std::uint32_t>("the root tile count");
    const auto children = get<std::uint32_t>("the root child count");
    constexpr std::uint64_t tile_bytes = 3 * sizeof(std::int32_t) + sizeof(ValueT) + sizeof(bool);
    need(std::uint64_t(tiles) * tile_bytes, std::to_string(tiles) + " root tiles");
    for (std::uint32_t t = 0; t < tiles; ++t) {
      root_key();
      skip(sizeof(ValueT) + sizeof(bool), "a root tile");
    }
    // The root keeps one child per key (a later one replaces an earlier one, which still costs
    // memory) and reads the buffers of the children it keeps.
    std::map<std::array<std::int32_t, 3>, std::uint64_t> leaves_of;
    for (std::uint32_t c = 0; c < children; ++c) {
      const auto key = root_key();
      std::uint64_t leaves = 0;
      internal<typename RootT::ChildNodeType>(half, leaves);
      leaves_of[key] = leaves;
    }
    tree_bytes_ += 64.0 * (double(tiles) + double(children));  // the root's map entries
    for (const auto& kv : leaves_of)
      for (std::uint64_t l = 0; l < kv.second; ++l) leaf_buffer<typename TreeT::LeafNodeType>(half);
  }

  std::array<std::int32_t, 3> root_key() {
    std::array<std::int32_t, 3> k{};
    for (auto& c : k) {
      c = get<std::int32_t>("a root node key");
      if (c < -kMaxIndex || c > kMaxIndex)
        fail("a root node at voxel index " + std::to_string(c),
             "voxel indices within +-" + std::to_string(kMaxIndex));
    }
    return k;
  }

  /// InternalNode::readTopology: child mask, value mask, compressed values, then the children.
  template <typename NodeT>
  void internal(bool half, std::uint64_t& leaves) {
    using ChildT = typename NodeT::ChildNodeType;
    using ValueT = typename NodeT::ValueType;
    constexpr std::size_t mask_bytes = NodeT::NUM_VALUES / 8;
    const std::uint64_t nchildren = mask_count(mask_bytes, "a node's child mask");
    const std::uint64_t active = mask_count(mask_bytes, "a node's value mask");
    compressed<ValueT>(NodeT::NUM_VALUES, active, half, mask_bytes);
    tree_bytes_ += double(sizeof(NodeT));
    for (std::uint64_t c = 0; c < nchildren; ++c) {
      if constexpr (NodeT::LEVEL == 1) {
        skip(ChildT::NUM_VALUES / 8, "a leaf's value mask");  // LeafNode::readTopology
        ++leaves;
        tree_bytes_ += double(sizeof(ChildT));
        if constexpr (!std::is_same_v<ValueT, bool>)  // the leaf buffer, allocated apart
          tree_bytes_ += double(ChildT::SIZE) * double(sizeof(ValueT));
      } else {
        internal<ChildT>(half, leaves);
      }
    }
  }

  /// LeafNode::readBuffers (non-seekable stream): the value mask again, then the values.
  template <typename LeafT>
  void leaf_buffer(bool half) {
    using ValueT = typename LeafT::ValueType;
    constexpr std::size_t mask_bytes = LeafT::NUM_VALUES / 8;
    if constexpr (std::is_same_v<ValueT, bool>) {
      skip(mask_bytes + 3 * sizeof(std::int32_t) + mask_bytes, "a bool leaf");  // mask, origin
    } else {
      const std::uint64_t active = mask_count(mask_bytes, "a leaf's value mask");
      compressed<ValueT>(LeafT::SIZE, active, half, mask_bytes);
    }
  }

  /// io::readCompressedValues: a flag, up to two inactive values, a selection mask, the data.
  template <typename ValueT>
  void compressed(std::uint64_t count, std::uint64_t active, bool half, std::size_t mask_bytes) {
    namespace io = openvdb::io;
    const auto flag = get<std::int8_t>("a node's compression flag");
    if (flag == io::NO_MASK_AND_ONE_INACTIVE_VAL || flag == io::MASK_AND_ONE_INACTIVE_VAL)
      skip(sizeof(ValueT), "an inactive value");
    if (flag == io::MASK_AND_TWO_INACTIVE_VALS) skip(2 * sizeof(ValueT), "two inactive values");
    if (flag == io::MASK_AND_NO_INACTIVE_VALS || flag == io::MASK_AND_ONE_INACTIVE_VAL ||
        flag == io::MASK_AND_TWO_INACTIVE_VALS)
      skip(mask_bytes, "a selection mask");
    const bool mask_compressed = compression_ & io::COMPRESS_ACTIVE_MASK;
    const std::uint64_t n = mask_compressed && flag != io::NO_MASK_AND_ALL_VALS ? active : count;
    using Half = io::RealToHalf<ValueT>;
    const bool as_half = half && Half::isReal;
    if (as_half && n == 0) return;  // HalfReader reads nothing for no values
    const std::uint64_t elem = as_half ? sizeof(typename Half::HalfT) : sizeof(ValueT);
    data(n * elem);
  }

  /// readData: blosc or zip blocks (a 64-bit size, negative for a stored block) or raw bytes.
  void data(std::uint64_t nbytes) {
    namespace io = openvdb::io;
    if (!(compression_ & (io::COMPRESS_BLOSC | io::COMPRESS_ZIP))) {
      skip(nbytes, "a block of values");
      return;
    }
    const bool blosc = compression_ & io::COMPRESS_BLOSC;
    const auto stated = get<std::int64_t>("a compressed block's size");
    if (stated <= 0) {  // stored: OpenVDB reads -stated bytes into a buffer of nbytes
      if (stated == std::numeric_limits<std::int64_t>::min() ||
          static_cast<std::uint64_t>(-stated) != nbytes)
        fail("an uncompressed block of " +
                 (stated == std::numeric_limits<std::int64_t>::min() ? std::string("2^63")
                                                                     : std::to_string(-stated)) +
                 " bytes",
             "the " + std::to_string(nbytes) + " bytes of the node's values");
      skip(nbytes, "an uncompressed block");
      return;
    }
    const auto size = static_cast<std::uint64_t>(stated);
    need(size, blosc ? "a blosc block" : "a zip block");
    if (blosc) {
      // Blosc 1 header: version, versionlz, flags, typesize, nbytes, blocksize, cbytes (the
      // decompressor trusts nbytes and cbytes, not the size OpenVDB read).
      if (size < 16) fail("a blosc block of " + std::to_string(size) + " bytes");
      std::uint32_t raw = 0, cbytes = 0;
      std::memcpy(&raw, b_ + p_ + 4, 4);
      std::memcpy(&cbytes, b_ + p_ + 12, 4);
      if (raw != nbytes || cbytes > size)
        fail("a blosc block of " + std::to_string(size) + " bytes that states " +
                 std::to_string(cbytes) + " compressed and " + std::to_string(raw) +
                 " uncompressed bytes",
             "the " + std::to_string(nbytes) + " bytes of the node's values");
    }
    p_ += static_cast<std::size_t>(size);
  }

  const unsigned char* b_;
  std::size_t n_, p_ = 0;
  std::string path_, key_;
  std::uint32_t version_ = 0, compression_ = 0;
  double tree_bytes_ = 0;
};

}  // namespace

VdbStreamCheck check_vdb_stream(const std::vector<char>& bytes, const std::string& path) {
  return StreamWalker(bytes, path).run();
}

}  // namespace cementflow::detail

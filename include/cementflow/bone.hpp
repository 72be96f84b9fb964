#pragma once
/// @file bone.hpp
/// @brief The bone model on the host: sparse 8^3 blocks (OpenVDB leaf layout) with material,
///        porosity and principal permeability per voxel (SPEC.md §2). No OpenVDB types here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cementflow {

/// Tissue classes (SPEC.md §2).
enum class Material : std::int32_t {
  SoftTissue = 0,   ///< soft tissue / outside (leak destination, sink)
  Trabecular = 1,   ///< trabecular bone (porous)
  Cortical = 2,     ///< cortical shell and endplates
  Cavity = 3,       ///< void: balloon cavity, fracture cleft
  Vein = 4,         ///< vein / vascular channel (leak destination)
  Disc = 5,         ///< intervertebral disc (leak destination)
  SpinalCanal = 6,  ///< spinal canal (leak destination)
  NeedleTrack = 7   ///< needle track
};
constexpr std::int32_t kInactive = -1;  ///< material code of a voxel outside the model
constexpr std::int32_t kMaxMaterial = 7;

/// True for materials where cement counts as leaked (codes 0, 4, 5, 6).
constexpr bool is_leak_destination(std::int32_t m) {
  return m == 0 || m == 4 || m == 5 || m == 6;
}

/// Leak routes of SPEC.md §5 (Yeom et al. 2003 classes, PHYSICS.md §M5).
enum class LeakRoute : std::int32_t {
  None = -1,
  BasivertebralVein = 0,
  SegmentalVein = 1,
  CorticalBreach = 2,
  EndplateDisc = 3,
  SpinalCanal = 4,
  SoftTissue = 5
};
constexpr int kNumLeakRoutes = 6;
/// SPEC.md name of a route ("basivertebral_vein", ...).
const char* route_name(LeakRoute r);

/// Sparse bone model. Voxel (i,j,k) of the index space has its centre at
/// origin_mm + voxel_mm * (i,j,k) in patient RAS+ millimetres (SPEC.md §2).
struct BoneBlocks {
  static constexpr int kBlockDim = 8;
  static constexpr int kBlockVoxels = 512;
  /// Index of voxel (x,y,z), 0 <= x,y,z < 8, inside its block: x fastest.
  static constexpr int local_index(int x, int y, int z) {
    return x + kBlockDim * (y + kBlockDim * z);
  }

  double voxel_mm = 0.5;                     ///< isotropic voxel edge, mm
  std::array<double, 3> origin_mm{0, 0, 0};  ///< world position of the centre of voxel (0,0,0)
  std::vector<std::array<int, 3>>
      block_origin;                    ///< index of each block's first voxel (multiples of 8)
  std::vector<std::int32_t> material;  ///< nblocks*512; kInactive outside the model
  std::vector<float> porosity;         ///< nblocks*512; pore fraction 0..1
  std::vector<float> permeability;     ///< nblocks*512*3 (kx,ky,kz) in m^2; empty = derive
  std::vector<std::int32_t> route;     ///< nblocks*512 LeakRoute codes; empty = derive

  std::size_t num_blocks() const { return block_origin.size(); }
  std::size_t num_voxels() const { return material.size(); }
  /// Number of voxels with a material (not kInactive).
  std::size_t active_voxels() const;
  /// Resize all per-voxel arrays for n blocks (material kInactive, porosity 0).
  void resize(std::size_t nblocks);
  /// World position (mm) of the centre of voxel v of block b.
  std::array<double, 3> voxel_center_mm(std::size_t b, int v) const;
};

/// Parameters of the built-in box phantom (SPEC.md §3).
struct BoxPhantom {
  std::array<double, 3> size_mm{40, 30, 25};
  double voxel_mm = 0.5;
  double porosity = 0.9;
  std::array<double, 3> permeability_m2{0, 0, 0};  ///< all zero = the engine's law
  double shell_mm = 0;                             ///< cortical shell thickness, 0 = none
  std::vector<std::string> sink_faces;             ///< "+x","-x",...: soft-tissue faces
  /// Optional straight vein (material 4) from `vein_start_mm` to the box face it points at.
  bool vein = false;
  std::array<double, 3> vein_start_mm{0, -8, 0};
  std::array<double, 3> vein_direction{0, -1, 0};
  double vein_diameter_mm = 1.5;
  LeakRoute vein_route = LeakRoute::BasivertebralVein;
};

/// Builds the box phantom (centred on the origin).
BoneBlocks generate_box(const BoxPhantom& p);

/// Parameters of the lumbar vertebra generator (SPEC.md §1 `generate vertebra`,
/// engine/bone/vertebra.cpp).
struct VertebraParams {
  std::uint64_t seed = 1;    ///< drives the body's dimensions and the BV/TV field
  double voxel_mm = 0.5;     ///< isotropic voxel edge, mm
  bool osteoporotic = true;  ///< osteoporotic (default) or healthy trabecular BV/TV
  enum class Fracture { None, Wedge, Cleft } fracture = Fracture::None;
};

/// Dimensions and summary of a generated vertebra (what the generator built, for reports/tests).
struct VertebraInfo {
  double width_mm = 0, depth_mm = 0, height_mm = 0;  ///< body at the endplates (x, y, z)
  double body_volume_ml = 0;  ///< voxels of the vertebral body (shell, trabecular, cavity, veins)
  double bvtv_target = 0;     ///< mean trabecular BV/TV the field was scaled to
  std::array<double, 3> shift_mm{0, 0, 0};  ///< generator frame -> centroid frame offset
};

/// "none", "wedge", "cleft" -> Fracture; throws InputError(file, key, name, ...) otherwise.
VertebraParams::Fracture fracture_from_name(const std::string& name, const std::string& file,
                                            const std::string& key);
/// Name of a fracture variant ("none", "wedge", "cleft").
const char* fracture_name(VertebraParams::Fracture f);

/// Checks a vertebra's parameters (voxel size > 0 and small enough to resolve the shell, model
/// within the memory limit). Throws InputError(file, key_prefix + "voxel_mm", ...).
void check_vertebra_params(const VertebraParams& p, const std::string& file,
                           const std::string& key_prefix);

/// Generates a lumbar vertebral body with cortical shell, endplates, trabecular BV/TV field,
/// basivertebral and segmental veins, pedicles, spinal canal, discs and a soft-tissue layer,
/// centred on the body's centroid (SPEC.md §2), completed (permeability law, routes). Seeded and
/// deterministic. Throws InputError (file "<arguments>") for bad parameters.
BoneBlocks generate_vertebra(const VertebraParams& p, VertebraInfo* info = nullptr);

/// True when `p_mm` (scene coordinates) lies inside the generated vertebral body's trabecular
/// interior: inside the analytic shape by the shell (endplates along z) plus one voxel along every
/// axis. A cheap check for needle tips before the bone is built; the run checks the voxels.
bool vertebra_contains(const VertebraParams& p, const std::array<double, 3>& p_mm);

/// Reads a bone file (SPEC.md §2) and checks it: grid types, value ranges, NaN, transforms.
/// Throws InputError naming the file, the grid and the problem.
BoneBlocks load_bone(const std::string& vdb_path);

/// Writes a bone as a SPEC.md §2 file (material, porosity, permeability when present).
void save_bone(const BoneBlocks& bone, const std::string& vdb_path);
/// save_bone with extra file-level string metadata (provenance: source image, threshold, ...).
void save_bone(const BoneBlocks& bone, const std::string& vdb_path,
               const std::vector<std::pair<std::string, std::string>>& metadata);

/// Fills `permeability` from porosity and material by the engine's documented law
/// (engine/bone/permeability.cpp, PHYSICS.md §L3a) where it is empty, and `route` where it is
/// empty.
void complete_bone(BoneBlocks& bone);

/// The engine's permeability law for trabecular bone: principal (kx, ky, kz) in m^2 for a pore
/// fraction phi (Kozeny–Carman form calibrated to Baroud et al. 2004; see permeability.cpp).
std::array<double, 3> trabecular_permeability(double phi);

}  // namespace cementflow

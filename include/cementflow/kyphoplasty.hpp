#pragma once
/// @file kyphoplasty.hpp
/// @brief Kyphoplasty balloons (PHYSICS.md §M4, §L6): the cavity a balloon leaves in trabecular
///        bone, the compacted rim that keeps the displaced bone, and the cavity-fill measures of
///        the report. Host-only; works on any BoneBlocks (box phantom, generated vertebra, file).

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow {

/// One inflated balloon, scene coordinates in mm (SPEC.md §3, "Kyphoplasty"). Its shape is a
/// capsule: a cylinder with hemispherical ends along `axis`, `length_mm` from end to end, with
/// the radius that gives `volume_ml` (balloon_radius_mm).
struct Balloon {
  std::array<double, 3> center_mm{0, 0, 0};
  std::array<double, 3> axis{0, 1, 0};  ///< unit vector (any sign)
  double length_mm = 15;                ///< end to end, hemispherical caps included
  double volume_ml = 3;                 ///< inflated volume = the cavity left behind
};

/// What carving one balloon did.
struct BalloonStats {
  double balloon_volume_ml = 0;         ///< the balloon's inflated volume (input)
  double radius_mm = 0;                 ///< capsule radius from the volume and the length
  double cavity_volume_ml = 0;          ///< voxels turned into cavity (material 3) x voxel volume
  long long cavity_voxels = 0;          ///< how many
  double displaced_bone_volume_ml = 0;  ///< sum (1 - phi) voxel volume over the cavity voxels
  double rim_volume_ml = 0;             ///< volume of the voxels that took up that bone
  long long rim_voxels = 0;             ///< how many
  double rim_thickness_mm = 0;          ///< equivalent uniform rim thickness (see balloon.cpp)
  double rim_bv_tv = 0;                 ///< mean BV/TV of the rim after compaction
  double native_bv_tv = 0;              ///< mean BV/TV of the rim voxels before compaction
};

/// What carving all balloons did, and the bone volume before and after (conservation check).
struct KyphoplastyStats {
  std::vector<BalloonStats> balloons;
  double bone_volume_before_ml = 0;  ///< sum (1 - phi) voxel volume over all active voxels
  double bone_volume_after_ml = 0;
};

/// Radius (mm) of the capsule with end-to-end length `length_mm` and volume `volume_ml`:
/// V = pi r^2 (L - 2r) + 4/3 pi r^3. Returns 0 when no capsule of that length holds the volume
/// (V > pi L^3 / 6, the sphere of diameter L) or an input is not positive.
double balloon_radius_mm(double length_mm, double volume_ml);

/// Largest volume (mL) a balloon of end-to-end length `length_mm` can hold: pi L^3 / 6.
double balloon_max_volume_ml(double length_mm);

/// End-to-end length (mm) of a catalogue balloon "nominal length / volume" (e.g. Kyphon Xpander
/// 10/3, 15/3, 20/3 and Express 10/2, 15/2: nominal length in mm / maximal volume in mL, Medtronic
/// IFU M708348B151E; A) inflated to `volume_ml`: the inflatable part keeps its nominal length
/// between the radiopaque end markers and grows radially, with hemispherical ends, so
/// V = pi r^2 L_n + 4/3 pi r^3 and the length end to end is L_n + 2r (shape assumption, C: no
/// published inflated dimensions found). Returns 0 for a non-positive input.
double catalogue_balloon_length_mm(double nominal_length_mm, double volume_ml);

/// Inflates the balloons in `bone` and withdraws them (PHYSICS.md §M4): the voxels nearest each
/// balloon's axis segment, round(V / h^3) of them, become cavity (material 3, porosity 1, empty:
/// filled with marrow-like fluid at the start of the fill); the bone they held is pushed, nearest
/// first, into the surrounding trabecular voxels, each compacted up to twice its native BV/TV
/// (PHYSICS.md §L6, apparent density up to ~2x native, C), until all of it is placed. Bone volume
/// is conserved to float rounding. Rim permeability follows the trabecular law at the new
/// porosity (the given k scaled by law(phi_new) / law(phi_old)); the cavity's is set by
/// complete_bone (1e3 x the bone's largest k, engine/bone/permeability.cpp). Cortex, endplates and
/// every other material are left as they are.
///
/// A cavity the bone already has (material 3, a fracture cleft) may lie inside a balloon: it stays
/// cavity and counts towards the balloon's volume.
///
/// Throws InputError(file, key of the balloon, value, expected) for a balloon that is not inside
/// trabecular bone (it would cut the cortex, reach a vein, soft tissue or outside the model), that
/// overlaps another balloon, whose volume is not positive, below half a
/// voxel, above pi L^3 / 6 or above the bone's trabecular volume, or when the trabecular bone
/// around it cannot take the displaced bone. `keys[i]` names balloon i in errors (default
/// "injection.balloons[i]").
KyphoplastyStats carve_balloons(BoneBlocks& bone, const std::vector<Balloon>& balloons,
                                const std::string& file = "<scene>",
                                const std::vector<std::string>& keys = {});

/// Cement in and around the cavities (material 3) after a fill.
struct CavityFill {
  bool has_cavity = false;          ///< the model has cavity voxels
  double cavity_volume_ml = 0;      ///< pore volume of the cavity voxels
  double cavity_fill_fraction = 0;  ///< cement volume in the cavity / cavity pore volume
  /// 95th percentile, weighted by cement volume, of the distance from the cavity surface of the
  /// cement in bone outside the cavity (leaked cement excluded); 0 when there is none. The
  /// distance of a voxel is |x - x_c| - h/2 to the nearest cavity voxel centre x_c (a face
  /// neighbour of the cavity is at h/2).
  double interdigitation_depth_mm = 0;
  double cement_outside_cavity_ml = 0;  ///< cement in bone (not leaked) outside the cavity
};

/// Measures the cavity fill on a bone and a per-voxel cement fraction (0..1 of the pore space,
/// same layout as `bone`).
CavityFill measure_cavity_fill(const BoneBlocks& bone, const std::vector<float>& cement_fraction);

}  // namespace cementflow

// The engine's permeability law and per-material defaults (SPEC.md §2: "when absent it is derived
// from porosity and material by the engine's documented law"), and the leak route of each voxel.

#include <algorithm>
#include <cmath>
#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow {

namespace {

// Kozeny–Carman form k = phi^3 / (c_K (1 - phi)^2 S^2) (PHYSICS.md §L3a), with c_K S^2 fitted
// once, as PHYSICS.md advises ("fit c_K per dataset"), so that k_SI = 4.45e-8 m^2 at phi = 0.90:
// Baroud et al. 2004 (human lumbar cores, superior–inferior, 4.45 ± 1.72e-8 m^2, confidence A)
// at the middle of Kinzl et al.'s augmented-vertebra porosities 0.86–0.94 (confidence A).
constexpr double kRefPermeabilitySI = 4.45e-8;  // m^2
constexpr double kRefPorosity = 0.90;
// Anisotropy: k_AP / k_SI = 3.44e-8 / 4.45e-8 = 0.773 (Baroud et al. 2004, A); medio-lateral taken
// equal to anterior–posterior (PHYSICS.md §L7). Axes are RAS+: x = ML, y = AP, z = SI.
constexpr double kTransverseRatio = 3.44 / 4.45;
// The law diverges as phi -> 1; above this pore fraction the bone is treated as phi = 0.98, where
// k_SI = 2.1e-5 m^2, already ~500x the reference: such voxels behave as a cavity (PHYSICS.md §M2).
constexpr double kMaxLawPorosity = 0.98;

// Cortical bone: vascular (Haversian/Volkmann) permeability is of order 1e-13..1e-15 m^2
// (Cowin, J Biomech 1999;32:217, "Bone poroelasticity"; confidence C). 1e-14 m^2 is ~4e6 times
// less than trabecular bone, so the shell confines the cement unless it is breached.
constexpr double kCorticalPermeability = 1e-14;  // m^2
// Veins: Poiseuille channel k = r^2 / 8 (PHYSICS.md §M2) for a basivertebral/segmental vein of
// radius 1 mm (veins of 1–3 mm diameter; confidence C): 1.25e-7 m^2.
constexpr double kVeinRadius = 1e-3;  // m
// Cavity (balloon cavity, fracture cleft): free fluid as a porous region 1e3 times more permeable
// than the most permeable bone voxel (PHYSICS.md §M2: results must not depend on the value beyond
// that ratio).
constexpr double kCavityRatio = 1e3;

double law_si(double phi) {
  const double p = std::clamp(phi, 0.0, kMaxLawPorosity);
  const double ref =
      kRefPorosity * kRefPorosity * kRefPorosity / ((1 - kRefPorosity) * (1 - kRefPorosity));
  return kRefPermeabilitySI * (p * p * p / ((1 - p) * (1 - p))) / ref;
}

}  // namespace

std::array<double, 3> trabecular_permeability(double phi) {
  const double k = law_si(phi);
  return {kTransverseRatio * k, kTransverseRatio * k, k};
}

void complete_bone(BoneBlocks& bone) {
  const size_t nv = bone.num_voxels();
  const bool fill_all = bone.permeability.size() != 3 * nv;
  if (fill_all) bone.permeability.assign(3 * nv, 0.0f);

  // Largest and median trabecular permeability (SI axis) of this bone.
  std::vector<float> trab;
  for (size_t i = 0; i < nv; ++i) {
    if (bone.material[i] != static_cast<int>(Material::Trabecular)) continue;
    const float* k = &bone.permeability[3 * i];
    trab.push_back(k[0] == 0 && k[1] == 0 && k[2] == 0
                       ? static_cast<float>(trabecular_permeability(bone.porosity[i])[2])
                       : std::max({k[0], k[1], k[2]}));
  }
  double kmax = trabecular_permeability(kRefPorosity)[2], kmed = kmax;
  if (!trab.empty()) {
    kmax = *std::max_element(trab.begin(), trab.end());
    std::nth_element(trab.begin(), trab.begin() + static_cast<long>(trab.size() / 2), trab.end());
    kmed = trab[trab.size() / 2];
  }

  for (size_t i = 0; i < nv; ++i) {
    const int m = bone.material[i];
    if (m == kInactive) continue;
    float* k = &bone.permeability[3 * i];
    if (k[0] != 0 || k[1] != 0 || k[2] != 0) continue;  // given by the bone file or the scene
    std::array<double, 3> v{0, 0, 0};
    switch (static_cast<Material>(m)) {
      case Material::Trabecular:
      case Material::NeedleTrack:  // the track left in trabecular bone: same law (C)
        v = trabecular_permeability(bone.porosity[i]);
        break;
      case Material::Cortical:
        v = {kCorticalPermeability, kCorticalPermeability, kCorticalPermeability};
        break;
      case Material::Cavity:
        v = {kCavityRatio * kmax, kCavityRatio * kmax, kCavityRatio * kmax};
        break;
      case Material::Vein: {
        const double kv = kVeinRadius * kVeinRadius / 8;
        v = {kv, kv, kv};
        break;
      }
      case Material::SoftTissue:
      case Material::Disc:
      case Material::SpinalCanal:
        // Beyond a breach the destination is modelled as no more resistant than the bone (the
        // median trabecular k of this bone), so the breach, not the destination, limits a leak:
        // the conservative choice for a leak-risk estimate (modelling choice, confidence C).
        v = {kmed, kmed, kmed};
        break;
    }
    for (int a = 0; a < 3; ++a) k[a] = static_cast<float>(v[a]);
  }

  // Routes (SPEC.md §5): disc -> endplate_disc, canal -> spinal_canal, soft tissue ->
  // cortical_breach when the model has a cortical shell (cement can only reach it through a
  // breach) else soft_tissue; veins -> basivertebral when they sit behind the body's centroid near
  // the mid-sagittal plane (the basivertebral foramen is in the posterior wall, PHYSICS.md §L5b),
  // else segmental.
  // Routes given by the bone (the `leak_route` grid) are kept; the others are derived.
  if (bone.route.size() != nv) bone.route.assign(nv, static_cast<int>(LeakRoute::None));
  bool has_cortex = false;
  double c[3] = {0, 0, 0}, lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  size_t nbody = 0;
  for (size_t b = 0; b < bone.num_blocks(); ++b)
    for (int v = 0; v < BoneBlocks::kBlockVoxels; ++v) {
      const int m = bone.material[b * BoneBlocks::kBlockVoxels + static_cast<size_t>(v)];
      if (m == static_cast<int>(Material::Cortical)) has_cortex = true;
      if (m != static_cast<int>(Material::Trabecular) && m != static_cast<int>(Material::Cortical))
        continue;
      const auto p = bone.voxel_center_mm(b, v);
      for (int a = 0; a < 3; ++a) {
        c[a] += p[a];
        lo[a] = std::min(lo[a], p[a]);
        hi[a] = std::max(hi[a], p[a]);
      }
      ++nbody;
    }
  if (nbody > 0)
    for (double& x : c) x /= static_cast<double>(nbody);
  const double mid_band = nbody > 0 ? 0.25 * (hi[0] - lo[0]) : 0.0;
  for (size_t b = 0; b < bone.num_blocks(); ++b)
    for (int v = 0; v < BoneBlocks::kBlockVoxels; ++v) {
      const size_t i = b * BoneBlocks::kBlockVoxels + static_cast<size_t>(v);
      if (bone.route[i] != static_cast<int>(LeakRoute::None)) continue;
      LeakRoute r = LeakRoute::None;
      switch (bone.material[i]) {
        case 0:
          r = has_cortex ? LeakRoute::CorticalBreach : LeakRoute::SoftTissue;
          break;
        case 4: {
          const auto p = bone.voxel_center_mm(b, v);
          r = (p[1] < c[1] && std::abs(p[0] - c[0]) <= mid_band) ? LeakRoute::BasivertebralVein
                                                                 : LeakRoute::SegmentalVein;
          break;
        }
        case 5:
          r = LeakRoute::EndplateDisc;
          break;
        case 6:
          r = LeakRoute::SpinalCanal;
          break;
        default:
          break;
      }
      bone.route[i] = static_cast<int>(r);
    }
}

}  // namespace cementflow

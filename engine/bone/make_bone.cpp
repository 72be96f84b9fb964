// The bone factory (SPEC.md §3 "bone"): the bone model a scene names, completed (permeability law,
// leak routes) and, for kyphoplasty, with its balloon cavities carved. The scene was checked by
// the parser (engine/io/scene.cpp); errors of the import name the scene's key.

#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/import.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "cementflow/scene.hpp"
#include "engine/io/run_modes.hpp"

namespace cementflow {

std::vector<std::string> balloon_keys(const Scene& scene) {
  std::vector<std::string> keys;
  const auto& b = scene.injection.balloons;
  for (std::size_t i = 0; i < b.size(); ++i)
    keys.push_back(scene.injection.balloon_list || b.size() > 1
                       ? "injection.balloons[" + std::to_string(i) + "]"
                       : std::string("injection.balloon"));
  return keys;
}

BoneBlocks make_bone(const Scene& scene, KyphoplastyStats* stats) {
  BoneBlocks bone;
  if (scene.bone.kind == BoneSource::Kind::Import) {
    ImportOptions o = scene.bone.import;
    // Errors name the scene's key when they concern an argument of the import.
    try {
      bone = import_image(o).bone;  // completed by the import (permeability law, routes)
    } catch (const InputError& e) {
      if (e.file() != "<arguments>") throw;
      throw InputError(scene.file, "bone.import", e.value(), e.expected() + " (" + e.key() + ")");
    }
  } else {
    switch (scene.bone.kind) {
      case BoneSource::Kind::File:
        bone = load_bone(scene.bone.vdb_path);
        break;
      case BoneSource::Kind::Vertebra:
        bone = generate_vertebra(scene.bone.vertebra);
        break;
      default:
        bone = generate_box(scene.bone.box);
        break;
    }
    complete_bone(bone);
  }
  if (detail::injection_mode(scene.injection) == detail::InjectionMode::Kyphoplasty) {
    const KyphoplastyStats ks =
        carve_balloons(bone, scene.injection.balloons, scene.file.empty() ? "<scene>" : scene.file,
                       balloon_keys(scene));
    if (stats) *stats = ks;
  }
  return bone;
}

}  // namespace cementflow

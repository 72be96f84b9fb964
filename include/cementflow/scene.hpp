#pragma once
/// @file scene.hpp
/// @brief A scene (SPEC.md §3): bone, cement, marrow, injection, simulation and output settings,
///        parsed and checked once at the boundary and converted to SI.

#include <array>
#include <string>
#include <vector>

#include "cementflow/bone.hpp"
#include "cementflow/gateway.hpp"
#include "cementflow/import.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "cementflow/needle.hpp"
#include "cementflow/rheology.hpp"

namespace cementflow {

/// One needle (cannula) of a vertebroplasty injection, scene coordinates in mm.
struct Needle {
  std::array<double, 3> tip_mm{0, 0, 0};
  std::array<double, 3> direction{0, 1, 0};  ///< unit vector from hub to tip
  int gauge = 11;                            ///< Stubs gauge, 0 if an inner diameter was given
  double inner_diameter_mm = 2.39;
  double length_mm = 120;
  /// Stepped cannula (extension "proximal": {...}): a wider hub-side section of this inner
  /// diameter and length before the tip section above; 0 = none.
  double proximal_inner_diameter_mm = 0;
  double proximal_length_mm = 0;
  bool side_opening = false;  ///< "opening": "side"
};

/// The sections of a needle's cannula, hub side first (one, or two for a stepped cannula).
std::vector<CannulaSection> cannula_sections(const Needle& n);

/// Where the bone comes from.
struct BoneSource {
  enum class Kind { File, Box, Vertebra, Import } kind = Kind::Box;
  std::string vdb_path;  ///< resolved against the scene file's folder
  BoxPhantom box;
  VertebraParams vertebra;  ///< for Kind::Vertebra
  ImportOptions import;     ///< Kind::Import (extension): image paths resolved like vdb_path
};

/// The injection (SPEC.md §3).
struct Injection {
  std::string mode = "vertebroplasty";  ///< "vertebroplasty" or "kyphoplasty"
  std::vector<Needle> needles;          ///< kyphoplasty: the filler cannula(s), tips in a cavity
  std::vector<Balloon> balloons;        ///< kyphoplasty only: carved by make_bone before the fill
  bool balloon_list = false;            ///< given as a list under "balloons" (for error keys)
  double flow_rate_m3_s = 5e-8;         ///< total over all needles (3 mL/min)
  double volume_m3 = 4e-6;              ///< target injected volume
  double start_after_mixing_s = 300;
  double max_pressure_pa = 10e6;  ///< injection-pressure limit (extension: max_pressure_mpa)
  bool stop_at_leak = false;      ///< extension: stop at the first leak
};

/// Numerical settings (SPEC.md §3 "simulation", with extensions).
struct SimulationSettings {
  double max_time_s = 600;
  double output_interval_s = 10;
  double pressure_tolerance = 1e-8;  ///< relative residual of the pressure solve
  int max_solver_iterations = 20000;
  double courant = 1.0;            ///< front cells filled per step (implicit transport)
  double picard_tolerance = 1e-2;  ///< relative viscosity change between Picard iterates
  int max_picard_iterations = 8;
  double corey_exponent = 1;        ///< relative permeability exponent (1 = linear)
  double arrival_saturation = 0.5;  ///< cement fraction that counts as arrival
  /// Pressure-solve preconditioner: "multigrid" (geometric W-cycle, default) or "jacobi".
  std::string preconditioner = "multigrid";
  /// Picard iterates solved loosely, the last one polished to pressure_tolerance (extension).
  bool inexact_picard = true;
  /// Time stepping (extension, issue 13): "volume" (default: steps sized in injected volume,
  /// bounded by max_front_courant and pressure_change, leak onsets located by bisection) or
  /// "front_courant" (the reference: courant x the front's one-cell crossing time).
  std::string time_stepping = "volume";
  double volume_step_m3 = 1e-7;   ///< "volume": injected volume per step (volume_step_ml 0.1)
  double max_front_courant = 4;   ///< "volume": front cells crossed per step at most
  double pressure_change = 0.02;  ///< "volume": relative injection-pressure change per step
  /// "volume": a step injects at most this fraction of the cement already injected (plus one
  /// voxel's volume per needle): the bolus grows self-similarly, so relative steps keep the tip
  /// pressure's time error uniform while the bolus is a few voxels across (issue 15).
  double max_volume_growth = 0.1;
  /// "volume": Picard iterates per step (1: the viscosity lags one step behind the pressure,
  /// updated from each step's solve; more: iterate to picard_tolerance on the total mobility).
  int volume_picard_iterations = 1;
};

/// A whole scene.
struct Scene {
  int schema = 1;
  std::string name = "scene";
  std::string file;  ///< where it was read from ("" if built in code)
  BoneSource bone;
  Rheology cement;
  double marrow_viscosity_pa_s = 0.04;  ///< Bryant et al. 1989 (PHYSICS.md §L2)
  LeakGateways gateways;                ///< extension "leak_gateways" (docs/PHYSICS-LEAKS.md §G)
  Injection injection;
  SimulationSettings simulation;
  std::vector<std::string> output_grids{"cement_fraction", "arrival_time", "pressure"};
};

/// Reads and checks a scene file. Throws InputError naming the file, the key and the value.
Scene load_scene(const std::string& path);
/// Parses scene JSON text; `file` names it in errors and resolves relative paths.
Scene parse_scene(const std::string& json_text, const std::string& file);

/// Loads or generates the scene's bone and completes it (permeability law, routes); for a
/// kyphoplasty scene it then carves the balloons (carve_balloons) and, when `stats` is given,
/// stores what they did there. Throws InputError for a bad bone or balloon.
BoneBlocks make_bone(const Scene& scene, KyphoplastyStats* stats = nullptr);

/// Error-message keys of the scene's balloons ("injection.balloon" or "injection.balloons[i]").
std::vector<std::string> balloon_keys(const Scene& scene);

}  // namespace cementflow

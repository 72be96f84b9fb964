#pragma once
/// @file run_fields.hpp
/// @brief The fields a run computed, on the grid it ran on (for writers and tests).

#include <vector>

#include "cementflow/bone.hpp"

namespace cementflow {

/// Fields on the (Morton-sorted) grid the engine ran on, for writers and tests.
struct RunFields {
  BoneBlocks grid;                     ///< the bone as the engine used it (sorted blocks)
  std::vector<float> cement_fraction;  ///< per voxel, 0..1 of pore space
  std::vector<float> arrival_time;     ///< seconds after start of injection, <0 never
  std::vector<float> pressure;         ///< Pa gauge
  std::vector<float> viscosity;        ///< cement viscosity Pa·s
  std::vector<float> velocity;         ///< Darcy velocity, 3 per voxel (x,y,z), m/s
};

}  // namespace cementflow

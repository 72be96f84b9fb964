#pragma once
/// @file cementflow.hpp
/// @brief The cementflow library: load or generate a bone, build a scene, run it (with progress
///        and cancel), get the report as a struct and as JSON (SPEC.md §7); sweeps, samples and
///        cohorts (sweep.hpp).

#include "cementflow/bone.hpp"
#include "cementflow/checkpoint.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/import.hpp"
#include "cementflow/info.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "cementflow/limits.hpp"
#include "cementflow/needle.hpp"
#include "cementflow/pressure_curve.hpp"
#include "cementflow/render.hpp"
#include "cementflow/report.hpp"
#include "cementflow/rheology.hpp"
#include "cementflow/rheology_fit.hpp"
#include "cementflow/runtime.hpp"
#include "cementflow/scene.hpp"
#include "cementflow/simulation.hpp"
#include "cementflow/sweep.hpp"
#include "cementflow/version.hpp"

#pragma once
// The state of one injection run on the device (PHYSICS.md §M2): the fields the time loop
// advances, and how they start. Kokkos translation units only.

#include <vector>

#include "cementflow/scene.hpp"
#include "cementflow/simulation.hpp"
#include "engine/grid/device_grid.hpp"
#include "engine/solve/rheology_params.hpp"

namespace cementflow::detail {

/// Fields per voxel (nblocks * kBlockVoxels each) and the scalars of the injection.
struct RunState {
  DView<double*> s;           ///< cement saturation (fraction of pore space)
  DView<double*> p;           ///< pressure (Pa gauge)
  DView<double*> q;           ///< cement source (m^3/s) at the needle tips
  DView<double*> mu;          ///< cement viscosity (Pa s)
  DView<double*> lambda;      ///< total mobility (1/(Pa s))
  DView<double*> speed;       ///< Darcy speed for the shear rate (m/s)
  DView<double*> bout;        ///< cement volume that left through the outer boundary (m^3)
  DView<double*> pore;        ///< cement volume held or leaked per voxel (m^3; the tally)
  DView<double*> k_geo;       ///< geometric-mean permeability (m^2), the §L4 closure's k
  DView<double*> cure_state;  ///< cure state of the voxel's cement (empty without curing)
  DView<float*> arrival;      ///< arrival time (s), -1 before
  DView<float*> vel;          ///< Darcy velocity, 3 per voxel (m/s)
  DView<int*> route_of;       ///< leak route of a destination voxel, kNumLeakRoutes bone, -1 out

  double t = 0;              ///< time since the start of the injection (s)
  double injected = 0;       ///< injected volume (m^3)
  double syringe_state = 0;  ///< cure state of the cement still in the syringe
};

/// Allocates and initialises the state: the sources at the tips (flow shared equally by the
/// needles), the route codes, k_geo, the cure state of the syringe cement at the start of the
/// injection (aged at room temperature since mixing) and the viscosity of that cement at rest.
RunState make_run_state(const DeviceGrid& grid, const Scene& scene, const CementParams& cement,
                        const std::vector<long long>& tips);

/// Ages the cement by dt: in the bone at body temperature (kernels::AgeCement), in the syringe at
/// room temperature (PHYSICS.md §L1c).
void age_cement(const Scene& scene, const CementParams& cement, double dt, RunState& st);

/// Copies the fields back to the host, on the grid `sorted` the engine ran on (download_grid).
RunFields collect_fields(const RunState& st, BoneBlocks sorted);

}  // namespace cementflow::detail

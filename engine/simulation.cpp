// The injection simulation (PHYSICS.md §M2, DESIGN.md "Numerics"): IMPES time stepping on the
// device block grid. Per step: Picard iteration between the pressure solve and the cement
// viscosity (Christopher–Middleman shear rate), then implicit upwind transport of the cement
// saturation over a step sized by the filling front, then the leak tally by route.

#include "cementflow/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "cementflow/errors.hpp"
#include "cementflow/kyphoplasty.hpp"
#include "cementflow/needle.hpp"
#include "cementflow/runtime.hpp"
#include "cementflow/version.hpp"
#include "engine/device_grid.hpp"
#include "engine/fill_writer.hpp"
#include "engine/gateway.hpp"
#include "engine/output_dir.hpp"
#include "engine/pressure_solver.hpp"
#include "engine/rheology_params.hpp"
#include "engine/transport.hpp"
#include "engine/well.hpp"
#include "kernels/rheology_kernels.hpp"
#include "kernels/transport_kernels.hpp"

namespace cementflow {

namespace {

using detail::DView;
using detail::ExecSpace;
using Policy = Kokkos::RangePolicy<ExecSpace>;

constexpr double kM3PerMl = 1e-6;
// A route counts as leaked once it holds 1 mm^3 of cement: far below what CT shows (a few tens of
// mm^3), so first_time_s marks the onset (assumption; PHYSICS.md §L5b on detectability).
constexpr double kLeakOnsetM3 = 1e-9;
// Leak-risk score: 1 - exp(-V_leak / 0.05 mL) from the simulated leak volume, and a near-miss
// term 0.5 exp(-d / 2 mm) from the gap between the cement and the nearest leak destination.
// 0.05 mL is of the order of the smallest leaks reported on CT (Yeom et al. 2003; assumption,
// confidence C); classes: low < 0.2 <= moderate < 0.6 <= high.
constexpr double kRiskVolumeMl = 0.05;
constexpr double kRiskGapMm = 2.0;
constexpr long long kMaxSteps = 2000000;
// Picard iterates are solved to this fraction of the Picard tolerance (relative residual), the
// last one then to simulation.pressure_tolerance. 1e-2 x 1e-2 = 1e-4 by default: the relative
// pressure error it leaves moves the Christopher-Middleman viscosity (~ speed^(n-1), n ~ 0.6)
// by far less than the 1 % the Picard loop tolerates (measured: bench/README.md).
constexpr double kPicardLooseFactor = 1e-2;

std::string fmt3(const std::array<double, 3>& v) {
  std::ostringstream o;
  o << "[" << v[0] << ", " << v[1] << ", " << v[2] << "]";
  return o.str();
}

const char* material_name(int m) {
  static const char* names[] = {"soft tissue",      "trabecular bone", "cortical bone",
                                "cavity",           "a vein",          "the disc",
                                "the spinal canal", "needle track"};
  return (m >= 0 && m <= kMaxMaterial) ? names[m] : "outside the model";
}

/// The sorted grid on the host with its block table: input checks and post-processing.
struct HostGrid {
  BoneBlocks g;
  std::vector<std::array<int, 6>> nb;
  std::unordered_map<std::uint64_t, int> block_of;

  static std::uint64_t key(int bx, int by, int bz) {
    const auto u = [](int c) { return static_cast<std::uint64_t>(c + (1 << 20)) & 0x1fffffULL; };
    return u(bx) | (u(by) << 21) | (u(bz) << 42);
  }
  void build(BoneBlocks grid, const DView<int* [6]>& dnb) {
    g = std::move(grid);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), dnb);
    nb.resize(g.num_blocks());
    for (size_t b = 0; b < g.num_blocks(); ++b) {
      for (int d = 0; d < 6; ++d) nb[b][static_cast<size_t>(d)] = h(b, d);
      const auto& o = g.block_origin[b];
      block_of[key(o[0] >> 3, o[1] >> 3, o[2] >> 3)] = static_cast<int>(b);
    }
  }
  /// Global voxel index of the voxel containing point mm, or -1.
  long long find(const std::array<double, 3>& mm) const {
    int ijk[3];
    for (int a = 0; a < 3; ++a)
      ijk[a] = static_cast<int>(std::lround(
          (mm[static_cast<size_t>(a)] - g.origin_mm[static_cast<size_t>(a)]) / g.voxel_mm));
    const auto it = block_of.find(key(ijk[0] >> 3, ijk[1] >> 3, ijk[2] >> 3));
    if (it == block_of.end()) return -1;
    return static_cast<long long>(it->second) * 512 +
           BoneBlocks::local_index(ijk[0] & 7, ijk[1] & 7, ijk[2] & 7);
  }
  long long neighbour(long long i, int d) const {
    const int b = static_cast<int>(i / 512), v = static_cast<int>(i % 512);
    int c[3] = {v & 7, (v >> 3) & 7, v >> 6};
    const int a = d >> 1;
    c[a] += (d & 1) ? 1 : -1;
    int blk = b;
    if (c[a] < 0 || c[a] > 7) {
      blk = nb[static_cast<size_t>(b)][static_cast<size_t>(d)];
      if (blk < 0) return -1;
      c[a] &= 7;
    }
    return static_cast<long long>(blk) * 512 + BoneBlocks::local_index(c[0], c[1], c[2]);
  }
  bool active(long long j) const { return j >= 0 && g.material[static_cast<size_t>(j)] >= 0; }
  std::array<double, 3> center(long long i) const {
    return g.voxel_center_mm(static_cast<size_t>(i / 512), static_cast<int>(i % 512));
  }
  bool conducts(long long i) const {
    const auto u = static_cast<size_t>(i);
    return g.material[u] >= 0 && g.porosity[u] > 0 &&
           (g.permeability[3 * u] > 0 || g.permeability[3 * u + 1] > 0 ||
            g.permeability[3 * u + 2] > 0);
  }
  bool outlet(long long i) const {
    if (!is_leak_destination(g.material[static_cast<size_t>(i)])) return false;
    for (int d = 0; d < 6; ++d)
      if (!active(neighbour(i, d))) return true;
    return false;
  }
};

std::string needle_key(const Scene& s, size_t k, const char* leaf) {
  if (s.injection.needles.size() == 1) return std::string("injection.needle.") + leaf;
  return "injection.needles[" + std::to_string(k) + "]." + leaf;
}

/// Checks the needle tips and that the cement and the displaced marrow have a way out; returns the
/// tip voxels. Throws InputError naming the scene key.
std::vector<long long> check_injection(const Scene& scene, const HostGrid& hg) {
  const std::string file = scene.file.empty() ? "<scene>" : scene.file;
  std::array<double, 3> lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
  for (size_t b = 0; b < hg.g.num_blocks(); ++b)
    for (int a = 0; a < 3; ++a) {
      const double o = hg.g.origin_mm[static_cast<size_t>(a)] +
                       hg.g.voxel_mm * hg.g.block_origin[b][static_cast<size_t>(a)];
      lo[static_cast<size_t>(a)] = std::min(lo[static_cast<size_t>(a)], o);
      hi[static_cast<size_t>(a)] = std::max(hi[static_cast<size_t>(a)], o + 7 * hg.g.voxel_mm);
    }
  std::vector<long long> tips;
  for (size_t k = 0; k < scene.injection.needles.size(); ++k) {
    const auto& nd = scene.injection.needles[k];
    const long long i = hg.find(nd.tip_mm);
    const int m = i >= 0 ? hg.g.material[static_cast<size_t>(i)] : kInactive;
    if (m == kInactive) {
      std::ostringstream e;
      e << "a point inside the bone model (its blocks span x " << lo[0] << ".." << hi[0] << ", y "
        << lo[1] << ".." << hi[1] << ", z " << lo[2] << ".." << hi[2] << " mm)";
      throw InputError(file, needle_key(scene, k, "tip_mm"), fmt3(nd.tip_mm), e.str());
    }
    if (m == static_cast<int>(Material::Cortical) || is_leak_destination(m))
      throw InputError(file, needle_key(scene, k, "tip_mm"),
                       fmt3(nd.tip_mm) + " (in " + material_name(m) + ")",
                       "the tip in trabecular bone, a cavity or the needle track");
    // Kyphoplasty: the bone filler delivers into a balloon cavity (PHYSICS.md §M4).
    if (scene.injection.mode == "kyphoplasty" && m != static_cast<int>(Material::Cavity))
      throw InputError(file, needle_key(scene, k, "tip_mm"),
                       fmt3(nd.tip_mm) + " (in " + material_name(m) + ")",
                       "the filler tip inside a balloon cavity (material 3; make_bone carves the "
                       "balloons of a kyphoplasty scene)");
    if (!hg.conducts(i))
      throw InputError(file, needle_key(scene, k, "tip_mm"), fmt3(nd.tip_mm) + " (no pore space)",
                       "the tip in a voxel with porosity > 0 and permeability > 0");
    tips.push_back(i);
  }

  // Flood fill from the tips through conducting voxels: is there an outlet, and how much pore
  // space (outside the leak destinations) can the cement reach?
  std::vector<char> seen(hg.g.num_voxels(), 0);
  std::deque<long long> queue;
  for (long long t : tips)
    if (!seen[static_cast<size_t>(t)]) {
      seen[static_cast<size_t>(t)] = 1;
      queue.push_back(t);
    }
  bool outlet = false;
  double pore_mm3 = 0;
  const double vox_mm3 = hg.g.voxel_mm * hg.g.voxel_mm * hg.g.voxel_mm;
  while (!queue.empty()) {
    const long long i = queue.front();
    queue.pop_front();
    const auto u = static_cast<size_t>(i);
    if (hg.outlet(i)) outlet = true;
    if (!is_leak_destination(hg.g.material[u]))
      pore_mm3 += static_cast<double>(hg.g.porosity[u]) * vox_mm3;
    for (int d = 0; d < 6; ++d) {
      const long long j = hg.neighbour(i, d);
      if (j < 0 || seen[static_cast<size_t>(j)] || !hg.conducts(j)) continue;
      seen[static_cast<size_t>(j)] = 1;
      queue.push_back(j);
    }
  }
  if (!outlet)
    throw InputError(file, "bone", "no outlet reachable from the needle tip",
                     "a leak destination (material 0, 4, 5 or 6) on the model's outer boundary, "
                     "where the displaced marrow can leave (SPEC.md §2)");
  const double pore_ml = pore_mm3 * 1e-3;
  if (scene.injection.volume_m3 / kM3PerMl > pore_ml) {
    std::ostringstream e;
    e << "at most " << pore_ml << " mL, the pore volume of the bone reachable from the needle tip";
    throw InputError(file, "injection.volume_ml",
                     std::to_string(scene.injection.volume_m3 / kM3PerMl), e.str());
  }
  return tips;
}

double sum_where(const DView<double*>& x, const DView<int*>& key, int want) {
  double s = 0;
  Kokkos::parallel_reduce(
      "cementflow::simulation::sum_where", Policy(0, static_cast<int>(x.extent(0))),
      KOKKOS_LAMBDA(int i, double& acc) {
        if (key(i) == want) acc += x(i);
      },
      s);
  return s;
}

/// Cement volume per voxel (pore cement plus what left through the boundary there), then its
/// sums over the bone and over each leak route.
void tally(const detail::DeviceGrid& grid, const DView<double*>& s, const DView<double*>& bout,
           const DView<int*>& route_of, DView<double*>& pore, double* in_bone,
           std::array<double, kNumLeakRoutes>* route_vol) {
  const auto mat = grid.material;
  const auto phi = grid.porosity;
  const double vox = grid.h_m * grid.h_m * grid.h_m;
  Kokkos::parallel_for(
      "cementflow::simulation::cement_volume", Policy(0, static_cast<int>(grid.num_voxels())),
      KOKKOS_LAMBDA(int i) {
        pore(i) = mat(i) >= 0 ? static_cast<double>(phi(i)) * vox * s(i) + bout(i) : 0.0;
      });
  *in_bone = sum_where(pore, route_of, kNumLeakRoutes);
  for (int r = 0; r < kNumLeakRoutes; ++r)
    (*route_vol)[static_cast<size_t>(r)] = sum_where(pore, route_of, r);
}

/// Cement viscosity per voxel (PHYSICS.md §L4 porous closure, §L1c cure shift): the law at the
/// Christopher–Middleman shear rate of the voxel's Darcy speed, times the cure factor of the
/// voxel's cement (of the fresh cement `fresh_state` where there is none yet) at the bone
/// temperature t_body (K). Returns the largest relative change where there is cement or a source
/// (the Picard convergence measure).
double update_cement_viscosity(const detail::DeviceGrid& grid, const kernels::RheologyParams& rheo,
                               const kernels::CureParams& cure, double t_body, double fresh_state,
                               const DView<double*>& k_geo, const DView<double*>& s,
                               const DView<double*>& q, const DView<double*>& speed,
                               const DView<double*>& cure_state, const DView<double*>& mu) {
  const auto mat = grid.material;
  const auto phi = grid.porosity;
  double change = 0;
  Kokkos::parallel_reduce(
      "cementflow::simulation::picard_viscosity", Policy(0, static_cast<int>(grid.num_voxels())),
      KOKKOS_LAMBDA(int i, double& m) {
        if (mat(i) < 0 || phi(i) <= 0) return;
        const double kg = k_geo(i);
        const double f =
            cure.model == kernels::CureParams::none
                ? 1.0
                : kernels::cure_factor(cure, s(i) > 0 ? cure_state(i) : fresh_state, t_body);
        const double mn = kernels::porous_viscosity(rheo, speed(i), kg, phi(i), f);
        if (s(i) > 0 || q(i) > 0) {
          const double c = kernels::math::fabs(mn - mu(i)) / mu(i);
          if (c > m) m = c;
        }
        mu(i) = mn;
      },
      Kokkos::Max<double>(change));
  return change;
}

/// Largest cannula pressure drop over the needles (PHYSICS.md §M3) for cement `r`.
double cannula_drop(const Rheology& r, const Injection& inj, double q_needle) {
  double dp = 0;
  for (const auto& nd : inj.needles)
    dp = std::max(dp, cannula_pressure_drop(r, q_needle, cannula_sections(nd)));
  return dp;
}

}  // namespace

RunResult simulate(const Scene& scene, const BoneBlocks& bone, const RunOptions& options) {
  const auto wall0 = std::chrono::steady_clock::now();
  RunResult result;
  Report& rep = result.report;
  rep.scene = scene.name;
  rep.engine.version = CEMENTFLOW_VERSION_STRING;
  rep.engine.backend = Runtime::backend();
  rep.engine.threads = Runtime::concurrency();

  // --- grid on the device, and its sorted copy on the host -----------------------------------
  detail::DeviceGrid grid = detail::build_device_grid(bone);
  HostGrid hg;
  hg.build(detail::download_grid(grid, bone), grid.neighbour);
  rep.grid.voxel_mm = bone.voxel_mm;
  rep.grid.active_voxels = static_cast<long long>(hg.g.active_voxels());
  rep.grid.blocks = grid.nblocks;

  const std::vector<long long> tips = check_injection(scene, hg);
  const int n = static_cast<int>(grid.num_voxels());
  const auto& inj = scene.injection;
  const auto& sim = scene.simulation;
  const double Q = inj.flow_rate_m3_s;
  const double q_needle = Q / static_cast<double>(inj.needles.size());

  // --- fields -----------------------------------------------------------------------------------
  DView<double*> s("cementflow::simulation::saturation", n),
      p("cementflow::simulation::pressure", n);
  DView<double*> q("cementflow::simulation::source", n), mu("cementflow::simulation::mu_c", n);
  DView<double*> lambda("cementflow::simulation::lambda_t", n),
      speed("cementflow::simulation::speed", n);
  DView<double*> bout("cementflow::simulation::boundary_out", n);
  DView<double*> pore("cementflow::simulation::pore_cement", n);
  DView<float*> arrival("cementflow::simulation::arrival", n);
  DView<float*> vel("cementflow::simulation::velocity", 3 * static_cast<size_t>(n));
  DView<int*> route_of("cementflow::simulation::route_or_bone", n);
  Kokkos::deep_copy(arrival, -1.0f);
  {
    auto hq = Kokkos::create_mirror_view(q);
    Kokkos::deep_copy(hq, 0.0);
    for (long long t : tips) hq(t) += q_needle;
    Kokkos::deep_copy(q, hq);
  }
  {
    // route_of: the leak route of a leak-destination voxel, kNumLeakRoutes for bone, -1 outside.
    const auto mat = grid.material;
    const auto rt = grid.route;
    Kokkos::parallel_for(
        "cementflow::simulation::route_of", Policy(0, n), KOKKOS_LAMBDA(int i) {
          const int m = mat(i);
          route_of(i) =
              m < 0 ? -1
                    : (kernels::leak_destination(m) ? (rt(i) >= 0 ? rt(i) : 5) : kNumLeakRoutes);
        });
  }

  // Cement viscosity: porous-media apparent viscosity per voxel (PHYSICS.md §L4), shifted by the
  // local cure state (§L1c). The cure state (equivalent age or cure degree) is carried with the
  // cement and mixed by volume in each cell (Transport, kernels::mixed_state); it ages at the bone
  // temperature there, and at room temperature in the syringe and cannula from mixing until the
  // cement leaves the needle. At any moment the cement injected first is the oldest: all of it
  // was mixed together, and the first spent longer at body temperature, where it cures faster.
  const kernels::RheologyParams rheo = detail::to_params(scene.cement);
  const bool newtonian = scene.cement.model == RheologyModel::Newtonian;
  const Curing& cure = scene.cement.curing;
  const bool curing = cure.model != CureModel::None;
  const kernels::CureParams cure_p = detail::to_cure_params(cure);
  const double t_body_k = detail::kelvin(cure.body_temperature_c);
  double syringe_state = advance_cure(cure, initial_cure_state(cure), cure.room_temperature_c,
                                      inj.start_after_mixing_s);
  DView<double*> cure_state("cementflow::simulation::cure_state", curing ? n : 0);
  if (curing) Kokkos::deep_copy(cure_state, syringe_state);
  auto syringe_cement = [&]() {
    return shifted_rheology(scene.cement,
                            cure_viscosity_factor(cure, syringe_state, cure.room_temperature_c));
  };
  Kokkos::deep_copy(
      mu, viscosity(shifted_rheology(scene.cement, cure_viscosity_factor(cure, syringe_state,
                                                                         cure.body_temperature_c)),
                    1.0));
  // Geometric-mean permeability per voxel, the k of the Christopher–Middleman closure (§L4).
  DView<double*> k_geo("cementflow::simulation::k_geo", n);
  {
    const auto kx = grid.kx, ky = grid.ky, kz = grid.kz;
    Kokkos::parallel_for(
        "cementflow::simulation::k_geo", Policy(0, n), KOKKOS_LAMBDA(int i) {
          k_geo(i) = kernels::math::pow(
              static_cast<double>(kx(i)) * static_cast<double>(ky(i)) * static_cast<double>(kz(i)),
              1.0 / 3.0);
        });
  }
  const double mu_m = scene.marrow_viscosity_pa_s;
  const double corey = sim.corey_exponent;

  detail::PressureSolver solver(grid, sim.preconditioner == "jacobi"
                                          ? detail::Preconditioner::Jacobi
                                          : detail::Preconditioner::Multigrid);
  rep.solver.preconditioner = sim.preconditioner;
  rep.solver.multigrid_levels = sim.preconditioner == "jacobi" ? 0 : solver.levels();
  detail::Transport transport(grid, mu_m, corey);
  // [leak hook, issue 15] Pressure at the needle opening from the tip voxel's (engine/well.cpp).
  const detail::WellModel well(hg.g, tips, inj, q_needle, mu_m, corey);
  // [leak hook, issue 15] Gateways closed to a yield-stress cement (engine/gateway.cpp).
  detail::Gateways gates(grid, scene.gateways, rheo, mu_m, corey);
  transport.set_gates(gates.mask());

  // Cannula pressure drop per needle (PHYSICS.md §M3) of the cement in the syringe (room
  // temperature), recomputed every step while it cures.
  double cannula_dp = cannula_drop(syringe_cement(), inj, q_needle);

  double t = 0, injected = 0, next_out = sim.output_interval_s;
  double p_tip = 0, p_inj = 0;
  std::array<bool, kNumLeakRoutes> leaked{};
  std::array<Leak, kNumLeakRoutes> leak_rec{};
  bool first = true;
  rep.status = "completed";
  const double target = inj.volume_m3;

  for (long long step = 0;; ++step) {
    // --- pressure and viscosity (Picard) -----------------------------------------------------
    // A curing Newtonian cement's viscosity depends on the cure state only: set it once.
    if (newtonian && curing)
      update_cement_viscosity(grid, rheo, cure_p, t_body_k, syringe_state, k_geo, s, q, speed,
                              cure_state, mu);
    // Inexact Picard: while the viscosity is still moving, the pressure only has to be good to
    // a fraction of that change, so the Picard iterates are solved to a loose tolerance
    // (kPicardLooseFactor x picard_tolerance, never tighter than pressure_tolerance); the last
    // iterate is then carried on to pressure_tolerance from where it stands (warm start, same
    // operator), so transport sees a pressure as accurate as an exact Picard loop gives, for
    // about a third of the CG iterations (bench/README.md, "Inexact Picard").
    bool solved = true;
    const double loose_tol =
        newtonian || !sim.inexact_picard
            ? sim.pressure_tolerance
            : std::max(sim.pressure_tolerance, kPicardLooseFactor * sim.picard_tolerance);
    auto pressure_solve = [&](double tol) {
      const detail::SolveStats st = solver.solve(q, p, tol, sim.max_solver_iterations);
      ++rep.solver.pressure_solves;
      rep.solver.total_iterations += st.iterations;
      rep.solver.max_iterations = std::max<long long>(rep.solver.max_iterations, st.iterations);
      if (!st.converged) {
        std::ostringstream e;
        e << "the pressure solve did not converge: relative residual " << st.relative_residual
          << " after " << st.iterations
          << " iterations (simulation.max_solver_iterations = " << sim.max_solver_iterations << ")";
        rep.status = "failed";
        rep.message = e.str();
        return false;
      }
      return true;
    };
    for (int it = 0; it < std::max(1, sim.max_picard_iterations); ++it) {
      Kokkos::parallel_for(
          "cementflow::simulation::total_mobility", Policy(0, n),
          KOKKOS_LAMBDA(int i) { lambda(i) = kernels::total_mobility(s(i), mu(i), mu_m, corey); });
      solver.assemble(lambda, gates.adjuster(lambda, s));  // [leak hook, issue 15]
      if (!(solved = pressure_solve(loose_tol))) break;
      transport.velocity(solver.op(), p, vel, speed);
      if (newtonian) break;
      const double change = update_cement_viscosity(grid, rheo, cure_p, t_body_k, syringe_state,
                                                    k_geo, s, q, speed, cure_state, mu);
      if (change <= sim.picard_tolerance) break;
    }
    if (solved && loose_tol > sim.pressure_tolerance) {
      // Polish the last iterate: same operator, from where the loose solve left it.
      if ((solved = pressure_solve(sim.pressure_tolerance)))
        transport.velocity(solver.op(), p, vel, speed);
    }
    // [leak hook, issue 15] Gateways whose entry pressure is exceeded open (for good); the
    // pressure is solved again with them open before the transport uses it.
    if (solved && gates.open_where_exceeded(p, s, cure_state, cure_p, syringe_state, t_body_k,
                                            sim.arrival_saturation) > 0) {
      solver.assemble(lambda, gates.adjuster(lambda, s));
      if ((solved = pressure_solve(sim.pressure_tolerance)))
        transport.velocity(solver.op(), p, vel, speed);
    }
    if (!solved) break;

    p_tip = well.opening_pressure(p, s, cure_state, rheo, cure_p, syringe_state,
                                  t_body_k);  // [leak hook, issue 15]
    if (curing && step > 0) cannula_dp = cannula_drop(syringe_cement(), inj, q_needle);
    p_inj = p_tip + cannula_dp;
    rep.peak_tip_pressure_kpa = std::max(rep.peak_tip_pressure_kpa, p_tip * 1e-3);
    rep.peak_injection_pressure_mpa = std::max(rep.peak_injection_pressure_mpa, p_inj * 1e-6);
    if (first) {
      rep.timeline.push_back({0.0, 0.0, p_inj * 1e-6, p_tip * 1e-3});
      first = false;
    }
    if (p_inj > inj.max_pressure_pa) {
      std::ostringstream e;
      e << "injection pressure " << p_inj * 1e-6
        << " MPa exceeds injection.max_pressure_mpa = " << inj.max_pressure_pa * 1e-6;
      rep.status = "stopped_at_pressure_limit";
      rep.message = e.str();
      break;
    }

    // --- transport ---------------------------------------------------------------------------
    double dt = sim.courant * transport.front_time_step(solver.op(), p, q, s, mu);
    dt = std::min({dt, next_out - t, (target - injected) / Q, sim.max_time_s - t});
    dt = std::max(dt, 1e-12 * std::max(1.0, t));
    detail::CarriedState carried{cure_state, syringe_state};
    rep.solver.transport_sweeps += transport
                                       .step(solver.op(), p, q, mu, t, dt, sim.arrival_saturation,
                                             s, bout, arrival, curing ? &carried : nullptr)
                                       .sweeps;
    if (curing) {
      // Age the cement: in the bone at body temperature, in the syringe at room temperature.
      Kokkos::parallel_for(
          "cementflow::simulation::age_cement", Policy(0, n), KOKKOS_LAMBDA(int i) {
            if (s(i) > 0)
              cure_state(i) = kernels::advance_cure(cure_p, cure_state(i), t_body_k, dt);
          });
      syringe_state = advance_cure(cure, syringe_state, cure.room_temperature_c, dt);
    }
    t += dt;
    injected += Q * dt;
    ++rep.solver.steps;

    // --- leaks -------------------------------------------------------------------------------
    double in_bone = 0;
    std::array<double, kNumLeakRoutes> rv{};
    tally(grid, s, bout, route_of, pore, &in_bone, &rv);
    bool new_leak = false;
    for (int r = 0; r < kNumLeakRoutes; ++r) {
      auto& L = leak_rec[static_cast<size_t>(r)];
      if (!leaked[static_cast<size_t>(r)] && rv[static_cast<size_t>(r)] > kLeakOnsetM3) {
        leaked[static_cast<size_t>(r)] = true;
        new_leak = true;
        L.route = route_name(static_cast<LeakRoute>(r));
        L.first_time_s = t;
        L.first_injected_ml = injected / kM3PerMl;
        // Where: the cement-weighted centre of that route's voxels now.
        auto hpore = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), pore);
        double w = 0, c[3] = {0, 0, 0};
        for (long long i = 0; i < n; ++i) {
          if (hg.g.material[static_cast<size_t>(i)] < 0 ||
              !is_leak_destination(hg.g.material[static_cast<size_t>(i)]))
            continue;
          const int ri =
              hg.g.route[static_cast<size_t>(i)] >= 0 ? hg.g.route[static_cast<size_t>(i)] : 5;
          if (ri != r || hpore(i) <= 0) continue;
          const auto x = hg.center(i);
          for (int a = 0; a < 3; ++a) c[a] += hpore(i) * x[static_cast<size_t>(a)];
          w += hpore(i);
        }
        if (w > 0) L.location_mm = {c[0] / w, c[1] / w, c[2] / w};
      }
      L.volume_ml = rv[static_cast<size_t>(r)] / kM3PerMl;
    }

    const bool done = injected >= target * (1 - 1e-12);
    if (t >= next_out - 1e-9 * sim.output_interval_s || done) {
      rep.timeline.push_back({t, injected / kM3PerMl, p_inj * 1e-6, p_tip * 1e-3});
      while (next_out <= t + 1e-9 * sim.output_interval_s) next_out += sim.output_interval_s;
    }
    if (options.progress) {
      Progress pr;
      pr.time_s = t;
      pr.injected_ml = injected / kM3PerMl;
      pr.target_ml = target / kM3PerMl;
      pr.injection_pressure_mpa = p_inj * 1e-6;
      pr.tip_pressure_kpa = p_tip * 1e-3;
      options.progress(pr);
    }
    if (done) break;
    if (new_leak && inj.stop_at_leak) {
      rep.status = "stopped_at_leak";
      rep.message = "stopped at the first leak (injection.stop_at_leak)";
      break;
    }
    if (options.cancel && options.cancel->load()) {
      rep.status = "failed";
      rep.message = "cancelled at t = " + std::to_string(t) + " s";
      break;
    }
    if (t >= sim.max_time_s * (1 - 1e-12) || step + 1 >= kMaxSteps) {
      rep.status = "failed";
      rep.message = "simulation.max_time_s or the step limit was reached before the target volume";
      break;
    }
  }
  if (rep.timeline.empty() || rep.timeline.back()[0] < t)
    rep.timeline.push_back({t, injected / kM3PerMl, p_inj * 1e-6, p_tip * 1e-3});

  // --- results on the host -------------------------------------------------------------------
  double in_bone = 0;
  std::array<double, kNumLeakRoutes> rv{};
  tally(grid, s, bout, route_of, pore, &in_bone, &rv);
  rep.injected_volume_ml = injected / kM3PerMl;
  rep.fill.cement_volume_in_bone_ml = in_bone / kM3PerMl;
  double leaked_total = 0;
  for (int r = 0; r < kNumLeakRoutes; ++r) {
    leaked_total += rv[static_cast<size_t>(r)];
    if (leaked[static_cast<size_t>(r)]) rep.leaks.push_back(leak_rec[static_cast<size_t>(r)]);
  }
  rep.leak_volume_ml = leaked_total / kM3PerMl;
  rep.mass_balance_error =
      injected > 0 ? std::abs(injected - (in_bone + leaked_total)) / injected : 0.0;

  RunFields& f = result.fields;
  {
    auto hs = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s);
    auto hp = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), p);
    auto hm = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), mu);
    auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), arrival);
    auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vel);
    f.cement_fraction.resize(static_cast<size_t>(n));
    f.pressure.resize(static_cast<size_t>(n));
    f.viscosity.resize(static_cast<size_t>(n));
    f.arrival_time.resize(static_cast<size_t>(n));
    f.velocity.resize(3 * static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      f.cement_fraction[static_cast<size_t>(i)] = static_cast<float>(std::clamp(hs(i), 0.0, 1.0));
      f.pressure[static_cast<size_t>(i)] = static_cast<float>(hp(i));
      f.viscosity[static_cast<size_t>(i)] = static_cast<float>(hm(i));
      f.arrival_time[static_cast<size_t>(i)] = ha(i);
    }
    for (size_t i = 0; i < f.velocity.size(); ++i) f.velocity[i] = hv(i);
  }
  f.grid = std::move(hg.g);
  hg.g = BoneBlocks();  // moved; the post-processing below uses f.grid

  {  // Cavity fill and interdigitation (kyphoplasty, fracture cleft; engine/balloon.cpp).
    const CavityFill cf = measure_cavity_fill(f.grid, f.cement_fraction);
    rep.fill.has_cavity = cf.has_cavity;
    rep.fill.cavity_fill_fraction = cf.cavity_fill_fraction;
    rep.fill.interdigitation_depth_mm = cf.interdigitation_depth_mm;
  }

  // Fill shape: spread from the nearest tip, endplate contact, gap to the leak destinations.
  {
    const BoneBlocks& g = f.grid;
    HostGrid post;
    post.g = g;  // copy for neighbour queries (small next to the run)
    post.nb.resize(g.num_blocks());
    auto hnb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grid.neighbour);
    for (size_t b = 0; b < g.num_blocks(); ++b)
      for (int d = 0; d < 6; ++d) post.nb[b][static_cast<size_t>(d)] = hnb(b, d);
    const double thr = sim.arrival_saturation;
    std::vector<std::array<double, 3>> tip_mm;
    for (const auto& nd : inj.needles) tip_mm.push_back(nd.tip_mm);
    // Multi-source breadth-first distance (in voxel steps) from every leak-destination voxel.
    std::vector<int> dist(g.num_voxels(), -1);
    std::deque<long long> queue;
    for (long long i = 0; i < n; ++i)
      if (g.material[static_cast<size_t>(i)] >= 0 &&
          is_leak_destination(g.material[static_cast<size_t>(i)])) {
        dist[static_cast<size_t>(i)] = 0;
        queue.push_back(i);
      }
    while (!queue.empty()) {
      const long long i = queue.front();
      queue.pop_front();
      for (int d = 0; d < 6; ++d) {
        const long long j = post.neighbour(i, d);
        if (j < 0 || g.material[static_cast<size_t>(j)] < 0 || dist[static_cast<size_t>(j)] >= 0)
          continue;
        dist[static_cast<size_t>(j)] = dist[static_cast<size_t>(i)] + 1;
        queue.push_back(j);
      }
    }
    int gap = std::numeric_limits<int>::max();
    for (long long i = 0; i < n; ++i) {
      const auto u = static_cast<size_t>(i);
      if (g.material[u] < 0 || static_cast<double>(f.cement_fraction[u]) < thr ||
          is_leak_destination(g.material[u]))
        continue;
      const auto x = post.center(i);
      double dmin = 1e300;
      for (const auto& tp : tip_mm)
        dmin = std::min(
            dmin, std::sqrt((x[0] - tp[0]) * (x[0] - tp[0]) + (x[1] - tp[1]) * (x[1] - tp[1]) +
                            (x[2] - tp[2]) * (x[2] - tp[2])));
      rep.fill.max_spread_mm = std::max(rep.fill.max_spread_mm, dmin);
      if (dist[u] >= 0) gap = std::min(gap, dist[u]);
      for (int side = 0; side < 2; ++side) {
        const long long j = post.neighbour(i, side == 0 ? 4 : 5);
        if (j < 0) continue;
        const int m = g.material[static_cast<size_t>(j)];
        if (m == static_cast<int>(Material::Cortical) || m == static_cast<int>(Material::Disc))
          rep.fill.endplate_contact[static_cast<size_t>(side)] = true;
      }
    }
    const double gap_mm = gap == std::numeric_limits<int>::max()
                              ? std::numeric_limits<double>::infinity()
                              : (gap > 0 ? gap - 1 : 0) * g.voxel_mm;
    const double vol_term = 1 - std::exp(-rep.leak_volume_ml / kRiskVolumeMl);
    const double gap_term = std::isfinite(gap_mm) ? 0.5 * std::exp(-gap_mm / kRiskGapMm) : 0.0;
    rep.leak_risk.score = std::max(vol_term, gap_term);
    rep.leak_risk.cls =
        rep.leak_risk.score < 0.2 ? "low" : (rep.leak_risk.score < 0.6 ? "moderate" : "high");
    std::ostringstream basis;
    basis << "score = max(1 - exp(-V_leak / " << kRiskVolumeMl << " mL), 0.5 exp(-gap / "
          << kRiskGapMm << " mm)) with simulated leak volume V_leak = " << rep.leak_volume_ml
          << " mL and gap = ";
    if (std::isfinite(gap_mm))
      basis << gap_mm << " mm";
    else
      basis << "none (no leak destination in the model)";
    basis << " between the cement (fraction >= " << thr
          << ") and the nearest leak destination; classes low < 0.2 <= moderate < 0.6 <= high. "
             "A model-based index, not a calibrated clinical probability (clinical rates: "
             "PHYSICS.md §L5a).";
    rep.leak_risk.basis = basis.str();
  }

  rep.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return result;
}

void write_outputs(const Scene& scene, const RunResult& result, const std::string& dir) {
  namespace fs = std::filesystem;
  detail::make_output_dir(dir);
  auto write_text = [&](const std::string& name, const std::string& text) {
    detail::write_output_text(dir, name, text);
  };
  write_text("report.json", to_json(result.report) + "\n");
  write_text("pressure_curve.csv", timeline_csv(result.report));
  detail::write_fill_vdb(result.fields, scene.output_grids, (fs::path(dir) / "fill.vdb").string());
}

RunResult run(const Scene& scene, const RunOptions& options) {
  KyphoplastyStats balloons;
  const BoneBlocks bone = make_bone(scene, &balloons);
  RunResult r = simulate(scene, bone, options);
  if (scene.injection.mode == "kyphoplasty") {
    r.report.kyphoplasty.present = true;
    r.report.kyphoplasty.stats = balloons;
  }
  if (!options.out_dir.empty()) write_outputs(scene, r, options.out_dir);
  return r;
}

}  // namespace cementflow

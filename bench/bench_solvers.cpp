// Time to solution of the same pressure system with our multigrid-preconditioned CG and with
// hypre's BoomerAMG-preconditioned CG (Debian libhypre-dev), in one run, to the same relative
// residual (2-norm, 1e-8) from p = 0 (issue 7). Our time includes the operator assembly and the
// multigrid setup (coarse operators, coarsest Cholesky); hypre's includes its AMG setup.
// Systems: a smooth log-normal permeability box, the box phantom with a cortical shell and a
// vein, and the first pressure solve of the default vertebra scene (marrow only, source at the
// needle tip) when that scene is present.
//
// Debian's hypre 2.26 is built with MPI and without OpenMP: it runs as one MPI process (one core).
// Our solver runs on the Kokkos threads of this run (--kokkos-num-threads / OMP_NUM_THREADS);
// bench/README.md reports both a 1-thread and a 2-thread run.

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_common.hpp"
#include "cementflow/scene.hpp"
#include "kernels/pressure_kernels.hpp"

#ifdef CEMENTFLOW_HAVE_HYPRE
#include <HYPRE.h>
#include <HYPRE_krylov.h>
#include <HYPRE_parcsr_ls.h>
#include <mpi.h>
#endif

namespace cementflow::bench {

namespace {

constexpr double kTol = 1e-8;

struct System {
  std::string description;
  BoneBlocks bone;
  detail::DeviceGrid grid;
  long long active = 0;
  DView<double*> lambda, q;
};

long long voxel_at(const BoneBlocks& bone, const detail::DeviceGrid& grid,
                   const std::array<double, 3>& mm) {
  int ijk[3];
  for (int a = 0; a < 3; ++a)
    ijk[a] = static_cast<int>(std::lround(
        (mm[static_cast<size_t>(a)] - bone.origin_mm[static_cast<size_t>(a)]) / bone.voxel_mm));
  const auto org = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grid.origin);
  for (int b = 0; b < grid.nblocks; ++b)
    if (org(b, 0) == (ijk[0] & ~7) && org(b, 1) == (ijk[1] & ~7) && org(b, 2) == (ijk[2] & ~7))
      return static_cast<long long>(b) * BoneBlocks::kBlockVoxels +
             BoneBlocks::local_index(ijk[0] & 7, ijk[1] & 7, ijk[2] & 7);
  throw std::runtime_error("bench: no voxel at the source point");
}

void finish(System& s, const std::array<double, 3>& source_mm, double lambda) {
  s.active = static_cast<long long>(s.bone.active_voxels());
  s.grid = detail::build_device_grid(s.bone);
  const long long n = s.grid.num_voxels();
  s.lambda = DView<double*>("cementflow::bench::solvers::lambda", static_cast<size_t>(n));
  Kokkos::deep_copy(s.lambda, lambda);
  const long long src = voxel_at(s.bone, s.grid, source_mm);
  s.q = host_filled("cementflow::bench::solvers::q", n, [n, src](double* q) {
    for (long long i = 0; i < n; ++i) q[i] = 0.0;
    q[src] = kSourceFlow;
  });
}

// 64^3 voxels of 0.5 mm, log10 k = -9 + a smooth Gaussian field of sd 1 decade (24 random
// Fourier modes, seed 7), one soft-tissue layer outside.
std::unique_ptr<System> lognormal_system() {
  auto s = std::make_unique<System>();
  s->description = "log-normal k, sd 1 decade, 64^3 x 0.5 mm";
  BoxPhantom box;
  box.size_mm = {33, 33, 33};  // 66 voxels: 64 of bone and the soft-tissue layer
  box.voxel_mm = kVoxelMm;
  box.sink_faces = {"-x", "+x", "-y", "+y", "-z", "+z"};
  s->bone = generate_box(box);
  complete_bone(s->bone);
  std::mt19937 rng(7);
  std::normal_distribution<double> nd;
  std::uniform_real_distribution<double> ph(0, 2 * M_PI);
  std::vector<std::array<double, 4>> modes;
  for (int i = 0; i < 24; ++i)
    modes.push_back({nd(rng) * 0.35, nd(rng) * 0.35, nd(rng) * 0.35, ph(rng)});
  const double amp = std::sqrt(2.0 / 24.0);
  for (size_t b = 0; b < s->bone.num_blocks(); ++b)
    for (int v = 0; v < 512; ++v) {
      const size_t i = b * 512 + static_cast<size_t>(v);
      if (s->bone.material[i] != 1) continue;
      const auto& o = s->bone.block_origin[b];
      const double x = o[0] + (v & 7), y = o[1] + ((v >> 3) & 7), z = o[2] + (v >> 6);
      double f = 0;
      for (const auto& m : modes) f += amp * std::cos(m[0] * x + m[1] * y + m[2] * z + m[3]);
      for (size_t a = 0; a < 3; ++a)
        s->bone.permeability[3 * i + a] = static_cast<float>(1e-9 * std::pow(10.0, f));
    }
  finish(*s, {0, 0, 0}, 1.0 / kMarrowViscosity);
  return s;
}

// The small box phantom with a 1 mm cortical shell and a vein (6.6 decades of contrast).
std::unique_ptr<System> shell_system() {
  auto s = std::make_unique<System>();
  s->description = "box 40x30x25 mm, 1 mm cortical shell, vein, 0.5 mm";
  BoxPhantom box;
  box.size_mm = kSmallBox;
  box.voxel_mm = kVoxelMm;
  box.shell_mm = 1.0;
  box.sink_faces = {"-x", "+x", "-y", "+y", "-z", "+z"};
  box.vein = true;
  s->bone = generate_box(box);
  complete_bone(s->bone);
  finish(*s, {0, 0, 0}, 1.0 / kMarrowViscosity);
  return s;
}

// The first pressure solve of a scene: marrow everywhere, the injection rate at the first tip.
std::unique_ptr<System> scene_system(const std::string& file) {
  const Scene sc = load_scene(file);
  auto s = std::make_unique<System>();
  s->description = "first solve of " + sc.name;
  s->bone = make_bone(sc);
  finish(*s, sc.injection.needles.at(0).tip_mm, 1.0 / sc.marrow_viscosity_pa_s);
  return s;
}

System& get_system(const std::string& name) {
  auto& slot = fixture_cache<System, std::string>()[name];
  if (!slot) {
    if (name == "lognormal")
      slot = lognormal_system();
    else if (name == "shell")
      slot = shell_system();
    else
      slot = scene_system(name);
  }
  return *slot;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double seconds = 0;
  int iterations = 0;
  double residual = 0;
  double setup = 0, assemble = 0;  ///< ours: hierarchy construction, operator + coarse operators
};

Timing ours(System& s, detail::Preconditioner pc) {
  Kokkos::fence();
  const double t0 = now();
  detail::PressureSolver solver(s.grid, pc);
  Kokkos::fence();
  const double t1 = now();
  solver.assemble(s.lambda);
  Kokkos::fence();
  const double t2 = now();
  DView<double*> p("cementflow::bench::solvers::p", static_cast<size_t>(s.grid.num_voxels()));
  const auto st = solver.solve(s.q, p, kTol, 20000);
  Kokkos::fence();
  return {now() - t0, st.iterations, st.relative_residual, t1 - t0, t2 - t1};
}

#ifdef CEMENTFLOW_HAVE_HYPRE
struct MpiSession {
  bool mine = false;
  MpiSession() {
    int on = 0;
    MPI_Initialized(&on);
    if (!on) {
      MPI_Init(nullptr, nullptr);
      mine = true;
    }
    HYPRE_Init();
  }
  ~MpiSession() {
    HYPRE_Finalize();
    if (mine) MPI_Finalize();
  }
};

// The same operator as a CSR matrix over the active voxels (assembled by our kernels).
Timing hypre(System& s) {
  static MpiSession mpi;
  detail::PressureSolver op_only(s.grid, detail::Preconditioner::Jacobi);
  op_only.assemble(s.lambda);
  const auto& op = op_only.op();
  auto tx = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), op.tx);
  auto ty = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), op.ty);
  auto tz = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), op.tz);
  auto diag = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), op.diag);
  auto nb = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.grid.neighbour);
  auto mat = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.grid.material);
  auto hq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.q);
  const long long n = s.grid.num_voxels();
  std::vector<HYPRE_BigInt> row_of(static_cast<size_t>(n), -1);
  HYPRE_BigInt m = 0;
  for (long long i = 0; i < n; ++i)
    if (mat(i) >= 0) row_of[static_cast<size_t>(i)] = m++;

  HYPRE_IJMatrix A;
  HYPRE_IJMatrixCreate(MPI_COMM_WORLD, 0, m - 1, 0, m - 1, &A);
  HYPRE_IJMatrixSetObjectType(A, HYPRE_PARCSR);
  std::vector<HYPRE_Int> sizes(static_cast<size_t>(m), 7);
  HYPRE_IJMatrixSetRowSizes(A, sizes.data());
  HYPRE_IJMatrixInitialize(A);
  std::vector<double> bv(static_cast<size_t>(m)), xv(static_cast<size_t>(m), 0.0);
  std::vector<HYPRE_BigInt> rows(static_cast<size_t>(m));
  for (long long i = 0; i < n; ++i) {
    const HYPRE_BigInt r = row_of[static_cast<size_t>(i)];
    if (r < 0) continue;
    HYPRE_BigInt cols[7];
    double vals[7];
    HYPRE_Int k = 0;
    cols[k] = r;
    vals[k++] = diag(i);
    const int b = static_cast<int>(i / 512), v = static_cast<int>(i % 512);
    for (int d = 0; d < 6; ++d) {
      const int j = kernels::neighbour_voxel(nb, b, v, d);
      if (j < 0 || row_of[static_cast<size_t>(j)] < 0) continue;
      const double t = kernels::face_t(tx, ty, tz, static_cast<int>(i), j, d);
      if (t == 0) continue;
      cols[k] = row_of[static_cast<size_t>(j)];
      vals[k++] = -t;
    }
    HYPRE_IJMatrixSetValues(A, 1, &k, &r, cols, vals);
    bv[static_cast<size_t>(r)] = hq(i);
    rows[static_cast<size_t>(r)] = r;
  }
  HYPRE_IJMatrixAssemble(A);
  HYPRE_ParCSRMatrix pA;
  HYPRE_IJMatrixGetObject(A, reinterpret_cast<void**>(&pA));
  HYPRE_IJVector b, x;
  HYPRE_IJVectorCreate(MPI_COMM_WORLD, 0, m - 1, &b);
  HYPRE_IJVectorSetObjectType(b, HYPRE_PARCSR);
  HYPRE_IJVectorInitialize(b);
  HYPRE_IJVectorSetValues(b, static_cast<HYPRE_Int>(m), rows.data(), bv.data());
  HYPRE_IJVectorAssemble(b);
  HYPRE_IJVectorCreate(MPI_COMM_WORLD, 0, m - 1, &x);
  HYPRE_IJVectorSetObjectType(x, HYPRE_PARCSR);
  HYPRE_IJVectorInitialize(x);
  HYPRE_IJVectorSetValues(x, static_cast<HYPRE_Int>(m), rows.data(), xv.data());
  HYPRE_IJVectorAssemble(x);
  HYPRE_ParVector pb, px;
  HYPRE_IJVectorGetObject(b, reinterpret_cast<void**>(&pb));
  HYPRE_IJVectorGetObject(x, reinterpret_cast<void**>(&px));

  // BoomerAMG-PCG with hypre's recommended 3-D settings: HMIS coarsening, strong threshold 0.5,
  // extended+i interpolation truncated to 4 entries, one symmetric hybrid Gauss-Seidel sweep.
  HYPRE_Solver pcg, amg;
  HYPRE_ParCSRPCGCreate(MPI_COMM_WORLD, &pcg);
  HYPRE_PCGSetMaxIter(pcg, 2000);
  HYPRE_PCGSetTol(pcg, kTol);
  HYPRE_PCGSetTwoNorm(pcg, 1);
  HYPRE_PCGSetPrintLevel(pcg, 0);
  HYPRE_BoomerAMGCreate(&amg);
  HYPRE_BoomerAMGSetPrintLevel(amg, 0);
  HYPRE_BoomerAMGSetCoarsenType(amg, 10);
  HYPRE_BoomerAMGSetStrongThreshold(amg, 0.5);
  HYPRE_BoomerAMGSetInterpType(amg, 6);
  HYPRE_BoomerAMGSetPMaxElmts(amg, 4);
  HYPRE_BoomerAMGSetRelaxType(amg, 6);
  HYPRE_BoomerAMGSetNumSweeps(amg, 1);
  HYPRE_BoomerAMGSetTol(amg, 0.0);
  HYPRE_BoomerAMGSetMaxIter(amg, 1);
  HYPRE_PCGSetPrecond(pcg, reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_BoomerAMGSolve),
                      reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_BoomerAMGSetup), amg);
  const double t0 = now();
  HYPRE_ParCSRPCGSetup(pcg, pA, pb, px);
  HYPRE_ParCSRPCGSolve(pcg, pA, pb, px);
  const double t = now() - t0;
  Timing out;
  out.seconds = t;
  HYPRE_Int its = 0;
  HYPRE_PCGGetNumIterations(pcg, &its);
  out.iterations = static_cast<int>(its);
  HYPRE_PCGGetFinalRelativeResidualNorm(pcg, &out.residual);
  HYPRE_BoomerAMGDestroy(amg);
  HYPRE_ParCSRPCGDestroy(pcg);
  HYPRE_IJMatrixDestroy(A);
  HYPRE_IJVectorDestroy(b);
  HYPRE_IJVectorDestroy(x);
  return out;
}
#endif

void solver_comparison(benchmark::State& state, std::string name) {
  System* sys = nullptr;
  try {
    sys = &get_system(name);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  Timing mg, jac, hy;
  int runs = 0;
  for (auto _ : state) {
    const Timing a = ours(*sys, detail::Preconditioner::Multigrid);
    state.SetIterationTime(a.seconds);
    mg.seconds += a.seconds;
    mg.iterations = a.iterations;
    mg.residual = a.residual;
    mg.setup += a.setup;
    mg.assemble += a.assemble;
#ifdef CEMENTFLOW_HAVE_HYPRE
    const Timing h = hypre(*sys);
    hy.seconds += h.seconds;
    hy.iterations = h.iterations;
    hy.residual = h.residual;
#endif
    ++runs;
  }
  jac = ours(*sys, detail::Preconditioner::Jacobi);
  state.counters["active_voxels"] = static_cast<double>(sys->active);
  state.counters["mg_s"] = mg.seconds / runs;
  state.counters["mg_iterations"] = mg.iterations;
  state.counters["mg_residual"] = mg.residual;
  state.counters["mg_setup_s"] = mg.setup / runs;
  state.counters["mg_assemble_s"] = mg.assemble / runs;
  state.counters["jacobi_s"] = jac.seconds;
  state.counters["jacobi_iterations"] = jac.iterations;
#ifdef CEMENTFLOW_HAVE_HYPRE
  state.counters["hypre_s"] = hy.seconds / runs;
  state.counters["hypre_iterations"] = hy.iterations;
  state.counters["hypre_residual"] = hy.residual;
  state.counters["hypre_over_mg"] = hy.seconds / mg.seconds;
#else
  state.SetLabel("hypre not built in (install libhypre-dev libopenmpi-dev and reconfigure)");
#endif
  if (mg.residual > kTol) state.SkipWithError("multigrid-PCG did not reach the tolerance");
}

}  // namespace

void register_solvers() {
  const std::string vertebra = (std::filesystem::path(__FILE__).parent_path().parent_path() /
                                "scenes/vp_unipedicular_osteoporotic.json")
                                   .string();
  for (const std::string& name : {std::string("lognormal"), std::string("shell"), vertebra}) {
    const std::string tag = name == vertebra ? "vp_unipedicular_osteoporotic" : name;
    benchmark::RegisterBenchmark(("solver_vs_hypre/" + tag + "/tol:1e-8").c_str(),
                                 solver_comparison, name)
        ->UseManualTime()
        ->Iterations(3)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace cementflow::bench

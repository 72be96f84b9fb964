#include "engine/solve/pressure_solver.hpp"

#include <cmath>

#include "kernels/block_stencil.hpp"
#include "kernels/pressure_kernels.hpp"

namespace cementflow::detail {

namespace {
using Policy = Kokkos::RangePolicy<ExecSpace>;
}

double dot(const DView<double*>& x, const DView<double*>& y) {
  double s = 0;
  Kokkos::parallel_reduce(
      "cementflow::pressure::dot", Policy(0, static_cast<int>(x.extent(0))),
      KOKKOS_LAMBDA(int i, double& acc) { acc += x(i) * y(i); }, s);
  return s;
}

PressureSolver::~PressureSolver() = default;

int PressureSolver::levels() const {
  return mg_ ? mg_->levels() : 1;
}

PressureSolver::PressureSolver(const DeviceGrid& grid, Preconditioner preconditioner,
                               MultigridOptions mg)
    : grid_(grid), preconditioner_(preconditioner) {
  const auto n = static_cast<size_t>(grid.num_voxels());
  op_.tx = DView<float*>("cementflow::pressure::tx", n);
  op_.ty = DView<float*>("cementflow::pressure::ty", n);
  op_.tz = DView<float*>("cementflow::pressure::tz", n);
  op_.tb = DView<float*>("cementflow::pressure::tb", n);
  op_.diag = DView<double*>("cementflow::pressure::diag", n);
  if (kernels::kHostBlockKernels)
    op_.faces = DView<float*>("cementflow::pressure::packed_faces",
                              static_cast<size_t>(grid.nblocks) * kernels::kFacesPerBlock);
  r_ = DView<double*>("cementflow::pressure::r", n);
  z_ = DView<double*>("cementflow::pressure::z", n);
  d_ = DView<double*>("cementflow::pressure::d", n);
  ad_ = DView<double*>("cementflow::pressure::Ad", n);
  if (preconditioner_ == Preconditioner::Multigrid) mg_ = std::make_unique<Multigrid>(grid, mg);
}

void PressureSolver::assemble(const DView<double*>& lambda,
                              const std::function<void(PressureOperator&)>& adjust_faces) {
  assemble_operator(lambda, adjust_faces);
  update_preconditioner();
}

void PressureSolver::update_preconditioner() {
  if (mg_) mg_->update(op_);
}

void PressureSolver::refresh_smoother() {
  if (mg_) mg_->update_finest(op_);
}

void PressureSolver::assemble_operator(const DView<double*>& lambda,
                                       const std::function<void(PressureOperator&)>& adjust_faces) {
  const int n = static_cast<int>(grid_.num_voxels());
  using IntV = DView<int*>;
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  using DV = DView<double*>;
  Kokkos::parallel_for("cementflow::pressure::assemble_transmissibility", Policy(0, n),
                       kernels::AssembleTransmissibility<IntV, NbV, FV, DV>{
                           grid_.material, grid_.neighbour, grid_.kx, grid_.ky, grid_.kz, lambda,
                           op_.tx, op_.ty, op_.tz, op_.tb, grid_.h_m});
  if (adjust_faces) adjust_faces(op_);
  Kokkos::parallel_for(
      "cementflow::pressure::assemble_diagonal", Policy(0, n),
      kernels::AssembleDiagonal<IntV, NbV, FV, DV>{grid_.material, grid_.neighbour, op_.tx, op_.ty,
                                                   op_.tz, op_.tb, op_.diag});
  if (kernels::kHostBlockKernels)
    Kokkos::parallel_for(
        "cementflow::pressure::pack_faces", Policy(0, grid_.nblocks),
        kernels::PackFaces<NbV, FV>{grid_.neighbour, op_.tx, op_.ty, op_.tz, op_.faces});
}

void PressureSolver::precondition(const DView<double*>& r, DView<double*>& z) {
  if (mg_) {
    mg_->apply(r, z);
    return;
  }
  auto diag = op_.diag;
  Kokkos::parallel_for(
      "cementflow::pressure::jacobi_precondition", Policy(0, static_cast<int>(r.extent(0))),
      KOKKOS_LAMBDA(int i) { z(i) = r(i) / diag(i); });
}

void PressureSolver::apply(const DView<double*>& x, DView<double*>& y) const {
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  using DV = DView<double*>;
  if constexpr (kernels::kHostBlockKernels) {
    Kokkos::parallel_for(
        "cementflow::pressure::matvec_blocks", Policy(0, grid_.nblocks),
        kernels::BlockMatVec<NbV, FV, DV, DV>{grid_.neighbour, op_.faces, op_.diag, x, y});
  } else {
    Kokkos::parallel_for(
        "cementflow::pressure::matvec", Policy(0, static_cast<int>(grid_.num_voxels())),
        kernels::MatVec<NbV, FV, DV, DV>{grid_.neighbour, op_.tx, op_.ty, op_.tz, op_.diag, x, y});
  }
}

SolveStats PressureSolver::solve(const DView<double*>& q, DView<double*>& p, double rel_tol,
                                 int max_iterations) {
  const double bnorm = std::sqrt(dot(q, q));
  if (bnorm == 0) {
    Kokkos::deep_copy(p, 0.0);
    SolveStats st;
    st.converged = true;
    return st;
  }
  // Preconditioned CG (Saad, Iterative Methods for Sparse Linear Systems, Alg. 9.1) with M^-1
  // one symmetric multigrid cycle or the Jacobi diagonal (precondition()).
  const int n = static_cast<int>(grid_.num_voxels());
  SolveStats st;
  auto r = r_, z = z_, d = d_, ad = ad_;
  apply(p, ad);
  double rr = 0;
  Kokkos::parallel_reduce(
      "cementflow::pressure::initial_residual", Policy(0, n),
      KOKKOS_LAMBDA(int i, double& acc) {
        r(i) = q(i) - ad(i);
        acc += r(i) * r(i);
      },
      rr);
  st.relative_residual = std::sqrt(rr) / bnorm;
  if (st.relative_residual <= rel_tol) {
    st.converged = true;
    return st;
  }
  precondition(r, z);
  Kokkos::deep_copy(d, z);
  double rz = dot(r, z);
  while (st.relative_residual > rel_tol && st.iterations < max_iterations) {
    apply(d, ad);
    const double dad = dot(d, ad);
    if (!(dad > 0)) break;
    const double alpha = rz / dad;
    rr = 0;
    Kokkos::parallel_reduce(
        "cementflow::pressure::cg_update", Policy(0, n),
        KOKKOS_LAMBDA(int i, double& acc) {
          p(i) += alpha * d(i);
          r(i) -= alpha * ad(i);
          acc += r(i) * r(i);
        },
        rr);
    ++st.iterations;
    st.relative_residual = std::sqrt(rr) / bnorm;
    if (st.relative_residual <= rel_tol) break;
    precondition(r, z);
    const double rz_new = dot(r, z);
    const double beta = rz_new / rz;
    rz = rz_new;
    Kokkos::parallel_for(
        "cementflow::pressure::cg_direction", Policy(0, n),
        KOKKOS_LAMBDA(int i) { d(i) = z(i) + beta * d(i); });
  }
  st.converged = st.relative_residual <= rel_tol;
  return st;
}

}  // namespace cementflow::detail

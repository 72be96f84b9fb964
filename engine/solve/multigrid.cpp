#include "engine/solve/multigrid.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>

#include "cementflow/errors.hpp"
#include "engine/grid/block_index.hpp"
#include "engine/solve/pressure_solver.hpp"
#include "kernels/block_stencil.hpp"
#include "kernels/multigrid_kernels.hpp"

namespace cementflow::detail {

namespace {

using Policy = Kokkos::RangePolicy<ExecSpace>;
using HostSpace = Kokkos::HostSpace;

/// Floor division by a power of two that also works for negative coordinates.
int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// Geometry of one level on the host while the hierarchy is built.
struct HostGeometry {
  std::vector<std::array<int, 3>> block;  // block coordinates (voxel index / kBlockDim)
  std::vector<int> active;                // nblocks * kBlockVoxels: 1 active, -1 inactive
  BlockIndex index;                       // of `block` (the one host block index)

  int nblocks() const { return static_cast<int>(block.size()); }
  int find(const std::array<int, 3>& b) const { return index.block(b[0], b[1], b[2]); }
  /// Indexes `block` (after it is filled).
  void build_index() {
    std::vector<std::array<int, 3>> origin(block.size());
    for (size_t b = 0; b < block.size(); ++b)
      origin[b] = {kBlockDim * block[b][0], kBlockDim * block[b][1], kBlockDim * block[b][2]};
    index = BlockIndex(std::move(origin), {0, 0, 0}, 1.0);
  }
};

template <class T>
DView<T*> upload(const std::vector<T>& v, const std::string& label) {
  DView<T*> d(label, v.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(d, h);
  return d;
}

DView<int* [6]> upload_neighbours(const std::vector<std::array<int, 6>>& nb, const std::string& l) {
  DView<int* [6]> d(l, nb.size());
  auto h = Kokkos::create_mirror_view(d);
  for (size_t b = 0; b < nb.size(); ++b)
    for (size_t k = 0; k < 6; ++k) h(b, k) = nb[b][k];
  Kokkos::deep_copy(d, h);
  return d;
}

}  // namespace

Multigrid::Multigrid(const DeviceGrid& fine, MultigridOptions options)
    : fine_(fine), opt_(options) {
  if (opt_.pre_smooth < 0 || opt_.post_smooth < 0 || !(opt_.omega > 0 && opt_.omega < 2) ||
      !(opt_.coarse_scale > 0) || opt_.max_coarsest_unknowns < 1 || opt_.max_levels < 1)
    throw InputError("<argument>", "MultigridOptions", "invalid options",
                     "pre_smooth, post_smooth >= 0, 0 < omega < 2, coarse_scale > 0, "
                     "max_coarsest_unknowns >= 1, max_levels >= 1");
  constexpr int V = kernels::kBlockVoxels;

  // Level 0: the grid itself.
  HostGeometry geo;
  {
    auto org = Kokkos::create_mirror_view_and_copy(HostSpace(), fine.origin);
    auto mat = Kokkos::create_mirror_view_and_copy(HostSpace(), fine.material);
    geo.block.resize(static_cast<size_t>(fine.nblocks));
    for (int b = 0; b < fine.nblocks; ++b) {
      geo.block[static_cast<size_t>(b)] = {floor_div(org(b, 0), 8), floor_div(org(b, 1), 8),
                                           floor_div(org(b, 2), 8)};
    }
    geo.build_index();
    geo.active.resize(static_cast<size_t>(fine.nblocks) * V);
    for (size_t i = 0; i < geo.active.size(); ++i) geo.active[i] = mat(i) >= 0 ? 1 : -1;
  }
  Level l0;
  l0.nblocks = fine.nblocks;
  l0.neighbour = fine.neighbour;
  l0.active = fine.material;
  l0.active_count = std::count(geo.active.begin(), geo.active.end(), 1);
  levels_.push_back(l0);

  while (static_cast<int>(levels_.size()) < opt_.max_levels &&
         levels_.back().active_count > opt_.max_coarsest_unknowns) {
    // Coarse blocks: the fine block coordinates halved, in Morton order of their coordinates.
    HostGeometry cg;
    {
      std::vector<std::array<int, 3>> cb;
      cb.reserve(geo.block.size());
      for (const auto& b : geo.block)
        cb.push_back({floor_div(b[0], 2), floor_div(b[1], 2), floor_div(b[2], 2)});
      std::array<int, 3> lo{cb.empty() ? 0 : cb[0][0], cb.empty() ? 0 : cb[0][1],
                            cb.empty() ? 0 : cb[0][2]};
      for (const auto& c : cb)
        for (size_t a = 0; a < 3; ++a) lo[a] = std::min(lo[a], c[a]);
      auto key = [&](const std::array<int, 3>& c) {
        return kernels::morton_code(c[0] - lo[0], c[1] - lo[1], c[2] - lo[2]);
      };
      std::sort(cb.begin(), cb.end(),
                [&](const auto& a, const auto& b) { return key(a) < key(b); });
      cb.erase(std::unique(cb.begin(), cb.end()), cb.end());
      cg.block = std::move(cb);
      cg.build_index();
    }
    const size_t nc = static_cast<size_t>(cg.nblocks()) * V;
    cg.active.assign(nc, -1);
    std::vector<int> children(nc * 8, -1);
    std::vector<int> parent(geo.active.size(), -1);
    long long count = 0;
    for (int b = 0; b < cg.nblocks(); ++b) {
      const auto& bc = cg.block[static_cast<size_t>(b)];
      for (int v = 0; v < V; ++v) {
        const int g[3] = {8 * bc[0] + kernels::local_x(v), 8 * bc[1] + kernels::local_y(v),
                          8 * bc[2] + kernels::local_z(v)};
        const size_t c = static_cast<size_t>(b) * V + static_cast<size_t>(v);
        for (int k = 0; k < 8; ++k) {
          const int f[3] = {2 * g[0] + (k & 1), 2 * g[1] + ((k >> 1) & 1),
                            2 * g[2] + ((k >> 2) & 1)};
          const int fb = geo.find({floor_div(f[0], 8), floor_div(f[1], 8), floor_div(f[2], 8)});
          if (fb < 0) continue;
          const int fv = (f[0] & 7) + 8 * ((f[1] & 7) + 8 * (f[2] & 7));
          const size_t fi = static_cast<size_t>(fb) * V + static_cast<size_t>(fv);
          if (geo.active[fi] < 0) continue;
          children[c * 8 + static_cast<size_t>(k)] = static_cast<int>(fi);
          parent[fi] = static_cast<int>(c);
          cg.active[c] = 1;
        }
        if (cg.active[c] > 0) ++count;
      }
    }
    if (count >= levels_.back().active_count) break;  // no progress (cannot happen on 2:1)

    const std::string tag = "cementflow::mg::l" + std::to_string(levels_.size());
    levels_.back().parent = upload(parent, tag + "::parent_of_finer");
    {
      // Block-level map for the host block kernels: each fine block lies in one octant of one
      // coarse block (block origins are multiples of 8, so 2:1 halves block coordinates).
      std::vector<int> cblock(geo.block.size()), oct(geo.block.size());
      for (size_t fb = 0; fb < geo.block.size(); ++fb) {
        const auto& b = geo.block[fb];
        const std::array<int, 3> c{floor_div(b[0], 2), floor_div(b[1], 2), floor_div(b[2], 2)};
        cblock[fb] = cg.find(c);
        oct[fb] = (b[0] - 2 * c[0]) + 2 * (b[1] - 2 * c[1]) + 4 * (b[2] - 2 * c[2]);
      }
      levels_.back().coarse_block = upload(cblock, tag + "::coarse_block_of_finer");
      levels_.back().octant = upload(oct, tag + "::octant_of_finer");
    }
    Level lc;
    lc.nblocks = cg.nblocks();
    lc.active_count = count;
    lc.neighbour = upload_neighbours(cg.index.neighbour_table(), tag + "::neighbour");
    lc.active = upload(cg.active, tag + "::active");
    lc.children = DView<int* [8]>(tag + "::children", nc);
    {
      auto h = Kokkos::create_mirror_view(lc.children);
      for (size_t c = 0; c < nc; ++c)
        for (size_t k = 0; k < 8; ++k) h(c, k) = children[c * 8 + k];
      Kokkos::deep_copy(lc.children, h);
    }
    levels_.push_back(lc);
    geo = std::move(cg);
  }

  // Work arrays. Level 0's tx..diag are the fine operator's (bound in update()); its b and x are
  // the caller's r and z (bound in apply()).
  for (size_t l = 0; l < levels_.size(); ++l) {
    Level& L = levels_[l];
    const size_t n = static_cast<size_t>(L.nblocks) * V;
    const std::string tag = "cementflow::mg::l" + std::to_string(l);
    if (l > 0) {
      L.tx = DView<float*>(tag + "::tx", n);
      L.ty = DView<float*>(tag + "::ty", n);
      L.tz = DView<float*>(tag + "::tz", n);
      L.tb = DView<float*>(tag + "::tb", n);
      L.diag = DView<double*>(tag + "::diag", n);
      L.b = DView<double*>(tag + "::b", n);
      L.x = DView<double*>(tag + "::x", n);
    }
    L.y = DView<double*>(tag + "::y", n);
    L.inv_diag = DView<double*>(tag + "::inv_diag", n);
  }

  // Compact numbering of the coarsest level's active voxels for the dense solve.
  coarse_index_.clear();
  for (size_t i = 0; i < geo.active.size(); ++i)
    if (geo.active[i] > 0) coarse_index_.push_back(static_cast<int>(i));
}

void Multigrid::update_finest(const PressureOperator& op) {
  adopt_finest(op);
  refresh_level(0, op);
}

void Multigrid::adopt_finest(const PressureOperator& op) {
  Level& L0 = levels_[0];
  L0.tx = op.tx;
  L0.ty = op.ty;
  L0.tz = op.tz;
  L0.tb = op.tb;
  L0.diag = op.diag;
}

void Multigrid::refresh_level(int level, const PressureOperator& op) {
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  Level& L = levels_[static_cast<size_t>(level)];
  if (block_kernels()) {
    const size_t nf = static_cast<size_t>(L.nblocks) * kernels::kFacesPerBlock;
    if (level == 0 && op.faces.extent(0) == nf) {
      L.faces = op.faces;
    } else {
      if (L.faces.extent(0) != nf) L.faces = DView<float*>("cementflow::mg::packed_faces", nf);
      Kokkos::parallel_for("cementflow::mg::pack_faces", Policy(0, L.nblocks),
                           kernels::PackFaces<NbV, FV>{L.neighbour, L.tx, L.ty, L.tz, L.faces});
    }
  }
  const auto diag = L.diag, inv = L.inv_diag;
  Kokkos::parallel_for(
      "cementflow::mg::inverse_diagonal", Policy(0, L.nblocks * kernels::kBlockVoxels),
      KOKKOS_LAMBDA(int i) { inv(i) = 1.0 / diag(i); });
}

void Multigrid::update(const PressureOperator& op) {
  using IntV = DView<int*>;
  using NbV = DView<int* [6]>;
  using FV = DView<float*>;
  using DV = DView<double*>;
  adopt_finest(op);
  for (size_t l = 0; l < levels_.size(); ++l) {
    if (l > 0) {
      const Level& F = levels_[l - 1];
      Level& C = levels_[l];
      const int n = C.nblocks * kernels::kBlockVoxels;
      Kokkos::parallel_for(
          "cementflow::mg::coarsen_operator", Policy(0, n),
          kernels::CoarsenOperator<DView<int* [8]>, FV> {
            C.children, F.tx, F.ty, F.tz, F.tb, C.tx, C.ty, C.tz, C.tb, opt_.coarse_scale
          });
      Kokkos::parallel_for("cementflow::mg::coarse_diagonal", Policy(0, n),
                           kernels::AssembleDiagonal<IntV, NbV, FV, DV>{C.active, C.neighbour, C.tx,
                                                                        C.ty, C.tz, C.tb, C.diag});
    }
    refresh_level(static_cast<int>(l), op);
  }

  // Dense Cholesky of the coarsest operator (host; a few hundred unknowns).
  const Level& C = levels_.back();
  const int m = static_cast<int>(coarse_index_.size());
  auto nb = Kokkos::create_mirror_view_and_copy(HostSpace(), C.neighbour);
  auto tx = Kokkos::create_mirror_view_and_copy(HostSpace(), C.tx);
  auto ty = Kokkos::create_mirror_view_and_copy(HostSpace(), C.ty);
  auto tz = Kokkos::create_mirror_view_and_copy(HostSpace(), C.tz);
  auto diag = Kokkos::create_mirror_view_and_copy(HostSpace(), C.diag);
  std::unordered_map<int, int> compact;
  for (int c = 0; c < m; ++c) compact.emplace(coarse_index_[static_cast<size_t>(c)], c);
  chol_.assign(static_cast<size_t>(m) * static_cast<size_t>(m), 0.0);
  auto A = [&](int r, int c) -> double& {
    return chol_[static_cast<size_t>(r) * static_cast<size_t>(m) + static_cast<size_t>(c)];
  };
  for (int c = 0; c < m; ++c) {
    const int i = coarse_index_[static_cast<size_t>(c)];
    A(c, c) = diag(i);
    const int b = i / kernels::kBlockVoxels, v = i % kernels::kBlockVoxels;
    for (int d = 0; d < 6; ++d) {
      const int j = kernels::neighbour_voxel(nb, b, v, d);
      if (j < 0) continue;
      const auto it = compact.find(j);
      if (it == compact.end()) continue;
      A(c, it->second) = -kernels::face_t(tx, ty, tz, i, j, d);
    }
  }
  // In-place lower Cholesky; a vanishing pivot (a floating component without a Dirichlet
  // boundary) is replaced by the diagonal, which keeps the preconditioner SPD.
  for (int j = 0; j < m; ++j) {
    double s = A(j, j);
    for (int k = 0; k < j; ++k) s -= A(j, k) * A(j, k);
    const double dj = diag(coarse_index_[static_cast<size_t>(j)]);
    if (!(s > 1e-12 * dj)) s = dj;
    const double ljj = std::sqrt(s);
    A(j, j) = ljj;
    for (int i = j + 1; i < m; ++i) {
      double t = A(i, j);
      for (int k = 0; k < j; ++k) t -= A(i, k) * A(j, k);
      A(i, j) = t / ljj;
    }
  }
}

void Multigrid::coarse_solve() {
  Level& C = levels_.back();
  const int m = static_cast<int>(coarse_index_.size());
  auto b = Kokkos::create_mirror_view_and_copy(HostSpace(), C.b);
  auto x = Kokkos::create_mirror_view(C.x);
  Kokkos::deep_copy(x, 0.0);
  std::vector<double> y(static_cast<size_t>(m));
  auto L = [&](int r, int c) {
    return chol_[static_cast<size_t>(r) * static_cast<size_t>(m) + static_cast<size_t>(c)];
  };
  for (int i = 0; i < m; ++i) {
    double s = b(coarse_index_[static_cast<size_t>(i)]);
    for (int k = 0; k < i; ++k) s -= L(i, k) * y[static_cast<size_t>(k)];
    y[static_cast<size_t>(i)] = s / L(i, i);
  }
  // L^T x = y by columns of L^T (rows of the row-major L): contiguous in memory.
  for (int i = m - 1; i >= 0; --i) {
    const double xi = y[static_cast<size_t>(i)] / L(i, i);
    y[static_cast<size_t>(i)] = xi;
    const double* row = chol_.data() + static_cast<size_t>(i) * static_cast<size_t>(m);
    for (int k = 0; k < i; ++k) y[static_cast<size_t>(k)] -= row[k] * xi;
  }
  for (int i = 0; i < m; ++i) x(coarse_index_[static_cast<size_t>(i)]) = y[static_cast<size_t>(i)];
  Kokkos::deep_copy(C.x, x);
}

void Multigrid::smooth(int l, int steps, bool zero_start, bool forward) {
  using FV = DView<float*>;
  using DV = DView<double*>;
  Level& L = levels_[static_cast<size_t>(l)];
  const int n = L.nblocks * kernels::kBlockVoxels;
  if (steps == 0) {
    if (zero_start) Kokkos::deep_copy(L.x, 0.0);
    return;
  }
  if (opt_.smoother == MultigridOptions::Smoother::RedBlackGaussSeidel) {
    // Pre-smoothing red then black, post-smoothing black then red: the cycle stays symmetric.
    for (int s = 0; s < steps; ++s)
      for (int half = 0; half < 2; ++half) {
        const int colour = forward ? half : 1 - half;
        const bool zero = zero_start && s == 0 && half == 0;
        if (block_kernels()) {
          Kokkos::parallel_for(
              "cementflow::mg::gauss_seidel_blocks", Policy(0, L.nblocks),
              kernels::BlockGaussSeidelColour<DView<int* [6]>, FV, DV> {
                L.neighbour, L.faces, L.inv_diag, L.b, L.x, colour, zero
              });
        } else {
          Kokkos::parallel_for(
              "cementflow::mg::gauss_seidel", Policy(0, n),
              kernels::GaussSeidelColour<DView<int*>, DView<int* [6]>, FV, DV> {
                L.active, L.neighbour, L.tx, L.ty, L.tz, L.inv_diag, L.b, L.x, colour, zero
              });
        }
      }
    return;
  }
  for (int s = 0; s < steps; ++s) {
    Kokkos::parallel_for(
        "cementflow::mg::jacobi", Policy(0, n),
        kernels::JacobiStep<DView<int*>, DView<int* [6]>, FV, DV> {
          L.active, L.neighbour, L.tx, L.ty, L.tz, L.diag, L.b, L.x, L.y, opt_.omega,
              zero_start&& s == 0
        });
    std::swap(L.x, L.y);
  }
}

void Multigrid::cycle(int l, bool zero_start) {
  if (l + 1 == levels()) {
    coarse_solve();
    return;
  }
  using FV = DView<float*>;
  using DV = DView<double*>;
  Level& F = levels_[static_cast<size_t>(l)];
  Level& C = levels_[static_cast<size_t>(l) + 1];
  smooth(l, opt_.pre_smooth, zero_start, true);
  if (block_kernels()) {
    Kokkos::parallel_for(
        "cementflow::mg::restrict_residual_blocks", Policy(0, F.nblocks),
        kernels::BlockRestrictResidual<DView<int* [6]>, DView<int*>, FV, DV> {
          F.neighbour, F.coarse_block, F.octant, F.faces, F.diag, F.b, F.x, C.b
        });
  } else {
    Kokkos::parallel_for(
        "cementflow::mg::restrict_residual", Policy(0, C.nblocks * kernels::kBlockVoxels),
        kernels::RestrictResidual<DView<int* [8]>, DView<int* [6]>, FV, DV> {
          C.children, F.neighbour, F.tx, F.ty, F.tz, F.diag, F.b, F.x, C.b
        });
  }
  // V-cycle: one visit of the coarser level; W-cycle: two (the second from the first's result).
  // The coarsest level is solved exactly: once is enough.
  const int visits = l + 2 == levels() ? 1 : opt_.cycle_index;
  for (int visit = 0; visit < visits; ++visit) cycle(l + 1, visit == 0);
  if (block_kernels()) {
    Kokkos::parallel_for("cementflow::mg::prolong_blocks", Policy(0, F.nblocks),
                         kernels::BlockProlongAdd<DView<int*>, DView<int*>, DV>{
                             F.coarse_block, F.octant, F.active, C.x, F.x});
  } else {
    Kokkos::parallel_for("cementflow::mg::prolong", Policy(0, F.nblocks * kernels::kBlockVoxels),
                         kernels::ProlongAdd<DView<int*>, DV>{F.parent, C.x, F.x});
  }
  smooth(l, opt_.post_smooth, false, false);
}

void Multigrid::apply(const DView<double*>& r, DView<double*>& z) {
  Level& L0 = levels_[0];
  L0.b = r;
  L0.x = z;
  if (levels() == 1) {
    // The fine grid is already small: the dense solve is exact.
    coarse_solve();
  } else {
    cycle(0, true);
  }
  if (L0.x.data() != z.data()) {
    Kokkos::deep_copy(z, L0.x);
    std::swap(L0.x, L0.y);  // keep y a scratch distinct from z
  }
}

}  // namespace cementflow::detail

#pragma once
// Block-at-a-time forms of the seven-point stencil kernels for host backends (issue 7).
//
// The per-voxel kernels (kernels/pressure_kernels.hpp, kernels/multigrid_kernels.hpp) find every
// neighbour through the block table with a branch per face; that suits a GPU, where a thread per
// voxel hides the latency, but on a CPU it costs ~50 cycles a voxel and nothing vectorises. Here
// one call handles one 8^3 block: its field and the faces of its six neighbour blocks are copied
// into a 10^3 halo (zero where there is no neighbour block, whose face transmissibility is zero
// too), the transmissibilities are read from a per-block packing with the block's minus faces
// made local (packed once per assembly), and the stencil runs along x-lines over fixed strides
// (1, 10, 100) with no branch in the inner loop, which the compiler vectorises. Every voxel gets
// the same sums in the same order as the per-voxel kernels, so both paths give the same numbers;
// the engine picks this one when the execution space runs on the host (kernels::kHostBlockKernels).
//
// Inactive voxels need no test: their faces have zero transmissibility and their diagonal is 1,
// so the stencil gives them y = x (matvec) and x = b (smoothing), as the per-voxel kernels do.
// Formulas only: no allocation, no I/O.

#include <Kokkos_Core.hpp>

#include <type_traits>

#include "kernels/grid_kernels.hpp"
#include "kernels/kokkos_compat.hpp"

namespace cementflow::kernels {

/// True when the default execution space runs on the host: the engine then uses these kernels.
constexpr bool kHostBlockKernels =
    std::is_same<Kokkos::DefaultExecutionSpace::memory_space, Kokkos::HostSpace>::value;

constexpr int kHaloDim = kBlockDim + 2;
constexpr int kHaloVoxels = kHaloDim * kHaloDim * kHaloDim;

/// Index of local voxel (x, y, z), each in -1..8, in the 10^3 halo.
KOKKOS_INLINE_FUNCTION constexpr int halo_index(int x, int y, int z) {
  return (x + 1) + kHaloDim * ((y + 1) + kHaloDim * (z + 1));
}

/// Copies block b of X and the adjacent layers of its six neighbour blocks into h (10^3); absent
/// neighbours give 0. Edges and corners of the halo are not used by a seven-point stencil and are
/// left as they are. `skip` (0 or 1; -1: none) is a colour (parity of x + y + z; block origins
/// are even) whose voxels in the neighbour layers are not read but set to 0: a red-black
/// Gauss-Seidel sweep of colour c uses only colour 1 - c from its neighbours, which write colour c
/// meanwhile (ThreadSanitizer reported those unused reads as a data race, issue 17).
template <class NbView, class XView>
KOKKOS_INLINE_FUNCTION void gather_halo(const NbView& nb, int b, const XView& X, double* h,
                                        int skip = -1) {
  const long base = static_cast<long>(b) * kBlockVoxels;
  for (int z = 0; z < 8; ++z)
    for (int y = 0; y < 8; ++y) {
      double* dst = h + halo_index(0, y, z);
      const long src = base + 8 * y + 64 * z;
      for (int x = 0; x < 8; ++x) dst[x] = X(src + x);
    }
  // Neighbour faces: the layer of the neighbour block that touches this one. A voxel at -1 along
  // an axis has the parity of 7 there (odd), one at 8 that of 0 (even): p ^ 1 and p below.
  const int bxm = nb(b, 0), bxp = nb(b, 1), bym = nb(b, 2), byp = nb(b, 3), bzm = nb(b, 4),
            bzp = nb(b, 5);
  for (int z = 0; z < 8; ++z)
    for (int y = 0; y < 8; ++y) {
      const int v = 8 * y + 64 * z, p = (y + z) & 1;
      h[halo_index(-1, y, z)] =
          bxm >= 0 && (p ^ 1) != skip ? X(static_cast<long>(bxm) * kBlockVoxels + v + 7) : 0.0;
      h[halo_index(8, y, z)] =
          bxp >= 0 && p != skip ? X(static_cast<long>(bxp) * kBlockVoxels + v) : 0.0;
    }
  for (int z = 0; z < 8; ++z)
    for (int x = 0; x < 8; ++x) {
      const int v = x + 64 * z, p = (x + z) & 1;
      h[halo_index(x, -1, z)] =
          bym >= 0 && (p ^ 1) != skip ? X(static_cast<long>(bym) * kBlockVoxels + v + 56) : 0.0;
      h[halo_index(x, 8, z)] =
          byp >= 0 && p != skip ? X(static_cast<long>(byp) * kBlockVoxels + v) : 0.0;
    }
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      const int v = x + 8 * y, p = (x + y) & 1;
      h[halo_index(x, y, -1)] =
          bzm >= 0 && (p ^ 1) != skip ? X(static_cast<long>(bzm) * kBlockVoxels + v + 448) : 0.0;
      h[halo_index(x, y, 8)] =
          bzp >= 0 && p != skip ? X(static_cast<long>(bzp) * kBlockVoxels + v) : 0.0;
    }
}

/// The face transmissibilities of one block with its minus faces made local, packed per block
/// (kFacesPerBlock floats; the engine packs them once per assembly):
///   lx = f[0..576):     lx[(z*8 + y)*9 + x + 1] is the face between x and x+1 (tx of voxel x);
///                       lx[(z*8 + y)*9] the face to the -x neighbour block (0 without one), so
///                       the -x and +x faces of voxel x are lx[.. + x] and lx[.. + x + 1];
///   ly = f[576..1152):  ly[(z*9 + y + 1)*8 + x], the same along y;
///   lz = f[1152..1728): lz[((z + 1)*8 + y)*8 + x], the same along z.
constexpr int kFacesPerBlock = 3 * 576;

template <class NbView, class FloatView>
KOKKOS_INLINE_FUNCTION void pack_faces(const NbView& nb, int b, const FloatView& tx,
                                       const FloatView& ty, const FloatView& tz, float* f) {
  const long base = static_cast<long>(b) * kBlockVoxels;
  const int bxm = nb(b, 0), bym = nb(b, 2), bzm = nb(b, 4);
  float* lx = f;
  float* ly = f + 576;
  float* lz = f + 1152;
  for (int z = 0; z < 8; ++z)
    for (int y = 0; y < 8; ++y) {
      float* row = lx + (z * 8 + y) * 9;
      const long v = base + 8 * y + 64 * z;
      row[0] = bxm >= 0 ? tx(static_cast<long>(bxm) * kBlockVoxels + 8 * y + 64 * z + 7) : 0.0f;
      for (int x = 0; x < 8; ++x) row[x + 1] = tx(v + x);
    }
  for (int z = 0; z < 8; ++z) {
    float* layer = ly + z * 72;
    for (int x = 0; x < 8; ++x)
      layer[x] = bym >= 0 ? ty(static_cast<long>(bym) * kBlockVoxels + x + 56 + 64 * z) : 0.0f;
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) layer[(y + 1) * 8 + x] = ty(base + x + 8 * y + 64 * z);
  }
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      lz[y * 8 + x] = bzm >= 0 ? tz(static_cast<long>(bzm) * kBlockVoxels + x + 8 * y + 448) : 0.0f;
  for (int v = 0; v < kBlockVoxels; ++v) lz[64 + v] = tz(base + v);
}

/// Packs the faces of every block (one block per call) into `packed` (nblocks * kFacesPerBlock).
template <class NbView, class FloatView>
struct PackFaces {
  NbView nb;
  FloatView tx, ty, tz, packed;

  KOKKOS_INLINE_FUNCTION void operator()(const int b) const {
    pack_faces(nb, b, tx, ty, tz, packed.data() + static_cast<long>(b) * kFacesPerBlock);
  }
};

/// x-line (y, z) of a block: the halo row of the field at x = 0 (c[-1] and c[8] are the
/// neighbour blocks' values) and the packed faces: lx[x] / lx[x + 1] the -x / +x face of voxel x,
/// ly[x] / ly[x + 8] the -y / +y one, lz[x] / lz[x + 64] the -z / +z one.
struct Line {
  const double* c;
  const float* lx;
  const float* ly;
  const float* lz;
};

KOKKOS_INLINE_FUNCTION Line line_at(const float* f, const double* h, int y, int z) {
  return {h + halo_index(0, y, z), f + (z * 8 + y) * 9, f + 576 + (z * 9 + y) * 8,
          f + 1152 + (z * 8 + y) * 8};
}

/// One x-line (y, z) of the block: out[x] = (A x)(x, y, z) = diag x - sum_d T_d x_d in the
/// per-voxel kernels' order (-x, +x, -y, +y, -z, +z), from the halo h and packed faces f.
KOKKOS_INLINE_FUNCTION void line_apply(const float* f, const double* h, const double* diag, int y,
                                       int z, double* out) {
  const Line l = line_at(f, h, y, z);
  const double* c = l.c;
  for (int x = 0; x < 8; ++x) {
    double s = diag[x] * c[x];
    s -= static_cast<double>(l.lx[x]) * c[x - 1];
    s -= static_cast<double>(l.lx[x + 1]) * c[x + 1];
    s -= static_cast<double>(l.ly[x]) * c[x - kHaloDim];
    s -= static_cast<double>(l.ly[x + 8]) * c[x + kHaloDim];
    s -= static_cast<double>(l.lz[x]) * c[x - kHaloDim * kHaloDim];
    s -= static_cast<double>(l.lz[x + 64]) * c[x + kHaloDim * kHaloDim];
    out[x] = s;
  }
}

/// One x-line: out[x] = (b + sum_d T_d x_d) * inv_diag, the Gauss-Seidel update, same order.
KOKKOS_INLINE_FUNCTION void line_relax(const float* f, const double* h, const double* b,
                                       const double* inv_diag, int y, int z, double* out) {
  const Line l = line_at(f, h, y, z);
  const double* c = l.c;
  for (int x = 0; x < 8; ++x) {
    double s = b[x];
    s += static_cast<double>(l.lx[x]) * c[x - 1];
    s += static_cast<double>(l.lx[x + 1]) * c[x + 1];
    s += static_cast<double>(l.ly[x]) * c[x - kHaloDim];
    s += static_cast<double>(l.ly[x + 8]) * c[x + kHaloDim];
    s += static_cast<double>(l.lz[x]) * c[x - kHaloDim * kHaloDim];
    s += static_cast<double>(l.lz[x + 64]) * c[x + kHaloDim * kHaloDim];
    out[x] = s * inv_diag[x];
  }
}

/// y = A x, one block per call.
template <class NbView, class FloatView, class DoubleView, class ConstDoubleView>
struct BlockMatVec {
  NbView nb;
  FloatView faces;  // packed (kFacesPerBlock per block)
  DoubleView diag;
  ConstDoubleView x;
  DoubleView y;

  KOKKOS_INLINE_FUNCTION void operator()(const int b) const {
    double h[kHaloVoxels];
    gather_halo(nb, b, x, h);
    const long base = static_cast<long>(b) * kBlockVoxels;
    const float* f = faces.data() + static_cast<long>(b) * kFacesPerBlock;
    for (int z = 0; z < 8; ++z)
      for (int yy = 0; yy < 8; ++yy) {
        const long i = base + 8 * yy + 64 * z;
        line_apply(f, h, diag.data() + i, yy, z, y.data() + i);
      }
  }
};

/// One colour of red-black Gauss-Seidel in place, one block per call: voxels with
/// (x + y + z) & 1 == colour get x = (b + sum_d T_d x_d) * inv_diag. With `zero_start` the input
/// x is taken as zero: this colour gets b * inv_diag, the other colour 0 (no halo needed).
template <class NbView, class FloatView, class DoubleView>
struct BlockGaussSeidelColour {
  NbView nb;
  FloatView faces;  // packed
  DoubleView inv_diag, b, x;
  int colour;
  bool zero_start;

  KOKKOS_INLINE_FUNCTION void operator()(const int blk) const {
    const long base = static_cast<long>(blk) * kBlockVoxels;
    if (zero_start) {
      for (int v = 0; v < kBlockVoxels; ++v) {
        const int parity = (local_x(v) + local_y(v) + local_z(v)) & 1;
        x(base + v) = parity == colour ? b(base + v) * inv_diag(base + v) : 0.0;
      }
      return;
    }
    double h[kHaloVoxels];
    gather_halo(nb, blk, x, h, colour);  // neighbours write this colour meanwhile
    const float* f = faces.data() + static_cast<long>(blk) * kFacesPerBlock;
    double out[8];
    for (int z = 0; z < 8; ++z)
      for (int y = 0; y < 8; ++y) {
        const long i = base + 8 * y + 64 * z;
        line_relax(f, h, b.data() + i, inv_diag.data() + i, y, z, out);
        // Only this colour is written: the other one is read by neighbouring blocks meanwhile.
        for (int xx = (colour + y + z) & 1; xx < 8; xx += 2) x(i + xx) = out[xx];
      }
  }
};

/// Darcy velocity per voxel from the pressure, one block per call: per axis the average of the
/// two face fluxes (m/s) and the average of their magnitudes (the speed), in the per-voxel
/// kernel's order (engine/solve/transport.cpp, Transport::velocity).
template <class NbView, class FloatView, class DoubleView, class VelView>
struct BlockVelocity {
  NbView nb;
  FloatView faces;  // packed
  DoubleView p;
  VelView vel3;  // 3 per voxel
  DoubleView speed;
  double area;  // voxel face area, m^2

  KOKKOS_INLINE_FUNCTION void operator()(const int blk) const {
    double h[kHaloVoxels];
    gather_halo(nb, blk, p, h);
    const long base = static_cast<long>(blk) * kBlockVoxels;
    const float* f = faces.data() + static_cast<long>(blk) * kFacesPerBlock;
    for (int z = 0; z < 8; ++z)
      for (int y = 0; y < 8; ++y) {
        const Line l = line_at(f, h, y, z);
        const double* c = l.c;
        const float* lx = l.lx;
        const float* ly = l.ly;
        const float* lz = l.lz;
        const long i0 = base + 8 * y + 64 * z;
        for (int x = 0; x < 8; ++x) {
          // Face fluxes out of the voxel, T (p_i - p_j), in the order -x, +x, -y, +y, -z, +z.
          const double fl[6] = {
              static_cast<double>(lx[x]) * (c[x] - c[x - 1]),
              static_cast<double>(lx[x + 1]) * (c[x] - c[x + 1]),
              static_cast<double>(ly[x]) * (c[x] - c[x - kHaloDim]),
              static_cast<double>(ly[x + 8]) * (c[x] - c[x + kHaloDim]),
              static_cast<double>(lz[x]) * (c[x] - c[x - kHaloDim * kHaloDim]),
              static_cast<double>(lz[x + 64]) * (c[x] - c[x + kHaloDim * kHaloDim])};
          double u[3] = {0, 0, 0}, mag[3] = {0, 0, 0};
          for (int d = 0; d < 6; ++d) {
            const int ax = d >> 1;
            u[ax] += 0.5 * fl[d] * ((d & 1) ? 1 : -1) / area;
            mag[ax] += 0.5 * (fl[d] < 0 ? -fl[d] : fl[d]) / area;
          }
          const long i = i0 + x;
          for (int ax = 0; ax < 3; ++ax) vel3(3 * i + ax) = static_cast<float>(u[ax]);
          speed(i) = math::sqrt(mag[0] * mag[0] + mag[1] * mag[1] + mag[2] * mag[2]);
        }
      }
  }
};

/// Coarse right-hand side from one fine block: the fine residual b - A x of the block, summed
/// over each 2x2x2 aggregate into the coarse block `coarse_block(blk)` at the octant
/// `octant(blk)` (bit 0: x, 1: y, 2: z) of it. Every coarse voxel is written by exactly one fine
/// block; coarse voxels no fine block covers are never written (they stay 0).
template <class NbView, class IntView, class FloatView, class DoubleView>
struct BlockRestrictResidual {
  NbView nb;
  IntView coarse_block, octant;
  FloatView faces;        // fine, packed
  DoubleView diag, b, x;  // fine
  DoubleView bc;          // coarse

  KOKKOS_INLINE_FUNCTION void operator()(const int blk) const {
    double h[kHaloVoxels];
    gather_halo(nb, blk, x, h);
    const long base = static_cast<long>(blk) * kBlockVoxels;
    const float* f = faces.data() + static_cast<long>(blk) * kFacesPerBlock;
    double r[kBlockVoxels];
    for (int z = 0; z < 8; ++z)
      for (int y = 0; y < 8; ++y) {
        const long i = base + 8 * y + 64 * z;
        double* ri = r + 8 * y + 64 * z;
        line_apply(f, h, diag.data() + i, y, z, ri);
        for (int xx = 0; xx < 8; ++xx) ri[xx] = b(i + xx) - ri[xx];
      }
    const int o = octant(blk);
    const long cbase = static_cast<long>(coarse_block(blk)) * kBlockVoxels +
                       4 * ((o & 1) + 8 * ((o >> 1) & 1) + 64 * ((o >> 2) & 1));
    for (int cz = 0; cz < 4; ++cz)
      for (int cy = 0; cy < 4; ++cy)
        for (int cx = 0; cx < 4; ++cx) {
          const int f0 = 2 * cx + 8 * 2 * cy + 64 * 2 * cz;
          // Children in the per-voxel kernel's order: dx fastest, then dy, then dz.
          double s = 0;
          s += r[f0];
          s += r[f0 + 1];
          s += r[f0 + 8];
          s += r[f0 + 9];
          s += r[f0 + 64];
          s += r[f0 + 65];
          s += r[f0 + 72];
          s += r[f0 + 73];
          bc(cbase + cx + 8 * cy + 64 * cz) = s;
        }
  }
};

/// x += xc(parent) on the active voxels of one fine block (inactive: unchanged).
template <class IntView, class ActiveView, class DoubleView>
struct BlockProlongAdd {
  IntView coarse_block, octant;
  ActiveView active;  // >= 0 active
  DoubleView xc, x;

  KOKKOS_INLINE_FUNCTION void operator()(const int blk) const {
    const long base = static_cast<long>(blk) * kBlockVoxels;
    const int o = octant(blk);
    const long cbase = static_cast<long>(coarse_block(blk)) * kBlockVoxels +
                       4 * ((o & 1) + 8 * ((o >> 1) & 1) + 64 * ((o >> 2) & 1));
    for (int z = 0; z < 8; ++z)
      for (int y = 0; y < 8; ++y)
        for (int xx = 0; xx < 8; ++xx) {
          const long i = base + xx + 8 * y + 64 * z;
          if (active(i) >= 0) x(i) += xc(cbase + (xx >> 1) + 8 * (y >> 1) + 64 * (z >> 1));
        }
  }
};

}  // namespace cementflow::kernels

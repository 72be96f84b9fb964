#include "engine/grid/device_grid.hpp"

#include <thrust/binary_search.h>
#include <thrust/sort.h>

#include <cstdint>
#include <limits>
#include <string>

#include "cementflow/errors.hpp"
#include "kernels/grid_kernels.hpp"
#include "kernels/thrust_policy.hpp"

namespace cementflow::detail {

namespace {
template <class T>
DView<T*> upload(const std::vector<T>& v, const char* label) {
  DView<T*> d(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), v.size());
  Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(v.data(),
                                                                                       v.size());
  Kokkos::deep_copy(d, h);
  return d;
}
template <class T>
void download(const DView<T*>& d, std::vector<T>& v) {
  v.resize(d.extent(0));
  Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> h(v.data(),
                                                                                 v.size());
  Kokkos::deep_copy(h, d);
}

/// out[b*512+v] = in[from[b]*512+v] (stride 1), or with `stride` components per voxel.
template <class T>
DView<T*> gather_blocks(const DView<T*>& in, const DView<int*>& from, int stride,
                        const char* label) {
  const int n = static_cast<int>(from.extent(0));
  DView<T*> out(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), in.extent(0));
  const long long per = static_cast<long long>(kernels::kBlockVoxels) * stride;
  Kokkos::parallel_for(
      "cementflow::grid::gather_blocks", Kokkos::RangePolicy<ExecSpace>(0, n * per),
      KOKKOS_LAMBDA(const long long i) {
        const long long b = i / per, r = i % per;
        out(i) = in(from(b) * per + r);
      });
  return out;
}
}  // namespace

DeviceGrid build_device_grid(const BoneBlocks& bone) {
  const size_t nvox = bone.num_blocks() * static_cast<size_t>(kernels::kBlockVoxels);
  if (bone.material.size() != nvox || bone.porosity.size() != nvox ||
      bone.permeability.size() != 3 * nvox || bone.route.size() != nvox)
    throw InputError(
        "<bone>", "material, porosity, permeability, route",
        "arrays that do not cover the " + std::to_string(bone.num_blocks()) + " blocks",
        "a completed bone (call complete_bone first)");
  DeviceGrid g;
  g.nblocks = static_cast<int>(bone.num_blocks());
  g.h_m = bone.voxel_mm * 1e-3;
  const int n = g.nblocks;

  // Block origins and their Morton keys (block coordinates shifted to be non-negative).
  std::vector<int> org(static_cast<size_t>(n) * 3);
  for (int b = 0; b < n; ++b)
    for (int a = 0; a < 3; ++a) org[static_cast<size_t>(b) * 3 + a] = bone.block_origin[b][a];
  DView<int*> org_in = upload(org, "cementflow::grid::origin_in");
  int lo[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    int m = std::numeric_limits<int>::max();
    for (int b = 0; b < n; ++b) m = std::min(m, bone.block_origin[b][a]);
    lo[a] = n > 0 ? m : 0;
  }
  const int lx = lo[0], ly = lo[1], lz = lo[2];
  DView<std::uint64_t*> keys("cementflow::grid::morton", n);
  g.sorted_from = DView<int*>("cementflow::grid::sorted_from", n);
  auto sorted_from = g.sorted_from;
  Kokkos::parallel_for(
      "cementflow::grid::morton_keys", Kokkos::RangePolicy<ExecSpace>(0, n), KOKKOS_LAMBDA(int b) {
        keys(b) = kernels::morton_code((org_in(3 * b) - lx) / 8, (org_in(3 * b + 1) - ly) / 8,
                                       (org_in(3 * b + 2) - lz) / 8);
        sorted_from(b) = b;
      });
  Kokkos::fence();
  thrust::sort_by_key(kernels::thrust_policy(), keys.data(), keys.data() + n, sorted_from.data());
  Kokkos::fence();

  // Sorted origins, and the neighbour table by binary search of the neighbours' keys.
  g.origin = DView<int* [3]>("cementflow::grid::origin", n);
  auto origin = g.origin;
  DView<std::uint64_t*> query("cementflow::grid::neighbour_keys", static_cast<size_t>(n) * 6);
  constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  Kokkos::parallel_for(
      "cementflow::grid::neighbour_keys", Kokkos::RangePolicy<ExecSpace>(0, n),
      KOKKOS_LAMBDA(int b) {
        const int s = sorted_from(b);
        int c[3];
        for (int a = 0; a < 3; ++a) {
          origin(b, a) = org_in(3 * s + a);
        }
        c[0] = (origin(b, 0) - lx) / 8;
        c[1] = (origin(b, 1) - ly) / 8;
        c[2] = (origin(b, 2) - lz) / 8;
        for (int d = 0; d < 6; ++d) {
          int q[3] = {c[0], c[1], c[2]};
          q[d >> 1] += (d & 1) ? 1 : -1;
          query(6 * b + d) =
              (q[0] < 0 || q[1] < 0 || q[2] < 0) ? kNone : kernels::morton_code(q[0], q[1], q[2]);
        }
      });
  DView<long long*> pos("cementflow::grid::neighbour_pos", static_cast<size_t>(n) * 6);
  Kokkos::fence();
  thrust::lower_bound(kernels::thrust_policy(), keys.data(), keys.data() + n, query.data(),
                      query.data() + 6 * static_cast<long long>(n), pos.data());
  Kokkos::fence();
  g.neighbour = DView<int* [6]>("cementflow::grid::neighbour", n);
  auto nb = g.neighbour;
  Kokkos::parallel_for(
      "cementflow::grid::neighbour_table", Kokkos::RangePolicy<ExecSpace>(0, n),
      KOKKOS_LAMBDA(int b) {
        for (int d = 0; d < 6; ++d) {
          const long long p = pos(6 * b + d);
          const std::uint64_t q = query(6 * b + d);
          nb(b, d) = (q != kNone && p < n && keys(p) == q) ? static_cast<int>(p) : -1;
        }
      });

  // Per-voxel fields in sorted block order.
  g.material = gather_blocks(upload(bone.material, "cementflow::grid::material_in"), sorted_from, 1,
                             "cementflow::grid::material");
  g.porosity = gather_blocks(upload(bone.porosity, "cementflow::grid::porosity_in"), sorted_from, 1,
                             "cementflow::grid::porosity");
  g.route = gather_blocks(upload(bone.route, "cementflow::grid::route_in"), sorted_from, 1,
                          "cementflow::grid::route");
  DView<float*> perm = gather_blocks(upload(bone.permeability, "cementflow::grid::perm_in"),
                                     sorted_from, 3, "cementflow::grid::perm");
  const long long nv = static_cast<long long>(n) * kernels::kBlockVoxels;
  g.kx = DView<float*>("cementflow::grid::kx", nv);
  g.ky = DView<float*>("cementflow::grid::ky", nv);
  g.kz = DView<float*>("cementflow::grid::kz", nv);
  auto kx = g.kx, ky = g.ky, kz = g.kz;
  Kokkos::parallel_for(
      "cementflow::grid::split_permeability", Kokkos::RangePolicy<ExecSpace>(0, nv),
      KOKKOS_LAMBDA(long long i) {
        kx(i) = perm(3 * i);
        ky(i) = perm(3 * i + 1);
        kz(i) = perm(3 * i + 2);
      });
  Kokkos::fence();
  return g;
}

BoneBlocks download_grid(const DeviceGrid& g, const BoneBlocks& bone) {
  BoneBlocks out;
  out.voxel_mm = bone.voxel_mm;
  out.origin_mm = bone.origin_mm;
  auto org = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g.origin);
  out.block_origin.resize(static_cast<size_t>(g.nblocks));
  for (int b = 0; b < g.nblocks; ++b) out.block_origin[b] = {org(b, 0), org(b, 1), org(b, 2)};
  download(g.material, out.material);
  download(g.porosity, out.porosity);
  download(g.route, out.route);
  std::vector<float> kx, ky, kz;
  download(g.kx, kx);
  download(g.ky, ky);
  download(g.kz, kz);
  out.permeability.resize(kx.size() * 3);
  for (size_t i = 0; i < kx.size(); ++i) {
    out.permeability[3 * i] = kx[i];
    out.permeability[3 * i + 1] = ky[i];
    out.permeability[3 * i + 2] = kz[i];
  }
  return out;
}

}  // namespace cementflow::detail

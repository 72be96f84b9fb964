// The cached box-phantom fixtures of the engine benchmarks (bench_common.hpp).

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "bench/bench_common.hpp"

namespace cementflow::bench {

namespace {

auto& cache() {
  return fixture_cache<BoxFixture>();
}

/// Sorted global index of the voxel whose centre is nearest the world point (0, 0, 0) mm, found
/// the way the simulation finds a needle tip (round to the nearest voxel index).
long long origin_voxel(const BoneBlocks& bone, const detail::DeviceGrid& grid) {
  int ijk[3];
  for (int a = 0; a < 3; ++a)
    ijk[a] = static_cast<int>(std::lround(-bone.origin_mm[static_cast<size_t>(a)] / bone.voxel_mm));
  const auto org = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grid.origin);
  for (int b = 0; b < grid.nblocks; ++b)
    if (org(b, 0) == (ijk[0] & ~7) && org(b, 1) == (ijk[1] & ~7) && org(b, 2) == (ijk[2] & ~7))
      return static_cast<long long>(b) * BoneBlocks::kBlockVoxels +
             BoneBlocks::local_index(ijk[0] & 7, ijk[1] & 7, ijk[2] & 7);
  throw std::runtime_error("bench: the box phantom has no voxel at the origin");
}

}  // namespace

std::string box_tag(const std::array<double, 3>& size_mm) {
  std::ostringstream o;
  o << size_mm[0] << "x" << size_mm[1] << "x" << size_mm[2] << "mm";
  return o.str();
}

DView<double*> host_filled(const char* label, long long n,
                           const std::function<void(double*)>& fill) {
  DView<double*> d(std::string(label), static_cast<size_t>(n));
  auto h = Kokkos::create_mirror_view(d);
  fill(h.data());
  Kokkos::deep_copy(d, h);
  return d;
}

BoxFixture& box_fixture(const std::array<double, 3>& size_mm) {
  auto& slot = cache()[size_mm];
  if (slot) return *slot;
  auto f = std::make_unique<BoxFixture>();
  BoxPhantom box;
  box.size_mm = size_mm;
  box.voxel_mm = kVoxelMm;
  box.sink_faces = {"-x", "+x", "-y", "+y", "-z", "+z"};
  f->bone = generate_box(box);
  complete_bone(f->bone);
  f->active = static_cast<long long>(f->bone.active_voxels());
  f->grid = detail::build_device_grid(f->bone);
  f->source = origin_voxel(f->bone, f->grid);
  const long long n = f->grid.num_voxels();
  f->solver = std::make_unique<detail::PressureSolver>(f->grid);
  const DView<double*> lambda("cementflow::bench::lambda", static_cast<size_t>(n));
  Kokkos::deep_copy(lambda, 1.0 / kMarrowViscosity);
  f->solver->assemble(lambda);
  f->jacobi = std::make_unique<detail::PressureSolver>(f->grid, detail::Preconditioner::Jacobi);
  f->jacobi->assemble(lambda);
  const long long src = f->source;
  f->q = host_filled("cementflow::bench::source", n, [n, src](double* q) {
    for (long long i = 0; i < n; ++i) q[i] = 0.0;
    q[src] = kSourceFlow;
  });
  slot = std::move(f);
  return *slot;
}

}  // namespace cementflow::bench

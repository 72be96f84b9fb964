#pragma once
// Image readers for `cementflow import` (SPEC.md §1): micro-CT TIFF stacks and MetaImage
// (.mhd + raw), clinical CT as NIfTI (libnifti2) or a DICOM series (GDCM). Host-only code of the
// `cementflow_io` object library; no OpenVDB or Kokkos types.
//
// Every reader returns the voxel values as doubles (CT: Hounsfield units after the file's rescale
// slope and intercept) together with the voxel-to-world affine in patient RAS+ millimetres:
// world = A * (i, j, k, 1), with i the fastest index. DICOM and MetaImage store LPS coordinates;
// the readers negate x and y. Bad files throw InputError naming the file and the problem.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cementflow::detail {

/// A 3-D scalar image with its geometry.
struct Volume {
  std::array<std::int64_t, 3> dims{0, 0, 0};
  /// Rows of the voxel-to-RAS affine (3 x 4): world_r = sum_c A[r][c] * ijk[c] + A[r][3].
  std::array<std::array<double, 4>, 3> affine{};
  std::vector<double> values;  ///< dims[0]*dims[1]*dims[2], i fastest
  std::string format;          ///< "tiff", "metaimage", "nifti", "dicom"
  std::string source;          ///< the path it was read from

  std::size_t size() const {
    return static_cast<std::size_t>(dims[0]) * static_cast<std::size_t>(dims[1]) *
           static_cast<std::size_t>(dims[2]);
  }
  std::size_t index(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return static_cast<std::size_t>(i + dims[0] * (j + dims[1] * k));
  }
  /// Length of each index axis in mm (the column norms of the affine).
  std::array<double, 3> spacing_mm() const;
  /// World position (mm, RAS) of the continuous index (i, j, k).
  std::array<double, 3> to_world(const std::array<double, 3>& ijk) const;
  /// Continuous index of a world position (inverse affine).
  std::array<double, 3> to_index(const std::array<double, 3>& world) const;
};

/// Largest image read (voxels): 2^31, 16 GiB of doubles. Larger images are refused before their
/// data are read.
constexpr double kMaxImageVoxels = 2147483648.0;

/// Reads an image by its form: a folder of DICOM files or of TIFF slices, a (multi-page)
/// .tif/.tiff, a .mhd MetaImage header or a .nii/.nii.gz NIfTI file. `spacing_mm` (> 0) gives the
/// voxel size of a TIFF stack, which carries none in a portable form; 0 = read it from an ImageJ
/// header or the resolution tags, else refuse.
Volume read_image(const std::string& path, double tiff_spacing_mm = 0);

Volume read_tiff_stack(const std::string& path, double spacing_mm);
Volume read_metaimage(const std::string& mhd_path);
Volume read_nifti(const std::string& path);
Volume read_dicom_series(const std::string& folder);

}  // namespace cementflow::detail

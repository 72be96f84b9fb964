#pragma once
/// @file import.hpp
/// @brief `cementflow import` (SPEC.md §1): micro-CT or clinical CT images -> a bone model
///        (material, porosity, permeability) in patient RAS+ millimetres. No OpenVDB types here.

#include <array>
#include <cstddef>
#include <string>

#include "cementflow/bone.hpp"

namespace cementflow {

/// Clinical CT calibration: HU -> bone mineral density (mg HA/cm^3) -> BV/TV. The defaults and
/// their sources are in engine/bone/import.cpp and README.md ("Importing images").
struct CtCalibration {
  double bmd_slope_mg_cm3_per_hu = 0.8;  ///< BMD = slope * HU + intercept
  double bmd_intercept_mg_cm3 = 0.0;
  double tissue_bmd_mg_cm3 = 1200.0;  ///< mineral density of fully dense bone tissue
  std::string source = "default";     ///< where the numbers come from (provenance metadata)
};

/// Reads and checks a calibration JSON file ({"bmd_slope_mg_cm3_per_hu": ..,
/// "bmd_intercept_mg_cm3":
/// .., "tissue_bmd_mg_cm3": .., "source": ".."}; missing keys keep the defaults). Absurd numbers
/// are an InputError naming the file and the key.
CtCalibration load_calibration(const std::string& json_path);
/// Checks a calibration's numbers (InputError with `file` as the origin).
void check_calibration(const CtCalibration& c, const std::string& file);

/// What to import and how.
struct ImportOptions {
  std::string image;            ///< TIFF folder/.tif, .mhd, .nii/.nii.gz or a DICOM folder
  std::string label;            ///< label mask (clinical CT); empty = micro-CT mode
  int label_value = -1;         ///< the label's voxel value (required with `label`)
  std::string threshold;        ///< micro-CT: "" or "otsu" = Otsu, else a grey value (bone > T)
  double voxel_mm = 0;          ///< output voxel edge; 0 = the image's smallest spacing
  double image_spacing_mm = 0;  ///< TIFF stacks carry no voxel size: give it here
  std::string calibration;      ///< JSON file overriding the default CtCalibration
  /// Extra voxels of soft tissue (material 0, a sink) around the model: micro-CT gets a bath on
  /// every face, clinical CT a shell around the label.
  int sink_layers = 1;
  /// Clinical CT: the label's boundary voxels form a cortical shell (material 2). false keeps
  /// them trabecular, so the bone drains straight into the surrounding soft tissue.
  bool cortical_shell = true;
};

/// Measurements made during the import (also written as metadata into the .vdb).
struct ImportSummary {
  std::string mode;  ///< "microct" or "clinical"
  std::array<std::size_t, 3> image_dims{0, 0, 0};
  std::array<double, 3> image_spacing_mm{0, 0, 0};
  // micro-CT
  double threshold = 0;    ///< bone = grey value > threshold
  bool otsu = false;       ///< the threshold came from Otsu's method
  double image_bv_tv = 0;  ///< BV/TV of the whole image at its own resolution
  // clinical CT
  std::size_t label_voxels = 0;  ///< voxels of the image with the label value
  double label_volume_ml = 0;    ///< their volume
  double label_mean_hu = 0;      ///< mean HU inside the label
  double label_bv_tv = 0;        ///< mean BV/TV inside the label by the calibration
  CtCalibration calibration;
  // the model
  double voxel_mm = 0;
  std::size_t active_voxels = 0;
  std::size_t bone_voxels = 0;    ///< trabecular + cortical voxels of the model
  double bone_volume_ml = 0;      ///< their volume
  double mean_bone_porosity = 0;  ///< mean porosity of trabecular + cortical voxels
  std::array<double, 3> bone_centroid_mm{0, 0, 0};  ///< centroid of the bone voxels (RAS)
  std::array<double, 3> bone_min_mm{0, 0, 0}, bone_max_mm{0, 0, 0};
};

/// The imported bone and its summary.
struct ImportResult {
  BoneBlocks bone;
  ImportSummary summary;
};

/// Reads the image (and label), checks them, builds the bone (complete_bone applied).
/// Throws InputError naming the file and the problem for unreadable or inconsistent images,
/// a label that does not overlap the CT, a missing label value, an absurd calibration or a voxel
/// size whose model would not fit in memory.
ImportResult import_image(const ImportOptions& options);

/// import_image + save_bone with provenance metadata (source, threshold, calibration).
ImportSummary import_to_vdb(const ImportOptions& options, const std::string& vdb_path);

/// Largest model the importer builds (voxels, before sparsity): 2^27, about 3 GB of BoneBlocks.
constexpr double kMaxImportVoxels = 134217728.0;

}  // namespace cementflow

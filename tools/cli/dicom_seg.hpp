#pragma once
// DICOM SEG output of `cementflow slicer` (DCMTK, built when CEMENTFLOW_WITH_DICOM_SEG).

#include <cstdint>
#include <string>
#include <vector>

#include "engine/bone/image_io.hpp"

namespace cementflow::cli {

/// Writes the cement (labels == 1, segment 1 "Cement in bone") and leak (labels >= 2, segment 2
/// "Cement leak") regions of `labels` (on `ct`'s grid, i fastest) as a binary DICOM
/// Segmentation, one frame per CT slice and segment, in DICOM's LPS patient coordinates. With
/// `source_files` (the files of the CT's DICOM series) the SEG takes over the series' patient,
/// study and frame of reference and lists its instances in the Common Instance Reference
/// module. Throws InputError naming `path` on failure.
void write_dicom_seg(const detail::Volume& ct, const std::vector<std::uint8_t>& labels,
                     const std::string& path, const std::vector<std::string>& source_files);

}  // namespace cementflow::cli

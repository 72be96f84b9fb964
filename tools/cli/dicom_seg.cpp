// DICOM Segmentation (binary SEG, DCMTK dcmseg) of the cement and leak regions on the CT's grid,
// for planners' viewers (`cementflow slicer --dicomSeg FILE.dcm`).

#include "tools/cli/dicom_seg.hpp"

#include <dcmtk/config/osconfig.h>  // first, as DCMTK requires
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"

namespace cementflow::cli {

namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", std::abs(v) < 1e-9 ? 0.0 : v);
  return b;
}

void check(const OFCondition& c, const std::string& path, const std::string& what) {
  if (c.bad())
    throw InputError(path, "--dicomSeg", "",
                     "a DICOM SEG that DCMTK accepts (" + what + ": " + c.text() + ")");
}

}  // namespace

void write_dicom_seg(const detail::Volume& ct, const std::vector<std::uint8_t>& labels,
                     const std::string& path, const std::vector<std::string>& source_files) {
  namespace fs = std::filesystem;
  if (ct.dims[0] > 65535 || ct.dims[1] > 65535)
    throw InputError(path, "--dicomSeg", "", "a CT of at most 65535 x 65535 pixels per slice");
  const auto rows = static_cast<Uint16>(ct.dims[1]), cols = static_cast<Uint16>(ct.dims[0]);
  IODGeneralEquipmentModule::EquipmentInfo eq("cementflow", "cementflow", "0", "cementflow");
  ContentIdentificationMacro ci("1", "CEMENTFLOW", "Simulated cement fill and leaks", "cementflow");
  DcmSegmentation* raw = nullptr;
  check(DcmSegmentation::createBinarySegmentation(raw, rows, cols, eq, ci), path, "create");
  std::unique_ptr<DcmSegmentation> seg(raw);
  // Same patient, study and frame of reference as the source series when the CT was DICOM.
  if (!source_files.empty())
    check(seg->importFromSourceImage(source_files.front().c_str()), path, source_files.front());
  OFString for_uid;
  seg->getFrameOfReference().getFrameOfReferenceUID(for_uid);
  if (for_uid.empty()) {  // a CT from a NIfTI file: a frame of reference of its own
    char uid[100];
    check(seg->getFrameOfReference().setFrameOfReferenceUID(
              dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)),
          path, "frame of reference");
  }
  check(seg->getSeries().setSeriesNumber("9001"), path, "series number");
  check(seg->getSeries().setSeriesDescription("cementflow cement and leaks"), path, "series");

  // Segments: 1 cement in bone, 2 leaked cement (any route). Codes from cementflow's own scheme
  // (99CEMENTFLOW): no standard code names a simulated cement region.
  const char* names[2] = {"Cement in bone", "Cement leak"};
  const char* codes[2] = {"CEMENT", "LEAK"};
  Uint16 numbers[2] = {0, 0};
  for (int s = 0; s < 2; ++s) {
    DcmSegment* segment = nullptr;
    check(DcmSegment::create(segment, names[s],
                             CodeSequenceMacro("MATERIAL", "99CEMENTFLOW", "Material"),
                             CodeSequenceMacro(codes[s], "99CEMENTFLOW", names[s]),
                             DcmSegTypes::SAT_AUTOMATIC, "cementflow"),
          path, names[s]);
    check(seg->addSegment(segment, numbers[s]), path, names[s]);
  }

  char dim_uid[100];
  dcmGenerateUniqueIdentifier(dim_uid, SITE_INSTANCE_UID_ROOT);
  IODMultiframeDimensionModule& dims = seg->getDimensions();
  check(dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dim_uid,
                               DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
        path, "dimension");
  check(dims.addDimensionIndex(DCM_ImagePositionPatient, dim_uid, DCM_PlanePositionSequence,
                               "ImagePositionPatient"),
        path, "dimension");

  // Geometry in DICOM's LPS: x and y of RAS negated. Rows run along j, columns along i.
  const auto sp = ct.spacing_mm();
  auto lps_col = [&](int c) {
    return std::array<double, 3>{
        -ct.affine[0][static_cast<std::size_t>(c)] / sp[static_cast<std::size_t>(c)],
        -ct.affine[1][static_cast<std::size_t>(c)] / sp[static_cast<std::size_t>(c)],
        ct.affine[2][static_cast<std::size_t>(c)] / sp[static_cast<std::size_t>(c)]};
  };
  const auto row_dir = lps_col(0), col_dir = lps_col(1);
  FGPixelMeasures pm;
  check(pm.setPixelSpacing((num(sp[1]) + "\\" + num(sp[0])).c_str()), path, "pixel spacing");
  check(pm.setSliceThickness(num(sp[2]).c_str()), path, "slice thickness");
  check(seg->addForAllFrames(pm), path, "pixel measures");
  std::unique_ptr<FGPlaneOrientationPatient> po(FGPlaneOrientationPatient::createMinimal(
      num(row_dir[0]).c_str(), num(row_dir[1]).c_str(), num(row_dir[2]).c_str(),
      num(col_dir[0]).c_str(), num(col_dir[1]).c_str(), num(col_dir[2]).c_str()));
  if (!po) throw InputError(path, "--dicomSeg", "", "a plane orientation DCMTK accepts");
  check(seg->addForAllFrames(*po), path, "plane orientation");

  std::vector<Uint8> frame(static_cast<std::size_t>(rows) * cols);
  for (int s = 0; s < 2; ++s)
    for (std::int64_t k = 0; k < ct.dims[2]; ++k) {
      for (std::int64_t j = 0; j < ct.dims[1]; ++j)
        for (std::int64_t i = 0; i < ct.dims[0]; ++i) {
          const std::uint8_t l = labels[ct.index(i, j, k)];
          frame[static_cast<std::size_t>(j * cols + i)] =
              (s == 0 ? l == 1 : l >= 2) ? Uint8{1} : Uint8{0};
        }
      const auto o = ct.to_world({0, 0, static_cast<double>(k)});
      std::unique_ptr<FGPlanePosPatient> pp(FGPlanePosPatient::createMinimal(
          num(-o[0]).c_str(), num(-o[1]).c_str(), num(o[2]).c_str()));
      FGFrameContent fc;
      check(fc.setStackID("1"), path, "stack");
      check(fc.setInStackPositionNumber(static_cast<Uint32>(k + 1)), path, "stack position");
      check(fc.setDimensionIndexValues(numbers[s], 0), path, "dimension index");
      check(fc.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1), path, "dimension index");
      OFVector<FGBase*> groups;
      groups.push_back(pp.get());
      groups.push_back(&fc);
      check(seg->addFrame(frame.data(), numbers[s], groups), path, "frame");
    }
  // The source series' instances, in the Common Instance Reference module.
  if (!source_files.empty()) {
    OFVector<OFString> files;
    for (const auto& f : source_files) files.push_back(f.c_str());
    IODReferences refs;
    const std::size_t n = refs.addFromFiles(files, IODReference::LEVEL_SERIES);
    if (n > 0) seg->getCommonInstanceReference().addReferences(refs);
    if (n < source_files.size())  // de-identified series may carry no SOP or series UIDs
      std::fprintf(stderr,
                   "cementflow: warning: %s: %zu of %zu source files have no SOP/series UIDs to "
                   "reference (the SEG shares their frame of reference)\n",
                   path.c_str(), source_files.size() - n, source_files.size());
  }
  check(seg->saveFile(path.c_str(), EXS_LittleEndianExplicit), path, "write");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "--dicomSeg", "", "a writable path");
}

}  // namespace cementflow::cli

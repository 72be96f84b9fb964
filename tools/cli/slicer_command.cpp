// `cementflow slicer`: the 3D Slicer CLI module (Slicer Execution Model, SPEC.md §8).
//
// `cementflow slicer --xml` prints the module's descriptor; `cementflow slicer ARGS` runs as
// Slicer invokes it: input files in, output files out, <filter-start>/<filter-progress>/
// <filter-end> lines on stdout, "name = value" lines into --returnparameterfile. Slicer calls a
// module's executable directly (`EXE --xml`, `EXE ARGS`): tools/slicer/CementflowPlanner is the
// two-line wrapper to put on Slicer's module path.
//
// Output volumes lie on the CT's grid (same size, spacing, origin and direction; NIfTI-1, RAS
// from the CT's sform/qform as `cementflow import` reads it): each CT voxel averages the model
// voxels at n^3 sub-sample points, n = ceil(CT spacing / model voxel) per axis (at most 4).

#include <nifti2_io.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cementflow/cementflow.hpp"
#include "engine/bone/image_io.hpp"
#include "tools/cli/commands.hpp"
#ifdef CEMENTFLOW_WITH_DICOM_SEG
#include "tools/cli/dicom_seg.hpp"
#endif

namespace cf = cementflow;
using json = nlohmann::json;

namespace cementflow::cli {

namespace {

/// The module's arguments (Slicer's flags).
struct SlicerArgs {
  bool xml = false;
  std::string ct, label, bone;
  int label_value = 1;
  double voxel_mm = 1.5;
  std::vector<double> entry, target;
  std::string mode = "vertebroplasty";
  std::string preset = "generic_vertebroplasty";
  double volume_ml = 4;
  double flow_rate = 3;
  int gauge = 11;
  double balloon_ml = 3;
  double balloon_length_mm = 15;
  int threads = 0;
  std::string output_dir;
  std::string cement_fraction, leak_label, report, return_parameter_file, dicom_seg;
};

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

/// One parameter element, children in the Execution Model's order: name, longflag,
/// description, label, default, channel, then constraints or enumeration elements.
struct Param {
  std::string tag, name, flag, label, description, def, channel = "input", attrs;
  std::vector<std::string> elements;
  bool constraints = false;
  double min = 0, max = 0, step = 0;
};

std::string render(const Param& p) {
  std::ostringstream o;
  o << "    <" << p.tag << p.attrs << ">\n";
  o << "      <name>" << p.name << "</name>\n";
  if (!p.flag.empty()) o << "      <longflag>" << p.flag << "</longflag>\n";
  o << "      <description>" << xml_escape(p.description) << "</description>\n";
  o << "      <label>" << xml_escape(p.label) << "</label>\n";
  if (!p.def.empty()) o << "      <default>" << xml_escape(p.def) << "</default>\n";
  o << "      <channel>" << p.channel << "</channel>\n";
  for (const auto& e : p.elements) o << "      <element>" << xml_escape(e) << "</element>\n";
  if (p.constraints)
    o << "      <constraints>\n        <minimum>" << p.min << "</minimum>\n        <maximum>"
      << p.max << "</maximum>\n        <step>" << p.step << "</step>\n      </constraints>\n";
  o << "    </" << p.tag << ">\n";
  return o.str();
}

/// A parameter's identity: XML tag, name, long flag ("" for none), label and description.
Param named(const std::string& tag, const std::string& name, const std::string& flag,
            const std::string& label, const std::string& desc) {
  Param p;
  p.tag = tag;
  p.name = name;
  p.flag = flag;
  p.label = label;
  p.description = desc;
  return p;
}

Param scalar(const std::string& tag, const std::string& name, const std::string& flag,
             const std::string& label, const std::string& desc, const std::string& def, double mn,
             double mx, double step) {
  Param p = named(tag, name, flag, label, desc);
  p.def = def;
  p.constraints = true;
  p.min = mn;
  p.max = mx;
  p.step = step;
  return p;
}

Param file_param(const std::string& tag, const std::string& name, const std::string& flag,
                 const std::string& label, const std::string& desc, const std::string& attrs,
                 const std::string& channel) {
  Param p = named(tag, name, flag, label, desc);
  p.attrs = attrs;
  p.channel = channel;
  return p;
}

Param returned(const std::string& tag, const std::string& name, const std::string& label,
               const std::string& desc) {
  Param p = named(tag, name, "", label, desc);
  p.channel = "output";
  return p;
}

std::string descriptor() {
  const std::string nii = " fileExtensions=\".nii.gz,.nii\"";
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<executable>\n"
    << "  <category>Surgical Planning</category>\n"
    << "  <title>Cement Flow Planner</title>\n"
    << "  <description>Simulates PMMA bone cement injected through a needle into a vertebra "
       "(vertebroplasty or kyphoplasty): the cement fraction and the leaks on the CT's grid, the "
       "injection pressure and the leak volume. Give a CT with a vertebra label map, or a bone "
       "VDB made by cementflow.</description>\n"
    << "  <version>" << CEMENTFLOW_VERSION_STRING << "</version>\n"
    << "  <documentation-url>https://example.invalid/cementflow#3d-slicer</documentation-url>\n"
    << "  <license>see the cementflow repository</license>\n"
    << "  <contributor>cementflow developers</contributor>\n"
    << "  <acknowledgements>Physics and sources: PHYSICS.md of the cementflow "
       "project.</acknowledgements>\n";

  o << "  <parameters>\n    <label>Bone</label>\n    <description>The vertebra: a CT volume with "
       "a label map of the vertebra, or a bone VDB</description>\n";
  o << render(file_param("image", "ct", "ct", "CT volume",
                         "CT in Hounsfield units (HU -> BMD -> BV/TV as cementflow import)",
                         " type=\"scalar\"" + nii, "input"));
  o << render(file_param("image", "vertebraLabel", "vertebraLabel", "Vertebra label map",
                         "Label map holding the vertebra to treat (may be on another grid)",
                         " type=\"label\"" + nii, "input"));
  o << render(scalar("integer", "labelValue", "labelValue", "Vertebra label value",
                     "Voxel value of the vertebra in the label map", "1", 1, 65535, 1));
  o << render(file_param("file", "bone", "bone", "Bone VDB (instead of CT + label)",
                         "A bone file of cementflow (SPEC.md §2), e.g. from cementflow import",
                         " fileExtensions=\".vdb\"", "input"));
  o << render(scalar("double", "voxelMm", "voxelMm", "Model voxel (mm)",
                     "Edge of the simulation's isotropic voxels, mm (CT import only)", "1.5", 0.25,
                     5, 0.25));
  o << "  </parameters>\n";

  o << "  <parameters>\n    <label>Needle and injection</label>\n    <description>Where and "
       "what to inject</description>\n";
  {
    Param e = file_param("point", "entry", "entry", "Needle entry point (RAS, mm)",
                         "Where the needle enters the bone; with the target it sets the needle's "
                         "direction",
                         " multiple=\"false\" coordinateSystem=\"ras\"", "input");
    e.def = "0,0,0";
    o << render(e);
    Param t = file_param("point", "target", "target", "Needle tip / target point (RAS, mm)",
                         "The needle's tip: the cement comes out here (kyphoplasty: the balloon's "
                         "centre)",
                         " multiple=\"false\" coordinateSystem=\"ras\"", "input");
    t.def = "0,0,0";
    o << render(t);
  }
  {
    Param m = named("string-enumeration", "mode", "mode", "Procedure",
                    "vertebroplasty: cement into the trabecular bone; kyphoplasty: a balloon "
                    "cavity first, then the cement");
    m.def = "vertebroplasty";
    m.elements = {"vertebroplasty", "kyphoplasty"};
    o << render(m);
    Param p = named("string-enumeration", "preset", "preset", "Cement preset",
                    "Cement rheology and cure (cementflow presets lists the sources)");
    p.def = "generic_vertebroplasty";
    for (const auto& pr : cf::presets()) p.elements.push_back(pr.name);
    o << render(p);
  }
  o << render(scalar("double", "volume", "volumeMl", "Cement volume (mL)",
                     "Volume of cement to inject, mL", "4", 0.1, 20, 0.1));
  o << render(scalar("double", "flowRate", "flowRateMlPerMin", "Flow rate (mL/min)",
                     "Injection flow rate, mL/min", "3", 0.1, 30, 0.1));
  o << render(scalar("integer", "gauge", "gauge", "Needle gauge (G)",
                     "Stubs gauge of the cannula (smaller = wider)", "11", 8, 16, 1));
  o << render(scalar("double", "balloonVolume", "balloonMl", "Balloon volume (mL)",
                     "Kyphoplasty only: inflated balloon volume, mL", "3", 0.5, 8, 0.1));
  o << render(scalar("double", "balloonLength", "balloonLengthMm", "Balloon length (mm)",
                     "Kyphoplasty only: balloon length along the needle, mm", "15", 5, 30, 1));
  o << "  </parameters>\n";

  o << "  <parameters advanced=\"true\">\n    <label>Advanced</label>\n    <description>Run "
       "settings</description>\n";
  o << render(scalar("integer", "threads", "threads", "Threads",
                     "Host threads of the engine (0: all cores)", "0", 0, 1024, 1));
  o << render(file_param(
      "directory", "outputDirectory", "outputDirectory", "Full outputs folder (optional)",
      "Also write report.json, fill.vdb and pressure_curve.csv here", "", "input"));
  o << "  </parameters>\n";

  o << "  <parameters>\n    <label>Outputs</label>\n    <description>Results on the CT's "
       "grid</description>\n";
  o << render(file_param("image", "cementFraction", "cementFraction", "Cement fraction",
                         "Fraction of each CT voxel's pore space filled with cement (0..1)",
                         " type=\"scalar\"" + nii, "output"));
  o << render(file_param("image", "leakLabel", "leakLabel", "Cement and leak label map",
                         "1 cement in bone; leaked cement by route: 2 basivertebral vein, 3 "
                         "segmental vein, 4 cortical breach, 5 endplate/disc, 6 spinal canal, 7 "
                         "soft tissue",
                         " type=\"label\"" + nii, "output"));
#ifdef CEMENTFLOW_WITH_DICOM_SEG
  o << render(file_param("file", "dicomSeg", "dicomSeg", "DICOM SEG (optional)",
                         "Cement (segment 1) and leaks (segment 2) as a DICOM Segmentation on the "
                         "CT's grid; with a DICOM CT series it joins that patient and study",
                         " fileExtensions=\".dcm\"", "output"));
#endif
  o << render(file_param("file", "report", "report", "Report (JSON)",
                         "The run's report.json (SPEC.md §5)", " fileExtensions=\".json\"",
                         "output"));
  o << render(returned("double", "peakInjectionPressure", "Peak injection pressure (MPa)",
                       "Highest pressure at the syringe during the injection, MPa"));
  o << render(returned("double", "leakVolume", "Leaked cement (mL)",
                       "Cement outside the bone at the end, mL"));
  o << render(returned("double", "injectedVolume", "Injected cement (mL)",
                       "Cement injected before the run ended, mL"));
  o << render(returned("string", "leakRisk", "Leak risk class",
                       "The report's leak-risk class (and score)"));
  o << render(returned("string", "runStatus", "Run status",
                       "completed, stopped_at_leak or failed (with the reason)"));
  o << "  </parameters>\n</executable>\n";
  return o.str();
}

// --- running ------------------------------------------------------------------------------------

std::array<double, 3> point_of(const std::vector<double>& v, const char* flag) {
  if (v.size() != 3 || !std::isfinite(v[0]) || !std::isfinite(v[1]) || !std::isfinite(v[2]))
    throw InputError("<arguments>", flag, "", "a point X,Y,Z in RAS mm (three numbers)");
  return {v[0], v[1], v[2]};
}

void check_positive(double v, const char* flag) {
  if (!(v > 0) || !std::isfinite(v)) throw InputError("<arguments>", flag, json(v).dump(), "> 0");
}

Scene make_scene(const SlicerArgs& a) {
  json bone;
  if (!a.bone.empty()) {
    if (!a.ct.empty() || !a.label.empty())
      throw InputError("<arguments>", "--bone", a.bone,
                       "either a bone VDB or a CT with a label map, not both");
    bone = {{"vdb", a.bone}};
  } else {
    if (a.ct.empty())
      throw InputError("<arguments>", "--ct", "", "a CT volume (with --vertebraLabel) or --bone");
    if (a.label.empty())
      throw InputError("<arguments>", "--vertebraLabel", "", "the vertebra's label map for the CT");
    check_positive(a.voxel_mm, "--voxelMm");
    bone = {{"import",
             {{"image", a.ct},
              {"label", a.label},
              {"label_value", a.label_value},
              {"voxel_mm", a.voxel_mm}}}};
  }
  const auto entry = point_of(a.entry, "--entry"), target = point_of(a.target, "--target");
  std::array<double, 3> d{target[0] - entry[0], target[1] - entry[1], target[2] - entry[2]};
  const double len = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (!(len > 1e-6))
    throw InputError("<arguments>", "--entry", "",
                     "a point other than --target (the needle's "
                     "direction runs from entry to target)");
  for (auto& c : d) c /= len;
  check_positive(a.volume_ml, "--volumeMl");
  check_positive(a.flow_rate, "--flowRateMlPerMin");
  json inj = {
      {"mode", a.mode},
      {"needle", {{"tip_mm", target}, {"direction", d}, {"gauge", a.gauge}, {"length_mm", 120}}},
      {"flow_rate_ml_per_min", a.flow_rate},
      {"volume_ml", a.volume_ml}};
  if (a.mode == "kyphoplasty") {
    check_positive(a.balloon_ml, "--balloonMl");
    check_positive(a.balloon_length_mm, "--balloonLengthMm");
    inj["balloon"] = {{"center_mm", target},
                      {"axis", d},
                      {"length_mm", a.balloon_length_mm},
                      {"volume_ml", a.balloon_ml}};
  }
  json s = {{"schema", 1},
            {"name", "slicer"},
            {"bone", bone},
            {"cement", {{"preset", a.preset}}},
            {"injection", inj}};
  // Paths are the arguments as given (absolute from Slicer): resolve against the working folder.
  const std::string anchor = (std::filesystem::current_path() / "<slicer arguments>").string();
  try {
    return parse_scene(s.dump(), anchor);
  } catch (const InputError& e) {
    throw InputError("<slicer arguments>", e.key(), e.value(), e.expected());
  }
}

/// The model's fields looked up by world position.
class ModelLookup {
 public:
  explicit ModelLookup(const RunFields& f) : f_(f) {
    for (std::size_t b = 0; b < f.grid.num_blocks(); ++b) index_[key(f.grid.block_origin[b])] = b;
  }
  /// Voxel (block * 512 + local) at a world position; -1 outside the model.
  long long voxel_at(const std::array<double, 3>& w) const {
    const auto& g = f_.grid;
    std::array<int, 3> ijk{}, blk{};
    for (int a = 0; a < 3; ++a) {
      ijk[a] = static_cast<int>(std::lround((w[a] - g.origin_mm[a]) / g.voxel_mm));
      blk[a] = ijk[a] >= 0 ? ijk[a] / 8 * 8 : -(((-ijk[a]) + 7) / 8) * 8;
    }
    const auto it = index_.find(key(blk));
    if (it == index_.end()) return -1;
    const std::size_t v = it->second * BoneBlocks::kBlockVoxels +
                          static_cast<std::size_t>(BoneBlocks::local_index(
                              ijk[0] - blk[0], ijk[1] - blk[1], ijk[2] - blk[2]));
    return g.material[v] == kInactive ? -1 : static_cast<long long>(v);
  }

 private:
  static long long key(const std::array<int, 3>& o) {
    return (static_cast<long long>(o[0] + (1 << 20)) << 42) |
           (static_cast<long long>(o[1] + (1 << 20)) << 21) |
           static_cast<long long>(o[2] + (1 << 20));
  }
  const RunFields& f_;
  std::unordered_map<long long, std::size_t> index_;
};

/// Writes a NIfTI-1 volume on `ref`'s grid (dims and RAS affine as sform and qform).
template <typename T>
void write_nifti(const detail::Volume& ref, const std::vector<T>& data, int datatype,
                 const std::string& path) {
  const int64_t dims[8] = {3, ref.dims[0], ref.dims[1], ref.dims[2], 1, 1, 1, 1};
  std::unique_ptr<nifti_image, void (*)(nifti_image*)> nim(nifti_make_new_nim(dims, datatype, 0),
                                                           nifti_image_free);
  if (!nim) throw InputError(path, "", "", "a NIfTI image that can be created");
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  nifti_dmat44 m{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      m.m[r][c] = ref.affine[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
  m.m[3][3] = 1;
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->sto_xyz = m;
  nim->sto_ijk = nifti_dmat44_inverse(m);
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  double qb = 0, qc = 0, qd = 0, qx = 0, qy = 0, qz = 0, dx = 0, dy = 0, dz = 0, qfac = 0;
  nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
  nim->quatern_b = qb;
  nim->quatern_c = qc;
  nim->quatern_d = qd;
  nim->qoffset_x = qx;
  nim->qoffset_y = qy;
  nim->qoffset_z = qz;
  nim->qfac = qfac;
  nim->qto_xyz = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac);
  nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
  nim->dx = nim->pixdim[1] = dx;
  nim->dy = nim->pixdim[2] = dy;
  nim->dz = nim->pixdim[3] = dz;
  nim->pixdim[0] = qfac;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->scl_slope = 1;
  nim->scl_inter = 0;
  if (nifti_set_filenames(nim.get(), path.c_str(), 0, 1) != 0)
    throw InputError(path, "", "", "a .nii or .nii.gz output path");
  nim->data = const_cast<T*>(data.data());
  nifti_image_write(nim.get());
  nim->data = nullptr;  // owned by `data`
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(path, "", "", "a writable output path");
}

/// The cement fraction (float) and the cement/leak labels (uint8) on the CT's grid.
std::vector<std::uint8_t> write_on_ct_grid(const detail::Volume& ct, const RunFields& f,
                                           const std::string& frac_path,
                                           const std::string& label_path) {
  const ModelLookup look(f);
  const auto sp = ct.spacing_mm();
  std::array<int, 3> n{};
  for (int a = 0; a < 3; ++a)
    n[a] = std::clamp(static_cast<int>(std::ceil(sp[a] / f.grid.voxel_mm - 1e-9)), 1, 4);
  const double inv = 1.0 / (n[0] * n[1] * n[2]);
  std::vector<float> frac(ct.size(), 0.f);
  std::vector<std::uint8_t> label(ct.size(), 0);
  constexpr float kShown = 0.02f;  // as the renderer's cement colours
  for (std::int64_t k = 0; k < ct.dims[2]; ++k)
    for (std::int64_t j = 0; j < ct.dims[1]; ++j)
      for (std::int64_t i = 0; i < ct.dims[0]; ++i) {
        double sum = 0;
        int lab = 0;
        for (int c = 0; c < n[2]; ++c)
          for (int b = 0; b < n[1]; ++b)
            for (int a = 0; a < n[0]; ++a) {
              const std::array<double, 3> q{static_cast<double>(i) + (a + 0.5) / n[0] - 0.5,
                                            static_cast<double>(j) + (b + 0.5) / n[1] - 0.5,
                                            static_cast<double>(k) + (c + 0.5) / n[2] - 0.5};
              const long long v = look.voxel_at(ct.to_world(q));
              if (v < 0) continue;
              const float s = f.cement_fraction[static_cast<std::size_t>(v)];
              sum += static_cast<double>(s);
              if (s < kShown) continue;
              const std::int32_t m = f.grid.material[static_cast<std::size_t>(v)];
              int l = 1;
              if (is_leak_destination(m)) {
                const std::int32_t r =
                    f.grid.route.empty() ? -1 : f.grid.route[static_cast<std::size_t>(v)];
                l = 2 +
                    (r >= 0 && r < kNumLeakRoutes ? r : static_cast<int>(LeakRoute::SoftTissue));
              }
              lab = std::max(lab, l);  // a leak anywhere in the CT voxel shows
            }
        const std::size_t idx = ct.index(i, j, k);
        frac[idx] = static_cast<float>(sum * inv);
        label[idx] = static_cast<std::uint8_t>(lab);
      }
  if (!frac_path.empty()) write_nifti(ct, frac, NIFTI_TYPE_FLOAT32, frac_path);
  if (!label_path.empty()) write_nifti(ct, label, NIFTI_TYPE_UINT8, label_path);
  return label;
}

/// A reference grid for a run without a CT: the model's own (bounding box of its blocks).
detail::Volume model_grid(const RunFields& f) {
  detail::Volume v;
  const auto& g = f.grid;
  std::array<int, 3> lo{0, 0, 0}, hi{0, 0, 0};
  for (std::size_t b = 0; b < g.num_blocks(); ++b)
    for (int a = 0; a < 3; ++a) {
      lo[a] = b == 0 ? g.block_origin[b][a] : std::min(lo[a], g.block_origin[b][a]);
      hi[a] = b == 0 ? g.block_origin[b][a] + 8 : std::max(hi[a], g.block_origin[b][a] + 8);
    }
  for (int a = 0; a < 3; ++a) {
    v.dims[static_cast<std::size_t>(a)] = hi[a] - lo[a];
    v.affine[static_cast<std::size_t>(a)][static_cast<std::size_t>(a)] = g.voxel_mm;
    v.affine[static_cast<std::size_t>(a)][3] =
        g.origin_mm[static_cast<std::size_t>(a)] + g.voxel_mm * lo[a];
  }
  return v;
}

std::atomic<bool> g_slicer_cancel{false};
extern "C" void on_slicer_signal(int) {
  g_slicer_cancel.store(true);
}

int run_module(const SlicerArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  Scene scene = make_scene(a);
  std::printf(
      "<filter-start>\n<filter-name>cementflow</filter-name>\n<filter-comment>%s of %.3g mL of "
      "%s</filter-comment>\n</filter-start>\n",
      a.mode.c_str(), a.volume_ml, a.preset.c_str());
  std::fflush(stdout);
  Runtime runtime(a.threads > 0 ? a.threads : -1);
  // The CT's grid (read before the run: a bad file fails fast).
  detail::Volume ct;
  if (!a.ct.empty()) {
    ct = detail::read_image(a.ct);
    ct.values.clear();
    ct.values.shrink_to_fit();
  }
  RunOptions opt;
  opt.out_dir = a.output_dir;
  opt.cancel = &g_slicer_cancel;
  std::signal(SIGINT, on_slicer_signal);
  std::signal(SIGTERM, on_slicer_signal);
  double last = -1;
  opt.progress = [&](const Progress& p) {
    const double frac = p.target_ml > 0 ? std::min(1.0, p.injected_ml / p.target_ml) : 0.0;
    const double shown = 0.05 + 0.9 * frac;  // 5 % for the bone, 5 % for the outputs
    if (shown - last < 0.01) return;
    last = shown;
    std::printf("<filter-progress>%.3f</filter-progress>\n", shown);
    std::fflush(stdout);
  };
  const RunResult r = run(scene, opt);
  const Report& rep = r.report;
  if (!a.cement_fraction.empty() || !a.leak_label.empty() || !a.dicom_seg.empty()) {
    const detail::Volume grid = a.ct.empty() ? model_grid(r.fields) : ct;
    const auto labels = write_on_ct_grid(grid, r.fields, a.cement_fraction, a.leak_label);
    if (!a.dicom_seg.empty()) {
#ifdef CEMENTFLOW_WITH_DICOM_SEG
      // A CT given as a DICOM series folder: the SEG joins its patient, study and frame of
      // reference and references its instances.
      std::vector<std::string> source;
      std::error_code ec;
      if (!a.ct.empty() && std::filesystem::is_directory(a.ct, ec)) {
        for (const auto& e : std::filesystem::directory_iterator(a.ct, ec))
          if (e.is_regular_file(ec)) source.push_back(e.path().string());
        std::sort(source.begin(), source.end());
      }
      write_dicom_seg(grid, labels, a.dicom_seg, source);
#else
      throw InputError("<arguments>", "--dicomSeg", a.dicom_seg,
                       "a build with DICOM SEG support (Debian libdcmtk-dev)");
#endif
    }
  }
  if (!a.report.empty()) {
    std::ofstream out(a.report, std::ios::binary);
    out << to_json(rep) << "\n";
    if (!out) throw InputError(a.report, "--report", "", "a writable file");
  }
  if (!a.return_parameter_file.empty()) {
    std::ofstream out(a.return_parameter_file);
    out.precision(10);
    out << "peakInjectionPressure = " << rep.peak_injection_pressure_mpa << "\n"
        << "leakVolume = " << rep.leak_volume_ml << "\n"
        << "injectedVolume = " << rep.injected_volume_ml << "\n"
        << "leakRisk = " << rep.leak_risk.cls << " (" << rep.leak_risk.score << ")\n"
        << "runStatus = " << rep.status << (rep.message.empty() ? "" : ": " + rep.message) << "\n";
    if (!out)
      throw InputError(a.return_parameter_file, "--returnparameterfile", "", "a writable file");
  }
  std::printf("<filter-progress>1.000</filter-progress>\n");
  std::printf(
      "<filter-end>\n<filter-name>cementflow</filter-name>\n<filter-time>%.2f</filter-time>\n"
      "</filter-end>\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::printf("%s: injected %.3f mL, peak %.3f MPa, leaked %.4f mL\n", rep.status.c_str(),
              rep.injected_volume_ml, rep.peak_injection_pressure_mpa, rep.leak_volume_ml);
  std::fflush(stdout);
  if (rep.status == "completed" || rep.status == "stopped_at_leak") return 0;
  std::fprintf(stderr, "cementflow: slicer: simulation %s: %s\n", rep.status.c_str(),
               rep.message.c_str());
  return 3;
}

}  // namespace

Command add_slicer_command(CLI::App& app) {
  auto a = std::make_shared<SlicerArgs>();
  auto* s = app.add_subcommand(
      "slicer", "3D Slicer CLI module: --xml prints its descriptor; otherwise runs as Slicer does");
  s->add_flag("--xml", a->xml, "print the Slicer Execution Model descriptor");
  s->add_option("--ct", a->ct, "CT volume (NIfTI)");
  s->add_option("--vertebraLabel", a->label, "vertebra label map (NIfTI)");
  s->add_option("--labelValue", a->label_value, "the vertebra's label value (default 1)");
  s->add_option("--bone", a->bone, "bone VDB instead of CT + label");
  s->add_option("--voxelMm", a->voxel_mm, "model voxel edge, mm (default 1.5)");
  s->add_option("--entry", a->entry, "needle entry point X,Y,Z (RAS mm)")->delimiter(',');
  s->add_option("--target", a->target, "needle tip X,Y,Z (RAS mm)")->delimiter(',');
  s->add_option("--mode", a->mode, "vertebroplasty or kyphoplasty");
  s->add_option("--preset", a->preset, "cement preset");
  s->add_option("--volumeMl", a->volume_ml, "cement volume, mL (default 4)");
  s->add_option("--flowRateMlPerMin", a->flow_rate, "flow rate, mL/min (default 3)");
  s->add_option("--gauge", a->gauge, "needle gauge (default 11)");
  s->add_option("--balloonMl", a->balloon_ml, "kyphoplasty balloon volume, mL (default 3)");
  s->add_option("--balloonLengthMm", a->balloon_length_mm, "balloon length, mm (default 15)");
  s->add_option("--threads", a->threads, "engine threads (0: all)");
  s->add_option("--outputDirectory", a->output_dir, "also write the full outputs here");
  s->add_option("--cementFraction", a->cement_fraction, "output: cement fraction (NIfTI)");
  s->add_option("--leakLabel", a->leak_label, "output: cement/leak label map (NIfTI)");
  s->add_option("--report", a->report, "output: report JSON");
  s->add_option("--dicomSeg", a->dicom_seg, "output: cement and leaks as DICOM SEG (.dcm)");
  s->add_option("--returnparameterfile", a->return_parameter_file,
                "file for the returned parameters (name = value)");
  // Slicer also passes --processinformationaddress to some modules; accept and ignore extras.
  s->allow_extras();
  return {s, [a] {
            if (a->xml) {
              std::fputs(descriptor().c_str(), stdout);
              return 0;
            }
            return run_module(*a);
          }};
}

}  // namespace cementflow::cli

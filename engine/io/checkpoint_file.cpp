#include "engine/io/checkpoint_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "cementflow/checkpoint.hpp"
#include "cementflow/errors.hpp"
#include "cementflow/limits.hpp"
#include "engine/io/output_dir.hpp"

namespace cementflow::detail {

namespace {

constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr std::uint32_t kByteOrder = 0x01020304;
constexpr std::size_t kPreamble = 8 + 4 + 4 + 8;  // magic, version, byte order, sections
constexpr std::size_t kSectionHead = 4 + 4 + 8;   // type, name length, count

enum SectionType : std::uint32_t { kText = 0, kF64 = 1, kF32 = 2 };

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_section(std::string& out, SectionType type, const std::string& name, const void* data,
                 std::uint64_t count, std::size_t elem) {
  put(out, static_cast<std::uint32_t>(type));
  put(out, static_cast<std::uint32_t>(name.size()));
  put(out, count);
  out += name;
  out.append(static_cast<const char*>(data), static_cast<std::size_t>(count) * elem);
}

/// Reads from a byte buffer, each read checked against the bytes left.
class Reader {
 public:
  Reader(const std::string& bytes, std::size_t end, const std::string& path)
      : b_(bytes), end_(end), path_(path) {}
  template <class T>
  T get(const char* what) {
    T v;
    need(sizeof v, what);
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  const char* take(std::size_t n, const std::string& what) {
    need(n, what);
    const char* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::size_t left() const { return end_ - pos_; }
  std::size_t pos() const { return pos_; }

 private:
  void need(std::size_t n, const std::string& what) const {
    if (n > end_ - pos_)
      throw InputError(path_, what, std::to_string(n) + " bytes at offset " + std::to_string(pos_),
                       "at most the " + std::to_string(end_ - pos_) +
                           " bytes left (a truncated or damaged checkpoint)");
  }
  const std::string& b_;
  std::size_t end_, pos_ = 0;
  const std::string& path_;
};

std::string read_whole_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw InputError(path, "--resume", path, "an existing checkpoint file (checkpoint.cfck)");
  if (!fs::is_regular_file(st))
    throw InputError(path, "--resume", path, "a checkpoint file (not a regular file)");
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path, "--resume", path, "a readable checkpoint file");
  check_memory(static_cast<double>(size), path, "size", "the checkpoint file read whole");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in || in.gcount() != static_cast<std::streamsize>(size))
    throw InputError(path, "--resume", path, "a readable checkpoint file");
  return bytes;
}

}  // namespace

std::uint64_t fnv1a64(const void* data, std::size_t bytes, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kFnvPrime;
  }
  for (; i < bytes; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void write_checkpoint_file(const std::string& path, const CheckpointData& data) {
  std::string out;
  std::size_t total = kPreamble + 8;
  for (const auto& [k, v] : data.text) total += kSectionHead + k.size() + v.size();
  for (const auto& [k, v] : data.f64) total += kSectionHead + k.size() + 8 * v.size();
  for (const auto& [k, v] : data.f32) total += kSectionHead + k.size() + 4 * v.size();
  out.reserve(total);
  out.append(kCheckpointMagic, sizeof kCheckpointMagic);
  put(out, kCheckpointFormat);
  put(out, kByteOrder);
  put(out, static_cast<std::uint64_t>(data.text.size() + data.f64.size() + data.f32.size()));
  for (const auto& [k, v] : data.text) put_section(out, kText, k, v.data(), v.size(), 1);
  for (const auto& [k, v] : data.f64) put_section(out, kF64, k, v.data(), v.size(), 8);
  for (const auto& [k, v] : data.f32) put_section(out, kF32, k, v.data(), v.size(), 4);
  put(out, fnv1a64(out.data(), out.size()));

  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) make_output_dir(dir.string());
  const std::string tmp = temporary_name(path);
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o.write(out.data(), static_cast<std::streamsize>(out.size()));
    o.flush();
    if (!o) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw InputError(path, "--checkpoint-interval-s", "",
                       "a writable output folder with room for " + gigabytes(double(out.size())));
    }
  }
  commit_temporary(tmp, path);
}

CheckpointData read_checkpoint_file(const std::string& path) {
  const std::string bytes = read_whole_file(path);
  if (bytes.size() < sizeof kCheckpointMagic ||
      std::memcmp(bytes.data(), kCheckpointMagic, sizeof kCheckpointMagic) != 0)
    throw InputError(path, "magic", "", "a cementflow checkpoint (it starts with CFCKPT)");
  Reader head(bytes, bytes.size(), path);
  head.take(sizeof kCheckpointMagic, "magic");
  const auto version = head.get<std::uint32_t>("format_version");
  if (version != kCheckpointFormat)
    throw InputError(path, "format_version", std::to_string(version),
                     std::to_string(kCheckpointFormat) + " (the format this cementflow reads)");
  if (head.get<std::uint32_t>("byte_order") != kByteOrder)
    throw InputError(path, "byte_order", "", "a checkpoint written on a little-endian machine");
  if (bytes.size() < kPreamble + 8)
    throw InputError(path, "size", std::to_string(bytes.size()) + " bytes",
                     "at least " + std::to_string(kPreamble + 8) + " bytes (a truncated file)");
  const std::size_t body = bytes.size() - 8;
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + body, 8);
  const std::uint64_t computed = fnv1a64(bytes.data(), body);
  if (stored != computed)
    throw InputError(path, "checksum", hex64(stored),
                     hex64(computed) +
                         " (the checksum of its content: the file is damaged or "
                         "truncated)");

  Reader in(bytes, body, path);
  in.take(kPreamble - 8, "preamble");
  const auto sections = in.get<std::uint64_t>("sections");
  if (sections > kMaxSections)
    throw InputError(path, "sections", std::to_string(sections),
                     "at most " + std::to_string(kMaxSections));
  CheckpointData d;
  for (std::uint64_t s = 0; s < sections; ++s) {
    const auto type = in.get<std::uint32_t>("section type");
    const auto name_len = in.get<std::uint32_t>("section name length");
    const auto count = in.get<std::uint64_t>("section size");
    if (type > kF32) throw InputError(path, "section type", std::to_string(type), "0, 1 or 2");
    if (name_len == 0 || name_len > kMaxNameBytes)
      throw InputError(path, "section name length", std::to_string(name_len),
                       "1 to " + std::to_string(kMaxNameBytes));
    const std::string name(in.take(name_len, "section name"), name_len);
    const std::size_t elem = type == kText ? 1 : type == kF64 ? 8 : 4;
    if (count > in.left() / elem)
      throw InputError(path, name, std::to_string(count) + " values",
                       "at most the " + std::to_string(in.left() / elem) +
                           " the file still holds (a damaged checkpoint)");
    const auto n = static_cast<std::size_t>(count);
    const char* p = in.take(n * elem, name);
    const bool dup = d.text.count(name) + d.f64.count(name) + d.f32.count(name) > 0;
    if (dup) throw InputError(path, name, "twice", "each section once");
    if (type == kText) {
      d.text[name].assign(p, n);
    } else if (type == kF64) {
      auto& v = d.f64[name];
      v.resize(n);
      if (n > 0) std::memcpy(v.data(), p, n * 8);  // an empty array (e.g. no cure state)
    } else {
      auto& v = d.f32[name];
      v.resize(n);
      if (n > 0) std::memcpy(v.data(), p, n * 4);
    }
  }
  if (in.left() != 0)
    throw InputError(path, "size", std::to_string(bytes.size()) + " bytes",
                     std::to_string(bytes.size() - in.left()) +
                         " bytes (what its sections hold): a damaged checkpoint");
  return d;
}

std::string key_values(const std::map<std::string, std::string>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += k + "=" + v + "\n";
  return out;
}

std::map<std::string, std::string> parse_key_values(const std::string& text,
                                                    const std::string& path,
                                                    const std::string& section) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(path, section, line.substr(0, 80), "key=value lines");
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

std::string canonical_scene(const Scene& s) {
  // Every Scene setting simulate() and write_outputs() use, except the bone's source (the
  // checkpoint checks the bone itself: bone_identity) and the file's path. A new Scene field
  // that changes the run belongs here.
  std::ostringstream o;
  auto kv = [&o](const std::string& k, const auto& v) { o << k << '=' << v << '\n'; };
  auto d = [&kv](const std::string& k, double v) { kv(k, exact(v)); };
  auto d3 = [&d](const std::string& k, const std::array<double, 3>& v) {
    for (int a = 0; a < 3; ++a) d(k + "[" + std::to_string(a) + "]", v[static_cast<size_t>(a)]);
  };
  kv("schema", s.schema);
  kv("name", s.name);
  const Rheology& c = s.cement;
  kv("cement.model", model_name(c.model));
  kv("cement.preset", c.preset);
  d("cement.viscosity_pa_s", c.viscosity_pa_s);
  d("cement.consistency_pa_sn", c.consistency_pa_sn);
  d("cement.flow_index", c.flow_index);
  d("cement.zero_shear_viscosity_pa_s", c.zero_shear_viscosity_pa_s);
  d("cement.infinite_shear_viscosity_pa_s", c.infinite_shear_viscosity_pa_s);
  d("cement.time_constant_s", c.time_constant_s);
  d("cement.rate_index", c.rate_index);
  d("cement.yasuda_a", c.yasuda_a);
  d("cement.yield_stress_pa", c.yield_stress_pa);
  d("cement.regularization_s", c.regularization_s);
  d("cement.min_viscosity_pa_s", c.min_viscosity_pa_s);
  d("cement.max_viscosity_pa_s", c.max_viscosity_pa_s);
  const Curing& cu = c.curing;
  kv("cement.curing.model", cure_model_name(cu.model));
  d("cement.curing.room_temperature_c", cu.room_temperature_c);
  d("cement.curing.body_temperature_c", cu.body_temperature_c);
  d("cement.curing.reference_temperature_c", cu.reference_temperature_c);
  d("cement.curing.activation_energy_j_mol", cu.activation_energy_j_mol);
  d("cement.curing.viscosity_activation_energy_j_mol", cu.viscosity_activation_energy_j_mol);
  d("cement.curing.reference_age_s", cu.reference_age_s);
  d("cement.curing.time_constant_s", cu.time_constant_s);
  d("cement.curing.k1_per_s", cu.k1_per_s);
  d("cement.curing.k2_per_s", cu.k2_per_s);
  d("cement.curing.kamal_m", cu.kamal_m);
  d("cement.curing.kamal_p", cu.kamal_p);
  d("cement.curing.initial_degree", cu.initial_degree);
  d("cement.curing.gel_degree", cu.gel_degree);
  d("cement.curing.castro_a", cu.castro_a);
  d("cement.curing.castro_b", cu.castro_b);
  d("marrow.viscosity_pa_s", s.marrow_viscosity_pa_s);
  const Injection& inj = s.injection;
  kv("injection.mode", inj.mode);
  for (size_t i = 0; i < inj.needles.size(); ++i) {
    const Needle& n = inj.needles[i];
    const std::string k = "injection.needles[" + std::to_string(i) + "].";
    d3(k + "tip_mm", n.tip_mm);
    d3(k + "direction", n.direction);
    kv(k + "gauge", n.gauge);
    d(k + "inner_diameter_mm", n.inner_diameter_mm);
    d(k + "length_mm", n.length_mm);
    d(k + "proximal_inner_diameter_mm", n.proximal_inner_diameter_mm);
    d(k + "proximal_length_mm", n.proximal_length_mm);
    kv(k + "side_opening", n.side_opening);
  }
  for (size_t i = 0; i < inj.balloons.size(); ++i) {
    const Balloon& b = inj.balloons[i];
    const std::string k = "injection.balloons[" + std::to_string(i) + "].";
    d3(k + "center_mm", b.center_mm);
    d3(k + "axis", b.axis);
    d(k + "length_mm", b.length_mm);
    d(k + "volume_ml", b.volume_ml);
  }
  d("injection.flow_rate_m3_s", inj.flow_rate_m3_s);
  d("injection.volume_m3", inj.volume_m3);
  d("injection.start_after_mixing_s", inj.start_after_mixing_s);
  d("injection.max_pressure_pa", inj.max_pressure_pa);
  kv("injection.stop_at_leak", inj.stop_at_leak);
  const SimulationSettings& sim = s.simulation;
  d("simulation.max_time_s", sim.max_time_s);
  d("simulation.output_interval_s", sim.output_interval_s);
  d("simulation.pressure_tolerance", sim.pressure_tolerance);
  kv("simulation.max_solver_iterations", sim.max_solver_iterations);
  d("simulation.courant", sim.courant);
  d("simulation.picard_tolerance", sim.picard_tolerance);
  kv("simulation.max_picard_iterations", sim.max_picard_iterations);
  d("simulation.corey_exponent", sim.corey_exponent);
  d("simulation.arrival_saturation", sim.arrival_saturation);
  kv("simulation.preconditioner", sim.preconditioner);
  kv("simulation.inexact_picard", sim.inexact_picard);
  kv("simulation.time_stepping", sim.time_stepping);
  d("simulation.volume_step_m3", sim.volume_step_m3);
  d("simulation.max_front_courant", sim.max_front_courant);
  d("simulation.pressure_change", sim.pressure_change);
  kv("simulation.volume_picard_iterations", sim.volume_picard_iterations);
  d("simulation.max_volume_growth", sim.max_volume_growth);
  const auto gate = [&](const char* name, const Gateway& g) {
    d(std::string("leak_gateways.") + name + ".opening_mm", g.opening_mm);
    d(std::string("leak_gateways.") + name + ".length_mm", g.length_mm);
  };
  gate("vein", s.gateways.vein);
  gate("endplate", s.gateways.endplate);
  gate("breach", s.gateways.breach);
  for (const auto& g : s.output_grids) kv("output.grids", g);
  return o.str();
}

std::map<std::string, std::string> bone_identity(const BoneBlocks& g) {
  std::map<std::string, std::string> id;
  id["bone.voxel_mm"] = exact(g.voxel_mm);
  id["bone.blocks"] = std::to_string(g.num_blocks());
  id["bone.voxels"] = std::to_string(g.num_voxels());
  id["bone.active_voxels"] = std::to_string(g.active_voxels());
  std::array<int, 3> lo{0, 0, 0}, hi{0, 0, 0};
  for (size_t b = 0; b < g.num_blocks(); ++b)
    for (size_t a = 0; a < 3; ++a) {
      lo[a] = b == 0 ? g.block_origin[b][a] : std::min(lo[a], g.block_origin[b][a]);
      hi[a] = std::max(hi[a], g.block_origin[b][a] + BoneBlocks::kBlockDim);
    }
  id["bone.dims"] = std::to_string(g.num_blocks() ? hi[0] - lo[0] : 0) + "x" +
                    std::to_string(g.num_blocks() ? hi[1] - lo[1] : 0) + "x" +
                    std::to_string(g.num_blocks() ? hi[2] - lo[2] : 0);
  std::uint64_t h = fnv1a64(&g.voxel_mm, sizeof g.voxel_mm);
  h = fnv1a64(g.origin_mm.data(), sizeof g.origin_mm, h);
  h = fnv1a64(g.block_origin.data(), g.block_origin.size() * sizeof g.block_origin[0], h);
  h = fnv1a64(g.material.data(), g.material.size() * sizeof g.material[0], h);
  h = fnv1a64(g.porosity.data(), g.porosity.size() * sizeof g.porosity[0], h);
  h = fnv1a64(g.permeability.data(), g.permeability.size() * sizeof g.permeability[0], h);
  h = fnv1a64(g.route.data(), g.route.size() * sizeof g.route[0], h);
  id["bone.checksum"] = hex64(h);
  return id;
}

}  // namespace cementflow::detail

namespace cementflow {

std::string checkpoint_path(const std::string& file_or_dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(file_or_dir, ec))
    return (std::filesystem::path(file_or_dir) / kCheckpointFileName).string();
  return file_or_dir;
}

std::string scene_hash(const Scene& scene) {
  const std::string c = detail::canonical_scene(scene);
  return detail::hex64(detail::fnv1a64(c.data(), c.size()));
}

CheckpointInfo read_checkpoint_info(const std::string& file_or_dir) {
  CheckpointInfo info;
  info.file = checkpoint_path(file_or_dir);
  const detail::CheckpointData d = detail::read_checkpoint_file(info.file);
  auto section = [&](const char* name) -> const std::string& {
    const auto it = d.text.find(name);
    if (it == d.text.end())
      throw InputError(info.file, name, "missing",
                       "a checkpoint section '" + std::string(name) + "'");
    return it->second;
  };
  const auto header = detail::parse_key_values(section("header"), info.file, "header");
  const auto state = detail::parse_key_values(section("state"), info.file, "state");
  auto get = [&](const std::map<std::string, std::string>& kv, const std::string& key) {
    const auto it = kv.find(key);
    if (it == kv.end()) throw InputError(info.file, key, "missing", "a value");
    return it->second;
  };
  auto num = [&](const std::map<std::string, std::string>& kv, const std::string& key) {
    const std::string v = get(kv, key);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') throw InputError(info.file, key, v, "a number");
    return x;
  };
  info.format_version = static_cast<int>(detail::kCheckpointFormat);
  info.cementflow_version = get(header, "cementflow_version");
  info.scene_hash = get(header, "scene_hash");
  info.scene_name = get(header, "scene_name");
  info.scene_file = get(header, "scene_file");
  info.interval_s = num(header, "checkpoint_interval_s");
  {
    const std::string v = get(state, "steps");
    char* end = nullptr;
    errno = 0;
    info.steps = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || info.steps < 0)
      throw InputError(info.file, "steps", v, "a count (an integer >= 0)");
  }
  info.time_s = num(state, "t");
  info.injected_ml = num(state, "injected_m3") * 1e6;
  const auto it = d.text.find("scene");
  if (it != d.text.end()) info.scene_text = it->second;
  return info;
}

}  // namespace cementflow

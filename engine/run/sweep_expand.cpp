// Expansion of a sweep file (SPEC.md §4) into complete scenes: axes (Cartesian product), zip
// (lists advancing together), cohort patients (vertebra generator seed and fracture drawn by
// prevalence), arms (partial scenes merged over the base scene, RFC 7386 merge patch), and
// Monte-Carlo samples over `uncertainty` distributions. All of it happens on the scene JSON
// (dotted paths, list indices); every expanded case is then parsed by the scene parser, so a bad
// value is reported with the parser's own message, before anything runs.
//
// Determinism: every random draw comes from a SplitMix64 stream keyed by (seed, purpose, key,
// point, patient, sample) — never by the arm, so every arm of a unit sees the same draws (a paired
// design), and adding a key does not change the draws of the others. The generators and the
// transforms (Box–Muller, Lemire's bounded integers) are written here rather than taken from
// <random>, whose distributions differ between standard libraries.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "cementflow/sweep.hpp"
#include "engine/run/sweep_detail.hpp"

namespace cementflow {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace detail {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t hash_text(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

Rng::Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> keys) : state_(seed) {
  for (std::uint64_t k : keys) {
    state_ ^= k + 0x9E3779B97F4A7C15ULL + (state_ << 6) + (state_ >> 2);
    splitmix64(state_);
  }
}
std::uint64_t Rng::next() {
  return splitmix64(state_);
}
double Rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;  // [0, 1)
}
double Rng::normal() {
  // Box–Muller; 1 − u is in (0, 1] so the log is finite.
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}
std::uint64_t Rng::below(std::uint64_t n) {
  // Lemire (2019), nearly divisionless bounded integers, with rejection: unbiased.
  if (n == 0) return 0;
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t t = (0 - n) % n;
    while (low < t) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::string show_json(const ojson& j) {
  std::string s = j.dump(-1, ' ', false, ojson::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

ojson read_json_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, "", "a directory", "a readable " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, "", fs::exists(path, ec) ? "a file that cannot be read" : "no such file",
                     "a readable " + what);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_json(text.str(), path, what);
}

ojson parse_json(const std::string& text, const std::string& file, const std::string& what) {
  try {
    return ojson::parse(text);
  } catch (const ojson::exception& e) {
    std::string m = e.what();
    const auto p = m.find("] ");
    if (p != std::string::npos) m = m.substr(p + 2);
    throw InputError(file, "", "invalid JSON: " + m, what);
  }
}

/// Splits "a.b.0.c" into its segments.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '.') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

namespace {
bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

/// The node at `path`, creating missing object keys when `create`; nullptr when the path leads
/// through a value that is not an object or a list, or past the end of a list.
ojson* find_path(ojson& root, const std::string& path, bool create) {
  ojson* cur = &root;
  for (const std::string& seg : split_path(path)) {
    if (seg.empty()) return nullptr;
    if (cur->is_object()) {
      if (!cur->contains(seg)) {
        if (!create) return nullptr;
        (*cur)[seg] = nullptr;
      }
      cur = &(*cur)[seg];
    } else if (cur->is_array()) {
      if (!is_index(seg)) return nullptr;
      const auto i = static_cast<std::size_t>(std::stoul(seg));
      if (i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else if (cur->is_null() && create) {
      if (is_index(seg)) return nullptr;
      *cur = ojson::object();
      (*cur)[seg] = nullptr;
      cur = &(*cur)[seg];
    } else {
      return nullptr;
    }
  }
  return cur;
}

}  // namespace detail

namespace {

using detail::Rng;
using detail::show_json;

constexpr std::uint64_t kStreamCohort = 1, kStreamUncertainty = 2;

/// A distribution of the `uncertainty` block.
struct Distribution {
  std::string key;  ///< dotted scene path
  enum class Kind { Normal, Lognormal, Uniform, Integers, Choice, Jitter } kind = Kind::Normal;
  double a = 0, b = 0;  ///< mean/sd, median/sigma, lo/hi, jitter sd (a)
  long long ilo = 0, ihi = 0;
  std::vector<ojson> values;
  std::vector<double> cumulative;  ///< choice: cumulative weights, normalised

  ojson draw(Rng& rng, const ojson& current) const {
    switch (kind) {
      case Kind::Normal:
        return a + b * rng.normal();
      case Kind::Lognormal:
        return a * std::exp(b * rng.normal());
      case Kind::Uniform:
        return a + (b - a) * rng.uniform();
      case Kind::Integers: {
        const auto span = static_cast<std::uint64_t>(ihi - ilo) + 1;
        return ilo + static_cast<long long>(rng.below(span));
      }
      case Kind::Choice: {
        const double u = rng.uniform();
        std::size_t i = 0;
        while (i + 1 < cumulative.size() && u >= cumulative[i]) ++i;
        return values[i];
      }
      case Kind::Jitter: {
        ojson out = ojson::array();
        for (std::size_t i = 0; i < 3; ++i)
          out.push_back(current[i].get<double>() + a * rng.normal());
        return out;
      }
    }
    return nullptr;
  }
};

/// Reads one entry of an `uncertainty` block; `where` is the key prefix for errors.
Distribution parse_distribution(const std::string& file, const std::string& where,
                                const std::string& key, const ojson& spec) {
  Distribution d;
  d.key = key;
  const std::string k = where + "." + key;
  const std::string kinds =
      "an object with one of normal, lognormal, uniform, integers, choice "
      "(with optional weights) or jitter_mm";
  if (!spec.is_object() || spec.empty()) throw InputError(file, k, show_json(spec), kinds);
  auto finite = [](const ojson& v) { return v.is_number() && std::isfinite(v.get<double>()); };
  auto pair = [&](const std::string& name, const ojson& v, bool integers) {
    if (!v.is_array() || v.size() != 2 || !finite(v[0]) || !finite(v[1]) ||
        (integers && (!v[0].is_number_integer() || !v[1].is_number_integer())) ||
        v[0].get<double>() > v[1].get<double>())
      throw InputError(file, k + "." + name, show_json(v),
                       integers ? "[lo, hi], two integers with lo <= hi"
                                : "[lo, hi], two finite numbers with lo <= hi");
  };
  auto allow = [&](std::initializer_list<const char*> names) {
    for (auto it = spec.begin(); it != spec.end(); ++it)
      if (std::none_of(names.begin(), names.end(), [&](const char* n) { return it.key() == n; }))
        throw InputError(file, k + "." + it.key(), "", kinds);
  };
  auto object_number = [&](const ojson& o, const std::string& name, const std::string& okey,
                           bool positive, bool non_negative) {
    const std::string full = k + "." + name + "." + okey;
    if (!o.contains(okey)) throw InputError(file, full, "", "a number (required key missing)");
    const ojson& v = o[okey];
    if (!finite(v) || (positive && v.get<double>() <= 0) || (non_negative && v.get<double>() < 0))
      throw InputError(file, full, show_json(v),
                       positive ? "a finite number > 0"
                                : (non_negative ? "a finite number >= 0" : "a finite number"));
    return v.get<double>();
  };
  auto object_keys = [&](const ojson& o, const std::string& name,
                         std::initializer_list<const char*> names) {
    if (!o.is_object()) throw InputError(file, k + "." + name, show_json(o), "an object {...}");
    for (auto it = o.begin(); it != o.end(); ++it)
      if (std::none_of(names.begin(), names.end(), [&](const char* n) { return it.key() == n; }))
        throw InputError(file, k + "." + name + "." + it.key(), "", "one of the keys of " + name);
  };
  if (spec.contains("normal")) {
    allow({"normal"});
    const ojson& o = spec["normal"];
    object_keys(o, "normal", {"mean", "sd"});
    d.kind = Distribution::Kind::Normal;
    d.a = object_number(o, "normal", "mean", false, false);
    d.b = object_number(o, "normal", "sd", false, true);
  } else if (spec.contains("lognormal")) {
    allow({"lognormal"});
    const ojson& o = spec["lognormal"];
    object_keys(o, "lognormal", {"median", "sigma"});
    d.kind = Distribution::Kind::Lognormal;
    d.a = object_number(o, "lognormal", "median", true, false);
    d.b = object_number(o, "lognormal", "sigma", false, true);
  } else if (spec.contains("uniform")) {
    allow({"uniform"});
    pair("uniform", spec["uniform"], false);
    d.kind = Distribution::Kind::Uniform;
    d.a = spec["uniform"][0].get<double>();
    d.b = spec["uniform"][1].get<double>();
  } else if (spec.contains("integers")) {
    allow({"integers"});
    pair("integers", spec["integers"], true);
    d.kind = Distribution::Kind::Integers;
    d.ilo = spec["integers"][0].get<long long>();
    d.ihi = spec["integers"][1].get<long long>();
  } else if (spec.contains("choice")) {
    allow({"choice", "weights"});
    const ojson& v = spec["choice"];
    if (!v.is_array() || v.empty())
      throw InputError(file, k + ".choice", show_json(v), "a non-empty list of values");
    d.kind = Distribution::Kind::Choice;
    d.values.assign(v.begin(), v.end());
    std::vector<double> w(v.size(), 1.0);
    if (spec.contains("weights")) {
      const ojson& wj = spec["weights"];
      bool ok = wj.is_array() && wj.size() == v.size();
      double sum = 0;
      for (std::size_t i = 0; ok && i < wj.size(); ++i) {
        ok = finite(wj[i]) && wj[i].get<double>() >= 0;
        if (ok) w[i] = wj[i].get<double>(), sum += w[i];
      }
      if (!ok || sum <= 0)
        throw InputError(file, k + ".weights", show_json(wj),
                         "a list of " + std::to_string(v.size()) +
                             " finite weights >= 0 (one per choice) with a positive sum");
    }
    double total = 0;
    for (double x : w) total += x;
    double acc = 0;
    for (double x : w) d.cumulative.push_back(acc += x / total);
  } else if (spec.contains("jitter_mm")) {
    allow({"jitter_mm"});
    const ojson& v = spec["jitter_mm"];
    if (!finite(v) || v.get<double>() < 0)
      throw InputError(file, k + ".jitter_mm", show_json(v),
                       "a standard deviation in mm per axis, finite and >= 0");
    d.kind = Distribution::Kind::Jitter;
    d.a = v.get<double>();
  } else {
    throw InputError(file, k, show_json(spec), kinds);
  }
  return d;
}

std::vector<Distribution> parse_uncertainty(const std::string& file, const std::string& where,
                                            const ojson& block) {
  if (!block.is_object() || block.empty())
    throw InputError(file, where, show_json(block),
                     "an object of scene keys to distributions (at least one)");
  std::vector<Distribution> out;
  for (auto it = block.begin(); it != block.end(); ++it)
    out.push_back(parse_distribution(file, where, it.key(), it.value()));
  return out;
}

/// Sets `value` at the dotted `path` of `scene`; throws naming `origin` when the path is not in
/// the scene.
void set_path(ojson& scene, const std::string& file, const std::string& origin,
              const std::string& path, const ojson& value) {
  ojson* node = detail::find_path(scene, path, true);
  if (!node)
    throw InputError(file, origin, path,
                     "a dotted path into the scene (objects by key, lists by index within their "
                     "length)");
  *node = value;
}

/// The value at `path` for a jitter: must exist and be three numbers.
const ojson& point_at(ojson& scene, const std::string& file, const std::string& origin,
                      const std::string& path) {
  const ojson* node = detail::find_path(scene, path, false);
  if (!node || !node->is_array() || node->size() != 3 ||
      !std::all_of(node->begin(), node->end(), [](const ojson& v) { return v.is_number(); }))
    throw InputError(file, origin, node ? show_json(*node) : path + " (not in the scene)",
                     "jitter_mm on a key that holds a point [x, y, z] in the scene");
  return *node;
}

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string padded(long long i, long long count) {
  const std::string s = std::to_string(i);
  const std::size_t w = std::to_string(std::max(0LL, count - 1)).size();
  return std::string(w > s.size() ? w - s.size() : 0, '0') + s;
}

/// One axis or zip list.
struct Axis {
  std::string key;
  std::vector<ojson> values;
};

std::vector<Axis> parse_axes(const std::string& file, const std::string& where, const ojson& j) {
  if (!j.is_object() || j.empty())
    throw InputError(file, where, show_json(j), "an object of scene keys to lists of values");
  std::vector<Axis> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_array() || it.value().empty())
      throw InputError(file, where + "." + it.key(), show_json(it.value()),
                       "a non-empty list of values");
    out.push_back({it.key(), std::vector<ojson>(it.value().begin(), it.value().end())});
  }
  return out;
}

/// Everything of a sweep file except its cases.
struct SweepFile {
  std::string file;
  ojson scene;             ///< the base scene
  std::string scene_file;  ///< names the scene in the parser's errors, resolves paths
  std::vector<Axis> axes, zip;
  std::vector<Distribution> uncertainty;
  long long samples = 0;
  bool cohort = false;
  long long patients = 0;
  ojson cohort_bone;
  std::vector<std::pair<std::string, double>> fracture;  ///< cumulative prevalence
  std::vector<std::pair<std::string, ojson>> arms;
};

/// Expands and checks every case.
void expand(const SweepFile& sf, SweepPlan& plan) {
  // Columns: axes, zip, cohort draws, uncertainty keys — each key once.
  std::set<std::string> seen;
  auto column = [&](const std::string& key, const std::string& origin) {
    if (!seen.insert(key).second)
      throw InputError(sf.file, origin + "." + key, "the same scene key a second time",
                       "each scene key in one of axes, zip, cohort or uncertainty only");
    plan.columns.push_back(key);
  };
  for (const Axis& a : sf.axes) column(a.key, "axes");
  for (const Axis& a : sf.zip) column(a.key, "zip");
  if (sf.cohort) {
    column("bone.generate.seed", "cohort");
    if (!sf.fracture.empty()) column("bone.generate.fracture", "cohort");
  }
  for (const Distribution& d : sf.uncertainty) column(d.key, "uncertainty");

  // Grid points: the Cartesian product of the axes (the last fastest) times the zip rows.
  long long zip_rows = sf.zip.empty() ? 1 : static_cast<long long>(sf.zip[0].values.size());
  for (const Axis& z : sf.zip)
    if (static_cast<long long>(z.values.size()) != zip_rows)
      throw InputError(
          sf.file, "zip." + z.key, std::to_string(z.values.size()) + " values",
          "as many values as zip." + sf.zip[0].key + " (" + std::to_string(zip_rows) + ")");
  long long points = zip_rows;
  for (const Axis& a : sf.axes) points *= static_cast<long long>(a.values.size());
  const long long patients = sf.cohort ? sf.patients : 1;
  const long long samples = sf.samples > 0 ? sf.samples : 1;
  const long long arms = sf.arms.empty() ? 1 : static_cast<long long>(sf.arms.size());
  const long long total = points * patients * samples * arms;
  constexpr long long kMaxCases = 1000000;
  if (total > kMaxCases)
    throw InputError(sf.file, "", std::to_string(total) + " cases",
                     "at most " + std::to_string(kMaxCases) + " cases in one sweep");
  plan.points = points;
  plan.patients = sf.cohort ? sf.patients : 0;
  plan.samples = sf.samples;

  // Cohort draws per patient: the generator seed and the fracture.
  std::vector<std::pair<long long, std::string>> patient_draws;
  for (long long p = 0; sf.cohort && p < patients; ++p) {
    Rng rng(plan.seed, {kStreamCohort, static_cast<std::uint64_t>(p)});
    const auto bone_seed = static_cast<long long>(rng.below(1u << 31));
    std::string fracture;
    if (!sf.fracture.empty()) {
      const double u = rng.uniform();
      std::size_t i = 0;
      while (i + 1 < sf.fracture.size() && u >= sf.fracture[i].second) ++i;
      fracture = sf.fracture[i].first;
    }
    patient_draws.emplace_back(bone_seed, fracture);
  }

  for (long long pt = 0; pt < points; ++pt) {
    // Decompose the point: axis values (last axis fastest), then the zip row (slowest).
    std::vector<std::size_t> pick(sf.axes.size());
    long long rest = pt;
    for (std::size_t a = sf.axes.size(); a-- > 0;) {
      const auto n = static_cast<long long>(sf.axes[a].values.size());
      pick[a] = static_cast<std::size_t>(rest % n);
      rest /= n;
    }
    const auto zrow = static_cast<std::size_t>(rest);
    for (long long pa = 0; pa < patients; ++pa)
      for (long long sa = 0; sa < samples; ++sa)
        for (long long ar = 0; ar < arms; ++ar) {
          SweepCase c;
          c.index = static_cast<long long>(plan.cases.size());
          c.point = pt;
          c.patient = sf.cohort ? pa : -1;
          c.sample = sf.samples > 0 ? sa : -1;
          c.arm = sf.arms.empty() ? "" : sf.arms[static_cast<std::size_t>(ar)].first;
          std::vector<std::string> parts;
          if (points > 1) parts.push_back("g" + padded(pt, points));
          if (sf.cohort) parts.push_back("p" + padded(pa, patients));
          if (sf.samples > 0) parts.push_back("s" + padded(sa, samples));
          if (!c.arm.empty()) parts.push_back(c.arm);
          for (const auto& p : parts) c.id += (c.id.empty() ? "" : "_") + p;
          if (c.id.empty()) c.id = "case";

          ojson scene = sf.scene;
          std::vector<std::string> origin;  // "key = value" of everything applied, for errors
          if (sf.cohort) {
            ojson bone = sf.cohort_bone;
            ojson* g = detail::find_path(bone, "generate", true);
            (*g)["seed"] = patient_draws[static_cast<std::size_t>(pa)].first;
            if (!sf.fracture.empty())
              (*g)["fracture"] = patient_draws[static_cast<std::size_t>(pa)].second;
            scene["bone"] = bone;
          }
          if (!c.arm.empty()) scene.merge_patch(sf.arms[static_cast<std::size_t>(ar)].second);
          std::vector<std::string> vals;
          for (std::size_t a = 0; a < sf.axes.size(); ++a) {
            const ojson& v = sf.axes[a].values[pick[a]];
            set_path(scene, sf.file, "axes." + sf.axes[a].key, sf.axes[a].key, v);
            vals.push_back(v.dump());
          }
          for (const Axis& z : sf.zip) {
            set_path(scene, sf.file, "zip." + z.key, z.key, z.values[zrow]);
            vals.push_back(z.values[zrow].dump());
          }
          if (sf.cohort) {
            const ojson* g = detail::find_path(scene, "bone.generate", false);
            vals.push_back(g && g->contains("seed") ? (*g)["seed"].dump() : "null");
            if (!sf.fracture.empty())
              vals.push_back(g && g->contains("fracture") ? (*g)["fracture"].dump() : "null");
          }
          for (const Distribution& d : sf.uncertainty) {
            // Keyed by the point, patient and sample, never by the arm: arms share the draws.
            Rng rng(plan.seed,
                    {kStreamUncertainty, detail::hash_text(d.key), static_cast<std::uint64_t>(pt),
                     static_cast<std::uint64_t>(pa), static_cast<std::uint64_t>(sa)});
            const std::string origin_key = "uncertainty." + d.key;
            ojson current;
            if (d.kind == Distribution::Kind::Jitter)
              current = point_at(scene, sf.file, origin_key, d.key);
            const ojson v = d.draw(rng, current);
            set_path(scene, sf.file, origin_key, d.key, v);
            vals.push_back(v.dump());
          }
          c.values = vals;
          c.scene_json = scene.dump();
          try {
            c.scene = parse_scene(c.scene_json, sf.scene_file);
          } catch (const InputError& e) {
            std::string what = "case " + c.id;
            for (std::size_t i = 0; i < plan.columns.size(); ++i)
              what += (i ? ", " : " (") + plan.columns[i] + " = " + vals[i] +
                      (i + 1 == plan.columns.size() ? ")" : "");
            if (!c.arm.empty()) what += ", arm " + c.arm;
            throw InputError(sf.file, what + ": scene key " + (e.key().empty() ? "?" : e.key()),
                             e.value(), e.expected());
          }
          plan.cases.push_back(std::move(c));
        }
  }
}

/// Reads the parts of a sweep file.
SweepFile read_sweep(const ojson& doc, const std::string& file, SweepPlan& plan) {
  SweepFile sf;
  sf.file = file;
  if (!doc.is_object())
    throw InputError(file, "", show_json(doc), "a JSON sweep object (SPEC.md §4)");
  const std::vector<std::string> allowed{"schema", "name",   "description", "scene",
                                         "axes",   "zip",    "uncertainty", "samples",
                                         "seed",   "cohort", "arms",        "leak_threshold_ml"};
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw InputError(file, it.key(), "", "one of: " + list);
    }
  auto need = [&](const char* k) -> const ojson& {
    if (!doc.contains(k)) throw InputError(file, k, "", "a value (required key missing)");
    return doc[k];
  };
  const ojson& schema = need("schema");
  if (!schema.is_number_integer() || schema.get<long long>() != 1)
    throw InputError(file, "schema", show_json(schema), "1 (the sweep schema of this version)");
  const ojson& name = need("name");
  if (!name.is_string() || !valid_name(name.get<std::string>()))
    throw InputError(file, "name", show_json(name),
                     "a non-empty name of letters, digits, '_', '.' and '-' (a folder name)");
  plan.name = name.get<std::string>();
  if (doc.contains("description") && !doc["description"].is_string())
    throw InputError(file, "description", show_json(doc["description"]), "a string");

  const ojson& scene = need("scene");
  if (scene.is_string()) {
    fs::path p(scene.get<std::string>());
    if (p.is_relative()) p = fs::path(file).parent_path() / p;
    sf.scene_file = p.lexically_normal().string();
    try {
      sf.scene = detail::read_json_file(sf.scene_file, "scene file (SPEC.md §3)");
    } catch (const InputError& e) {
      throw InputError(file, "scene", show_json(scene) + " (" + e.what() + ")",
                       "a readable scene file, relative to the sweep file");
    }
  } else if (scene.is_object()) {
    sf.scene = scene;
    sf.scene_file = file;  // relative paths inside resolve against the sweep file
  } else {
    throw InputError(file, "scene", show_json(scene), "a scene file name or a scene object");
  }
  if (!sf.scene.is_object())
    throw InputError(file, "scene", show_json(sf.scene), "a JSON scene object (SPEC.md §3)");
  sf.scene.erase("uncertainty");  // a scene's own block is for run --samples

  if (doc.contains("seed")) {
    const ojson& s = doc["seed"];
    if (!s.is_number_unsigned()) throw InputError(file, "seed", show_json(s), "an integer >= 0");
    plan.seed = s.get<std::uint64_t>();
  }
  if (doc.contains("leak_threshold_ml")) {
    const ojson& t = doc["leak_threshold_ml"];
    if (!t.is_number() || !std::isfinite(t.get<double>()) || t.get<double>() < 0)
      throw InputError(file, "leak_threshold_ml", show_json(t), "a volume in mL, finite and >= 0");
    plan.leak_threshold_ml = t.get<double>();
  }
  if (doc.contains("axes")) sf.axes = parse_axes(file, "axes", doc["axes"]);
  if (doc.contains("zip")) sf.zip = parse_axes(file, "zip", doc["zip"]);
  if (doc.contains("uncertainty"))
    sf.uncertainty = parse_uncertainty(file, "uncertainty", doc["uncertainty"]);
  if (doc.contains("samples")) {
    const ojson& s = doc["samples"];
    if (!s.is_number_integer() || s.get<long long>() < 1 || s.get<long long>() > 1000000)
      throw InputError(file, "samples", show_json(s), "an integer from 1 to 1000000");
    sf.samples = s.get<long long>();
  }
  if (!sf.uncertainty.empty() && sf.samples == 0)
    throw InputError(file, "samples", "", "a number of samples > 0 to draw over uncertainty");
  if (sf.uncertainty.empty() && sf.samples > 0)
    throw InputError(file, "uncertainty", "",
                     "distributions to draw the " + std::to_string(sf.samples) + " samples from");

  if (doc.contains("cohort")) {
    const ojson& c = doc["cohort"];
    if (!c.is_object()) throw InputError(file, "cohort", show_json(c), "an object {...}");
    for (auto it = c.begin(); it != c.end(); ++it)
      if (it.key() != "patients" && it.key() != "bone" && it.key() != "fracture")
        throw InputError(file, "cohort." + it.key(), "", "one of: patients, bone, fracture");
    sf.cohort = true;
    if (!c.contains("patients") || !c["patients"].is_number_integer() ||
        c["patients"].get<long long>() < 1 || c["patients"].get<long long>() > 100000)
      throw InputError(file, "cohort.patients",
                       c.contains("patients") ? show_json(c["patients"]) : "",
                       "a number of patients from 1 to 100000");
    sf.patients = c["patients"].get<long long>();
    sf.cohort_bone = c.contains("bone") ? c["bone"] : ojson::object();
    if (!sf.cohort_bone.is_object())
      throw InputError(file, "cohort.bone", show_json(sf.cohort_bone),
                       "a bone object {\"generate\": {\"kind\": \"vertebra\", ...}}");
    if (!sf.cohort_bone.contains("generate"))
      sf.cohort_bone["generate"] = ojson::object({{"kind", "vertebra"}});
    const ojson& g = sf.cohort_bone["generate"];
    if (!g.is_object() || (g.contains("kind") && g["kind"] != "vertebra"))
      throw InputError(file, "cohort.bone.generate", show_json(g),
                       "a vertebra generator {\"kind\": \"vertebra\", \"voxel_mm\": h, "
                       "\"quality\": ...} (patients differ by seed and fracture)");
    if (!g.contains("kind")) sf.cohort_bone["generate"]["kind"] = "vertebra";
    if (g.contains("seed"))
      throw InputError(file, "cohort.bone.generate.seed", show_json(g["seed"]),
                       "no seed: each patient's seed is drawn from the sweep's seed");
    if (c.contains("fracture")) {
      const ojson& f = c["fracture"];
      if (!f.is_object() || f.empty())
        throw InputError(file, "cohort.fracture", show_json(f),
                         "prevalences {\"none\": p, \"wedge\": p, \"cleft\": p}");
      double sum = 0;
      for (auto it = f.begin(); it != f.end(); ++it) {
        if (it.key() != "none" && it.key() != "wedge" && it.key() != "cleft")
          throw InputError(file, "cohort.fracture." + it.key(), "", "one of: none, wedge, cleft");
        if (!it.value().is_number() || !std::isfinite(it.value().get<double>()) ||
            it.value().get<double>() < 0)
          throw InputError(file, "cohort.fracture." + it.key(), show_json(it.value()),
                           "a prevalence (weight) >= 0");
        sum += it.value().get<double>();
      }
      if (sum <= 0)
        throw InputError(file, "cohort.fracture", show_json(f), "prevalences with a positive sum");
      double acc = 0;
      for (auto it = f.begin(); it != f.end(); ++it)
        sf.fracture.emplace_back(it.key(), acc += it.value().get<double>() / sum);
    }
  }
  if (doc.contains("arms")) {
    const ojson& a = doc["arms"];
    if (!a.is_object() || a.empty())
      throw InputError(file, "arms", show_json(a),
                       "an object of arm names to partial scenes (at least one arm)");
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!valid_name(it.key()))
        throw InputError(file, "arms." + it.key(), "",
                         "an arm name of letters, digits, '_', '.' and '-'");
      if (!it.value().is_object())
        throw InputError(file, "arms." + it.key(), show_json(it.value()),
                         "a partial scene object merged over the base scene");
      sf.arms.emplace_back(it.key(), it.value());
      plan.arms.push_back(it.key());
    }
  }
  return sf;
}

}  // namespace

SweepPlan parse_sweep(const std::string& json_text, const std::string& file) {
  SweepPlan plan;
  plan.file = file;
  const ojson doc = detail::parse_json(json_text, file, "a JSON sweep object (SPEC.md §4)");
  const SweepFile sf = read_sweep(doc, file, plan);
  expand(sf, plan);
  return plan;
}

SweepPlan load_sweep(const std::string& path) {
  const ojson doc = detail::read_json_file(path, "sweep file (SPEC.md §4)");
  return parse_sweep(doc.dump(), path);
}

SceneUncertainty split_scene_uncertainty(const std::string& path) {
  ojson doc = detail::read_json_file(path, "scene file (SPEC.md §3)");
  SceneUncertainty out;
  if (doc.is_object() && doc.contains("uncertainty")) {
    parse_uncertainty(path, "uncertainty", doc["uncertainty"]);  // checked here
    out.uncertainty_json = doc["uncertainty"].dump();
    doc.erase("uncertainty");
  }
  out.scene_json = doc.dump();
  return out;
}

SweepPlan sample_scene(const std::string& path, long long samples, std::uint64_t seed,
                       double leak_threshold_ml) {
  const SceneUncertainty su = split_scene_uncertainty(path);
  if (su.uncertainty_json.empty())
    throw InputError(path, "uncertainty", "",
                     "an uncertainty block in the scene for --samples (SPEC.md §4)");
  if (samples < 1 || samples > 1000000)
    throw InputError("<arguments>", "--samples", std::to_string(samples),
                     "a number of samples from 1 to 1000000");
  ojson scene = detail::parse_json(su.scene_json, path, "scene");
  SweepPlan plan;
  plan.file = path;
  plan.seed = seed;
  plan.leak_threshold_ml = leak_threshold_ml;
  SweepFile sf;
  sf.file = path;
  sf.scene = scene;
  sf.scene_file = path;
  sf.samples = samples;
  sf.uncertainty =
      parse_uncertainty(path, "uncertainty", detail::parse_json(su.uncertainty_json, path, ""));
  plan.name = scene.value("name", std::string("scene")) + "_samples";
  expand(sf, plan);
  return plan;
}

}  // namespace cementflow

#include "engine/io/scene_json.hpp"

namespace cementflow::detail::scene_json {

namespace {

// --- JSON text -> json, with syntax errors and duplicate keys reported by line -----------------

/// 1-based line and column of byte offset `pos` (0-based) in `text`.
std::string line_column(const std::string& text, std::size_t pos) {
  pos = std::min(pos, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

/// The nlohmann message without its "[json.exception.x.n] " prefix.
std::string parser_message(const std::exception& e) {
  std::string m = e.what();
  const auto p = m.find("] ");
  return p == std::string::npos ? m : m.substr(p + 2);
}

}  // namespace

json parse_json_text(const std::string& text, const std::string& file) {
  // Duplicate keys are legal JSON but nlohmann keeps only the last one, silently; a scene with a
  // key twice is almost certainly a mistake, so the parser callback tracks the keys of every open
  // object (and the element index of every open list, for the dotted path).
  struct Frame {
    bool is_array = false;
    std::set<std::string> keys;
    std::string key;
    std::size_t count = 0;
  };
  std::vector<Frame> stack;
  std::string duplicate;  // dotted path of the first duplicate key
  auto path_of = [&stack](const std::string& last) {
    std::string p;
    for (const Frame& f : stack) {
      if (f.is_array) {
        p += "[" + std::to_string(f.count == 0 ? 0 : f.count - 1) + "]";
      } else if (&f != &stack.back()) {
        p += (p.empty() ? "" : ".") + f.key;
      }
    }
    return p.empty() ? last : p + "." + last;
  };
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if ((event == E::object_start || event == E::array_start || event == E::value) &&
        !stack.empty() && stack.back().is_array)
      ++stack.back().count;
    if (event == E::object_start || event == E::array_start) {
      Frame f;
      f.is_array = event == E::array_start;
      stack.push_back(std::move(f));
    } else if (event == E::object_end || event == E::array_end) {
      if (!stack.empty()) stack.pop_back();
    } else if (event == E::key && !stack.empty()) {
      const std::string k = parsed.is_string() ? parsed.get<std::string>() : parsed.dump();
      if (!stack.back().keys.insert(k).second && duplicate.empty()) duplicate = path_of(k);
      stack.back().key = k;
    }
    return true;
  };

  json root;
  try {
    root = json::parse(text, callback, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // nlohmann's text repeats "parse error at line L, column C: "; keep only what follows.
    const std::size_t pos = e.byte > 0 ? e.byte - 1 : 0;
    std::string detail = parser_message(e);
    const auto colon = detail.find(": ");
    if (detail.rfind("parse error", 0) == 0 && colon != std::string::npos)
      detail = detail.substr(colon + 2);
    throw InputError(file, "",
                     "invalid JSON at " + line_column(text, pos) + " (byte " +
                         std::to_string(e.byte) + "): " + detail,
                     "a JSON scene object (SPEC.md §3)");
  } catch (const json::exception& e) {
    // Number overflow (e.g. 1e999) and the like carry no position: find the literal instead.
    std::string where;
    const std::string m = e.what();
    const auto a = m.find('\''), b = m.rfind('\'');
    if (a != std::string::npos && b > a) {
      const auto pos = text.find(m.substr(a + 1, b - a - 1));
      if (pos != std::string::npos) where = " at " + line_column(text, pos);
    }
    throw InputError(file, "", "invalid JSON" + where + ": " + parser_message(e),
                     "a JSON scene object with finite numbers (SPEC.md §3)");
  }
  if (!duplicate.empty())
    throw InputError(file, duplicate, "the key a second time", "each key once per object");
  return root;
}

}  // namespace cementflow::detail::scene_json

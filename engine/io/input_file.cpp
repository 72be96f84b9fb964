// Bounded reading of text inputs (engine/input_file.hpp).

#include "engine/io/input_file.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cementflow/errors.hpp"

namespace cementflow::detail {
namespace fs = std::filesystem;

std::string read_text_input(const std::string& path, const std::string& expected,
                            std::size_t max_bytes) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw InputError(path, "", "no such file", expected);
  if (fs::is_directory(st)) throw InputError(path, "", "a directory", expected);
  if (!fs::is_regular_file(st))
    throw InputError(path, "", "not a regular file (a device, FIFO or socket)", expected);
  const auto size = fs::file_size(path, ec);
  if (ec) throw InputError(path, "", "an unreadable file (" + ec.message() + ")", expected);
  if (size > max_bytes)
    throw InputError(path, "", std::to_string(size) + " bytes",
                     expected + " of at most " + std::to_string(max_bytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "a file that cannot be read", expected);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    throw InputError(path, "", "a read error", expected);
  // A file that grew while read is read up to the size checked above.
  return text;
}

void check_no_nul(const std::string& text, const std::string& file, const std::string& where) {
  const auto p = text.find('\0');
  if (p != std::string::npos)
    throw InputError(file, where, "a NUL byte at byte " + std::to_string(p),
                     "text without NUL bytes");
}

nlohmann::json parse_json_input(const std::string& text, const std::string& file,
                                const std::string& expected) {
  check_no_nul(text, file, "");
  // The parser's callback sees every value's depth before the value is built.
  using event = nlohmann::json::parse_event_t;
  const nlohmann::json::parser_callback_t cb = [](int depth, event e, nlohmann::json& parsed) {
    if (depth > kMaxJsonDepth) throw std::length_error("nesting");
    // "\u0000" in a string or key ("box.vdb\u0000junk" named box.vdb to the C file API).
    if ((e == event::value || e == event::key) && parsed.is_string() &&
        parsed.get_ref<const std::string&>().find('\0') != std::string::npos)
      throw std::domain_error(parsed.get_ref<const std::string&>());
    return true;
  };
  try {
    return nlohmann::json::parse(text, cb);
  } catch (const std::length_error&) {
    throw InputError(file, "",
                     "JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep",
                     expected);
  } catch (const std::domain_error& e) {
    throw InputError(
        file, "", "a string holding a NUL character (\\u0000): " + std::string(e.what()), expected);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "", "invalid JSON (" + std::string(e.what()) + ")", expected);
  }
}

}  // namespace cementflow::detail

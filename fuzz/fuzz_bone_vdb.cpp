// libFuzzer harness: a bone (or fill) VDB file as `info`, `info --json` and `run` read it.
#include <cstdint>
#include <string>

#include "cementflow/bone.hpp"
#include "cementflow/info.hpp"
#include "engine/run/vdb_init.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool init = [] {
    cementflow::detail::openvdb_initialize();
    return true;
  }();
  (void)init;
  const std::string path = cffuzz::write_file("bone.vdb", data, size);
  cffuzz::expect_input_errors_only([&] {
    const auto info = cementflow::inspect_vdb(path);
    (void)cementflow::to_text(info);
    (void)cementflow::to_json(info);
  });
  cffuzz::expect_input_errors_only([&] { (void)cementflow::load_bone(path); });
  return 0;
}

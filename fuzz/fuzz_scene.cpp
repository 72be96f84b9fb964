// libFuzzer harness: scene JSON (cementflow::parse_scene, SPEC.md §3), as `run SCENE` reads it.
#include <cstdint>
#include <string>

#include "cementflow/scene.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cffuzz::scratch();
  const std::string text(reinterpret_cast<const char*>(data), size);
  cffuzz::expect_input_errors_only([&] { (void)cementflow::parse_scene(text, "fuzz.json"); });
  return 0;
}

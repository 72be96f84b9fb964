// libFuzzer harness: a (multi-page) TIFF, as `import STACK.tif --image-spacing-mm S` reads it.
#include <cstdint>
#include <string>

#include "engine/bone/image_io.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = cffuzz::write_file("stack.tif", data, size);
  cffuzz::expect_input_errors_only([&] { (void)cementflow::detail::read_tiff_stack(path, 0.1); });
  return 0;
}

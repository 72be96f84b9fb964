// libFuzzer harness: a MetaImage header and its raw file, as `import IMAGE.mhd` reads them. The
// input is the header, then a NUL byte, then the raw data (written as data.raw beside it).
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/bone/image_io.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const void* nul = std::memchr(data, 0, size);
  const std::size_t header =
      nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - data) : size;
  const std::string mhd = cffuzz::write_file("image.mhd", data, header);
  const std::size_t raw_start = nul ? header + 1 : size;
  cffuzz::write_file("data.raw", data + raw_start, size - raw_start);
  cffuzz::expect_input_errors_only([&] { (void)cementflow::detail::read_metaimage(mhd); });
  return 0;
}

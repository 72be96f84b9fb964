// libFuzzer harness: a NIfTI-1/2 file (.nii, or .nii.gz when the input starts with the gzip
// magic), as `import CT.nii[.gz]` reads it.
#include <cstdint>
#include <string>

#include "engine/bone/image_io.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const std::string path = cffuzz::write_file(gz ? "image.nii.gz" : "image.nii", data, size);
  cffuzz::expect_input_errors_only([&] { (void)cementflow::detail::read_nifti(path); });
  return 0;
}

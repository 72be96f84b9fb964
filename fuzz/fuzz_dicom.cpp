// libFuzzer harness: a DICOM series of one file, as `import DICOM_FOLDER` reads it (GDCM).
#include <cstdint>
#include <filesystem>
#include <string>

#include "engine/bone/image_io.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    const auto d = cffuzz::scratch() / "dicom";
    std::filesystem::create_directories(d);
    return d.string();
  }();
  cffuzz::write_file("dicom/slice.dcm", data, size);
  cffuzz::expect_input_errors_only([&] { (void)cementflow::detail::read_dicom_series(dir); });
  return 0;
}

// libFuzzer harness: a checkpoint file (README "Checkpoint and restart") as `run --resume DIR`
// reads it first (read_checkpoint_info: magic, format version, checksum, sections, header and
// state keys). Every other input gets the right magic, version, byte-order mark and trailing
// checksum, so that mutations reach the section parser instead of stopping at the checksum.
#include <cstdint>
#include <cstring>
#include <string>

#include "cementflow/checkpoint.hpp"
#include "engine/io/checkpoint_file.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string b(reinterpret_cast<const char*>(data), size);
  if (size % 2 == 0 && b.size() >= 32) {
    namespace d = cementflow::detail;
    std::memcpy(b.data(), d::kCheckpointMagic, sizeof d::kCheckpointMagic);
    const std::uint32_t version = d::kCheckpointFormat, order = 0x01020304;
    std::memcpy(b.data() + 8, &version, 4);
    std::memcpy(b.data() + 12, &order, 4);
    const std::uint64_t h = d::fnv1a64(b.data(), b.size() - 8);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
  }
  const std::string path = cffuzz::write_file(
      "checkpoint.cfck", reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
  cffuzz::expect_input_errors_only([&] { cementflow::read_checkpoint_info(path); });
  return 0;
}

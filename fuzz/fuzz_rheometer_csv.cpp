// libFuzzer harness: rheometer CSV (SPEC.md §3a) as `fit-rheology DATA.csv --model M` reads it:
// parse, fit (the model chosen by the input's length) and write fit.json, cement.json, fit.png.
#include <cstdint>
#include <string>

#include "cementflow/rheology_fit.hpp"
#include "fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto out = (cffuzz::scratch() / "fit").string();
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const char* const models[] = {"newtonian", "power_law", "cross", "carreau_yasuda",
                                       "herschel_bulkley"};
  cffuzz::expect_input_errors_only([&] {
    const auto parsed = cementflow::parse_rheometer_csv(text, "fuzz.csv");
    const auto model = cementflow::rheology_model_from_name(models[size % 5], "<fuzz>", "--model");
    const auto fit = cementflow::fit_rheology(parsed, model);
    cementflow::write_fit_outputs(parsed, fit, out);
  });
  return 0;
}

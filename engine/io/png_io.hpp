#pragma once
/// @file png_io.hpp
/// @brief Writes 8-bit RGB images as PNG (libpng). Host only; shared by the slice renderer and
///        the plots (fit-rheology, pressure-volume curve).

#include <cstdint>
#include <string>
#include <vector>

namespace cementflow::detail {

/// An 8-bit RGB raster, row-major from the top-left pixel.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;  ///< 3 * width * height bytes

  RgbImage() = default;
  RgbImage(int w, int h, std::uint8_t r = 255, std::uint8_t g = 255, std::uint8_t b = 255);
  /// Sets one pixel; coordinates outside the image are ignored (clipping).
  void set(int x, int y, std::uint8_t r, std::uint8_t g, std::uint8_t b);
};

/// Writes `image` to `path` as an 8-bit RGB PNG. Throws InputError naming the path when the
/// file cannot be written (missing folder, no permission) and std::runtime_error on a libpng
/// failure.
void write_png(const std::string& path, const RgbImage& image);

}  // namespace cementflow::detail

#pragma once
// Reads a PNG back as 8-bit RGB rows (libpng's simplified API), for the tests of the PNG writer,
// the plots and the renderer.

#include <png.h>

#include <string>
#include <vector>

namespace cementflow::test {

/// The pixels of `path` as RGB bytes, row-major from the top; empty when it cannot be read.
inline std::vector<unsigned char> read_png_rgb(const std::string& path, int* w, int* h) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path.c_str())) return {};
  img.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> buf(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, buf.data(), 0, nullptr)) return {};
  *w = static_cast<int>(img.width);
  *h = static_cast<int>(img.height);
  return buf;
}

}  // namespace cementflow::test

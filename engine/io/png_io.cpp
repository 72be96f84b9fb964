/// @file png_io.cpp
/// @brief PNG output through libpng (Debian libpng-dev).

#include "engine/io/png_io.hpp"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "cementflow/errors.hpp"

namespace cementflow::detail {

RgbImage::RgbImage(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b)
    : width(w), height(h), rgb(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3) {
  if (w <= 0 || h <= 0)
    throw InputError("<image>", "width, height", std::to_string(w) + " x " + std::to_string(h),
                     "a width and height > 0");
  for (std::size_t i = 0; i < rgb.size(); i += 3) {
    rgb[i] = r;
    rgb[i + 1] = g;
    rgb[i + 2] = b;
  }
}

void RgbImage::set(int x, int y, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  if (x < 0 || y < 0 || x >= width || y >= height) return;
  const std::size_t i = 3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                             static_cast<std::size_t>(x));
  rgb[i] = r;
  rgb[i + 1] = g;
  rgb[i + 2] = b;
}

namespace {
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
}  // namespace

void write_png(const std::string& path, const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != 3 * static_cast<std::size_t>(image.width) * image.height)
    throw InputError(path, "pixels",
                     std::to_string(image.rgb.size()) + " bytes for " +
                         std::to_string(image.width) + " x " + std::to_string(image.height),
                     "3 bytes per pixel of a non-empty image");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file)
    throw InputError(path, "", "",
                     std::string("a writable PNG path (") + std::strerror(errno) + ")");

  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) throw std::runtime_error("libpng: cannot create a write struct for " + path);
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("libpng: cannot create an info struct for " + path);
  }
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the
  // end of the writes below.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng: failed writing " + path);
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const std::size_t stride = 3 * static_cast<std::size_t>(image.width);
  for (int y = 0; y < image.height; ++y) {
    png_write_row(png,
                  const_cast<png_bytep>(image.rgb.data() + stride * static_cast<std::size_t>(y)));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(file.get()) != 0)
    throw InputError(path, "", "", "a writable PNG path (write failed)");
}

}  // namespace cementflow::detail

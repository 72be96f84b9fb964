// PNG output: the file is a valid PNG with the right size and pixels (read back with libpng).
#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/io/png_io.hpp"
#include "tests/png_read.hpp"
#include "tests/test_support.hpp"

using cementflow::detail::RgbImage;
using cementflow::detail::write_png;

using cementflow::test::read_png_rgb;

TEST(PngIo, WritesSizeAndPixelsThatReadBack) {
  const auto dir = cementflow::test::temp_dir("png_io");
  RgbImage im(7, 3, 10, 20, 30);
  im.set(6, 2, 255, 0, 128);
  im.set(-1, 0, 0, 0, 0);  // clipped, no effect
  im.set(7, 0, 0, 0, 0);   // clipped
  const std::string path = (dir / "a.png").string();
  write_png(path, im);
  int w = 0, h = 0;
  const auto px = read_png_rgb(path, &w, &h);
  ASSERT_EQ(px.size(), 7u * 3u * 3u);
  EXPECT_EQ(w, 7);
  EXPECT_EQ(h, 3);
  EXPECT_EQ(px, im.rgb);
  EXPECT_EQ(px[0], 10);
  EXPECT_EQ(px[3 * (2 * 7 + 6)], 255);
  EXPECT_EQ(px[3 * (2 * 7 + 6) + 2], 128);
}

TEST(PngIo, UnwritablePathIsAnInputErrorNamingIt) {
  RgbImage im(2, 2);
  const std::string path = "/nonexistent_folder_cf/x.png";
  try {
    write_png(path, im);
    FAIL() << "expected InputError";
  } catch (const cementflow::InputError& e) {
    EXPECT_EQ(e.file(), path);
  }
}

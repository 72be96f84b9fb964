// XY plots to PNG (engine/io/plot.hpp): the file is a PNG of the requested size with axes, text and
// the series' colours drawn; bad data (log axis with values <= 0, mismatched x/y, NaN, no points)
// is an InputError that says what is wrong.

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/io/plot.hpp"
#include "tests/png_read.hpp"
#include "tests/test_support.hpp"

using cementflow::detail::PlotSeries;
using cementflow::detail::PlotSpec;
using cementflow::detail::write_plot_png;

namespace {

using cementflow::test::read_png_rgb;

std::vector<PlotSeries> two_series() {
  PlotSeries data, fit;
  data.label = "data";
  data.points = true;
  data.color = {200, 40, 40};
  fit.label = "power law fit";
  fit.color = {20, 60, 200};
  for (int i = 0; i <= 20; ++i) {
    const double g = 0.1 * std::pow(10.0, i / 5.0);
    data.x.push_back(g);
    data.y.push_back(300 * std::pow(g, -0.5) * (1 + 0.05 * ((i % 3) - 1)));
    fit.x.push_back(g);
    fit.y.push_back(300 * std::pow(g, -0.5));
  }
  return {data, fit};
}

long count(const std::vector<unsigned char>& px, unsigned char r, unsigned char g,
           unsigned char b) {
  long n = 0;
  for (size_t i = 0; i + 2 < px.size(); i += 3)
    if (px[i] == r && px[i + 1] == g && px[i + 2] == b) ++n;
  return n;
}

}  // namespace

TEST(Plot, WritesAPngWithAxesTextAndSeries) {
  const auto dir = cementflow::test::temp_dir("plot");
  for (bool log : {true, false}) {
    PlotSpec spec;
    spec.title = "viscosity against shear rate";
    spec.x_label = "shear rate (1/s)";
    spec.y_label = "viscosity (Pa·s)";
    spec.log_x = spec.log_y = log;
    spec.width = 640;
    spec.height = 420;
    const std::string path = (dir / (log ? "log.png" : "lin.png")).string();
    write_plot_png(path, spec, two_series());
    ASSERT_TRUE(std::filesystem::exists(path));
    EXPECT_GT(std::filesystem::file_size(path), 1000u);
    int w = 0, h = 0;
    const auto px = read_png_rgb(path, &w, &h);
    ASSERT_EQ(w, 640);
    ASSERT_EQ(h, 420);
    const long white = count(px, 255, 255, 255), total = static_cast<long>(w) * h;
    const long black = count(px, 0, 0, 0);
    const long red = count(px, 200, 40, 40), blue = count(px, 20, 60, 200);
    std::printf("%s axes: %ld white, %ld black (axes and text), %ld data, %ld fit pixels of %ld\n",
                log ? "log" : "linear", white, black, red, blue, total);
    EXPECT_LT(white, total * 98 / 100);  // not blank
    EXPECT_GT(black, 2000);              // frame, ticks and the text of labels and tick values
    EXPECT_GT(red, 21 * 20);             // 21 square markers (7x7 outline + 5x5 outline each)
    EXPECT_GT(blue, 400);                // the fit line, 2 px thick, and its legend sample
  }
}

TEST(Plot, BadDataIsAnInputError) {
  const auto dir = cementflow::test::temp_dir("plot_bad");
  const std::string path = (dir / "bad.png").string();
  auto message = [&](const PlotSpec& spec, const std::vector<PlotSeries>& s) -> std::string {
    try {
      write_plot_png(path, spec, s);
    } catch (const cementflow::InputError& e) {
      EXPECT_EQ(e.file(), path);
      return e.what();
    }
    return "";
  };
  PlotSpec log;
  log.log_x = log.log_y = true;
  auto s = two_series();
  s[1].y[3] = 0.0;
  std::string m = message(log, s);
  EXPECT_NE(m.find("logarithmic y axis"), std::string::npos) << m;
  s = two_series();
  s[0].x[0] = -1.0;
  m = message(log, s);
  EXPECT_NE(m.find("logarithmic x axis"), std::string::npos) << m;
  EXPECT_NE(m.find("series 0 (data) point 0"), std::string::npos) << m;
  s = two_series();
  s[0].y.pop_back();
  EXPECT_NE(message(PlotSpec{}, s).find("as many x as y"), std::string::npos);
  s = two_series();
  s[1].y[2] = std::nan("");
  EXPECT_NE(message(PlotSpec{}, s).find("finite"), std::string::npos);
  EXPECT_NE(message(PlotSpec{}, {}).find("no data points"), std::string::npos);
  PlotSpec tiny;
  tiny.width = 10;
  EXPECT_NE(message(tiny, two_series()).find("pixels"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Plot, SinglePointAndConstantDataStillDraw) {
  // A degenerate range (one point, a constant series) gets a unit window instead of a 0/0 scale.
  const auto dir = cementflow::test::temp_dir("plot_single");
  PlotSeries one;
  one.label = "one point";
  one.x = {5.0};
  one.y = {2.0};
  one.points = true;
  one.color = {0, 150, 0};
  const std::string path = (dir / "one.png").string();
  write_plot_png(path, PlotSpec{}, {one});
  int w = 0, h = 0;
  const auto px = read_png_rgb(path, &w, &h);
  ASSERT_EQ(w, 800);
  EXPECT_GT(count(px, 0, 150, 0), 20);
}

// XY plots to PNG (engine/io/plot.hpp). Everything is drawn into an RgbImage
// (engine/io/png_io.hpp): Bresenham lines, square markers, and text from the 5x7 bitmap font below
// (drawn at 2x).

#include "engine/io/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cementflow/errors.hpp"
#include "engine/io/png_io.hpp"

namespace cementflow::detail {

namespace {

// --- font ------------------------------------------------------------------------------------
// A 5x7 font drawn for this file: 7 rows of 5 columns per glyph, '#' = ink. Codes 1 and 2 stand
// for the UTF-8 middle dot and degree sign.
struct Glyph {
  char c;
  const char* rows[7];
};

constexpr char kMiddleDot = 1;
constexpr char kDegree = 2;

const Glyph kFont[] = {
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {'a', {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"}},
    {'b', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."}},
    {'c', {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."}},
    {'d', {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}},
    {'f', {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."}},
    {'g', {".....", ".....", ".####", "#...#", ".####", "....#", ".###."}},
    {'h', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'i', {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."}},
    {'j', {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."}},
    {'k', {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."}},
    {'l', {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'m', {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"}},
    {'n', {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'o', {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."}},
    {'p', {".....", ".....", "####.", "#...#", "####.", "#....", "#...."}},
    {'q', {".....", ".....", ".####", "#...#", ".####", "....#", "....#"}},
    {'r', {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."}},
    {'s', {".....", ".....", ".####", "#....", ".###.", "....#", "####."}},
    {'t', {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."}},
    {'u', {".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"}},
    {'v', {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'w', {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."}},
    {'x', {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"}},
    {'y', {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."}},
    {'z', {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {',', {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."}},
    {'-', {".....", ".....", ".....", ".####", ".....", ".....", "....."}},
    {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
    {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
    {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
    {'[', {".###.", ".#...", ".#...", ".#...", ".#...", ".#...", ".###."}},
    {']', {".###.", "...#.", "...#.", "...#.", "...#.", "...#.", ".###."}},
    {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
    {'^', {"..#..", ".#.#.", "#...#", ".....", ".....", ".....", "....."}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {'=', {".....", ".....", "#####", ".....", "#####", ".....", "....."}},
    {'_', {".....", ".....", ".....", ".....", ".....", ".....", "#####"}},
    {'%', {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}},
    {'*', {".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....."}},
    {'\'', {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."}},
    {'<', {"...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#."}},
    {'>', {".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..."}},
    {'!', {"..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."}},
    {'?', {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}},
    {'#', {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."}},
    {'|', {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'~', {".....", ".....", ".#...", "#.#.#", "...#.", ".....", "....."}},
    {kMiddleDot, {".....", ".....", ".....", "..#..", ".....", ".....", "....."}},
    {kDegree, {".##..", "#..#.", ".##..", ".....", ".....", ".....", "....."}},
};

const Glyph& glyph(char c) {
  for (const Glyph& g : kFont)
    if (g.c == c) return g;
  return glyph('?');
}

/// The text as font codes: ASCII as is, UTF-8 "·" and "°" to their codes, anything else '?'.
std::string to_codes(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      continue;
    }
    if (b == 0xC2 && i + 1 < utf8.size()) {
      const auto n = static_cast<unsigned char>(utf8[i + 1]);
      if (n == 0xB7 || n == 0xB0) {
        out += n == 0xB7 ? kMiddleDot : kDegree;
        ++i;
        continue;
      }
    }
    // Skip the continuation bytes of any other character.
    while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
    out += '?';
  }
  return out;
}

constexpr int kScale = 2;             // font pixels per glyph pixel
constexpr int kAdvance = 6 * kScale;  // glyph width plus one column of spacing
constexpr int kTextHeight = 7 * kScale;

using Rgb = std::array<std::uint8_t, 3>;

struct Canvas {
  RgbImage im;
  void px(int x, int y, const Rgb& c) { im.set(x, y, c[0], c[1], c[2]); }
  int text_width(const std::string& s) const {
    return static_cast<int>(to_codes(s).size()) * kAdvance - kScale;
  }
  /// Text with its top-left corner at (x, y); vertical = rotated 90° counter-clockwise, (x, y)
  /// then being its bottom-left corner.
  void text(int x, int y, const std::string& s, const Rgb& c, bool vertical = false) {
    const std::string codes = to_codes(s);
    for (std::size_t k = 0; k < codes.size(); ++k) {
      const Glyph& g = glyph(codes[k]);
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col) {
          if (g.rows[r][col] != '#') continue;
          for (int a = 0; a < kScale; ++a)
            for (int b = 0; b < kScale; ++b) {
              const int u = static_cast<int>(k) * kAdvance + col * kScale + a;  // along the text
              const int v = r * kScale + b;                                     // down the glyph
              if (vertical)
                px(x + v, y - u, c);
              else
                px(x + u, y + v, c);
            }
        }
    }
  }
  void line(int x0, int y0, int x1, int y1, const Rgb& c, int thick = 1) {
    // Bresenham, thickened by a square brush.
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (int guard = 0; guard < 100000; ++guard) {
      for (int a = 0; a < thick; ++a)
        for (int b = 0; b < thick; ++b) px(x0 + a - thick / 2, y0 + b - thick / 2, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }
  void rect(int x0, int y0, int x1, int y1, const Rgb& c) {
    line(x0, y0, x1, y0, c);
    line(x1, y0, x1, y1, c);
    line(x1, y1, x0, y1, c);
    line(x0, y1, x0, y0, c);
  }
  void fill(int x0, int y0, int x1, int y1, const Rgb& c) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) px(x, y, c);
  }
};

// --- axes ------------------------------------------------------------------------------------

/// One axis: data range in plot units (log10 of the data on a log axis) and its ticks.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;      // plot units
  std::vector<double> ticks;  // plot units
  double to_unit(double v) const { return log ? std::log10(v) : v; }
};

/// 1, 2 or 5 times a power of ten, the smallest not below `raw`.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw * (1 - 1e-12)) return m * p;
  return 10 * p;
}

Axis make_axis(double lo, double hi, bool log) {
  Axis a;
  a.log = log;
  if (log) {
    lo = std::log10(lo);
    hi = std::log10(hi);
  }
  if (!(hi > lo)) {  // a single value: a unit-wide window around it
    const double w = log ? 0.5 : (lo != 0 ? 0.1 * std::abs(lo) : 1.0);
    lo -= w;
    hi += w;
  }
  if (log && hi - lo >= 1.0) {
    // Ticks at the decades (every 2nd, 3rd... when there are many), range out to whole decades.
    a.lo = std::floor(lo);
    a.hi = std::ceil(hi);
    const int every = std::max(1, static_cast<int>(std::ceil((a.hi - a.lo) / 8.0)));
    for (double d = a.lo; d <= a.hi + 1e-9; d += every) a.ticks.push_back(d);
    return a;
  }
  // Linear ticks (in plot units; on a short log axis, in log10 units of the data).
  const double pad = 0.04 * (hi - lo);
  if (!log) {
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step((hi - lo) / 6.0);
  a.lo = log ? lo - pad : std::floor(lo / step) * step;
  a.hi = log ? hi + pad : std::ceil(hi / step) * step;
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-9 * step; t += step)
    a.ticks.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
  return a;
}

/// Tick label: at most 4 significant digits, exponent form for very large or small values.
std::string tick_label(double plot_value, bool log) {
  const double v = log ? std::pow(10.0, plot_value) : plot_value;
  char buf[32];
  if (v != 0 && (std::abs(v) >= 1e5 || std::abs(v) < 1e-3)) {
    if (log && std::abs(plot_value - std::round(plot_value)) < 1e-9) {
      std::snprintf(buf, sizeof buf, "1e%d", static_cast<int>(std::lround(plot_value)));
    } else {
      std::snprintf(buf, sizeof buf, "%.3g", v);
    }
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

[[noreturn]] void bad(const std::string& path, const std::string& what, const std::string& value,
                      const std::string& expected) {
  throw InputError(path, what, value, expected);
}

std::string number(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

}  // namespace

void write_plot_png(const std::string& path, const PlotSpec& spec,
                    const std::vector<PlotSeries>& series) {
  if (spec.width < 200 || spec.height < 150 || spec.width > 8000 || spec.height > 8000)
    bad(path, "plot size", std::to_string(spec.width) + " x " + std::to_string(spec.height),
        "between 200 x 150 and 8000 x 8000 pixels");
  double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
  std::size_t points = 0;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const PlotSeries& ser = series[s];
    const std::string name = "series " + std::to_string(s) + " (" + ser.label + ")";
    if (ser.x.size() != ser.y.size())
      bad(path, name,
          std::to_string(ser.x.size()) + " x and " + std::to_string(ser.y.size()) + " y",
          "as many x as y values");
    for (std::size_t i = 0; i < ser.x.size(); ++i) {
      const double x = ser.x[i], y = ser.y[i];
      const std::string at = name + " point " + std::to_string(i);
      if (!std::isfinite(x) || !std::isfinite(y))
        bad(path, at, "(" + number(x) + ", " + number(y) + ")", "finite x and y");
      if (spec.log_x && !(x > 0)) bad(path, at + " x", number(x), "x > 0 on a logarithmic x axis");
      if (spec.log_y && !(y > 0)) bad(path, at + " y", number(y), "y > 0 on a logarithmic y axis");
      xlo = std::min(xlo, x);
      xhi = std::max(xhi, x);
      ylo = std::min(ylo, y);
      yhi = std::max(yhi, y);
      ++points;
    }
  }
  if (points == 0) bad(path, "series", "no data points", "at least one series with points");

  const Axis ax = make_axis(xlo, xhi, spec.log_x);
  const Axis ay = make_axis(ylo, yhi, spec.log_y);

  const Rgb black{0, 0, 0}, grey{225, 225, 225}, white{255, 255, 255};
  Canvas cv;
  cv.im = RgbImage(spec.width, spec.height);

  // Plot area: room on the left for the y tick labels and label, below for the x ones.
  int ylabel_w = 0;
  for (double t : ay.ticks) ylabel_w = std::max(ylabel_w, cv.text_width(tick_label(t, ay.log)));
  const int left = 14 + kTextHeight + 10 + ylabel_w + 8;
  const int right = spec.width - 24;
  const int top = spec.title.empty() ? 20 : 20 + kTextHeight + 12;
  const int bottom = spec.height - (8 + kTextHeight + 10 + kTextHeight + 14);
  const auto X = [&](double v) {
    return left + static_cast<int>(
                      std::lround((ax.to_unit(v) - ax.lo) / (ax.hi - ax.lo) * (right - left)));
  };
  const auto Y = [&](double v) {
    return bottom - static_cast<int>(
                        std::lround((ay.to_unit(v) - ay.lo) / (ay.hi - ay.lo) * (bottom - top)));
  };
  const auto Xu = [&](double u) {
    return left + static_cast<int>(std::lround((u - ax.lo) / (ax.hi - ax.lo) * (right - left)));
  };
  const auto Yu = [&](double u) {
    return bottom - static_cast<int>(std::lround((u - ay.lo) / (ay.hi - ay.lo) * (bottom - top)));
  };

  // Grid, ticks and tick labels.
  for (double t : ax.ticks) {
    const int x = Xu(t);
    cv.line(x, top, x, bottom, grey);
    cv.line(x, bottom, x, bottom + 5, black);
    const std::string l = tick_label(t, ax.log);
    cv.text(x - cv.text_width(l) / 2, bottom + 9, l, black);
  }
  for (double t : ay.ticks) {
    const int y = Yu(t);
    cv.line(left, y, right, y, grey);
    cv.line(left - 5, y, left, y, black);
    const std::string l = tick_label(t, ay.log);
    cv.text(left - 8 - cv.text_width(l), y - kTextHeight / 2, l, black);
  }
  cv.rect(left, top, right, bottom, black);

  // Labels and title.
  if (!spec.x_label.empty())
    cv.text((left + right - cv.text_width(spec.x_label)) / 2, spec.height - 8 - kTextHeight,
            spec.x_label, black);
  if (!spec.y_label.empty())
    cv.text(14, (top + bottom + cv.text_width(spec.y_label)) / 2, spec.y_label, black, true);
  if (!spec.title.empty())
    cv.text((spec.width - cv.text_width(spec.title)) / 2, 14, spec.title, black);

  // Data. The axes span every point, so lines stay inside the frame; markers on its edge may
  // overlap it by their half-width.
  for (const PlotSeries& ser : series) {
    if (ser.points) {
      for (std::size_t i = 0; i < ser.x.size(); ++i) {
        const int x = X(ser.x[i]), y = Y(ser.y[i]);
        cv.rect(x - 3, y - 3, x + 3, y + 3, ser.color);
        cv.rect(x - 2, y - 2, x + 2, y + 2, ser.color);
      }
    } else {
      for (std::size_t i = 1; i < ser.x.size(); ++i)
        cv.line(X(ser.x[i - 1]), Y(ser.y[i - 1]), X(ser.x[i]), Y(ser.y[i]), ser.color, 2);
      if (ser.x.size() == 1)
        cv.fill(X(ser.x[0]) - 1, Y(ser.y[0]) - 1, X(ser.x[0]) + 1, Y(ser.y[0]) + 1, ser.color);
    }
  }

  // Legend: top right inside the plot area, one row per labelled series.
  int rows = 0, lw = 0;
  for (const PlotSeries& ser : series)
    if (!ser.label.empty()) {
      ++rows;
      lw = std::max(lw, cv.text_width(ser.label));
    }
  if (rows > 0) {
    const int row_h = kTextHeight + 8;
    const int w = 8 + 28 + 8 + lw + 8, h = 6 + rows * row_h;
    const int x0 = right - 8 - w, y0 = top + 8;
    cv.fill(x0, y0, x0 + w, y0 + h, white);
    cv.rect(x0, y0, x0 + w, y0 + h, black);
    int r = 0;
    for (const PlotSeries& ser : series) {
      if (ser.label.empty()) continue;
      const int yc = y0 + 6 + r * row_h + kTextHeight / 2;
      if (ser.points) {
        cv.rect(x0 + 8 + 11, yc - 3, x0 + 8 + 17, yc + 3, ser.color);
        cv.rect(x0 + 8 + 12, yc - 2, x0 + 8 + 16, yc + 2, ser.color);
      } else {
        cv.line(x0 + 8, yc, x0 + 8 + 28, yc, ser.color, 2);
      }
      cv.text(x0 + 8 + 28 + 8, yc - kTextHeight / 2, ser.label, black);
      ++r;
    }
  }
  write_png(path, cv.im);
}

}  // namespace cementflow::detail

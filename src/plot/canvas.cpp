// The raster the figures are drawn into: pixels, antialiased lines and discs,
// and text.  Lines and discs are antialiased by coverage: a pixel whose
// centre lies at distance d from the ideal shape's edge gets weight
// clamp(0.5 - d, 0, 1), a one-pixel ramp.
#include <algorithm>
#include <cmath>
#include <string>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace convkit::plot {

Color palette(int i) {
  static const Color kColors[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                  {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
                                  {227, 119, 194}, {127, 127, 127}};
  const int n = static_cast<int>(sizeof kColors / sizeof kColors[0]);
  return kColors[((i % n) + n) % n];
}

Canvas::Canvas(int width, int height, Color background)
    : width_(width), height_(height), cx1_(width), cy1_(height) {
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
    throw UsageError("canvas size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is out of range (1..16384)");
  rgb_.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

Color Canvas::at(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return kWhite;
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Canvas::set_clip(int x0, int y0, int x1, int y1) {
  cx0_ = std::clamp(x0, 0, width_);
  cy0_ = std::clamp(y0, 0, height_);
  cx1_ = std::clamp(x1, cx0_, width_);
  cy1_ = std::clamp(y1, cy0_, height_);
}

void Canvas::set(int x, int y, Color c) {
  if (x < cx0_ || y < cy0_ || x >= cx1_ || y >= cy1_) return;
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

void Canvas::blend(int x, int y, Color c, double alpha) {
  if (x < cx0_ || y < cy0_ || x >= cx1_ || y >= cy1_ || !(alpha > 0)) return;
  if (alpha >= 1) return set(x, y, c);
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  auto mix = [alpha](std::uint8_t old, std::uint8_t v) {
    return static_cast<std::uint8_t>(std::lround(old + alpha * (static_cast<double>(v) - old)));
  };
  rgb_[i] = mix(rgb_[i], c.r);
  rgb_[i + 1] = mix(rgb_[i + 1], c.g);
  rgb_[i + 2] = mix(rgb_[i + 2], c.b);
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Color c, double alpha) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, width_);
  y1 = std::min(y1, height_);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) blend(x, y, c, alpha);
}

void Canvas::line(double x0, double y0, double x1, double y1, Color c, double thickness) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1))
    return;
  const double r = std::max(thickness, 0.5) / 2;
  // Clip the bounding box to the canvas (lines far outside cost nothing).
  const int bx0 = std::max(0, static_cast<int>(std::floor(std::min(x0, x1) - r - 1)));
  const int bx1 = std::min(width_ - 1, static_cast<int>(std::ceil(std::max(x0, x1) + r + 1)));
  const int by0 = std::max(0, static_cast<int>(std::floor(std::min(y0, y1) - r - 1)));
  const int by1 = std::min(height_ - 1, static_cast<int>(std::ceil(std::max(y0, y1) + r + 1)));
  if (bx0 > bx1 || by0 > by1) return;
  const double dx = x1 - x0, dy = y1 - y0;
  const double len2 = dx * dx + dy * dy;
  for (int y = by0; y <= by1; ++y) {
    for (int x = bx0; x <= bx1; ++x) {
      double t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0.0;
      t = std::clamp(t, 0.0, 1.0);
      const double px = x0 + t * dx - x, py = y0 + t * dy - y;
      const double d = std::sqrt(px * px + py * py) - r;
      const double cover = std::clamp(0.5 - d, 0.0, 1.0);
      if (cover > 0) {
        // Keep the darkest coverage when segments of one polyline overlap.
        blend(x, y, c, cover);
      }
    }
  }
}

void Canvas::polyline(const std::vector<double>& xs, const std::vector<double>& ys, Color c,
                      double thickness, bool dashed) {
  const std::size_t n = std::min(xs.size(), ys.size());
  if (n == 1) return disc(xs[0], ys[0], thickness / 2, c);
  const double period = 6 * std::max(thickness, 1.0);
  double phase = 0;  // distance along the line, for dashes
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double dx = xs[i + 1] - xs[i], dy = ys[i + 1] - ys[i];
    const double len = std::sqrt(dx * dx + dy * dy);
    if (!std::isfinite(len)) continue;
    if (!dashed || len == 0) {
      line(xs[i], ys[i], xs[i + 1], ys[i + 1], c, thickness);
      continue;
    }
    // Split the segment into "on" pieces: on for [0, period), off for [period, 2*period).
    double s = 0;
    while (s < len) {
      const double cyc = std::fmod(phase + s, 2 * period);
      const bool on = cyc < period;
      const double step = std::min(len - s, (on ? period : 2 * period) - cyc);
      if (on) {
        const double a = s / len, b = (s + step) / len;
        line(xs[i] + a * dx, ys[i] + a * dy, xs[i] + b * dx, ys[i] + b * dy, c, thickness);
      }
      s += std::max(step, 1e-9);
    }
    phase += len;
  }
}

void Canvas::disc(double cx, double cy, double radius, Color c, double alpha) {
  if (!std::isfinite(cx) || !std::isfinite(cy)) return;
  const int x0 = std::max(0, static_cast<int>(std::floor(cx - radius - 1)));
  const int x1 = std::min(width_ - 1, static_cast<int>(std::ceil(cx + radius + 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(cy - radius - 1)));
  const int y1 = std::min(height_ - 1, static_cast<int>(std::ceil(cy + radius + 1)));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double d = std::hypot(x - cx, y - cy) - radius;
      const double cover = std::clamp(0.5 - d, 0.0, 1.0);
      if (cover > 0) blend(x, y, c, cover * alpha);
    }
}

namespace {

// stb_easy_font only knows printable ASCII; anything else becomes '?'.
std::string printable(std::string_view s) {
  std::string t(s);
  for (char& ch : t)
    if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
  return t;
}

}  // namespace

int Canvas::text_width(std::string_view s, int scale) {
  std::string t = printable(s);
  // The advance of the last glyph includes one column of spacing.
  return t.empty() ? 0 : (stb_easy_font_width(t.data()) - 1) * scale;
}

int Canvas::text_height(int scale) { return 9 * scale; }

void Canvas::text(int x, int y, std::string_view s, Color c, int scale, Align align,
                  bool vertical) {
  std::string t = printable(s);
  if (t.empty()) return;
  scale = std::max(scale, 1);
  const int w = text_width(t, scale);
  int shift = align == Align::left ? 0 : align == Align::center ? w / 2 : w;
  // Quads in font units, relative to the string's top-left corner.
  std::vector<char> buf(t.size() * 64 * 24 + 64);  // at most ~20 quads per glyph
  const int quads = stb_easy_font_print(0, 0, t.data(), nullptr, buf.data(),
                                        static_cast<int>(buf.size()));
  for (int q = 0; q < quads; ++q) {
    float v[4][4];
    for (int k = 0; k < 4; ++k)
      std::copy_n(reinterpret_cast<const char*>(buf.data()) + (q * 4 + k) * 16, 16,
                  reinterpret_cast<char*>(v[k]));
    float qx0 = v[0][0], qy0 = v[0][1], qx1 = v[0][0], qy1 = v[0][1];
    for (int k = 1; k < 4; ++k) {
      qx0 = std::min(qx0, v[k][0]);
      qx1 = std::max(qx1, v[k][0]);
      qy0 = std::min(qy0, v[k][1]);
      qy1 = std::max(qy1, v[k][1]);
    }
    const int ax0 = static_cast<int>(qx0) * scale, ax1 = static_cast<int>(qx1) * scale;
    const int ay0 = static_cast<int>(qy0) * scale, ay1 = static_cast<int>(qy1) * scale;
    if (!vertical) {
      fill_rect(x - shift + ax0, y + ay0, x - shift + ax1, y + ay1, c);
    } else {
      // Rotate 90 degrees counter-clockwise: text x runs upwards, text y to the right.
      const int base = y + shift;  // where the string starts (bottom end)
      fill_rect(x + ay0, base - ax1, x + ay1, base - ax0, c);
    }
  }
}

}  // namespace convkit::plot

// Figures: panels laid out in a grid, each with axes, ticks, labels, legend.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"

namespace convkit::plot {

// ---- ticks -------------------------------------------------------------------

double nice_step(double lo, double hi, int target) {
  target = std::max(target, 2);
  double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) span = std::max(std::abs(lo), 1.0);
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return nice * mag;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) return ticks;
  const double step = nice_step(lo, hi, target);
  const double eps = step * 1e-9;
  const double first = std::ceil((lo - eps) / step);
  for (double k = first;; k += 1) {
    double v = k * step;
    if (v > hi + eps || ticks.size() > 1000) break;
    if (std::abs(v) < eps) v = 0;
    ticks.push_back(v);
  }
  return ticks;
}

std::string tick_label(double v, double step) {
  char buf[64];
  if (std::abs(v) < step * 1e-9) v = 0;
  const double a = std::abs(v);
  if (a != 0 && (a >= 1e6 || step < 1e-4)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);
  return s;
}

// ---- statistics helpers ------------------------------------------------------------

EllipseAxes covariance_ellipse(double sxx, double sxy, double syy, double k) {
  // Eigenvalues of [sxx sxy; sxy syy]: m +- r with m the mean of the diagonal.
  const double m = (sxx + syy) / 2;
  const double r = std::hypot((sxx - syy) / 2, sxy);
  const double l1 = m + r, l2 = std::max(m - r, 0.0);
  EllipseAxes e;
  e.semi_major = k * std::sqrt(std::max(l1, 0.0));
  e.semi_minor = k * std::sqrt(l2);
  e.angle = (sxy == 0 && sxx >= syy) ? 0.0 : 0.5 * std::atan2(2 * sxy, sxx - syy);
  return e;
}

int auto_bins(std::size_t n) {
  const double b = 2.0 * std::cbrt(static_cast<double>(n));  // Rice rule
  return static_cast<int>(std::clamp(b, 10.0, 80.0));
}

HistogramSeries density_histogram(const std::vector<double>& values, int bins, double lo,
                                  double hi) {
  if (bins < 1) throw UsageError("histogram needs at least one bin");
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  HistogramSeries h;
  h.edges.resize(bins + 1);
  for (int i = 0; i <= bins; ++i) h.edges[i] = lo + (hi - lo) * i / bins;
  h.heights.assign(bins, 0.0);
  std::size_t counted = 0;
  for (double v : values) {
    if (!(v >= lo && v <= hi)) continue;
    int b = static_cast<int>((v - lo) / (hi - lo) * bins);
    b = std::clamp(b, 0, bins - 1);
    h.heights[b] += 1;
    ++counted;
  }
  const double width = (hi - lo) / bins;
  if (!values.empty())
    for (double& x : h.heights) x /= static_cast<double>(values.size()) * width;
  (void)counted;
  return h;
}

LineSeries gaussian_curve(double mean, double var, double lo, double hi, int points) {
  LineSeries s;
  points = std::max(points, 2);
  const double sd = std::sqrt(std::max(var, 0.0));
  for (int i = 0; i < points; ++i) {
    const double x = lo + (hi - lo) * i / (points - 1);
    const double z = sd > 0 ? (x - mean) / sd : 0;
    s.x.push_back(x);
    s.y.push_back(sd > 0 ? std::exp(-0.5 * z * z) / (sd * std::sqrt(2 * std::numbers::pi)) : 0);
  }
  return s;
}

// ---- figure ------------------------------------------------------------------

Panel& Figure::add_panel(std::string panel_title, std::string xlabel, std::string ylabel) {
  Panel p;
  p.title = std::move(panel_title);
  p.xlabel = std::move(xlabel);
  p.ylabel = std::move(ylabel);
  panels.push_back(std::move(p));
  return panels.back();
}

namespace {

struct Bounds {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  void add_x(double x) {
    if (std::isfinite(x)) x0 = std::min(x0, x), x1 = std::max(x1, x);
  }
  void add_y(double y) {
    if (std::isfinite(y)) y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  void add(double x, double y) {
    if (std::isfinite(x) && std::isfinite(y)) add_x(x), add_y(y);
  }
};

std::vector<double> ellipse_points_x(const EllipseSeries& e, std::vector<double>* ys) {
  const int n = 181;
  std::vector<double> xs(n);
  ys->resize(n);
  const double c = std::cos(e.angle), s = std::sin(e.angle);
  for (int i = 0; i < n; ++i) {
    const double t = 2 * std::numbers::pi * i / (n - 1);
    const double u = e.semi_major * std::cos(t), v = e.semi_minor * std::sin(t);
    xs[i] = e.cx + c * u - s * v;
    (*ys)[i] = e.cy + s * u + c * v;
  }
  return xs;
}

// Widen a degenerate range, then add a relative margin on each side.
void pad_range(double& lo, double& hi, double margin) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0, hi = 1;
    return;
  }
  if (hi - lo <= std::abs(hi) * 1e-12) {
    const double d = std::max(std::abs(lo) * 0.5, 0.5);
    lo -= d, hi += d;
    return;
  }
  const double m = (hi - lo) * margin;
  lo -= m, hi += m;
}

struct Axes {
  double xlo, xhi, ylo, yhi;
  int px0, py0, px1, py1;  // plot rectangle, inclusive pixel bounds
  double X(double x) const { return px0 + (x - xlo) / (xhi - xlo) * (px1 - px0); }
  double Y(double y) const { return py1 - (y - ylo) / (yhi - ylo) * (py1 - py0); }
};

struct LegendEntry {
  enum Kind { line, box, dot } kind;
  std::string label;
  Color color;
  bool dashed = false;
};

void draw_panel(Canvas& cv, const Panel& p, int cx0, int cy0, int cx1, int cy1, int fs) {
  const int th = Canvas::text_height(fs);
  const int pad = 6 * fs, tick = 4 * fs, gap = 4 * fs;

  // Data bounds.
  Bounds b;
  bool has_hist = false, has_stem = false;
  for (const auto& h : p.histograms) {
    for (double e : h.edges) b.add_x(e);
    for (double v : h.heights) b.add_y(v);
    b.add_y(0);
    has_hist = true;
  }
  for (const auto& s : p.scatters)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) b.add(s.x[i], s.y[i]);
  for (const auto& s : p.lines)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) b.add(s.x[i], s.y[i]);
  for (const auto& s : p.stems) {
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) b.add(s.x[i], s.y[i]);
    b.add_y(0);
    has_stem = true;
  }
  for (const auto& e : p.ellipses) {
    const double c = std::cos(e.angle), s = std::sin(e.angle);
    const double hw = std::hypot(e.semi_major * c, e.semi_minor * s);
    const double hh = std::hypot(e.semi_major * s, e.semi_minor * c);
    b.add(e.cx - hw, e.cy - hh);
    b.add(e.cx + hw, e.cy + hh);
  }
  for (const auto& v : p.vlines) b.add_x(v.x);

  double xlo = b.x0, xhi = b.x1, ylo = b.y0, yhi = b.y1;
  if (has_stem && std::isfinite(xlo)) {
    xlo -= 0.7, xhi += 0.7;  // room for the first and last stem
  } else {
    pad_range(xlo, xhi, has_hist ? 0.02 : 0.04);
  }
  const bool y_from_zero = (has_hist || has_stem) && std::isfinite(ylo) && ylo >= 0;
  pad_range(ylo, yhi, 0.06);
  if (y_from_zero) ylo = 0;
  if (p.xmin) xlo = *p.xmin;
  if (p.xmax) xhi = *p.xmax;
  if (p.ymin) ylo = *p.ymin;
  if (p.ymax) yhi = *p.ymax;
  if (!(xhi > xlo)) pad_range(xlo, xhi, 0);
  if (!(yhi > ylo)) pad_range(ylo, yhi, 0);

  // Layout: title on top; y tick labels and label on the left; x below.
  const int top = cy0 + pad + (p.title.empty() ? 0 : th + 2 * gap);
  const int bottom = cy1 - pad - th - tick - gap - (p.xlabel.empty() ? 0 : th + 2 * gap);
  const int ph_est = std::max(bottom - top, 10);
  const int ytarget = std::clamp(ph_est / (28 * fs), 3, 8);
  std::vector<double> yt = nice_ticks(ylo, yhi, ytarget);
  double ystep = nice_step(ylo, yhi, ytarget);
  int ylab_w = 0;
  for (double v : yt) ylab_w = std::max(ylab_w, Canvas::text_width(tick_label(v, ystep), fs));
  const int left = cx0 + pad + (p.ylabel.empty() ? 0 : th + 2 * gap) + ylab_w + tick + gap;
  const int right = cx1 - pad - 4 * fs;
  Axes ax{xlo, xhi, ylo, yhi, left, top, std::max(right, left + 10), std::max(bottom, top + 10)};

  if (p.equal_aspect) {
    const double ux = (ax.xhi - ax.xlo) / (ax.px1 - ax.px0);  // units per pixel
    const double uy = (ax.yhi - ax.ylo) / (ax.py1 - ax.py0);
    if (ux > uy) {
      const double mid = (ax.ylo + ax.yhi) / 2, half = ux * (ax.py1 - ax.py0) / 2;
      ax.ylo = mid - half, ax.yhi = mid + half;
    } else {
      const double mid = (ax.xlo + ax.xhi) / 2, half = uy * (ax.px1 - ax.px0) / 2;
      ax.xlo = mid - half, ax.xhi = mid + half;
    }
    yt = nice_ticks(ax.ylo, ax.yhi, ytarget);
    ystep = nice_step(ax.ylo, ax.yhi, ytarget);
  }
  const int xtarget = std::clamp((ax.px1 - ax.px0) / (50 * fs), 4, 10);
  double xstep = nice_step(ax.xlo, ax.xhi, xtarget);
  std::vector<double> xt;
  if (p.integer_x && xstep < 1) {
    xstep = 1;
    for (double v = std::ceil(ax.xlo); v <= ax.xhi; v += 1) xt.push_back(v);
  } else {
    xt = nice_ticks(ax.xlo, ax.xhi, xtarget);
  }

  // Grid, then the data (clipped to the plot rectangle), then the frame.
  for (double v : xt) cv.fill_rect(static_cast<int>(std::lround(ax.X(v))), ax.py0,
                                   static_cast<int>(std::lround(ax.X(v))) + 1, ax.py1 + 1, kGrid);
  for (double v : yt) cv.fill_rect(ax.px0, static_cast<int>(std::lround(ax.Y(v))), ax.px1 + 1,
                                   static_cast<int>(std::lround(ax.Y(v))) + 1, kGrid);

  cv.set_clip(ax.px0, ax.py0, ax.px1 + 1, ax.py1 + 1);
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> occupied;  // pixels with data, for the legend corner
  for (const auto& h : p.histograms) {
    const Color edge{static_cast<std::uint8_t>(h.color.r * 0.7),
                     static_cast<std::uint8_t>(h.color.g * 0.7),
                     static_cast<std::uint8_t>(h.color.b * 0.7)};
    for (std::size_t i = 0; i + 1 < h.edges.size() && i < h.heights.size(); ++i) {
      const int x0 = static_cast<int>(std::lround(ax.X(h.edges[i])));
      const int x1 = static_cast<int>(std::lround(ax.X(h.edges[i + 1])));
      const int y0 = static_cast<int>(std::lround(ax.Y(h.heights[i])));
      const int y1 = static_cast<int>(std::lround(ax.Y(std::max(ax.ylo, 0.0))));
      cv.fill_rect(x0, std::min(y0, y1), x1, std::max(y0, y1) + 1, h.color, h.alpha);
      cv.fill_rect(x0, y0, x1 + 1, y0 + 1, edge, 0.8);
      occupied.push_back({(x0 + x1) / 2.0, static_cast<double>(y0)});
    }
    if (!h.label.empty()) legend.push_back({LegendEntry::box, h.label, h.color});
  }
  for (const auto& s : p.scatters) {
    const double r = s.radius * fs / 2 + 0.5;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      cv.disc(ax.X(s.x[i]), ax.Y(s.y[i]), r, s.color, s.alpha);
      if (i % 8 == 0) occupied.push_back({ax.X(s.x[i]), ax.Y(s.y[i])});
    }
    if (!s.label.empty()) legend.push_back({LegendEntry::dot, s.label, s.color});
  }
  for (const auto& e : p.ellipses) {
    std::vector<double> ys;
    std::vector<double> xs = ellipse_points_x(e, &ys);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      xs[i] = ax.X(xs[i]);
      ys[i] = ax.Y(ys[i]);
      occupied.push_back({xs[i], ys[i]});
    }
    cv.polyline(xs, ys, e.color, e.width * fs / 2 + 0.5, e.dashed);
    if (e.show_center) {
      const double x = ax.X(e.cx), y = ax.Y(e.cy), a = 5.0 * fs;
      cv.line(x - a, y, x + a, y, e.color, fs + 0.5);
      cv.line(x, y - a, x, y + a, e.color, fs + 0.5);
    }
    if (!e.label.empty()) legend.push_back({LegendEntry::line, e.label, e.color, e.dashed});
  }
  for (const auto& s : p.lines) {
    std::vector<double> xs, ys;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      xs.push_back(ax.X(s.x[i]));
      ys.push_back(ax.Y(s.y[i]));
      occupied.push_back({xs.back(), ys.back()});
    }
    cv.polyline(xs, ys, s.color, s.width * fs / 2 + 0.5, s.dashed);
    if (s.markers)
      for (std::size_t i = 0; i < xs.size(); ++i) cv.disc(xs[i], ys[i], 2.5 * fs, s.color);
    if (!s.label.empty()) legend.push_back({LegendEntry::line, s.label, s.color, s.dashed});
  }
  if (has_stem && ax.ylo <= 0 && ax.yhi >= 0) {
    const double y = ax.Y(0);
    cv.line(ax.px0, y, ax.px1, y, Color{90, 90, 90}, 1.0);
  }
  for (const auto& s : p.stems) {
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const double x = ax.X(s.x[i]), y = ax.Y(s.y[i]), y0 = ax.Y(0);
      cv.line(x, y0, x, y, s.color, 0.75 * fs + 0.5);
      cv.disc(x, y, 2.8 * fs, s.color);
      occupied.push_back({x, y});
      occupied.push_back({x, (y + y0) / 2});
    }
    if (!s.label.empty()) legend.push_back({LegendEntry::dot, s.label, s.color});
  }
  for (const auto& v : p.vlines) {
    const double x = ax.X(v.x);
    std::vector<double> xs{x, x}, ys{static_cast<double>(ax.py0), static_cast<double>(ax.py1)};
    cv.polyline(xs, ys, v.color, fs + 0.25, v.dashed);
    if (!v.label.empty()) {
      const int w = Canvas::text_width(v.label, fs);
      const bool room_right = x + gap + w < ax.px1;
      const int tx = static_cast<int>(x) + (room_right ? gap : -gap - w);
      cv.text(tx, ax.py0 + gap, v.label, v.color, fs);
      // Keep the legend off the label: mark its box as occupied, heavily.
      for (int yy = ax.py0; yy <= ax.py0 + 2 * gap + th; yy += 2)
        for (int xx = tx - gap; xx <= tx + w + gap; xx += 2) occupied.push_back({xx, yy});
    }
  }
  cv.reset_clip();

  // Frame, ticks and tick labels.
  const Color frame{40, 40, 40};
  const int lw = fs;  // frame line width
  cv.fill_rect(ax.px0 - lw, ax.py0 - lw, ax.px1 + 1 + lw, ax.py0, frame);
  cv.fill_rect(ax.px0 - lw, ax.py1 + 1, ax.px1 + 1 + lw, ax.py1 + 1 + lw, frame);
  cv.fill_rect(ax.px0 - lw, ax.py0, ax.px0, ax.py1 + 1, frame);
  cv.fill_rect(ax.px1 + 1, ax.py0, ax.px1 + 1 + lw, ax.py1 + 1, frame);
  int last_label_end = -1 << 30;
  for (double v : xt) {
    const int x = static_cast<int>(std::lround(ax.X(v)));
    cv.fill_rect(x, ax.py1 + 1, x + lw, ax.py1 + 1 + lw + tick, frame);
    const std::string s = tick_label(v, xstep);
    const int w = Canvas::text_width(s, fs);
    if (x - w / 2 <= last_label_end + gap) continue;  // would collide with the previous label
    cv.text(x, ax.py1 + 1 + lw + tick + gap, s, kBlack, fs, Canvas::Align::center);
    last_label_end = x + w - w / 2;
  }
  for (double v : yt) {
    const int y = static_cast<int>(std::lround(ax.Y(v)));
    cv.fill_rect(ax.px0 - lw - tick, y, ax.px0 - lw, y + lw, frame);
    cv.text(ax.px0 - lw - tick - gap, y - th / 2 + fs, tick_label(v, ystep), kBlack, fs,
            Canvas::Align::right);
  }
  const int xmid = (ax.px0 + ax.px1) / 2;
  if (!p.title.empty()) cv.text(xmid, cy0 + pad, p.title, kBlack, fs, Canvas::Align::center);
  if (!p.xlabel.empty())
    cv.text(xmid, ax.py1 + 1 + lw + tick + gap + th + 2 * gap, p.xlabel, kBlack, fs,
            Canvas::Align::center);
  if (!p.ylabel.empty())
    cv.text(cx0 + pad, (ax.py0 + ax.py1) / 2, p.ylabel, kBlack, fs, Canvas::Align::center, true);

  // Legend in the corner of the plot with the least data under it.
  if (!p.legend || legend.empty()) return;
  const int sw = 22 * fs, row = th + 3 * gap / 2;
  int lw_text = 0;
  for (const auto& e : legend) lw_text = std::max(lw_text, Canvas::text_width(e.label, fs));
  const int bw = gap + sw + gap + lw_text + 2 * gap;
  const int bh = gap + row * static_cast<int>(legend.size()) + gap / 2;
  if (bw > ax.px1 - ax.px0 - 2 * gap || bh > ax.py1 - ax.py0 - 2 * gap) return;  // no room
  int best = 0;
  std::size_t best_count = std::numeric_limits<std::size_t>::max();
  for (int corner = 0; corner < 4; ++corner) {  // top-right, top-left, bottom-right, bottom-left
    const int bx = (corner % 2 == 0) ? ax.px1 - gap - bw : ax.px0 + gap;
    const int by = (corner < 2) ? ax.py0 + gap : ax.py1 - gap - bh;
    std::size_t count = 0;
    for (const auto& [x, y] : occupied)
      if (x >= bx && x <= bx + bw && y >= by && y <= by + bh) ++count;
    if (count < best_count) best_count = count, best = corner;
  }
  const int bx = (best % 2 == 0) ? ax.px1 - gap - bw : ax.px0 + gap;
  const int by = (best < 2) ? ax.py0 + gap : ax.py1 - gap - bh;
  cv.fill_rect(bx, by, bx + bw, by + bh, kWhite, 0.88);
  const Color border{160, 160, 160};
  cv.fill_rect(bx, by, bx + bw, by + 1, border);
  cv.fill_rect(bx, by + bh - 1, bx + bw, by + bh, border);
  cv.fill_rect(bx, by, bx + 1, by + bh, border);
  cv.fill_rect(bx + bw - 1, by, bx + bw, by + bh, border);
  for (std::size_t i = 0; i < legend.size(); ++i) {
    const auto& e = legend[i];
    const int ty = by + gap + static_cast<int>(i) * row;
    const int my = ty + th / 2 - fs / 2;
    const int sx = bx + gap;
    switch (e.kind) {
      case LegendEntry::line: {
        std::vector<double> xs{static_cast<double>(sx), static_cast<double>(sx + sw)};
        std::vector<double> ys{static_cast<double>(my), static_cast<double>(my)};
        cv.polyline(xs, ys, e.color, fs + 0.5, e.dashed);
        break;
      }
      case LegendEntry::box:
        cv.fill_rect(sx, ty, sx + sw, ty + th, e.color, 0.6);
        break;
      case LegendEntry::dot:
        cv.disc(sx + sw / 2.0, my, 3.0 * fs, e.color);
        break;
    }
    cv.text(sx + sw + gap, ty, e.label, kBlack, fs);
  }
}

}  // namespace

Canvas Figure::render() const {
  if (width < 64 || height < 48 || width > 8192 || height > 8192)
    throw UsageError("plot size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is out of range (64x48 to 8192x8192)");
  const int fs = font_scale > 0 ? std::min(font_scale, 8)
                                : (width >= 560 && height >= 320 ? 2 : 1);
  Canvas cv(width, height);
  int y0 = 0;
  if (!title.empty()) {
    cv.text(width / 2, 8 * fs, title, kBlack, fs, Canvas::Align::center);
    y0 = 8 * fs + Canvas::text_height(fs) + 2 * fs;
  }
  const int n = static_cast<int>(panels.size());
  if (n == 0) return cv;
  const int cols = columns > 0 ? std::min(columns, n) : n;
  const int rows = (n + cols - 1) / cols;
  const int cw = width / cols, ch = (height - y0) / rows;
  for (int i = 0; i < n; ++i) {
    const int c = i % cols, r = i / cols;
    draw_panel(cv, panels[i], c * cw, y0 + r * ch, (c + 1) * cw - 1, y0 + (r + 1) * ch - 1, fs);
  }
  return cv;
}

}  // namespace convkit::plot

// [plot] the plotting library: ticks, ellipses, histograms, the raster, PNG
// output (decoded by OpenCV), figures, stem plots and terminal charts.
#include <doctest/doctest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"
#include "support/run.hpp"

using namespace convkit;
using namespace convkit::plot;

namespace {

// Write through save_png (write_image) and read back with OpenCV.
cv::Mat decode(const Canvas& c) {
  static int k = 0;
  const std::string path = convkit::test::temp_dir() + "/p" + std::to_string(k++) + ".png";
  save_png(c, path);
  return cv::imread(path, cv::IMREAD_UNCHANGED);
}

// Display width of UTF-8 text: count code points (all ours are one column wide).
int display_width(const std::string& line) {
  int n = 0;
  for (unsigned char c : line)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p < s.size()) {
    const auto nl = s.find('\n', p);
    out.push_back(s.substr(p, nl - p));
    p = nl + 1;
  }
  return out;
}

bool dark(const cv::Vec3b& v) { return v[0] < 80 && v[1] < 80 && v[2] < 80; }

// Longest run of dark pixels in any column and in any row.
std::pair<int, int> longest_dark_runs(const cv::Mat& m) {
  int best_v = 0, best_h = 0;
  for (int x = 0; x < m.cols; ++x) {
    int run = 0;
    for (int y = 0; y < m.rows; ++y) {
      run = dark(m.at<cv::Vec3b>(y, x)) ? run + 1 : 0;
      best_v = std::max(best_v, run);
    }
  }
  for (int y = 0; y < m.rows; ++y) {
    int run = 0;
    for (int x = 0; x < m.cols; ++x) {
      run = dark(m.at<cv::Vec3b>(y, x)) ? run + 1 : 0;
      best_h = std::max(best_h, run);
    }
  }
  return {best_v, best_h};
}

}  // namespace

TEST_CASE("[plot] nice ticks are multiples of 1, 2 or 5 times a power of ten inside the range") {
  std::mt19937 g(5);
  std::uniform_real_distribution<double> u(-1000, 1000), l(-6, 6);
  for (int t = 0; t < 300; ++t) {
    // Spans from 1e-6 to 1e6, offsets up to 1e6 spans from zero.
    const double span = std::pow(10.0, l(g));
    const double lo = u(g) * span * std::pow(10.0, l(g)) / 1000;
    const double hi = lo + span;
    const auto ticks = nice_ticks(lo, hi, 6);
    REQUIRE(ticks.size() >= 2);
    CHECK(ticks.size() <= 13);
    const double step = nice_step(lo, hi, 6);
    CHECK(ticks[1] - ticks[0] == doctest::Approx(step).epsilon(1e-6));
    const double mant = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    CHECK((std::abs(mant - 1) < 1e-6 || std::abs(mant - 2) < 1e-6 || std::abs(mant - 5) < 1e-6));
    for (double v : ticks) {
      CHECK(v >= lo - 1e-9 * step);
      CHECK(v <= hi + 1e-9 * step);
      CHECK(std::abs(v / step - std::round(v / step)) < 1e-6 + 1e-9 * std::abs(v / step));
    }
  }
  const std::vector<double> want{0, 2, 4, 6, 8, 10};
  const auto t = nice_ticks(0, 10, 5);
  REQUIRE(t.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(t[i] == doctest::Approx(want[i]));
}

TEST_CASE("[plot] tick labels have just enough decimals and no negative zero") {
  CHECK(tick_label(0.30000000000000004, 0.1) == "0.3");
  CHECK(tick_label(-1e-17, 0.2) == "0.0");
  CHECK(tick_label(-1e-17, 1) == "0");
  CHECK(tick_label(12, 2) == "12");
  CHECK(tick_label(0.05, 0.05) == "0.05");
  CHECK(tick_label(-2.5, 0.5) == "-2.5");
}

TEST_CASE("[plot] covariance ellipse axes are k times the square roots of the eigenvalues") {
  std::mt19937 g(11);
  std::uniform_real_distribution<double> u(-2, 2);
  for (int t = 0; t < 50; ++t) {
    // A random covariance A A^T.
    const double a = u(g), b = u(g), c = u(g), d = u(g);
    const double sxx = a * a + b * b, sxy = a * c + b * d, syy = c * c + d * d;
    cv::Mat C = (cv::Mat_<double>(2, 2) << sxx, sxy, sxy, syy), vals, vecs;
    cv::eigen(C, vals, vecs);  // descending
    for (double k : {1.0, 2.0}) {
      const EllipseAxes e = covariance_ellipse(sxx, sxy, syy, k);
      CHECK(e.semi_major == doctest::Approx(k * std::sqrt(vals.at<double>(0))).epsilon(1e-9));
      CHECK(e.semi_minor ==
            doctest::Approx(k * std::sqrt(std::max(vals.at<double>(1), 0.0))).epsilon(1e-6));
      // The major axis direction is the first eigenvector (up to sign).
      const double dot = std::cos(e.angle) * vecs.at<double>(0, 0) +
                         std::sin(e.angle) * vecs.at<double>(0, 1);
      if (vals.at<double>(0) - vals.at<double>(1) > 1e-6) CHECK(std::abs(dot) == doctest::Approx(1));
    }
  }
  // The seed's 1(b) covariance [1 0.8; 0.8 1]: axes sqrt(1.8), sqrt(0.2) at 45 degrees.
  const EllipseAxes e = covariance_ellipse(1, 0.8, 1, 2);
  CHECK(e.semi_major == doctest::Approx(2 * std::sqrt(1.8)));
  CHECK(e.semi_minor == doctest::Approx(2 * std::sqrt(0.2)));
  CHECK(e.angle == doctest::Approx(std::atan(1.0)));
}

TEST_CASE("[plot] a density histogram has area one and the Gaussian curve peaks at 1/(sd sqrt(2 pi))") {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::sin(i * 0.37) * 3);
  const HistogramSeries h = density_histogram(v, 25, -3, 3);
  double area = 0;
  for (std::size_t i = 0; i < h.heights.size(); ++i) area += h.heights[i] * (h.edges[i + 1] - h.edges[i]);
  CHECK(area == doctest::Approx(1.0));
  const LineSeries g = gaussian_curve(3, 0.25, 1, 5, 201);
  CHECK(g.y[100] == doctest::Approx(1 / (0.5 * std::sqrt(2 * M_PI))));
  CHECK(g.x[100] == doctest::Approx(3));
}

TEST_CASE("[plot] the canvas draws lines, clips, and saves a PNG OpenCV decodes identically") {
  Canvas c(50, 30);
  c.line(5, 10, 45, 10, Color{255, 0, 0}, 1);
  CHECK(c.at(20, 10) == Color{255, 0, 0});
  CHECK(c.at(20, 20) == kWhite);
  c.set_clip(0, 0, 10, 30);
  c.line(0, 20, 49, 20, Color{0, 0, 255}, 1);
  c.reset_clip();
  CHECK(c.at(5, 20) == Color{0, 0, 255});
  CHECK(c.at(30, 20) == kWhite);
  const cv::Mat m = decode(c);
  REQUIRE(!m.empty());
  CHECK(m.cols == 50);
  CHECK(m.rows == 30);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 50; ++x) {
      const cv::Vec3b bgr = m.at<cv::Vec3b>(y, x);
      const Color px = c.at(x, y);
      CHECK_MESSAGE((bgr[2] == px.r && bgr[1] == px.g && bgr[0] == px.b), x << "," << y);
    }
}

TEST_CASE("[plot] text covers exactly its measured width, also rotated") {
  Canvas c(200, 60);
  const std::string s = "x[n] -0.5";
  c.text(10, 10, s, kBlack, 2);
  int minx = 1000, maxx = -1, miny = 1000, maxy = -1;
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 200; ++x)
      if (c.at(x, y) == kBlack) minx = std::min(minx, x), maxx = std::max(maxx, x),
                                miny = std::min(miny, y), maxy = std::max(maxy, y);
  CHECK(minx == 10);
  CHECK(maxx - minx + 1 <= Canvas::text_width(s, 2));
  CHECK(maxx - minx + 1 >= Canvas::text_width(s, 2) - 6);
  CHECK(miny >= 10);
  CHECK(maxy < 10 + Canvas::text_height(2) + 4);
  Canvas r(60, 200);
  r.text(10, 100, s, kBlack, 2, Canvas::Align::center, true);
  int rminy = 1000, rmaxy = -1;
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 60; ++x)
      if (r.at(x, y) == kBlack) rminy = std::min(rminy, y), rmaxy = std::max(rmaxy, y);
  CHECK(rmaxy - rminy + 1 == maxx - minx + 1);
  CHECK(std::abs((rmaxy + rminy) / 2 - 100) <= 2);
}

TEST_CASE("[plot] a figure renders at the requested size with axes, and rejects absurd sizes") {
  for (auto [w, h] : {std::pair{640, 400}, std::pair{300, 200}, std::pair{1200, 500}}) {
    Figure f;
    f.width = w;
    f.height = h;
    f.title = "curves";
    auto& p = f.add_panel("loss", "epoch", "loss");
    p.lines.push_back({"train", {1, 2, 3, 4}, {2.0, 1.2, 0.8, 0.6}, palette(0)});
    p.lines.push_back({"validation", {1, 2, 3, 4}, {2.1, 1.4, 1.1, 1.0}, palette(1)});
    auto& q = f.add_panel("accuracy", "epoch", "accuracy");
    q.lines.push_back({"train", {1, 2, 3, 4}, {0.5, 0.7, 0.8, 0.85}, palette(0)});
    const cv::Mat m = decode(f.render());
    REQUIRE(!m.empty());
    CHECK(m.cols == w);
    CHECK(m.rows == h);
    // Frames: long straight dark runs, both ways.
    const auto [v, hz] = longest_dark_runs(m);
    CHECK(v > h / 3);
    CHECK(hz > w / 5);
    // Both series colours are present.
    int orange = 0;
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x) {
        const auto px = m.at<cv::Vec3b>(y, x);
        if (px[2] > 200 && px[1] > 90 && px[1] < 160 && px[0] < 60) ++orange;
      }
    CHECK(orange > 20);
  }
  Figure tiny;
  tiny.width = 10;
  tiny.height = 10;
  CHECK_THROWS_AS(tiny.render(), UsageError);
}

TEST_CASE("[plot] a stem plot of the length-7 rect shows seven stems above zero") {
  Signal s;
  s.origin = 0;
  s.values.assign(7, 1.0);
  const cv::Mat m = decode(stem_figure(s, {-2, 8}, {600, 300}).render());
  REQUIRE(!m.empty());
  CHECK(m.cols == 600);
  CHECK(m.rows == 300);
  // The most blue runs crossed by one row: the seven stems (the two zero
  // samples at -2, -1 and the two at 7, 8 have no stem above the axis).
  int best = 0;
  for (int y = 0; y < m.rows; ++y) {
    int runs = 0;
    bool in = false;
    for (int x = 0; x < m.cols; ++x) {
      const auto px = m.at<cv::Vec3b>(y, x);
      const bool blue = px[0] > px[2] + 80;
      if (blue && !in) ++runs;
      in = blue;
    }
    best = std::max(best, runs);
  }
  CHECK(best == 11);  // on the zero line's row all 11 markers show; above it, 7 stems
  int stems_row_max = 0;
  for (int y = 0; y < m.rows / 2; ++y) {
    int runs = 0;
    bool in = false;
    for (int x = 0; x < m.cols; ++x) {
      const auto px = m.at<cv::Vec3b>(y, x);
      const bool blue = px[0] > px[2] + 80;
      if (blue && !in) ++runs;
      in = blue;
    }
    stems_row_max = std::max(stems_row_max, runs);
  }
  CHECK(stems_row_max == 7);
}

TEST_CASE("[plot] index ranges parse A:B and reject nonsense") {
  const IndexRange r = parse_index_range("-6:12");
  CHECK(r.first == -6);
  CHECK(r.last == 12);
  CHECK(parse_index_range("3:3").last == 3);
  for (const char* bad : {"", "5", "5:", ":5", "a:b", "12:-6", "1.5:3", "1:2:3"})
    CHECK_THROWS_AS(parse_index_range(bad), UsageError);
}

TEST_CASE("[plot] the terminal chart fits its width and shows one bar per sample") {
  Signal s;
  s.values.assign(7, 1.0);
  const std::string chart = terminal_plot(s, {-2, 8}, 80, 10);
  const auto lines = lines_of(chart);
  REQUIRE(lines.size() == 12);  // 10 bar rows, the zero line, the index labels
  int widest = 0;
  for (const auto& l : lines) widest = std::max(widest, display_width(l));
  CHECK(widest <= 80);
  CHECK(widest >= 60);  // 11 samples spread over the width
  // Each bar row holds 7 bars (full blocks, each bar the same width).
  const std::string full = "\u2588";
  std::size_t count = 0;
  for (std::size_t p = lines[0].find(full); p != std::string::npos; p = lines[0].find(full, p + 1))
    ++count;
  CHECK(count % 7 == 0);
  CHECK(count > 0);
  CHECK(lines[10].find("0 ") == 0);
  CHECK(lines[11].find("-2") != std::string::npos);
  CHECK(lines[11].find("8") != std::string::npos);

  // A long signal is resampled to fit 40 columns; negative values go below zero.
  Signal w;
  w.origin = -500;
  for (int i = 0; i < 1000; ++i) w.values.push_back(std::sin(i * 0.01));
  const std::string c2 = terminal_plot(w, {-500, 499}, 40, 8, true);
  const auto l2 = lines_of(c2);
  int zero_row = -1;
  for (std::size_t i = 0; i < l2.size(); ++i) {
    CHECK(display_width(l2[i]) <= 40);
    if (l2[i].find("0 +") == 0 || l2[i].find(" 0 +") != std::string::npos) zero_row = static_cast<int>(i);
  }
  REQUIRE(zero_row > 0);
  CHECK(static_cast<int>(l2.size()) - 2 > zero_row);  // rows below zero exist
  CHECK(l2[zero_row + 1].find('#') != std::string::npos);
  CHECK_THROWS_AS(terminal_plot(w, {0, 10}, 20, 8), UsageError);
}

TEST_CASE("[plot] training curves: two panels with train and validation series") {
  TrainingHistory h;
  h.epoch = {1, 2, 3, 4, 5};
  h.train_loss = {1.2, 0.8, 0.6, 0.5, 0.45};
  h.val_loss = {1.3, 0.9, 0.75, 0.7, 0.72};
  h.train_accuracy = {0.6, 0.75, 0.8, 0.84, 0.86};
  h.val_accuracy = {0.58, 0.7, 0.76, 0.78, 0.77};
  Figure f = training_curves(h, {700, 300}, "run 1");
  REQUIRE(f.panels.size() == 2);
  CHECK(f.panels[0].lines.size() == 2);
  CHECK(f.panels[1].lines[1].dashed);
  const Canvas c = f.render();
  CHECK(c.width() == 700);
  CHECK(c.height() == 300);
  h.train_accuracy.clear();
  h.val_accuracy.clear();
  CHECK(training_curves(h).panels.size() == 1);
}

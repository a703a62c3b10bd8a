// [engine] a border value (scipy's cval) and per-axis border rules, in every
// schedule, against OpenCV: the plane is extended by cv::copyMakeBorder (rows
// by one rule, then columns by the other) and correlated by cv::filter2D.
#include <doctest/doctest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "support/cv_border.hpp"

using namespace convkit;
using convkit::test::cv_border;

namespace {

// The extended plane by OpenCV, then a valid correlation with the kernel as
// the engine applies it (flipped for a true convolution), strided.
cv::Mat opencv_answer(const cv::Mat& x, const cv::Mat& k, const ConvGeometry& g) {
  cv::Mat rows, ext, out;
  cv::copyMakeBorder(x, rows, g.pad.top, g.pad.bottom, 0, 0, cv_border(g.border.rows),
                     cv::Scalar::all(g.border.value));
  cv::copyMakeBorder(rows, ext, 0, 0, g.pad.left, g.pad.right, cv_border(g.border.cols),
                     cv::Scalar::all(g.border.value));
  cv::Mat w = k.clone();
  if (!g.correlate) cv::flip(k, w, -1);
  cv::filter2D(ext, out, CV_64F, w, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
  cv::Mat y(g.out_h, g.out_w, CV_64F);
  for (int m = 0; m < g.out_h; ++m)
    for (int n = 0; n < g.out_w; ++n)
      y.at<double>(m, n) = out.at<double>(m * g.stride_y, n * g.stride_x);
  return y;
}

}  // namespace

TEST_CASE("[engine] a border value and per-axis rules give OpenCV's numbers in every schedule") {
  std::mt19937 rng(2024);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const Border kinds[] = {Border::zero, Border::circular, Border::reflect, Border::symmetric,
                          Border::replicate};
  for (int trial = 0; trial < 60; ++trial) {
    const int h = uni(3, 24), w = uni(3, 24), kh = uni(1, 5), kw = uni(1, 5);
    ConvSpec spec;
    spec.correlate = uni(0, 1) == 1;
    spec.stride_y = uni(1, 2);
    spec.stride_x = uni(1, 3);
    // Pads up to the input's size minus one (OpenCV's reflect needs that).
    spec.pad = {uni(0, std::min(4, h - 1)), uni(0, std::min(4, h - 1)), uni(0, std::min(4, w - 1)),
                uni(0, std::min(4, w - 1))};
    spec.border = BorderRule(kinds[uni(0, 4)], kinds[uni(0, 4)], uni(-20, 20) * 0.5);
    if (trial % 5 == 0) spec.border = BorderRule(Border::zero, Border::zero, 7.25);
    if (h + spec.pad.top + spec.pad.bottom < kh || w + spec.pad.left + spec.pad.right < kw)
      continue;
    // A rank-1 kernel half the time, so the separable schedule applies.
    cv::Mat k(kh, kw, CV_64F);
    std::vector<double> col(kh), row(kw);
    for (auto& v : col) v = uni(-5, 5);
    for (auto& v : row) v = uni(-5, 5);
    const bool rank1 = trial % 2 == 0;
    for (int i = 0; i < kh; ++i)
      for (int j = 0; j < kw; ++j) k.at<double>(i, j) = rank1 ? col[i] * row[j] : uni(-9, 9);
    cv::Mat x(h, w, CV_64F);
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) x.at<double>(i, j) = uni(-50, 50);
    const ConvGeometry g = plan(spec, h, w, kh, kw);
    const cv::Mat ref = opencv_answer(x, k, g);
    std::vector<Schedule> schedules = {Schedule::reference, Schedule::direct, Schedule::fft,
                                       Schedule::automatic};
    if (rank1) schedules.push_back(Schedule::separable);
    for (Schedule s : schedules) {
      CAPTURE(trial);
      CAPTURE(static_cast<int>(s));
      CAPTURE(to_string(g.border));
      std::vector<double> out(static_cast<std::size_t>(g.out_h) * g.out_w);
      conv2d<double>(View<const double>{x.ptr<double>(0), h, w, w},
                     View<const double>{k.ptr<double>(0), kh, kw, kw}, g,
                     View<double>{out.data(), g.out_h, g.out_w, g.out_w}, s);
      double d = 0;
      for (int m = 0; m < g.out_h; ++m)
        for (int n = 0; n < g.out_w; ++n)
          d = std::max(
              d, std::fabs(out[static_cast<std::size_t>(m) * g.out_w + n] - ref.at<double>(m, n)));
      CHECK(d < 1e-7);
    }
  }
}

TEST_CASE("[engine] parse_border_rule reads MODE and ROWS,COLS; plan refuses a non-finite value") {
  CHECK(parse_border_rule("reflect") == BorderRule(Border::reflect));
  CHECK(parse_border_rule("mirror,constant") == BorderRule(Border::reflect, Border::zero));
  CHECK(parse_border_rule("nearest,wrap") == BorderRule(Border::replicate, Border::circular));
  CHECK_THROWS(parse_border_rule("reflect,"));
  CHECK_THROWS(parse_border_rule(",reflect"));
  CHECK_THROWS(parse_border_rule("reflect,zero,zero"));
  CHECK_THROWS(parse_border_rule("reflect,nope"));
  CHECK(to_string(BorderRule(Border::symmetric, Border::zero, 3)) == "symmetric,zero (value 3)");
  ConvSpec spec;
  spec.border = BorderRule(Border::zero, Border::zero, NAN);
  CHECK_THROWS(plan(spec, 4, 4, 3, 3));
  spec.border.value = INFINITY;
  CHECK_THROWS(plan(spec, 4, 4, 3, 3));
}

// [canny] Canny edges against cv::Canny.
#include <doctest/doctest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "convkit/canny.hpp"
#include "convkit/error.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using convkit::test::image_from_mat;

namespace {

/// Shapes with edges in every direction, blurred a little, plus noise.
cv::Mat test_image(int seed) {
  cv::Mat m(120, 160, CV_8UC1, cv::Scalar(40));
  cv::circle(m, {60, 60}, 35, cv::Scalar(200), -1);
  cv::rectangle(m, {100, 20}, {150, 70}, cv::Scalar(120), -1);
  cv::line(m, {10, 110}, {150, 85}, cv::Scalar(250), 3);
  cv::ellipse(m, {120, 95}, {30, 12}, 30, 0, 360, cv::Scalar(90), -1);
  cv::GaussianBlur(m, m, {5, 5}, 1.2);
  cv::Mat noise(m.size(), CV_8UC1);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(noise, 0, 24);
  cv::add(m, noise, m);
  return m;
}

}  // namespace

TEST_CASE("[canny] equals cv::Canny(img, low, high) exactly on 8-bit test images") {
  for (int seed : {1, 2, 3})
    for (auto [lo, hi] : {std::pair{50.0, 150.0}, std::pair{20.0, 60.0}, std::pair{100.0, 300.0},
                          std::pair{150.0, 50.0}, std::pair{50.5, 149.9}}) {
      cv::Mat src = test_image(seed), ref;
      cv::Canny(src, ref, lo, hi);
      const Image out = canny(image_from_mat(src), {lo, hi});
      REQUIRE(out.channels == 1);
      cv::Mat got(src.size(), CV_8UC1);
      for (int i = 0; i < src.rows * src.cols; ++i)
        got.data[i] = static_cast<uchar>(out.data[static_cast<std::size_t>(i)]);
      CAPTURE(seed);
      CAPTURE(lo);
      CAPTURE(hi);
      CHECK(cv::countNonZero(ref) > 100);  // the images do have edges
      CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
    }
}

TEST_CASE("[canny] equals cv::Canny on random noise, where every tie rule matters") {
  cv::Mat src(64, 80, CV_8UC1), ref;
  cv::theRNG().state = 9;
  cv::randu(src, 0, 256);
  cv::Canny(src, ref, 50, 150);
  const Image out = canny(image_from_mat(src), {50, 150});
  int differ = 0;
  for (int i = 0; i < src.rows * src.cols; ++i)
    differ += (out.data[static_cast<std::size_t>(i)] != 0) != (ref.data[i] != 0);
  CHECK(differ == 0);
}

TEST_CASE("[canny] refuses negative or non-finite thresholds") {
  const Image img = image_from_mat(cv::Mat(4, 4, CV_8UC1, cv::Scalar(3)));
  CHECK_THROWS_WITH_AS(canny(img, {-1, 10}), "low must be a number >= 0 (got -1)", UsageError);
  CHECK_THROWS_WITH_AS(canny(img, {1, std::nan("")}), "high must be a number >= 0 (got nan)",
                       UsageError);
  CHECK(canny(img, {1, 2}).data == std::vector<float>(16, 0.f));
}

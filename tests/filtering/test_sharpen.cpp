// [sharpen] unsharp mask against cv::GaussianBlur and ImageMagick's rule.
#include <doctest/doctest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "convkit/error.hpp"
#include "convkit/sharpen.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

/// out = in + amount*(in - blur) where 2|in - blur| >= threshold*range, by OpenCV.
cv::Mat reference(const cv::Mat& in, double sigma, double amount, double threshold, double range) {
  const int k = 2 * static_cast<int>(std::ceil(3 * sigma)) + 1;
  cv::Mat blurred, out = in.clone();
  cv::GaussianBlur(in, blurred, cv::Size(k, k), sigma, sigma, cv::BORDER_REFLECT_101);
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const double d = double(in.at<float>(y, x)) - blurred.at<float>(y, x);
      if (2 * std::abs(d) >= threshold * range)
        out.at<float>(y, x) = static_cast<float>(in.at<float>(y, x) + amount * d);
    }
  return out;
}

}  // namespace

TEST_CASE("[sharpen] equals in + amount*(in - cv::GaussianBlur) on float data") {
  cv::Mat src(37, 51, CV_32F);
  cv::theRNG().state = 61;
  cv::randu(src, 0.0, 1.0);
  for (auto [sigma, amount] : {std::pair{1.0, 1.0}, std::pair{2.0, 0.5}, std::pair{0.7, 3.0}}) {
    SharpenOptions o;
    o.sigma = sigma;
    o.amount = amount;
    const cv::Mat got = plane_mat(sharpen(image_from_mat(src), o));
    CAPTURE(sigma);
    CHECK(cv::norm(got, reference(src, sigma, amount, 0, 1), cv::NORM_INF) < 1e-5 * (1 + amount));
  }
}

TEST_CASE("[sharpen] the threshold is a fraction of the range, with ImageMagick's 2|d| rule") {
  cv::Mat src(40, 40, CV_32F);
  cv::theRNG().state = 62;
  cv::randu(src, 0.0, 256.0);
  src.forEach<float>([](float& v, const int*) { v = std::floor(v); });  // 8-bit samples
  SharpenOptions o;
  o.sigma = 1.5;
  o.amount = 1.2;
  o.threshold = 0.1;  // changes only where 2|d| >= 25.5
  cv::Mat src8;
  src.convertTo(src8, CV_8U);
  const Image out = sharpen(image_from_mat(src8), o);
  const cv::Mat got = plane_mat(out);
  const cv::Mat ref = reference(src, 1.5, 1.2, 0.1, 255);
  CHECK(cv::norm(got, ref, cv::NORM_INF) < 1e-3);
  // Some samples are left alone and some are changed.
  int same = 0;
  for (int i = 0; i < 1600; ++i)
    same += got.at<float>(i / 40, i % 40) == src.at<float>(i / 40, i % 40);
  CHECK(same > 50);
  CHECK(same < 1550);
}

TEST_CASE("[sharpen] refuses bad amount and threshold") {
  const Image img = image_from_mat(cv::Mat(5, 5, CV_32F, cv::Scalar(1)));
  SharpenOptions o;
  o.amount = -1;
  CHECK_THROWS_WITH_AS(sharpen(img, o), "amount must be a number >= 0 (got -1.000000)", UsageError);
  o.amount = 1;
  o.threshold = 1.5;
  CHECK_THROWS_WITH_AS(sharpen(img, o),
                       "threshold must be a fraction of the range, 0 to 1 (got 1.500000)",
                       UsageError);
}

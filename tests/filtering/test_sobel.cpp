// [sobel] Sobel of size 5 and 7 (edge --ksize) against cv::Sobel.
#include <doctest/doctest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;

namespace {

double worst(const Image& a, const cv::Mat& ref) {
  return cv::norm(convkit::test::plane_mat(a), ref, cv::NORM_INF);
}

}  // namespace

TEST_CASE("[sobel] ksize 5 and 7 masks are OpenCV's getDerivKernels") {
  for (int k : {3, 5, 7}) {
    cv::Mat kx, ky;
    cv::getDerivKernels(kx, ky, 1, 0, k, false, CV_64F);
    const SeparableMask m = derivative_mask(EdgeOperator::sobel, true, k);
    REQUIRE(m.row.size() == std::size_t(k));
    REQUIRE(m.col.size() == std::size_t(k));
    CAPTURE(k);
    for (int i = 0; i < k; ++i) {
      CHECK(m.row[std::size_t(i)] == kx.at<double>(i));  // derivative along x
      CHECK(m.col[std::size_t(i)] == ky.at<double>(i));  // smoothing across
    }
  }
}

TEST_CASE("[sobel] edge --ksize 5 and 7 x/y equal cv::Sobel(img, CV_32F, dx, dy, ksize)") {
  cv::Mat src(37, 52, CV_32F);
  cv::theRNG().state = 17;
  cv::randu(src, 0.0, 1.0);
  for (int k : {5, 7})
    for (Border b : {Border::reflect, Border::replicate})
      for (int dx : {1, 0}) {
        cv::Mat ref;
        cv::Sobel(src, ref, CV_32F, dx, 1 - dx, k, 1, 0,
                  b == Border::reflect ? cv::BORDER_REFLECT_101 : cv::BORDER_REPLICATE);
        EdgeOptions o;
        o.direction = dx ? EdgeDirection::x : EdgeDirection::y;
        o.border = b;
        o.ksize = k;
        CAPTURE(k);
        CAPTURE(dx);
        CHECK(worst(edge(convkit::test::image_from_mat(src), o), ref) <
              1e-5 * edge_gain(EdgeOperator::sobel, k));
      }
}

TEST_CASE("[sobel] the magnitude with ksize 5 combines cv::Sobel's two derivatives") {
  cv::Mat src(30, 33, CV_32F);
  cv::theRNG().state = 18;
  cv::randu(src, 0.0, 1.0);
  cv::Mat gx, gy, mag;
  cv::Sobel(src, gx, CV_32F, 1, 0, 5);
  cv::Sobel(src, gy, CV_32F, 0, 1, 5);
  cv::magnitude(gx, gy, mag);
  EdgeOptions o;
  o.ksize = 5;
  CHECK(worst(edge(convkit::test::image_from_mat(src), o), mag) < 1e-4);
}

TEST_CASE("[sobel] gains are the sums of the positive weights, and a bad ksize is a usage error") {
  CHECK(edge_gain(EdgeOperator::sobel, 3) == 4);
  CHECK(edge_gain(EdgeOperator::sobel, 5) == 48);
  CHECK(edge_gain(EdgeOperator::sobel, 7) == 640);
  const Image img = convkit::test::image_from_mat(cv::Mat(5, 5, CV_32F, cv::Scalar(1)));
  EdgeOptions o;
  o.ksize = 4;
  CHECK_THROWS_WITH_AS(edge(img, o), "ksize 4 is not 3, 5 or 7", UsageError);
  o.ksize = 5;
  o.op = EdgeOperator::scharr;
  CHECK_THROWS_WITH_AS(edge(img, o), doctest::Contains("sobel"), UsageError);
}

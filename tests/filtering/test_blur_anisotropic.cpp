// [blur] anisotropic Gaussian (sigma_y != sigma) against cv::GaussianBlur.
#include <doctest/doctest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using namespace convkit::test;

TEST_CASE("[blur] sigma_y != sigma equals cv::GaussianBlur with sigmaX != sigmaY to 1e-5") {
  cv::Mat src(41, 57, CV_32F);
  cv::theRNG().state = 41;
  cv::randu(src, 0.0, 1.0);
  struct Case {
    double sx, sy;
    int size, kx, ky;  // convkit's size (0: from sigmas) and the sizes given to OpenCV
  };
  for (Case c : {Case{3.0, 1.0, 0, 19, 7}, Case{0.8, 2.5, 0, 7, 17}, Case{2.0, 0.7, 9, 9, 9}})
    for (Border b : {Border::reflect, Border::replicate}) {
      BlurOptions o;
      o.size = c.size;
      o.sigma = c.sx;
      o.sigma_y = c.sy;
      o.border = b;
      cv::Mat ref;
      cv::GaussianBlur(src, ref, cv::Size(c.kx, c.ky), c.sx, c.sy,
                       b == Border::reflect ? cv::BORDER_REFLECT_101 : cv::BORDER_REPLICATE);
      const Image out = blur(image_from_mat(src), o);
      CAPTURE(c.sx);
      CAPTURE(c.sy);
      CHECK(cv::norm(plane_mat(out), ref, cv::NORM_INF) < 1e-5);
    }
}

TEST_CASE("[blur] sigma_y with a box blur is a usage error") {
  BlurOptions o;
  o.type = BlurType::box;
  o.sigma_y = 2;
  CHECK_THROWS_AS(blur(image_from_mat(cv::Mat(4, 4, CV_32F, cv::Scalar(1))), o), UsageError);
}

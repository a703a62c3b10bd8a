// [filtering] Laplacian of Gaussian against scipy.ndimage.gaussian_laplace
// (fixtures made by scripts/make_log_fixtures.py) and difference of
// Gaussians against two cv::GaussianBlur calls.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "filtering/log_scipy_fixtures.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

Image fixture_image() {
  Image img;
  img.width = log_fixture::kCols;
  img.height = log_fixture::kRows;
  img.channels = 1;
  img.bit_depth = 64;
  img.data64.assign(log_fixture::kInput, log_fixture::kInput + img.width * img.height);
  return img;
}

// |a - b| / max|b| over the arrays.
double relative_error(const std::vector<double>& a, const double* b) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return worst / scale;
}

}  // namespace

TEST_CASE("[filtering] log equals scipy.ndimage.gaussian_laplace for every border") {
  const Image img = fixture_image();
  for (const auto& c : log_fixture::kCases) {
    CAPTURE(c.sigma);
    CAPTURE(c.scipy_mode);
    EdgeOptions o;
    o.op = EdgeOperator::log;
    o.sigma = c.sigma;
    o.border = parse_border(c.border);
    o.size = c.size;
    const Image out = edge(img, o);
    REQUIRE(out.is_double());
    CHECK(relative_error(out.data64, c.expected) < 1e-12);
    if (c.default_size) {  // scipy's default truncate is convkit's default size
      CHECK(log_size_for_sigma(c.sigma) == c.size);
      o.size = 0;
      CHECK(relative_error(edge(img, o).data64, c.expected) < 1e-12);
    }
  }
}

TEST_CASE("[filtering] log on float32 data is the float64 result to float precision") {
  const Image img64 = fixture_image();
  Image img32 = img64;
  img32.bit_depth = 32;
  img32.data.assign(img64.data64.begin(), img64.data64.end());
  img32.data64.clear();
  const auto& c = log_fixture::kCases[0];
  EdgeOptions o;
  o.op = EdgeOperator::log;
  o.sigma = c.sigma;
  const Image out = edge(img32, o);
  REQUIRE(out.data.size() == img32.data.size());
  CHECK(relative_error(std::vector<double>(out.data.begin(), out.data.end()), c.expected) < 1e-5);
}

TEST_CASE("[filtering] the second-derivative taps are scipy's: (x^2/s^4 - 1/s^2) g(x)") {
  // Independent of the fixture: the closed form on the normalised Gaussian.
  for (double sigma : {0.6, 1.0, 2.5}) {
    const int size = log_size_for_sigma(sigma);
    const std::vector<double> d2 = gaussian_second_derivative_taps(size, sigma);
    const int r = (size - 1) / 2;
    double norm = 0;
    for (int i = -r; i <= r; ++i) norm += std::exp(-0.5 * i * i / (sigma * sigma));
    for (int i = -r; i <= r; ++i) {
      const double g = std::exp(-0.5 * i * i / (sigma * sigma)) / norm;
      CHECK(d2[static_cast<std::size_t>(i + r)] ==
            doctest::Approx((i * i / std::pow(sigma, 4) - 1 / (sigma * sigma)) * g).epsilon(1e-12));
    }
  }
  CHECK(log_size_for_sigma(1.0) == 9);
  CHECK(log_size_for_sigma(1.1) == 9);  // int(4.4 + 0.5) = 4
  CHECK(log_size_for_sigma(1.2) == 11);
}

TEST_CASE("[filtering] dog equals cv::GaussianBlur(sigma) - cv::GaussianBlur(sigma2)") {
  cv::Mat src(41, 53, CV_32F);
  cv::theRNG().state = 91;
  cv::randu(src, 0.0, 1.0);
  struct Case {
    double sigma, sigma2;
    int size;
    Border border;
  };
  for (const Case& c : {Case{1.0, 1.6, 0, Border::reflect}, Case{0.8, 2.5, 0, Border::symmetric},
                        Case{1.5, 3.0, 0, Border::replicate}, Case{1.0, 2.0, 9, Border::reflect}}) {
    CAPTURE(c.sigma);
    CAPTURE(c.sigma2);
    EdgeOptions o;
    o.op = EdgeOperator::dog;
    o.sigma = c.sigma;
    o.sigma2 = c.sigma2;
    o.size = c.size;
    o.border = c.border;
    const int k1 = c.size ? c.size : 2 * static_cast<int>(std::ceil(3 * c.sigma)) + 1;
    const int k2 = c.size ? c.size : 2 * static_cast<int>(std::ceil(3 * c.sigma2)) + 1;
    const int b = c.border == Border::reflect     ? cv::BORDER_REFLECT_101
                  : c.border == Border::symmetric ? cv::BORDER_REFLECT
                                                  : cv::BORDER_REPLICATE;
    cv::Mat g1, g2;
    cv::GaussianBlur(src, g1, cv::Size(k1, k1), c.sigma, c.sigma, b);
    cv::GaussianBlur(src, g2, cv::Size(k2, k2), c.sigma2, c.sigma2, b);
    const cv::Mat got = plane_mat(edge(image_from_mat(src), o));
    CHECK(cv::norm(got, cv::Mat(g1 - g2), cv::NORM_INF) < 1e-5);
  }
  // sigma2 defaults to 1.6 sigma.
  EdgeOptions o;
  o.op = EdgeOperator::dog;
  o.sigma = 2;
  const cv::Mat got = plane_mat(edge(image_from_mat(src), o));
  cv::Mat g1, g2;
  cv::GaussianBlur(src, g1, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
  cv::GaussianBlur(src, g2, cv::Size(21, 21), 3.2, 3.2, cv::BORDER_REFLECT_101);
  CHECK(cv::norm(got, cv::Mat(g1 - g2), cv::NORM_INF) < 1e-5);
}

TEST_CASE("[filtering] log and dog gains bound the response of any input in [0, 1]") {
  // sigma 0.1: a LoG of one tap, -2/sigma^2, with no positive weight at all.
  for (auto [op, sigma] : {std::pair{EdgeOperator::log, 1.3}, std::pair{EdgeOperator::dog, 1.3},
                           std::pair{EdgeOperator::log, 0.1}}) {
    CAPTURE(sigma);
    EdgeOptions o;
    o.op = op;
    o.sigma = sigma;
    const double gain = edge_gain(o);
    // The inputs that reach the extremes: 1 where the kernel is positive (or
    // negative), 0 elsewhere.  Their centre responses are the largest and the
    // smallest any input in [0, 1] gives; the gain is the larger magnitude.
    const GaussianEdgeMasks m = gaussian_edge_masks(o);
    const int k = static_cast<int>(std::max(m.first.col.size(), m.second.col.size()));
    cv::Mat impulse = cv::Mat::zeros(k, k, CV_64F);
    impulse.at<double>(k / 2, k / 2) = 1;
    Image imp;
    imp.width = imp.height = k;
    imp.channels = 1;
    imp.bit_depth = 64;
    imp.data64.assign(impulse.ptr<double>(0), impulse.ptr<double>(0) + k * k);
    o.border = Border::zero;
    const Image resp = edge(imp, o);  // the kernel itself (symmetric)
    Image up = imp, down = imp;
    for (std::size_t i = 0; i < imp.data64.size(); ++i) {
      up.data64[i] = resp.data64[i] > 0;
      down.data64[i] = resp.data64[i] < 0;
    }
    const auto centre = static_cast<std::size_t>(k / 2 * k + k / 2);
    const double highest = edge(up, o).data64[centre], lowest = edge(down, o).data64[centre];
    CHECK(gain == doctest::Approx(std::max(highest, -lowest)).epsilon(1e-9));
    CHECK(gain > 0);
  }
}

TEST_CASE("[filtering] log and dog refuse bad sigma, sigma2 and size, naming the option") {
  const Image img = fixture_image();
  EdgeOptions o;
  o.op = EdgeOperator::dog;
  o.sigma = 2;
  o.sigma2 = 1;
  // The messages name EdgeOptions' fields (the command line shows its flags).
  CHECK_THROWS_WITH_AS(edge(img, o), "sigma2 (1) must be larger than sigma (2)", UsageError);
  o.op = EdgeOperator::log;
  CHECK_THROWS_WITH_AS(edge(img, o), "sigma2 applies to op dog, not log", UsageError);
  o.sigma2 = 0;
  o.size = 4;
  CHECK_THROWS_WITH_AS(edge(img, o), "size 4 is not allowed; it must be odd, from 1 to 4095",
                       UsageError);
  o.size = 0;
  o.sigma = 550;  // 4401 taps
  CHECK_THROWS_WITH_AS(edge(img, o),
                       "sigma 550 makes a 4401-tap Laplacian-of-Gaussian kernel (at most 4095); "
                       "give sigma at most 511 or a size",
                       UsageError);
  o.sigma = 1e-200;  // 1/sigma^2 overflows
  CHECK_THROWS_WITH_AS(
      edge(img, o), "sigma 1e-200 is too small for a Laplacian of Gaussian (1/sigma^2 overflows)",
      UsageError);
  o.op = EdgeOperator::sobel;
  o.sigma = 1;
  CHECK_THROWS_WITH_AS(edge(img, o), "sigma, sigma2 and size apply to op log or dog", UsageError);
  CHECK_THROWS_AS(edge_gain(o), UsageError);
}

TEST_CASE("[filtering] log of a bright spot is negative at its centre, dog positive") {
  cv::Mat src = cv::Mat::zeros(31, 31, CV_32F);
  cv::circle(src, {15, 15}, 3, cv::Scalar(1), -1);
  EdgeOptions o;
  o.sigma = 2;
  o.op = EdgeOperator::log;
  CHECK(plane_mat(edge(image_from_mat(src), o)).at<float>(15, 15) < 0);
  o.op = EdgeOperator::dog;
  CHECK(plane_mat(edge(image_from_mat(src), o)).at<float>(15, 15) > 0);
}

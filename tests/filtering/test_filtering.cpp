// [filtering] blur and edge masks and results, checked against OpenCV.
#include <doctest/doctest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/filters.hpp"
#include "convkit/parallel.hpp"
#include "support/cv_border.hpp"

using namespace convkit;
using convkit::test::cv_border;

namespace {

cv::Mat random_plane(int h, int w, unsigned seed) {
  cv::Mat m(h, w, CV_32F);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<float>(y, x) = u(rng);
  return m;
}

Image grey_image(const cv::Mat& m) {
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.channels = 1;
  img.bit_depth = 32;
  img.data.assign(m.ptr<float>(0), m.ptr<float>(0) + m.total());
  return img;
}

double max_abs_diff(const Image& a, const cv::Mat& b) {
  REQUIRE(a.width == b.cols);
  REQUIRE(a.height == b.rows);
  cv::Mat bf;
  b.convertTo(bf, CV_64F);
  double worst = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      worst = std::max(
          worst, std::abs(double(a.data[std::size_t(y) * a.width + x]) - bf.at<double>(y, x)));
  return worst;
}

cv::Mat grey_mat_from(const Image& img) {
  cv::Mat m(img.height, img.width, CV_32F);
  std::copy(img.data.begin(), img.data.begin() + m.total(), m.ptr<float>(0));
  return m;
}

}  // namespace

TEST_CASE("[filtering] gaussian taps are normalised, symmetric and follow exp(-x^2/2s^2)") {
  auto t = gaussian_taps(7, 1.5);
  double sum = 0;
  for (double v : t) sum += v;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-15));
  for (int i = 0; i < 7; ++i) CHECK(t[i] == doctest::Approx(t[6 - i]));
  CHECK(t[3] / t[4] == doctest::Approx(std::exp(1.0 / (2 * 1.5 * 1.5))));
  cv::Mat k = cv::getGaussianKernel(7, 1.5, CV_64F);
  for (int i = 0; i < 7; ++i) CHECK(t[i] == doctest::Approx(k.at<double>(i)).epsilon(1e-12));
}

TEST_CASE("[filtering] size and sigma rules") {
  CHECK(gaussian_size_for_sigma(1) == 7);
  CHECK(gaussian_size_for_sigma(2) == 13);
  CHECK(gaussian_size_for_sigma(0.5) == 5);
  CHECK(gaussian_sigma_for_size(7) == doctest::Approx(1.4));
  CHECK(resolve_blur({BlurType::gaussian, 0, 0, Border::reflect}).size == 7);
  CHECK(resolve_blur({BlurType::gaussian, 0, 5, Border::reflect}).size == 31);
  CHECK(resolve_blur({BlurType::box, 0, 0, Border::reflect}).size == 3);
  CHECK_THROWS_AS(resolve_blur({BlurType::gaussian, 4, 0, Border::reflect}), UsageError);
  CHECK_THROWS_AS(resolve_blur({BlurType::box, 3, 1, Border::reflect}), UsageError);
  CHECK_THROWS_AS(gaussian_taps(5, 0), UsageError);
  CHECK_THROWS_AS(gaussian_taps(5, -1), UsageError);
  CHECK_THROWS_AS(parse_edge_operator("canny"), UsageError);
  CHECK_THROWS_AS(parse_edge_direction("z"), UsageError);
}

TEST_CASE("[filtering] gaussian blur of float data equals cv::GaussianBlur to 1e-5") {
  cv::Mat src = random_plane(37, 53, 1);
  struct Case {
    int size;
    double sigma;
  };
  for (Case c : {Case{3, 0.8}, Case{5, 1.1}, Case{13, 2.0}, Case{31, 5.0}, Case{9, 3.0}}) {
    for (Border b : {Border::reflect, Border::symmetric, Border::replicate, Border::zero}) {
      CAPTURE(c.size);
      CAPTURE(c.sigma);
      CAPTURE(to_string(b));
      cv::Mat ref;
      cv::GaussianBlur(src, ref, cv::Size(c.size, c.size), c.sigma, c.sigma, cv_border(b));
      Image out = blur(grey_image(src), {BlurType::gaussian, c.size, c.sigma, b});
      CHECK(max_abs_diff(out, ref) < 1e-5);
    }
  }
}

TEST_CASE("[filtering] box blur equals cv::blur") {
  cv::Mat src = random_plane(20, 31, 2);
  for (int k : {1, 3, 5, 9}) {
    cv::Mat ref;
    cv::blur(src, ref, cv::Size(k, k), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
    Image out = blur(grey_image(src), {BlurType::box, k, 0, Border::reflect});
    CHECK(max_abs_diff(out, ref) < 1e-5);
  }
}

TEST_CASE("[filtering] 8-bit gaussian blur is within one grey level of OpenCV's") {
  cv::Mat src8(40, 60, CV_8U);
  cv::randu(src8, 0, 256);
  cv::Mat srcf;
  src8.convertTo(srcf, CV_32F);
  for (double sigma : {1.0, 2.0}) {
    int k = gaussian_size_for_sigma(sigma);
    cv::Mat ref;
    cv::GaussianBlur(src8, ref, cv::Size(k, k), sigma, sigma, cv::BORDER_REFLECT_101);
    Image in = grey_image(srcf);
    in.bit_depth = 8;
    Image out = blur(in, {BlurType::gaussian, 0, sigma, Border::reflect});
    for (float& v : out.data) v = std::round(v);  // what an 8-bit file stores
    CHECK(max_abs_diff(out, ref) <= 1.0);
  }
}

TEST_CASE("[filtering] sobel and scharr x/y equal cv::Sobel and cv::Scharr on float data") {
  cv::Mat src = random_plane(29, 41, 3);
  for (Border b : {Border::reflect, Border::replicate, Border::symmetric, Border::zero}) {
    CAPTURE(to_string(b));
    for (int dx : {1, 0}) {
      cv::Mat ref;
      cv::Sobel(src, ref, CV_32F, dx, 1 - dx, 3, 1, 0, cv_border(b));
      Image out =
          edge(grey_image(src), {EdgeOperator::sobel, dx ? EdgeDirection::x : EdgeDirection::y, b});
      CHECK(max_abs_diff(out, ref) < 1e-5);
      cv::Scharr(src, ref, CV_32F, dx, 1 - dx, 1, 0, cv_border(b));
      out = edge(grey_image(src),
                 {EdgeOperator::scharr, dx ? EdgeDirection::x : EdgeDirection::y, b});
      CHECK(max_abs_diff(out, ref) < 2e-5);
    }
  }
}

TEST_CASE("[filtering] prewitt equals cv::filter2D with the Prewitt mask") {
  cv::Mat src = random_plane(17, 23, 4);
  cv::Mat kx = (cv::Mat_<float>(3, 3) << -1, 0, 1, -1, 0, 1, -1, 0, 1);
  cv::Mat ref;
  cv::filter2D(src, ref, CV_32F, kx, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(
            edge(grey_image(src), {EdgeOperator::prewitt, EdgeDirection::x, Border::reflect}),
            ref) < 1e-5);
  cv::filter2D(src, ref, CV_32F, kx.t(), cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(
            edge(grey_image(src), {EdgeOperator::prewitt, EdgeDirection::y, Border::reflect}),
            ref) < 1e-5);
}

TEST_CASE("[filtering] laplacian equals cv::Laplacian (ksize 1) on float data") {
  cv::Mat src = random_plane(19, 27, 5);
  for (Border b : {Border::reflect, Border::replicate, Border::zero}) {
    cv::Mat ref;
    cv::Laplacian(src, ref, CV_32F, 1, 1, 0, cv_border(b));
    CHECK(max_abs_diff(edge(grey_image(src), {EdgeOperator::laplacian, EdgeDirection::x, b}), ref) <
          1e-5);
  }
}

TEST_CASE("[filtering] magnitude and direction combine the two derivatives") {
  cv::Mat src = random_plane(15, 18, 6);
  cv::Mat gx, gy, mag;
  cv::Sobel(src, gx, CV_32F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
  cv::Sobel(src, gy, CV_32F, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
  cv::magnitude(gx, gy, mag);
  Image m = edge(grey_image(src), {EdgeOperator::sobel, EdgeDirection::magnitude, Border::reflect});
  CHECK(max_abs_diff(m, mag) < 1e-5);
  Image d = edge(grey_image(src), {EdgeOperator::sobel, EdgeDirection::direction, Border::reflect});
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x) {
      double want = std::atan2(double(gy.at<float>(y, x)), double(gx.at<float>(y, x))) * 180 / M_PI;
      if (want < 0) want += 360;
      double got = d.data[std::size_t(y) * src.cols + x];
      CHECK(got >= 0);
      CHECK(got < 360);
      double diff = std::abs(got - want);
      CHECK(std::min(diff, 360 - diff) < 1e-3);
    }
}

TEST_CASE("[filtering] edges of a constant image are 0 for every operator and direction") {
  Image img;
  img.width = 9;
  img.height = 7;
  img.channels = 3;
  img.bit_depth = 8;
  img.data.assign(9 * 7 * 3, 77.f);
  for (auto op :
       {EdgeOperator::sobel, EdgeOperator::prewitt, EdgeOperator::scharr, EdgeOperator::laplacian})
    for (auto dir :
         {EdgeDirection::x, EdgeDirection::y, EdgeDirection::magnitude, EdgeDirection::direction})
      for (Border b : {Border::reflect, Border::replicate, Border::circular, Border::symmetric}) {
        Image out = edge(img, {op, dir, b});
        for (float v : out.data) CHECK(v == 0.f);
      }
}

TEST_CASE("[filtering] alpha passes through blur --alpha pass and edge unchanged") {
  Image img;
  img.width = 6;
  img.height = 5;
  img.channels = 4;
  img.bit_depth = 8;
  img.data.resize(6 * 5 * 4);
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = float((i * 37) % 256);
  BlurOptions bo{BlurType::box, 3, 0, Border::reflect};
  bo.alpha = AlphaMode::pass;  // premultiply (the default) blurs alpha too
  Image b = blur(img, bo);
  Image e = edge(img, {EdgeOperator::sobel, EdgeDirection::x, Border::reflect});
  for (int i = 0; i < 30; ++i) {
    CHECK(b.plane(3)[i] == img.plane(3)[i]);
    CHECK(e.plane(3)[i] == img.plane(3)[i]);
  }
}

TEST_CASE("[filtering] results do not depend on the thread count") {
  cv::Mat src = random_plane(64, 80, 7);
  int before = thread_count();
  set_thread_count(1);
  Image a = blur(grey_image(src), {BlurType::gaussian, 0, 2.0, Border::reflect});
  Image ea =
      edge(grey_image(src), {EdgeOperator::scharr, EdgeDirection::magnitude, Border::reflect});
  set_thread_count(2);
  Image b = blur(grey_image(src), {BlurType::gaussian, 0, 2.0, Border::reflect});
  Image eb =
      edge(grey_image(src), {EdgeOperator::scharr, EdgeDirection::magnitude, Border::reflect});
  set_thread_count(before);
  CHECK(a.data == b.data);
  CHECK(ea.data == eb.data);
}

// The filter files are stored for true convolution; run through the engine
// without --correlate they must give OpenCV's signs.
TEST_CASE("[filtering] named derivative filters convolved give OpenCV's Sobel/Scharr/Laplacian") {
  cv::Mat src = random_plane(21, 26, 8);
  auto convolve_named = [&](const std::string& name) {
    Kernel k = load_kernel(name);
    std::vector<float> kf(k.data.begin(), k.data.end());
    std::vector<float> in(src.ptr<float>(0), src.ptr<float>(0) + src.total());
    ConvSpec spec;
    spec.mode = SizeMode::same;
    spec.border = Border::reflect;
    int oh = 0, ow = 0;
    auto out = conv2d<float>(in, src.rows, src.cols, kf, k.rows, k.cols, spec, &oh, &ow);
    Image img;
    img.width = ow;
    img.height = oh;
    img.channels = 1;
    img.data = out;
    return img;
  };
  cv::Mat ref;
  cv::Sobel(src, ref, CV_32F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("sobel-x"), ref) < 1e-5);
  cv::Sobel(src, ref, CV_32F, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("sobel-y"), ref) < 1e-5);
  cv::Mat neg = -ref;
  CHECK(max_abs_diff(convolve_named("seed-h"), neg) < 1e-5);  // the seed's h is -sobel-y
  cv::Scharr(src, ref, CV_32F, 1, 0, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("scharr-x"), ref) < 2e-5);
  cv::Scharr(src, ref, CV_32F, 0, 1, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("scharr-y"), ref) < 2e-5);
  CHECK(max_abs_diff(convolve_named("prewitt-x"),
                     grey_mat_from(edge(grey_image(src), {EdgeOperator::prewitt, EdgeDirection::x,
                                                          Border::reflect}))) < 1e-5);
  cv::Laplacian(src, ref, CV_32F, 1, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("laplacian-4"), ref) < 1e-5);
  cv::GaussianBlur(src, ref, cv::Size(5, 5), 0, 0, cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("gaussian-5"), ref) < 1e-5);
  cv::blur(src, ref, cv::Size(3, 3), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
  CHECK(max_abs_diff(convolve_named("box-3"), ref) < 1e-5);
  CHECK(max_abs_diff(convolve_named("identity"), src) == 0);
}

TEST_CASE("[filtering] every named filter loads with a description; blurs sum to 1") {
  auto all = list_filters();
  CHECK(all.size() >= 25);
  for (const auto& f : all) {
    CAPTURE(f.name);
    CHECK(!f.description.empty());
    Kernel k = load_kernel(f.name);
    CHECK(k.rows == f.rows);
    CHECK(k.cols == f.cols);
    CHECK(k.data.size() == std::size_t(k.rows) * k.cols);
    double sum = 0;
    for (double v : k.data) sum += v;
    bool averaging = f.name.rfind("box", 0) == 0 || f.name.rfind("gaussian", 0) == 0 ||
                     f.name.rfind("moving-average", 0) == 0 || f.name == "motion-blur";
    if (averaging) CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
    bool derivative = f.name.find("-x") != std::string::npos ||
                      f.name.find("-y") != std::string::npos ||
                      f.name.find("laplacian") != std::string::npos ||
                      f.name.find("difference") != std::string::npos || f.name == "seed-h";
    if (derivative) CHECK(sum == doctest::Approx(0.0));
  }
  Kernel g = load_kernel("geometric");
  REQUIRE(g.cols == 16);
  for (int n = 0; n < 16; ++n) CHECK(g.data[n] == std::ldexp(1.0, -n));  // the seed's (1/2)^n
}

TEST_CASE("[filtering] a float64 image is blurred and edged in double, equal to OpenCV's CV_64F") {
  // Values near 1e9 with fractions: float32 (spacing 64 there) would be off by tens.
  const int h = 13, w = 17;
  cv::Mat m(h, w, CV_64F);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1000.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<double>(y, x) = 1e9 + u(rng);
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 2;  // grey + alpha: alpha passes through in double too
  img.bit_depth = 64;
  img.data64.assign(m.ptr<double>(0), m.ptr<double>(0) + m.total());
  for (int k = 0; k < h * w; ++k) img.data64.push_back(k + 0.25);
  auto check = [&](const Image& out, const cv::Mat& ref, double scale) {
    REQUIRE(out.is_double());
    REQUIRE(out.data.empty());
    REQUIRE(out.data64.size() == img.data64.size());
    double worst = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        worst =
            std::max(worst, std::fabs(out.data64[std::size_t(y) * w + x] - ref.at<double>(y, x)));
    CHECK(worst / scale < 1e-12);
    CHECK(std::equal(out.data64.begin() + h * w, out.data64.end(), img.data64.begin() + h * w));
  };
  for (Border b : {Border::reflect, Border::symmetric, Border::replicate}) {
    CAPTURE(to_string(b));
    BlurOptions o;
    o.sigma = 1.5;
    o.border = b;
    o.alpha = AlphaMode::pass;
    cv::Mat ref;
    const ResolvedBlur r = resolve_blur(o);
    cv::GaussianBlur(m, ref, cv::Size(r.size, r.size), 1.5, 1.5, cv_border(b));
    check(blur(img, o), ref, 1e9);
    EdgeOptions e;
    e.border = b;
    e.direction = EdgeDirection::x;
    cv::Sobel(m, ref, CV_64F, 1, 0, 3, 1, 0, cv_border(b));
    check(edge(img, e), ref, 1e9);
  }
}

// [median] the median filter against cv::medianBlur and a brute-force median.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/median.hpp"
#include "convkit/parallel.hpp"
#include "filtering/mat_image.hpp"

using namespace convkit;
using convkit::test::image_from_mat;

namespace {

cv::Mat random_mat(int h, int w, int type, unsigned seed) {
  cv::Mat m(h, w, type);
  cv::theRNG().state = seed;
  if (CV_MAT_DEPTH(type) == CV_8U)
    cv::randu(m, 0, 256);
  else if (CV_MAT_DEPTH(type) == CV_16U)
    cv::randu(m, 0, 65536);
  else
    cv::randu(m, -1.0, 1.0);
  return m;
}

/// Largest |convkit - reference| over all samples of the given channels.
double worst(const Image& a, const cv::Mat& ref, int channels) {
  cv::Mat f;
  ref.convertTo(f, CV_32F);
  double d = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x)
      for (int c = 0; c < channels; ++c)
        d = std::max(
            d, double(std::abs(a.plane(c)[y * a.width + x] - f.ptr<float>(y)[x * a.channels + c])));
  return d;
}

/// The median of each replicated-border window, by sorting it.
cv::Mat brute_median(const cv::Mat& src, int k) {
  cv::Mat out(src.size(), CV_32F);
  std::vector<float> win;
  const int r = k / 2;
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x) {
      win.clear();
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx)
          win.push_back(src.at<float>(std::clamp(y + dy, 0, src.rows - 1),
                                      std::clamp(x + dx, 0, src.cols - 1)));
      std::sort(win.begin(), win.end());
      out.at<float>(y, x) = win[win.size() / 2];
    }
  return out;
}

}  // namespace

TEST_CASE("[median] equals cv::medianBlur on 8-bit grey and RGB for K 3, 5, 7, 15, 31") {
  for (int type : {CV_8UC1, CV_8UC3})
    for (int k : {3, 5, 7, 15, 31})
      for (auto [h, w] : {std::pair{67, 141}, std::pair{40, 9}}) {
        cv::Mat src = random_mat(h, w, type, 100u + unsigned(k) + unsigned(w));
        if (k == 15) src = src / 16 * 16;  // few grey levels: many equal samples
        cv::Mat ref;
        cv::medianBlur(src, ref, k);
        const Image out = median(image_from_mat(src), {k});
        CAPTURE(k);
        CAPTURE(type);
        CAPTURE(w);
        CHECK(out.bit_depth == 8);
        CHECK(worst(out, ref, src.channels()) == 0);
      }
}

TEST_CASE("[median] windows larger than the image equal cv::medianBlur (sizes below K)") {
  for (int k : {3, 5, 7, 15, 31})
    for (auto [h, w] : {std::pair{1, 1}, std::pair{2, 3}, std::pair{1, 40}, std::pair{13, 2},
                        std::pair{k - 1 > 0 ? k - 1 : 1, k - 1 > 0 ? k - 1 : 1}}) {
      cv::Mat src = random_mat(h, w, CV_8UC1, unsigned(7 * k + h + w));
      cv::Mat ref;
      cv::medianBlur(src, ref, k);
      CAPTURE(k);
      CAPTURE(h);
      CAPTURE(w);
      CHECK(worst(median(image_from_mat(src), {k}), ref, 1) == 0);
    }
}

TEST_CASE("[median] the 8-bit kernel on strided buffers equals cv::medianBlur, any thread count") {
  cv::Mat big = random_mat(90, 130, CV_8UC1, 5);
  cv::Mat src = big(cv::Rect(3, 2, 117, 81));  // rows 130 bytes apart
  for (int threads : {1, 2, 3})
    for (int k : {1, 3, 5, 9, 31}) {
      set_thread_count(threads);
      cv::Mat dst(src.size(), CV_8UC1, cv::Scalar(7)), ref;
      median_u8(src.ptr(), static_cast<std::ptrdiff_t>(src.step), dst.ptr(),
                static_cast<std::ptrdiff_t>(dst.step), src.cols, src.rows, k);
      if (k == 1)
        ref = src.clone();
      else
        cv::medianBlur(src, ref, k);
      CAPTURE(k);
      CAPTURE(threads);
      CHECK(cv::norm(dst, ref, cv::NORM_INF) == 0);
    }
  set_thread_count(0);
}

TEST_CASE("[median] 16-bit and float equal cv::medianBlur for K 3 and 5") {
  for (int type : {CV_16UC1, CV_16UC3, CV_32FC1, CV_32FC3})
    for (int k : {3, 5}) {
      cv::Mat src = random_mat(45, 71, type, unsigned(type * 10 + k));
      cv::Mat ref;
      cv::medianBlur(src, ref, k);
      CAPTURE(type);
      CAPTURE(k);
      CHECK(worst(median(image_from_mat(src), {k}), ref, src.channels()) == 0);
    }
}

TEST_CASE("[median] 16-bit and float for K 7 and 11 equal a brute-force median") {
  // cv::medianBlur takes 16-bit and float data only for K 3 and 5.
  for (int type : {CV_16UC1, CV_32FC1})
    for (int k : {7, 11}) {
      cv::Mat src = random_mat(23, 31, type, unsigned(type + k));
      cv::Mat f;
      src.convertTo(f, CV_32F);
      CAPTURE(type);
      CAPTURE(k);
      CHECK(worst(median(image_from_mat(src), {k}), brute_median(f, k), 1) == 0);
    }
}

TEST_CASE("[median] float samples between 0 and 255 with fractions are not taken for 8-bit") {
  cv::Mat src(21, 26, CV_32F);
  cv::theRNG().state = 77;
  cv::randu(src, 0.0, 255.0);
  src.at<float>(3, 3) = 254.5f;
  for (int k : {3, 7}) {
    CAPTURE(k);
    CHECK(worst(median(image_from_mat(src), {k}), brute_median(src, k), 1) == 0);
  }
}

TEST_CASE("[median] alpha passes through and K 1 copies") {
  cv::Mat src = random_mat(20, 25, CV_8UC4, 9);
  const Image in = image_from_mat(src);
  const Image out = median(in, {5});
  cv::Mat ref;
  cv::medianBlur(src, ref, 5);
  CHECK(worst(out, ref, 3) == 0);
  CHECK(std::equal(out.plane(3), out.plane(3) + 500, in.plane(3)));
  CHECK(median(in, {1}).data == in.data);
}

TEST_CASE("[median] refuses even and out-of-range sizes, NaN samples and empty images") {
  const Image in = image_from_mat(random_mat(5, 5, CV_32FC1, 1));
  CHECK_THROWS_AS(median(in, {4}), UsageError);
  CHECK_THROWS_WITH_AS(median(in, {2}), doctest::Contains("even"), UsageError);
  CHECK_THROWS_AS(median(in, {0}), UsageError);
  CHECK_THROWS_AS(median(in, {257}), UsageError);
  Image nan = in;
  nan.data[12] = std::nanf("");
  CHECK_THROWS_WITH_AS(median(nan, {3}), doctest::Contains("NaN"), Error);
  CHECK_THROWS_AS(median(Image{}, {3}), Error);
}

namespace {

/// The median of each replicated-border K x K window of an interleaved
/// 8-bit buffer, channel by channel, by sorting it.
std::vector<std::uint8_t> brute_median_u8(const std::vector<std::uint8_t>& src, int w, int h,
                                          int cn, int k) {
  std::vector<std::uint8_t> out(src.size()), win;
  const int r = k / 2;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < cn; ++c) {
        win.clear();
        for (int dy = -r; dy <= r; ++dy)
          for (int dx = -r; dx <= r; ++dx)
            win.push_back(
                src[(std::size_t(std::clamp(y + dy, 0, h - 1)) * w + std::clamp(x + dx, 0, w - 1)) *
                        cn +
                    c]);
        std::sort(win.begin(), win.end());
        out[(std::size_t(y) * w + x) * cn + c] = win[win.size() / 2];
      }
  return out;
}

/// median_u8 on a copy of `src` placed in rows `pad` bytes longer than
/// needed (so reads past a row's end would see other data, 0xA5).
std::vector<std::uint8_t> median_u8_strided(const std::vector<std::uint8_t>& src, int w, int h,
                                            int cn, int k, int pad) {
  const std::ptrdiff_t row = std::ptrdiff_t(w) * cn, stride = row + pad;
  std::vector<std::uint8_t> in(std::size_t(stride) * h, 0xA5), out(in.size(), 0x5A);
  for (int y = 0; y < h; ++y) std::copy_n(src.begin() + y * row, row, in.begin() + y * stride);
  median_u8(in.data(), stride, out.data(), stride, w, h, k, cn);
  std::vector<std::uint8_t> res(src.size());
  for (int y = 0; y < h; ++y) {
    std::copy_n(out.begin() + y * stride, row, res.begin() + y * row);
    // nothing written past the row's end
    CHECK(std::count(out.begin() + y * stride + row, out.begin() + (y + 1) * stride, 0x5A) == pad);
  }
  return res;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed, int levels) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, levels - 1);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(d(rng) * (255 / (levels - 1)));
  return v;
}

}  // namespace

TEST_CASE(
    "[median] every 3x3 kernel equals a brute-force median: widths around the vectors, "
    "1 to 3 rows, 1 to 4 interleaved channels") {
  using K = detail::Median3Kernel;
  int checked = 0;
  for (K kernel : {K::baseline, K::avx2, K::avx512, K::avx512_vbmi}) {
    if (!detail::median3_kernel_available(kernel)) continue;
    detail::set_median3_kernel(kernel);
    ++checked;
    for (int cn : {1, 2, 3, 4})
      for (int w : {1, 2, 3, 5, 15, 16, 17, 21, 22, 31, 32, 33, 63, 64, 65, 127, 129, 200, 700})
        for (int h : {1, 2, 3, 4, 7}) {
          // 3 levels: many ties; 256: all values
          for (int levels : {3, 256}) {
            const auto src =
                random_bytes(std::size_t(w) * h * cn, unsigned(w * 131 + h * 7 + cn), levels);
            CAPTURE(static_cast<int>(kernel));
            CAPTURE(cn);
            CAPTURE(w);
            CAPTURE(h);
            CAPTURE(levels);
            CHECK(median_u8_strided(src, w, h, cn, 3, 70) == brute_median_u8(src, w, h, cn, 3));
          }
        }
  }
  detail::set_median3_kernel(K::automatic);
  CHECK(checked >= 1);
}

TEST_CASE(
    "[median] every 3x3 kernel equals cv::medianBlur on grey, RGB and RGBA, in row bands "
    "of any thread count") {
  using K = detail::Median3Kernel;
  for (K kernel : {K::baseline, K::avx2, K::avx512, K::avx512_vbmi}) {
    if (!detail::median3_kernel_available(kernel)) continue;
    detail::set_median3_kernel(kernel);
    for (int type : {CV_8UC1, CV_8UC3, CV_8UC4})
      for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
        // wider than a row chunk of the buffered kernels, an odd row count
        cv::Mat src = random_mat(53, 1100, type, unsigned(type + threads));
        cv::Mat dst(src.size(), type), ref;
        cv::medianBlur(src, ref, 3);
        median_u8(src.ptr(), std::ptrdiff_t(src.step), dst.ptr(), std::ptrdiff_t(dst.step),
                  src.cols, src.rows, 3, src.channels());
        CAPTURE(static_cast<int>(kernel));
        CAPTURE(type);
        CAPTURE(threads);
        CHECK(cv::norm(dst, ref, cv::NORM_INF) == 0);
      }
  }
  set_thread_count(0);
  detail::set_median3_kernel(K::automatic);
}

TEST_CASE("[median] the 8-bit kernel takes interleaved channels for K 5, 7 and 15 (brute force)") {
  for (int cn : {2, 3, 4})
    for (int k : {5, 7, 15})
      for (auto [h, w] : {std::pair{9, 37}, std::pair{2, 3}, std::pair{6, 100}}) {
        const auto src = random_bytes(std::size_t(w) * h * cn, unsigned(k * 10 + cn + w), 256);
        CAPTURE(cn);
        CAPTURE(k);
        CAPTURE(w);
        CHECK(median_u8_strided(src, w, h, cn, k, 5) == brute_median_u8(src, w, h, cn, k));
      }
  std::vector<std::uint8_t> px(12);
  CHECK_THROWS_AS(median_u8(px.data(), 12, px.data(), 12, 2, 1, 3, 5), UsageError);
}

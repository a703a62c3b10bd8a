// [cli] blur of 8-bit files written as 8-bit runs in fixed point (the
// library's FixedSeparable), streamed or read whole; 16-bit and float
// outputs keep the float result; edge of 8-bit files is exact either way.
#include <doctest/doctest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cli/filtering_fixtures.hpp"
#include "convkit/filtering.hpp"
#include "convkit/pixels.hpp"
#include "support/run.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

cv::Mat noise_u8(int h, int w, int type, unsigned seed) {
  cv::Mat m(h, w, type);
  std::mt19937 rng(seed);
  for (auto it = m.begin<uchar>(); it != m.end<uchar>(); ++it) *it = static_cast<uchar>(rng());
  return m;
}

// FixedSeparable's result for col (x) row on the interleaved 8-bit Mat.
cv::Mat fixed(const cv::Mat& src, const std::vector<double>& col, const std::vector<double>& row) {
  cv::Mat out(src.size(), src.type());
  const FixedSeparable plan(col, row);
  REQUIRE(plan.ok());
  REQUIRE(separable_fixed(
      Pixels<const std::uint8_t>{src.ptr<std::uint8_t>(), src.rows, src.cols, src.channels(),
                                 static_cast<std::ptrdiff_t>(src.step1())},
      plan, Border::reflect,
      Pixels<std::uint8_t>{out.ptr<std::uint8_t>(), out.rows, out.cols, out.channels(),
                           static_cast<std::ptrdiff_t>(out.step1())}));
  return out;
}

}  // namespace

TEST_CASE("[cli] blur of 8-bit files is the fixed-point result, streamed and whole") {
  const auto dir = temp_dir();
  const cv::Mat src = noise_u8(70, 90, CV_8UC3, 5);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  const std::vector<double> g = gaussian_taps(gaussian_size_for_sigma(2.0), 2.0);
  const std::vector<double> box = box_taps(5);
  struct Case {
    std::vector<std::string> args;
    cv::Mat want;
  };
  const Case cases[] = {{{"--sigma", "2"}, fixed(src, g, g)},
                        {{"--type", "box", "--size", "5"}, fixed(src, box, box)}};
  for (const Case& c : cases)
    for (const char* ext : {"png", "tif", "ppm"}) {
      std::vector<std::string> streamed = {"blur", dir + "/in.png"}, whole = {"blur", "-"};
      for (auto* v : {&streamed, &whole}) v->insert(v->end(), c.args.begin(), c.args.end());
      streamed.insert(streamed.end(), {"-o", dir + "/s." + std::string(ext)});
      whole.insert(whole.end(), {"-o", dir + "/w." + std::string(ext)});
      INFO(c.args[1] << " ." << ext);
      REQUIRE(run_convkit(streamed).status == 0);
      REQUIRE(run_convkit(whole, read_file(dir + "/in.png")).status == 0);
      for (const char* which : {"/s.", "/w."}) {
        const cv::Mat got = cv::imread(dir + which + ext, cv::IMREAD_UNCHANGED);
        REQUIRE(got.type() == CV_8UC3);
        CHECK(max_diff(got, c.want) == 0);
      }
    }
  // Box: the exactly rounded integer mean of the 25 samples (reflect border).
  const cv::Mat got = cv::imread(dir + "/s.ppm", cv::IMREAD_UNCHANGED);
  cv::Mat sum;
  cv::boxFilter(src, sum, CV_32S, cv::Size(5, 5), cv::Point(-1, -1), false, cv::BORDER_REFLECT_101);
  int bad = 0;
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols * 3; ++x) {
      const long long s = sum.ptr<int>(y)[x];
      bad += got.ptr<uchar>(y)[x] != (2 * s + 25) / 50;
    }
  CHECK(bad == 0);
}

TEST_CASE("[cli] 8-bit blur written at 16 bits or as float keeps the float result") {
  const auto dir = temp_dir();
  const cv::Mat src = noise_u8(40, 50, CV_8UC1, 9);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  REQUIRE(run_convkit({"blur", dir + "/in.png", "--sigma", "2", "-o", dir + "/b8.png"}).status ==
          0);
  REQUIRE(run_convkit({"blur", dir + "/in.png", "--sigma", "2", "-o", dir + "/f.npy"}).status == 0);
  const cv::Mat f = read_npy(dir + "/f.npy");
  const cv::Mat b8 = cv::imread(dir + "/b8.png", cv::IMREAD_UNCHANGED);
  REQUIRE(f.size() == src.size());
  int fractional = 0, far = 0;
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x) {
      const float v = f.at<float>(y, x);
      fractional += v != std::floor(v);
      far += std::abs(b8.at<uchar>(y, x) - std::floor(v + 0.5f)) > 1;
    }
  CHECK(fractional > src.rows * src.cols / 2);  // not rounded
  CHECK(far == 0);                              // and the 8-bit file within one grey level
}

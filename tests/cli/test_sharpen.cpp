// [cli] convkit sharpen through the real binary.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

TEST_CASE("[cli] sharpen of an 8-bit RGB PNG is within a grey level of the OpenCV recipe") {
  auto dir = temp_dir();
  cv::Mat src(48, 64, CV_8UC3);
  cv::theRNG().state = 71;
  cv::randu(src, 0, 256);
  cv::GaussianBlur(src, src, cv::Size(5, 5), 1.0);  // some structure, some flat parts
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"sharpen", dir + "/in.png", "--sigma", "2", "--amount", "1", "--threshold",
                        "0.05", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(got.type() == CV_8UC3);
  cv::Mat f, blurred;
  src.convertTo(f, CV_32F);
  cv::GaussianBlur(f, blurred, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
  int worst = 0;
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        const double v = f.at<cv::Vec3f>(y, x)[c], d = v - blurred.at<cv::Vec3f>(y, x)[c];
        const double want = std::clamp(2 * std::abs(d) < 0.05 * 255 ? v : v + d, 0.0, 255.0);
        worst =
            std::max(worst, static_cast<int>(std::abs(want - got.at<cv::Vec3b>(y, x)[c]) + 0.5));
      }
  CHECK(worst <= 1);
}

TEST_CASE("[cli] sharpen --amount 0 changes nothing and bad values fail with exit 2") {
  auto dir = temp_dir();
  cv::Mat src(20, 30, CV_8UC1);
  cv::theRNG().state = 72;
  cv::randu(src, 0, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"sharpen", dir + "/in.png", "--amount", "0", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(cv::norm(cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), src, cv::NORM_INF) == 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"sharpen", dir + "/in.png", "--threshold", "2", "-o", dir + "/bad.png"},
           {"sharpen", dir + "/in.png", "--amount", "-1", "-o", dir + "/bad.png"},
           {"sharpen", dir + "/in.png", "--sigma", "0", "-o", dir + "/bad.png"},
           {"sharpen", dir + "/in.png", "--size", "4", "-o", dir + "/bad.png"}}) {
    auto bad = run_convkit(args);
    CHECK(bad.status == 2);
    CHECK(bad.err.rfind("convkit: error: ", 0) == 0);
    CHECK(!fs::exists(dir + "/bad.png"));
  }
  auto help = run_convkit({"sharpen", "--help"});
  CHECK(help.out.find("-unsharp 0x2+1+0.05") != std::string::npos);
}

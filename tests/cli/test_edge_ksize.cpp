// [cli] convkit edge --ksize 5|7 through the real binary, against cv::Sobel.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

TEST_CASE(
    "[cli] edge --ksize 5 and 7 of an 8-bit PNG equal cv::Sobel(img, CV_32F, 1, 0, ksize) to float "
    "rounding") {
  auto dir = temp_dir();
  cv::Mat src(45, 64, CV_8UC1);
  cv::theRNG().state = 23;
  cv::randu(src, 0, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  for (int k : {5, 7})
    for (int dx : {1, 0}) {
      auto r = run_convkit({"edge", dir + "/in.png", "--ksize", std::to_string(k), "--direction",
                            dx ? "x" : "y", "-o", dir + "/out.npy"});
      REQUIRE_MESSAGE(r.status == 0, r.err);
      cv::Mat ref;
      cv::Sobel(src, ref, CV_32F, dx, 1 - dx, k);
      CAPTURE(k);
      CAPTURE(dx);
      // Float rounding only: relative to the largest possible |response| (gain * 255).
      const double gain = k == 5 ? 48 : 640;
      CHECK(max_diff(read_npy(dir + "/out.npy"), ref) <= 1e-7 * gain * 255);
    }
}

TEST_CASE("[cli] edge --ksize 7 to PNG maps the signed result around mid-grey with gain 640") {
  auto dir = temp_dir();
  cv::Mat src(20, 30, CV_8UC1, cv::Scalar(0));
  src.colRange(15, 30).setTo(255);  // a step up to the right
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit(
      {"edge", dir + "/in.png", "--ksize", "7", "--direction", "x", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
  cv::Sobel(src, ref, CV_32F, 1, 0, 7);
  ref = ref / (2 * 640.0) + 255.0 / 2;
  cv::Mat ref8;
  ref.convertTo(ref8, CV_8U);
  CHECK(cv::norm(got, ref8, cv::NORM_INF) <= 1);
  CHECK(got.at<uchar>(10, 2) == 128);  // flat: mid-grey
}

TEST_CASE("[cli] edge refuses --ksize 4 and --ksize 5 with scharr: one line, exit 2") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(9))));
  for (std::vector<std::string> extra :
       {std::vector<std::string>{"--ksize", "4"},
        std::vector<std::string>{"--ksize", "5", "--operator", "scharr"}}) {
    std::vector<std::string> args{"edge", dir + "/in.png", "-o", dir + "/out.png"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_convkit(args);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.err.find("--ksize") != std::string::npos);
    CHECK(!fs::exists(dir + "/out.png"));
  }
}

// [cli] convkit edge --operator canny through the real binary, against cv::Canny.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

cv::Mat shapes() {
  cv::Mat m(90, 120, CV_8UC1, cv::Scalar(30));
  cv::circle(m, {45, 45}, 28, cv::Scalar(210), -1);
  cv::rectangle(m, {80, 10}, {115, 50}, cv::Scalar(110), -1);
  cv::line(m, {5, 85}, {115, 60}, cv::Scalar(250), 2);
  cv::GaussianBlur(m, m, {5, 5}, 1.0);
  cv::Mat noise(m.size(), CV_8UC1);
  cv::theRNG().state = 31;
  cv::randu(noise, 0, 20);
  cv::add(m, noise, m);
  return m;
}

}  // namespace

TEST_CASE("[cli] edge --operator canny --low 50 --high 150 equals cv::Canny(img, 50, 150)") {
  auto dir = temp_dir();
  cv::Mat src = shapes();
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"edge", dir + "/in.png", "--operator", "canny", "--low", "50", "--high",
                        "150", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
  cv::Canny(src, ref, 50, 150);
  REQUIRE(got.type() == CV_8UC1);
  CHECK(cv::countNonZero(ref) > 50);
  CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
}

TEST_CASE("[cli] edge --operator canny of an RGB PNG is the Canny of its grey version") {
  auto dir = temp_dir();
  cv::Mat grey = shapes(), rgb;
  cv::cvtColor(grey, rgb, cv::COLOR_GRAY2BGR);  // R = G = B: its luma is the grey image
  REQUIRE(cv::imwrite(dir + "/in.png", rgb));
  auto r = run_convkit({"edge", dir + "/in.png", "--operator", "canny", "--low", "20", "--high",
                        "80", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
  cv::Canny(grey, ref, 20, 80);
  REQUIRE(got.type() == CV_8UC1);
  CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
}

TEST_CASE("[cli] edge canny needs --low and --high, which do not mix with --direction or --ksize") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", shapes()));
  const std::string in = dir + "/in.png", out = dir + "/out.png";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"edge", in, "--operator", "canny", "--low", "50", "-o", out},
           {"edge", in, "--operator", "canny", "--high", "50", "-o", out},
           {"edge", in, "--low", "50", "--high", "150", "-o", out},
           {"edge", in, "--operator", "canny", "--low", "5", "--high", "9", "--direction", "x",
            "-o", out},
           {"edge", in, "--operator", "canny", "--low", "5", "--high", "9", "--ksize", "5", "-o",
            out},
           {"edge", in, "--operator", "canny", "--low", "-5", "--high", "9", "-o", out}}) {
    auto r = run_convkit(args);
    CAPTURE(args.size());
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(!fs::exists(out));
  }
}

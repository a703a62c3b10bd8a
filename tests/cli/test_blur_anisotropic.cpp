// [cli] convkit blur --sigma-x / --sigma-y through the real binary.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

TEST_CASE("[cli] blur --sigma-x 4 --sigma-y 1 equals cv::GaussianBlur(25x7, 4, 1) to 1e-5") {
  auto dir = temp_dir();
  cv::Mat src(33, 48, CV_32F);
  cv::theRNG().state = 51;
  cv::randu(src, -1.0, 1.0);
  write_file(dir + "/in.npy", npy_bytes(src));
  auto r = run_convkit(
      {"blur", dir + "/in.npy", "--sigma-x", "4", "--sigma-y", "1", "-o", dir + "/out.npy"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat ref;
  cv::GaussianBlur(src, ref, cv::Size(25, 7), 4, 1, cv::BORDER_REFLECT_101);
  CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
  // Only --sigma-y: the horizontal sigma is 1 (7 wide).
  r = run_convkit({"blur", dir + "/in.npy", "--sigma-y", "2", "-o", dir + "/out.npy"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::GaussianBlur(src, ref, cv::Size(7, 13), 1, 2, cv::BORDER_REFLECT_101);
  CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
}

TEST_CASE("[cli] blur refuses --sigma with --sigma-x and --sigma-y with --type box") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(9))));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"blur", dir + "/in.png", "--sigma", "2", "--sigma-x", "3", "-o", dir + "/out.png"},
           {"blur", dir + "/in.png", "--type", "box", "--sigma-y", "3", "-o", dir + "/out.png"}}) {
    auto r = run_convkit(args);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.err.find("--sigma") != std::string::npos);
    CHECK(!fs::exists(dir + "/out.png"));
  }
}

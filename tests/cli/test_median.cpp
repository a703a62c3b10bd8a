// [cli] convkit median through the real binary, checked against cv::medianBlur.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

cv::Mat random_image(int h, int w, int type, int seed, double hi) {
  cv::Mat m(h, w, type);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, hi);
  return m;
}

}  // namespace

TEST_CASE("[cli] median of an RGB PNG equals cv::medianBlur for K 3, 7 and 31") {
  auto dir = temp_dir();
  cv::Mat src = random_image(61, 83, CV_8UC3, 21, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  for (int k : {3, 7, 31}) {
    auto r = run_convkit(
        {"median", dir + "/in.png", "--size", std::to_string(k), "-o", dir + "/out.png"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
    cv::medianBlur(src, ref, k);
    REQUIRE(got.type() == CV_8UC3);
    CAPTURE(k);
    CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
  }
}

TEST_CASE("[cli] median keeps 16-bit PNGs 16-bit and equals cv::medianBlur for K 5") {
  auto dir = temp_dir();
  cv::Mat src = random_image(40, 57, CV_16UC1, 22, 65536);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"median", dir + "/in.png", "--size", "5", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
  cv::medianBlur(src, ref, 5);
  REQUIRE(got.type() == CV_16UC1);
  CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
}

TEST_CASE("[cli] median runs a batch into --outdir with -j 2 at the default size 3") {
  auto dir = temp_dir();
  std::vector<cv::Mat> srcs;
  for (int i = 0; i < 3; ++i) {
    srcs.push_back(random_image(30 + i, 41, CV_8UC1, 30 + i, 256));
    REQUIRE(cv::imwrite(dir + "/in" + std::to_string(i) + ".png", srcs.back()));
  }
  fs::create_directory(dir + "/out");
  auto r = run_convkit({"median", dir + "/in0.png", dir + "/in1.png", dir + "/in2.png", "--outdir",
                        dir + "/out", "--suffix", "-med", "-j", "2", "--quiet"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  for (int i = 0; i < 3; ++i) {
    cv::Mat got =
                cv::imread(dir + "/out/in" + std::to_string(i) + "-med.png", cv::IMREAD_UNCHANGED),
            ref;
    REQUIRE(!got.empty());
    cv::medianBlur(srcs[static_cast<std::size_t>(i)], ref, 3);
    CHECK(cv::norm(got, ref, cv::NORM_INF) == 0);
  }
}

TEST_CASE("[cli] median refuses an even or out-of-range --size with one line, exit 2, no output") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_image(8, 8, CV_8UC1, 3, 256)));
  for (const char* size : {"4", "0", "257"}) {
    auto r = run_convkit({"median", dir + "/in.png", "--size", size, "-o", dir + "/out.png"});
    CAPTURE(size);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(r.err.find("--size") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(!fs::exists(dir + "/out.png"));
  }
  auto missing = run_convkit({"median", dir + "/missing.png", "-o", dir + "/out.png"});
  CHECK(missing.status == 1);
  CHECK(!fs::exists(dir + "/out.png"));
}

TEST_CASE("[cli] median of a float .npy with NaN fails naming the file, and without NaN is exact") {
  auto dir = temp_dir();
  cv::Mat src = random_image(20, 30, CV_32FC1, 4, 1.0);
  write_file(dir + "/in.npy", npy_bytes(src));
  auto r = run_convkit({"median", dir + "/in.npy", "--size", "5", "-o", dir + "/out.npy"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat ref;
  cv::medianBlur(src, ref, 5);
  CHECK(max_diff(read_npy(dir + "/out.npy"), ref) == 0);
  src.at<float>(3, 4) = std::nanf("");
  write_file(dir + "/nan.npy", npy_bytes(src));
  auto bad = run_convkit({"median", dir + "/nan.npy", "-o", dir + "/bad.npy"});
  CHECK(bad.status == 1);
  CHECK(bad.err.find("nan.npy") != std::string::npos);
  CHECK(bad.err.find("NaN") != std::string::npos);
  CHECK(!fs::exists(dir + "/bad.npy"));
}

TEST_CASE("[cli] median --help shows the size rule and examples") {
  auto r = run_convkit({"median", "--help"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("--size") != std::string::npos);
  CHECK(r.out.find("cv::medianBlur") != std::string::npos);
  CHECK(r.out.find("convkit median noisy.png --size 5 -o clean.png") != std::string::npos);
}

// [cli] edge --operator log / dog, blur and sharpen --alpha and --linear
// through the real binary.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"
#include "cli/float64_fixtures.hpp"
#include "filtering/log_scipy_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

// Transparent black on the left half, opaque white on the right.
cv::Mat half_transparent_white() {
  cv::Mat m = cv::Mat::zeros(24, 32, CV_8UC4);
  m.colRange(16, 32).setTo(cv::Scalar(255, 255, 255, 255));
  return m;
}

double decode(double s) {
  return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
}
double encode(double l) {
  return l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1 / 2.4) - 0.055;
}

}  // namespace

TEST_CASE("[cli] edge --operator log on float64 .npy equals scipy's gaussian_laplace") {
  auto dir = temp_dir();
  const int rows = log_fixture::kRows, cols = log_fixture::kCols;
  write_file(dir + "/in.npy",
             npy_f8({rows, cols},
                    std::vector<double>(log_fixture::kInput, log_fixture::kInput + rows * cols)));
  for (const auto& c : log_fixture::kCases) {
    CAPTURE(c.scipy_mode);
    std::vector<std::string> args = {"edge",    dir + "/in.npy",         "--operator", "log",
                                     "--sigma", std::to_string(c.sigma), "--padding",  c.border,
                                     "-o",      dir + "/out.npy"};
    if (!c.default_size) {
      args.push_back("--size");
      args.push_back(std::to_string(c.size));
    }
    auto r = run_convkit(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const RawNpy got = read_raw_npy(dir + "/out.npy");
    REQUIRE(got.descr == "<f8");
    REQUIRE(got.values.size() == static_cast<std::size_t>(rows * cols));
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < got.values.size(); ++i) {
      worst = std::max(worst, std::fabs(got.values[i] - c.expected[i]));
      scale = std::max(scale, std::fabs(c.expected[i]));
    }
    CHECK(worst / scale < 1e-12);
  }
}

TEST_CASE("[cli] edge --operator dog to .npy equals two cv::GaussianBlur calls subtracted") {
  auto dir = temp_dir();
  cv::Mat src(36, 44, CV_32F);
  cv::theRNG().state = 92;
  cv::randu(src, 0.0, 1.0);
  write_file(dir + "/in.npy", npy_bytes(src));
  auto r = run_convkit({"edge", dir + "/in.npy", "--operator", "dog", "--sigma", "1", "--sigma2",
                        "2", "-o", dir + "/out.npy"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  cv::Mat g1, g2;
  cv::GaussianBlur(src, g1, cv::Size(7, 7), 1, 1, cv::BORDER_REFLECT_101);
  cv::GaussianBlur(src, g2, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
  CHECK(cv::norm(read_npy(dir + "/out.npy"), cv::Mat(g1 - g2), cv::NORM_INF) < 1e-5);
}

TEST_CASE("[cli] signed second-order edges to PNG: zero is mid-grey, the full range fits") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/flat.png", cv::Mat(20, 24, CV_8UC1, cv::Scalar(77))));
  cv::Mat spot = cv::Mat::zeros(40, 40, CV_8UC1);
  spot.at<unsigned char>(20, 20) = 255;  // a bright point
  REQUIRE(cv::imwrite(dir + "/spot.png", spot));
  struct Case {
    std::vector<std::string> op;
    double flat;  // the flat image's mapped value: 0 -> mid-grey 127.5
  };
  for (const Case& c : {Case{{"--operator", "laplacian"}, 127.5},
                        Case{{"--operator", "log", "--sigma", "2"}, 127.5},
                        // one tap, -2/sigma^2 = -200 = -gain: 77 maps to 127.5 - 77/2
                        Case{{"--operator", "log", "--sigma", "0.1"}, 127.5 - 77 / 2.0},
                        Case{{"--operator", "dog", "--sigma", "1.5"}, 127.5},
                        // both Gaussians the identity: an all-zero kernel, gain 0
                        Case{{"--operator", "dog", "--sigma", "1e-9"}, 127.5}}) {
    const std::vector<std::string>& op = c.op;
    CAPTURE(op[op.size() - 1]);
    std::vector<std::string> args = {"edge", dir + "/flat.png", "-o", dir + "/o.png"};
    args.insert(args.end(), op.begin(), op.end());
    auto r = run_convkit(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const cv::Mat flat = cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED);
    double lo = 0, hi = 0;
    cv::minMaxLoc(flat, &lo, &hi);
    CHECK(lo >= c.flat - 1);  // log's truncated kernel is off 0 by < 1 level
    CHECK(hi <= c.flat + 1);
    args[1] = dir + "/spot.png";
    r = run_convkit(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    const cv::Mat s = cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED);
    const int centre = s.at<unsigned char>(20, 20);
    if (op.back() == "1e-9")
      CHECK(centre == 128);
    else if (op[1] == "dog")
      CHECK(centre > 128);  // positive on a bright spot
    else
      CHECK(centre < 128);  // the Laplacians are negative there
  }
}

TEST_CASE("[cli] edge log/dog refuse options that do not apply, with exit 2 and no output") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", cv::Mat(10, 10, CV_8UC1, cv::Scalar(3))));
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--operator", "log", "--direction", "x"},
           {"--operator", "log", "--sigma2", "3"},
           {"--operator", "dog", "--sigma", "2", "--sigma2", "1"},
           {"--operator", "log", "--size", "8"},
           {"--operator", "sobel", "--sigma", "2"},
           {"--operator", "canny", "--low", "1", "--high", "2", "--sigma", "2"},
           {"--operator", "log", "--sigma", "nan"}}) {
    std::vector<std::string> a = {"edge", dir + "/in.png", "-o", dir + "/bad.png"};
    a.insert(a.end(), args.begin(), args.end());
    auto r = run_convkit(a);
    CAPTURE(r.err);
    CHECK(r.status == 2);
    CHECK(is_one_error_line(r));
    CHECK(!fs::exists(dir + "/bad.png"));
  }
}

TEST_CASE("[cli] blur of RGBA is premultiplied: no grey at the transparent edge") {
  auto dir = temp_dir();
  const cv::Mat src = half_transparent_white();
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"blur", dir + "/in.png", "--sigma", "2", "-o", dir + "/out.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(got.type() == CV_8UC4);
  int partial = 0;
  for (int y = 0; y < got.rows; ++y)
    for (int x = 0; x < got.cols; ++x) {
      const cv::Vec4b p = got.at<cv::Vec4b>(y, x);
      if (p[3] > 0 && p[3] < 255) ++partial;
      const int want = p[3] > 0 ? 255 : 0;
      CHECK(p[0] == want);
      CHECK(p[1] == want);
      CHECK(p[2] == want);
    }
  CHECK(partial > 0);
  // --alpha pass: alpha unchanged, the colour blurred on its own (grey at the edge).
  r = run_convkit(
      {"blur", dir + "/in.png", "--sigma", "2", "--alpha", "pass", "-o", dir + "/pass.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const cv::Mat pass = cv::imread(dir + "/pass.png", cv::IMREAD_UNCHANGED);
  std::vector<cv::Mat> a, b;
  cv::split(pass, a);
  cv::split(src, b);
  CHECK(cv::norm(a[3], b[3], cv::NORM_INF) == 0);
  CHECK(pass.at<cv::Vec4b>(5, 16)[0] < 200);
}

TEST_CASE("[cli] blur --linear of 8-bit RGB is within a grey level of the linear-light recipe") {
  auto dir = temp_dir();
  cv::Mat src(30, 40, CV_8UC3);
  cv::theRNG().state = 93;
  cv::randu(src, 0, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"blur", dir + "/in.png", "--sigma", "2", "--linear", "-o", dir + "/o.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const cv::Mat got = cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED);
  cv::Mat lin;
  src.convertTo(lin, CV_32F, 1 / 255.0);
  lin.forEach<cv::Vec3f>([](cv::Vec3f& v, const int*) {
    for (int c = 0; c < 3; ++c) v[c] = static_cast<float>(decode(v[c]));
  });
  cv::Mat b;
  cv::GaussianBlur(lin, b, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
  b.forEach<cv::Vec3f>([](cv::Vec3f& v, const int*) {
    for (int c = 0; c < 3; ++c) v[c] = static_cast<float>(255 * encode(v[c]));
  });
  cv::Mat want;
  b.convertTo(want, CV_8U);
  CHECK(cv::norm(got, want, cv::NORM_INF) <= 1);
}

TEST_CASE("[cli] blur and sharpen --linear round-trip 8-bit images exactly") {
  auto dir = temp_dir();
  cv::Mat ramp(8, 32, CV_8UC1);
  for (int i = 0; i < 256; ++i)
    ramp.at<unsigned char>(i / 32, i % 32) = static_cast<unsigned char>(i);
  REQUIRE(cv::imwrite(dir + "/ramp.png", ramp));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"blur", dir + "/ramp.png", "--sigma", "1e-9", "--linear"},
        {"sharpen", dir + "/ramp.png", "--amount", "0", "--linear"}}) {
    std::vector<std::string> a = args;
    a.push_back("-o");
    a.push_back(dir + "/o.png");
    auto r = run_convkit(a);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(cv::norm(cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED), ramp, cv::NORM_INF) == 0);
  }
}

TEST_CASE("[cli] sharpen of RGBA: premultiplied by default, --alpha pass as before") {
  auto dir = temp_dir();
  cv::Mat src = cv::Mat::zeros(24, 32, CV_8UC4);
  src.colRange(16, 32).setTo(cv::Scalar(100, 100, 100, 255));
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"sharpen", dir + "/in.png", "--sigma", "2", "-o", dir + "/o.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(cv::norm(cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED).colRange(16, 32),
                 src.colRange(16, 32), cv::NORM_INF) == 0);
  r = run_convkit(
      {"sharpen", dir + "/in.png", "--sigma", "2", "--alpha", "pass", "-o", dir + "/p.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(cv::imread(dir + "/p.png", cv::IMREAD_UNCHANGED).at<cv::Vec4b>(5, 16)[0] > 130);
  for (const char* cmd : {"blur", "sharpen"}) {
    auto bad = run_convkit({cmd, dir + "/in.png", "--alpha", "multiply", "-o", dir + "/bad.png"});
    CHECK(bad.status == 2);
    CHECK(is_one_error_line(bad));
    CHECK(!fs::exists(dir + "/bad.png"));
  }
}

TEST_CASE("[cli] convolve --alpha premultiply equals premultiply -> cv::blur -> divide") {
  auto dir = temp_dir();
  cv::Mat src(26, 34, CV_8UC4);
  cv::theRNG().state = 94;
  cv::randu(src, 0, 256);
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < 10; ++x) src.at<cv::Vec4b>(y, x)[3] = 0;  // a transparent strip
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"convolve", dir + "/in.png", "box-3", "--mode", "same", "--padding",
                        "reflect", "--alpha", "premultiply", "-o", dir + "/o.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const cv::Mat got = cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED);
  REQUIRE(got.type() == CV_8UC4);
  std::vector<cv::Mat> ch;
  cv::split(src, ch);
  cv::Mat a, ba;
  ch[3].convertTo(a, CV_32F);
  cv::blur(a, ba, cv::Size(3, 3), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
  int worst = 0;
  for (int c = 0; c < 4; ++c) {
    cv::Mat f, bc;
    ch[static_cast<std::size_t>(c)].convertTo(f, CV_32F);
    if (c < 3) f = f.mul(a);
    cv::blur(f, bc, cv::Size(3, 3), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
    for (int y = 0; y < src.rows; ++y)
      for (int x = 0; x < src.cols; ++x) {
        const float al = ba.at<float>(y, x);
        const double want = c == 3 ? al : (al > 0 ? bc.at<float>(y, x) / al : 0.0);
        worst = std::max(
            worst, static_cast<int>(std::lround(std::fabs(want - got.at<cv::Vec4b>(y, x)[c]))));
      }
  }
  CHECK(worst <= 1);
  auto bad = run_convkit({"convolve", "[1 2 3; 4 5 6; 7 8 9]", "[1]", "--alpha", "premultiply"});
  CHECK(bad.status == 2);
  CHECK(is_one_error_line(bad));
}

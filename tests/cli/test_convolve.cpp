// [convolve] the seed's problem 2 from the shell, invariants of convolution,
// images in every format, value policies and bad input, all through the binary.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "cli/filtering_fixtures.hpp"
#include "cli/float64_fixtures.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "support/run.hpp"

using convkit::test::parse_pairs;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::source_path;
using convkit::test::temp_dir;
using convkit::test::write_file;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<double>> parse_rows(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<double> r;
    double v;
    while (ls >> v) r.push_back(v);
    if (!r.empty()) rows.push_back(r);
  }
  return rows;
}

std::string matrix_text(const std::vector<std::vector<double>>& m) {
  std::ostringstream out;
  out.precision(17);
  for (const auto& r : m) {
    for (std::size_t c = 0; c < r.size(); ++c) out << (c ? " " : "") << r[c];
    out << "\n";
  }
  return out.str();
}

// The seed's eq. (2): rect of length L through h(n) = 0.5^n u(n).
double closed_form(long long n, int L) {
  if (n < 0) return 0;
  if (n < L - 1) return 2.0 - std::pow(2.0, -double(n));
  return (std::pow(2.0, L) - 1) / std::pow(2.0, double(n));
}

bool one_error_line(const convkit::test::RunResult& r) {
  return r.err.rfind("convkit: error: ", 0) == 0 && r.err.find('\n') == r.err.size() - 1;
}

const char* kSeedX = "[1 2 3 4 5; 6 7 8 9 10; 11 12 13 14 15; 16 17 18 19 20; 21 22 23 24 25]";
const char* kSeedH = "[-1 -2 -1; 0 0 0; 1 2 1]";

}  // namespace

TEST_CASE("[convolve] seed 2(a): rect L=7 through 0.5^n u(n) matches eq. (2) from -6 to 12") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"signal", "rect", "--length", "7", "-o", "x.txt"}, "", dir).status == 0);
  REQUIRE(run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "64", "-o", "h.txt"},
                      "", dir)
              .status == 0);
  auto r = run_convkit({"convolve", "x.txt", "h.txt", "--range", "-6:12"}, "", dir);
  REQUIRE(r.status == 0);
  auto y = parse_pairs(r.out);
  REQUIRE(y.size() == 19);
  CHECK(y.begin()->first == -6);
  CHECK(y.rbegin()->first == 12);
  for (long long n = -6; n <= 12; ++n) {
    CAPTURE(n);
    CHECK(std::fabs(y.at(n) - closed_form(n, 7)) < 1e-6);
  }
  CHECK(y.at(6) == 1.984375);  // (2^7 - 1) / 2^6, exact in binary
}

TEST_CASE("[convolve] seed 2(b): shifting x by N=5 shifts y by 5 (shift equivariance)") {
  const std::string dir = temp_dir();
  run_convkit({"signal", "rect", "--length", "7", "-o", "x.txt"}, "", dir);
  run_convkit({"signal", "rect", "--length", "7", "--shift", "5", "-o", "x2.txt"}, "", dir);
  run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "64", "-o", "h.txt"}, "", dir);
  auto y =
      parse_pairs(run_convkit({"convolve", "x.txt", "h.txt", "--range", "-6:30"}, "", dir).out);
  auto r2 = run_convkit({"convolve", "x2.txt", "h.txt", "--range", "-6:30"}, "", dir);
  REQUIRE(r2.status == 0);
  auto y2 = parse_pairs(r2.out);
  REQUIRE(y2.size() == 37);
  for (long long n = -6; n <= 30; ++n) {
    CAPTURE(n);
    CHECK(std::fabs(y2.at(n) - closed_form(n - 5, 7)) < 1e-6);
    if (n - 5 >= -6) CHECK(y2.at(n) == y.at(n - 5));
  }
}

TEST_CASE("[convolve] seed 2(c): no flags give the 3x3 matrix of -40") {
  auto r = run_convkit({"convolve", kSeedX, kSeedH});
  CHECK(r.status == 0);
  CHECK(r.out == "-40 -40 -40\n-40 -40 -40\n-40 -40 -40\n");
  auto f =
      run_convkit({"convolve", source_path("data/seed-x.txt"), source_path("data/seed-h.txt")});
  CHECK(f.out == r.out);
}

TEST_CASE("[convolve] seed 2(d): stride 1 pad 1 and stride 2 pad 1 exactly") {
  auto i = run_convkit({"convolve", kSeedX, kSeedH, "--stride", "1", "--pad", "1"});
  CHECK(i.status == 0);
  CHECK(i.out ==
        "-19 -28 -32 -36 -29\n"
        "-30 -40 -40 -40 -30\n"
        "-30 -40 -40 -40 -30\n"
        "-30 -40 -40 -40 -30\n"
        "49 68 72 76 59\n");
  auto ii = run_convkit({"convolve", kSeedX, kSeedH, "--stride", "2", "--pad", "1"});
  CHECK(ii.status == 0);
  CHECK(ii.out == "-19 -32 -29\n-30 -40 -30\n49 72 59\n");
}

TEST_CASE("[convolve] convolution and correlation differ exactly by the kernel flip") {
  const std::string dir = temp_dir();
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> d(-9, 9);
  std::vector<std::vector<double>> x(6, std::vector<double>(7)), k(3, std::vector<double>(4)),
      kf(3, std::vector<double>(4));
  for (auto& r : x)
    for (auto& v : r) v = d(rng);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) k[r][c] = d(rng);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) kf[r][c] = k[2 - r][3 - c];
  write_file(dir + "/x.txt", matrix_text(x));
  write_file(dir + "/k.txt", matrix_text(k));
  write_file(dir + "/kf.txt", matrix_text(kf));
  for (const char* mode : {"full", "same", "valid"}) {
    CAPTURE(mode);
    auto conv = run_convkit({"convolve", "x.txt", "k.txt", "--mode", mode}, "", dir);
    auto corr =
        run_convkit({"convolve", "x.txt", "kf.txt", "--mode", mode, "--correlate"}, "", dir);
    auto corr_same =
        run_convkit({"convolve", "x.txt", "k.txt", "--mode", mode, "--correlate"}, "", dir);
    REQUIRE(conv.status == 0);
    CHECK(conv.out == corr.out);
    CHECK(conv.out != corr_same.out);  // this kernel is not symmetric
  }
  // Brute force for the valid correlation: y[m][n] = sum x[m+i][n+j] k[i][j].
  auto rows = parse_rows(run_convkit({"convolve", "x.txt", "k.txt", "--correlate"}, "", dir).out);
  REQUIRE(rows.size() == 4);
  for (int m = 0; m < 4; ++m)
    for (int n = 0; n < 4; ++n) {
      double s = 0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) s += x[m + i][n + j] * k[i][j];
      CHECK(rows[m][n] == s);
    }
}

TEST_CASE("[convolve] with circular padding, convolution commutes with circular shifts") {
  const std::string dir = temp_dir();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> d(-1, 1);
  const int H = 7, W = 9, dy = 2, dx = 3;
  std::vector<std::vector<double>> x(H, std::vector<double>(W)), xs = x;
  for (auto& r : x)
    for (auto& v : r) v = std::round(d(rng) * 64) / 64;
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) xs[(r + dy) % H][(c + dx) % W] = x[r][c];
  write_file(dir + "/x.txt", matrix_text(x));
  write_file(dir + "/xs.txt", matrix_text(xs));
  const char* k = "[1 -2 0.5; 0.25 3 -1; 2 0 1]";
  auto y = parse_rows(
      run_convkit({"convolve", "x.txt", k, "--pad", "1", "--padding", "circular"}, "", dir).out);
  auto ys = parse_rows(
      run_convkit({"convolve", "xs.txt", k, "--pad", "1", "--padding", "circular"}, "", dir).out);
  REQUIRE(y.size() == H);
  REQUIRE(ys.size() == H);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c)
      CHECK(ys[(r + dy) % H][(c + dx) % W] == doctest::Approx(y[r][c]).epsilon(1e-12));
  // Zero padding breaks it at the borders.
  auto z = parse_rows(run_convkit({"convolve", "x.txt", k, "--pad", "1"}, "", dir).out);
  auto zs = parse_rows(run_convkit({"convolve", "xs.txt", k, "--pad", "1"}, "", dir).out);
  int differ = 0;
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c)
      differ += std::fabs(zs[(r + dy) % H][(c + dx) % W] - z[r][c]) > 1e-9;
  CHECK(differ > 0);
}

TEST_CASE("[convolve] an identity kernel gives the input back") {
  const std::string dir = temp_dir();
  write_file(dir + "/x.txt", "1.5 -2 3\n4 5e-3 6\n");
  auto r = run_convkit({"convolve", "x.txt", "[0 0 0; 0 1 0; 0 0 0]", "--mode", "same"}, "", dir);
  CHECK(r.status == 0);
  CHECK(r.out == "1.5 -2 3\n4 0.005 6\n");
  auto s = run_convkit({"convolve", "[3 1 4 1 5]", "[1]"});
  CHECK(s.out == "# n value\n0 3\n1 1\n2 4\n3 1\n4 5\n");
}

TEST_CASE("[convolve] signals keep their origins") {
  const std::string dir = temp_dir();
  write_file(dir + "/x.txt", "# n value\n-2 1\n-1 2\n0 3\n");
  write_file(dir + "/h.txt", "3 1\n4 -1\n");
  auto r = run_convkit({"convolve", "x.txt", "h.txt"}, "", dir);
  CHECK(r.status == 0);
  // x = [1 2 3] from n=-2, h = [1 -1] from n=3: y = [1 1 1 -3] from n=1.
  CHECK(r.out == "# n value\n1 1\n2 1\n3 1\n4 -3\n");
  auto o = run_convkit({"convolve", "[1 2 3]", "[1 -1]", "--origin", "-2", "--kernel-origin", "3"});
  CHECK(o.out == r.out);
  // Correlation: y[n] = sum_k x[n+k] h[k] starts at a - b - (K-1) = -2 - 3 - 1 = -6.
  auto c = run_convkit({"convolve", "x.txt", "h.txt", "--correlate"}, "", dir);
  CHECK(c.out == "# n value\n-6 -1\n-5 -1\n-4 -1\n-3 3\n");
  // same mode keeps the input's length, centred on full.
  auto s = run_convkit({"convolve", "[1 2 3 4]", "[1 1 1]", "--mode", "same"});
  CHECK(s.out == "# n value\n1 3\n2 6\n3 9\n4 7\n");
  // Standard input, one value per line.
  auto in = run_convkit({"convolve", "-", "[1 1]"}, "1\n2\n3\n");
  CHECK(in.out == "# n value\n0 1\n1 3\n2 5\n3 3\n");
  // --as matrix treats a two-column "n value" file as a matrix.
  auto m = run_convkit({"convolve", "x.txt", "[1]", "--as", "matrix"}, "", dir);
  CHECK(m.out == "-2 1\n-1 2\n0 3\n");
}

TEST_CASE("[convolve] images: per-channel filtering matches OpenCV, alpha passes through") {
  const std::string dir = temp_dir();
  cv::Mat bgra(20, 24, CV_8UC4);
  cv::randu(bgra, 0, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", bgra));
  auto r = run_convkit(
      {"convolve", "in.png", "[0.0625 0.125 0.0625; 0.125 0.25 0.125; 0.0625 0.125 0.0625]",
       "--mode", "same", "--padding", "replicate", "-o", "out.png"},
      "", dir);
  REQUIRE(r.status == 0);
  cv::Mat out = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(out.type() == CV_8UC4);
  cv::Mat f, ref;
  bgra.convertTo(f, CV_32F);
  cv::Mat k = (cv::Mat_<float>(3, 3) << 1, 2, 1, 2, 4, 2, 1, 2, 1) / 16.0f;
  cv::filter2D(f, ref, CV_32F, k, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  double worst = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 24; ++x) {
      for (int c = 0; c < 3; ++c)
        worst = std::max(
            worst, double(std::fabs(out.at<cv::Vec4b>(y, x)[c] - ref.at<cv::Vec4f>(y, x)[c])));
      CHECK(out.at<cv::Vec4b>(y, x)[3] == bgra.at<cv::Vec4b>(y, x)[3]);
    }
  CHECK(worst <= 0.5 + 1e-3);
}

TEST_CASE("[convolve] --filter-alpha filters the alpha channel like the others") {
  const std::string dir = temp_dir();
  cv::Mat ga(1, 4, CV_8UC4);
  for (int x = 0; x < 4; ++x)
    ga.at<cv::Vec4b>(0, x) = cv::Vec4b(10, 20, 30, static_cast<uchar>(40 * x));
  REQUIRE(cv::imwrite(dir + "/in.png", ga));
  REQUIRE(run_convkit({"convolve", "in.png", "[0.5 0.5]", "--filter-alpha", "-o", "f.png"}, "", dir)
              .status == 0);
  REQUIRE(run_convkit({"convolve", "in.png", "[0.5 0.5]", "-o", "p.png"}, "", dir).status == 0);
  cv::Mat f = cv::imread(dir + "/f.png", cv::IMREAD_UNCHANGED),
          p = cv::imread(dir + "/p.png", cv::IMREAD_UNCHANGED);
  REQUIRE(f.cols == 3);
  REQUIRE(p.cols == 3);
  for (int x = 0; x < 3; ++x) {
    CHECK(f.at<cv::Vec4b>(0, x)[3] == 40 * x + 20);  // (40x + 40(x+1)) / 2
    CHECK(f.at<cv::Vec4b>(0, x)[0] == 10);
    // Pass-through alpha is sampled under the flipped kernel's centre: the input at x + 1.
    CHECK(p.at<cv::Vec4b>(0, x)[3] == 40 * (x + 1));
  }
}

TEST_CASE("[convolve] 16-bit PNG stays 16-bit and an identity kernel keeps every sample") {
  const std::string dir = temp_dir();
  cv::Mat g16(9, 13, CV_16UC1);
  cv::randu(g16, 0, 65536);
  REQUIRE(cv::imwrite(dir + "/in.png", g16));
  auto r = run_convkit({"convolve", "in.png", "[1]", "-o", "out.png"}, "", dir);
  REQUIRE(r.status == 0);
  cv::Mat out = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED);
  REQUIRE(out.type() == CV_16UC1);
  CHECK(cv::norm(out, g16, cv::NORM_INF) == 0);
}

TEST_CASE("[convolve] images go out in every format and come back") {
  const std::string dir = temp_dir();
  cv::Mat bgr(10, 12, CV_8UC3);  // smooth, so that JPEG stays close too
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 12; ++x)
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(20 + 10 * x, 30 + 9 * y, 100 + 3 * (x + y));
  REQUIRE(cv::imwrite(dir + "/in.ppm", bgr));
  for (const char* ext : {"png", "bmp", "tga", "ppm", "npy", "jpg"}) {
    CAPTURE(ext);
    const std::string out = std::string("out.") + ext;
    auto r = run_convkit(
        {"convolve", "in.ppm", "[0 0 0; 0 1 0; 0 0 0]", "--mode", "same", "-o", out}, "", dir);
    REQUIRE(r.status == 0);
    convkit::Image a = convkit::read_image(dir + "/in.ppm");
    convkit::Image b = convkit::read_image(dir + "/" + out);
    REQUIRE(b.channels == 3);
    REQUIRE(b.width == 12);
    double worst = 0;
    for (std::size_t k = 0; k < a.data.size(); ++k)
      worst = std::max(worst, double(std::fabs(a.data[k] - b.data[k])));
    if (std::string(ext) == "jpg")
      CHECK(worst < 16);
    else
      CHECK(worst == 0);
  }
  // .npy in, .npy out: float values exactly.
  convkit::NpyArray a;
  a.shape = {3, 4, 2};
  for (int k = 0; k < 24; ++k) a.data.push_back(0.1 * k - 1);
  convkit::write_npy(dir + "/f.npy", a, convkit::NpyType::f4);
  auto r = run_convkit({"convolve", "f.npy", "[1]", "-o", "g.npy"}, "", dir);
  REQUIRE(r.status == 0);
  auto b = convkit::read_npy(dir + "/g.npy");
  CHECK(b.shape == a.shape);
  CHECK(b.data == convkit::read_npy(dir + "/f.npy").data);
  // A 2-D .npy is a matrix: float64 out.
  convkit::NpyArray m;
  m.shape = {2, 2};
  m.data = {0.1, 0.2, 0.3, 1e-300};
  convkit::write_npy(dir + "/m.npy", m);
  REQUIRE(run_convkit({"convolve", "m.npy", "[1]", "-o", "m2.npy"}, "", dir).status == 0);
  CHECK(convkit::read_npy(dir + "/m2.npy").data == m.data);
}

TEST_CASE("[convolve] negative results are refused for 8-bit output unless a policy is given") {
  const std::string dir = temp_dir();
  cv::Mat g(8, 8, CV_8UC1);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) g.at<uchar>(y, x) = static_cast<uchar>(x * 30);
  REQUIRE(cv::imwrite(dir + "/ramp.png", g));
  const char* k = "[1 0 -1; 2 0 -2; 1 0 -1]";  // true convolution: positive where x grows
  auto bad = run_convkit({"convolve", "ramp.png", k, "--correlate", "-o", "e.png"}, "", dir);
  CHECK(bad.status == 1);
  CHECK(one_error_line(bad));
  CHECK(bad.err.find("--abs") != std::string::npos);
  CHECK(bad.err.find("--clip") != std::string::npos);
  CHECK(!fs::exists(dir + "/e.png"));
  auto ok =
      run_convkit({"convolve", "ramp.png", k, "--correlate", "--abs", "-o", "e.png"}, "", dir);
  CHECK(ok.status == 0);
  cv::Mat e = cv::imread(dir + "/e.png", cv::IMREAD_UNCHANGED);
  REQUIRE(e.rows == 6);
  CHECK(e.at<uchar>(0, 0) == 240);  // |-(4 * 60)|
  auto off =
      run_convkit({"convolve", "ramp.png", "[1 -1]", "--offset", "128", "-o", "o.png"}, "", dir);
  CHECK(off.status == 0);
  CHECK(cv::imread(dir + "/o.png", cv::IMREAD_UNCHANGED).at<uchar>(0, 0) == 128 + 30);
  // Policies make no sense for exact outputs.
  auto text = run_convkit({"convolve", "[1 2]", "[1]", "--abs"});
  CHECK(text.status == 2);
}

TEST_CASE("[convolve] -o may name the input") {
  const std::string dir = temp_dir();
  write_file(dir + "/m.txt", "1 2 3\n4 5 6\n");
  auto r = run_convkit({"convolve", "m.txt", "[2]", "-o", "m.txt"}, "", dir);
  CHECK(r.status == 0);
  CHECK(read_file(dir + "/m.txt") == "2 4 6\n8 10 12\n");
  cv::Mat g(5, 5, CV_8UC1, cv::Scalar(7));
  REQUIRE(cv::imwrite(dir + "/g.png", g));
  CHECK(run_convkit({"convolve", "g.png", "[2]", "-o", "g.png"}, "", dir).status == 0);
  CHECK(cv::imread(dir + "/g.png", cv::IMREAD_UNCHANGED).at<uchar>(2, 2) == 14);
}

TEST_CASE("[convolve] bad input gives one error line, the right exit status and no output file") {
  const std::string dir = temp_dir();
  write_file(dir + "/num.txt", "1 2 3\n4 x5 6\n");
  write_file(dir + "/ragged.txt", "1 2 3\n4 5\n");
  write_file(dir + "/small.txt", "1 2\n3 4\n");
  cv::Mat g(30, 30, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uchar> png;
  cv::imencode(".png", g, png);
  write_file(dir + "/trunc.png", std::string(png.begin(), png.begin() + png.size() / 2));
  std::string huge(png.begin(), png.begin() + 33);
  for (int k = 0; k < 4; ++k) huge[16 + k] = huge[20 + k] = "\x00\x0f\x42\x40"[k];  // 1,000,000
  write_file(dir + "/huge.png", huge);
  write_file(dir + "/lie.npy",
             std::string("\x93NUMPY\x01\x00\x46\x00", 10) +
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (9000, 9000), }" +
                 std::string(5, ' ') + "\n" + std::string(64, '\0'));
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string needle;
  };
  const Case cases[] = {
      {{"convolve", "num.txt", "[1]", "-o", "out.txt"}, 1, "num.txt:2:3"},
      {{"convolve", "ragged.txt", "[1]", "-o", "out.txt"}, 1, "ragged.txt:2"},
      {{"convolve", "small.txt", "[1 2]", "--stride", "0", "-o", "out.txt"}, 2, "stride"},
      {{"convolve", "small.txt", "[1 2 3; 4 5 6; 7 8 9]", "-o", "out.txt"}, 2, "empty"},
      {{"convolve", "small.txt", "[1 2 3; 4 5 6; 7 8 9]", "--mode", "valid", "-o", "out.txt"},
       2,
       "kernel"},
      {{"convolve", "small.txt", "no-such-filter-xyz", "-o", "out.txt"}, 2, "no-such-filter-xyz"},
      {{"convolve", "small.txt", "[1 2; 3]", "-o", "out.txt"}, 2, "ragged"},
      {{"convolve", "small.txt", "[1 2]", "--padding", "mirorr", "-o", "out.txt"}, 2, "mirorr"},
      {{"convolve", "small.txt", "[1 2]", "--mode", "middle", "-o", "out.txt"}, 2, "middle"},
      {{"convolve", "trunc.png", "[1]", "-o", "out.png"}, 1, "trunc.png"},
      {{"convolve", "huge.png", "[1]", "-o", "out.png"}, 1, "huge.png"},
      {{"convolve", "lie.npy", "[1]", "-o", "out.npy"}, 1, "lie.npy"},
      {{"convolve", "missing.txt", "[1]", "-o", "out.txt"}, 1, "missing.txt"},
      {{"convolve", "trunc.png", "[1]"}, 1, "trunc.png"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args[1]);
    CAPTURE(c.args[2]);
    auto r = run_convkit(c.args, "", dir);
    CAPTURE(r.err);
    CHECK(r.status == c.status);
    CHECK(one_error_line(r));
    CHECK(r.err.find(c.needle) != std::string::npos);
    CHECK(r.out.empty());
    CHECK(!fs::exists(dir + "/out.txt"));
    CHECK(!fs::exists(dir + "/out.png"));
    CHECK(!fs::exists(dir + "/out.npy"));
  }
  int leftovers = 0;
  for (const auto& e : fs::directory_iterator(dir))
    leftovers += e.path().filename().string()[0] == '.';
  CHECK(leftovers == 0);  // no temporary files left behind
}

TEST_CASE("[cli] convolve keeps float64 npy end to end") {
  using namespace convkit::test;
  const std::string dir = temp_dir();
  const int h = 7, w = 8, c = 3;
  const std::vector<double> x = values_near_1e9(static_cast<std::size_t>(h) * w * c, 21);
  write_file(dir + "/x.npy", npy_f8({h, w, c}, x));
  const std::vector<double> k = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  // True convolution, no padding: y[r][q] = sum_{i,j} x[r+2-i][q+2-j] k[i][j].
  auto reference = [&](int ch) {
    std::vector<double> y;
    for (int r = 0; r < h - 2; ++r)
      for (int q = 0; q < w - 2; ++q) {
        double s = 0;
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j)
            s += x[((r + 2 - i) * w + (q + 2 - j)) * c + ch] * k[i * 3 + j];
        y.push_back(s);
      }
    return y;
  };
  auto r = run_convkit({"convolve", "x.npy", "[1 2 3; 4 5 6; 7 8 10]", "-o", "y.npy"}, "", dir);
  REQUIRE(r.status == 0);
  const RawNpy y = read_raw_npy(dir + "/y.npy");
  CHECK(y.descr == "<f8");
  CHECK(y.shape == std::vector<long long>{h - 2, w - 2, c});
  for (int ch = 0; ch < c; ++ch) {
    CAPTURE(ch);
    const auto ref = reference(ch);
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
      worst = std::max(worst, std::fabs(y.values[i * c + ch] - ref[i]) / std::fabs(ref[i]));
    CHECK(worst < 1e-12);
  }
  // Standard output keeps the same bytes (NPY for .npy float input).
  auto out = run_convkit({"convolve", "x.npy", "[1 2 3; 4 5 6; 7 8 10]", "-o", "-"}, "", dir);
  REQUIRE(out.status == 0);
  CHECK(out.out == read_file(dir + "/y.npy"));
  // A 2-D float64 array as an image (--as image) stays float64 too; --bit-depth 32 asks float32.
  write_file(dir + "/g.npy", npy_f8({h, w}, std::vector<double>(x.begin(), x.begin() + h * w)));
  REQUIRE(run_convkit({"convolve", "g.npy", "identity", "--as", "image", "-o", "g2.npy"}, "", dir)
              .status == 0);
  const RawNpy g2 = read_raw_npy(dir + "/g2.npy");
  CHECK(g2.descr == "<f8");
  CHECK(g2.values[0] == x[1 * w + 1]);
  REQUIRE(run_convkit({"convolve", "g.npy", "identity", "--as", "image", "--bit-depth", "32", "-o",
                       "g3.npy"},
                      "", dir)
              .status == 0);
  CHECK(read_raw_npy(dir + "/g3.npy").descr == "<f4");
}

TEST_CASE("[cli] convolve writes a 2-D float32 .npy to .npy in float32, computed in float32") {
  using namespace convkit::test;
  const std::string dir = temp_dir();
  const int h = 20, w = 23;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  cv::Mat x(h, w, CV_32F);
  for (int i = 0; i < h * w; ++i) x.at<float>(i / w, i % w) = u(rng);
  write_file(dir + "/x.npy", npy_bytes(x));
  const float k[9] = {1, 2, 3, 4, 5, 6, 7, 8, 10};
  auto r = run_convkit(
      {"convolve", "x.npy", "[1 2 3; 4 5 6; 7 8 10]", "--mode", "same", "-o", "y.npy"}, "", dir);
  REQUIRE(r.status == 0);
  const RawNpy y = read_raw_npy(dir + "/y.npy");
  CHECK(y.descr == "<f4");
  CHECK(y.shape == std::vector<long long>{h, w});
  // True convolution, zero border, 'same': y[r][q] = sum x[r+1-i][q+1-j] k[i][j].
  double worst = 0;
  for (int row = 0; row < h; ++row)
    for (int q = 0; q < w; ++q) {
      double s = 0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          const int a = row + 1 - i, b = q + 1 - j;
          if (a >= 0 && a < h && b >= 0 && b < w) s += double(x.at<float>(a, b)) * k[i * 3 + j];
        }
      worst = std::max(worst, std::fabs(y.values[static_cast<std::size_t>(row) * w + q] - s));
    }
  CHECK(worst < 1e-5);
  // The same file through standard input (read, not mapped) gives the same bytes.
  auto piped =
      run_convkit({"convolve", "-", "[1 2 3; 4 5 6; 7 8 10]", "--mode", "same", "-o", "z.npy"},
                  read_file(dir + "/x.npy"), dir);
  REQUIRE(piped.status == 0);
  CHECK(read_file(dir + "/z.npy") == read_file(dir + "/y.npy"));
  // Big-endian data (not the engine's layout: converted on reading) gives the same bytes.
  std::string be = npy_header_bytes(">f4", std::to_string(h) + ", " + std::to_string(w));
  const std::string le = read_file(dir + "/x.npy");
  for (std::size_t i = le.size() - 4 * static_cast<std::size_t>(h) * w; i < le.size(); i += 4)
    be += {le[i + 3], le[i + 2], le[i + 1], le[i]};
  write_file(dir + "/be.npy", be);
  REQUIRE(run_convkit({"convolve", "be.npy", "[1 2 3; 4 5 6; 7 8 10]", "--mode", "same", "-o",
                       "be-out.npy"},
                      "", dir)
              .status == 0);
  CHECK(read_file(dir + "/be-out.npy") == read_file(dir + "/y.npy"));
  // The pixel limit holds on the mapped path as on the others.
  for (const std::string in : {"x.npy", "be.npy"}) {
    CAPTURE(in);
    auto big = run_convkit(
        {"convolve", in, "[1 2 3; 4 5 6; 7 8 10]", "--max-pixels", "100", "-o", "big.npy"}, "",
        dir);
    CHECK(big.status == 1);
    CHECK(one_error_line(big));
    CHECK(!std::filesystem::exists(dir + "/big.npy"));
  }
  // --as matrix keeps the float64 matrix path.
  REQUIRE(run_convkit({"convolve", "x.npy", "[1 2 3; 4 5 6; 7 8 10]", "--mode", "same", "--as",
                       "matrix", "-o", "m.npy"},
                      "", dir)
              .status == 0);
  CHECK(read_raw_npy(dir + "/m.npy").descr == "<f8");
}

TEST_CASE("[cli] a 2-D float64 .npy gives the same bytes as through the float64 matrix path") {
  using namespace convkit::test;
  const std::string dir = temp_dir();
  const int h = 9, w = 11;
  write_file(dir + "/x.npy", npy_f8({h, w}, values_near_1e9(static_cast<std::size_t>(h) * w, 3)));
  for (const char* mode : {"same", "valid", "full"}) {
    CAPTURE(mode);
    auto a =
        run_convkit({"convolve", "x.npy", "[1 2; 3 5]", "--mode", mode, "-o", "a.npy"}, "", dir);
    auto b = run_convkit(
        {"convolve", "x.npy", "[1 2; 3 5]", "--mode", mode, "--as", "matrix", "-o", "b.npy"}, "",
        dir);
    REQUIRE(a.status == 0);
    REQUIRE(b.status == 0);
    CHECK(read_file(dir + "/a.npy") == read_file(dir + "/b.npy"));
  }
}

TEST_CASE("[cli] convolve -o - takes --format for an image result and refuses it elsewhere") {
  using namespace convkit::test;
  const std::string dir = temp_dir();
  write_file(dir + "/x.npy", npy_f8({4, 5, 3}, values_near_1e9(60, 22)));
  auto png = run_convkit({"convolve", "x.npy", "[1]", "-o", "-", "--format", "png", "--normalize"},
                         "", dir);
  REQUIRE(png.status == 0);
  CHECK(png.out.rfind("\x89PNG", 0) == 0);
  // Integer output of float data still needs a value policy.
  auto nopolicy = run_convkit({"convolve", "x.npy", "[1]", "-o", "-", "--format", "png"}, "", dir);
  CHECK(nopolicy.status == 1);
  CHECK(nopolicy.out.empty());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"convolve", "x.npy", "[1]", "-o", "y.npy", "--format", "png"},
           {"convolve", "[1 2 3]", "[1]", "-o", "-", "--format", "npy"},
           {"convolve", "x.npy", "[1]", "-o", "-", "--format", "gif"}}) {
    auto r = run_convkit(args, "", dir);
    CHECK(r.status == 2);
    CHECK(one_error_line(r));
    CHECK(r.out.empty());
  }
}

TEST_CASE("[cli] seed 2(b) through .npy keeps the shift (the origin is stored in the file)") {
  using namespace convkit::test;
  const std::string dir = temp_dir();
  run_convkit({"signal", "rect", "--length", "7", "--shift", "5", "-o", "x2.txt"}, "", dir);
  REQUIRE(run_convkit({"signal", "rect", "--length", "7", "--shift", "5", "-o", "x2.npy"}, "", dir)
              .status == 0);
  run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "64", "-o", "h.txt"}, "", dir);
  REQUIRE(run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "64", "-o", "h.npy"},
                      "", dir)
              .status == 0);
  auto text = run_convkit({"convolve", "x2.txt", "h.txt", "--range", "-6:30"}, "", dir);
  auto npy = run_convkit({"convolve", "x2.npy", "h.npy", "--range", "-6:30"}, "", dir);
  REQUIRE(npy.status == 0);
  CHECK(npy.out == text.out);
  auto y = parse_pairs(npy.out);
  for (long long n = -6; n <= 30; ++n) {
    CAPTURE(n);
    CHECK(std::fabs(y.at(n) - closed_form(n - 5, 7)) < 1e-12);
  }
  // A result written as .npy keeps its first index too (full convolution from n=5).
  REQUIRE(run_convkit({"convolve", "x2.npy", "h.npy", "-o", "y.npy"}, "", dir).status == 0);
  CHECK(read_raw_npy(dir + "/y.npy").header.find("# convkit origin: 5") != std::string::npos);
  auto again = run_convkit({"convolve", "y.npy", "[1]"}, "", dir);
  CHECK(again.out == run_convkit({"convolve", "x2.npy", "h.npy"}, "", dir).out);
  CHECK(parse_pairs(again.out).begin()->first == 5);
  // As a kernel, a .npy signal keeps its origin too: [1] through x2.npy starts at n=5.
  auto as_kernel = run_convkit({"convolve", "[1]", "x2.npy"}, "", dir);
  CHECK(as_kernel.out == run_convkit({"convolve", "[1]", "x2.txt"}, "", dir).out);
  CHECK(parse_pairs(as_kernel.out).begin()->first == 5);
}

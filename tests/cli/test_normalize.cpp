// [cli] sample, normalize and plot through the real binary: the seed's
// problem 1 (batch normalization of 1D and 2D Gaussians) and stem plots.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/run.hpp"

using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

namespace {

// Rows of whitespace/comma separated numbers, parsed independently of convkit.
std::vector<std::vector<double>> rows_of(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    for (char& c : line)
      if (c == ',') c = ' ';
    std::istringstream ls(line);
    std::vector<double> r;
    double v;
    while (ls >> v) r.push_back(v);
    if (!r.empty()) rows.push_back(r);
  }
  return rows;
}

struct Moments {
  double mean, var;
};
Moments moments(const std::vector<std::vector<double>>& rows, std::size_t c) {
  double s = 0;
  for (const auto& r : rows) s += r.at(c);
  const double m = s / rows.size();
  double q = 0;
  for (const auto& r : rows) q += (r[c] - m) * (r[c] - m);
  return {m, q / rows.size()};
}
double covariance(const std::vector<std::vector<double>>& rows) {
  const Moments a = moments(rows, 0), b = moments(rows, 1);
  double q = 0;
  for (const auto& r : rows) q += (r[0] - a.mean) * (r[1] - b.mean);
  return q / rows.size();
}

bool one_error_line(const convkit::test::RunResult& r) {
  return r.err.rfind("convkit: error: ", 0) == 0 && r.err.find('\n') == r.err.size() - 1;
}

// A PNG of the given size that is neither blank nor lacking axes.
void check_png(const std::string& path, int w, int h) {
  const cv::Mat m = cv::imread(path, cv::IMREAD_COLOR);
  REQUIRE_MESSAGE(!m.empty(), path);
  CHECK(m.cols == w);
  CHECK(m.rows == h);
  int nonwhite = 0, best_v = 0;
  for (int x = 0; x < m.cols; ++x) {
    int run = 0;
    for (int y = 0; y < m.rows; ++y) {
      const auto px = m.at<cv::Vec3b>(y, x);
      if (px != cv::Vec3b(255, 255, 255)) ++nonwhite;
      run = (px[0] < 80 && px[1] < 80 && px[2] < 80) ? run + 1 : 0;
      best_v = std::max(best_v, run);
    }
  }
  CHECK(nonwhite > w * h / 50);  // not blank
  CHECK(best_v > h / 3);         // a vertical axis line
}

}  // namespace

TEST_CASE("[cli] sample gaussian draws the requested mean and variance, reproducibly by seed") {
  auto r = run_convkit(
      {"sample", "gaussian", "--mean", "1.5", "--var", "0.16", "--count", "10000", "--seed", "1"});
  REQUIRE(r.status == 0);
  const auto rows = rows_of(r.out);
  REQUIRE(rows.size() == 10000);
  CHECK(rows[0].size() == 1);
  const Moments m = moments(rows, 0);
  // 5 standard errors: sd/sqrt(n) for the mean, var*sqrt(2/n) for the variance.
  CHECK(std::abs(m.mean - 1.5) < 5 * 0.4 / 100);
  CHECK(std::abs(m.var - 0.16) < 5 * 0.16 * std::sqrt(2.0 / 10000));
  auto again = run_convkit(
      {"sample", "gaussian", "--mean", "1.5", "--var", "0.16", "--count", "10000", "--seed", "1"});
  CHECK(again.out == r.out);
  auto other = run_convkit(
      {"sample", "gaussian", "--mean", "1.5", "--var", "0.16", "--count", "10000", "--seed", "2"});
  CHECK(other.out != r.out);
}

TEST_CASE("[cli] sample gaussian with --cov draws correlated columns") {
  auto r = run_convkit({"sample", "gaussian", "--mean", "1,2", "--cov", "[1 0.8; 0.8 1]", "--count",
                        "20000", "--seed", "7"});
  REQUIRE(r.status == 0);
  const auto rows = rows_of(r.out);
  REQUIRE(rows.size() == 20000);
  REQUIRE(rows[0].size() == 2);
  CHECK(std::abs(moments(rows, 0).mean - 1) < 0.04);
  CHECK(std::abs(moments(rows, 1).mean - 2) < 0.04);
  CHECK(std::abs(moments(rows, 0).var - 1) < 0.05);
  CHECK(std::abs(moments(rows, 1).var - 1) < 0.05);
  CHECK(std::abs(covariance(rows) - 0.8) < 0.04);
  auto bad = run_convkit({"sample", "gaussian", "--mean", "0,0", "--cov", "[1 2; 2 1]"});
  CHECK(bad.status == 2);
  CHECK(one_error_line(bad));
  bad = run_convkit({"sample", "gaussian", "--mean", "0,0,0", "--cov", "[1 0; 0 1]"});
  CHECK(bad.status == 2);
  bad = run_convkit({"sample", "gaussian", "--var", "x"});
  CHECK(bad.status == 2);
  auto u = run_convkit(
      {"sample", "uniform", "--low", "-1", "--high", "1", "--count", "500", "--seed", "3"});
  REQUIRE(u.status == 0);
  for (const auto& row : rows_of(u.out)) CHECK((row[0] >= -1 && row[0] < 1));
}

TEST_CASE("[cli] normalize gives mean beta and standard deviation gamma per column") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"sample", "gaussian", "--mean", "1.5,-4", "--var", "0.16,9", "--count",
                       "2000", "--seed", "4", "-o", dir + "/x.txt"})
              .status == 0);
  const auto in = rows_of(read_file(dir + "/x.txt"));

  SUBCASE("gamma 1, beta 0: mean 0 and variance var/(var+eps)") {
    auto r = run_convkit({"normalize", dir + "/x.txt"});
    REQUIRE(r.status == 0);
    CHECK(r.err.find("mean_before") != std::string::npos);  // stats go to stderr
    const auto out = rows_of(r.out);
    REQUIRE(out.size() == in.size());
    for (std::size_t c = 0; c < 2; ++c) {
      const Moments before = moments(in, c), after = moments(out, c);
      CHECK(std::abs(after.mean) < 1e-12);
      CHECK(after.var == doctest::Approx(before.var / (before.var + 1e-5)).epsilon(1e-12));
      // Each value is (x - mean)/sqrt(var + eps), computed here independently.
      for (std::size_t i = 0; i < in.size(); i += 97)
        CHECK(out[i][c] == doctest::Approx((in[i][c] - before.mean) / std::sqrt(before.var + 1e-5))
                               .epsilon(1e-12));
    }
  }
  SUBCASE("per-column gamma and beta, eps 0") {
    auto r = run_convkit({"normalize", dir + "/x.txt", "--gamma", "2,0.5", "--beta", "3,-1",
                          "--eps", "0", "-o", dir + "/y.txt"});
    REQUIRE(r.status == 0);
    CHECK(r.out.find("var_after") != std::string::npos);  // stats to stdout when data goes to -o
    const auto out = rows_of(read_file(dir + "/y.txt"));
    CHECK(moments(out, 0).mean == doctest::Approx(3));
    CHECK(std::sqrt(moments(out, 0).var) == doctest::Approx(2));
    CHECK(moments(out, 1).mean == doctest::Approx(-1));
    CHECK(std::sqrt(moments(out, 1).var) == doctest::Approx(0.5));
  }
  SUBCASE("-o may be the input file") {
    REQUIRE(run_convkit({"normalize", dir + "/x.txt", "-o", dir + "/x.txt", "-q"}).status == 0);
    const auto out = rows_of(read_file(dir + "/x.txt"));
    CHECK(out.size() == in.size());
    CHECK(std::abs(moments(out, 1).mean) < 1e-12);
  }
  SUBCASE("wrong number of gamma values is a usage error") {
    auto r = run_convkit({"normalize", dir + "/x.txt", "--gamma", "1,2,3"});
    CHECK(r.status == 2);
    CHECK(one_error_line(r));
  }
}

TEST_CASE("[cli] normalize keeps CSV headers and writes .npy") {
  const std::string dir = temp_dir();
  write_file(dir + "/d.csv", "a,b\n1,10\n2,20\n3,30\n6,60\n");
  auto r = run_convkit({"normalize", dir + "/d.csv", "-o", dir + "/o.csv", "-q"});
  REQUIRE(r.status == 0);
  const std::string csv = read_file(dir + "/o.csv");
  CHECK(csv.rfind("a,b\n", 0) == 0);
  const auto rows = rows_of(csv.substr(4));
  REQUIRE(rows.size() == 4);
  CHECK(rows[0][0] == doctest::Approx(rows[0][1]));  // b = 10 a normalizes identically
  r = run_convkit({"normalize", dir + "/d.csv", "-o", dir + "/o.npy", "-q"});
  REQUIRE(r.status == 0);
  const std::string npy = read_file(dir + "/o.npy");
  CHECK(npy.rfind("\x93NUMPY", 0) == 0);
  CHECK(npy.find("'shape': (4, 2)") != std::string::npos);
  // And the .npy reads back as input.
  r = run_convkit({"normalize", dir + "/o.npy", "--beta", "5", "-q"});
  REQUIRE(r.status == 0);
  CHECK(moments(rows_of(r.out), 0).mean == doctest::Approx(5));
}

TEST_CASE("[cli] normalize --plot draws a histogram (1 column) or a scatter (2 columns) PNG") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"sample", "gaussian", "--mean", "1.5", "--var", "0.16", "--count", "3000",
                       "--seed", "1", "-o", dir + "/x.txt"})
              .status == 0);
  REQUIRE(run_convkit({"sample", "gaussian", "--mean", "1,2", "--cov", "[1 0.8; 0.8 1]", "--count",
                       "1000", "--seed", "7", "-o", dir + "/xy.txt"})
              .status == 0);
  auto r = run_convkit({"normalize", dir + "/x.txt", "--beta", "3", "--plot", dir + "/h.png",
                        "--width", "500", "--height", "350", "-o", dir + "/y.txt"});
  REQUIRE(r.status == 0);
  check_png(dir + "/h.png", 500, 350);
  r = run_convkit(
      {"normalize", dir + "/xy.txt", "--plot", dir + "/s.png", "--layout", "side", "-q"});
  REQUIRE(r.status == 0);
  check_png(dir + "/s.png", 800, 560);
  r = run_convkit({"normalize", dir + "/xy.txt", "--plot", dir + "/o.png", "--width", "640",
                   "--height", "640", "-q"});
  REQUIRE(r.status == 0);
  check_png(dir + "/o.png", 640, 640);
}

TEST_CASE("[cli] normalize rejects bad input with one line and leaves no output file") {
  const std::string dir = temp_dir();
  write_file(dir + "/ragged.csv", "1,2\n3,4\n5\n");
  write_file(dir + "/word.txt", "1 2\n3 four\n");
  write_file(dir + "/one.txt", "1 2 3\n");
  write_file(dir + "/three.txt", "1 2 3\n4 5 6\n");
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"normalize", dir + "/ragged.csv", "-o", dir + "/out.txt"}, 1, "ragged.csv:3"},
      {{"normalize", dir + "/word.txt", "-o", dir + "/out.txt"}, 1, "word.txt:2:3"},
      {{"normalize", dir + "/one.txt", "-o", dir + "/out.txt"}, 1, "at least 2 rows"},
      {{"normalize", dir + "/missing.txt", "-o", dir + "/out.txt"}, 1, "missing.txt"},
      {{"normalize", dir + "/three.txt", "--plot", dir + "/p.png", "-o", dir + "/out.txt"},
       2,
       "3 columns"},
      {{"normalize", dir + "/three.txt", "--plot", dir + "/p.jpg", "-o", dir + "/out.txt"},
       2,
       ".png"},
      {{"normalize", dir + "/three.txt", "--eps", "-1", "-o", dir + "/out.txt"}, 2, "--eps"},
  };
  for (const auto& c : cases) {
    auto r = run_convkit(c.args);
    CHECK_MESSAGE(r.status == c.status, c.args[1]);
    CHECK_MESSAGE(one_error_line(r), r.err);
    CHECK_MESSAGE(r.err.find(c.needle) != std::string::npos, r.err);
    CHECK(r.out.empty());
    CHECK(!std::filesystem::exists(dir + "/out.txt"));
    CHECK(!std::filesystem::exists(dir + "/p.png"));
  }
}

TEST_CASE("[cli] plot draws a stem PNG of the requested size, or a terminal chart") {
  const std::string dir = temp_dir();
  write_file(dir + "/y.txt", "0 1\n1 1.5\n2 1.75\n3 -0.5\n");
  auto r = run_convkit({"plot", dir + "/y.txt", "--range", "-6:12", "-o", dir + "/y.png", "--width",
                        "420", "--height", "260"});
  REQUIRE(r.status == 0);
  check_png(dir + "/y.png", 420, 260);
  r = run_convkit({"plot", dir + "/y.txt", "--range", "-6:12"});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::string line;
  int n = 0, widest = 0;
  while (std::getline(in, line)) {
    int w = 0;
    for (unsigned char c : line)
      if ((c & 0xC0) != 0x80) ++w;
    widest = std::max(widest, w);
    ++n;
  }
  CHECK(n == 14);  // 12 rows of bars around the zero line, the zero line, the indices
  CHECK(widest <= 80);
  CHECK(widest > 60);
  r = run_convkit({"plot", "-", "--columns", "50", "--ascii"}, "1 2 3 2 1\n");
  REQUIRE(r.status == 0);
  CHECK(r.out.find('#') != std::string::npos);
  for (auto args : std::vector<std::vector<std::string>>{
           {"plot", dir + "/y.txt", "--range", "12:-6"},
           {"plot", dir + "/y.txt", "-o", dir + "/y.jpg"},
           {"plot", dir + "/y.txt", "--width", "5", "-o", dir + "/z.png"}}) {
    auto b = run_convkit(args);
    CHECK(b.status == 2);
    CHECK(one_error_line(b));
  }
  write_file(dir + "/bad.txt", "1\n2\nthree\n");
  auto b = run_convkit({"plot", dir + "/bad.txt", "-o", dir + "/b.png"});
  CHECK(b.status == 1);
  CHECK(b.err.find("bad.txt:3:1") != std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/b.png"));
}

TEST_CASE("[cli] the seed's 2(a) as shell commands ends in a stem plot from -6 to 12") {
  const std::string dir = temp_dir();
  REQUIRE(run_convkit({"signal", "rect", "--length", "7", "-o", dir + "/x.txt"}).status == 0);
  REQUIRE(
      run_convkit({"signal", "geometric", "--ratio", "0.5", "--length", "64", "-o", dir + "/h.txt"})
          .status == 0);
  REQUIRE(run_convkit({"convolve", dir + "/x.txt", dir + "/h.txt", "--range", "-6:12", "-o",
                       dir + "/y.txt"})
              .status == 0);
  auto r = run_convkit({"plot", dir + "/y.txt", "--range", "-6:12", "-o", dir + "/y.png", "--width",
                        "640", "--height", "360"});
  REQUIRE(r.status == 0);
  check_png(dir + "/y.png", 640, 360);
  // In the terminal: the tallest bar is y(6) = 2 - 2^-6 = 1.984375, shown as the top label.
  r = run_convkit({"plot", dir + "/y.txt", "--range", "-6:12"});
  REQUIRE(r.status == 0);
  CHECK(r.out.rfind("1.984 ", 0) == 0);
}

namespace {

// A 1-D little-endian float32 .npy file, written here independently of convkit.
std::string npy_f32(const std::vector<float>& v) {
  std::string h =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(v.size()) + ",), }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string s = "\x93NUMPY";
  s += '\x01';
  s += '\x00';
  s += static_cast<char>(h.size() & 0xff);
  s += static_cast<char>(h.size() >> 8);
  s += h;
  s.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  return s;
}

}  // namespace

TEST_CASE("[normalize] results that overflow the output's precision are refused, not written") {
  const std::string dir = temp_dir();
  write_file(dir + "/huge.txt", "1e200\n-1e200\n1e200\n-1e200\n");
  write_file(dir + "/small.txt", "1\n2\n3\n4\n");
  write_file(dir + "/f32.npy", npy_f32({1, 2, 3, 4}));
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      // The variance of +-1e200 overflows double: once written as zeros.
      {{"normalize", dir + "/huge.txt", "-o", dir + "/out.txt"}, "too large"},
      // gamma 1.5e308 times the largest normalized value (1.34) passes DBL_MAX.
      {{"normalize", dir + "/small.txt", "--gamma", "1.5e308", "-o", dir + "/out.txt"}, "float64"},
      {{"normalize", dir + "/small.txt", "--beta", "1.7e308", "--gamma", "1e308", "-o",
        dir + "/out.txt"},
       "float64"},
      // float32 in, float32 out: 1e39 is finite in double but inf in float32.
      {{"normalize", dir + "/f32.npy", "--gamma", "1e39", "-o", dir + "/out.npy"}, "float32"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args[2]);
    const auto r = run_convkit(c.args);
    CHECK(r.status == 1);
    CHECK_MESSAGE(one_error_line(r), r.err);
    CHECK_MESSAGE(r.err.find(c.needle) != std::string::npos, r.err);
    CHECK(!std::filesystem::exists(dir + "/out.txt"));
    CHECK(!std::filesystem::exists(dir + "/out.npy"));
  }
  // Within range the float32 file is normalized and reads back.
  REQUIRE(
      run_convkit({"normalize", dir + "/f32.npy", "--gamma", "1e37", "-o", dir + "/ok.npy", "-q"})
          .status == 0);
  CHECK(run_convkit({"normalize", dir + "/ok.npy", "-q"}).status == 0);
}

TEST_CASE("[normalize] binary and endless streams stop at once with a clear error") {
  const auto z = run_convkit({"normalize", "/dev/zero"});
  CHECK(z.status == 1);
  CHECK(one_error_line(z));
  CHECK(z.err.find("/dev/zero: a NUL byte at offset 0") != std::string::npos);
  const auto s = run_convkit({"normalize", "-"}, std::string("1\n2\n3\n\0\0\0", 9));
  CHECK(s.status == 1);
  CHECK(s.err.find("<stdin>: a NUL byte at offset 6") != std::string::npos);
  // Text through a pipe still works.
  const auto ok = run_convkit({"normalize", "-", "-q"}, "1\n2\n3\n");
  CHECK(ok.status == 0);
  CHECK(rows_of(ok.out).size() == 3);
}

TEST_CASE("[normalize] -o and --plot naming the same file are refused") {
  const std::string dir = temp_dir();
  write_file(dir + "/x.txt", "1\n2\n3\n4\n");
  const auto r = run_convkit({"normalize", "x.txt", "-o", "x.png", "--plot", "./x.png"}, "", dir);
  CHECK(r.status == 2);
  CHECK(one_error_line(r));
  CHECK(r.err.find("same file") != std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/x.png"));
}

TEST_CASE("[sample] a --cov with nan or inf entries is refused") {
  for (const char* cov : {"[1 nan; nan 1]", "[1 0; 0 inf]"}) {
    CAPTURE(cov);
    const auto r = run_convkit(
        {"sample", "gaussian", "--mean", "0,0", "--cov", cov, "--count", "5", "--seed", "1"});
    CHECK(r.status == 2);
    CHECK(one_error_line(r));
    CHECK(r.err.find("--cov") != std::string::npos);
    CHECK(r.out.empty());
  }
}

// [cli] convkit blur / edge / filters through the real binary.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"
#include "cli/float64_fixtures.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

cv::Mat random_u8(int h, int w, int type, int seed) {
  cv::Mat m(h, w, type);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, 256);
  return m;
}

cv::Mat random_f32(int h, int w, int seed) {
  cv::Mat m(h, w, CV_32F);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, -1.0, 1.0);
  return m;
}

int line_count(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("[cli] filters lists every named kernel with size and description") {
  auto r = run_convkit({"filters"});
  REQUIRE(r.status == 0);
  for (const char* name :
       {"identity",    "box-3",       "box-5",       "gaussian-3",     "gaussian-5",
        "sobel-x",     "sobel-y",     "prewitt-x",   "prewitt-y",      "scharr-x",
        "scharr-y",    "laplacian-4", "laplacian-8", "sharpen",        "emboss",
        "motion-blur", "seed-h",      "difference",  "moving-average", "geometric"})
    CHECK_MESSAGE(r.out.find(std::string("\n") + name + " ") != std::string::npos, name);
  CHECK(r.out.find("sobel-x             3x3   Sobel derivative along x") != std::string::npos);
  CHECK(r.out.find("geometric           1x16") != std::string::npos);

  auto j = run_convkit({"filters", "--format", "json"});
  REQUIRE(j.status == 0);
  CHECK(j.out.front() == '[');
  CHECK(j.out.find("{\"name\": \"seed-h\", \"rows\": 3, \"cols\": 3, \"description\": ") !=
        std::string::npos);
  CHECK(line_count(j.out) == line_count(r.out) + 1);  // [ ... ] around one line each, no header
}

TEST_CASE("[cli] filters NAME prints the matrix; an unknown name fails") {
  auto r = run_convkit({"filters", "seed-h"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("-1 -2 -1\n0 0 0\n1 2 1\n") != std::string::npos);
  auto bad = run_convkit({"filters", "no-such-filter"});
  CHECK(bad.status == 2);
  CHECK(bad.err.rfind("convkit: error: ", 0) == 0);
  CHECK(run_convkit({"filters", "--format", "xml"}).status == 2);
}

TEST_CASE("[cli] blur of a float .npy equals cv::GaussianBlur to 1e-5") {
  auto dir = temp_dir();
  cv::Mat src = random_f32(30, 45, 11);
  write_file(dir + "/in.npy", npy_bytes(src));
  SUBCASE("sigma only: size 2*ceil(3 sigma)+1") {
    auto r = run_convkit({"blur", dir + "/in.npy", "--sigma", "2", "-o", dir + "/out.npy"});
    REQUIRE(r.status == 0);
    cv::Mat ref;
    cv::GaussianBlur(src, ref, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
    CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
  }
  SUBCASE("size and sigma, replicate border") {
    auto r = run_convkit({"blur", dir + "/in.npy", "--size", "7", "--sigma", "1.5", "--padding",
                          "replicate", "-o", dir + "/out.npy"});
    REQUIRE(r.status == 0);
    cv::Mat ref;
    cv::GaussianBlur(src, ref, cv::Size(7, 7), 1.5, 1.5, cv::BORDER_REPLICATE);
    CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
  }
  SUBCASE("size only: sigma by OpenCV's rule") {
    auto r = run_convkit({"blur", dir + "/in.npy", "--size", "9", "-o", dir + "/out.npy"});
    REQUIRE(r.status == 0);
    cv::Mat ref;
    cv::GaussianBlur(src, ref, cv::Size(9, 9), 0.3 * (4 - 1) + 0.8, 0, cv::BORDER_REFLECT_101);
    CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
  }
  SUBCASE("box") {
    auto r = run_convkit({"blur", dir + "/in.npy", "--type", "box", "--size", "5", "--padding",
                          "zero", "-o", dir + "/out.npy"});
    REQUIRE(r.status == 0);
    cv::Mat ref;
    cv::blur(src, ref, cv::Size(5, 5), cv::Point(-1, -1), cv::BORDER_CONSTANT);
    CHECK(max_diff(read_npy(dir + "/out.npy"), ref) < 1e-5);
  }
}

TEST_CASE("[cli] blur of an 8-bit PNG is within one grey level of cv::GaussianBlur") {
  auto dir = temp_dir();
  cv::Mat src = random_u8(48, 64, CV_8UC3, 12);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"blur", dir + "/in.png", "--sigma", "2", "-o", dir + "/out.png"});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  cv::Mat got = cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref;
  cv::GaussianBlur(src, ref, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
  REQUIRE(got.type() == CV_8UC3);
  CHECK(max_diff(got, ref) <= 1);
}

TEST_CASE("[cli] blur results do not depend on --threads") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_u8(70, 50, CV_8UC1, 13)));
  REQUIRE(
      run_convkit({"blur", dir + "/in.png", "--sigma", "3", "--threads", "1", "-o", dir + "/a.png"})
          .status == 0);
  REQUIRE(
      run_convkit({"blur", dir + "/in.png", "--sigma", "3", "--threads", "2", "-o", dir + "/b.png"})
          .status == 0);
  CHECK(read_file(dir + "/a.png") == read_file(dir + "/b.png"));
}

TEST_CASE("[cli] blur and edge reject bad flags with exit 2") {
  auto dir = temp_dir();
  REQUIRE(cv::imwrite(dir + "/in.png", random_u8(8, 8, CV_8UC1, 14)));
  const std::string in = dir + "/in.png", out = dir + "/out.png";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"blur", in, "--size", "4", "-o", out},
           {"blur", in, "--size", "0", "-o", out},
           {"blur", in, "--sigma", "-1", "-o", out},
           {"blur", in, "--type", "box", "--sigma", "2", "-o", out},
           {"blur", in, "--type", "median", "-o", out},
           {"blur", in, "--padding", "mirorr", "-o", out},
           {"blur", in},                              // where does the output go?
           {"blur", in, in, "-o", out},               // -o with two inputs
           {"blur", in, "-o", out, "--outdir", dir},  // both
           {"blur", in, "--outdir", dir, "--format", "gif"},
           {"blur", in, "--outdir", dir, "--shard", "0/2"},
           {"blur", in, "--outdir", dir, "--shard", "3/2"},
           {"blur", in, "--outdir", dir, "--shard", "x"},
           {"blur", in, "-j", "0", "-o", out},
           {"blur", in, "-o", dir + "/out.txt"},
           {"edge", in, "--operator", "canny", "-o", out},
           {"edge", in, "--direction", "z", "-o", out},
           {"edge", in, "--operator", "laplacian", "--direction", "x", "-o", out},
           {"edge", in, "--abs", "--clip", "-o", out},
       }) {
    auto r = run_convkit(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    CAPTURE(cmd);
    CHECK(r.status == 2);
    CHECK(r.err.rfind("convkit: error: ", 0) == 0);
    CHECK(line_count(r.err) == 1);
  }
  CHECK(!fs::exists(out));
}

TEST_CASE("[cli] edge x/y/laplacian on float data equal OpenCV exactly as floats") {
  auto dir = temp_dir();
  cv::Mat src = random_f32(25, 33, 15);
  write_file(dir + "/in.npy", npy_bytes(src));
  cv::Mat ref;
  SUBCASE("sobel x") {
    REQUIRE(
        run_convkit({"edge", dir + "/in.npy", "--direction", "x", "-o", dir + "/o.npy"}).status ==
        0);
    cv::Sobel(src, ref, CV_32F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
  }
  SUBCASE("scharr y, replicate") {
    REQUIRE(run_convkit({"edge", dir + "/in.npy", "--operator", "scharr", "--direction", "y",
                         "--padding", "replicate", "-o", dir + "/o.npy"})
                .status == 0);
    cv::Scharr(src, ref, CV_32F, 0, 1, 1, 0, cv::BORDER_REPLICATE);
  }
  SUBCASE("laplacian") {
    REQUIRE(run_convkit({"edge", dir + "/in.npy", "--operator", "laplacian", "-o", dir + "/o.npy"})
                .status == 0);
    cv::Laplacian(src, ref, CV_32F, 1, 1, 0, cv::BORDER_REFLECT_101);
  }
  SUBCASE("sobel magnitude") {
    REQUIRE(run_convkit({"edge", dir + "/in.npy", "-o", dir + "/o.npy"}).status == 0);
    cv::Mat gx, gy;
    cv::Sobel(src, gx, CV_32F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
    cv::Sobel(src, gy, CV_32F, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
    cv::magnitude(gx, gy, ref);
  }
  CHECK(max_diff(read_npy(dir + "/o.npy"), ref) < 2e-5);
}

TEST_CASE("[cli] edge signs: x grows to the right, y downward; direction in degrees") {
  auto dir = temp_dir();
  // intensity grows to the right (columns) and downward (rows) at different rates
  cv::Mat ramp(12, 16, CV_32F);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x) ramp.at<float>(y, x) = 2.f * x + 0.5f * y;
  write_file(dir + "/ramp.npy", npy_bytes(ramp));
  REQUIRE(
      run_convkit({"edge", dir + "/ramp.npy", "--direction", "x", "-o", dir + "/gx.npy"}).status ==
      0);
  REQUIRE(
      run_convkit({"edge", dir + "/ramp.npy", "--direction", "y", "-o", dir + "/gy.npy"}).status ==
      0);
  REQUIRE(run_convkit({"edge", dir + "/ramp.npy", "--direction", "direction", "-o", dir + "/d.npy"})
              .status == 0);
  cv::Mat gx = read_npy(dir + "/gx.npy"), gy = read_npy(dir + "/gy.npy"),
          d = read_npy(dir + "/d.npy");
  // interior: sobel x = 8 * slope
  CHECK(gx.at<float>(5, 7) == doctest::Approx(16.0));
  CHECK(gy.at<float>(5, 7) == doctest::Approx(4.0));
  CHECK(d.at<float>(5, 7) == doctest::Approx(std::atan2(4.0, 16.0) * 180 / M_PI).epsilon(1e-5));

  // the named filter through convolve gives the same sign (true convolution)
  // -- checked in [filtering]; here a step in an 8-bit PNG with the default mapping
  cv::Mat step(10, 10, CV_8UC1, cv::Scalar(0));
  step.colRange(5, 10).setTo(200);
  REQUIRE(cv::imwrite(dir + "/step.png", step));
  REQUIRE(
      run_convkit({"edge", dir + "/step.png", "--direction", "x", "-o", dir + "/sx.png"}).status ==
      0);
  cv::Mat sx = cv::imread(dir + "/sx.png", cv::IMREAD_UNCHANGED);
  REQUIRE(sx.type() == CV_8UC1);
  // gx = 4*200 = 800 at the step; default: v / (2*4) + 127.5
  CHECK(std::abs(int(sx.at<uchar>(3, 4)) - 228) <= 1);
  CHECK(std::abs(int(sx.at<uchar>(3, 1)) - 128) <= 1);
  // step going down: negative, below mid-grey, not clipped to 0
  REQUIRE(
      run_convkit({"edge", dir + "/step.png", "--direction", "x", "--abs", "-o", dir + "/ax.png"})
          .status == 0);
  cv::Mat ax = cv::imread(dir + "/ax.png", cv::IMREAD_UNCHANGED);
  CHECK(ax.at<uchar>(3, 4) == 255);  // |800| clamped, asked for
  CHECK(ax.at<uchar>(3, 1) == 0);
  cv::Mat flip;
  cv::flip(step, flip, 1);
  REQUIRE(cv::imwrite(dir + "/down.png", flip));
  REQUIRE(
      run_convkit({"edge", dir + "/down.png", "--direction", "x", "-o", dir + "/dx.png"}).status ==
      0);
  cv::Mat dx = cv::imread(dir + "/dx.png", cv::IMREAD_UNCHANGED);
  CHECK(std::abs(int(dx.at<uchar>(3, 4)) - 27) <= 1);  // -800/8 + 127.5
}

TEST_CASE("[cli] edges of a constant image are 0") {
  auto dir = temp_dir();
  cv::Mat flat(9, 11, CV_32F, cv::Scalar(0.75));
  write_file(dir + "/flat.npy", npy_bytes(flat));
  for (std::string op : {"sobel", "prewitt", "scharr"})
    for (std::string d : {"x", "y", "magnitude", "direction"}) {
      REQUIRE(run_convkit({"edge", dir + "/flat.npy", "--operator", op, "--direction", d, "-o",
                           dir + "/o.npy"})
                  .status == 0);
      CHECK(cv::countNonZero(read_npy(dir + "/o.npy")) == 0);
    }
  REQUIRE(run_convkit({"edge", dir + "/flat.npy", "--operator", "laplacian", "-o", dir + "/o.npy"})
              .status == 0);
  CHECK(cv::countNonZero(read_npy(dir + "/o.npy")) == 0);
}

TEST_CASE("[cli] edge magnitude of an 8-bit image is normalized to the full range") {
  auto dir = temp_dir();
  cv::Mat img(16, 16, CV_8UC1, cv::Scalar(30));
  img(cv::Rect(4, 4, 8, 8)).setTo(90);
  REQUIRE(cv::imwrite(dir + "/sq.png", img));
  REQUIRE(run_convkit({"edge", dir + "/sq.png", "--grey", "-o", dir + "/m.png"}).status == 0);
  cv::Mat m = cv::imread(dir + "/m.png", cv::IMREAD_UNCHANGED);
  double lo, hi;
  cv::minMaxLoc(m, &lo, &hi);
  CHECK(lo == 0);
  CHECK(hi == 255);
}

TEST_CASE("[cli] blur reads standard input and writes standard output") {
  auto dir = temp_dir();
  cv::Mat src = random_u8(20, 24, CV_8UC3, 16);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  auto r = run_convkit({"blur", "-", "--sigma", "1.5"}, read_file(dir + "/in.png"));
  REQUIRE(r.status == 0);
  REQUIRE(run_convkit({"blur", dir + "/in.png", "--sigma", "1.5", "-o", dir + "/f.png"}).status ==
          0);
  std::vector<uchar> bytes(r.out.begin(), r.out.end());
  cv::Mat piped = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  REQUIRE(!piped.empty());
  CHECK(max_diff(piped, cv::imread(dir + "/f.png", cv::IMREAD_UNCHANGED)) == 0);
}

TEST_CASE("[cli] convolve with a named derivative filter has OpenCV's sign") {
  auto dir = temp_dir();
  cv::Mat ramp(8, 10, CV_32F);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 10; ++x) ramp.at<float>(y, x) = 2.f * x + 0.5f * y;
  write_file(dir + "/ramp.npy", npy_bytes(ramp));
  struct Case {
    const char* filter;
    float want;  // every valid output sample
  };
  for (Case c : {Case{"sobel-x", 16.f}, Case{"sobel-y", 4.f}, Case{"scharr-x", 64.f},
                 Case{"prewitt-y", 3.f}, Case{"seed-h", -4.f}}) {
    CAPTURE(c.filter);
    auto r = run_convkit({"convolve", dir + "/ramp.npy", c.filter, "-o", dir + "/o.npy"});
    REQUIRE(r.status == 0);
    cv::Mat o = read_npy(dir + "/o.npy");
    CHECK(o.rows == 6);
    CHECK(o.cols == 8);
    CHECK(max_diff(o, cv::Mat(6, 8, CV_32F, cv::Scalar(c.want))) < 1e-4);
  }
}

// ---- float64 end to end, standard output, alpha (issue: no silent wrong output) ----

namespace {

constexpr int kH = 9, kW = 11;

// The largest |a - b| over the arrays, relative to `scale`.
double max_rel(const std::vector<double>& a, const std::vector<double>& b, double scale) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]) / scale);
  return m;
}

std::vector<double> outer(const std::vector<double>& col, const std::vector<double>& row) {
  std::vector<double> m;
  for (double c : col)
    for (double r : row) m.push_back(c * r);
  return m;
}

}  // namespace

TEST_CASE("[cli] blur keeps float64 npy end to end") {
  const std::string dir = temp_dir();
  const std::vector<double> x = values_near_1e9(kH * kW, 7);
  write_file(dir + "/x.npy", npy_f8({kH, kW}, x));
  auto r = run_convkit({"blur", "x.npy", "--sigma", "1", "-o", "b.npy"}, "", dir);
  REQUIRE(r.status == 0);
  const RawNpy b = read_raw_npy(dir + "/b.npy");
  CHECK(b.descr == "<f8");
  CHECK(b.shape == std::vector<long long>{kH, kW});
  // sigma 1: 7 taps exp(-x^2/2), normalised; the 2D mask is their outer product.
  std::vector<double> taps;
  double sum = 0;
  for (int i = -3; i <= 3; ++i) sum += taps.emplace_back(std::exp(-i * i / 2.0));
  for (double& t : taps) t /= sum;
  const auto ref = correlate_reflect(x, kH, kW, outer(taps, taps), 7, 7);
  CHECK(max_rel(b.values, ref, 1e9) < 1e-12);
}

TEST_CASE("[cli] edge keeps float64 npy end to end for every direction and the laplacian") {
  const std::string dir = temp_dir();
  const std::vector<double> x = values_near_1e9(kH * kW, 8);
  write_file(dir + "/x.npy", npy_f8({kH, kW}, x));
  const std::vector<double> smooth = {1, 2, 1}, diff = {-1, 0, 1};
  const auto gx = correlate_reflect(x, kH, kW, outer(smooth, diff), 3, 3);
  const auto gy = correlate_reflect(x, kH, kW, outer(diff, smooth), 3, 3);
  std::vector<double> mag(gx.size());
  for (std::size_t i = 0; i < mag.size(); ++i) mag[i] = std::sqrt(gx[i] * gx[i] + gy[i] * gy[i]);
  const auto lap = correlate_reflect(x, kH, kW, {0, 1, 0, 1, -4, 1, 0, 1, 0}, 3, 3);
  const std::vector<std::pair<std::vector<std::string>, const std::vector<double>*>> cases = {
      {{"--direction", "x"}, &gx},
      {{"--direction", "y"}, &gy},
      {{"--direction", "magnitude"}, &mag},
      {{"--operator", "laplacian"}, &lap}};
  for (const auto& [flags, ref] : cases) {
    CAPTURE(flags[1]);
    std::vector<std::string> args = {"edge", "x.npy", "-o", "e.npy"};
    args.insert(args.end(), flags.begin(), flags.end());
    REQUIRE(run_convkit(args, "", dir).status == 0);
    const RawNpy e = read_raw_npy(dir + "/e.npy");
    CHECK(e.descr == "<f8");
    // Relative to the input's magnitude (1e9): float32 is off by tens there.
    CHECK(max_rel(e.values, *ref, 1e9) < 1e-12);
  }
}

TEST_CASE("[cli] -o - keeps npy precision: edge x.npy -o - | edge - equals edge twice via files") {
  const std::string dir = temp_dir();
  write_file(dir + "/x64.npy", npy_f8({kH, kW}, values_near_1e9(kH * kW, 9)));
  write_file(dir + "/x32.npy", npy_bytes(random_f32(kH, kW, 10)));
  for (const std::string x : {"x64", "x32"}) {
    CAPTURE(x);
    for (const std::string cmd : {"edge", "blur"}) {
      CAPTURE(cmd);
      REQUIRE(run_convkit({cmd, x + ".npy", "-o", "a.npy"}, "", dir).status == 0);
      REQUIRE(run_convkit({cmd, "a.npy", "-o", "files.npy"}, "", dir).status == 0);
      auto first = run_convkit({cmd, x + ".npy", "-o", "-"}, "", dir);
      REQUIRE(first.status == 0);
      CHECK(first.out == read_file(dir + "/a.npy"));  // NPY on stdout, same bytes
      auto second = run_convkit({cmd, "-", "-o", "pipe.npy"}, first.out, dir);
      REQUIRE(second.status == 0);
      CHECK(read_file(dir + "/pipe.npy") == read_file(dir + "/files.npy"));
      CHECK(read_raw_npy(dir + "/pipe.npy").descr == (x == "x64" ? "<f8" : "<f4"));
    }
  }
}

TEST_CASE("[cli] -o - writes PNG for 8-bit input and takes --format for any format") {
  const std::string dir = temp_dir();
  cv::imwrite(dir + "/g.png", random_u8(kH, kW, CV_8UC1, 11));
  write_file(dir + "/x.npy", npy_bytes(random_f32(kH, kW, 12)));
  auto png = run_convkit({"blur", "g.png", "-o", "-"}, "", dir);
  REQUIRE(png.status == 0);
  CHECK(png.out.rfind("\x89PNG", 0) == 0);
  auto npy = run_convkit({"blur", "g.png", "-o", "-", "--format", "npy"}, "", dir);
  REQUIRE(npy.status == 0);
  CHECK(parse_raw_npy(npy.out).descr == "<f4");
  auto pgm = run_convkit({"edge", "x.npy", "-o", "-", "--format", "pgm"}, "", dir);
  REQUIRE(pgm.status == 0);
  CHECK(pgm.out.rfind("P5", 0) == 0);
  // Standard input in, standard output out: --format applies too.
  auto piped = run_convkit({"blur", "-", "--format", "npy"}, read_file(dir + "/g.png"), dir);
  REQUIRE(piped.status == 0);
  CHECK(piped.out == npy.out);
  auto bad = run_convkit({"blur", "g.png", "-o", "-", "--format", "gif"}, "", dir);
  CHECK(bad.status == 2);
  CHECK(bad.err.rfind("convkit: error: ", 0) == 0);
  CHECK(bad.out.empty());
}

TEST_CASE("[cli] RGBA written to JPEG, PPM or PGM warns that alpha is dropped; BMP keeps it") {
  const std::string dir = temp_dir();
  cv::imwrite(dir + "/rgba.png", random_u8(kH, kW, CV_8UC4, 13));
  cv::Mat ga = random_u8(kH, kW, CV_8UC1, 14);
  for (const std::string out : {"o.jpg", "o.ppm"}) {
    CAPTURE(out);
    auto r = run_convkit({"blur", "rgba.png", "-o", out}, "", dir);
    CHECK(r.status == 0);
    const std::string format = out == "o.jpg" ? "JPEG" : "PPM";
    CHECK(r.err ==
          "convkit: warning: " + out + ": " + format + " has no alpha channel; alpha dropped\n");
  }
  auto png = run_convkit({"blur", "rgba.png", "-o", "o.png"}, "", dir);
  CHECK(png.status == 0);
  CHECK(png.err.empty());
  // A write that fails says only its error, not the warning.
  auto fails = run_convkit({"convolve", "rgba.png", "[-1]", "-o", "neg.jpg"}, "", dir);
  CHECK(fails.status == 1);
  CHECK(fails.err.rfind("convkit: error: neg.jpg: ", 0) == 0);
  CHECK(fails.err.find('\n') == fails.err.size() - 1);
  CHECK_FALSE(fs::exists(dir + "/neg.jpg"));
  // Grey+alpha: PGM drops alpha with the warning, BMP stores it (as RGBA).
  cv::Mat rgba = cv::imread(dir + "/rgba.png", cv::IMREAD_UNCHANGED);
  cv::Mat grey, alpha;
  cv::extractChannel(rgba, alpha, 3);
  cv::extractChannel(rgba, grey, 0);
  write_file(dir + "/ga.npy", [&] {
    std::vector<double> v;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        v.push_back(grey.at<unsigned char>(y, x));
        v.push_back(alpha.at<unsigned char>(y, x));
      }
    return npy_f8({kH, kW, 2}, v);
  }());
  auto pgm = run_convkit({"convolve", "ga.npy", "identity", "-o", "o.pgm"}, "", dir);
  CHECK(pgm.status == 0);
  CHECK(pgm.err == "convkit: warning: o.pgm: PGM has no alpha channel; alpha dropped\n");
  auto bmp = run_convkit({"convolve", "ga.npy", "identity", "-o", "o.bmp"}, "", dir);
  CHECK(bmp.status == 0);
  CHECK(bmp.err.empty());
  REQUIRE(run_convkit({"convolve", "o.bmp", "identity", "-o", "back.png"}, "", dir).status == 0);
  cv::Mat back = cv::imread(dir + "/back.png", cv::IMREAD_UNCHANGED);
  REQUIRE(back.channels() == 4);
  cv::Mat back_alpha;
  cv::extractChannel(back, back_alpha, 3);
  // Two valid-mode 3x3 passes: the alpha of the input cropped by 2 on each side.
  CHECK(cv::norm(back_alpha, alpha.rowRange(2, kH - 2).colRange(2, kW - 2), cv::NORM_INF) == 0);
}

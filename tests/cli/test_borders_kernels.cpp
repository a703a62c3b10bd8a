// [cli] borders with a value, per-axis padding, --anchor, kernel scale and
// files, --same, --quality and --bit-depth, through the real binary.
// Oracles: scipy.ndimage values computed once by
// tests/fixtures/scipy_ndimage/make.py (committed .npy files), and OpenCV
// (cv::copyMakeBorder + cv::filter2D) computed here.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "cli/filtering_fixtures.hpp"
#include "convkit/io/npy.hpp"

using namespace convkit::test;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  return source_path("tests/fixtures/scipy_ndimage/" + name);
}

// Largest |a - b| of two float64 .npy files of the same shape (inf when the shapes differ).
double npy_max_diff(const std::string& a, const std::string& b) {
  const convkit::NpyArray x = convkit::read_npy(a), y = convkit::read_npy(b);
  if (x.shape != y.shape) return INFINITY;
  double d = 0;
  for (std::size_t i = 0; i < x.data.size(); ++i) d = std::max(d, std::fabs(x.data[i] - y.data[i]));
  return d;
}

// Largest |a - ref| between a float64 .npy of one plane and a CV_64F matrix
// (inf when the shapes differ).
double npy_vs_mat(const std::string& path, const cv::Mat& ref) {
  const convkit::NpyArray got = convkit::read_npy(path);
  if (got.shape != std::vector<std::int64_t>{ref.rows, ref.cols}) return INFINITY;
  double d = 0;
  for (int i = 0; i < ref.rows * ref.cols; ++i)
    d = std::max(d, std::fabs(got.data[static_cast<std::size_t>(i)] -
                              ref.at<double>(i / ref.cols, i % ref.cols)));
  return d;
}

void run_ok(const std::vector<std::string>& args) {
  const RunResult r = run_convkit(args);
  REQUIRE_MESSAGE(r.status == 0, r.err);
}

// Each command fails with `status`, one error line, and leaves `output` unwritten.
void expect_refused(const std::vector<std::vector<std::string>>& commands, int status,
                    const std::string& output) {
  for (const auto& args : commands) {
    const RunResult r = run_convkit(args);
    CAPTURE(args.size() > 2 ? args[2] : args[1]);
    CAPTURE(r.err);
    CHECK(r.status == status);
    CHECK(is_one_error_line(r));
    CHECK(!fs::exists(output));
  }
}

cv::Mat random_u8(int h, int w, int type, int seed) {
  cv::Mat m(h, w, type);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(m, 0, 256);
  return m;
}

// OpenCV's answer for a correlation whose kernel element (ar, ac) sits over
// each output sample, the border made by copyMakeBorder(type, value).
cv::Mat opencv_anchored(const cv::Mat& src, const cv::Mat& k, int ar, int ac, int type,
                        double value) {
  cv::Mat f, padded, out;
  src.convertTo(f, CV_64F);
  cv::copyMakeBorder(f, padded, ar, k.rows - 1 - ar, ac, k.cols - 1 - ac, type,
                     cv::Scalar::all(value));
  // filter2D on the padded plane, anchored at (0, 0): the valid part is ours.
  cv::filter2D(padded, out, CV_64F, k, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
  return out(cv::Rect(0, 0, src.cols, src.rows)).clone();
}

}  // namespace

TEST_CASE(
    "[cli] convolve --padding constant --border-value 7 --anchor 1,2 equals "
    "scipy.ndimage.convolve(a, k, mode='constant', cval=7, origin=(0,1))") {
  auto dir = temp_dir();
  run_ok({"convolve", fixture("a.npy"), fixture("k3.npy"), "--padding", "constant",
          "--border-value", "7", "--anchor", "1,2", "-o", dir + "/out.npy"});
  CHECK(npy_max_diff(dir + "/out.npy", fixture("convolve_k3_constant7_origin_0_1.npy")) < 1e-9);
}

TEST_CASE("[cli] --anchor on an even kernel matches scipy's origin for correlate and convolve") {
  auto dir = temp_dir();
  SUBCASE("correlate, 4x2 kernel, origin (-1, 0) = anchor (1, 1), cval -2.5") {
    run_ok({"convolve", fixture("a.npy"), fixture("k42.npy"), "--correlate", "--padding",
            "constant", "--border-value", "-2.5", "--anchor", "1,1", "-o", dir + "/out.npy"});
    CHECK(npy_max_diff(dir + "/out.npy", fixture("correlate_k42_constant-2.5_origin_-1_0.npy")) <
          1e-9);
  }
  SUBCASE("convolve, 4x2 kernel, origin (1, -1) = anchor (3, 0), scipy's mirror") {
    run_ok({"convolve", fixture("a.npy"), fixture("k42.npy"), "--padding", "mirror", "--anchor",
            "3,0", "-o", dir + "/out.npy"});
    CHECK(npy_max_diff(dir + "/out.npy", fixture("convolve_k42_mirror_origin_1_-1.npy")) < 1e-9);
  }
}

TEST_CASE(
    "[cli] per-axis padding ROWS,COLS with a border value matches scipy's mode=(rows, cols)") {
  auto dir = temp_dir();
  SUBCASE("blur box 3, scipy mode=('reflect', 'constant'), cval 3") {
    run_ok({"blur", fixture("a.npy"), "--type", "box", "--size", "3", "--padding",
            "symmetric,constant", "--border-value", "3", "-o", dir + "/out.npy"});
    CHECK(npy_max_diff(dir + "/out.npy", fixture("uniform3_reflect_constant3.npy")) < 1e-9);
  }
  SUBCASE("blur gaussian sigma 1, scipy mode=('constant', 'mirror'), cval 5") {
    run_ok({"blur", fixture("a.npy"), "--sigma", "1", "--padding", "constant,mirror",
            "--border-value", "5", "-o", dir + "/out.npy"});
    CHECK(npy_max_diff(dir + "/out.npy", fixture("gaussian1_constant5_mirror.npy")) < 1e-9);
  }
  SUBCASE("edge sobel x over a constant 2: scipy correlate(a, sobel_x, mode='constant', cval=2)") {
    run_ok({"edge", fixture("a.npy"), "--direction", "x", "--padding", "constant", "--border-value",
            "2", "-o", dir + "/out.npy"});
    CHECK(npy_max_diff(dir + "/out.npy", fixture("sobel_x_constant2.npy")) < 1e-9);
  }
}

TEST_CASE(
    "[cli] convolve --anchor with a constant border equals cv::filter2D on a copyMakeBorder "
    "plane") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(23, 31, CV_8UC1, 5);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  const cv::Mat k = (cv::Mat_<double>(2, 3) << 1, -2, 3, 0.5, 4, -1);
  for (auto [ar, ac] : {std::pair{0, 0}, std::pair{1, 2}, std::pair{0, 1}}) {
    CAPTURE(ar);
    CAPTURE(ac);
    run_ok({"convolve", dir + "/in.png", "[1 -2 3; 0.5 4 -1]", "--correlate", "--anchor",
            std::to_string(ar) + "," + std::to_string(ac), "--padding", "constant",
            "--border-value", "200", "--bit-depth", "64", "-o", dir + "/out.npy"});
    const cv::Mat ref = opencv_anchored(src, k, ar, ac, cv::BORDER_CONSTANT, 200);
    CHECK(npy_vs_mat(dir + "/out.npy", ref) < 1e-9);
  }
}

TEST_CASE("[cli] --padding constant with --border-value 0 is today's zero padding, byte for byte") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(40, 37, CV_8UC3, 6);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  run_ok({"convolve", dir + "/in.png", "[1 2 1; 0 5 0; -1 2 3]", "--mode", "same", "-o",
          dir + "/zero.npy"});
  run_ok({"convolve", dir + "/in.png", "[1 2 1; 0 5 0; -1 2 3]", "--mode", "same", "--padding",
          "constant", "--border-value", "0", "-o", dir + "/const.npy"});
  CHECK(read_file(dir + "/zero.npy") == read_file(dir + "/const.npy"));
  run_ok({"blur", dir + "/in.png", "--padding", "zero", "-o", dir + "/b0.png"});
  run_ok({"blur", dir + "/in.png", "--padding", "constant", "--border-value", "0", "-o",
          dir + "/b1.png"});
  CHECK(read_file(dir + "/b0.png") == read_file(dir + "/b1.png"));
}

TEST_CASE("[cli] blur and sharpen with a constant border value equal OpenCV on a padded image") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(30, 26, CV_8UC1, 7);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  run_ok({"blur", dir + "/in.png", "--type", "box", "--size", "5", "--padding", "constant",
          "--border-value", "255", "-o", dir + "/box.png"});
  cv::Mat padded, ref;
  cv::copyMakeBorder(src, padded, 2, 2, 2, 2, cv::BORDER_CONSTANT, cv::Scalar::all(255));
  cv::Mat pf;
  padded.convertTo(pf, CV_32F);
  cv::blur(pf, ref, cv::Size(5, 5), cv::Point(-1, -1), cv::BORDER_CONSTANT);
  cv::Mat ref8;
  ref(cv::Rect(2, 2, 26, 30)).convertTo(ref8, CV_8U);  // rounds to nearest
  const cv::Mat got = cv::imread(dir + "/box.png", cv::IMREAD_UNCHANGED);
  CHECK(max_diff(got, ref8) <= 1);

  // sharpen: in + (in - blur), the Gaussian blur (sigma 1, 7x7) over a border of 100.
  cv::Mat f;
  src.convertTo(f, CV_32F);
  write_file(dir + "/in.npy", npy_bytes(f));
  run_ok({"sharpen", dir + "/in.npy", "--sigma", "1", "--padding", "constant", "--border-value",
          "100", "-o", dir + "/sharp.npy"});
  cv::Mat p7, blurred;
  cv::copyMakeBorder(f, p7, 3, 3, 3, 3, cv::BORDER_CONSTANT, cv::Scalar::all(100));
  cv::GaussianBlur(p7, blurred, cv::Size(7, 7), 1, 1, cv::BORDER_CONSTANT);
  const cv::Mat sharp_ref = 2 * f - blurred(cv::Rect(3, 3, 26, 30));
  CHECK(max_diff(read_npy(dir + "/sharp.npy"), sharp_ref) < 1e-3);
}

TEST_CASE("[cli] --border-value needs a constant axis; bad per-axis padding is a usage error") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(8, 8, CV_8UC1, 8);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  expect_refused(
      {
          {"blur", dir + "/in.png", "--border-value", "3", "-o", dir + "/o.png"},
          {"convolve", dir + "/in.png", "[1 2 1]", "--padding", "reflect", "--border-value", "1",
           "-o", dir + "/o.png"},
          {"blur", dir + "/in.png", "--padding", "reflect,", "-o", dir + "/o.png"},
          {"edge", dir + "/in.png", "--padding", "reflect,bogus", "-o", dir + "/o.png"},
          {"convolve", dir + "/in.png", "[1 2; 3 4]", "--anchor", "2,0", "-o", dir + "/o.png"},
          {"convolve", dir + "/in.png", "[1 2; 3 4]", "--anchor", "0,0", "--pad", "1", "-o",
           dir + "/o.png"},
          {"convolve", "[1 2 3]", "[1 2]", "--anchor", "0,0"},
      },
      2, dir + "/o.png");
}

TEST_CASE(
    "[cli] kernel scale: \"[...]/16\", 1/16 fractions, --kernel-scale and --normalize-kernel agree "
    "with cv::filter2D") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(33, 29, CV_8UC1, 9);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  const std::string raw = "[1 2 1; 2 4 2; 1 2 1]";
  run_ok({"convolve", dir + "/in.png", raw + "/16", "--same", "-o", dir + "/a.npy", "--bit-depth",
          "64"});
  run_ok({"convolve", dir + "/in.png", "[1/16 2/16 1/16; 2/16 4/16 2/16; 1/16 2/16 1/16]", "--same",
          "-o", dir + "/b.npy", "--bit-depth", "64"});
  run_ok({"convolve", dir + "/in.png", raw, "--kernel-scale", "0.0625", "--same", "-o",
          dir + "/c.npy", "--bit-depth", "64"});
  run_ok({"convolve", dir + "/in.png", raw, "--normalize-kernel", "--same", "-o", dir + "/d.npy",
          "--bit-depth", "64"});
  run_ok({"convolve", dir + "/in.png", raw + " * 0.0625", "--same", "-o", dir + "/e.npy",
          "--bit-depth", "64"});
  cv::Mat f, ref;
  src.convertTo(f, CV_64F);
  const cv::Mat k = (cv::Mat_<double>(3, 3) << 1, 2, 1, 2, 4, 2, 1, 2, 1) / 16.0;
  cv::filter2D(f, ref, CV_64F, k, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    CAPTURE(n);
    CHECK(npy_vs_mat(dir + "/" + n + ".npy", ref) < 1e-9);
  }
  // A zero-sum kernel cannot be normalized; a scale that divides by 0 is refused.
  expect_refused(
      {
          {"convolve", dir + "/in.png", "sobel-x", "--normalize-kernel", "-o", dir + "/x.png"},
          {"convolve", dir + "/in.png", raw + "/0", "-o", dir + "/x.png"},
          {"convolve", dir + "/in.png", raw + "/x", "-o", dir + "/x.png"},
          {"convolve", dir + "/in.png", "[1/0 1]", "-o", dir + "/x.png"},
          {"convolve", dir + "/in.png", raw, "--normalize-kernel", "--kernel-scale", "2", "-o",
           dir + "/x.png"},
      },
      2, dir + "/x.png");
}

TEST_CASE(
    "[cli] ImageMagick's -define convolve:scale='!' -morphology Convolve '3x3:1,2,1 2,4,2 1,2,1' "
    "is one convolve command") {
  // ImageMagick's default virtual pixels repeat the edge: --padding replicate.
  auto dir = temp_dir();
  const cv::Mat src = random_u8(35, 44, CV_8UC3, 10);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  run_ok({"convolve", dir + "/in.png", "[1 2 1; 2 4 2; 1 2 1]", "--normalize-kernel", "--same",
          "--padding", "replicate", "-o", dir + "/out.png"});
  cv::Mat f, ref, ref8;
  src.convertTo(f, CV_32F);
  const cv::Mat k = (cv::Mat_<float>(3, 3) << 1, 2, 1, 2, 4, 2, 1, 2, 1) / 16.0f;
  cv::filter2D(f, ref, CV_32F, k, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  ref.convertTo(ref8, CV_8U);
  CHECK(max_diff(cv::imread(dir + "/out.png", cv::IMREAD_UNCHANGED), ref8) <= 1);
}

TEST_CASE(
    "[cli] --bias adds after filtering; a vips .mat file's scale divides and its offset adds") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(21, 19, CV_8UC1, 11);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  write_file(dir + "/k.mat", "3 3 16 10\n1 2 1\n2 4 2\n1 2 1\n");
  write_file(dir + "/bad.mat", "3 3 0\n1 2 1\n2 4 2\n1 2 1\n");
  write_file(dir + "/short.mat", "3 3\n1 2 1\n2 4 2\n");
  run_ok({"convolve", dir + "/in.png", dir + "/k.mat", "--same", "--bit-depth", "64", "-o",
          dir + "/mat.npy"});
  run_ok({"convolve", dir + "/in.png", "[-1 0 1; -2 0 2; -1 0 1]", "--correlate", "--same",
          "--bias", "128", "--bit-depth", "64", "-o", dir + "/bias.npy"});
  cv::Mat f, ref1, ref2;
  src.convertTo(f, CV_64F);
  const cv::Mat k1 = (cv::Mat_<double>(3, 3) << 1, 2, 1, 2, 4, 2, 1, 2, 1) / 16.0;
  const cv::Mat k2 = (cv::Mat_<double>(3, 3) << -1, 0, 1, -2, 0, 2, -1, 0, 1);
  cv::filter2D(f, ref1, CV_64F, k1, cv::Point(-1, -1), 10, cv::BORDER_REFLECT_101);
  cv::filter2D(f, ref2, CV_64F, k2, cv::Point(-1, -1), 128, cv::BORDER_REFLECT_101);
  CHECK(npy_vs_mat(dir + "/mat.npy", ref1) < 1e-9);
  CHECK(npy_vs_mat(dir + "/bias.npy", ref2) < 1e-9);
  for (const char* bad : {"bad.mat", "short.mat"}) {
    const RunResult r =
        run_convkit({"convolve", dir + "/in.png", dir + "/" + bad, "-o", dir + "/x.png"});
    CAPTURE(bad);
    CHECK(r.status == 1);
    CHECK(is_one_error_line(r));
    CHECK(r.err.find(bad) != std::string::npos);
  }
  // On a signal, a bias has no support to add to: refused.
  const RunResult r = run_convkit({"convolve", "[1 2 3]", "[1 1]", "--bias", "1"});
  CHECK(r.status == 2);
  CHECK(is_one_error_line(r));
}

TEST_CASE("[cli] a grey 8- or 16-bit PNG is a kernel of its sample values") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(25, 27, CV_8UC1, 12);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  const cv::Mat k8 = (cv::Mat_<std::uint8_t>(3, 5) << 1, 2, 3, 2, 1, 4, 9, 12, 9, 4, 1, 2, 3, 2, 1);
  cv::Mat k16;
  k8.convertTo(k16, CV_16U, 1000);
  REQUIRE(cv::imwrite(dir + "/k8.png", k8));
  REQUIRE(cv::imwrite(dir + "/k16.png", k16));
  cv::Mat f, kd, ref;
  src.convertTo(f, CV_64F);
  k8.convertTo(kd, CV_64F);
  cv::filter2D(f, ref, CV_64F, kd / cv::sum(kd)[0], cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  for (const char* k : {"k8.png", "k16.png"}) {
    CAPTURE(k);
    run_ok({"convolve", dir + "/in.png", dir + "/" + k, "--correlate", "--normalize-kernel",
            "--same", "--bit-depth", "64", "-o", dir + "/out.npy"});
    // An 8-bit image is filtered in float32; taps /56 are not exact.
    CHECK(npy_vs_mat(dir + "/out.npy", ref) < 1e-3);
  }
  // A colour image is not a kernel.
  REQUIRE(cv::imwrite(dir + "/rgb.png", random_u8(3, 3, CV_8UC3, 13)));
  const RunResult r =
      run_convkit({"convolve", dir + "/in.png", dir + "/rgb.png", "-o", dir + "/x.png"});
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
}

TEST_CASE(
    "[cli] convolve --same is --mode same --padding reflect; without it the seed's valid default "
    "stays") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(20, 24, CV_8UC3, 14);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  run_ok({"convolve", dir + "/in.png", "[1 2 3; 4 5 6; 7 8 9]/45", "--same", "-o", dir + "/a.png"});
  run_ok({"convolve", dir + "/in.png", "[1 2 3; 4 5 6; 7 8 9]/45", "--mode", "same", "--padding",
          "reflect", "-o", dir + "/b.png"});
  CHECK(read_file(dir + "/a.png") == read_file(dir + "/b.png"));
  const cv::Mat a = cv::imread(dir + "/a.png", cv::IMREAD_UNCHANGED);
  CHECK(a.size() == src.size());
  cv::Mat f, ref, ref8;
  src.convertTo(f, CV_32F);
  cv::Mat k = (cv::Mat_<float>(3, 3) << 9, 8, 7, 6, 5, 4, 3, 2, 1) / 45.0f;  // flipped: convolution
  cv::filter2D(f, ref, CV_32F, k, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  ref.convertTo(ref8, CV_8U);
  CHECK(max_diff(a, ref8) <= 1);
  run_ok({"convolve", dir + "/in.png", "[1 2 3; 4 5 6; 7 8 9]/45", "-o", dir + "/c.png"});
  CHECK(cv::imread(dir + "/c.png", cv::IMREAD_UNCHANGED).size() == cv::Size(22, 18));
  const RunResult r = run_convkit(
      {"convolve", dir + "/in.png", "[1 2 1]", "--same", "--pad", "1", "-o", dir + "/x.png"});
  CHECK(r.status == 2);
  CHECK(is_one_error_line(r));
}

TEST_CASE("[cli] --quality Q sets the JPEG quality of every image-writing command") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(64, 64, CV_8UC3, 15);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  const std::vector<std::vector<std::string>> cmds = {
      {"blur", dir + "/in.png", "--sigma", "0.5"},
      {"edge", dir + "/in.png"},
      {"median", dir + "/in.png"},
      {"sharpen", dir + "/in.png"},
      {"convolve", dir + "/in.png", "[1 2 1]/4", "--same"},
  };
  for (auto args : cmds) {
    CAPTURE(args[0]);
    auto lo = args, hi = args;
    lo.insert(lo.end(), {"--quality", "10", "-o", dir + "/lo.jpg"});
    hi.insert(hi.end(), {"--quality", "100", "-o", dir + "/hi.jpg"});
    run_ok(lo);
    run_ok(hi);
    // Quality 100 keeps far more of the (noisy) detail than 10: a much larger file.
    CHECK(fs::file_size(dir + "/hi.jpg") > 2 * fs::file_size(dir + "/lo.jpg"));
    auto png = args;
    png.insert(png.end(), {"--quality", "50", "-o", dir + "/x.png"});
    const RunResult r = run_convkit(png);
    CHECK(r.status == 2);
    CHECK(is_one_error_line(r));
    CHECK(!fs::exists(dir + "/x.png"));
  }
}

TEST_CASE("[cli] blur and edge --bit-depth 16 and 32f, as convolve has it") {
  auto dir = temp_dir();
  const cv::Mat src = random_u8(30, 33, CV_8UC1, 16);
  REQUIRE(cv::imwrite(dir + "/in.png", src));
  run_ok({"blur", dir + "/in.png", "--sigma", "1.5", "--bit-depth", "16", "-o", dir + "/b16.png"});
  run_ok({"blur", dir + "/in.png", "--sigma", "1.5", "--bit-depth", "32f", "-o", dir + "/b32.npy"});
  cv::Mat f, ref;
  src.convertTo(f, CV_64F);
  cv::GaussianBlur(f, ref, cv::Size(11, 11), 1.5, 1.5, cv::BORDER_REFLECT_101);
  const cv::Mat b16 = cv::imread(dir + "/b16.png", cv::IMREAD_UNCHANGED);
  REQUIRE(b16.type() == CV_16UC1);
  CHECK(max_diff(b16, ref * 257.0) <= 0.51);  // 8-bit units scaled to 16 bits, rounded once
  CHECK(max_diff(read_npy(dir + "/b32.npy"), ref) < 1e-3);
  run_ok(
      {"edge", dir + "/in.png", "--direction", "x", "--bit-depth", "32f", "-o", dir + "/gx.npy"});
  cv::Mat gx;
  cv::Sobel(f, gx, CV_64F, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
  CHECK(max_diff(read_npy(dir + "/gx.npy"), gx) < 1e-3);
  run_ok({"edge", dir + "/in.png", "--bit-depth", "16", "-o", dir + "/e16.png"});
  CHECK(cv::imread(dir + "/e16.png", cv::IMREAD_UNCHANGED).type() == CV_16UC1);
}

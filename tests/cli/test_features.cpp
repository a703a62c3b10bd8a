// [cli] a look inside a trained network: predict --features (a layer's
// activations, printed or as .npy) and train --plot-filters (the first
// layer's kernels as an image grid).
#include <doctest/doctest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "convkit/train/checkpoint.hpp"
#include "support/run.hpp"

using convkit::Checkpoint;
using convkit::load_checkpoint;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

namespace {

std::string pgm8(int (*px)(int, int)) {
  std::string s = "P5\n8 8\n255\n";
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) s += static_cast<char>(px(y, x));
  return s;
}

// The seed's images: x1 a horizontal edge, x2 a vertical one, x3 the
// vertical one shifted by a column.
void write_seed_images(const std::string& dir) {
  write_file(dir + "/x1.pgm", pgm8([](int y, int) { return y == 2 ? 255 : 0; }));
  write_file(dir + "/x2.pgm", pgm8([](int, int x) { return x == 5 ? 255 : 0; }));
  write_file(dir + "/x3.pgm", pgm8([](int, int x) { return x == 6 ? 255 : 0; }));
}

// "file: v v v" lines of predict --features: the values after the colon.
std::vector<std::string> feature_line(const std::string& out, const std::string& file) {
  const auto at = out.find(file + ":");
  REQUIRE(at != std::string::npos);
  std::istringstream in(
      out.substr(at + file.size() + 1, out.find('\n', at) - at - file.size() - 1));
  std::vector<std::string> v;
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

std::vector<std::string> train(const std::string& out, const std::string& arch, int epochs) {
  return {"train", "--data",   "synthetic-edges",      "--arch", arch, "--lr",
          "0.01",  "--epochs", std::to_string(epochs), "-o",     out,  "--threads",
          "2",     "--quiet"};
}

// Value k of a version-1.0 .npy of float32 (after its header).
float npy_value(const std::string& npy, std::size_t k) {
  const std::size_t start = 10 + static_cast<unsigned char>(npy[8]) +
                            256 * static_cast<std::size_t>(static_cast<unsigned char>(npy[9]));
  REQUIRE(npy.size() >= start + (k + 1) * sizeof(float));
  float v;
  std::memcpy(&v, npy.data() + start + k * sizeof(float), sizeof v);
  return v;
}

const float* tensor(const Checkpoint& c, const std::string& name) {
  for (const auto& t : c.tensors)
    if (t.name == name) return t.data.data();
  FAIL("no tensor " << name);
  return nullptr;
}

}  // namespace

TEST_CASE("[cli] predict --features GAP: the seed's 3(f) g_i, exactly invariant with /p1:0") {
  const std::string dir = temp_dir();
  write_seed_images(dir);
  const std::string exact = "CONV2-3/circular/p1:0 ReLU CONV2-3/circular/p1:0 ReLU GAP FC-3";
  REQUIRE(run_convkit(train(dir + "/exact.ckpt", exact, 3)).status == 0);
  const std::vector<std::string> images = {dir + "/x1.pgm", dir + "/x2.pgm", dir + "/x3.pgm"};
  auto args = std::vector<std::string>{"predict", "-m", dir + "/exact.ckpt", "--features", "gap"};
  args.insert(args.end(), images.begin(), images.end());
  auto r = run_convkit(args);
  REQUIRE(r.status == 0);
  const auto g1 = feature_line(r.out, images[0]), g2 = feature_line(r.out, images[1]),
             g3 = feature_line(r.out, images[2]);
  CHECK(g1.size() == 3);
  CHECK(g3 == g2);  // x3 is x2 shifted around the torus: the very same numbers
  CHECK(g1 != g2);
  // A vertical line in every column: the same features from the /p1:0
  // network; the seed's padding 1 (a wrapped column counted twice) changes
  // them when the line reaches the border.
  const std::string seed = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";
  REQUIRE(run_convkit(train(dir + "/seed.ckpt", seed, 3)).status == 0);
  std::vector<std::string> cols;
  for (int c = 0; c < 8; ++c) {
    std::string px = "P5\n8 8\n255\n";
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) px += static_cast<char>(x == c ? 255 : 0);
    cols.push_back(dir + "/v" + std::to_string(c) + ".pgm");
    write_file(cols.back(), px);
  }
  for (const std::string model : {"exact", "seed"}) {
    auto v =
        std::vector<std::string>{"predict", "-m", dir + "/" + model + ".ckpt", "--features", "GAP"};
    v.insert(v.end(), cols.begin(), cols.end());
    auto out = run_convkit(v);
    REQUIRE(out.status == 0);
    bool same = true;
    for (const auto& c : cols)
      same = same && feature_line(out.out, c) == feature_line(out.out, cols[0]);
    CHECK(same == (model == "exact"));
  }
  // By number (layer 5 = GAP, as `shape` counts) and into a .npy: N x C float32.
  std::vector<std::string> by_number = {"predict", "-m", dir + "/exact.ckpt", "--features",
                                        "5",       "-o", dir + "/g.npy"};
  by_number.insert(by_number.end(), images.begin(), images.end());
  auto w = run_convkit(by_number);
  REQUIRE(w.status == 0);
  CHECK(w.out.find("wrote " + dir + "/g.npy: layer 5 (GAP), 3x3 float32") != std::string::npos);
  const auto npy = convkit::test::read_file(dir + "/g.npy");
  CHECK(npy.find("'descr': '<f4'") != std::string::npos);
  CHECK(npy.find("'shape': (3, 3)") != std::string::npos);
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c)
      CHECK(npy_value(npy, i * 3 + c) == std::stof((i == 0 ? g1 : i == 1 ? g2 : g3)[c]));
}

TEST_CASE(
    "[cli] predict --features of a CONV layer: maps as N x C x H x W, against a brute force") {
  const std::string dir = temp_dir();
  write_seed_images(dir);
  const std::string seed = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";
  REQUIRE(run_convkit(train(dir + "/seed.ckpt", seed, 2)).status == 0);
  auto r = run_convkit(
      {"predict", "-m", dir + "/seed.ckpt", "--features", "CONV2-3/Circular", dir + "/x1.pgm"});
  CHECK(r.status == 2);
  CHECK(r.err.find("names 2 layers, give its number") != std::string::npos);
  r = run_convkit({"predict", "-m", dir + "/seed.ckpt", "--features", "1", "-o", dir + "/maps.npy",
                   dir + "/x1.pgm"});
  REQUIRE(r.status == 0);
  const std::string npy = read_file(dir + "/maps.npy");
  // The seed's padding 1 on each side: 8x8 -> 9x9.
  CHECK(npy.find("'shape': (1, 3, 9, 9)") != std::string::npos);
  // y(f, i, j) = b_f + sum w_f(a, b) x((i + a - 1) mod 8, (j + b - 1) mod 8), x normalized.
  const Checkpoint c = load_checkpoint(dir + "/seed.ckpt");
  const float* wt = tensor(c, "0.conv.weight");
  const float* bias = tensor(c, "0.conv.bias");
  // x1 is a row of 255 at y = 2; the circular padding wraps rows and columns.
  auto x = [&](int i, int) {
    const float v = (i + 8) % 8 == 2 ? 255.f : 0.f;
    return (v - c.norm_mean[0]) / c.norm_std[0];
  };
  for (int f = 0; f < 3; ++f)
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j) {
        double want = bias[f];
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b) want += wt[f * 4 + a * 2 + b] * x(i + a - 1, j + b - 1);
        CHECK(npy_value(npy, (f * 9 + i) * 9 + j) == doctest::Approx(want).epsilon(1e-5));
      }
  // Refusals: no such layer, -o without --features, a name that is not .npy.
  auto bad = run_convkit({"predict", "-m", dir + "/seed.ckpt", "--features", "7", dir + "/x1.pgm"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--features 7: the model has layers 1 to 6") != std::string::npos);
  bad = run_convkit({"predict", "-m", dir + "/seed.ckpt", "--features", "POOL2", dir + "/x1.pgm"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("no layer is named so") != std::string::npos);
  bad = run_convkit({"predict", "-m", dir + "/seed.ckpt", "-o", dir + "/a.npy", dir + "/x1.pgm"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("give --features") != std::string::npos);
  bad = run_convkit({"predict", "-m", dir + "/seed.ckpt", "--features", "1", "-o", dir + "/a.txt",
                     dir + "/x1.pgm"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find(".npy") != std::string::npos);
  // With -o, one unreadable image fails the whole array: no file.
  bad = run_convkit({"predict", "-m", dir + "/seed.ckpt", "--features", "1", "-o", dir + "/b.npy",
                     dir + "/x1.pgm", dir + "/missing.pgm"});
  CHECK(bad.status == 1);
  CHECK_FALSE(std::filesystem::exists(dir + "/b.npy"));
}

TEST_CASE("[cli] train --plot-filters draws the first CONV layer's kernels as a grid") {
  const std::string dir = temp_dir();
  auto args = train(dir + "/f.ckpt", "CONV3-4 ReLU CONV3-5 ReLU GAP FC-3", 1);
  args.insert(args.end(), {"--plot-filters", dir + "/filters.png"});
  auto r = run_convkit(args);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("drew the 4 kernels of 0.conv.weight") != std::string::npos);
  const cv::Mat png = cv::imread(dir + "/filters.png", cv::IMREAD_COLOR);
  // 4 filters: 2 x 2 blocks of 3x3 weights, 16-pixel cells, 6-pixel gaps and margins.
  REQUIRE(png.cols == 6 + 48 + 6 + 48 + 6);
  REQUIRE(png.rows == png.cols);
  const Checkpoint c = load_checkpoint(dir + "/f.ckpt");
  const float* w = tensor(c, "0.conv.weight");
  double m = 0;
  for (int i = 0; i < 36; ++i) m = std::max(m, std::abs(static_cast<double>(w[i])));
  for (int f = 0; f < 4; ++f)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x) {
        const int px = 6 + (f % 2) * 54 + x * 16 + 8, py = 6 + (f / 2) * 54 + y * 16 + 8;
        const cv::Vec3b v = png.at<cv::Vec3b>(py, px);
        CHECK(static_cast<int>(v[0]) == std::lround(128 + 127 * w[f * 9 + y * 3 + x] / m));
        CHECK(v[0] == v[2]);
      }
  auto none = run_convkit({"train", "--data", "synthetic-edges", "--arch", "FLATTEN FC-3",
                           "--plot-filters", dir + "/n.png", "-o", dir + "/n.ckpt"});
  CHECK(none.status == 2);
  CHECK(none.err.find("no CONV layer") != std::string::npos);
}

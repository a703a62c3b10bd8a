// [cli] convkit blur on 8/16-bit files: the integer path (no float planes)
// writes the very file the float path writes.
#include <doctest/doctest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/filtering_fixtures.hpp"
#include "convkit/colour.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/image.hpp"

using namespace convkit;
using namespace convkit::test;
namespace fs = std::filesystem;

TEST_CASE("[cli] blur of 8/16-bit PNG, PGM and PPM files writes the float path's file") {
  auto dir = temp_dir();
  struct Input {
    int type;
    std::string ext;
  };
  const Input inputs[] = {{CV_8UC3, "png"},  {CV_8UC4, "png"},  {CV_8UC1, "pgm"}, {CV_8UC3, "ppm"},
                          {CV_16UC1, "png"}, {CV_16UC3, "png"}, {CV_16UC1, "pgm"}};
  struct Blur {
    std::vector<std::string> args;
    BlurOptions opts;
  };
  const Blur blurs[] = {
      {{"--sigma", "2"}, {BlurType::gaussian, 0, 2.0, Border::reflect}},
      {{"--type", "box", "--size", "5"}, {BlurType::box, 5, 0, Border::reflect}},
      {{"--sigma", "1.3", "--padding", "zero"}, {BlurType::gaussian, 0, 1.3, Border::zero}},
      // alpha kept as it is: the integer path (the default premultiplies, in float)
      {{"--sigma", "2", "--alpha", "pass"},
       {BlurType::gaussian, 0, 2.0, Border::reflect, 0, AlphaMode::pass}}};
  cv::theRNG().state = 77;
  for (const Input& in : inputs) {
    cv::Mat m(29, 41, in.type);
    cv::randu(m, 0, CV_MAT_DEPTH(in.type) == CV_8U ? 256 : 65536);
    const std::string src = dir + "/in." + in.ext;
    REQUIRE(cv::imwrite(src, m));
    for (const Blur& b : blurs) {
      CAPTURE(src);
      CAPTURE(b.args.back());
      const std::string out = dir + "/out." + in.ext, ref = dir + "/ref." + in.ext;
      std::vector<std::string> args = {"blur", src, "-o", out};
      args.insert(args.end(), b.args.begin(), b.args.end());
      auto r = run_convkit(args);
      REQUIRE_MESSAGE(r.status == 0, r.err);
      // The float path: planes, blur, written with clipping as the command does.
      ImageWriteOptions w;
      w.policy = ValuePolicy::clip;
      write_image(blur(read_image(src), b.opts), ref, w);
      CHECK(read_file(out) == read_file(ref));
    }
  }
}

TEST_CASE("[cli] blur of an 8-bit PNG into JPEG or with a policy flag still works") {
  // Outputs the integer path does not write as they are go through float.
  auto dir = temp_dir();
  cv::Mat m(16, 20, CV_8UC3);
  cv::randu(m, 0, 256);
  REQUIRE(cv::imwrite(dir + "/in.png", m));
  auto r = run_convkit({"blur", dir + "/in.png", "-o", dir + "/out.jpg"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(fs::file_size(dir + "/out.jpg") > 0);
  r = run_convkit({"blur", dir + "/in.png", "--normalize", "-o", dir + "/n.png"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const Image n = read_image(dir + "/n.png");
  float lo = 255, hi = 0;
  for (float v : n.data) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo == 0);
  CHECK(hi == 255);
}

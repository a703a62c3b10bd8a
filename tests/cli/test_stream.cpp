// [cli] blur and edge stream files by rows: the same bytes as the
// whole-image path, --memory, atomic outputs when a stream fails mid-way.
#include <doctest/doctest.h>
#include <png.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "convkit/io/image.hpp"
#include "support/run.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

Image noise(int w, int h, int c, int depth, std::uint32_t seed) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.bit_depth = depth;
  std::mt19937 rng(seed);
  const int max = depth == 16 ? 65535 : 255;
  img.data.resize(static_cast<std::size_t>(w) * h * c);
  for (float& v : img.data) v = static_cast<float>(rng() % (max + 1));
  return img;
}

// The output of `args` on `file` streamed, and on the same bytes from
// standard input (which is read whole), must be the same file.
void same_as_whole(const std::string& dir, const std::vector<std::string>& args,
                   const std::string& file, const std::string& ext) {
  std::vector<std::string> streamed = args, whole = args;
  streamed.insert(streamed.begin() + 1, file);
  streamed.insert(streamed.end(), {"-o", dir + "/s." + ext});
  whole.insert(whole.begin() + 1, "-");
  whole.insert(whole.end(), {"-o", dir + "/w." + ext});
  std::string what;
  for (const auto& a : streamed) what += a + " ";
  INFO(what);
  const RunResult a = run_convkit(streamed);
  const RunResult b = run_convkit(whole, read_file(file));
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  CHECK(a.err == b.err);
  CHECK(read_file(dir + "/s." + ext) == read_file(dir + "/w." + ext));
}

// An 8-bit grey Adam7-interlaced PNG (no convkit writer makes one).
void write_interlaced_png(const std::string& path, int w, int h) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  REQUIRE((png && info));
  std::vector<unsigned char> raw(static_cast<std::size_t>(w) * h);
  for (std::size_t k = 0; k < raw.size(); ++k) raw[k] = static_cast<unsigned char>(k * 37 % 251);
  std::vector<png_bytep> rows(static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y) rows[y] = raw.data() + static_cast<std::size_t>(y) * w;
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_ADAM7,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

}  // namespace

TEST_CASE(
    "[cli] an interlaced PNG or progressive JPEG is read whole within --memory, else refused") {
  const std::string dir = temp_dir();
  write_interlaced_png(dir + "/i.png", 300, 200);
  // Read whole: the same result as the image from standard input.
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/i.png", "png");
  const RunResult r =
      run_convkit({"blur", dir + "/i.png", "--memory", "256K", "-o", dir + "/o.png"});
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("interlaced") != std::string::npos);
  CHECK(r.err.find("--memory") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.png"));
  // OpenCV writes the progressive JPEG.
  cv::Mat m(120, 160, CV_8UC3);
  cv::randu(m, 0, 255);
  REQUIRE(cv::imwrite(dir + "/p.jpg", m, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/p.jpg", "png");
  const RunResult p =
      run_convkit({"blur", dir + "/p.jpg", "--memory", "64K", "-o", dir + "/o.png"});
  CHECK(p.status == 1);
  CHECK(p.err.find("progressive JPEG") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.png"));
}

TEST_CASE(
    "[cli] blur and edge on PNG, JPEG, PGM/PPM and .npy files stream to the whole-image bytes") {
  const std::string dir = temp_dir();
  write_image(noise(301, 233, 3, 8, 1), dir + "/rgb.png");
  write_image(noise(97, 150, 4, 16, 2), dir + "/rgba16.png");
  write_image(noise(180, 211, 1, 8, 3), dir + "/g.pgm");
  write_image(noise(64, 80, 3, 16, 4), dir + "/c16.ppm");
  Image f = noise(70, 90, 1, 8, 5);
  f.bit_depth = 32;
  write_image(f, dir + "/f.npy");
  write_image(noise(173, 121, 3, 8, 8), dir + "/j.jpg");
  write_image(noise(90, 77, 1, 8, 9), dir + "/jg.jpg");
  for (const char* pad : {"reflect", "circular", "zero", "symmetric", "replicate"}) {
    same_as_whole(dir, {"blur", "--sigma", "2.5", "--padding", pad}, dir + "/rgb.png", "png");
    same_as_whole(dir, {"edge", "--padding", pad}, dir + "/g.pgm", "pgm");  // normalized: 2 passes
  }
  same_as_whole(dir, {"blur", "--type", "box", "--size", "5", "--alpha", "pass"},
                dir + "/rgba16.png", "png");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/rgba16.png", "png");  // premultiplied
  same_as_whole(dir, {"blur", "--padding", "reflect,constant", "--border-value", "200"},
                dir + "/rgb.png", "png");
  same_as_whole(dir, {"edge", "--operator", "log", "--sigma", "1.5"}, dir + "/g.pgm", "pgm");
  same_as_whole(dir, {"edge", "--operator", "dog", "--sigma", "1", "--sigma2", "2.5"},
                dir + "/rgb.png", "npy");
  same_as_whole(dir, {"blur", "--sigma-x", "1", "--sigma-y", "3"}, dir + "/c16.ppm", "ppm");
  same_as_whole(dir, {"blur", "--sigma", "1.5", "--normalize"}, dir + "/g.pgm", "png");
  same_as_whole(dir, {"edge", "--direction", "x"}, dir + "/rgb.png", "png");  // mid-grey offset
  same_as_whole(dir, {"edge", "--direction", "direction"}, dir + "/rgba16.png", "png");
  same_as_whole(dir, {"edge", "--operator", "laplacian", "--abs"}, dir + "/c16.ppm", "ppm");
  same_as_whole(dir, {"edge", "--ksize", "7", "--direction", "y"}, dir + "/g.pgm", "npy");
  same_as_whole(dir, {"blur", "--sigma", "3"}, dir + "/f.npy", "npy");
  same_as_whole(dir, {"blur", "--sigma", "2", "--padding", "circular"}, dir + "/j.jpg", "png");
  same_as_whole(dir, {"edge"}, dir + "/jg.jpg", "pgm");
  same_as_whole(dir, {"edge", "--operator", "scharr"}, dir + "/f.npy", "npy");
}

TEST_CASE("[cli] --memory takes sizes with suffixes and refuses an input it cannot hold") {
  const std::string dir = temp_dir();
  write_image(noise(400, 300, 3, 8, 6), dir + "/a.png");
  write_image(noise(400, 300, 3, 8, 6), dir + "/a.bmp");
  RunResult r = run_convkit({"blur", dir + "/a.png", "--memory", "12X", "-o", dir + "/o.png"});
  CHECK(r.status == 2);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("--memory") != std::string::npos);
  // Streamed: the bands of a 400-pixel-wide image do not fit in 64 KiB.
  r = run_convkit({"blur", dir + "/a.png", "--memory", "64K", "-o", dir + "/o.png"});
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("--memory") != std::string::npos);
  CHECK(r.err.find("a.png") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.png"));
  // Read whole (BMP does not stream): the whole image must fit.
  r = run_convkit({"blur", dir + "/a.bmp", "--memory", "1M", "-o", dir + "/o.png"});
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("read whole") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.png"));
  r = run_convkit({"blur", dir + "/a.bmp", "--memory", "64M", "-o", dir + "/o.png"});
  CHECK(r.status == 0);
  r = run_convkit({"blur", dir + "/a.png", "--memory", "8M", "-o", dir + "/o.png"});
  CHECK(r.status == 0);
}

TEST_CASE("[cli] a stream that fails mid-way leaves the old output as it was") {
  const std::string dir = temp_dir();
  // A 500 x 3000 PNG cut in the middle of its pixel data: the header and the
  // file size are plausible, so streaming starts and the first bands are
  // written to the temporary file before the decoder finds the end.
  write_image(noise(500, 3000, 1, 8, 7), dir + "/full.png");
  const std::string png = read_file(dir + "/full.png");
  write_file(dir + "/cut.png", png.substr(0, png.size() / 2));
  write_file(dir + "/out.png", "old contents");
  for (const char* cmd : {"blur", "edge"}) {
    const RunResult r = run_convkit({cmd, dir + "/cut.png", "-o", dir + "/out.png"});
    CHECK(r.status == 1);
    CHECK(is_one_error_line(r));
    CHECK(r.err.find("truncated") != std::string::npos);
    CHECK(read_file(dir + "/out.png") == "old contents");
  }
  // A PGM whose header declares more rows than the file holds is refused at once.
  std::string pgm = "P5\n500 3000\n255\n";
  pgm += std::string(500 * 1500, '\x7f');
  write_file(dir + "/cut.pgm", pgm);
  const RunResult r = run_convkit({"blur", dir + "/cut.pgm", "-o", dir + "/out.pgm"});
  CHECK(r.status == 1);
  CHECK(r.err.find("truncated") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/out.pgm"));
}

// [cli] TIFF wherever an image is taken: blur, edge, median, sharpen, convolve,
// predict and train folders give the same results from a .tif as from the
// same pixels in PNG (or float .npy); --format tif in batches and on
// standard output; a damaged TIFF fails with one line and no output file.
#include <doctest/doctest.h>
#include <tiffio.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "support/images.hpp"
#include "support/run.hpp"

using namespace convkit;
using convkit::test::random_image;
using convkit::test::read_file;
using convkit::test::run_convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;
namespace fs = std::filesystem;

namespace {

bool is_tiff(const std::string& path) {
  const std::string b = read_file(path);
  return b.compare(0, 4, std::string("II*\0", 4)) == 0;
}

// Runs `args` with IN replaced by `in` and OUT by `out`; requires success.
void run_with(std::vector<std::string> args, const std::string& in, const std::string& out) {
  for (auto& a : args) {
    if (a == "IN") a = in;
    if (a == "OUT") a = out;
  }
  const auto r = run_convkit(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("[cli] every image command gives the same result from a TIFF as from a PNG") {
  const std::string dir = temp_dir();
  for (int depth : {8, 16}) {
    const Image img = random_image(41, 27, depth == 8 ? 3 : 1, depth, static_cast<unsigned>(depth));
    write_image(img, dir + "/in.png");
    ImageWriteOptions lzw;
    lzw.tiff.compression = TiffCompression::lzw;
    lzw.tiff.tiled = true;
    lzw.tiff.tile_width = lzw.tiff.tile_height = 16;
    write_image(img, dir + "/in.tif", lzw);
    const std::vector<std::vector<std::string>> commands = {
        {"blur", "--sigma", "2", "IN", "-o", "OUT"},
        {"edge", "IN", "--direction", "x", "-o", "OUT"},
        {"median", "IN", "--size", "5", "-o", "OUT"},
        {"sharpen", "IN", "--sigma", "1.5", "-o", "OUT"},
        {"convolve", "IN", "sobel-y", "--mode", "same", "--offset", "128", "-o", "OUT"},
    };
    for (const auto& cmd : commands) {
      CAPTURE(cmd[0]);
      CAPTURE(depth);
      run_with(cmd, dir + "/in.png", dir + "/ref.png");
      run_with(cmd, dir + "/in.tif", dir + "/out.tif");
      CHECK(is_tiff(dir + "/out.tif"));
      const Image ref = read_image(dir + "/ref.png"), out = read_image(dir + "/out.tif");
      CHECK(out.bit_depth == ref.bit_depth);
      CHECK(out.channels == ref.channels);
      CHECK(out.data == ref.data);
    }
  }
}

TEST_CASE("[cli] float TIFF in gives exact float TIFF out, as float .npy does") {
  const std::string dir = temp_dir();
  const Image img = random_image(30, 20, 1, 32, 7);
  write_image(img, dir + "/in.npy");
  write_image(img, dir + "/in.tif");
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"edge", "IN", "--direction", "y", "-o", "OUT"},
        std::vector<std::string>{"blur", "--sigma", "1.2", "IN", "-o", "OUT"},
        std::vector<std::string>{"convolve", "IN", "laplacian-4", "-o", "OUT"}}) {
    CAPTURE(cmd[0]);
    run_with(cmd, dir + "/in.npy", dir + "/ref.npy");
    run_with(cmd, dir + "/in.tif", dir + "/out.tif");
    const Image ref = read_image(dir + "/ref.npy"), out = read_image(dir + "/out.tif");
    CHECK(out.bit_depth == 32);
    CHECK(out.width == ref.width);
    CHECK(out.data == ref.data);  // negative and fractional values kept
  }
  // An 8-bit input asked for --bit-depth 32 keeps the exact values in a float TIFF.
  write_image(random_image(12, 9, 1, 8, 3), dir + "/g.png");
  run_with({"convolve", "IN", "sobel-x", "--bit-depth", "32", "-o", "OUT"}, dir + "/g.png",
           dir + "/gx.tif");
  run_with({"convolve", "IN", "sobel-x", "-o", "OUT"}, dir + "/g.png", dir + "/gx.npy");
  CHECK(read_image(dir + "/gx.tif").data == read_image(dir + "/gx.npy").data);
}

TEST_CASE("[cli] --format tif in a batch and on standard output; TIFF from standard input") {
  const std::string dir = temp_dir();
  write_image(random_image(25, 19, 3, 8, 1), dir + "/a.png");
  write_image(random_image(17, 23, 4, 8, 2), dir + "/b.png");
  auto r = run_convkit({"blur", "--sigma", "1.5", dir + "/a.png", dir + "/b.png", "--outdir",
                        dir + "/out", "--format", "tif", "--quiet"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (const char* base : {"a", "b"}) {
    CAPTURE(base);
    const std::string out = dir + "/out/" + base + ".tif";
    REQUIRE(fs::exists(out));
    CHECK(is_tiff(out));
    run_with({"blur", "--sigma", "1.5", "IN", "-o", "OUT"}, dir + "/" + base + ".png",
             dir + "/ref.png");
    CHECK(read_image(out).data == read_image(dir + "/ref.png").data);
  }
  // -o - --format tiff: written through a pipe (no seeking), read back the same.
  auto s = run_convkit({"blur", "--sigma", "1.5", dir + "/a.png", "-o", "-", "--format", "tiff"});
  REQUIRE(s.status == 0);
  CHECK(s.out.compare(0, 4, std::string("II*\0", 4)) == 0);
  run_with({"blur", "--sigma", "1.5", "IN", "-o", "OUT"}, dir + "/a.png", dir + "/ref.png");
  CHECK(decode_image(s.out, "stdout").data == read_image(dir + "/ref.png").data);
  // ... and back in through standard input.
  auto t = run_convkit({"blur", "--sigma", "1.5", "-", "-o", dir + "/fromstdin.png"}, s.out);
  INFO(t.err);
  REQUIRE(t.status == 0);
  run_with({"blur", "--sigma", "1.5", "IN", "-o", "OUT"}, dir + "/ref.png", dir + "/ref2.png");
  CHECK(read_image(dir + "/fromstdin.png").data == read_image(dir + "/ref2.png").data);
}

TEST_CASE("[cli] a truncated or unsupported TIFF fails with one line and leaves no output") {
  const std::string dir = temp_dir();
  ImageWriteOptions o;
  o.tiff.compression = TiffCompression::deflate;
  write_image(random_image(64, 64, 3, 8, 5), dir + "/in.tif", o);
  const std::string whole = read_file(dir + "/in.tif");
  write_file(dir + "/cut.tif", whole.substr(0, whole.size() / 2));
  for (const char* cmd : {"blur", "edge", "median"}) {
    CAPTURE(cmd);
    auto r = run_convkit({cmd, dir + "/cut.tif", "-o", dir + "/out.tif"});
    CHECK(r.status == 1);
    CHECK(convkit::test::is_one_error_line(r));
    CHECK(r.err.find("cut.tif") != std::string::npos);
    CHECK(!fs::exists(dir + "/out.tif"));
  }
  // In a batch the bad file fails alone.
  auto b = run_convkit({"blur", dir + "/cut.tif", dir + "/in.tif", "--outdir", dir + "/out",
                        "--suffix", "-b", "--quiet"});
  CHECK(b.status == 3);  // some inputs failed
  CHECK(fs::exists(dir + "/out/in-b.tif"));
  CHECK(!fs::exists(dir + "/out/cut-b.tif"));
}

TEST_CASE("[cli] train reads class folders of TIFFs and predict takes a TIFF") {
  const std::string dir = temp_dir();
  // Two classes, 8x8 grey: a bright row or a bright column, as PNG and as TIFF.
  for (const char* fmt : {"png", "tif"})
    for (const char* cls : {"row", "col"})
      for (int k = 0; k < 6; ++k) {
        Image img;
        img.width = img.height = 8;
        img.channels = 1;
        img.data.assign(64, 10.f);
        for (int i = 0; i < 8; ++i)
          img.data[std::string(cls) == "row" ? k * 8 + i : i * 8 + k] = 250.f;
        const std::string sub = dir + "/" + fmt + "/" + cls;
        fs::create_directories(sub);
        write_image(img, sub + "/" + std::to_string(k) + "." + fmt);
      }
  std::string outputs[2];
  int i = 0;
  for (const char* fmt : {"png", "tif"}) {
    const std::string d = dir + "/" + fmt;
    auto r = run_convkit({"train", "--data", d, "--arch", "FLATTEN FC-2", "--epochs", "2", "--seed",
                          "3", "--threads", "1", "--quiet", "-o", dir + "/" + fmt + ".ckpt"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto p = run_convkit({"predict", "-m", dir + "/" + fmt + ".ckpt", d + "/row/2." + fmt});
    INFO(p.err);
    REQUIRE(p.status == 0);
    outputs[i++] = p.out.substr(p.out.find(": "));  // without the file name
  }
  CHECK(outputs[0] == outputs[1]);
}

TEST_CASE("[cli] --compression and --tile choose how a TIFF is written, and only a TIFF") {
  const std::string dir = temp_dir();
  write_image(random_image(70, 50, 3, 16, 9), dir + "/in.png");
  run_with({"blur", "IN", "-o", "OUT"}, dir + "/in.png", dir + "/plain.tif");
  const Image plain = read_image(dir + "/plain.tif");
  struct Case {
    std::vector<std::string> flags;
    int compression;
    bool tiled;
  };
  const Case cases[] = {
      {{"--compression", "lzw"}, COMPRESSION_LZW, false},
      {{"--compression", "deflate", "--tile", "32"}, COMPRESSION_ADOBE_DEFLATE, true},
      {{"--tile", "16"}, COMPRESSION_NONE, true},
      {{"--compression", "none"}, COMPRESSION_NONE, false}};
  for (const auto& c : cases) {
    CAPTURE(c.flags[0]);
    std::vector<std::string> args = {"blur", dir + "/in.png", "-o", dir + "/t.tif"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto r = run_convkit(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    TIFF* t = TIFFOpen((dir + "/t.tif").c_str(), "r");
    REQUIRE(t);
    std::uint16_t compression = 0;
    TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
    CHECK(compression == c.compression);
    CHECK((TIFFIsTiled(t) != 0) == c.tiled);
    TIFFClose(t);
    CHECK(read_image(dir + "/t.tif").data == plain.data);
  }
  // Also in batches and for convolve.
  fs::copy_file(dir + "/in.png", dir + "/in2.png");
  auto b = run_convkit({"convolve", dir + "/in.png", dir + "/in2.png", "box-3", "--outdir",
                        dir + "/out", "--suffix", "-c", "--format", "tif", "--compression", "lzw",
                        "--clip", "--quiet"});
  INFO(b.err);
  CHECK(b.status == 0);
  CHECK(is_tiff(dir + "/out/in-c.tif"));
  CHECK(is_tiff(dir + "/out/in2-c.tif"));
  // Refused: a tile size that is no multiple of 16, and the flags for other formats.
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"blur", dir + "/in.png", "-o", dir + "/x.tif", "--tile", "40"},
        std::vector<std::string>{"blur", dir + "/in.png", "-o", dir + "/x.png", "--compression",
                                 "lzw"},
        std::vector<std::string>{"edge", dir + "/in.png", "-o", "-", "--tile", "32"},
        std::vector<std::string>{"convolve", dir + "/in.png", "box-3", "-o", dir + "/x.npy",
                                 "--compression", "deflate"},
        std::vector<std::string>{"blur", dir + "/in.png", "-o", dir + "/x.tif", "--compression",
                                 "jpeg"}}) {
    CAPTURE(bad.back());
    auto r = run_convkit(bad);
    CHECK(r.status == 2);
    CHECK(convkit::test::is_one_error_line(r));
    CHECK(!fs::exists(dir + "/x.tif"));
    CHECK(!fs::exists(dir + "/x.png"));
  }
}

TEST_CASE("[cli] a TIFF on standard input from a regular file reads like the file") {
  const std::string dir = temp_dir();
  write_image(random_image(20, 15, 1, 16, 4), dir + "/in.tif");
  run_with({"blur", "IN", "-o", "OUT"}, dir + "/in.tif", dir + "/ref.tif");
  // run_convkit feeds a pipe; a shell redirect makes standard input the file itself.
  const std::string cmd =
      std::string(CONVKIT_BINARY) + " blur - -o " + dir + "/out.tif < " + dir + "/in.tif";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(read_image(dir + "/out.tif").data == read_image(dir + "/ref.tif").data);
}

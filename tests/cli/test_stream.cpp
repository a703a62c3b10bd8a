// [cli] blur and edge stream files by rows: the same bytes as the
// whole-image path, --memory, atomic outputs when a stream fails mid-way.
#include <doctest/doctest.h>
#include <png.h>
#include <tiffio.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdint>
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

// TIFF in LZW-compressed 32 x 16 tiles: many tiles on a small image.
ImageWriteOptions small_lzw_tiles() {
  ImageWriteOptions o;
  o.tiff.compression = TiffCompression::lzw;
  o.tiff.tiled = true;
  o.tiff.tile_width = 32;
  o.tiff.tile_height = 16;
  return o;
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

// A TIFF libtiff writes directly, for what convkit's writer never makes:
// associated (premultiplied) alpha, float64 samples.  Samples from `value`.
template <class S>
void write_raw_tiff(const std::string& path, int w, int h, int c, int bits, int format, bool assoc,
                    S (*value)(std::size_t)) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, c);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, format);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, c >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 7);
  if (c == 2 || c == 4) {
    std::uint16_t kind = assoc ? EXTRASAMPLE_ASSOCALPHA : EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &kind);
  }
  std::vector<S> row(static_cast<std::size_t>(w) * c);
  for (int y = 0; y < h; ++y) {
    for (std::size_t k = 0; k < row.size(); ++k) row[k] = value(y * row.size() + k);
    REQUIRE(TIFFWriteScanline(t, row.data(), static_cast<std::uint32_t>(y), 0) == 1);
  }
  TIFFClose(t);
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
  write_image(noise(400, 300, 3, 8, 6), dir + "/a.tga");
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
  // Read whole (TGA does not stream): the whole image must fit.
  r = run_convkit({"blur", dir + "/a.tga", "--memory", "1M", "-o", dir + "/o.png"});
  CHECK(r.status == 1);
  CHECK(is_one_error_line(r));
  CHECK(r.err.find("read whole") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.png"));
  r = run_convkit({"blur", dir + "/a.tga", "--memory", "64M", "-o", dir + "/o.png"});
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

TEST_CASE("[cli] blur and edge stream TIFF in and out to the whole-image bytes") {
  const std::string dir = temp_dir();
  const ImageWriteOptions lzw_tiles = small_lzw_tiles();
  write_image(noise(201, 133, 3, 8, 11), dir + "/rgb.tif", lzw_tiles);
  ImageWriteOptions deflate;
  deflate.tiff.compression = TiffCompression::deflate;
  write_image(noise(97, 150, 1, 16, 12), dir + "/g16.tif", deflate);
  Image f = noise(70, 90, 2, 8, 13);
  f.bit_depth = 32;
  for (float& v : f.data) v = v / 255.f - 0.25f;
  write_image(f, dir + "/f.tif");
  write_raw_tiff<std::uint8_t>(
      dir + "/pre.tif", 61, 45, 4, 8, SAMPLEFORMAT_UINT, true, [](std::size_t k) {
        // Premultiplied: colour at most alpha (channel 3).
        const auto a = static_cast<std::uint8_t>((k / 4) * 7 % 256);
        return k % 4 == 3 ? a : static_cast<std::uint8_t>(k * 13 % (a + 1));
      });
  write_raw_tiff<double>(dir + "/f64.tif", 53, 40, 1, 64, SAMPLEFORMAT_IEEEFP, false,
                         [](std::size_t k) { return std::sin(0.37 * static_cast<double>(k)) / 3; });
  for (const char* pad : {"reflect", "circular", "zero"}) {
    same_as_whole(dir, {"blur", "--sigma", "2.5", "--padding", pad}, dir + "/rgb.tif", "tif");
    same_as_whole(dir, {"edge", "--padding", pad}, dir + "/g16.tif",
                  "tif");  // normalized: 2 passes
  }
  same_as_whole(dir, {"blur", "--sigma", "2", "--compression", "lzw", "--tile", "32"},
                dir + "/rgb.tif", "tif");
  same_as_whole(dir, {"blur", "--sigma", "1.5", "--compression", "deflate"}, dir + "/g16.tif",
                "tif");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/f.tif", "tif");  // float TIFF out
  same_as_whole(dir, {"edge", "--operator", "scharr"}, dir + "/f.tif", "tif");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/pre.tif", "tif");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/f64.tif", "tif");
  same_as_whole(dir, {"blur", "--sigma", "2", "--bit-depth", "32"}, dir + "/f64.tif", "tif");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/rgb.tif", "png");
  write_image(noise(120, 99, 4, 16, 16), dir + "/rgba16.png");
  same_as_whole(dir, {"blur", "--sigma", "2"}, dir + "/rgba16.png", "tif");
  // Streamed, not read whole: 2000 x 600 grey needs about 19 MB whole, and
  // --memory 8M is enough only for bands.
  write_image(noise(2000, 600, 1, 8, 14), dir + "/wide.tif", lzw_tiles);
  for (const char* cmd : {"blur", "edge"}) {
    const RunResult r = run_convkit({cmd, dir + "/wide.tif", "--memory", "8M", "--compression",
                                     "lzw", "--tile", "64", "-o", dir + "/wide_out.tif"});
    INFO(r.err);
    CHECK(r.status == 0);
    same_as_whole(dir, {cmd, "--compression", "lzw", "--tile", "64"}, dir + "/wide.tif", "tif");
  }
}

TEST_CASE("[cli] a TIFF stream that fails mid-way leaves the old output as it was") {
  const std::string dir = temp_dir();
  // 500 x 3000 grey in deflate strips; a strip in the middle gets a broken
  // zlib header, so the first bands are written before the decoder fails.
  ImageWriteOptions deflate;
  deflate.tiff.compression = TiffCompression::deflate;
  write_image(noise(500, 3000, 1, 8, 15), dir + "/bad.tif", deflate);
  std::uint64_t at = 0;
  {
    TIFF* t = TIFFOpen((dir + "/bad.tif").c_str(), "r");
    REQUIRE(t);
    const std::uint32_t n = TIFFNumberOfStrips(t);
    REQUIRE(n > 4);
    std::uint64_t* offsets = nullptr;
    REQUIRE(TIFFGetField(t, TIFFTAG_STRIPOFFSETS, &offsets));
    at = offsets[n * 2 / 3];
    TIFFClose(t);
  }
  std::string bytes = read_file(dir + "/bad.tif");
  bytes[at] = '\xff';
  bytes[at + 1] = '\xff';
  write_file(dir + "/bad.tif", bytes);
  write_file(dir + "/out.tif", "old contents");
  for (const char* cmd : {"blur", "edge"}) {
    // --memory 12M: too little to read it whole (24 MB), so the failure is the stream's.
    const RunResult r =
        run_convkit({cmd, dir + "/bad.tif", "--memory", "12M", "-o", dir + "/out.tif"});
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(is_one_error_line(r));
    CHECK(r.err.find("bad.tif") != std::string::npos);
    CHECK(r.err.find("--memory") == std::string::npos);
    CHECK(read_file(dir + "/out.tif") == "old contents");
  }
}

TEST_CASE("[cli] convolve streams images to the whole-image bytes") {
  const std::string dir = temp_dir();
  const ImageWriteOptions lzw_tiles = small_lzw_tiles();
  write_image(noise(131, 97, 3, 8, 21), dir + "/rgb.png");
  write_image(noise(67, 83, 4, 16, 22), dir + "/rgba16.png");
  write_image(noise(90, 71, 1, 8, 23), dir + "/g.pgm");
  write_image(noise(44, 61, 3, 16, 24), dir + "/c16.ppm");
  write_image(noise(73, 59, 3, 8, 25), dir + "/j.jpg");
  write_image(noise(101, 77, 3, 8, 26), dir + "/rgb.tif", lzw_tiles);
  Image f = noise(53, 66, 2, 8, 27);  // grey + alpha, float
  f.bit_depth = 32;
  for (float& v : f.data) v = v / 255.f - 0.25f;
  write_image(f, dir + "/ga.tif");
  write_image(f, dir + "/ga.npy");  // H x W x 2
  Image g2 = noise(47, 58, 1, 8, 28);
  g2.bit_depth = 64;
  g2.data64.assign(g2.data.begin(), g2.data.end());
  g2.data.clear();
  for (double& v : g2.data64) v = v / 97 - 1;
  write_image(g2, dir + "/m64.npy");  // 2-D float64: an image when written to .npy
  // An even kernel (2 x 3: "same" pads it unevenly) and every geometry.
  const std::vector<std::vector<std::string>> geometries = {
      {"--same"},
      {"--anchor", "1,0", "--padding", "circular"},
      {"--anchor", "0,2", "--correlate", "--padding", "symmetric", "--bias", "3"},
      {"--mode", "full", "--padding", "replicate", "--stride", "2,3"},
      {"--mode", "valid", "--stride", "3"},
      {"--pad", "4,1,0,5", "--padding", "reflect,constant", "--border-value", "40", "--stride",
       "2,1"},
      {"--mode", "same", "--padding", "circular", "--stride", "1,2", "--kernel-scale", "0.5"},
      {"--same", "--padding", "zero", "--filter-alpha", "--normalize-kernel"},
  };
  const std::string k = "[1 2 -1; 0 3 1]";
  struct Case {
    const char* file;
    const char* out;
    std::vector<std::string> policy;
  };
  const Case cases[] = {{"rgb.png", "png", {"--clip"}},
                        {"rgba16.png", "png", {"--normalize"}},  // two passes
                        {"g.pgm", "pgm", {"--offset", "128"}},
                        {"c16.ppm", "npy", {}},
                        {"j.jpg", "png", {"--abs"}},
                        {"rgb.tif", "tif", {"--clip"}},
                        {"ga.tif", "tif", {}},
                        {"ga.npy", "npy", {}},
                        {"m64.npy", "npy", {}}};
  int n = 0;
  for (const Case& c : cases)
    for (std::size_t i = 0; i < geometries.size(); i += 2) {  // half of them per file, in turn
      const auto& geo = geometries[(i + n++) % geometries.size()];
      std::vector<std::string> args = {"convolve", k};
      args.insert(args.end(), geo.begin(), geo.end());
      args.insert(args.end(), c.policy.begin(), c.policy.end());
      same_as_whole(dir, args, dir + "/" + c.file, c.out);
    }
  // A kernel large enough for the FFT's tiles, on RGBA (alpha sampled under the anchor).
  std::string big = "[";
  for (int r = 0; r < 31; ++r) {
    for (int q = 0; q < 29; ++q) big += std::to_string((r * 7 + q * 3) % 11 - 5) + " ";
    big += r < 30 ? ";" : "]";
  }
  write_image(noise(300, 260, 4, 8, 29), dir + "/big.png");
  same_as_whole(dir, {"convolve", big, "--same", "--padding", "circular", "--normalize"},
                dir + "/big.png", "png");
  same_as_whole(dir, {"convolve", big, "--mode", "full", "--stride", "2"}, dir + "/big.png", "npy");
  // Streamed, not read whole: 2000 x 600 grey needs about 19 MB whole, and
  // --memory 8M is enough only for bands.
  write_image(noise(2000, 600, 1, 8, 30), dir + "/wide.pgm");
  const RunResult r = run_convkit({"convolve", dir + "/wide.pgm", "gaussian-5", "--same",
                                   "--memory", "8M", "-o", dir + "/wide_out.pgm"});
  INFO(r.err);
  CHECK(r.status == 0);
  const RunResult w = run_convkit(
      {"convolve", "-", "gaussian-5", "--same", "--memory", "8M", "-o", dir + "/whole.pgm"},
      read_file(dir + "/wide.pgm"));
  CHECK(w.status == 1);
  CHECK(is_one_error_line(w));
  CHECK(w.err.find("read whole") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/whole.pgm"));
  same_as_whole(dir, {"convolve", "gaussian-5", "--same"}, dir + "/wide.pgm", "pgm");
}

TEST_CASE("[cli] a TIFF's row of tiles counts toward --memory") {
  const std::string dir = temp_dir();
  // 2000 x 2048 grey in 256 x 2048 tiles: the reader holds a row of tiles
  // across the whole width (4 MiB) and a tile as read and decoded, about
  // 5 MiB beside the pipeline's own bands (about 5 MiB for this width on 2 threads).
  ImageWriteOptions tall;
  tall.tiff.tiled = true;
  tall.tiff.tile_width = 256;
  tall.tiff.tile_height = 2048;
  write_image(noise(2000, 2048, 1, 8, 31), dir + "/tall.tif", tall);
  for (const char* cmd : {"blur", "edge"}) {
    RunResult r = run_convkit(
        {cmd, dir + "/tall.tif", "--threads", "2", "--memory", "8M", "-o", dir + "/o.pgm"});
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(is_one_error_line(r));
    CHECK(r.err.find("tall.tif") != std::string::npos);
    CHECK(r.err.find("TIFF's row of tiles") != std::string::npos);
    CHECK(r.err.find("--memory") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/o.pgm"));
    r = run_convkit(
        {cmd, dir + "/tall.tif", "--threads", "2", "--memory", "16M", "-o", dir + "/o.pgm"});
    CHECK(r.status == 0);
    std::filesystem::remove(dir + "/o.pgm");
  }
  // The writer's tile row counts too: 2048-row tiles out, 2000 wide.
  write_image(noise(2000, 300, 1, 8, 32), dir + "/short.pgm");
  RunResult r = run_convkit({"blur", dir + "/short.pgm", "--threads", "2", "--memory", "8M",
                             "--tile", "2048", "-o", dir + "/o.tif"});
  CHECK(r.status == 1);
  CHECK(r.err.find("TIFF's row of tiles") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/o.tif"));
  r = run_convkit(
      {"blur", dir + "/short.pgm", "--threads", "2", "--memory", "8M", "-o", dir + "/o.tif"});
  CHECK(r.status == 0);
}

namespace {

// An uncompressed BMP (BITMAPINFOHEADER) of random pixels: 1, 4 or 8 bits
// with a palette (grey when `grey`), 16 (5-5-5), 24 or 32 bits (alpha in the
// top byte: `alpha` false leaves it 0, which is padding, not a channel).
std::string random_bmp(int w, int h, int bpp, bool top_down, bool grey, bool alpha,
                       std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto le = [](std::string& s, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i)  // n may pass 4: the bytes past v's four are zeros
      s += static_cast<char>(i < 4 ? (v >> (8 * i)) & 0xff : 0);
  };
  const int colours = bpp <= 8 ? 1 << bpp : 0;
  const std::size_t stride = (static_cast<std::size_t>(w) * bpp + 31) / 32 * 4;
  const std::uint32_t offset = 54 + 4 * colours;
  std::string s = "BM";
  le(s, offset + static_cast<std::uint32_t>(stride * h), 4);
  le(s, 0, 4);
  le(s, offset, 4);
  le(s, 40, 4);
  le(s, static_cast<std::uint32_t>(w), 4);
  le(s, static_cast<std::uint32_t>(top_down ? -h : h), 4);
  le(s, 1, 2);
  le(s, static_cast<std::uint32_t>(bpp), 2);
  le(s, 0, 4);  // no compression
  le(s, 0, 4 * 5);
  for (int k = 0; k < colours; ++k) {
    const auto g = static_cast<std::uint32_t>(rng() & 0xff);
    le(s, grey ? g | g << 8 | g << 16 : rng() & 0xffffff, 4);
  }
  for (int y = 0; y < h; ++y) {
    std::string row(stride, '\0');
    for (auto& c : row) c = static_cast<char>(rng() & 0xff);
    if (bpp == 32 && !alpha)
      for (int x = 0; x < w; ++x) row[4 * x + 3] = 0;
    s += row;
  }
  return s;
}

}  // namespace

TEST_CASE("[cli] BMP files stream (bottom-up rows by seeking) to the whole-image bytes") {
  const std::string dir = temp_dir();
  struct Kind {
    int bpp;
    bool top_down, grey, alpha;
  };
  const Kind kinds[] = {
      {24, false, false, false}, {24, true, false, false}, {32, false, false, true},
      {32, true, false, false},  {8, false, true, false},  {8, true, false, false},
      {4, false, true, false},   {1, false, false, false}, {16, false, false, false}};
  int n = 0;
  for (const Kind& k : kinds) {
    const std::string file = dir + "/b" + std::to_string(n) + ".bmp";
    write_file(file, random_bmp(53 + n, 61 + 3 * n, k.bpp, k.top_down, k.grey, k.alpha,
                                static_cast<std::uint32_t>(40 + n)));
    // The rows read by rows are the whole-image decoder's.
    ImageLimits limits;
    const Image whole = read_image(file, limits);
    same_as_whole(dir, {"blur", "--sigma", "2", "--alpha", "pass", "--padding", "circular"}, file,
                  "png");
    same_as_whole(dir, {"convolve", "[1 -2 3; 0 1 1]", "--anchor", "0,1", "--clip"}, file, "png");
    CHECK(whole.channels == (k.bpp <= 8 ? (k.grey ? 1 : 3) : k.alpha ? 4 : 3));
    ++n;
  }
  // Streamed, not read whole: 2000 x 600 RGB needs about 58 MB whole.
  write_file(dir + "/wide.bmp", random_bmp(2000, 600, 24, false, false, false, 50));
  const RunResult r =
      run_convkit({"blur", dir + "/wide.bmp", "--memory", "24M", "-o", dir + "/wide.png"});
  INFO(r.err);
  CHECK(r.status == 0);
  // A BMP cut short is refused before any output is written.
  const std::string bytes = read_file(dir + "/wide.bmp");
  write_file(dir + "/cut.bmp", bytes.substr(0, bytes.size() / 2));
  const RunResult cut = run_convkit({"blur", dir + "/cut.bmp", "-o", dir + "/cut.png"});
  CHECK(cut.status == 1);
  CHECK(is_one_error_line(cut));
  CHECK(cut.err.find("truncated") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/cut.png"));
}

TEST_CASE("[cli] convolve reads a pipe named as a file (/dev/stdin) whole, its bytes read once") {
  const std::string dir = temp_dir();
  write_image(noise(40, 30, 3, 8, 60), dir + "/a.png");
  // /dev/stdin is the test's pipe: nothing of it may be read to decide whether it streams.
  const RunResult r =
      run_convkit({"convolve", "/dev/stdin", "gaussian-3", "--same", "-o", dir + "/p.png"},
                  read_file(dir + "/a.png"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(run_convkit({"convolve", dir + "/a.png", "gaussian-3", "--same", "-o", dir + "/f.png"})
              .status == 0);
  CHECK(read_file(dir + "/p.png") == read_file(dir + "/f.png"));
}

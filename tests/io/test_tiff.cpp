// [tiff] TIFF and BigTIFF through TiffReader / TiffWriter and read_image /
// write_image: every supported kind round-trips exactly, files written by
// OpenCV and by libtiff directly (planar-separate, premultiplied alpha) read
// right, unsupported kinds and truncated or corrupt files are refused.
#include <doctest/doctest.h>
#include <tiffio.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/tiff.hpp"
#include "support/images.hpp"
#include "support/run.hpp"

using namespace convkit;
using convkit::test::random_image;
using convkit::test::read_file;
using convkit::test::temp_dir;
using convkit::test::write_file;

namespace {

// Random samples of the type, as bytes (floats: signed, fractional, large and tiny).
std::vector<unsigned char> random_samples(std::size_t n, SampleType t, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> b(n * sample_bytes(t));
  for (std::size_t k = 0; k < n; ++k) {
    unsigned char* p = &b[k * sample_bytes(t)];
    const double f =
        (static_cast<double>(rng()) / 4294967295.0 - 0.3) * std::pow(10.0, rng() % 9 - 4);
    switch (t) {
      case SampleType::u8:
        *p = static_cast<unsigned char>(rng());
        break;
      case SampleType::u16: {
        const auto v = static_cast<std::uint16_t>(rng());
        std::memcpy(p, &v, 2);
        break;
      }
      case SampleType::f32: {
        const auto v = static_cast<float>(f);
        std::memcpy(p, &v, 4);
        break;
      }
      case SampleType::f64:
        std::memcpy(p, &f, 8);
        break;
    }
  }
  return b;
}

const char* type_name(SampleType t) {
  return t == SampleType::u8    ? "u8"
         : t == SampleType::u16 ? "u16"
         : t == SampleType::f32 ? "f32"
                                : "f64";
}

// Writes rows with TiffWriter in uneven pieces.
void write_tiff(const std::string& path, int w, int h, int c, SampleType t,
                const std::vector<unsigned char>& rows, const TiffWriteOptions& o) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  {
    TiffWriter wr(f, path, w, h, c, t, o);
    const std::size_t rb = static_cast<std::size_t>(w) * c * sample_bytes(t);
    int y = 0, step = 1;
    while (y < h) {
      const int n = std::min(step, h - y);
      wr.write_rows(&rows[y * rb], n);
      y += n;
      step = step % 7 + 2;
    }
    wr.finish();
  }
  std::fclose(f);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::uint32_t le32(const std::string& b, std::size_t at) {
  return static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8 |
         static_cast<unsigned char>(b[at + 2]) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}
void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>(v >> (8 * k));
}

// A little-endian classic TIFF of one strip or tile, all tag values inline,
// rebuilt with its directory first and the pixels after it: cutting the file
// then cuts the pixels, not the directory.
std::string directory_first(const std::string& t) {
  REQUIRE(t.compare(0, 4, std::string("II*\0", 4)) == 0);
  const std::uint32_t d = le32(t, 4);
  const unsigned n = static_cast<unsigned char>(t[d]) | static_cast<unsigned char>(t[d + 1]) << 8;
  std::string ifd = t.substr(d, 2 + 12 * n);
  std::uint32_t offset = 0, count = 0;
  std::size_t offset_at = 0;
  for (unsigned i = 0; i < n; ++i) {
    const std::size_t e = 2 + 12 * i;
    const unsigned tag = static_cast<unsigned char>(ifd[e]) | static_cast<unsigned char>(ifd[e + 1])
                                                                  << 8;
    REQUIRE(le32(ifd, e + 4) <= 2);  // one value (or two SHORTs): inline
    if (tag == 273 || tag == 324) {  // StripOffsets / TileOffsets
      offset = le32(ifd, e + 8);
      offset_at = e + 8;
    }
    if (tag == 279 || tag == 325) count = le32(ifd, e + 8);  // byte counts
  }
  REQUIRE(offset_at != 0);
  std::string out = std::string("II*\0", 4) + std::string(4, '\0');
  put32(out, 4, 8);
  put32(ifd, offset_at, static_cast<std::uint32_t>(8 + ifd.size() + 4));
  out += ifd + std::string(4, '\0') + t.substr(offset, count);
  return out;
}

// A TIFF made with libtiff directly, so the reader is checked against files
// TiffWriter never makes.  `set` sets the tags beyond the size.
std::string libtiff_file(const std::string& path, int w, int h,
                         const std::function<void(TIFF*)>& set,
                         const std::vector<unsigned char>& strip) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
  set(t);
  const tmsize_t n = TIFFStripSize(t);
  const int strips = static_cast<int>(TIFFNumberOfStrips(t));
  for (int s = 0; s < strips; ++s)
    CHECK(TIFFWriteEncodedStrip(t, s, const_cast<unsigned char*>(&strip[s * n]), n) == n);
  TIFFClose(t);
  return path;
}

}  // namespace

TEST_CASE("[tiff] every channel count, sample type, layout and compression round-trips exactly") {
  const std::string dir = temp_dir();
  const int w = 37, h = 29;  // partial tiles and strips on both edges
  unsigned seed = 1;
  for (int c = 1; c <= 4; ++c)
    for (SampleType t : {SampleType::u8, SampleType::u16, SampleType::f32, SampleType::f64})
      for (bool tiled : {false, true})
        for (TiffCompression z :
             {TiffCompression::none, TiffCompression::lzw, TiffCompression::deflate}) {
          CAPTURE(c);
          CAPTURE(type_name(t));
          CAPTURE(tiled);
          CAPTURE(static_cast<int>(z));
          TiffWriteOptions o;
          o.compression = z;
          o.tiled = tiled;
          o.tile_width = 16;
          o.tile_height = 16;
          o.rows_per_strip = 5;
          const auto rows = random_samples(static_cast<std::size_t>(w) * h * c, t, ++seed);
          const std::string path = dir + "/a.tif";
          write_tiff(path, w, h, c, t, rows, o);
          TiffReader r(path);
          CHECK(r.width() == w);
          CHECK(r.height() == h);
          CHECK(r.channels() == c);
          CHECK(r.sample_type() == t);
          CHECK(r.tiled() == tiled);
          CHECK(!r.bigtiff());
          CHECK(!r.premultiplied());
          const std::size_t rb = r.row_bytes();
          REQUIRE(rb == static_cast<std::size_t>(w) * c * sample_bytes(t));
          // All rows at once, then ranges in a scattered order (back and forth across blocks).
          std::vector<unsigned char> got(rows.size());
          r.read_rows(0, h, got.data());
          CHECK(got == rows);
          for (int y0 : {20, 3, 28, 0, 14, 6}) {
            const int n = std::min(7, h - y0);
            std::vector<unsigned char> part(n * rb);
            r.read_rows(y0, n, part.data());
            CHECK(std::memcmp(part.data(), &rows[y0 * rb], part.size()) == 0);
          }
          // The same bytes from memory.
          const std::string bytes = read_file(path);
          TiffReader m(bytes, "mem");
          std::fill(got.begin(), got.end(), 0);
          m.read_rows(0, h, got.data());
          CHECK(got == rows);
        }
}

TEST_CASE("[tiff] rows outside the image and a writer given too few or too many rows are refused") {
  const std::string dir = temp_dir();
  const auto rows = random_samples(8 * 4, SampleType::u8, 3);
  write_tiff(dir + "/a.tif", 8, 4, 1, SampleType::u8, rows, {});
  TiffReader r(dir + "/a.tif");
  std::vector<unsigned char> buf(8 * 5);
  CHECK(error_of([&] { r.read_rows(2, 3, buf.data()); }).find("outside") != std::string::npos);
  CHECK(error_of([&] { r.read_rows(-1, 1, buf.data()); }).find("a.tif") != std::string::npos);

  std::FILE* f = std::fopen((dir + "/b.tif").c_str(), "wb");
  REQUIRE(f);
  {
    TiffWriter wr(f, "b.tif", 8, 4, 1, SampleType::u8);
    wr.write_rows(rows.data(), 3);
    CHECK(error_of([&] { wr.write_rows(rows.data(), 2); }).find("b.tif") != std::string::npos);
    CHECK(error_of([&] { wr.finish(); }).find("only 3 of 4 rows") != std::string::npos);
  }
  std::fclose(f);
}

TEST_CASE(
    "[tiff] BigTIFF: forced for a small file it writes and reads back; large files choose it") {
  const std::string dir = temp_dir();
  for (bool tiled : {false, true}) {
    TiffWriteOptions o;
    o.force_bigtiff = true;
    o.tiled = tiled;
    o.compression = TiffCompression::lzw;
    const auto rows = random_samples(300 * 70 * 3, SampleType::u16, 9);
    write_tiff(dir + "/big.tif", 300, 70, 3, SampleType::u16, rows, o);
    CHECK(read_file(dir + "/big.tif").compare(0, 4, std::string("II+\0", 4)) == 0);
    TiffReader r(dir + "/big.tif");
    CHECK(r.bigtiff());
    std::vector<unsigned char> got(rows.size());
    r.read_rows(0, 70, got.data());
    CHECK(got == rows);
    // And through the whole-image path, sniffed by its magic bytes.
    const Image img = read_image(dir + "/big.tif");
    CHECK(img.bit_depth == 16);
    std::uint16_t first;
    std::memcpy(&first, rows.data(), 2);
    CHECK(img.data[0] == first);
  }
  // Without the flag: classic TIFF for a small image.
  write_tiff(dir + "/small.tif", 8, 8, 1, SampleType::u8, random_samples(64, SampleType::u8, 1),
             {});
  CHECK(read_file(dir + "/small.tif").compare(0, 4, std::string("II*\0", 4)) == 0);
  // The automatic choice, from the size and the compression's worst growth.
  CHECK(!tiff_may_exceed_4gib(30000, 30000, 1, SampleType::u8, TiffCompression::none));
  CHECK(!tiff_may_exceed_4gib(32000, 32000, 3, SampleType::u8, TiffCompression::none));
  CHECK(!tiff_may_exceed_4gib(32000, 32000, 3, SampleType::u8, TiffCompression::deflate));
  CHECK(tiff_may_exceed_4gib(32000, 32000, 3, SampleType::u8, TiffCompression::lzw));
  CHECK(tiff_may_exceed_4gib(70000, 70000, 1, SampleType::u8, TiffCompression::none));
  CHECK(tiff_may_exceed_4gib(16384, 16384, 4, SampleType::f32, TiffCompression::deflate));
  CHECK(!tiff_may_exceed_4gib(16000, 16000, 4, SampleType::u8, TiffCompression::deflate));
}

TEST_CASE(
    "[tiff] read_image / write_image keep 8-bit, 16-bit, float32 and float64 values exactly") {
  const std::string dir = temp_dir();
  unsigned seed = 40;
  for (int depth : {8, 16, 32, 64})
    for (int c : {1, 2, 3, 4})
      for (const char* ext : {"tif", "tiff"}) {
        CAPTURE(depth);
        CAPTURE(c);
        const Image img = random_image(23, 11, c, depth, ++seed);
        const std::string path = dir + "/x." + ext;
        ImageWriteOptions o;
        o.tiff.compression = c % 2 ? TiffCompression::deflate : TiffCompression::lzw;
        o.tiff.tiled = c > 2;
        CHECK(writes_float(path, o, img) == (depth >= 32));
        write_image(img, path, o);
        ImageLimits keep;
        keep.keep_float64 = true;
        const Image back = read_image(path, keep);
        CHECK(back.width == 23);
        CHECK(back.height == 11);
        CHECK(back.channels == c);
        CHECK(back.bit_depth == depth);
        if (depth == 64)
          CHECK(back.data64 == img.data64);
        else
          CHECK(back.data == img.data);
        // From memory (standard input takes this path) too.
        const Image mem = decode_image(read_file(path), "mem", keep);
        CHECK(mem.sample_count() == img.sample_count());
        CHECK((depth == 64 ? mem.data64 == img.data64 : mem.data == img.data));
      }
  // An 8-bit image asked for 16 bits is rescaled like PNG; float to 8 bits needs a policy.
  Image g = random_image(5, 4, 1, 8, 3);
  ImageWriteOptions o16;
  o16.bit_depth = 16;
  write_image(g, dir + "/g16.tif", o16);
  const Image g16 = read_image(dir + "/g16.tif");
  CHECK(g16.bit_depth == 16);
  CHECK(g16.data[5] == g.data[5] * 257);
  Image f = random_image(5, 4, 1, 32, 4);
  ImageWriteOptions o8;
  o8.bit_depth = 8;
  CHECK(error_of([&] { write_image(f, dir + "/f8.tif", o8); }).find("offset V or clip") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/f8.tif"));
  o8.policy = ValuePolicy::clip;
  write_image(f, dir + "/f8.tif", o8);
  CHECK(read_image(dir + "/f8.tif").bit_depth == 8);
}

TEST_CASE("[tiff] files written by OpenCV read as OpenCV reads them, and OpenCV reads ours") {
  const std::string dir = temp_dir();
  std::mt19937 rng(5);
  for (int type : {CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_16UC3, CV_16UC4, CV_32FC1}) {
    CAPTURE(type);
    cv::Mat m(13, 19, type);
    if (CV_MAT_DEPTH(type) == CV_32F)
      cv::randu(m, -1000.0, 1000.0);
    else
      cv::randu(m, 0, CV_MAT_DEPTH(type) == CV_16U ? 65536 : 256);
    const std::string path = dir + "/cv.tif";
    REQUIRE(cv::imwrite(path, m));
    const Image img = read_image(path);
    REQUIRE(img.channels == m.channels());
    CHECK(img.bit_depth == (CV_MAT_DEPTH(type) == CV_8U    ? 8
                            : CV_MAT_DEPTH(type) == CV_16U ? 16
                                                           : 32));
    const int ch = m.channels();
    int bad = 0;
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x)
        for (int c = 0; c < ch; ++c) {
          const int cc = ch >= 3 && c < 3 ? 2 - c : c;  // BGR(A) <-> RGB(A)
          double v;
          if (CV_MAT_DEPTH(type) == CV_8U)
            v = m.ptr<std::uint8_t>(y)[x * ch + cc];
          else if (CV_MAT_DEPTH(type) == CV_16U)
            v = m.ptr<std::uint16_t>(y)[x * ch + cc];
          else
            v = m.ptr<float>(y)[x * ch + cc];
          bad += img.plane(c)[static_cast<std::size_t>(y) * m.cols + x] != static_cast<float>(v);
        }
    CHECK(bad == 0);

    // Ours, tiled and compressed, read by OpenCV.
    ImageWriteOptions o;
    o.tiff.tiled = true;
    o.tiff.tile_width = 16;
    o.tiff.tile_height = 16;
    o.tiff.compression = TiffCompression::lzw;
    write_image(img, dir + "/ours.tif", o);
    const cv::Mat back = cv::imread(dir + "/ours.tif", cv::IMREAD_UNCHANGED);
    REQUIRE(!back.empty());
    CHECK(back.type() == m.type());
    // OpenCV reads 8-bit RGBA through libtiff's RGBA interface, which
    // premultiplies unassociated alpha: not comparable.
    if (type != CV_8UC4) CHECK(cv::norm(back, m, cv::NORM_INF) == 0);
  }
  // OpenCV writes 3-channel float as SGI LogLuv (lossy, CIE colour): refused, by name.
  cv::Mat f3(4, 5, CV_32FC3, cv::Scalar(0.25, 0.5, 0.75));
  REQUIRE(cv::imwrite(dir + "/luv.tif", f3));
  const std::string e = error_of([&] { read_image(dir + "/luv.tif"); });
  CHECK(e == dir + "/luv.tif: TIFF with LogLuv colour is not supported");
}

TEST_CASE("[tiff] planar-separate samples and premultiplied alpha written by libtiff read right") {
  const std::string dir = temp_dir();
  const int w = 6, h = 5;
  // RGB 16-bit, one plane after the other.
  std::vector<unsigned char> planes(static_cast<std::size_t>(w) * h * 3 * 2);
  for (std::size_t k = 0; k < planes.size() / 2; ++k) {
    const auto v = static_cast<std::uint16_t>(k * 977 % 65536);
    std::memcpy(&planes[2 * k], &v, 2);
  }
  libtiff_file(
      dir + "/sep.tif", w, h,
      [](TIFF* t) {
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      },
      planes);
  const Image img = read_image(dir + "/sep.tif");
  REQUIRE(img.channels == 3);
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < w * h; ++k)
      CHECK(img.plane(c)[k] == static_cast<float>((c * w * h + k) * 977 % 65536));

  // Grey + associated alpha, 8-bit: (grey * alpha / 255, alpha) reads as (grey, alpha).
  std::vector<unsigned char> ga = {100, 255, 50, 128, 0, 0, 200, 200};
  libtiff_file(
      dir + "/assoc.tif", 4, 1,
      [](TIFF* t) {
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 2);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        const std::uint16_t kind = EXTRASAMPLE_ASSOCALPHA;
        TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &kind);
      },
      ga);
  const Image a = read_image(dir + "/assoc.tif");
  REQUIRE(a.channels == 2);
  CHECK(a.plane(0)[0] == 100.f);
  CHECK(a.plane(0)[1] == 100.f);  // 50 * 255 / 128 = 99.6
  CHECK(a.plane(0)[2] == 0.f);
  CHECK(a.plane(0)[3] == 255.f);  // 200 * 255 / 200
  CHECK(a.plane(1)[1] == 128.f);
}

TEST_CASE("[tiff] unsupported kinds are refused with the file and what is unsupported") {
  const std::string dir = temp_dir();
  const std::vector<unsigned char> px(4 * 4 * 8, 7);
  struct Case {
    const char* what;
    std::function<void(TIFF*)> set;
  };
  auto basic = [](TIFF* t, int spp, int bps, int photometric) {
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photometric);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  };
  const Case cases[] = {
      {"palette",
       [&](TIFF* t) {
         basic(t, 1, 8, PHOTOMETRIC_PALETTE);
         std::vector<std::uint16_t> map(256, 0);
         TIFFSetField(t, TIFFTAG_COLORMAP, map.data(), map.data(), map.data());
       }},
      {"YCbCr", [&](TIFF* t) { basic(t, 3, 8, PHOTOMETRIC_YCBCR); }},
      {"CMYK", [&](TIFF* t) { basic(t, 4, 8, PHOTOMETRIC_SEPARATED); }},
      {"min-is-white", [&](TIFF* t) { basic(t, 1, 8, PHOTOMETRIC_MINISWHITE); }},
      {"1-bit integer", [&](TIFF* t) { basic(t, 1, 1, PHOTOMETRIC_MINISBLACK); }},
      {"4-bit integer", [&](TIFF* t) { basic(t, 1, 4, PHOTOMETRIC_MINISBLACK); }},
      {"12-bit integer", [&](TIFF* t) { basic(t, 1, 12, PHOTOMETRIC_MINISBLACK); }},
      {"32-bit integer", [&](TIFF* t) { basic(t, 1, 32, PHOTOMETRIC_MINISBLACK); }},
      {"signed integer",
       [&](TIFF* t) {
         basic(t, 1, 16, PHOTOMETRIC_MINISBLACK);
         TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_INT);
       }},
      {"16-bit float",
       [&](TIFF* t) {
         basic(t, 1, 16, PHOTOMETRIC_MINISBLACK);
         TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
       }},
      {"5 samples per pixel",
       [&](TIFF* t) {
         basic(t, 5, 8, PHOTOMETRIC_RGB);
         const std::uint16_t extra[2] = {EXTRASAMPLE_UNASSALPHA, EXTRASAMPLE_UNSPECIFIED};
         TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 2, extra);
       }},
  };
  for (const auto& k : cases) {
    CAPTURE(k.what);
    const std::string path = libtiff_file(dir + "/u.tif", 4, 4, k.set, px);
    const std::string e = error_of([&] { read_image(path); });
    CHECK(e.find(path) == 0);
    CHECK(e.find(k.what) != std::string::npos);
    CHECK(e.find("not supported") != std::string::npos);
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("[tiff] truncated and corrupt files are refused, never read as partial pixels") {
  const std::string dir = temp_dir();
  for (TiffCompression z : {TiffCompression::none, TiffCompression::lzw, TiffCompression::deflate})
    for (bool tiled : {false, true}) {
      CAPTURE(static_cast<int>(z));
      CAPTURE(tiled);
      TiffWriteOptions o;
      o.compression = z;
      o.tiled = tiled;
      o.tile_width = o.tile_height = 16;
      o.rows_per_strip = 16;
      // Grey + alpha: every tag value fits inline, which directory_first needs.
      const auto rows = random_samples(16 * 16 * 2, SampleType::u8, 77);
      write_tiff(dir + "/a.tif", 16, 16, 2, SampleType::u8, rows, o);
      const std::string whole = directory_first(read_file(dir + "/a.tif"));
      // The rebuilt file itself is fine.
      write_file(dir + "/first.tif", whole);
      std::vector<unsigned char> got(rows.size());
      TiffReader(dir + "/first.tif").read_rows(0, 16, got.data());
      CHECK(got == rows);
      // Cut anywhere in its pixels: refused, from a file and from memory.
      for (std::size_t keep : {whole.size() - 1, whole.size() - 40, whole.size() * 3 / 4}) {
        CAPTURE(keep);
        write_file(dir + "/cut.tif", whole.substr(0, keep));
        const std::string e = error_of([&] { read_image(dir + "/cut.tif"); });
        CHECK(e.find(dir + "/cut.tif") == 0);
        CHECK(e.find("truncated or corrupt") != std::string::npos);
        CHECK(e.find('\n') == std::string::npos);
        CHECK(!error_of([&] { decode_image(whole.substr(0, keep), "mem"); }).empty());
      }
    }
  // A file cut before its directory (libtiff writes it last), or in its header.
  write_tiff(dir + "/b.tif", 40, 30, 1, SampleType::u16, random_samples(1200, SampleType::u16, 2),
             {});
  const std::string b = read_file(dir + "/b.tif");
  for (std::size_t keep : {b.size() - 10, b.size() / 2, std::size_t(6)}) {
    write_file(dir + "/cut.tif", b.substr(0, keep));
    const std::string e = error_of([&] { read_image(dir + "/cut.tif"); });
    CHECK(e.find(dir + "/cut.tif") == 0);
    CHECK(e.find('\n') == std::string::npos);
  }
  // Damaged deflate data (its checksum fails) is refused too.
  TiffWriteOptions zo;
  zo.compression = TiffCompression::deflate;
  zo.rows_per_strip = 16;
  write_tiff(dir + "/z.tif", 16, 16, 1, SampleType::u8, random_samples(256, SampleType::u8, 8), zo);
  std::string z = directory_first(read_file(dir + "/z.tif"));
  z[z.size() - 3] = static_cast<char>(z[z.size() - 3] ^ 0x5a);
  write_file(dir + "/z.tif", z);
  CHECK(error_of([&] { read_image(dir + "/z.tif"); }).find("truncated or corrupt") !=
        std::string::npos);
}

TEST_CASE("[tiff] a whole image in one tall strip is read a row at a time, forward and back") {
  const std::string dir = temp_dir();
  const int w = 4200, h = 4100;  // 17.2 MB of 8-bit grey: over the 16 MiB a strip is cached whole
  std::vector<unsigned char> rows(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) rows[static_cast<std::size_t>(y) * w + x] = (x * 3 + y * 7) % 251;
  for (TiffCompression z : {TiffCompression::none, TiffCompression::lzw}) {
    CAPTURE(static_cast<int>(z));
    TiffWriteOptions o;
    o.compression = z;
    o.rows_per_strip = h;
    write_tiff(dir + "/tall.tif", w, h, 1, SampleType::u8, rows, o);
    TiffReader r(dir + "/tall.tif");
    std::vector<unsigned char> got(static_cast<std::size_t>(w) * 300);
    for (int y0 : {0, 300, 3900, 1000, 3}) {  // forward, then back into the strip
      const int n = std::min(300, h - y0);
      r.read_rows(y0, n, got.data());
      CHECK(std::memcmp(got.data(), &rows[static_cast<std::size_t>(y0) * w],
                        static_cast<std::size_t>(n) * w) == 0);
    }
    // Cut short in its pixels: the rows past the cut are refused, not zero-filled.
    const std::string whole = directory_first(read_file(dir + "/tall.tif"));
    write_file(dir + "/cut.tif", whole.substr(0, whole.size() * 3 / 5));
    CHECK(error_of([&] { read_image(dir + "/cut.tif"); }).find("truncated or corrupt") !=
          std::string::npos);
  }
}

// [io] decoders: every variant a common writer produces reads value for value
// (files built byte by byte here, checked against the values they were built
// from and against OpenCV's imread), and every file cut short is refused with
// its name and what is missing, never zero-filled.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on

#include <unistd.h>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <thread>

#include "convkit/error.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "support/run.hpp"

using namespace convkit;
using convkit::test::temp_dir;
using convkit::test::write_file;

namespace {

using Bytes = std::string;

void put_le(Bytes& b, std::uint32_t v, int n) {
  for (int k = 0; k < n; ++k) b.push_back(static_cast<char>(v >> (8 * k)));
}
void put_be(Bytes& b, std::uint32_t v, int n) {
  for (int k = n - 1; k >= 0; --k) b.push_back(static_cast<char>(v >> (8 * k)));
}

// Interleaved 8-bit samples, rows top to bottom: what a decoder should give.
struct Want {
  int w = 0, h = 0, c = 0;
  std::vector<int> v;
  int at(int y, int x, int ch) const { return v[(static_cast<std::size_t>(y) * w + x) * c + ch]; }
};

// Our image against the wanted samples, exactly.
void check_same(const Image& img, const Want& want) {
  REQUIRE(img.width == want.w);
  REQUIRE(img.height == want.h);
  REQUIRE(img.channels == want.c);
  int bad = 0;
  for (int y = 0; y < want.h; ++y)
    for (int x = 0; x < want.w; ++x)
      for (int c = 0; c < want.c; ++c)
        if (img.plane(c)[y * want.w + x] != static_cast<float>(want.at(y, x, c))) ++bad;
  CHECK(bad == 0);
}

// Our image against OpenCV's decoding of the same file (BGR order), within tol.
void check_opencv(const Image& img, const std::string& path, int tol = 0) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  REQUIRE(!m.empty());
  REQUIRE(m.cols == img.width);
  REQUIRE(m.rows == img.height);
  const int colour = img.has_alpha() ? img.channels - 1 : img.channels;
  const int cv_colour = m.channels() == 2 || m.channels() == 4 ? m.channels() - 1 : m.channels();
  // OpenCV may give grey as BGR (with alpha); then each of its channels is our grey.
  REQUIRE((colour == cv_colour || colour == 1));
  int worst = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int cc = 0; cc < cv_colour; ++cc) {
        const int c = colour == 1 ? 0 : 2 - cc;
        const int v = m.depth() == CV_16U ? m.ptr<std::uint16_t>(y)[x * m.channels() + cc]
                                          : m.ptr<std::uint8_t>(y)[x * m.channels() + cc];
        worst = std::max(worst, std::abs(v - static_cast<int>(img.plane(c)[y * img.width + x])));
      }
  CHECK(worst <= tol);
}

// Every cut of `file` at these lengths is refused with the name and `what`.
void check_cuts(const std::string& dir, const std::string& name, const Bytes& file,
                const std::vector<std::size_t>& lengths, const char* what) {
  for (std::size_t n : lengths) {
    CAPTURE(name);
    CAPTURE(n);
    REQUIRE(n < file.size());
    write_file(dir + "/" + name, file.substr(0, n));
    try {
      (void)read_image(dir + "/" + name);
      FAIL("a cut file was accepted");
    } catch (const Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find(name) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    }
  }
}

// ---- BMP, built byte by byte ----

struct BmpSpec {
  int w = 5, h = 6, bpp = 24;
  std::uint32_t compression = 0;
  std::uint32_t header = 40;  // 12 (OS/2), 40, 108 (V4), 124 (V5)
  bool top_down = false;
  std::vector<std::uint32_t> palette;  // 0x00RRGGBB
  std::uint32_t masks[4] = {0, 0, 0, 0};
};

// `pixels` holds the pixel data exactly as stored (rows padded, file order).
Bytes make_bmp(const BmpSpec& s, const Bytes& pixels) {
  Bytes info;
  if (s.header == 12) {
    put_le(info, 12, 4);
    put_le(info, s.w, 2);
    put_le(info, s.h, 2);
    put_le(info, 1, 2);
    put_le(info, s.bpp, 2);
  } else {
    put_le(info, s.header, 4);
    put_le(info, s.w, 4);
    put_le(info, static_cast<std::uint32_t>(s.top_down ? -s.h : s.h), 4);
    put_le(info, 1, 2);
    put_le(info, s.bpp, 2);
    put_le(info, s.compression, 4);
    put_le(info, static_cast<std::uint32_t>(pixels.size()), 4);
    put_le(info, 2835, 4);
    put_le(info, 2835, 4);
    put_le(info, static_cast<std::uint32_t>(s.palette.size()), 4);
    put_le(info, 0, 4);
    if (s.header > 40)
      for (int k = 0; k < 4; ++k) put_le(info, s.masks[k], 4);
    while (info.size() < s.header) info.push_back(0);
    if (s.header == 40 && s.compression == 3)
      for (int k = 0; k < 3; ++k) put_le(info, s.masks[k], 4);
  }
  for (auto c : s.palette) put_le(info, c, s.header == 12 ? 3 : 4);
  Bytes f = "BM";
  const std::uint32_t offset = 14 + static_cast<std::uint32_t>(info.size());
  put_le(f, offset + static_cast<std::uint32_t>(pixels.size()), 4);
  put_le(f, 0, 4);
  put_le(f, offset, 4);
  return f + info + pixels;
}

// Stored rows (bottom-up unless top_down) from per-pixel values packed by `pack`.
template <class Pack>
Bytes bmp_rows(const BmpSpec& s, Pack pack) {
  const std::size_t stride = (static_cast<std::size_t>(s.w) * s.bpp + 31) / 32 * 4;
  Bytes out;
  for (int r = 0; r < s.h; ++r) {
    const int y = s.top_down ? r : s.h - 1 - r;
    Bytes row(stride, '\0');
    for (int x = 0; x < s.w; ++x) pack(row, x, y);
    out += row;
  }
  return out;
}

std::uint32_t rgb_of(int y, int x) {
  return static_cast<std::uint32_t>((y * 37 + x * 11) % 256) << 16 |
         static_cast<std::uint32_t>((y * 5 + x * 71 + 9) % 256) << 8 |
         static_cast<std::uint32_t>((x * y * 13 + 200) % 256);
}

Want want_rgb(int w, int h, int c, std::uint32_t (*rgb)(int, int)) {
  Want want{w, h, c, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::uint32_t p = rgb(y, x);
      want.v.push_back(static_cast<int>(p >> 16 & 255));
      if (c == 1) continue;
      want.v.push_back(static_cast<int>(p >> 8 & 255));
      want.v.push_back(static_cast<int>(p & 255));
      if (c == 4) want.v.push_back(static_cast<int>(p >> 24));
    }
  return want;
}

struct BmpCase {
  std::string name;
  Bytes file;
  Want want;
  int opencv_tol;  // -1: OpenCV does not read this variant
};

std::vector<BmpCase> bmp_cases() {
  std::vector<BmpCase> cases;
  auto scale5 = [](std::uint32_t v5) { return static_cast<int>((v5 * 255 + 15) / 31); };
  auto scale6 = [](std::uint32_t v6) { return static_cast<int>((v6 * 255 + 31) / 63); };
  for (bool top : {false, true}) {  // 24-bit, bottom-up and top-down
    BmpSpec s;
    s.w = 7;
    s.h = 5;
    s.top_down = top;
    Bytes px = bmp_rows(s, [](Bytes& row, int x, int y) {
      const std::uint32_t p = rgb_of(y, x);
      row[3 * x] = static_cast<char>(p & 255);
      row[3 * x + 1] = static_cast<char>(p >> 8 & 255);
      row[3 * x + 2] = static_cast<char>(p >> 16 & 255);
    });
    cases.push_back(
        {top ? "top24.bmp" : "rgb24.bmp", make_bmp(s, px), want_rgb(7, 5, 3, rgb_of), 0});
  }
  {  // OS/2 core header, 24-bit
    BmpSpec s;
    s.header = 12;
    Bytes px = bmp_rows(s, [](Bytes& row, int x, int y) {
      const std::uint32_t p = rgb_of(y, x);
      row[3 * x] = static_cast<char>(p & 255);
      row[3 * x + 1] = static_cast<char>(p >> 8 & 255);
      row[3 * x + 2] = static_cast<char>(p >> 16 & 255);
    });
    // OpenCV 4 reads this header's 24-bit image as one grey channel, so it is not asked here.
    cases.push_back({"os2.bmp", make_bmp(s, px), want_rgb(5, 6, 3, rgb_of), -1});
  }
  // Palettes: 1, 4 and 8 bits, colour and grey.
  for (int bpp : {1, 4, 8}) {
    for (bool grey : {false, true}) {
      BmpSpec s;
      s.w = 13;
      s.h = 4;
      s.bpp = bpp;
      s.top_down = bpp == 4;
      const int n = 1 << bpp;
      for (int k = 0; k < n; ++k) {
        const std::uint32_t g = static_cast<std::uint32_t>(k * 255 / (n - 1));
        s.palette.push_back(grey ? g << 16 | g << 8 | g : rgb_of(k, k + 3));
      }
      auto index = [n](int y, int x) { return (y * 7 + x * 3) % n; };
      Bytes px = bmp_rows(s, [&](Bytes& row, int x, int y) {
        const int bit = x * bpp;
        row[bit / 8] = static_cast<char>(static_cast<unsigned char>(row[bit / 8]) |
                                         index(y, x) << (8 - bpp - bit % 8));
      });
      Want want{s.w, s.h, grey ? 1 : 3, {}};
      for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x) {
          const std::uint32_t p = s.palette[index(y, x)];
          want.v.push_back(static_cast<int>(p >> 16 & 255));
          if (grey) continue;
          want.v.push_back(static_cast<int>(p >> 8 & 255));
          want.v.push_back(static_cast<int>(p & 255));
        }
      cases.push_back(
          {"pal" + std::to_string(bpp) + (grey ? "g" : "c") + ".bmp", make_bmp(s, px), want, 0});
    }
  }
  // RLE8 and RLE4: runs, a literal run, an end of line, a delta, the end of the image.
  for (int bpp : {8, 4}) {
    BmpSpec s;
    s.w = 8;
    s.h = 3;
    s.bpp = bpp;
    s.compression = bpp == 8 ? 1 : 2;
    for (int k = 0; k < (1 << bpp); ++k) s.palette.push_back(rgb_of(k, 2 * k));
    std::vector<int> idx(24, 0);  // image rows top to bottom; file rows bottom-up
    Bytes rle;
    auto code = [&](int a, int b) {
      rle.push_back(static_cast<char>(a));
      rle.push_back(static_cast<char>(b));
    };
    // Bottom row (image row 2): a run of 5 of index 3, then 3 literals 1 2 5.
    code(5, bpp == 8 ? 3 : 0x33);
    for (int x = 0; x < 5; ++x) idx[16 + x] = 3;
    if (bpp == 8) {
      code(0, 3);
      rle += std::string("\x01\x02\x05\x00", 4);  // padded to a 16-bit boundary
    } else {
      code(0, 3);
      rle += std::string("\x12\x50", 2);
    }
    idx[21] = 1, idx[22] = 2, idx[23] = 5;
    code(0, 0);  // end of line
    // Image row 1: delta right 2, then a run of 4 of index 7 (4 bit: alternating 7, 4).
    code(0, 2);
    code(2, 0);
    code(4, bpp == 8 ? 7 : 0x74);
    for (int x = 2; x < 6; ++x) idx[8 + x] = bpp == 8 ? 7 : (x % 2 == 0 ? 7 : 4);
    code(0, 0);
    // Image row 0: a run of 8 of index 6, then the end of the image.
    code(8, bpp == 8 ? 6 : 0x66);
    for (int x = 0; x < 8; ++x) idx[x] = 6;
    code(0, 1);
    Want want{8, 3, 3, {}};
    for (int k : idx) {
      const std::uint32_t p = s.palette[k];
      want.v.push_back(static_cast<int>(p >> 16 & 255));
      want.v.push_back(static_cast<int>(p >> 8 & 255));
      want.v.push_back(static_cast<int>(p & 255));
    }
    cases.push_back({"rle" + std::to_string(bpp) + ".bmp", make_bmp(s, rle), want, 0});
  }
  {  // 16-bit 5-5-5 (no masks) and 5-6-5 (BITFIELDS)
    for (bool b565 : {false, true}) {
      BmpSpec s;
      s.w = 9;
      s.h = 3;
      s.bpp = 16;
      if (b565) {
        s.compression = 3;
        s.masks[0] = 0xf800;
        s.masks[1] = 0x07e0;
        s.masks[2] = 0x001f;
      }
      auto value = [&](int y, int x) {
        return static_cast<std::uint32_t>((y * 4099 + x * 997 + 12345) & 0x7fff);
      };
      Bytes px = bmp_rows(s, [&](Bytes& row, int x, int y) {
        row[2 * x] = static_cast<char>(value(y, x) & 255);
        row[2 * x + 1] = static_cast<char>(value(y, x) >> 8);
      });
      Want want{s.w, s.h, 3, {}};
      for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x) {
          const std::uint32_t v = value(y, x);
          if (b565) {
            want.v.push_back(scale5(v >> 11 & 31));
            want.v.push_back(scale6(v >> 5 & 63));
          } else {
            want.v.push_back(scale5(v >> 10 & 31));
            want.v.push_back(scale5(v >> 5 & 31));
          }
          want.v.push_back(scale5(v & 31));
        }
      // OpenCV shifts 5 bits left instead of scaling: it may be up to 7 below.
      cases.push_back({b565 ? "b565.bmp" : "b555.bmp", make_bmp(s, px), want, 7});
    }
  }
  {  // 32-bit: plain xRGB (alpha byte 0 everywhere), and V5 BITFIELDS with alpha
    for (bool alpha : {false, true}) {
      BmpSpec s;
      s.bpp = 32;
      if (alpha) {
        s.header = 124;
        s.compression = 3;
        s.masks[0] = 0x00ff0000;
        s.masks[1] = 0x0000ff00;
        s.masks[2] = 0x000000ff;
        s.masks[3] = 0xff000000;
      }
      auto argb = [](int y, int x) {
        return rgb_of(y, x) | static_cast<std::uint32_t>(x * 40 + y + 1) << 24;
      };
      Bytes px = bmp_rows(s, [&](Bytes& row, int x, int y) {
        const std::uint32_t p = alpha ? argb(y, x) : rgb_of(y, x);
        for (int k = 0; k < 4; ++k) row[4 * x + k] = static_cast<char>(p >> (8 * k));
      });
      cases.push_back({alpha ? "argb.bmp" : "xrgb.bmp", make_bmp(s, px),
                       alpha ? want_rgb(5, 6, 4, argb) : want_rgb(5, 6, 3, rgb_of), 0});
    }
  }
  return cases;
}

}  // namespace

TEST_CASE("[io] BMP variants common writers produce read value for value, as OpenCV reads them") {
  const std::string dir = temp_dir();
  for (const auto& c : bmp_cases()) {
    CAPTURE(c.name);
    write_file(dir + "/" + c.name, c.file);
    const Image img = read_image(dir + "/" + c.name);
    check_same(img, c.want);
    if (c.opencv_tol >= 0) check_opencv(img, dir + "/" + c.name, c.opencv_tol);
  }
}

TEST_CASE("[io] a BMP cut short is refused with the byte count") {
  const std::string dir = temp_dir();
  for (const auto& c : bmp_cases()) {
    const std::size_t n = c.file.size();
    // In the pixels (the last byte, half of them, the first row), in the palette or masks,
    // in the info header.
    std::vector<std::size_t> cuts = {n - 1, n - n / 4, 60, 30};
    check_cuts(dir, c.name, c.file, cuts, "truncated BMP");
  }
  // The example: a 24-bit BMP cut to its first 200 bytes.
  cv::Mat m(64, 48, CV_8UC3, cv::Scalar(10, 20, 30));
  std::vector<uchar> buf;
  cv::imencode(".bmp", m, buf);
  const std::string dir2 = temp_dir();
  write_file(dir2 + "/t.bmp", std::string(buf.begin(), buf.begin() + 200));
  try {
    (void)read_image(dir2 + "/t.bmp");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          dir2 + "/t.bmp: truncated BMP file: it ends after 200 bytes, but the header declares " +
              std::to_string(64 * 48 * 3) + " bytes of pixels from byte 54");
  }
}

namespace {

// ---- TGA, built byte by byte ----

struct TgaCase {
  std::string name;
  Bytes file;
  Want want;
};

std::vector<TgaCase> tga_cases() {
  std::vector<TgaCase> cases;
  auto header = [](int type, int w, int h, int bpp, int desc, const Bytes& id, int map_len,
                   int map_bits) {
    Bytes b;
    b.push_back(static_cast<char>(id.size()));
    b.push_back(map_len ? 1 : 0);
    b.push_back(static_cast<char>(type));
    put_le(b, 0, 2);
    put_le(b, static_cast<std::uint32_t>(map_len), 2);
    b.push_back(static_cast<char>(map_bits));
    put_le(b, 0, 4);
    put_le(b, static_cast<std::uint32_t>(w), 2);
    put_le(b, static_cast<std::uint32_t>(h), 2);
    b.push_back(static_cast<char>(bpp));
    b.push_back(static_cast<char>(desc));
    return b + id;
  };
  const int w = 6, h = 4;
  auto argb = [](int y, int x) {
    return rgb_of(y, x) | static_cast<std::uint32_t>(x * 30 + y * 7 + 3) << 24;
  };
  // Uncompressed 24-bit (bottom-left and top-left origin) and 32-bit with alpha.
  for (int kind = 0; kind < 3; ++kind) {
    const bool top = kind == 1, alpha = kind == 2;
    Bytes f = header(2, w, h, alpha ? 32 : 24, (top ? 0x20 : 0) | (alpha ? 8 : 0), "convkit", 0, 0);
    for (int r = 0; r < h; ++r) {
      const int y = top ? r : h - 1 - r;
      for (int x = 0; x < w; ++x) put_le(f, alpha ? argb(y, x) : rgb_of(y, x), alpha ? 4 : 3);
    }
    cases.push_back({kind == 0   ? "rgb.tga"
                     : kind == 1 ? "top.tga"
                                 : "rgba.tga",
                     f, alpha ? want_rgb(w, h, 4, argb) : want_rgb(w, h, 3, rgb_of)});
  }
  {  // 8-bit grey, top-left
    Bytes f = header(3, w, h, 8, 0x20, "", 0, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) f.push_back(static_cast<char>(rgb_of(y, x) >> 16));
    cases.push_back({"grey.tga", f, want_rgb(w, h, 1, rgb_of)});
  }
  {  // colour-mapped: 8-bit indices into 16 24-bit entries
    Bytes f = header(1, w, h, 8, 0x20, "", 16, 24);
    for (int k = 0; k < 16; ++k) put_le(f, rgb_of(k, 2 * k + 1), 3);
    Want want{w, h, 3, {}};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int k = (x + 3 * y) % 16;
        f.push_back(static_cast<char>(k));
        const std::uint32_t p = rgb_of(k, 2 * k + 1);
        want.v.insert(want.v.end(), {static_cast<int>(p >> 16 & 255),
                                     static_cast<int>(p >> 8 & 255), static_cast<int>(p & 255)});
      }
    cases.push_back({"map.tga", f, want});
  }
  {  // RLE 24-bit: each row a run of 3 equal pixels, then 3 literal ones (top-left origin)
    Bytes f = header(10, w, h, 24, 0x20, "", 0, 0);
    auto pixel = [](int y, int x) { return rgb_of(y, x < 3 ? 0 : x); };
    for (int y = 0; y < h; ++y) {
      f.push_back(static_cast<char>(0x80 | 2));
      put_le(f, pixel(y, 0), 3);
      f.push_back(2);
      for (int x = 3; x < 6; ++x) put_le(f, pixel(y, x), 3);
    }
    cases.push_back({"rle.tga", f,
                     want_rgb(
                         w, h, 3, +[](int y, int x) { return rgb_of(y, x < 3 ? 0 : x); })});
  }
  return cases;
}

// ---- PNG, built chunk by chunk with zlib ----

void chunk(Bytes& f, const char* type, const Bytes& data) {
  put_be(f, static_cast<std::uint32_t>(data.size()), 4);
  const Bytes body = type + data;
  f += body;
  put_be(f,
         static_cast<std::uint32_t>(
             crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))),
         4);
}

Bytes deflate(const Bytes& raw) {
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  Bytes out(n, '\0');
  REQUIRE(compress(reinterpret_cast<Bytef*>(out.data()), &n,
                   reinterpret_cast<const Bytef*>(raw.data()),
                   static_cast<uLong>(raw.size())) == Z_OK);
  out.resize(n);
  return out;
}

struct PngSpec {
  int w = 11, h = 9, depth = 8,
      colour = 0;  // PNG colour type: 0 grey, 2 RGB, 3 palette, 4 GA, 6 RGBA
  bool interlaced = false;
  int palette_size = 0;
  bool trns = false;
};

int png_channels(int colour) {
  return colour == 0 ? 1 : colour == 2 ? 3 : colour == 3 ? 1 : colour == 4 ? 2 : 4;
}

// The stored sample (y, x, c) at the file's depth.
int png_sample(const PngSpec& s, int y, int x, int c) {
  const int max = s.colour == 3 ? s.palette_size - 1 : (1 << s.depth) - 1;
  return static_cast<int>((static_cast<long long>(y) * 7919 + x * 104729 + c * 1299709 + 17) %
                          (max + 1));
}

// Returns the file and the decoded samples convkit should give.
std::pair<Bytes, Want> make_png(const PngSpec& s, Bytes* idat_out = nullptr) {
  const int ch = png_channels(s.colour);
  Bytes f = "\x89PNG\r\n\x1a\n";
  Bytes ihdr;
  put_be(ihdr, static_cast<std::uint32_t>(s.w), 4);
  put_be(ihdr, static_cast<std::uint32_t>(s.h), 4);
  ihdr.push_back(static_cast<char>(s.depth));
  ihdr.push_back(static_cast<char>(s.colour));
  ihdr += std::string("\0\0", 2);
  ihdr.push_back(s.interlaced ? 1 : 0);
  chunk(f, "IHDR", ihdr);
  std::vector<std::uint32_t> palette;
  for (int k = 0; k < s.palette_size; ++k) palette.push_back(rgb_of(k, 5 * k));
  const int trns_grey = s.colour == 0 ? png_sample(s, 1, 1, 0) : -1;  // a value that occurs
  if (s.colour == 3) {
    Bytes plte;
    for (auto p : palette) put_be(plte, p, 3);
    chunk(f, "PLTE", plte);
  }
  if (s.trns) {
    Bytes t;
    if (s.colour == 3)
      for (int k = 0; k < s.palette_size; ++k) t.push_back(static_cast<char>((255 - 9 * k) & 255));
    else
      put_be(t, static_cast<std::uint32_t>(trns_grey), 2);
    chunk(f, "tRNS", t);
  }
  // Rows: filter byte 0, samples packed most significant bit first.
  auto row = [&](int y, int x0, int dx) {
    Bytes r(1, '\0');
    int acc = 0, bits = 0;
    for (int x = x0; x < s.w; x += dx)
      for (int c = 0; c < ch; ++c) {
        const int v = png_sample(s, y, x, c);
        if (s.depth == 16) {
          put_be(r, static_cast<std::uint32_t>(v), 2);
        } else {
          acc = acc << s.depth | v;
          bits += s.depth;
          if (bits == 8) {
            r.push_back(static_cast<char>(acc));
            acc = bits = 0;
          }
        }
      }
    if (bits) r.push_back(static_cast<char>(acc << (8 - bits)));
    return r;
  };
  Bytes raw;
  if (!s.interlaced) {
    for (int y = 0; y < s.h; ++y) raw += row(y, 0, 1);
  } else {
    const int pass[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                            {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    for (const auto& p : pass)
      if (p[0] < s.w)
        for (int y = p[1]; y < s.h; y += p[3]) raw += row(y, p[0], p[2]);
  }
  const Bytes idat = deflate(raw);
  if (idat_out) *idat_out = idat;
  chunk(f, "IDAT", idat);
  chunk(f, "IEND", "");
  // What convkit gives: palette to RGB(A), grey below 8 bits scaled to 0..255, tRNS to alpha.
  Want want{s.w, s.h, 0, {}};
  const int scale = s.depth < 8 && s.colour == 0 ? 255 / ((1 << s.depth) - 1) : 1;
  const int top = s.depth == 16 ? 65535 : 255;
  want.c = s.colour == 3 ? (s.trns ? 4 : 3) : ch + (s.trns ? 1 : 0);
  for (int y = 0; y < s.h; ++y)
    for (int x = 0; x < s.w; ++x) {
      if (s.colour == 3) {
        const int k = png_sample(s, y, x, 0);
        const std::uint32_t p = palette[k];
        want.v.insert(want.v.end(), {static_cast<int>(p >> 16 & 255),
                                     static_cast<int>(p >> 8 & 255), static_cast<int>(p & 255)});
        if (s.trns) want.v.push_back((255 - 9 * k) & 255);
        continue;
      }
      for (int c = 0; c < ch; ++c) want.v.push_back(png_sample(s, y, x, c) * scale);
      if (s.trns) want.v.push_back(png_sample(s, y, x, 0) == trns_grey ? 0 : top);
    }
  return {f, want};
}

std::vector<std::pair<std::string, PngSpec>> png_specs() {
  std::vector<std::pair<std::string, PngSpec>> out;
  for (bool il : {false, true}) {
    const std::string p = il ? "i-" : "";
    for (int d : {1, 2, 4, 8, 16}) {
      PngSpec s;
      s.depth = d;
      s.interlaced = il;
      out.push_back({p + "grey" + std::to_string(d) + ".png", s});
    }
    for (int d : {1, 2, 4, 8}) {
      PngSpec s;
      s.colour = 3;
      s.depth = d;
      s.palette_size = d == 1 ? 2 : d == 2 ? 3 : d == 4 ? 11 : 200;
      s.interlaced = il;
      out.push_back({p + "pal" + std::to_string(d) + ".png", s});
      s.trns = true;
      out.push_back({p + "pal" + std::to_string(d) + "t.png", s});
    }
    for (int colour : {2, 4, 6})
      for (int d : {8, 16}) {
        PngSpec s;
        s.colour = colour;
        s.depth = d;
        s.interlaced = il;
        out.push_back({p + "c" + std::to_string(colour) + "-" + std::to_string(d) + ".png", s});
      }
    PngSpec g;
    g.trns = true;
    g.interlaced = il;
    out.push_back({p + "grey8t.png", g});
  }
  return out;
}

}  // namespace

TEST_CASE("[io] TGA variants read value for value, from a file or from standard input") {
  const std::string dir = temp_dir();
  for (const auto& c : tga_cases()) {
    CAPTURE(c.name);
    write_file(dir + "/" + c.name, c.file);
    check_same(read_image(dir + "/" + c.name), c.want);
    // TGA has no magic bytes: without a name it is known by its header.
    check_same(decode_image(c.file, "<stdin>"), c.want);
  }
  // The command line, with the TGA on standard input.
  const auto rgb = tga_cases()[0];
  auto r = convkit::test::run_convkit(
      {"blur", "-", "--type", "box", "--size", "1", "-o", dir + "/out.png"}, rgb.file);
  CHECK(r.status == 0);
  CHECK(r.err == "");
  check_same(read_image(dir + "/out.png"), rgb.want);
  r = convkit::test::run_convkit({"convolve", "-", "[1]", "-o", dir + "/conv.png"}, rgb.file);
  CHECK(r.status == 0);
  check_same(read_image(dir + "/conv.png"), rgb.want);
  // Text is still not taken for a TGA.
  CHECK_THROWS_WITH_AS(decode_image("1 2 3\n", "<stdin>"),
                       doctest::Contains("not an image convkit can read"), Error);
}

TEST_CASE("[io] a TGA cut short or corrupt is refused with the byte count") {
  const std::string dir = temp_dir();
  for (const auto& c : tga_cases()) {
    const std::size_t n = c.file.size();
    check_cuts(dir, c.name, c.file, {n - 1, n / 2, 20, 10}, "truncated TGA");
  }
  // The message, for an uncompressed 24-bit TGA cut after 30 bytes.
  const auto rgb = tga_cases()[0];
  write_file(dir + "/t.tga", rgb.file.substr(0, 30));
  CHECK_THROWS_WITH_AS(read_image(dir + "/t.tga"),
                       (dir + "/t.tga: truncated TGA file: it ends after 30 bytes, but the header "
                              "declares 72 bytes of pixels from byte 25")
                           .c_str(),
                       Error);
  // Corrupt: an image type that does not exist, and a colour map with a 3-bit entry size.
  Bytes bad = rgb.file;
  bad[2] = 7;
  write_file(dir + "/bad.tga", bad);
  CHECK_THROWS_WITH_AS(read_image(dir + "/bad.tga"), doctest::Contains("bad.tga"), Error);
  Bytes map = tga_cases()[4].file;
  map[7] = 3;
  write_file(dir + "/map.tga", map);
  CHECK_THROWS_WITH_AS(read_image(dir + "/map.tga"), doctest::Contains("map.tga"), Error);
}

TEST_CASE(
    "[io] PNG variants (palette, tRNS, 1-2-4-bit grey, 16-bit, interlaced) read value for value") {
  const std::string dir = temp_dir();
  for (const auto& [name, spec] : png_specs()) {
    CAPTURE(name);
    const auto [file, want] = make_png(spec);
    write_file(dir + "/" + name, file);
    const Image img = read_image(dir + "/" + name);
    check_same(img, want);
    check_opencv(img, dir + "/" + name);
  }
}

TEST_CASE("[io] a PNG cut short is refused in every variant, also when its chunks are whole") {
  const std::string dir = temp_dir();
  for (const auto& [name, spec] : png_specs()) {
    Bytes idat;
    const auto [file, want] = make_png(spec, &idat);
    const std::size_t n = file.size();
    check_cuts(dir, name, file, {n - 1, n - 12 - idat.size() / 2, 40}, "PNG");
    // The compressed stream cut in half, inside an IDAT chunk with a correct checksum.
    Bytes f = file.substr(0, n - 12 - 12 - idat.size());
    chunk(f, "IDAT", idat.substr(0, idat.size() / 2));
    chunk(f, "IEND", "");
    write_file(dir + "/half-" + name, f);
    CHECK_THROWS_WITH_AS(read_image(dir + "/half-" + name),
                         doctest::Contains(("half-" + name + ": corrupt PNG").c_str()), Error);
  }
}

TEST_CASE("[io] a JPEG cut short is refused: baseline, progressive, grey") {
  const std::string dir = temp_dir();
  cv::Mat rgb(40, 56, CV_8UC3), grey(40, 56, CV_8UC1);
  cv::randu(rgb, 0, 255);
  cv::randu(grey, 0, 255);
  struct Case {
    const char* name;
    cv::Mat* m;
    std::vector<int> params;
  };
  for (const Case& c :
       {Case{"base.jpg", &rgb, {}}, Case{"prog.jpg", &rgb, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
        Case{"grey.jpg", &grey, {}}}) {
    std::vector<uchar> buf;
    REQUIRE(cv::imencode(".jpg", *c.m, buf, c.params));
    const Bytes f(buf.begin(), buf.end());
    // The whole file reads as OpenCV reads it.
    write_file(dir + "/" + c.name, f);
    check_opencv(read_image(dir + "/" + c.name), dir + "/" + c.name);
    const std::size_t n = f.size();
    check_cuts(dir, c.name, f, {n - 2, n - n / 10, n / 2, 300}, "JPEG");
  }
}

TEST_CASE("[io] a PGM or PPM cut short is refused, ASCII or binary, 8 or 16 bits") {
  const std::string dir = temp_dir();
  for (const char* kind : {"P2", "P3", "P5", "P6"})
    for (int maxval : {255, 1000}) {
      const bool ascii = kind[1] == '2' || kind[1] == '3';
      const int ch = kind[1] == '3' || kind[1] == '6' ? 3 : 1;
      Bytes f = std::string(kind) + "\n# a comment\n7 5\n" + std::to_string(maxval) + "\n";
      for (int k = 0; k < 7 * 5 * ch; ++k) {
        const int v = (k * 37 + 11) % (maxval + 1);
        if (ascii)
          f += std::to_string(v) + (k % 7 == 6 ? "\n" : " ");
        else if (maxval > 255)
          put_be(f, static_cast<std::uint32_t>(v), 2);
        else
          f.push_back(static_cast<char>(v));
      }
      const std::string name = std::string(kind) + "-" + std::to_string(maxval) + ".pnm";
      const std::size_t n = f.size();
      check_cuts(dir, name, f, {n - (ascii ? 4 : 1), n / 2, 20}, "PGM/PPM");
      if (!ascii) {
        write_file(dir + "/t.pnm", f.substr(0, 40));
        const std::size_t header = f.size() - 7 * 5 * ch * (maxval > 255 ? 2 : 1);
        CHECK_THROWS_WITH_AS(read_image(dir + "/t.pnm"),
                             (dir +
                              "/t.pnm: truncated PGM/PPM file: it ends after 40 bytes, but "
                              "the header declares " +
                              std::to_string(f.size() - header) +
                              " bytes of pixels (7x5) from byte " + std::to_string(header))
                                 .c_str(),
                             Error);
      }
    }
}

TEST_CASE("[io] PGM and PPM with comments and any maxval read as OpenCV reads them") {
  const std::string dir = temp_dir();
  for (const char* kind : {"P2", "P5", "P3", "P6"})
    for (int maxval : {1, 15, 255, 1000, 65535}) {
      const bool ascii = kind[1] == '2' || kind[1] == '3';
      const int ch = kind[1] == '3' || kind[1] == '6' ? 3 : 1;
      Bytes f = std::string(kind) + " # comment after the magic\n# a line\n9\n# between\n4 " +
                std::to_string(maxval) + "\n";
      Want want{9, 4, ch, {}};
      const int top = maxval > 255 ? 65535 : 255;
      for (int k = 0; k < 9 * 4 * ch; ++k) {
        const int v = (k * 7919 + 3) % (maxval + 1);
        want.v.push_back(static_cast<int>(std::lround(double(v) * top / maxval)));
        if (ascii)
          f += std::to_string(v) + "\n";
        else if (maxval > 255)
          put_be(f, static_cast<std::uint32_t>(v), 2);
        else
          f.push_back(static_cast<char>(v));
      }
      const std::string name = std::string(kind) + "-" + std::to_string(maxval) + ".pnm";
      CAPTURE(name);
      write_file(dir + "/" + name, f);
      const Image img = read_image(dir + "/" + name);
      check_same(img, want);
      // A sample means v / maxval of full scale (netpbm's definition), so convkit scales to
      // 0..255 or 0..65535. OpenCV scales ASCII samples but keeps binary ones as stored, so it is
      // asked only where no scaling happens.
      if (maxval == 255 || maxval == 65535) check_opencv(img, dir + "/" + name);
    }
}

TEST_CASE("[io] a pipe or device is read only as far as its header allows") {
  // A writer thread feeds a pipe and counts what it got rid of; read_image must stop early.
  auto fed = [](const Bytes& head, char fill) {
    int fd[2];
    REQUIRE(::pipe(fd) == 0);
    std::atomic<std::size_t> written{0};
    auto old = std::signal(SIGPIPE, SIG_IGN);
    std::thread writer([&] {
      Bytes block = head;
      block.resize(std::max<std::size_t>(block.size(), 1 << 16), fill);
      while (written < (std::size_t(1) << 30)) {
        const ssize_t n = ::write(fd[1], block.data(), block.size());
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
        block.assign(1 << 16, fill);
      }
      ::close(fd[1]);
    });
    std::string err;
    try {
      (void)read_image("/dev/fd/" + std::to_string(fd[0]));
    } catch (const Error& e) {
      err = e.what();
    }
    ::close(fd[0]);
    writer.join();
    std::signal(SIGPIPE, old);
    return std::pair<std::size_t, std::string>(written.load(), err);
  };
  // Zeros (as /dev/zero gives): not an image, known from the first 64 KiB.
  auto [zeros, zerr] = fed("", '\0');
  CHECK(zerr.find("not an image convkit can read") != std::string::npos);
  CHECK(zeros < (std::size_t(4) << 20));  // 64 KiB read, plus what the pipe buffers
  // A PNG header for 16x16 pixels, then zeros without end: at most 16 MiB + 64 bytes a pixel.
  PngSpec s;
  s.w = s.h = 16;
  const Bytes png = make_png(s).first;
  auto [pngs, perr] = fed(png.substr(0, 33), '\0');
  CHECK(perr.find("PNG") != std::string::npos);
  CHECK(pngs < (std::size_t(20) << 20));
  // A header declaring more pixels than the limit is refused before its data is read.
  auto [big, berr] = fed("P5\n100000 100000\n255\n", '\0');
  CHECK(berr.find("too large") != std::string::npos);
  CHECK(big < (std::size_t(4) << 20));
  // A TIFF whose directory (16x16, first in the file) is followed by zeros without end: the
  // size is read from the directory, then the same bound as for PNG.
  const Bytes tiff("II*\0\x08\0\0\0\x02\0"
                   "\x00\x01\x03\0\x01\0\0\0\x10\0\0\0"
                   "\x01\x01\x03\0\x01\0\0\0\x10\0\0\0"
                   "\0\0\0\0",
                   34);
  auto [tiffs, terr] = fed(tiff, '\0');
  CHECK(terr.find("TIFF") != std::string::npos);
  CHECK(tiffs < (std::size_t(20) << 20));
  // The command line, on the device itself.
  const std::string dir = temp_dir();
  auto r = convkit::test::run_convkit({"blur", "/dev/zero", "-o", dir + "/z.png"});
  CHECK(r.status == 1);
  CHECK(r.err ==
        "convkit: error: /dev/zero: not an image convkit can read (PNG, JPEG, BMP, TGA, "
        "PGM/PPM, TIFF, NPY)\n");
  CHECK(!std::filesystem::exists(dir + "/z.png"));
}

TEST_CASE("[io] a CMYK JPEG reads as RGB, as OpenCV reads it") {
  // Written here with libjpeg as Adobe's tools write CMYK: inverted inks and an APP14 marker.
  const int w = 24, h = 16;
  std::vector<unsigned char> px(static_cast<std::size_t>(w) * h * 4);
  for (std::size_t k = 0; k < px.size(); ++k)
    px[k] = static_cast<unsigned char>(k % 4 == 3 ? 160 + (k / 4) % 96 : (k * 37) % 256);
  jpeg_compress_struct c{};
  jpeg_error_mgr e{};
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &mem, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = 4;
  c.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  REQUIRE(c.write_Adobe_marker);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = px.data() + static_cast<std::size_t>(c.next_scanline) * w * 4;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  const Bytes file(reinterpret_cast<const char*>(mem), size);
  std::free(mem);
  jpeg_destroy_compress(&c);
  const std::string dir = temp_dir();
  write_file(dir + "/cmyk.jpg", file);
  const Image img = read_image(dir + "/cmyk.jpg");
  REQUIRE(img.channels == 3);
  // OpenCV computes K - (255 - C) K / 256, within 2 of C K / 255.
  check_opencv(img, dir + "/cmyk.jpg", 2);
  // And the colours are the inks': red = C'K'/255 of what was written, up to JPEG's loss.
  int worst = 0;
  for (int k = 0; k < w * h; ++k)
    for (int ch = 0; ch < 3; ++ch) {
      const int want = (px[4 * k + ch] * px[4 * k + 3] + 127) / 255;
      worst = std::max(worst, std::abs(want - static_cast<int>(img.plane(ch)[k])));
    }
  CHECK(worst <= 12);
  check_cuts(dir, "cmyk.jpg", file, {file.size() / 2}, "JPEG");
}

TEST_CASE("[io] a .npy image cut short is refused with the byte count") {
  const std::string dir = temp_dir();
  const std::string header = npy_header({4, 5}, NpyType::u1);
  write_file(dir + "/t.npy", header + std::string(7, '\x10'));
  CHECK_THROWS_WITH_AS(read_image(dir + "/t.npy"),
                       (dir + "/t.npy: the header promises 20 bytes of data (20 elements) but the "
                              "file holds 7")
                           .c_str(),
                       Error);
  // Whole, it reads.
  write_file(dir + "/t.npy", header + std::string(20, '\x10'));
  CHECK(read_image(dir + "/t.npy").data == std::vector<float>(20, 16.f));
}

TEST_CASE("[io] damaged BMP and TGA headers are refused or read, never read past the file") {
  // Every header byte (and the first palette, mask and RLE bytes) of every variant set to
  // 0, 1, 0x7f, 0x80 and 0xff: each file decodes or throws convkit::Error (the sanitizer
  // build also checks that no byte outside the file is touched).
  ImageLimits limits;
  limits.max_pixels = 1 << 20;
  std::vector<std::pair<std::string, Bytes>> files;
  for (const auto& c : bmp_cases()) files.push_back({c.name, c.file});
  for (const auto& c : tga_cases()) files.push_back({c.name, c.file});
  int refused = 0, read = 0;
  for (const auto& [name, file] : files)
    for (std::size_t at = 0; at < std::min<std::size_t>(file.size(), 80); ++at)
      for (int v : {0, 1, 0x7f, 0x80, 0xff}) {
        Bytes f = file;
        f[at] = static_cast<char>(v);
        try {
          (void)decode_image(f, name, limits, name);
          ++read;
        } catch (const Error&) {
          ++refused;
        }
      }
  CHECK(read > 0);
  CHECK(refused > 0);
}

// [io] images: every format round-trips, OpenCV decodes what we write and we
// decode what OpenCV writes, 16-bit and alpha survive, bad files are refused.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "support/images.hpp"
#include "support/run.hpp"

using namespace convkit;
using convkit::test::random_image;
using convkit::test::temp_dir;

namespace {

// OpenCV stores interleaved BGR(A); convert our planar RGB(A) sample (c, y, x).
double cv_sample(const cv::Mat& m, int y, int x, int c) {
  const int ch = m.channels();
  int cc = c;
  if (ch >= 3 && c < 3) cc = 2 - c;  // RGB <-> BGR
  if (m.depth() == CV_16U) return m.ptr<std::uint16_t>(y)[x * ch + cc];
  return m.ptr<std::uint8_t>(y)[x * ch + cc];
}

}  // namespace

TEST_CASE("[io] lossless formats round-trip exactly and OpenCV reads the same pixels") {
  const std::string dir = temp_dir();
  struct Case {
    const char* ext;
    int channels, depth;
    bool opencv;  // OpenCV reads this format back the same way
  };
  const Case cases[] = {{"png", 1, 8, true},  {"png", 2, 8, false}, {"png", 3, 8, true},
                        {"png", 4, 8, true},  {"png", 1, 16, true}, {"png", 3, 16, true},
                        {"png", 4, 16, true}, {"pgm", 1, 8, true},  {"pgm", 1, 16, true},
                        {"ppm", 3, 8, true},  {"ppm", 3, 16, true}, {"bmp", 3, 8, true},
                        {"bmp", 4, 8, false}, {"tga", 1, 8, false}, {"tga", 3, 8, false},
                        {"tga", 4, 8, false}, {"npy", 3, 8, false}};
  unsigned seed = 1;
  for (const auto& k : cases) {
    CAPTURE(k.ext);
    CAPTURE(k.channels);
    CAPTURE(k.depth);
    Image img = random_image(13, 7, k.channels, k.depth, seed++);
    const std::string path = dir + "/img" + std::to_string(seed) + "." + k.ext;
    write_image(img, path);
    Image back = read_image(path);
    REQUIRE(back.width == img.width);
    REQUIRE(back.height == img.height);
    REQUIRE(back.channels == img.channels);
    CHECK(back.bit_depth == (std::string(k.ext) == "npy" ? 32 : k.depth));
    CHECK(back.data == img.data);
    if (k.opencv) {
      cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
      REQUIRE(!m.empty());
      REQUIRE(m.channels() == k.channels);
      int bad = 0;
      for (int c = 0; c < k.channels; ++c)
        for (int y = 0; y < img.height; ++y)
          for (int x = 0; x < img.width; ++x)
            bad += cv_sample(m, y, x, c) != img.plane(c)[y * img.width + x];
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("[io] images written by OpenCV decode to the same pixels") {
  const std::string dir = temp_dir();
  cv::Mat bgr(9, 11, CV_8UC3), grey16(6, 5, CV_16UC1), bgra(4, 7, CV_8UC4);
  cv::randu(bgr, 0, 256);
  cv::randu(grey16, 0, 65536);
  cv::randu(bgra, 0, 256);
  struct Case {
    std::string name;
    cv::Mat m;
  };
  for (const auto& k :
       {Case{"a.png", bgr}, Case{"b.png", grey16}, Case{"c.png", bgra}, Case{"d.bmp", bgr},
        Case{"e.ppm", bgr}, Case{"f.pgm", grey16}, Case{"g.jpg", bgr}}) {
    CAPTURE(k.name);
    const std::string path = dir + "/" + k.name;
    REQUIRE(cv::imwrite(path, k.m));
    cv::Mat ref = cv::imread(path, cv::IMREAD_UNCHANGED);  // JPEG: compare decoded pixels
    Image img = read_image(path);
    REQUIRE(img.channels == ref.channels());
    REQUIRE(img.width == ref.cols);
    REQUIRE(img.height == ref.rows);
    double worst = 0;
    for (int c = 0; c < img.channels; ++c)
      for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
          worst =
              std::max(worst, std::fabs(cv_sample(ref, y, x, c) - img.plane(c)[y * img.width + x]));
    // Both link the same libjpeg-turbo, so even JPEG decodes identically.
    CHECK(worst == 0);
  }
}

TEST_CASE("[io] JPEG round trip is close and keeps the size") {
  const std::string dir = temp_dir();
  Image img;
  img.width = 32;
  img.height = 16;
  img.channels = 3;
  img.data.resize(32 * 16 * 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 32; ++x)
        img.plane(c)[y * 32 + x] = static_cast<float>(20 + 4 * x + 3 * y + 20 * c);
  write_image(img, dir + "/a.jpg");
  Image back = read_image(dir + "/a.jpg");
  REQUIRE(back.channels == 3);
  double worst = 0;
  for (std::size_t k = 0; k < img.data.size(); ++k)
    worst = std::max(worst, std::fabs(double(back.data[k]) - img.data[k]));
  CHECK(worst < 12);
}

TEST_CASE("[io] values outside 8 bits are refused without a policy and mapped with one") {
  const std::string dir = temp_dir();
  Image img;
  img.width = 3;
  img.height = 1;
  img.channels = 1;
  img.bit_depth = 32;
  img.data = {-40.f, 0.f, 300.f};
  const std::string path = dir + "/neg.png";
  try {
    write_image(img, path);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("-40") != std::string::npos);
    // The policies by their library names (the command line shows its flags).
    CHECK(msg.find("choose a value policy: abs, normalize, offset V or clip") != std::string::npos);
  }
  CHECK(!std::filesystem::exists(path));
  auto values = [&](ValuePolicy p, float offset) {
    ImageWriteOptions o;
    o.policy = p;
    o.offset = offset;
    write_image(img, path, o);
    return read_image(path).data;
  };
  CHECK(values(ValuePolicy::clip, 0) == std::vector<float>{0, 0, 255});
  CHECK(values(ValuePolicy::abs, 0) == std::vector<float>{40, 0, 255});
  CHECK(values(ValuePolicy::offset, 128) == std::vector<float>{88, 128, 255});
  // normalize: -40 -> 0, 300 -> 255, 0 -> 40/340*255 = 30
  CHECK(values(ValuePolicy::normalize, 0) == std::vector<float>{0, 30, 255});
  // float formats keep exact values
  write_image(img, dir + "/neg.npy");
  CHECK(read_image(dir + "/neg.npy").data == img.data);
}

TEST_CASE("[io] truncated, corrupt and huge images are refused with the file name") {
  const std::string dir = temp_dir();
  Image img = random_image(40, 30, 3, 8, 7);
  write_image(img, dir + "/ok.png");
  std::string bytes = read_file_bytes(dir + "/ok.png");
  auto expect_error = [&](const std::string& name, const std::string& content, const char* what) {
    CAPTURE(name);
    convkit::test::write_file(dir + "/" + name, content);
    try {
      read_image(dir + "/" + name);
      FAIL("expected an error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find(name) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    }
  };
  expect_error("trunc.png", bytes.substr(0, bytes.size() / 2), "PNG");
  expect_error("empty.png", "", "empty");
  // A PNG header declaring 1,000,000 x 1,000,000 pixels: refused before allocating.
  std::string huge = bytes.substr(0, 33);
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) huge[at + k] = static_cast<char>(v >> (24 - 8 * k));
  };
  put32(16, 1000000);
  put32(20, 1000000);
  expect_error("huge.png", huge, "too large");  // from the header, before libpng reads it
  expect_error("huge.pgm", "P5\n100000 100000\n255\n", "too large");
  expect_error("short.pgm", "P5\n4 4\n255\nabc", "truncated");
  expect_error("bad.ppm", "P3\n1 1\n255\n1 2 x\n", "PGM/PPM");
  expect_error("over.pgm", "P2\n2 1\n10\n3 11\n", "exceeds");
  std::string jpg;
  {
    cv::Mat m(16, 16, CV_8UC3, cv::Scalar(1, 2, 3));
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf);
    jpg.assign(buf.begin(), buf.end());
  }
  expect_error("trunc.jpg", jpg.substr(0, jpg.size() / 2), "JPEG");
  expect_error("junk.bmp", "BM" + std::string(20, '\x01'), "BMP");
  expect_error("notimage.png", "hello", "not an image");
  ImageLimits small;
  small.max_pixels = 100;
  CHECK_THROWS_AS(read_image(dir + "/ok.png", small), Error);
}

TEST_CASE("[io] npy arrays round-trip in every dtype and both orders") {
  const std::string dir = temp_dir();
  NpyArray a;
  a.shape = {2, 3, 2};
  for (int k = 0; k < 12; ++k) a.data.push_back(k * 7 - 20);
  for (NpyType t : {NpyType::f4, NpyType::f8, NpyType::i1, NpyType::i2, NpyType::i4, NpyType::i8}) {
    CAPTURE(to_string(t));
    write_npy(dir + "/a.npy", a, t);
    NpyArray b = read_npy(dir + "/a.npy");
    CHECK(b.shape == a.shape);
    CHECK(b.data == a.data);
  }
  CHECK_THROWS_AS(write_npy(dir + "/u.npy", a, NpyType::u1), Error);  // negatives do not fit uint8
  CHECK(!std::filesystem::exists(dir + "/u.npy"));
  NpyArray d;
  d.shape = {3};
  d.data = {0.1, 1e-300, -2.5};
  write_npy(dir + "/d.npy", d);
  CHECK(read_npy(dir + "/d.npy").data == d.data);

  // Fortran order and big-endian, written by hand: shape (2, 3) values 0..5 in C order.
  auto header = [](const std::string& dict) {
    std::string h = dict;
    while ((10 + h.size() + 1) % 16) h += ' ';
    h += '\n';
    std::string out = std::string("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(h.size());
    out += '\0';
    return out + h;
  };
  std::string f = header("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }");
  for (int v : {0, 3, 1, 4, 2, 5}) f += std::string{static_cast<char>(v), '\0'};
  convkit::test::write_file(dir + "/f.npy", f);
  CHECK(read_npy(dir + "/f.npy").data == std::vector<double>{0, 1, 2, 3, 4, 5});
  std::string be = header("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }");
  be += std::string("\x01\x02\x00\x05", 4);
  convkit::test::write_file(dir + "/be.npy", be);
  CHECK(read_npy(dir + "/be.npy").data == std::vector<double>{258, 5});
  // A header that lies about its size.
  std::string lie = header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }");
  lie += std::string(16, '\0');
  convkit::test::write_file(dir + "/lie.npy", lie);
  CHECK_THROWS_WITH_AS(read_npy(dir + "/lie.npy"), doctest::Contains("lie.npy"), Error);
  std::string lie2 = header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }");
  lie2 += std::string(16, '\0');
  convkit::test::write_file(dir + "/lie2.npy", lie2);
  CHECK_THROWS_WITH_AS(read_npy(dir + "/lie2.npy"), doctest::Contains("promises 24 bytes"), Error);
}

TEST_CASE("[io] write_file_atomic leaves nothing behind when the writer fails") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/out.txt";
  write_file_atomic(path, std::string_view("old"));
  CHECK_THROWS_AS(write_file_atomic(path,
                                    [](std::FILE* f) {
                                      std::fputs("partial", f);
                                      throw Error("boom");
                                    }),
                  Error);
  CHECK(convkit::test::read_file(path) == "old");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  CHECK_THROWS_WITH_AS(write_file_atomic(dir + "/no/such/dir/x.txt", std::string_view("x")),
                       doctest::Contains("no/such/dir/x.txt"), Error);
}

TEST_CASE("[io] .npy images give the same planes from every dtype, byte order and layout") {
  // H=2, W=3, C=2 with values 0..11 in C order: plane c, pixel (y, x) holds (y*3+x)*2+c.
  const std::string dir = temp_dir();
  auto check_planes = [](const Image& img) {
    REQUIRE(img.width == 3);
    REQUIRE(img.height == 2);
    REQUIRE(img.channels == 2);
    for (int c = 0; c < 2; ++c)
      for (int k = 0; k < 6; ++k) CHECK(img.plane(c)[k] == static_cast<float>(k * 2 + c));
  };
  NpyArray a;
  a.shape = {2, 3, 2};
  for (int k = 0; k < 12; ++k) a.data.push_back(k);
  for (NpyType t : {NpyType::f4, NpyType::f8, NpyType::u1, NpyType::u2, NpyType::i4}) {
    CAPTURE(to_string(t));
    write_npy(dir + "/a.npy", a, t);
    const Image img = read_image(dir + "/a.npy");
    check_planes(img);
    CHECK(img.bit_depth == (t == NpyType::u1 ? 8 : t == NpyType::u2 ? 16 : 32));
  }
  auto header = [](const std::string& dict) {
    std::string h = dict;
    while ((10 + h.size() + 1) % 16) h += ' ';
    h += '\n';
    std::string out = std::string("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(h.size());
    out += '\0';
    return out + h;
  };
  auto f4 = [](float v, bool big) {
    std::string b(4, '\0');
    std::memcpy(b.data(), &v, 4);
    if (big) std::swap(b[0], b[3]), std::swap(b[1], b[2]);
    return b;
  };
  // Fortran order: element (y, x, c) at offset y + 2 * (x + 3 * c).
  std::string fo = header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 2), }");
  std::vector<float> fvals(12);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 2; ++c)
        fvals[y + 2 * (x + 3 * c)] = static_cast<float>((y * 3 + x) * 2 + c);
  for (float v : fvals) fo += f4(v, false);
  convkit::test::write_file(dir + "/fo.npy", fo);
  check_planes(read_image(dir + "/fo.npy"));
  std::string be = header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3, 2), }");
  for (int k = 0; k < 12; ++k) be += f4(static_cast<float>(k), true);
  convkit::test::write_file(dir + "/be.npy", be);
  check_planes(read_image(dir + "/be.npy"));
  // And a float image written back as .npy is the same array, bit for bit.
  Image img = read_image(dir + "/be.npy");
  img.plane(1)[4] = -0.1f;
  write_image(img, dir + "/out.npy");
  const NpyArray back = read_npy(dir + "/out.npy");
  CHECK(back.dtype == "f4");
  CHECK(back.shape == std::vector<std::int64_t>{2, 3, 2});
  for (int k = 0; k < 12; ++k)
    CHECK(back.data[k] == (k == 9 ? static_cast<double>(-0.1f) : static_cast<double>(k)));
}

TEST_CASE("[io] read_input_bytes reads text whole but stops soon after a NUL byte") {
  const std::string dir = temp_dir();
  // 3 MiB of text: read whole, byte for byte.
  std::string text;
  while (text.size() < (std::size_t(3) << 20)) text += "1 2 3\n";
  convkit::test::write_file(dir + "/t.txt", text);
  CHECK(read_input_bytes(dir + "/t.txt") == text);
  // The same text with a NUL near its start: the read ends within the first
  // blocks (64 KiB, then 1 MiB steps), not at the end of the file.
  std::string binary = text;
  binary[100] = '\0';
  convkit::test::write_file(dir + "/b.bin", binary);
  const std::string got = read_input_bytes(dir + "/b.bin");
  CHECK(got.size() <= (std::size_t(1) << 16));
  CHECK(got == binary.substr(0, got.size()));
  // A .npy file past the first 64 KiB is read to its declared end (plus one
  // byte to see trailing data), not to the end of the file.
  const std::string header = npy_header({20000}, NpyType::f8);
  const std::string npy =
      header + std::string(160000, '\x01') + std::string(std::size_t(4) << 20, 'x');
  convkit::test::write_file(dir + "/a.npy", npy);
  CHECK(read_input_bytes(dir + "/a.npy").size() == header.size() + 160000 + 1);
  // With no text wanted, only the first 64 KiB are read.
  CHECK(read_input_bytes(dir + "/t.txt", {}, 0).size() == (std::size_t(1) << 16));
}

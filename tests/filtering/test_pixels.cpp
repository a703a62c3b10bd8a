// [pixels] blur, edge and general masks on 8/16-bit interleaved pixels
// (convkit/pixels.hpp): bit-identical to the float path on the image's float
// planes, rounded as write_image rounds; integer results checked against
// brute-force integer sums.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/parallel.hpp"
#include "convkit/pixels.hpp"
#include "engine/schedules.hpp"
#include "support/pixels.hpp"

using namespace convkit;
using namespace convkit::test;

namespace {

// The float path: f (a filter of Images) on each channel as a grey float
// image of the given bit depth; the results as the planes of one image.
template <class T, class F>
Image float_path(const std::vector<T>& v, Shape s, int bits, F&& f) {
  const std::size_t n = static_cast<std::size_t>(s.h) * s.w;
  Image all;
  all.data.resize(n * s.c);
  for (int c = 0; c < s.c; ++c) {
    Image grey;
    grey.width = s.w;
    grey.height = s.h;
    grey.channels = 1;
    grey.bit_depth = bits;
    grey.data.resize(n);
    for (std::size_t i = 0; i < n; ++i) grey.data[i] = static_cast<float>(v[i * s.c + c]);
    const Image r = f(grey);
    REQUIRE(r.data.size() == n);
    std::copy(r.data.begin(), r.data.end(), all.data.begin() + c * n);
  }
  all.width = s.w;
  all.height = s.h;
  all.channels = s.c;
  return all;
}

// Sample (i, c) of a planar result, interleaved like the pixels.
float at(const Image& img, std::size_t i, int c) {
  return img.data[static_cast<std::size_t>(c) * img.width * img.height + i];
}

// What write_image stores for a float value v: round half up, clamp.
double rounded(double v, double lo, double hi) {
  return std::min(std::max(std::floor(v + 0.5), lo), hi);
}

// Every sample of `got` equals the float result `ref` (planar), rounded to
// Out or (float Out) bit for bit.
template <class Out>
void check_equal(const std::vector<Out>& got, const Image& ref, Shape s) {
  const std::size_t n = static_cast<std::size_t>(s.h) * s.w;
  int bad = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < s.c; ++c) {
      const double want = std::is_same_v<Out, float>
                              ? double(at(ref, i, c))
                              : rounded(at(ref, i, c), std::numeric_limits<Out>::min(),
                                        std::numeric_limits<Out>::max());
      const double g = static_cast<double>(got[i * s.c + c]);
      if (g != want && ++bad <= 3)
        FAIL_CHECK("sample " << i << " channel " << c << ": " << g << " != " << want);
    }
  CHECK(bad == 0);
}

// One rule on both axes, per-axis rules, and border values under Border::zero
// (a fractional one too).
const BorderRule kBorders[] = {Border::reflect,
                               Border::zero,
                               Border::replicate,
                               Border::symmetric,
                               Border::circular,
                               {Border::zero, Border::reflect, 7},
                               {Border::replicate, Border::zero, 200},
                               {Border::circular, Border::symmetric},
                               {Border::zero, Border::zero, 37.5}};

// Describes a border rule for CAPTURE.
std::string describe(const BorderRule& b) {
  return std::to_string(static_cast<int>(b.rows)) + "/" + std::to_string(static_cast<int>(b.cols)) +
         " value " + std::to_string(b.value);
}

const Shape kShapes[] = {{1, 1, 1}, {2, 3, 3}, {7, 5, 1}, {37, 53, 3}, {19, 40, 4}, {9, 1300, 3}};

// Brute-force integer correlation of channel c at (y, x) with an integer mask
// (b.value an integer: the samples outside under Border::zero).
long long int_correlate(const std::vector<std::uint8_t>& v, Shape s, const std::vector<int>& m,
                        int kh, int kw, const BorderRule& b, int y, int x, int c) {
  long long sum = 0;
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j) {
      const int yy = border_index(y + i - kh / 2, s.h, b.rows),
                xx = border_index(x + j - kw / 2, s.w, b.cols);
      const long long sample = yy < 0 || xx < 0
                                   ? static_cast<long long>(b.value)
                                   : v[(static_cast<std::size_t>(yy) * s.w + xx) * s.c + c];
      sum += m[static_cast<std::size_t>(i) * kw + j] * sample;
    }
  return sum;
}

}  // namespace

// 8-bit blurs run in fixed point (tests/engine/test_fixed_point.cpp holds them
// to the float path); so does an 8-bit Image's blur when its result is to be
// written as 8-bit samples (PlaneFilter::rounds_to_8bit), and they agree bit
// for bit (where the border value is not an 8-bit sample both take the float
// path).
Image blur_rounded(const Image& g, const BlurOptions& o) {
  PlaneFilter f = blur_filter(o);
  f.rounds_to_8bit = true;
  Image r;
  apply_plane_filter(g, f, r);
  return r;
}

TEST_CASE("[pixels] 8-bit blur equals the 8-bit image's blur rounded to 8 bits, bit for bit") {
  const BlurOptions opts[] = {{BlurType::gaussian, 0, 2.0, Border::reflect},
                              {BlurType::gaussian, 5, 0, Border::reflect},
                              {BlurType::gaussian, 0, 1.3, Border::reflect, 0.7},
                              {BlurType::box, 5, 0, Border::reflect},
                              {BlurType::box, 3, 0, Border::reflect}};
  each_setting([&] {
    for (Shape s : kShapes)
      for (const BorderRule& b : kBorders)
        for (BlurOptions o : opts) {
          o.border = b;
          CAPTURE(s.h);
          CAPTURE(s.w);
          CAPTURE(s.c);
          CAPTURE(describe(b));
          const auto in = random_pixels<std::uint8_t>(s, 7, 255);
          std::vector<std::uint8_t> out(in.size());
          blur(view(in, s), o, view(out, s));
          check_equal(out, float_path(in, s, 8, [&](const Image& g) { return blur_rounded(g, o); }),
                      s);
        }
  });
}

TEST_CASE("[pixels] a wide image is cut into strips without changing a sample") {
  // sigma 5 (31 taps) on 3 x 1500 RGB: several strips per row band.
  const Shape s{40, 1500, 3};
  const auto in = random_pixels<std::uint8_t>(s, 3, 255);
  const BlurOptions o{BlurType::gaussian, 0, 5.0, Border::reflect};
  each_setting([&] {  // the float path at the same SIMD level: FMA or not
    const Image ref = float_path(in, s, 8, [&](const Image& g) { return blur_rounded(g, o); });
    std::vector<std::uint8_t> out(in.size());
    blur(view(in, s), o, view(out, s));
    check_equal(out, ref, s);
  });
}

TEST_CASE("[pixels] 16-bit blur equals the float path rounded, bit for bit") {
  each_setting([&] {
    for (Shape s : {Shape{37, 53, 3}, Shape{8, 9, 1}})
      for (const BorderRule& b : kBorders)
        for (BlurOptions o :
             {BlurOptions{BlurType::gaussian, 0, 1.7, b}, BlurOptions{BlurType::box, 5, 0, b}}) {
          const auto in = random_pixels<std::uint16_t>(s, 11, 65535);
          std::vector<std::uint16_t> out(in.size());
          blur(view(in, s), o, view(out, s));
          check_equal(out, float_path(in, s, 16, [&](const Image& g) { return blur(g, o); }), s);
        }
  });
}

TEST_CASE("[pixels] 8-bit edges into int16 and float equal the float path exactly") {
  struct Op {
    EdgeOperator op;
    int ksize;
  };
  const Op ops[] = {{EdgeOperator::sobel, 3},   {EdgeOperator::sobel, 5},
                    {EdgeOperator::sobel, 7},   {EdgeOperator::scharr, 3},
                    {EdgeOperator::prewitt, 3}, {EdgeOperator::laplacian, 3}};
  each_setting([&] {
    for (Shape s : {Shape{37, 53, 3}, Shape{2, 3, 1}, Shape{11, 700, 1}})
      for (const BorderRule& b : kBorders)
        for (Op op : ops)
          for (EdgeDirection d : {EdgeDirection::x, EdgeDirection::y, EdgeDirection::magnitude,
                                  EdgeDirection::direction}) {
            if (op.op == EdgeOperator::laplacian && d != EdgeDirection::x) continue;
            const EdgeOptions o{op.op, d, b, op.ksize};
            CAPTURE(static_cast<int>(op.op));
            CAPTURE(op.ksize);
            CAPTURE(static_cast<int>(d));
            const auto in = random_pixels<std::uint8_t>(s, 5, 255);
            const Image ref = float_path(in, s, 8, [&](const Image& g) { return edge(g, o); });
            std::vector<float> f(in.size());
            edge(view(in, s), o, view(f, s));
            check_equal(f, ref, s);
            if (d == EdgeDirection::magnitude || d == EdgeDirection::direction) {
              std::vector<std::int16_t> i16(in.size());
              CHECK_THROWS_AS(edge(view(in, s), o, view(i16, s)), UsageError);
              continue;
            }
            if (op.ksize == 7) continue;  // |values| can pass 32767
            // Integer masks give integers, except Scharr and Sobel 5: the
            // engine factors the outer product by its largest tap, e.g.
            // (0.3, 1, 0.3) x (-10, 0, 10), and 0.3 is not a float.
            if (op.op != EdgeOperator::scharr && op.ksize == 3 && b.value == std::floor(b.value))
              for (float v : f) REQUIRE(v == std::nearbyint(v));
            std::vector<std::int16_t> i16(in.size());
            edge(view(in, s), o, view(i16, s));
            check_equal(i16, ref, s);
          }
  });
}

TEST_CASE("[pixels] log and dog of 8/16-bit pixels equal the float path; they need float output") {
  each_setting([&] {
    for (const BorderRule& b : kBorders)
      for (EdgeOperator op : {EdgeOperator::log, EdgeOperator::dog}) {
        CAPTURE(describe(b));
        CAPTURE(static_cast<int>(op));
        EdgeOptions o{op, EdgeDirection::magnitude, b};
        o.sigma = 1.2;
        const Shape s{29, 31, 3};
        const auto in8 = random_pixels<std::uint8_t>(s, 14, 255);
        std::vector<float> f(in8.size());
        edge(view(in8, s), o, view(f, s));
        check_equal(f, float_path(in8, s, 8, [&](const Image& g) { return edge(g, o); }), s);
        const auto in16 = random_pixels<std::uint16_t>(s, 15, 65535);
        edge(view(in16, s), o, view(f, s));
        check_equal(f, float_path(in16, s, 16, [&](const Image& g) { return edge(g, o); }), s);
        std::vector<std::int16_t> i16(in8.size());
        CHECK_THROWS_AS(edge(view(in8, s), o, view(i16, s)), UsageError);
      }
  });
}

TEST_CASE("[pixels] integer masks on 8-bit pixels give the exact integer sums") {
  // Sobel x (3 and 5), Scharr y and a 5x5 box sum, against brute-force
  // integer correlation: int16 output is exact.
  const Shape s{23, 31, 3};
  const auto in = random_pixels<std::uint8_t>(s, 9, 255);
  const std::vector<int> sobel = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  const std::vector<int> scharr_y = {-3, -10, -3, 0, 0, 0, 3, 10, 3};
  const std::vector<int> ones(25, 1);
  std::vector<int> sobel5;
  for (int a : {1, 4, 6, 4, 1})
    for (int b : {-1, -2, 0, 2, 1}) sobel5.push_back(a * b);
  each_setting([&] {
    for (const BorderRule& b : kBorders) {
      if (b.value != std::floor(b.value)) continue;  // integer sums need an integer value
      CAPTURE(describe(b));
      std::vector<std::int16_t> gx(in.size()), gy(in.size()), g5(in.size()), box(in.size());
      edge(view(in, s), EdgeOptions{EdgeOperator::sobel, EdgeDirection::x, b, 5}, view(g5, s));
      edge(view(in, s), EdgeOptions{EdgeOperator::sobel, EdgeDirection::x, b}, view(gx, s));
      edge(view(in, s), EdgeOptions{EdgeOperator::scharr, EdgeDirection::y, b}, view(gy, s));
      filter_plane(view(in, s), std::vector<double>(25, 1.0), 5, 5, b, view(box, s));
      int bad = 0;
      for (int y = 0; y < s.h; ++y)
        for (int x = 0; x < s.w; ++x)
          for (int c = 0; c < s.c; ++c) {
            const std::size_t i = (static_cast<std::size_t>(y) * s.w + x) * s.c + c;
            bad += gx[i] != int_correlate(in, s, sobel, 3, 3, b, y, x, c);
            bad += g5[i] != int_correlate(in, s, sobel5, 5, 5, b, y, x, c);
            bad += gy[i] != int_correlate(in, s, scharr_y, 3, 3, b, y, x, c);
            bad += box[i] != int_correlate(in, s, ones, 5, 5, b, y, x, c);
          }
      CHECK(bad == 0);
    }
  });
}

TEST_CASE("[pixels] general masks on 8-bit pixels equal the float path, every schedule") {
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> u(-1, 1);
  auto random_mask = [&](int k) {
    std::vector<double> m(static_cast<std::size_t>(k) * k);
    for (auto& v : m) v = u(rng);
    return m;
  };
  const std::vector<double> masks[] = {
      random_mask(3), random_mask(5), {1, 2, 1, 2, 4, 2, 1, 2, 1}};  // rank 1: separable
  each_setting([&] {
    for (Shape s : {Shape{37, 53, 3}, Shape{6, 4, 1}})
      for (const BorderRule& b : kBorders)
        for (const auto& m : masks) {
          const int k = static_cast<int>(std::lround(std::sqrt(double(m.size()))));
          const auto in = random_pixels<std::uint8_t>(s, 2, 255);
          const Image ref = float_path(in, s, 8, [&](const Image& g) {
            Image r = g;
            filter_plane(g.plane(0), s.h, s.w, m, k, k, b, r.plane(0));
            return r;
          });
          std::vector<std::uint8_t> out(in.size());
          std::vector<float> f(in.size());
          filter_plane(view(in, s), m, k, k, b, view(out, s));
          filter_plane(view(in, s), m, k, k, b, view(f, s));
          check_equal(out, ref, s);
          check_equal(f, ref, s);
        }
  });
}

TEST_CASE("[pixels] conv2d_pixels: each schedule equals conv2d on a float plane") {
  const Shape s{41, 45, 1};
  const auto in = random_pixels<std::uint8_t>(s, 8, 255);
  std::vector<float> plane(in.begin(), in.end());
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> u(0, 0.01f);
  std::vector<float> k(21 * 21);
  for (auto& v : k) v = u(rng);
  const View<const float> kv{k.data(), 21, 21, 21};
  ConvSpec spec;
  spec.correlate = true;
  spec.mode = SizeMode::same;
  spec.border = Border::reflect;
  const ConvGeometry g = plan(spec, s.h, s.w, 21, 21);
  for (Schedule sch : {Schedule::direct, Schedule::fft, Schedule::automatic}) {
    std::vector<float> ref(plane.size()), got(plane.size());
    conv2d<float>(View<const float>{plane.data(), s.h, s.w, s.w}, kv, g,
                  View<float>{ref.data(), s.h, s.w, s.w}, sch);
    conv2d_pixels(view(in, s), kv, Border::reflect, view(got, s), sch);
    CHECK(got == ref);
  }
  std::vector<float> out(plane.size());
  CHECK_THROWS_AS(
      conv2d_pixels(view(in, s), kv, Border::reflect, view(out, s), Schedule::separable), Error);
  CHECK_THROWS_AS(conv2d_pixels(view(in, s), View<const float>{k.data(), 2, 2, 2}, Border::reflect,
                                view(out, s)),
                  UsageError);
}

TEST_CASE("[pixels] padded rows (stride past width * channels) give the same samples") {
  const Shape s{13, 17, 3};
  const std::ptrdiff_t row = s.w * s.c, in_stride = row + 5, out_stride = row + 7;
  const auto in = random_pixels<std::uint8_t>(s, 12, 255);
  std::vector<std::uint8_t> padded(static_cast<std::size_t>(in_stride) * s.h, 0);
  for (int y = 0; y < s.h; ++y)
    std::copy(in.begin() + y * row, in.begin() + (y + 1) * row, padded.begin() + y * in_stride);
  const Pixels<const std::uint8_t> pin{padded.data(), s.h, s.w, s.c, in_stride};
  auto unpad = [&](const auto& v) {
    std::vector<std::decay_t<decltype(v[0])>> u;
    for (int y = 0; y < s.h; ++y)
      u.insert(u.end(), v.begin() + y * out_stride, v.begin() + y * out_stride + row);
    return u;
  };
  const BlurOptions b{BlurType::gaussian, 0, 1.5, Border::reflect};
  std::vector<std::uint8_t> blurred(static_cast<std::size_t>(out_stride) * s.h), flat(in.size());
  blur(pin, b, Pixels<std::uint8_t>{blurred.data(), s.h, s.w, s.c, out_stride});
  blur(view(in, s), b, view(flat, s));
  CHECK(unpad(blurred) == flat);
  const EdgeOptions e{EdgeOperator::sobel, EdgeDirection::magnitude, Border::reflect};
  std::vector<float> mag(static_cast<std::size_t>(out_stride) * s.h), mflat(in.size());
  edge(pin, e, Pixels<float>{mag.data(), s.h, s.w, s.c, out_stride});
  edge(view(in, s), e, view(mflat, s));
  CHECK(unpad(mag) == mflat);
}

// [engine] every fast schedule (direct, separable, FFT, automatic) computes
// conv2d_reference's function: on random geometries, against OpenCV, under
// any thread count, and on the invariants of convolution.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"
#include "support/cv_border.hpp"

using namespace convkit;
using convkit::test::cv_border;

namespace {

const Border kBorders[] = {Border::zero, Border::circular, Border::reflect, Border::symmetric,
                           Border::replicate};

template <class T>
double tolerance();
template <>
double tolerance<float>() {
  return 1e-5;
}
template <>
double tolerance<double>() {
  return 1e-12;
}

// Restores the thread count and SIMD level when a test ends.
struct Restore {
  int threads = thread_count();
  ~Restore() {
    set_thread_count(threads);
    detail::force_simd(detail::Simd::baseline, true);
  }
};

struct Case {
  int h, w, kh, kw;
  ConvSpec spec;
  bool rank1;
  std::string describe() const {
    return "in " + std::to_string(h) + "x" + std::to_string(w) + " kernel " + std::to_string(kh) +
           "x" + std::to_string(kw) + " stride " + std::to_string(spec.stride_y) + "," +
           std::to_string(spec.stride_x) + " mode " + std::string(to_string(spec.mode)) + " pad " +
           std::to_string(spec.pad.top) + "," + std::to_string(spec.pad.bottom) + "," +
           std::to_string(spec.pad.left) + "," + std::to_string(spec.pad.right) + " border " +
           std::string(to_string(spec.border)) + (spec.correlate ? " correlate" : " convolve") +
           (rank1 ? " rank1" : "");
  }
};

// A random request that plan() accepts.
Case random_case(std::mt19937& rng) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    Case c;
    c.h = uni(1, 40);
    c.w = uni(1, 40);
    c.kh = uni(1, 9);
    c.kw = uni(1, 9);
    c.spec.stride_y = uni(1, 4);
    c.spec.stride_x = uni(1, 4);
    c.spec.border = kBorders[uni(0, 4)];
    c.spec.mode = static_cast<SizeMode>(uni(0, 3));
    c.spec.correlate = uni(0, 1) == 1;
    // Explicit pads, asymmetric, sometimes larger than the input.
    int big = uni(0, 3) == 0 ? 50 : 6;
    c.spec.pad = {uni(0, big), uni(0, big), uni(0, big), uni(0, big)};
    c.rank1 = uni(0, 2) == 0;
    try {
      plan(c.spec, c.h, c.w, c.kh, c.kw);
      return c;
    } catch (const UsageError&) {
      // e.g. kernel larger than the input in valid mode: draw again
    }
  }
}

template <class T>
std::vector<T> random_values(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

template <class T>
std::vector<T> random_kernel(std::mt19937& rng, int kh, int kw, bool rank1) {
  if (!rank1) return random_values<T>(rng, static_cast<std::size_t>(kh) * kw);
  auto col = random_values<T>(rng, kh), row = random_values<T>(rng, kw);
  std::vector<T> k(static_cast<std::size_t>(kh) * kw);
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j) k[static_cast<std::size_t>(i) * kw + j] = col[i] * row[j];
  return k;
}

template <class T>
double sum_abs(const std::vector<T>& v) {
  double s = 0;
  for (T x : v) s += std::fabs(static_cast<double>(x));
  return s;
}

template <class T>
std::vector<T> run_reference(const Case& c, const std::vector<T>& x, const std::vector<T>& k) {
  ConvGeometry g = plan(c.spec, c.h, c.w, c.kh, c.kw);
  std::vector<T> out(static_cast<std::size_t>(g.out_h) * g.out_w);
  conv2d_reference<T>(View<const T>{x.data(), c.h, c.w, c.w},
                      View<const T>{k.data(), c.kh, c.kw, c.kw}, g,
                      View<T>{out.data(), g.out_h, g.out_w, g.out_w});
  return out;
}

template <class T>
void check_close(const std::vector<T>& got, const std::vector<T>& want, double scale,
                 const std::string& what) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
  INFO(what);
  CHECK(worst <= tolerance<T>() * std::max(scale, 1e-30));
}

template <class T>
void random_configurations(int count, unsigned seed) {
  Restore restore;
  std::mt19937 rng(seed);
  std::vector<detail::Simd> levels = {detail::Simd::baseline};
  if (detail::simd_available(detail::Simd::avx2)) levels.push_back(detail::Simd::avx2);
  for (int n = 0; n < count; ++n) {
    Case c = random_case(rng);
    set_thread_count(1 + n % 3);
    auto x = random_values<T>(rng, static_cast<std::size_t>(c.h) * c.w);
    auto k = random_kernel<T>(rng, c.kh, c.kw, c.rank1);
    const double scale = sum_abs(x) * sum_abs(k);
    const auto want = run_reference<T>(c, x, k);
    for (detail::Simd s : levels) {
      detail::force_simd(s);
      std::string at = c.describe() + (s == detail::Simd::avx2 ? " avx2" : " baseline");
      int oh = 0, ow = 0;
      check_close(conv2d<T>(x, c.h, c.w, k, c.kh, c.kw, c.spec, &oh, &ow, Schedule::direct), want,
                  scale, at + " direct");
      check_close(conv2d<T>(x, c.h, c.w, k, c.kh, c.kw, c.spec, &oh, &ow, Schedule::automatic),
                  want, scale, at + " automatic");
      if (c.rank1) {
        check_close(conv2d<T>(x, c.h, c.w, k, c.kh, c.kw, c.spec, &oh, &ow, Schedule::separable),
                    want, scale, at + " separable");
      }
    }
    detail::force_simd(detail::Simd::baseline, true);
    int oh = 0, ow = 0;
    check_close(conv2d<T>(x, c.h, c.w, k, c.kh, c.kw, c.spec, &oh, &ow, Schedule::fft), want, scale,
                c.describe() + " fft");
  }
}

}  // namespace

TEST_CASE("[engine] every schedule equals the reference on random float configurations") {
  random_configurations<float>(700, 20261127u);
}

TEST_CASE("[engine] every schedule equals the reference on random double configurations") {
  random_configurations<double>(700, 4242u);
}

TEST_CASE("[engine] rank-1 kernels are detected and others are not") {
  std::vector<double> col = {1, 4, 6, 4, 1}, row = {-1, 0, 1};
  std::vector<double> k(15);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) k[i * 3 + j] = col[i] * row[j];
  std::vector<double> c, r;
  CHECK(detail::rank1_factors(k, 5, 3, c, r));
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) CHECK(c[i] * r[j] == doctest::Approx(k[i * 3 + j]));
  k[7] += 1e-3;
  CHECK_FALSE(detail::rank1_factors(k, 5, 3, c, r));
  std::vector<double> x(30, 1.0);
  int oh = 0, ow = 0;
  CHECK_THROWS_AS(conv2d<double>(x, 5, 6, k, 5, 3, ConvSpec{}, &oh, &ow, Schedule::separable),
                  Error);
  // A float Gaussian built in float is still rank 1.
  std::vector<float> g1 = {0.054f, 0.244f, 0.403f, 0.244f, 0.054f}, g2(25);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) g2[i * 5 + j] = g1[i] * g1[j];
  std::vector<float> cf, rf;
  CHECK(detail::rank1_factors(g2, 5, 5, cf, rf));
}

TEST_CASE("[engine] results are bit-identical for 1, 2 and 3 threads in every schedule") {
  Restore restore;
  std::mt19937 rng(7);
  struct Shape {
    int h, w, kh, kw, sy, sx;
    Border b;
    SizeMode m;
  };
  const Shape shapes[] = {{301, 203, 7, 5, 1, 1, Border::reflect, SizeMode::same},
                          {257, 190, 9, 9, 2, 3, Border::circular, SizeMode::full},
                          {180, 333, 4, 6, 3, 1, Border::symmetric, SizeMode::same},
                          {400, 90, 3, 3, 1, 2, Border::zero, SizeMode::valid}};
  for (const Shape& s : shapes) {
    ConvSpec spec;
    spec.stride_y = s.sy;
    spec.stride_x = s.sx;
    spec.border = s.b;
    spec.mode = s.m;
    auto x = random_values<float>(rng, static_cast<std::size_t>(s.h) * s.w);
    auto k = random_kernel<float>(rng, s.kh, s.kw, true);
    ConvGeometry g = plan(spec, s.h, s.w, s.kh, s.kw);
    CHECK(detail::fft_tiles(g) > 1);  // so that threads split the FFT too
    for (Schedule sch : {Schedule::direct, Schedule::separable, Schedule::fft, Schedule::automatic,
                         Schedule::reference}) {
      std::vector<std::vector<float>> outs;
      for (int t : {1, 2, 3}) {
        set_thread_count(t);
        int oh = 0, ow = 0;
        outs.push_back(conv2d<float>(x, s.h, s.w, k, s.kh, s.kw, spec, &oh, &ow, sch));
      }
      INFO("schedule " << static_cast<int>(sch) << " shape " << s.h << "x" << s.w);
      CHECK(outs[0] == outs[1]);
      CHECK(outs[0] == outs[2]);
    }
  }
}

TEST_CASE("[engine] a long 1D signal gives the same result on 1, 2 and 3 threads") {
  Restore restore;
  std::mt19937 rng(8);
  auto x = random_values<double>(rng, 20000);
  for (int k : {1, 9, 64}) {
    auto h = random_values<double>(rng, static_cast<std::size_t>(k));
    ConvSpec spec;
    spec.mode = SizeMode::full;
    spec.border = Border::reflect;
    int oh = 0, ow = 0;
    const auto want = conv2d<double>(x, 1, 20000, h, 1, k, spec, &oh, &ow, Schedule::reference);
    for (Schedule sch : {Schedule::direct, Schedule::automatic}) {
      std::vector<std::vector<double>> outs;
      for (int t : {1, 2, 3}) {
        set_thread_count(t);
        outs.push_back(conv2d<double>(x, 1, 20000, h, 1, k, spec, &oh, &ow, sch));
      }
      CHECK(outs[0] == outs[1]);
      CHECK(outs[0] == outs[2]);
      check_close(outs[0], want, sum_abs(x) * sum_abs(h), "1D");
    }
  }
}

namespace {

template <class T>
void against_opencv(unsigned seed, int count) {
  std::mt19937 rng(seed);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int depth = sizeof(T) == 4 ? CV_32F : CV_64F;
  for (int n = 0; n < count; ++n) {
    int h = uni(1, 40), w = uni(1, 40), kh = 2 * uni(0, 4) + 1, kw = 2 * uni(0, 4) + 1;
    Border b = kBorders[uni(0, 4)];
    ConvSpec spec;
    spec.correlate = true;
    spec.mode = SizeMode::same;
    spec.border = b;
    auto x = random_values<T>(rng, static_cast<std::size_t>(h) * w);
    auto k = random_kernel<T>(rng, kh, kw, uni(0, 1) == 1);
    cv::Mat src(h, w, depth, x.data()), ker(kh, kw, depth, k.data()), dst;
    if (b == Border::circular) {
      // filter2D has no wrap border: pad with copyMakeBorder, keep the centre.
      if (kh / 2 > h || kw / 2 > w) continue;  // OpenCV's WRAP pads at most one period
      cv::Mat padded, full;
      cv::copyMakeBorder(src, padded, kh / 2, kh / 2, kw / 2, kw / 2, cv::BORDER_WRAP);
      cv::filter2D(padded, full, depth, ker, cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
      dst = full(cv::Rect(kw / 2, kh / 2, w, h)).clone();
    } else {
      cv::filter2D(src, dst, depth, ker, cv::Point(-1, -1), 0, cv_border(b));
    }
    std::vector<T> want(dst.begin<T>(), dst.end<T>());
    const double scale = sum_abs(x) * sum_abs(k);
    for (Schedule sch :
         {Schedule::direct, Schedule::separable, Schedule::fft, Schedule::automatic}) {
      std::vector<T> kk = k;
      std::vector<T> c, r;
      if (sch == Schedule::separable && !detail::rank1_factors(kk, kh, kw, c, r)) continue;
      int oh = 0, ow = 0;
      auto got = conv2d<T>(x, h, w, k, kh, kw, spec, &oh, &ow, sch);
      REQUIRE(oh == h);
      REQUIRE(ow == w);
      // OpenCV's own float arithmetic (and its DFT path for big kernels)
      // rounds differently: compare at the float tolerance.
      double worst = 0;
      for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
      INFO("in " << h << "x" << w << " kernel " << kh << "x" << kw << " border " << to_string(b)
                 << " schedule " << static_cast<int>(sch));
      CHECK(worst <= 1e-5 * scale);
    }
  }
}

}  // namespace

TEST_CASE("[engine] same-size correlation agrees with OpenCV filter2D for every border") {
  against_opencv<float>(99, 150);
  against_opencv<double>(100, 150);
}

TEST_CASE("[engine] an identity kernel returns the input in every schedule") {
  std::mt19937 rng(3);
  for (int kh : {1, 3, 5})
    for (int kw : {1, 3, 7})
      for (Border b : kBorders) {
        ConvSpec spec;
        spec.mode = SizeMode::same;
        spec.border = b;
        auto x = random_values<double>(rng, 23 * 17);
        std::vector<double> k(static_cast<std::size_t>(kh) * kw, 0.0);
        k[(kh / 2) * kw + kw / 2] = 1.0;
        for (Schedule sch : {Schedule::direct, Schedule::separable, Schedule::automatic}) {
          int oh = 0, ow = 0;
          CHECK(conv2d<double>(x, 23, 17, k, kh, kw, spec, &oh, &ow, sch) == x);
        }
        int oh = 0, ow = 0;
        check_close(conv2d<double>(x, 23, 17, k, kh, kw, spec, &oh, &ow, Schedule::fft), x,
                    sum_abs(x), "identity fft");
      }
}

TEST_CASE("[engine] circular convolution commutes with circular shifts") {
  std::mt19937 rng(11);
  const int h = 19, w = 26;
  auto x = random_values<double>(rng, h * w);
  auto k = random_values<double>(rng, 5 * 4);
  ConvSpec spec;
  spec.mode = SizeMode::same;
  spec.border = Border::circular;
  auto shift = [&](const std::vector<double>& v, int dy, int dx) {
    std::vector<double> s(v.size());
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) s[((r + dy) % h) * w + (c + dx) % w] = v[r * w + c];
    return s;
  };
  for (Schedule sch : {Schedule::direct, Schedule::fft, Schedule::automatic}) {
    int oh = 0, ow = 0;
    auto y = conv2d<double>(x, h, w, k, 5, 4, spec, &oh, &ow, sch);
    for (auto [dy, dx] : {std::pair{1, 0}, std::pair{0, 3}, std::pair{7, 11}, std::pair{18, 25}}) {
      auto ys = conv2d<double>(shift(x, dy, dx), h, w, k, 5, 4, spec, &oh, &ow, sch);
      if (sch == Schedule::fft)
        check_close(ys, shift(y, dy, dx), sum_abs(x) * sum_abs(k), "shift fft");
      else
        CHECK(ys == shift(y, dy, dx));
    }
  }
}

TEST_CASE("[engine] convolution is correlation with the kernel flipped, in every schedule") {
  std::mt19937 rng(5);
  auto x = random_values<float>(rng, 31 * 22);
  auto k = random_kernel<float>(rng, 4, 6, true);
  std::vector<float> flipped(k.rbegin(), k.rend());  // row-major reversal flips both axes
  ConvSpec conv, corr;
  conv.mode = corr.mode = SizeMode::full;
  conv.border = corr.border = Border::symmetric;
  conv.stride_x = corr.stride_x = 2;
  corr.correlate = true;
  for (Schedule sch : {Schedule::direct, Schedule::separable, Schedule::fft, Schedule::automatic,
                       Schedule::reference}) {
    int oh = 0, ow = 0;
    auto a = conv2d<float>(x, 31, 22, k, 4, 6, conv, &oh, &ow, sch);
    auto b = conv2d<float>(x, 31, 22, flipped, 4, 6, corr, &oh, &ow, sch);
    CHECK(a == b);
  }
}

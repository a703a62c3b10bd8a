// [engine] conv2d_band computes the same rows as conv2d, bit for bit, on
// every schedule: random sizes, strides, pads, even kernels, every border.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

using namespace convkit;

namespace {

const Border kBorders[] = {Border::zero, Border::circular, Border::reflect, Border::symmetric,
                           Border::replicate};

// Rows e0 .. e0+n-1 of the input extended vertically by g's padding and border.
template <class T>
std::vector<T> extended_rows(const std::vector<T>& in, const ConvGeometry& g, long long e0, int n) {
  std::vector<T> ext(static_cast<std::size_t>(n) * g.in_w, static_cast<T>(g.border.value));
  for (int i = 0; i < n; ++i) {
    const int s = border_index(e0 + i - g.pad.top, g.in_h, g.border.rows);
    if (s >= 0)
      std::copy(in.begin() + static_cast<std::ptrdiff_t>(s) * g.in_w,
                in.begin() + static_cast<std::ptrdiff_t>(s + 1) * g.in_w,
                ext.begin() + static_cast<std::ptrdiff_t>(i) * g.in_w);
  }
  return ext;
}

// conv2d of the whole input against conv2d_band over random bands.
template <class T>
void check_bands(std::mt19937& rng, const ConvGeometry& g, const std::vector<T>& in,
                 const std::vector<T>& k, Schedule s, const std::string& what) {
  std::vector<T> whole(static_cast<std::size_t>(g.out_h) * g.out_w);
  conv2d<T>(View<const T>{in.data(), g.in_h, g.in_w, g.in_w},
            View<const T>{k.data(), g.k_h, g.k_w, g.k_w}, g,
            View<T>{whole.data(), g.out_h, g.out_w, g.out_w}, s);
  const int align = band_alignment(g, s);
  std::vector<T> banded(whole.size());
  for (int m0 = 0; m0 < g.out_h;) {
    const int units = std::uniform_int_distribution<int>(1, 3)(rng);
    const int m1 = std::min(g.out_h, m0 + units * align);
    const int erows = (m1 - 1 - m0) * g.stride_y + g.k_h;
    const std::vector<T> ext = extended_rows(in, g, static_cast<long long>(m0) * g.stride_y, erows);
    conv2d_band<T>(
        View<const T>{ext.data(), erows, g.in_w, g.in_w},
        View<const T>{k.data(), g.k_h, g.k_w, g.k_w}, g, m0,
        View<T>{banded.data() + static_cast<std::size_t>(m0) * g.out_w, m1 - m0, g.out_w, g.out_w},
        s);
    m0 = m1;
  }
  INFO(what);
  CHECK(std::memcmp(whole.data(), banded.data(), whole.size() * sizeof(T)) == 0);
}

template <class T>
void random_cases(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto uni = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  std::uniform_real_distribution<double> val(-1, 1);
  for (int trial = 0; trial < 40; ++trial) {
    ConvSpec spec;
    spec.correlate = uni(0, 1) == 1;
    spec.stride_y = uni(1, 3);
    spec.stride_x = uni(1, 3);
    // Per-axis rules, and a value for a zero (constant) axis.
    spec.border = BorderRule(kBorders[uni(0, 4)], kBorders[uni(0, 4)], uni(0, 1) ? 0.0 : 2.5);
    const int kh = uni(1, 9), kw = uni(1, 9);  // even sizes too
    const int h = uni(kh, 70), w = uni(kw, 60);
    spec.mode = static_cast<SizeMode>(uni(0, 3));
    spec.pad = {uni(0, 12), uni(0, 12), uni(0, 6), uni(0, 6)};
    const ConvGeometry g = plan(spec, h, w, kh, kw);
    std::vector<T> in(static_cast<std::size_t>(h) * w), k(static_cast<std::size_t>(kh) * kw);
    for (T& v : in) v = static_cast<T>(val(rng));
    for (T& v : k) v = static_cast<T>(val(rng));
    // A rank-1 kernel for the separable schedule.
    std::vector<T> col(static_cast<std::size_t>(kh)), row(static_cast<std::size_t>(kw)),
        k1(k.size());
    for (T& v : col) v = static_cast<T>(val(rng));
    for (T& v : row) v = static_cast<T>(val(rng));
    for (int i = 0; i < kh; ++i)
      for (int j = 0; j < kw; ++j) k1[static_cast<std::size_t>(i) * kw + j] = col[i] * row[j];
    const std::string what = "in " + std::to_string(h) + "x" + std::to_string(w) + " kernel " +
                             std::to_string(kh) + "x" + std::to_string(kw) + " stride " +
                             std::to_string(spec.stride_y) + "," + std::to_string(spec.stride_x) +
                             " mode " + std::string(to_string(spec.mode)) + " border " +
                             to_string(spec.border);
    check_bands(rng, g, in, k, Schedule::reference, what + " reference");
    check_bands(rng, g, in, k, Schedule::direct, what + " direct");
    check_bands(rng, g, in, k, Schedule::fft, what + " fft");
    check_bands(rng, g, in, k1, Schedule::separable, what + " separable");
    check_bands(rng, g, in, k, resolve_schedule(View<const T>{k.data(), kh, kw, kw}, g),
                what + " resolved");
  }
}

}  // namespace

TEST_CASE("[engine] conv2d_band equals the same rows of conv2d on every schedule") {
  const int threads = thread_count();
  for (int t : {1, 2}) {
    set_thread_count(t);
    random_cases<float>(11u + static_cast<std::uint32_t>(t));
    random_cases<double>(23u + static_cast<std::uint32_t>(t));
  }
  set_thread_count(threads);
}

TEST_CASE("[engine] FFT bands are whole tiles: a band off the tile grid is refused") {
  ConvSpec spec;
  spec.mode = SizeMode::same;
  spec.border = Border::reflect;
  const ConvGeometry g = plan(spec, 300, 40, 31, 31);
  const int align = band_alignment(g, Schedule::fft);
  REQUIRE(align > 1);
  CHECK(band_alignment(g, Schedule::direct) == 1);
  std::vector<float> k(31 * 31, 1.0f), ext(static_cast<std::size_t>(31 + 1) * 40, 1.0f),
      out(2 * 40);
  CHECK_THROWS_AS(conv2d_band<float>(View<const float>{ext.data(), 32, 40, 40},
                                     View<const float>{k.data(), 31, 31, 31}, g, 1,
                                     View<float>{out.data(), 2, 40, 40}, Schedule::fft),
                  Error);
  CHECK_THROWS_AS(conv2d_band<float>(View<const float>{ext.data(), 32, 40, 40},
                                     View<const float>{k.data(), 31, 31, 31}, g, 0,
                                     View<float>{out.data(), 2, 40, 40}, Schedule::automatic),
                  Error);
}

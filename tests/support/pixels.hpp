// Helpers of the tests on interleaved pixels (convkit/pixels.hpp): random
// pixels, views of them, and each_setting(f), which runs a check at every
// SIMD level this CPU has, with 1 and 2 threads, then goes back to the
// defaults (the engine's results must not depend on either).
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "convkit/parallel.hpp"
#include "convkit/pixels.hpp"
#include "engine/schedules.hpp"

namespace convkit::test {

struct Shape {
  int h, w, c;
};

template <class T>
std::vector<T> random_pixels(Shape s, unsigned seed, int max) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(0, max);
  std::vector<T> v(static_cast<std::size_t>(s.h) * s.w * s.c);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

template <class T>
Pixels<const T> view(const std::vector<T>& v, Shape s) {
  return {v.data(), s.h, s.w, s.c, static_cast<std::ptrdiff_t>(s.w) * s.c};
}
template <class T>
Pixels<T> view(std::vector<T>& v, Shape s) {
  return {v.data(), s.h, s.w, s.c, static_cast<std::ptrdiff_t>(s.w) * s.c};
}

template <class F>
void each_setting(F&& f) {
  for (auto simd : {detail::Simd::baseline, detail::Simd::avx2}) {
    if (!detail::simd_available(simd)) continue;
    detail::force_simd(simd);
    for (int threads : {1, 2}) {
      set_thread_count(threads);
      CAPTURE(threads);
      CAPTURE(static_cast<int>(simd));
      f();
    }
  }
  detail::force_simd(detail::Simd::avx2, true);
  set_thread_count(0);
}

}  // namespace convkit::test

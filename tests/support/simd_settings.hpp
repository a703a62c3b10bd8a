// each_setting(f): run a check at every SIMD level this CPU has, with 1 and
// 2 threads, then back to the defaults (the engine's results must not
// depend on either).
#pragma once

#include <doctest/doctest.h>

#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"

namespace convkit::test {

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

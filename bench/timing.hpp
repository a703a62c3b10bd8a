// bench/timing.hpp — the timer the filtering benchmarks share.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace convkit::bench {

/// Median wall time in ms of `reps` runs of f, after one warm-up run.
inline double median_ms(int reps, const std::function<void()>& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace convkit::bench

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

/// Fastest wall time in ms of `reps` runs of f, after one warm-up run: on a
/// shared, loaded machine the least disturbed run.
inline double min_ms(int reps, const std::function<void()>& f) {
  f();  // warm-up
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(b - a).count());
  }
  return best;
}

}  // namespace convkit::bench

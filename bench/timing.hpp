// bench/timing.hpp — the timer the filtering benchmarks share.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
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

/// CPU time of the whole process (all threads) in ms.
inline double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/// Fastest wall time in ms of `reps` runs of f, after one warm-up run: on a
/// shared, loaded machine the least disturbed run.  *cpu_ms, when given,
/// gets the smallest process CPU time of a run (all threads; time spent
/// waiting for a core on a loaded machine does not count).
inline double min_ms(int reps, const std::function<void()>& f, double* cpu_ms = nullptr) {
  f();  // warm-up
  double best = 1e300, best_cpu = 1e300;
  for (int i = 0; i < reps; ++i) {
    const double c0 = process_cpu_ms();
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    best_cpu = std::min(best_cpu, process_cpu_ms() - c0);
    best = std::min(best, std::chrono::duration<double, std::milli>(b - a).count());
  }
  if (cpu_ms) *cpu_ms = best_cpu;
  return best;
}

}  // namespace convkit::bench

// convkit/parallel.hpp — the one thread pool every command computes on.
//
// parallel_for splits [begin, end) into contiguous chunks.  Callers must make
// each index's result independent of how the range is split, so that results
// never depend on the thread count.
#pragma once

#include <cstddef>
#include <functional>

namespace convkit {

/// Number of worker threads used by parallel_for (>= 1).  Default: all cores.
int thread_count();
/// Set the thread count; n <= 0 means "all cores".
void set_thread_count(int n);

/// Run fn(lo, hi) over disjoint chunks covering [begin, end).  `grain` is the
/// smallest chunk worth a thread.  Runs inline when one thread suffices.
/// Exceptions thrown by fn are rethrown (the first one) on the caller.
void parallel_for(std::ptrdiff_t begin, std::ptrdiff_t end, std::ptrdiff_t grain,
                  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn);

/// Flush denormal floats to zero (x86: the MXCSR FTZ and DAZ bits) on the
/// calling thread and in every parallel_for chunk while on.  Training turns
/// it on: Adam's second moments of near-silent weights decay below 1e-38,
/// and every operation on such a value takes the CPU's slow microcode path,
/// so epochs grow slower as training goes on.  Values that small are zeros to
/// a network.  Elsewhere (filtering) denormals keep their exact values.
void set_flush_denormals(bool on);
bool flush_denormals();

/// set_flush_denormals(true) for a scope; restores the previous setting.
class FlushDenormalsScope {
 public:
  FlushDenormalsScope() : prev_(flush_denormals()) { set_flush_denormals(true); }
  ~FlushDenormalsScope() { set_flush_denormals(prev_); }
  FlushDenormalsScope(const FlushDenormalsScope&) = delete;
  FlushDenormalsScope& operator=(const FlushDenormalsScope&) = delete;

 private:
  bool prev_;
};

}  // namespace convkit

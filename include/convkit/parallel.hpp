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

}  // namespace convkit

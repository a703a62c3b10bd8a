// The thread pool's floating-point mode: set_flush_denormals reaches the
// chunks on every worker, and FlushDenormalsScope undoes it.
#include <doctest/doctest.h>

#include <vector>

#include "convkit/parallel.hpp"

using namespace convkit;

namespace {

// 1e-30 * 1e-10 = 1e-40, below the smallest normal float (1.2e-38): a
// denormal, or 0 when flushed.  volatile keeps the product at run time.
std::vector<float> tiny_products() {
  volatile float tiny = 1e-30f;
  std::vector<float> out(64, -1.0f);
  parallel_for(0, static_cast<std::ptrdiff_t>(out.size()), 1,
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 for (std::ptrdiff_t i = lo; i < hi; ++i) out[i] = tiny * 1e-10f;
               });
  return out;
}

}  // namespace

TEST_CASE("[parallel] denormals flush to zero on every thread inside the scope, and only there") {
  set_thread_count(2);
  REQUIRE_FALSE(flush_denormals());
  for (float v : tiny_products()) REQUIRE(v > 0.0f);
  {
    const FlushDenormalsScope scope;
    CHECK(flush_denormals());
    for (float v : tiny_products()) REQUIRE(v == 0.0f);
    {
      const FlushDenormalsScope nested;
      for (float v : tiny_products()) REQUIRE(v == 0.0f);
    }
    CHECK(flush_denormals());  // the inner scope restores "on"
  }
  CHECK_FALSE(flush_denormals());
  for (float v : tiny_products()) REQUIRE(v > 0.0f);
  set_thread_count(0);
}

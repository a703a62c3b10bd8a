// [engine] NaN and infinity stay where the definition puts them, whatever
// schedule the automatic choice would have taken for the shape.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "convkit/engine.hpp"
#include "engine/schedules.hpp"

using namespace convkit;

TEST_CASE("[engine] a NaN in the input only reaches the outputs whose window covers it") {
  const int n = 96, k = 61;
  ConvSpec spec;
  spec.mode = SizeMode::same;
  const ConvGeometry g = plan(spec, n, n, k, k);
  // The shape is one the cost model sends to the FFT schedule.
  REQUIRE(detail::choose_schedule(g, false) == Schedule::fft);

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(static_cast<std::size_t>(n) * n), h(static_cast<std::size_t>(k) * k);
  for (auto& v : x) v = u(rng);
  for (auto& v : h) v = u(rng);
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    CAPTURE(bad);
    std::vector<float> xb = x;
    xb[5 * n + 3] = bad;  // near a corner: most outputs do not see it
    std::vector<float> want(static_cast<std::size_t>(n) * n), got(want.size());
    conv2d_reference<float>(View<const float>{xb.data(), n, n, n},
                            View<const float>{h.data(), k, k, k}, g,
                            View<float>{want.data(), n, n, n});
    conv2d<float>(View<const float>{xb.data(), n, n, n}, View<const float>{h.data(), k, k, k}, g,
                  View<float>{got.data(), n, n, n});
    int finite = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      CAPTURE(i);
      REQUIRE(std::isfinite(want[i]) == std::isfinite(got[i]));
      if (std::isfinite(want[i])) {
        ++finite;
        CHECK(std::abs(want[i] - got[i]) <= 1e-3f);
      }
    }
    CHECK(finite > 0);
  }
}

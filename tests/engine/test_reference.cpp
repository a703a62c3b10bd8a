// [engine] the reference definition against the seed's worked answers and
// hand-checked border rules.
#include <doctest/doctest.h>

#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"

using namespace convkit;

namespace {

std::vector<double> seed_x() {
  std::vector<double> x(25);
  for (int i = 0; i < 25; ++i) x[i] = i + 1;
  return x;
}
const std::vector<double> seed_h = {-1, -2, -1, 0, 0, 0, 1, 2, 1};

}  // namespace

TEST_CASE("[engine] seed 2(c): valid true convolution gives the all -40 matrix") {
  int oh = 0, ow = 0;
  ConvSpec spec;
  auto y = conv2d<double>(seed_x(), 5, 5, seed_h, 3, 3, spec, &oh, &ow, Schedule::reference);
  CHECK(oh == 3);
  CHECK(ow == 3);
  for (double v : y) CHECK(v == -40);
}

TEST_CASE("[engine] seed 2(d): stride and zero padding") {
  ConvSpec spec;
  spec.pad = {1, 1, 1, 1};
  int oh = 0, ow = 0;
  SUBCASE("stride 1, pad 1") {
    auto y = conv2d<double>(seed_x(), 5, 5, seed_h, 3, 3, spec, &oh, &ow, Schedule::reference);
    std::vector<double> want = {-19, -28, -32, -36, -29, -30, -40, -40, -40, -30, -30, -40, -40,
                                -40, -30, -30, -40, -40, -40, -30, 49,  68,  72,  76,  59};
    CHECK(oh == 5);
    CHECK(y == want);
  }
  SUBCASE("stride 2, pad 1") {
    spec.stride_y = spec.stride_x = 2;
    auto y = conv2d<double>(seed_x(), 5, 5, seed_h, 3, 3, spec, &oh, &ow, Schedule::reference);
    std::vector<double> want = {-19, -32, -29, -30, -40, -30, 49, 72, 59};
    CHECK(oh == 3);
    CHECK(y == want);
  }
}

TEST_CASE("[engine] border_index follows each border rule") {
  // n = 4: a b c d at 0..3
  CHECK(border_index(-1, 4, Border::zero) == -1);
  CHECK(border_index(-2, 4, Border::circular) == 2);
  CHECK(border_index(5, 4, Border::circular) == 1);
  CHECK(border_index(-1, 4, Border::reflect) == 1);
  CHECK(border_index(-2, 4, Border::reflect) == 2);
  CHECK(border_index(4, 4, Border::reflect) == 2);
  CHECK(border_index(-1, 4, Border::symmetric) == 0);
  CHECK(border_index(-2, 4, Border::symmetric) == 1);
  CHECK(border_index(4, 4, Border::symmetric) == 3);
  CHECK(border_index(-7, 4, Border::replicate) == 0);
  CHECK(border_index(9, 4, Border::replicate) == 3);
  CHECK(border_index(-3, 1, Border::reflect) == 0);
}

TEST_CASE("[engine] scipy size modes on a 1D signal") {
  std::vector<double> x = {1, 2, 3}, h = {1, 10};
  int oh = 0, ow = 0;
  ConvSpec spec;
  SUBCASE("full") {
    spec.mode = SizeMode::full;
    CHECK(conv2d<double>(x, 1, 3, h, 1, 2, spec, &oh, &ow) == std::vector<double>{1, 12, 23, 30});
  }
  SUBCASE("same") {
    spec.mode = SizeMode::same;
    CHECK(conv2d<double>(x, 1, 3, h, 1, 2, spec, &oh, &ow) == std::vector<double>{1, 12, 23});
  }
  SUBCASE("same, correlation") {
    spec.mode = SizeMode::same;
    spec.correlate = true;
    CHECK(conv2d<double>(x, 1, 3, h, 1, 2, spec, &oh, &ow) == std::vector<double>{10, 21, 32});
  }
  SUBCASE("valid") {
    spec.mode = SizeMode::valid;
    CHECK(conv2d<double>(x, 1, 3, h, 1, 2, spec, &oh, &ow) == std::vector<double>{12, 23});
  }
}

TEST_CASE("[engine] impossible geometry is refused") {
  ConvSpec spec;
  spec.mode = SizeMode::valid;
  CHECK_THROWS_AS(plan(spec, 2, 2, 3, 3), UsageError);
  spec.mode = SizeMode::pad;
  spec.stride_x = 0;
  CHECK_THROWS_AS(plan(spec, 5, 5, 3, 3), UsageError);
}

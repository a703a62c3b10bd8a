// [arch] shape inference and receptive fields against brute force on random stacks.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>

#include "convkit/arch.hpp"
#include "convkit/error.hpp"

using namespace convkit;

namespace {

struct Layer1D {
  int k, s, p;
};

// Output length by counting the window positions: a window starts at
// -p, -p+s, ... and must end inside the padded input [-p, n+p).
std::int64_t count_positions(std::int64_t n, const Layer1D& l) {
  std::int64_t count = 0;
  for (std::int64_t start = -l.p; start + l.k <= n + l.p; start += l.s) ++count;
  return count;
}

// The input indices that output unit `unit` of the last layer depends on,
// by following every window back to the input.
std::set<std::int64_t> dependency(const std::vector<Layer1D>& layers, std::size_t upto,
                                  std::int64_t unit) {
  std::set<std::int64_t> cur{unit};
  for (std::size_t i = upto + 1; i-- > 0;) {
    std::set<std::int64_t> prev;
    for (std::int64_t u : cur)
      for (int t = 0; t < layers[i].k; ++t) prev.insert(u * layers[i].s - layers[i].p + t);
    cur = std::move(prev);
  }
  return cur;
}

}  // namespace

TEST_CASE("[arch] receptive fields match a brute-force dependency trace on random stacks") {
  std::mt19937 rng(20261127);
  for (int trial = 0; trial < 60; ++trial) {
    const int depth = 1 + static_cast<int>(rng() % 6);
    std::vector<Layer1D> layers;
    std::string spec;
    for (int d = 0; d < depth; ++d) {
      Layer1D l;
      bool pool = rng() % 3 == 0;
      l.k = 1 + static_cast<int>(rng() % 5);
      l.s = 1 + static_cast<int>(rng() % 3);
      l.p = pool ? static_cast<int>(rng() % (l.k / 2 + 1)) : static_cast<int>(rng() % l.k);
      layers.push_back(l);
      spec += (pool ? "POOL" : "CONV") + std::to_string(l.k) + "/s" + std::to_string(l.s) + "/p" +
              std::to_string(l.p) + (rng() % 2 ? " ReLU " : " ");
    }
    CAPTURE(spec);
    Arch a = parse_arch(spec);
    std::vector<LayerRF> rf = receptive_fields(a);
    std::size_t li = 0;
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
      if (a.layers[i].kind == LayerKind::relu) {
        CHECK(rf[i].rf == rf[i - 1].rf);
        continue;
      }
      for (std::int64_t unit : {0, 1, 3}) {
        auto dep = dependency(layers, li, unit);
        std::int64_t lo = *dep.begin(), hi = *dep.rbegin();
        // r is the span of the field; it has no holes unless some stride exceeds its kernel
        bool holes = false;
        for (std::size_t j = 0; j <= li; ++j) holes = holes || layers[j].s > layers[j].k;
        if (!holes) CHECK(static_cast<std::int64_t>(dep.size()) == hi - lo + 1);
        CHECK(rf[i].rf == hi - lo + 1);
        CHECK(rf[i].start + unit * rf[i].jump == lo);
      }
      ++li;
    }
  }
}

TEST_CASE("[arch] output sizes match counting window positions on random stacks") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    std::int64_t w = 60 + rng() % 60, h = 60 + rng() % 60;
    std::string spec;
    std::vector<Layer1D> layers;
    for (int d = 0; d < 4; ++d) {
      Layer1D l{1 + static_cast<int>(rng() % 4), 1 + static_cast<int>(rng() % 2), 0};
      l.p = static_cast<int>(rng() % l.k);
      layers.push_back(l);
      spec += "CONV" + std::to_string(l.k) + "-2/s" + std::to_string(l.s) + "/p" +
              std::to_string(l.p) + " ";
    }
    CAPTURE(spec);
    ShapeReport rep = infer_shapes(parse_arch(spec), Shape3{w, h, 3});
    std::int64_t cw = w, ch = h, c = 3;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      std::int64_t nw = count_positions(cw, layers[i]), nh = count_positions(ch, layers[i]);
      CHECK(rep.layers[i].output.w == nw);
      CHECK(rep.layers[i].output.h == nh);
      CHECK(rep.layers[i].params == layers[i].k * layers[i].k * c * 2 + 2);
      CHECK(rep.layers[i].macs == nw * nh * 2 * layers[i].k * layers[i].k * c);
      cw = nw;
      ch = nh;
      c = 2;
    }
  }
}

TEST_CASE("[arch] asymmetric padding: sizes count window positions, starts follow each axis") {
  // W' = floor((W + L + R - K) / S) + 1 per axis, checked against counting the
  // positions of the window over [-before, W + after).
  auto positions = [](std::int64_t n, int k, int s, int before, int after) {
    std::int64_t c = 0;
    for (std::int64_t at = -before; at + k <= n + after; at += s) ++c;
    return c;
  };
  const Arch a = parse_arch("CONV2-3/circular/p1:0 CONV3-4/p0:2:1:0/s2 CONV4-2/p3:0:0:2");
  const ShapeReport r = infer_shapes(a, Shape3{8, 9, 1});
  CHECK(r.layers[0].output.w == positions(8, 2, 1, 1, 0));
  CHECK(r.layers[0].output.h == positions(9, 2, 1, 1, 0));
  CHECK(r.layers[0].output.w == 8);  // the exactly shift-invariant 3(f) layer keeps 8
  const std::int64_t w1 = positions(8, 3, 2, 1, 0), h1 = positions(9, 3, 2, 0, 2);
  CHECK(r.layers[1].output.w == w1);
  CHECK(r.layers[1].output.h == h1);
  CHECK(r.layers[2].output.w == positions(w1, 4, 1, 0, 2));
  CHECK(r.layers[2].output.h == positions(h1, 4, 1, 3, 0));
  // Starts: u = -sum(before * jump), rows by the top padding, columns by the left.
  const std::vector<LayerRF> rf = receptive_fields(a);
  CHECK(rf[0].start == -1);
  CHECK(rf[0].start_x == -1);
  CHECK(rf[1].start == -1);
  CHECK(rf[1].start_x == -2);
  CHECK(rf[2].start == -1 - 3 * 2);
  CHECK(rf[2].start_x == -2);
  CHECK(rf[2].rf == 1 + 1 + 2 + 3 * 2);
  // The refusal names both paddings.
  try {
    infer_shapes(parse_arch("CONV3-1/p0:1"), Shape3{1, 1, 1});
    FAIL("expected an error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("width 1 + padding 0 + 1 < 3") != std::string::npos);
  }
}

TEST_CASE("[arch] global layers: every unit of FLATTEN, GAP, FC and after sees the whole input") {
  Arch a = parse_arch("CONV3 POOL2 GAP FC-3 SOFTMAX");
  auto rf = receptive_fields(a);
  CHECK_FALSE(rf[1].global);
  CHECK(rf[1].rf == 4);
  CHECK(rf[2].global);
  CHECK(rf[3].global);
  CHECK(rf[4].global);
}

TEST_CASE("[arch] parse_input_shape reads W x H x C") {
  CHECK(parse_input_shape("28x28x1").w == 28);
  Shape3 s = parse_input_shape(
      "32\xC3\x97"
      "16\xC3\x97"
      "3");
  CHECK(s.w == 32);
  CHECK(s.h == 16);
  CHECK(s.c == 3);
  CHECK(parse_input_shape("5X7").c == 1);
  CHECK_THROWS_AS(parse_input_shape(""), UsageError);
  CHECK_THROWS_AS(parse_input_shape("x5"), UsageError);
  CHECK_THROWS_AS(parse_input_shape("5x"), UsageError);
  CHECK_THROWS_AS(parse_input_shape("5x5x"), UsageError);
  CHECK_THROWS_AS(parse_input_shape("-5x5"), UsageError);
}

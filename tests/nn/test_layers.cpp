// NN layers: numerical gradient checks (double precision) for every layer,
// and forward values worked out by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/nn/layers.hpp"
#include "nn/gradcheck.hpp"

using namespace convkit;
using namespace convkit::nn;
using convkit::nn::test::bind_layer;
using convkit::nn::test::check_layer;

namespace {

// Wrong gradients give O(1) relative errors; central differences with h = 1e-5
// in double stay below 1e-5 even through batchnorm's curvature.
constexpr double kTol = 1e-5;

void expect_gradients(Layer<double>& layer, Dims in, int n, Mode mode, std::uint64_t seed,
                      std::vector<double> x = {}) {
  Rng rng(seed);
  auto s = bind_layer(layer, in, rng);
  const auto r = check_layer(layer, s, in, n, mode, rng, std::move(x));
  CAPTURE(layer.kind());
  CHECK(r.checked > 0);
  CHECK(r.worst_input < kTol);
  CHECK(r.worst_param < kTol);
}

}  // namespace

TEST_CASE("[nn] gradient check: Conv2d, zero and circular padding, strides, even kernels") {
  struct C {
    int f, k, s, p;
    Border b;
    Dims in;
  };
  const C cases[] = {
      {3, 3, 1, 1, Border::zero, {2, 5, 5}},     {2, 3, 2, 1, Border::zero, {3, 6, 7}},
      {3, 2, 1, 1, Border::circular, {2, 4, 5}}, {2, 3, 1, 2, Border::circular, {1, 4, 4}},
      {2, 4, 3, 0, Border::zero, {2, 8, 7}},     {2, 3, 1, 1, Border::reflect, {2, 5, 4}},
  };
  for (const C& c : cases) {
    CAPTURE(c.k);
    CAPTURE(c.s);
    Conv2d<double> conv(c.f, c.k, c.s, c.p, c.b);
    expect_gradients(conv, c.in, 3, Mode::train, 100 + c.k * 10 + c.s);
  }
}

TEST_CASE("[nn] gradient check: Conv2d with asymmetric padding, zero and circular") {
  const Padding pads[] = {{1, 0, 1, 0}, {0, 1, 0, 1}, {0, 2, 1, 0}, {2, 0, 0, 1}};
  for (const Padding& p : pads)
    for (Border b : {Border::zero, Border::circular}) {
      CAPTURE(p.top);
      CAPTURE(p.bottom);
      CAPTURE(p.left);
      CAPTURE(p.right);
      Conv2d<double> conv(2, 3, 1, p, b);
      expect_gradients(conv, Dims{2, 5, 4}, 2, Mode::train, 300 + p.top + 4 * p.bottom);
      CHECK(conv.output_dims().h == 5 + p.top + p.bottom - 2);
      CHECK(conv.output_dims().w == 4 + p.left + p.right - 2);
    }
  // Forward by hand: 1x3 image [1 2 3], 1x2 kernel [1 10], circular, padding
  // after only: outputs 1+20, 2+30, 3+10 (the wrapped column after the last).
  Conv2d<double> c(1, 2, 1, Padding{0, 1, 0, 1}, Border::circular);
  c.setup(Dims{1, 1, 3});
  std::vector<double> prm = {1, 10, 0, 0, 0}, g(5);
  c.bind(prm.data(), g.data(), nullptr);
  const std::vector<double> x = {1, 2, 3};
  std::vector<double> y(c.output_dims().size());
  REQUIRE(y.size() == 3);
  c.forward(x.data(), y.data(), 1, Mode::eval);
  CHECK(y[0] == 21);
  CHECK(y[1] == 32);
  CHECK(y[2] == 13);
}

TEST_CASE("[nn] gradient check: Linear, ReLU, pooling, GAP, Flatten, Softmax") {
  {
    Linear<double> fc(4);
    expect_gradients(fc, {3, 2, 2}, 3, Mode::train, 1);
  }
  {
    ReLU<double> relu;
    expect_gradients(relu, {2, 3, 3}, 2, Mode::train, 2);
  }
  for (int pad : {0, 1}) {
    Pool2d<double> mp(true, 3, 2, pad), ap(false, 3, 2, pad);
    expect_gradients(mp, {2, 7, 6}, 2, Mode::train, 3);
    expect_gradients(ap, {2, 7, 6}, 2, Mode::train, 4);
  }
  {
    Pool2d<double> mp(true, 2, 2, 0);
    expect_gradients(mp, {3, 4, 4}, 2, Mode::train, 5);
  }
  {
    GlobalAvgPool<double> gap;
    expect_gradients(gap, {3, 4, 5}, 2, Mode::train, 6);
  }
  {
    Flatten<double> fl;
    expect_gradients(fl, {2, 3, 2}, 2, Mode::train, 7);
  }
  {
    Softmax<double> sm;
    expect_gradients(sm, {5, 1, 1}, 3, Mode::train, 8);
  }
}

TEST_CASE("[nn] gradient check: BatchNorm (vector and spatial), train and eval") {
  for (Dims in : {Dims{4, 1, 1}, Dims{3, 3, 4}}) {
    for (Mode mode : {Mode::train, Mode::eval}) {
      BatchNorm<double> bn;
      Rng rng(9);
      auto s = bind_layer(bn, in, rng);
      bn.freeze_running_stats(true);
      for (double& v : s.b) v = rng.uniform(0.5, 1.5);  // some running statistics
      const auto r = check_layer(bn, s, in, 5, mode, rng);
      CHECK(r.worst_input < kTol);
      CHECK(r.worst_param < kTol);
    }
  }
}

TEST_CASE("[nn] batchnorm closed-form backward (seed eq. 34) written out against the layer") {
  // One feature, m = 4 samples: the closed form evaluated directly here.
  const std::vector<double> x = {1.0, 2.0, 4.0, 7.0}, dy = {0.3, -1.2, 0.5, 2.0};
  const double gamma = 1.7, beta = -0.4, eps = 1e-5;
  BatchNorm<double> bn(eps);
  Rng rng(0);
  auto s = bind_layer(bn, {1, 1, 1}, rng, false);
  s.p = {gamma, beta};
  bn.bind(s.p.data(), s.g.data(), s.b.data());
  std::vector<double> y(4), dx(4, 0.0);
  bn.forward(x.data(), y.data(), 4, Mode::train);
  bn.backward(x.data(), y.data(), dy.data(), dx.data(), 4);
  const double mu = 3.5, var = (6.25 + 2.25 + 0.25 + 12.25) / 4;
  double sdy = 0, sdyc = 0;
  for (int i = 0; i < 4; ++i) {
    sdy += dy[i];
    sdyc += dy[i] * (x[i] - mu);
  }
  for (int i = 0; i < 4; ++i) {
    const double want =
        gamma / std::sqrt(var + eps) * (dy[i] - sdy / 4 - (x[i] - mu) / (var + eps) * sdyc / 4);
    CHECK(dx[i] == doctest::Approx(want).epsilon(1e-12));
    CHECK(y[i] == doctest::Approx(gamma * (x[i] - mu) / std::sqrt(var + eps) + beta));
  }
  CHECK(s.g[1] == doctest::Approx(sdy));  // dbeta
}

TEST_CASE("[nn] backward adds into dx, except for layers that declare they assign it") {
  // Sequential clears dx only for the adders: whatever dx held must not leak
  // into an assigning layer's result, and must stay under an adding one's.
  const Dims in{2, 4, 4};
  const int n = 3;
  std::vector<std::unique_ptr<Layer<double>>> layers;
  layers.push_back(std::make_unique<ReLU<double>>());
  layers.push_back(std::make_unique<BatchNorm<double>>());
  layers.push_back(std::make_unique<Conv2d<double>>(3, 3, 1, Padding{1, 1, 1, 1}, Border::zero));
  layers.push_back(std::make_unique<Pool2d<double>>(true, 2, 2, 0));
  for (auto& layer : layers) {
    CAPTURE(layer->kind());
    Rng rng(9);
    auto s = bind_layer(*layer, in, rng);
    const auto x = convkit::nn::test::random_vector(static_cast<std::size_t>(n) * in.size(), rng);
    std::vector<double> y(static_cast<std::size_t>(n) * layer->output_dims().size());
    layer->forward(x.data(), y.data(), n, Mode::train);
    const auto dy = convkit::nn::test::random_vector(y.size(), rng);
    std::vector<double> clean(x.size(), 0.0), dirty(x.size(), 5.0);
    layer->backward(x.data(), y.data(), dy.data(), clean.data(), n);
    layer->backward(x.data(), y.data(), dy.data(), dirty.data(), n);
    const bool assigns = layer->backward_assigns();
    CHECK(assigns == (layer->kind() == "relu" || layer->kind() == "bn"));
    for (std::size_t i = 0; i < x.size(); ++i)
      REQUIRE(dirty[i] == doctest::Approx(clean[i] + (assigns ? 0.0 : 5.0)).epsilon(1e-12));
  }
}

TEST_CASE("[nn] batchnorm running statistics use momentum, and eval uses them") {
  BatchNorm<double> bn(1e-5, 0.1);
  Rng rng(0);
  auto s = bind_layer(bn, {1, 1, 1}, rng, false);
  const std::vector<double> x = {2.0, 4.0, 6.0, 8.0};  // mean 5, unbiased variance 20/3
  std::vector<double> y(4);
  bn.forward(x.data(), y.data(), 4, Mode::train);
  CHECK(s.b[0] == doctest::Approx(0.9 * 0 + 0.1 * 5));
  CHECK(s.b[1] == doctest::Approx(0.9 * 1 + 0.1 * 20.0 / 3));
  bn.forward(x.data(), y.data(), 4, Mode::eval);
  CHECK(y[0] == doctest::Approx((2.0 - s.b[0]) / std::sqrt(s.b[1] + 1e-5)));
  // Eval does not touch the statistics.
  CHECK(s.b[0] == doctest::Approx(0.5));
}

TEST_CASE("[nn] dropout: inverted scaling, mask kept for backward, eval is the identity") {
  Rng rng(0);
  Dropout<double> d(0.25, false, 42);
  auto s = bind_layer(d, {4, 8, 8}, rng);
  const int n = 16;
  std::vector<double> x(static_cast<std::size_t>(n) * 256, 1.0), y(x.size());
  d.forward(x.data(), y.data(), n, Mode::train);
  std::size_t kept = 0;
  for (double v : y) {
    CHECK((v == 0.0 || v == doctest::Approx(1.0 / 0.75)));
    if (v != 0.0) ++kept;
  }
  const double frac = static_cast<double>(kept) / y.size();
  CHECK(frac > 0.70);
  CHECK(frac < 0.80);
  std::vector<double> dy(x.size(), 2.0), dx(x.size(), 0.0);
  d.backward(x.data(), y.data(), dy.data(), dx.data(), n);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(dx[i] == 2.0 * y[i]);
  d.forward(x.data(), y.data(), n, Mode::eval);
  CHECK(y == x);

  // Spatial: whole channels dropped together.
  Dropout<double> sd(0.5, true, 7);
  bind_layer(sd, {4, 3, 3}, rng);
  std::vector<double> xs(8 * 36, 1.0), ys(xs.size());
  sd.forward(xs.data(), ys.data(), 8, Mode::train);
  for (int q = 0; q < 32; ++q)
    for (int k = 1; k < 9; ++k) CHECK(ys[q * 9 + k] == ys[q * 9]);

  // The same seed gives the same mask.
  Dropout<double> a(0.5, false, 3), b(0.5, false, 3);
  bind_layer(a, {1, 4, 4}, rng);
  bind_layer(b, {1, 4, 4}, rng);
  std::vector<double> xa(32, 1.0), ya(32), yb(32);
  a.forward(xa.data(), ya.data(), 2, Mode::train);
  b.forward(xa.data(), yb.data(), 2, Mode::train);
  CHECK(ya == yb);
}

TEST_CASE("[nn] gradient check: dropout with a fixed mask (plain and spatial)") {
  for (bool spatial : {false, true}) {
    Dropout<double> d(0.4, spatial, 5);
    Rng rng(1);
    auto s = bind_layer(d, {3, 2, 3}, rng);
    std::vector<double> x = convkit::nn::test::random_vector(4 * 18, rng), y(x.size());
    d.forward(x.data(), y.data(), 4, Mode::train);  // draw the mask
    d.fix_mask(true);
    const auto r = check_layer(d, s, {3, 2, 3}, 4, Mode::train, rng, x);
    CHECK(r.worst_input < kTol);
  }
}

TEST_CASE("[nn] conv2d forward by hand: zero and circular padding, bias") {
  // x = 1..9 (3x3), w = [[1, 0], [0, -1]], b = 0.5.
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<double> p = {1, 0, 0, -1, 0.5}, g(5);
  {
    Conv2d<double> c(1, 2, 1, 0, Border::zero);
    c.setup({1, 3, 3});
    c.bind(p.data(), g.data(), nullptr);
    std::vector<double> y(4);
    c.forward(x.data(), y.data(), 1, Mode::train);
    // x[i,j] - x[i+1,j+1] + 0.5 = -3.5 everywhere
    for (double v : y) CHECK(v == -3.5);
  }
  {
    Conv2d<double> c(1, 2, 1, 1, Border::circular);
    CHECK(c.setup({1, 3, 3}) == Dims{1, 4, 4});
    c.bind(p.data(), g.data(), nullptr);
    std::vector<double> y(16);
    c.forward(x.data(), y.data(), 1, Mode::train);
    // y[m,n] = x[(m-1)%3, (n-1)%3] - x[m%3, n%3] + 0.5
    CHECK(y[0] == 9 - 1 + 0.5);
    CHECK(y[1] == 7 - 2 + 0.5);
    CHECK(y[5] == 1 - 5 + 0.5);
    CHECK(y[15] == 9 - 1 + 0.5);  // x[2,2] - x[0,0]
  }
  {
    // Two input channels are summed: channel 1 = 10 * channel 0, kernels [1] and [1]: 11 x.
    std::vector<double> x2(18);
    for (int i = 0; i < 9; ++i) {
      x2[i] = x[i];
      x2[9 + i] = 10 * x[i];
    }
    std::vector<double> q = {1, 1, 0}, gq(3);
    Conv2d<double> c(1, 1, 1, 0, Border::zero);
    c.setup({2, 3, 3});
    c.bind(q.data(), gq.data(), nullptr);
    std::vector<double> y(9);
    c.forward(x2.data(), y.data(), 1, Mode::train);
    for (int i = 0; i < 9; ++i) CHECK(y[i] == 11 * x[i]);
  }
}

TEST_CASE("[nn] pooling, GAP and linear forward by hand") {
  const std::vector<double> x = {1, 3, 2, 0, 5, 4, 7, 1, 0, 9, 2, 2, 3, 3, 8, 6};  // 4x4
  {
    Pool2d<double> mp(true, 2, 2, 0);
    mp.setup({1, 4, 4});
    std::vector<double> y(4);
    mp.forward(x.data(), y.data(), 1, Mode::eval);
    CHECK(y == std::vector<double>{5, 7, 9, 8});
  }
  {
    Pool2d<double> ap(false, 2, 2, 0);
    ap.setup({1, 4, 4});
    std::vector<double> y(4);
    ap.forward(x.data(), y.data(), 1, Mode::eval);
    CHECK(y == std::vector<double>{13.0 / 4, 10.0 / 4, 15.0 / 4, 18.0 / 4});
  }
  {
    GlobalAvgPool<double> gap;
    gap.setup({1, 4, 4});
    std::vector<double> y(1);
    gap.forward(x.data(), y.data(), 1, Mode::eval);
    CHECK(y[0] == doctest::Approx(56.0 / 16));
  }
  {
    Linear<double> fc(2);
    fc.setup({3, 1, 1});
    std::vector<double> p = {1, 2, 3, -1, 0, 1, 0.5, -0.5}, g(8);
    fc.bind(p.data(), g.data(), nullptr);
    const std::vector<double> in = {1, 1, 2};
    std::vector<double> y(2);
    fc.forward(in.data(), y.data(), 1, Mode::eval);
    CHECK(y[0] == 1 + 2 + 6 + 0.5);
    CHECK(y[1] == -1 + 0 + 2 - 0.5);
  }
}

TEST_CASE("[nn] softmax cross-entropy is stable and its gradient is (p - onehot)/n") {
  const std::vector<double> z = {0, 0, 1000, 0};
  const std::vector<int> labels = {0, 1};
  std::vector<double> d(4);
  const double l = softmax_cross_entropy<double>(z.data(), labels.data(), 2, 2, d.data());
  CHECK(std::isfinite(l));
  CHECK(l == doctest::Approx((std::log(2.0) + 1000.0) / 2));
  CHECK(d[0] == doctest::Approx(-0.25));
  CHECK(d[1] == doctest::Approx(0.25));
  CHECK(d[2] == doctest::Approx(0.5));
  CHECK(d[3] == doctest::Approx(-0.5));
  const std::vector<int> bad = {0, 2};
  CHECK_THROWS_AS(softmax_cross_entropy<double>(z.data(), bad.data(), 2, 2, nullptr), UsageError);
}

TEST_CASE("[nn] label smoothing: the loss against the smoothed target, its numerical gradient") {
  Rng rng(5);
  const int n = 3, k = 4;
  std::vector<double> z = convkit::nn::test::random_vector(n * k, rng, -3.0, 3.0);
  const std::vector<int> labels = {2, 0, 3};
  const double e = 0.2;
  // The loss by its definition: -1/n sum_i sum_j t_ij log softmax(z_i)_j.
  auto reference = [&] {
    double total = 0;
    for (int i = 0; i < n; ++i) {
      double s = 0;
      for (int j = 0; j < k; ++j) s += std::exp(z[i * k + j]);
      for (int j = 0; j < k; ++j) {
        const double t = (j == labels[i] ? 1 - e : 0.0) + e / k;
        total -= t * std::log(std::exp(z[i * k + j]) / s);
      }
    }
    return total / n;
  };
  std::vector<double> d(z.size());
  CHECK(softmax_cross_entropy<double>(z.data(), labels.data(), n, k, d.data(), e) ==
        doctest::Approx(reference()).epsilon(1e-12));
  // Smoothing changes the loss, and 0 is the plain cross-entropy.
  CHECK(softmax_cross_entropy<double>(z.data(), labels.data(), n, k, nullptr) !=
        doctest::Approx(reference()));
  auto loss = [&] {
    return softmax_cross_entropy<double>(z.data(), labels.data(), n, k, nullptr, e);
  };
  const auto r = convkit::nn::test::numeric_check(loss, z, d, {}, {});
  CHECK(r.worst_input < 1e-7);
  // The gradient of every row sums to 0 (softmax and the target both sum to 1).
  for (int i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < k; ++j) s += d[i * k + j];
    CHECK(std::abs(s) < 1e-15);
  }
  CHECK_THROWS_AS(softmax_cross_entropy<double>(z.data(), labels.data(), n, k, nullptr, 1.0),
                  UsageError);
}

TEST_CASE("[nn] constructors reject impossible settings") {
  CHECK_THROWS_AS(Conv2d<float>(0, 3, 1, 1, Border::zero), UsageError);
  CHECK_THROWS_AS(Conv2d<float>(4, 3, 0, 1, Border::zero), UsageError);
  CHECK_THROWS_AS(Conv2d<float>(4, 3, 1, 3, Border::zero), UsageError);
  CHECK_THROWS_AS(Pool2d<float>(true, 2, 0, 0), UsageError);
  CHECK_THROWS_AS(Dropout<float>(1.0, false, 0), UsageError);
  CHECK_THROWS_AS(Linear<float>(0), UsageError);
  Conv2d<float> big(1, 5, 1, 0, Border::zero);
  CHECK_THROWS_AS(big.setup({1, 3, 3}), UsageError);
}

// Sequential model: whole-network gradient check, shapes and parameter
// counts (the seed's problem 3 table), the seed's 3(f) circular-shift
// invariance, initialization, optimizers and schedules, reproducibility.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/nn/model.hpp"
#include "convkit/nn/optim.hpp"
#include "convkit/parallel.hpp"
#include "nn/gradcheck.hpp"

using namespace convkit;
using namespace convkit::nn;

namespace {

LayerSpec conv(int k, int f, int stride = 1, int pad = -1, Border b = Border::zero) {
  LayerSpec s;
  s.kind = LayerKind::conv;
  s.kernel = k;
  s.filters = f;
  s.stride = stride;
  s.pad = pad < 0 ? k / 2 : pad;
  s.border = b;
  s.text = "CONV" + std::to_string(k) + "-" + std::to_string(f);
  return s;
}
LayerSpec pool(LayerKind kind, int k, int stride = -1, int pad = 0) {
  LayerSpec s;
  s.kind = kind;
  s.kernel = k;
  s.stride = stride < 0 ? k : stride;
  s.pad = pad;
  s.text = "POOL" + std::to_string(k);
  return s;
}
LayerSpec fc(int units) {
  LayerSpec s;
  s.kind = LayerKind::fc;
  s.filters = units;
  s.text = "FC-" + std::to_string(units);
  return s;
}
LayerSpec simple(LayerKind kind, double rate = 0) {
  LayerSpec s;
  s.kind = kind;
  s.rate = rate;
  s.text = "layer";
  return s;
}

}  // namespace

TEST_CASE("[nn] gradient check of a whole network through the loss, train mode") {
  Arch arch;
  arch.layers = {conv(3, 4, 1, 1, Border::circular),
                 simple(LayerKind::batchnorm),
                 simple(LayerKind::relu),
                 pool(LayerKind::maxpool, 2),
                 conv(3, 3, 1, 1),
                 simple(LayerKind::batchnorm),
                 simple(LayerKind::relu),
                 pool(LayerKind::avgpool, 2),
                 simple(LayerKind::dropout, 0.3),
                 simple(LayerKind::flatten),
                 fc(5),
                 simple(LayerKind::batchnorm),
                 simple(LayerKind::relu),
                 fc(3)};
  Sequential<double> model(arch, Dims{2, 8, 8}, BuildOptions{.seed = 4});
  Rng rng(77);
  const int n = 5;
  std::vector<double> x = test::random_vector(static_cast<std::size_t>(n) * 128, rng);
  const std::vector<int> labels = {0, 2, 1, 1, 0};
  // Draw the dropout mask once, then keep it.
  model.forward(x.data(), n, Mode::train);
  for (std::size_t i = 0; i < model.size(); ++i)
    if (auto* d = dynamic_cast<Dropout<double>*>(&model.layer(i))) d->fix_mask(true);
  auto loss = [&] {
    model.forward(x.data(), n, Mode::train);
    return model.loss(labels.data());
  };
  loss();
  model.zero_grad();
  model.backward();
  const std::vector<double> dx(model.input_grad(), model.input_grad() + x.size());
  const std::vector<double> dp(model.grads().begin(), model.grads().end());
  const auto r = test::numeric_check(loss, x, dx, model.params(), dp);
  CHECK(r.checked == x.size() + model.params().size());
  CHECK(r.worst_input < 1e-6);
  CHECK(r.worst_param < 1e-6);
  // Training's backward(false) skips the input gradient, and only that.
  loss();
  model.zero_grad();
  model.backward(false);
  CHECK(std::equal(dp.begin(), dp.end(), model.grads().begin()));
}

TEST_CASE("[nn] built model: the seed's problem 3 shapes and parameter counts") {
  // CONV3-10 POOL2 CONV3-10 POOL2 FLATTEN FC-3 on 28x28x1 (the seed's table).
  Arch arch;
  arch.layers = {conv(3, 10),
                 pool(LayerKind::maxpool, 2),
                 conv(3, 10),
                 pool(LayerKind::maxpool, 2),
                 simple(LayerKind::flatten),
                 fc(3)};
  Sequential<float> m(arch, Dims{1, 28, 28});
  const Dims want[] = {{10, 28, 28}, {10, 14, 14}, {10, 14, 14},
                       {10, 7, 7},   {490, 1, 1},  {3, 1, 1}};
  const std::size_t params[] = {3 * 3 * 1 * 10 + 10, 0, 3 * 3 * 10 * 10 + 10, 0, 0, 490 * 3 + 3};
  std::size_t total = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    CHECK(m.layer_output(i) == want[i]);
    CHECK(m.layer_param_count(i) == params[i]);
    total += params[i];
  }
  CHECK(m.params().size() == total);
  // Named tensors tile the flat buffer in order.
  std::size_t off = 0;
  for (const TensorInfo& t : m.param_tensors()) {
    CHECK(t.offset == off);
    std::size_t prod = 1;
    for (int d : t.shape) prod *= static_cast<std::size_t>(d);
    CHECK(prod == t.size);
    off += t.size;
  }
  CHECK(off == total);
  CHECK(m.param_tensors()[0].name == "0.conv.weight");
}

TEST_CASE("[nn] building reports the offending layer") {
  Arch arch;
  arch.layers = {conv(3, 0)};
  CHECK_THROWS_AS(Sequential<float>(arch, Dims{1, 8, 8}), UsageError);
  arch.layers = {conv(5, 2, 1, 0), conv(5, 2, 1, 0)};
  try {
    Sequential<float> m(arch, Dims{1, 6, 6});
    FAIL("expected an error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("CONV5-2") != std::string::npos);
  }
}

namespace {

// The seed's 3(f) network with integer weights, so that every sum is exact in
// float and "the same features" can be tested with ==.  `pad` is the padding of
// both CONV2-3 layers.
std::vector<float> gap_features(Padding pad, const std::vector<float>& image, int size) {
  Sequential<float> net;
  net.add(std::make_unique<Conv2d<float>>(3, 2, 1, pad, Border::circular));
  net.add(std::make_unique<ReLU<float>>());
  net.add(std::make_unique<Conv2d<float>>(3, 2, 1, pad, Border::circular));
  net.add(std::make_unique<ReLU<float>>());
  net.add(std::make_unique<GlobalAvgPool<float>>());
  net.add(std::make_unique<Linear<float>>(3));
  net.finalize(Dims{1, size, size});
  Rng rng(2024);
  for (float& p : net.params()) p = static_cast<float>(static_cast<int>(rng.next() % 7) - 3);
  net.forward(image.data(), 1, Mode::eval);
  const float* g = net.activation(4);
  return std::vector<float>(g, g + 3);
}

std::vector<float> shifted(const std::vector<float>& img, int size, int dy, int dx) {
  std::vector<float> out(img.size());
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c)
      out[static_cast<std::size_t>((r + dy) % size) * size + (c + dx) % size] =
          img[static_cast<std::size_t>(r) * size + c];
  return out;
}

}  // namespace

TEST_CASE("[nn] seed 3(f): GAP features are invariant to every circular shift") {
  const int size = 8;
  std::vector<float> horizontal(size * size, 0.0f), vertical(size * size, 0.0f);
  for (int c = 0; c < size; ++c) horizontal[2 * size + c] = 1.0f;  // a horizontal edge (x1)
  for (int r = 0; r < size; ++r) vertical[r * size + 5] = 1.0f;    // a vertical edge (x2)
  // Circular padding of one row/column (K - 1 = 1 in all): each CONV2-3 maps
  // the 8x8 torus onto an 8x8 torus, so shifts commute with every layer.
  const Padding torus{1, 0, 1, 0};
  const auto g1 = gap_features(torus, horizontal, size);
  const auto g2 = gap_features(torus, vertical, size);
  CHECK(g1 != g2);  // the two edges are told apart
  for (int dy = 0; dy < size; ++dy)
    for (int dx = 0; dx < size; ++dx) {
      CAPTURE(dy);
      CAPTURE(dx);
      CHECK(gap_features(torus, shifted(horizontal, size, dy, dx), size) == g1);
      CHECK(gap_features(torus, shifted(vertical, size, dy, dx), size) == g2);
    }
  // Padding 1 on both sides makes 9x9 then 10x10 maps: the wrapped border row
  // is counted twice, and the average is no longer exactly invariant.
  const Padding both{1, 1, 1, 1};
  const auto b1 = gap_features(both, horizontal, size);
  bool all_same = true;
  for (int dy = 0; dy < size; ++dy)
    all_same = all_same && gap_features(both, shifted(horizontal, size, dy, 0), size) == b1;
  CHECK_FALSE(all_same);
}

TEST_CASE("[nn] seed 3(f) written with /p1:0: the architecture language gives the invariant net") {
  // The same network from its text: CONV2-3/circular/p1:0 pads one wrapped row
  // and column before (8x8 stays 8x8), the seed's /p1 pads one on each side.
  auto features = [](const std::string& spec, const std::vector<float>& image) {
    Sequential<float> net(parse_arch(spec), Dims{1, 8, 8});
    Rng rng(2024);
    for (float& p : net.params()) p = static_cast<float>(static_cast<int>(rng.next() % 7) - 3);
    net.forward(image.data(), 1, Mode::eval);
    const float* g = net.activation(4);
    return std::vector<float>(g, g + 3);
  };
  const std::string exact = "CONV2-3/circular/p1:0 ReLU CONV2-3/circular/p1:0 ReLU GAP FC-3";
  const std::string seed = "CONV2-3/circular ReLU CONV2-3/circular ReLU GAP FC-3";
  Sequential<float> probe(parse_arch(exact), Dims{1, 8, 8});
  CHECK(probe.layer_output(2) == Dims{3, 8, 8});
  std::vector<float> x2(64, 0.0f);
  for (int r = 0; r < 8; ++r) x2[r * 8 + 5] = 1.0f;  // a vertical edge
  const auto g2 = features(exact, x2);
  const auto s2 = features(seed, x2);
  bool seed_exact = true;
  for (int dy = 0; dy < 8; ++dy)
    for (int dx = 0; dx < 8; ++dx) {
      CHECK(features(exact, shifted(x2, 8, dy, dx)) == g2);
      seed_exact = seed_exact && features(seed, shifted(x2, 8, dy, dx)) == s2;
    }
  CHECK_FALSE(seed_exact);
}

TEST_CASE("[nn] initialization: He and Xavier statistics, seeded") {
  Arch arch;
  arch.layers = {conv(3, 64), simple(LayerKind::flatten), fc(10)};
  Sequential<float> he(arch, Dims{32, 8, 8}, BuildOptions{.seed = 1, .init = Init::he});
  Sequential<float> he2(arch, Dims{32, 8, 8}, BuildOptions{.seed = 1, .init = Init::he});
  Sequential<float> xa(arch, Dims{32, 8, 8}, BuildOptions{.seed = 1, .init = Init::xavier});
  CHECK(std::vector<float>(he.params().begin(), he.params().end()) ==
        std::vector<float>(he2.params().begin(), he2.params().end()));
  const auto t = he.param_tensors();
  const TensorInfo& w = t[0];  // 64 x 32 x 3 x 3, fan_in 288
  double s = 0, q = 0;
  for (std::size_t i = 0; i < w.size; ++i) {
    s += he.params()[w.offset + i];
    q += static_cast<double>(he.params()[w.offset + i]) * he.params()[w.offset + i];
  }
  const double mean = s / w.size, sd = std::sqrt(q / w.size - mean * mean);
  CHECK(std::abs(mean) < 0.01);
  CHECK(sd == doctest::Approx(std::sqrt(2.0 / 288)).epsilon(0.03));
  for (std::size_t i = 0; i < t[1].size; ++i) CHECK(he.params()[t[1].offset + i] == 0.0f);
  // Xavier uniform: |w| <= sqrt(6 / (fan_in + fan_out)), fan_out = 64*9.
  const double a = std::sqrt(6.0 / (288 + 576));
  float mx = 0;
  for (std::size_t i = 0; i < w.size; ++i) mx = std::max(mx, std::abs(xa.params()[w.offset + i]));
  CHECK(mx <= a);
  CHECK(mx > 0.95 * a);
}

TEST_CASE("[nn] initialization: uniform (PyTorch's default) fills weights and biases") {
  // conv fan_in 32*3*3 = 288, FC fan_in 64*8*8 = 4096: both weights and
  // biases uniform in +-1/sqrt(fan_in), reaching close to the bound.
  Arch arch;
  arch.layers = {conv(3, 64), simple(LayerKind::flatten), fc(10)};
  Sequential<float> un(arch, Dims{32, 8, 8}, BuildOptions{.seed = 1, .init = Init::uniform});
  const auto t = un.param_tensors();
  REQUIRE(t.size() == 4);
  const double bounds[] = {1 / std::sqrt(288.0), 1 / std::sqrt(288.0), 1 / std::sqrt(4096.0),
                           1 / std::sqrt(4096.0)};
  for (std::size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    float mx = 0;
    for (std::size_t i = 0; i < t[k].size; ++i)
      mx = std::max(mx, std::abs(un.params()[t[k].offset + i]));
    CHECK(mx <= bounds[k]);
    CHECK(mx > (t[k].size > 50 ? 0.95 : 0.5) * bounds[k]);
  }
  CHECK(parse_init("uniform") == Init::uniform);
  CHECK(to_string(Init::he) == "he");
  CHECK_THROWS_AS(parse_init("kaiming"), UsageError);
}

TEST_CASE("[nn] random numbers: Box-Muller normal has mean 0 and deviation 1") {
  Rng rng(123);
  double s = 0, q = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = rng.normal();
    s += v;
    q += v * v;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::sqrt(q / n) == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("[nn] optimizers: SGD, momentum, Nesterov, Adam, AdamW by hand") {
  std::vector<float> p = {1.0f}, g = {0.5f};
  {
    Optimizer o({.kind = OptimizerKind::sgd, .momentum = 0.9}, 1);
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(0.95));
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(0.95 - 0.1 * 0.95));
  }
  {
    p = {1.0f};
    Optimizer o({.kind = OptimizerKind::sgd, .momentum = 0.9, .nesterov = true}, 1);
    o.step(p, g, 0.1);
    CHECK(p[0] ==
          doctest::Approx(1.0 - 0.1 * (0.5 + 0.9 * 0.5)));  // Second step: v = 0.9 * 0.5 + 0.5 =
                                                            // 0.95, d = g + mu v = 0.5 + 0.855.
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(1.0 - 0.1 * 0.95 - 0.1 * (0.5 + 0.9 * 0.95)));
  }
  {
    p = {1.0f};
    Optimizer o({.kind = OptimizerKind::sgd, .weight_decay = 0.2}, 1);
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(1.0 - 0.1 * (0.5 + 0.2)));
  }
  {
    p = {1.0f};
    Optimizer o({.kind = OptimizerKind::adam}, 1);
    o.step(p, g, 0.1);  // first Adam step moves by lr * sign(g)
    CHECK(p[0] == doctest::Approx(0.9).epsilon(1e-6));
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(0.8).epsilon(1e-6));
  }
  {
    p = {1.0f};
    Optimizer o({.kind = OptimizerKind::adamw, .weight_decay = 0.1}, 1);
    o.step(p, g, 0.1);
    CHECK(p[0] == doctest::Approx(1.0 - 0.1 * 0.1 - 0.1).epsilon(1e-6));
  }
  {
    std::vector<float> pp = {1.0f, 1.0f}, gg = {0.0f, 0.0f};
    Optimizer o({.kind = OptimizerKind::sgd, .weight_decay = 0.5}, 2);
    o.set_decay_mask({1, 0});
    o.step(pp, gg, 0.1);
    CHECK(pp[0] == doctest::Approx(0.95));
    CHECK(pp[1] == 1.0f);
  }
  CHECK_THROWS_AS(Optimizer({.kind = OptimizerKind::sgd, .nesterov = true}, 1), UsageError);
  CHECK_THROWS_AS(parse_optimizer("rmsprop"), UsageError);
}

TEST_CASE(
    "[nn] optimizers: steps taken in slices by several owners equal whole steps bit for bit") {
  // What data-parallel ranks do: each steps its own slice of the parameters
  // (its own optimizer, whose state is current in that slice alone), then
  // the slices are gathered.
  const std::size_t count = 1000;
  const std::size_t cut[] = {0, 333, 334, 1000};  // three owners, one of a single parameter
  std::vector<unsigned char> mask(count);
  for (std::size_t i = 0; i < count; ++i) mask[i] = i % 3 != 0;
  for (const OptimizerConfig cfg :
       {OptimizerConfig{.kind = OptimizerKind::sgd, .momentum = 0.9, .weight_decay = 0.01},
        OptimizerConfig{.kind = OptimizerKind::sgd, .momentum = 0.8, .nesterov = true},
        OptimizerConfig{.kind = OptimizerKind::adam, .weight_decay = 0.02},
        OptimizerConfig{.kind = OptimizerKind::adamw, .weight_decay = 0.1}}) {
    CAPTURE(static_cast<int>(cfg.kind));
    Optimizer whole(cfg, count);
    whole.set_decay_mask(mask);
    std::vector<Optimizer> owners(3, Optimizer(cfg, count));
    for (auto& o : owners) o.set_decay_mask(mask);
    std::vector<float> ref(count), shared(count), grads(count);
    for (std::size_t i = 0; i < count; ++i)
      ref[i] = shared[i] = std::sin(0.37f * static_cast<float>(i));
    for (int step = 1; step <= 4; ++step) {
      for (std::size_t i = 0; i < count; ++i)
        grads[i] =
            std::cos(0.11f * static_cast<float>(i * step)) * 1e-2f * static_cast<float>(step);
      const double lr = 0.05 / step;
      whole.step(ref, grads, lr);
      std::vector<float> gathered(count);
      for (std::size_t r = 0; r < 3; ++r) {
        std::vector<float> mine = shared;  // a rank's copy
        const std::size_t lo = cut[r], n = cut[r + 1] - cut[r];
        owners[r].step_slice(std::span(mine).subspan(lo, n), std::span(grads).subspan(lo, n), lo,
                             lr);
        // Outside its slice a rank's copy is untouched.
        for (std::size_t i = 0; i < count; ++i)
          if (i < lo || i >= lo + n) REQUIRE(mine[i] == shared[i]);
        std::copy(mine.begin() + static_cast<std::ptrdiff_t>(lo),
                  mine.begin() + static_cast<std::ptrdiff_t>(lo + n),
                  gathered.begin() + static_cast<std::ptrdiff_t>(lo));
        CHECK(owners[r].steps() == whole.steps());
      }
      shared.swap(gathered);
      CHECK(shared == ref);
    }
    // Each owner's state agrees with the whole optimizer's in its own slice
    // (Adam's second moments follow its first, count floats later).
    const auto st = whole.state();
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t off = 0; off < st.size(); off += count)
        for (std::size_t i = cut[r]; i < cut[r + 1]; ++i)
          REQUIRE(owners[r].state()[off + i] == st[off + i]);
  }
  Optimizer o({.kind = OptimizerKind::sgd}, 10);
  std::vector<float> p(4), g(4), g3(3);
  CHECK_THROWS_AS(o.step_slice(p, g, 7, 0.1), UsageError);  // runs past the end
  CHECK_THROWS_AS(o.step_slice(p, g3, 0, 0.1), UsageError);
  CHECK_NOTHROW(o.step_slice(p, g, 6, 0.1));
}

TEST_CASE("[nn] learning-rate schedules: step, cosine, warm-up") {
  LrSchedule st{.kind = ScheduleKind::step, .base = 0.1, .gamma = 0.5, .step_size = 10};
  CHECK(st.at(0) == doctest::Approx(0.1));
  CHECK(st.at(9) == doctest::Approx(0.1));
  CHECK(st.at(10) == doctest::Approx(0.05));
  CHECK(st.at(25) == doctest::Approx(0.025));
  LrSchedule co{.kind = ScheduleKind::cosine, .base = 0.1, .min_lr = 0.001, .total = 100};
  CHECK(co.at(0) == doctest::Approx(0.1));
  CHECK(co.at(50) == doctest::Approx((0.1 + 0.001) / 2));
  CHECK(co.at(100) == doctest::Approx(0.001));
  LrSchedule wu{.kind = ScheduleKind::cosine, .base = 0.1, .total = 105, .warmup = 5};
  CHECK(wu.at(0) == doctest::Approx(0.02));
  CHECK(wu.at(4) == doctest::Approx(0.1));
  CHECK(wu.at(5) == doctest::Approx(0.1));
  CHECK(wu.at(55) == doctest::Approx(0.05));
}

TEST_CASE("[nn] learning-rate schedules: one-cycle and triangular") {
  const double pi = std::acos(-1.0);
  // One-cycle over 100 steps: up for 30 from 0.1/25, then down to 0.1/250000.
  LrSchedule oc{.kind = ScheduleKind::onecycle, .base = 0.1, .total = 100};
  CHECK(oc.at(0) == doctest::Approx(0.004));
  CHECK(oc.at(15) == doctest::Approx(0.004 + (0.1 - 0.004) * 0.5));
  CHECK(oc.at(10) == doctest::Approx(0.004 + 0.096 * 0.5 * (1 - std::cos(pi / 3))));
  CHECK(oc.at(30) == doctest::Approx(0.1));
  CHECK(oc.at(65) == doctest::Approx((0.1 + 4e-7) / 2));
  CHECK(oc.at(100) == doctest::Approx(4e-7));
  for (std::int64_t s = 1; s < 100; ++s) CHECK((s <= 30) == (oc.at(s) > oc.at(s - 1)));
  // Triangular over 10 steps: up over the first 2, down to 0.1/9 at the last.
  LrSchedule tr{.kind = ScheduleKind::triangular, .base = 0.1, .total = 10};
  const double want[10] = {0.05,    0.1,     0.8 / 9, 0.7 / 9, 0.6 / 9,
                           0.5 / 9, 0.4 / 9, 0.3 / 9, 0.2 / 9, 0.1 / 9};
  for (int s = 0; s < 10; ++s) CHECK(tr.at(s) == doctest::Approx(want[s]));
  CHECK(parse_schedule("onecycle") == ScheduleKind::onecycle);
  CHECK(parse_schedule("triangular") == ScheduleKind::triangular);
}

TEST_CASE("[nn] training steps are reproducible for a seed and thread count") {
  Arch arch;
  arch.layers = {conv(3, 6),
                 simple(LayerKind::batchnorm),
                 simple(LayerKind::relu),
                 pool(LayerKind::maxpool, 2),
                 simple(LayerKind::dropout, 0.2),
                 simple(LayerKind::flatten),
                 fc(4)};
  auto train = [&](int threads) {
    set_thread_count(threads);
    Sequential<float> m(arch, Dims{1, 10, 10}, BuildOptions{.seed = 9});
    Optimizer opt({.kind = OptimizerKind::adam}, m.params().size());
    Rng data(1);
    std::vector<float> x(24 * 100);
    std::vector<int> y(24);
    for (int step = 0; step < 3; ++step) {
      for (float& v : x) v = static_cast<float>(data.uniform(-1, 1));
      for (int& v : y) v = static_cast<int>(data.next() % 4);
      m.zero_grad();
      m.forward(x.data(), 24, Mode::train);
      m.loss(y.data());
      m.backward();
      opt.step(m.params(), m.grads(), 0.01);
    }
    std::vector<float> out(m.params().begin(), m.params().end());
    out.insert(out.end(), m.buffers().begin(), m.buffers().end());
    return out;
  };
  const auto a = train(2), b = train(2), c = train(1);
  set_thread_count(0);
  CHECK(a == b);
  CHECK(a == c);
}

// A generic numerical gradient check for the NN layers (tests only).
//
// For a layer f and a fixed random vector r, the scalar L = sum_k r_k f(x)_k
// has dL/dx = backward(dy = r) and dL/dparam likewise.  Every input element
// and every parameter is perturbed by +-h and the central difference
// (L(+h) - L(-h)) / 2h is compared with the analytic value by relative error
//   |a - n| / max(|a| + |n|, floor).
// Everything runs in double precision (Layer<double>).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <span>
#include <vector>

#include "convkit/nn/layers.hpp"
#include "convkit/random.hpp"

namespace convkit::nn::test {

inline double rel_err(double a, double b, double floor = 1e-4) {
  return std::abs(a - b) / std::max(std::abs(a) + std::abs(b), floor);
}

/// A layer with its own parameter, gradient and buffer storage.
struct Bound {
  std::vector<double> p, g, b;
};

inline Bound bind_layer(Layer<double>& layer, Dims in, Rng& rng, bool randomize = true) {
  layer.setup(in);
  Bound s;
  s.p.assign(layer.param_count(), 0.0);
  s.g.assign(layer.param_count(), 0.0);
  s.b.assign(layer.buffer_count(), 0.0);
  layer.bind(s.p.data(), s.g.data(), s.b.data());
  layer.initialize(rng, Init::he);
  if (randomize)
    for (double& v : s.p) v = rng.uniform(-1.0, 1.0);
  return s;
}

inline std::vector<double> random_vector(std::size_t n, Rng& rng, double lo = -1.0,
                                         double hi = 1.0) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.uniform(lo, hi);
  return v;
}

struct GradCheck {
  double worst_input = 0, worst_param = 0;
  std::size_t checked = 0;
};

/// Compares backward with central differences for a generic scalar function:
///   loss(): evaluates L at the current values of `inputs` and `params`;
///   analytic_input / analytic_param: the analytic gradients (same sizes).
inline GradCheck numeric_check(const std::function<double()>& loss, std::span<double> inputs,
                               const std::vector<double>& analytic_input, std::span<double> params,
                               const std::vector<double>& analytic_param, double h = 1e-5) {
  GradCheck r;
  auto run = [&](std::span<double> v, const std::vector<double>& a, double& worst) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double keep = v[i];
      v[i] = keep + h;
      const double lp = loss();
      v[i] = keep - h;
      const double lm = loss();
      v[i] = keep;
      worst = std::max(worst, rel_err(a[i], (lp - lm) / (2 * h)));
      ++r.checked;
    }
  };
  run(inputs, analytic_input, r.worst_input);
  run(params, analytic_param, r.worst_param);
  return r;
}

/// The check for one layer on n samples of shape `in`, in `mode`.
inline GradCheck check_layer(Layer<double>& layer, Bound& s, Dims in, int n, Mode mode, Rng& rng,
                             std::vector<double> x = {}) {
  if (x.empty()) x = random_vector(static_cast<std::size_t>(n * in.size()), rng);
  const Dims out = layer.output_dims();
  const std::vector<double> r = random_vector(static_cast<std::size_t>(n * out.size()), rng);
  std::vector<double> y(r.size());
  auto loss = [&] {
    layer.forward(x.data(), y.data(), n, mode);
    double l = 0;
    for (std::size_t k = 0; k < y.size(); ++k) l += r[k] * y[k];
    return l;
  };
  loss();
  std::vector<double> dx(x.size(), 0.0);
  std::fill(s.g.begin(), s.g.end(), 0.0);
  layer.backward(x.data(), y.data(), r.data(), dx.data(), n);
  const std::vector<double> dp = s.g;
  return numeric_check(loss, x, dx, s.p, dp);
}

}  // namespace convkit::nn::test

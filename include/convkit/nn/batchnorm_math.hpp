// convkit/nn/batchnorm_math.hpp — the arithmetic of batch normalization, as
// `convkit normalize` runs it.  The BatchNorm layer (nn/layers.hpp) computes
// the same two-pass statistics with its own loops.
//
// Data is viewed as `groups` features, each with `count` samples; sample k of
// feature j sits at x[j * feature_stride + (k / inner) * outer_stride + k % inner].
//   columns of an m x n row-major table: groups = n, count = m, inner = 1,
//        feature_stride = 1, outer_stride = n
//   channels of an N x C x H x W tensor: groups = C, count = N*H*W, inner = H*W,
//        feature_stride = H*W, outer_stride = C*H*W
// The seed's algorithm (problem 1):
//   mu_j     = 1/m sum_i x_ij                        (mini-batch mean)
//   var_j    = 1/m sum_i (x_ij - mu_j)^2             (mini-batch variance, biased)
//   xhat_ij  = (x_ij - mu_j) / sqrt(var_j + eps)     (standardize)
//   y_ij     = gamma_j xhat_ij + beta_j              (scale and shift)
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace convkit {

struct FeatureLayout {
  std::int64_t groups = 0, count = 0, inner = 1;
  std::int64_t feature_stride = 1, outer_stride = 1;
  std::int64_t index(std::int64_t j, std::int64_t k) const {
    return j * feature_stride + (k / inner) * outer_stride + k % inner;
  }
  /// f(index(j, k)) for k = 0, 1, ..., count-1 in that order, without a
  /// division per sample (the loops below use it; the order, and so every
  /// sum, is the same as with index()).
  template <class F>
  void for_each(std::int64_t j, F&& f) const {
    const std::int64_t step = inner > 0 ? inner : 1;
    for (std::int64_t k = 0, o = 0; k < count; k += step, ++o) {
      const std::int64_t base = j * feature_stride + o * outer_stride;
      const std::int64_t n = count - k < step ? count - k : step;
      for (std::int64_t r = 0; r < n; ++r) f(base + r);
    }
  }
};

/// Mean and biased variance of every feature, accumulated in double (two passes).
template <class T>
void batch_statistics(const T* x, const FeatureLayout& L, double* mean, double* var) {
  for (std::int64_t j = 0; j < L.groups; ++j) {
    double s = 0;
    L.for_each(j, [&](std::int64_t i) { s += static_cast<double>(x[i]); });
    double mu = L.count > 0 ? s / static_cast<double>(L.count) : 0.0;
    double q = 0;
    L.for_each(j, [&](std::int64_t i) {
      double d = static_cast<double>(x[i]) - mu;
      q += d * d;
    });
    mean[j] = mu;
    var[j] = L.count > 0 ? q / static_cast<double>(L.count) : 0.0;
  }
}

/// y = gamma * (x - mean) / sqrt(var + eps) + beta, per feature.  y may alias x.
/// Also stores xhat when xhat != nullptr and 1/sqrt(var+eps) in inv_std when given.
template <class T>
void batch_normalize(const T* x, const FeatureLayout& L, const double* mean, const double* var,
                     double eps, const T* gamma, const T* beta, T* y, T* xhat = nullptr,
                     double* inv_std = nullptr) {
  for (std::int64_t j = 0; j < L.groups; ++j) {
    const double is = 1.0 / std::sqrt(var[j] + eps);
    if (inv_std) inv_std[j] = is;
    const double g = gamma ? static_cast<double>(gamma[j]) : 1.0;
    const double b = beta ? static_cast<double>(beta[j]) : 0.0;
    L.for_each(j, [&](std::int64_t i) {
      const double h = (static_cast<double>(x[i]) - mean[j]) * is;
      if (xhat) xhat[i] = static_cast<T>(h);
      y[i] = static_cast<T>(g * h + b);
    });
  }
}

}  // namespace convkit

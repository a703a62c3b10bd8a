// The NN layers of nn/layers.hpp.  Convolution and pooling windows run on the
// engine (engine_nn.hpp); the rest are elementwise or per-channel loops.
#include "convkit/nn/layers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit::nn {

namespace {

void check_window(const char* what, int kernel, int stride, int pad) {
  if (kernel < 1)
    throw UsageError(std::string(what) + " kernel size is " + std::to_string(kernel) +
                     "; it must be at least 1");
  if (stride < 1)
    throw UsageError(std::string(what) + " stride is " + std::to_string(stride) +
                     "; it must be at least 1");
  if (pad < 0 || pad >= kernel)
    throw UsageError(std::string(what) + " padding is " + std::to_string(pad) +
                     "; it must be between 0 and kernel size - 1 (" + std::to_string(kernel - 1) +
                     ")");
}

template <class T>
void fill_weights(T* w, std::size_t count, int fan_in, int fan_out, Rng& rng, Init init) {
  if (init == Init::he) {
    const double sd = std::sqrt(2.0 / fan_in);
    for (std::size_t i = 0; i < count; ++i) w[i] = static_cast<T>(rng.normal(0.0, sd));
  } else if (init == Init::uniform) {
    const double a = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (std::size_t i = 0; i < count; ++i) w[i] = static_cast<T>(rng.uniform(-a, a));
  } else {
    const double a = std::sqrt(6.0 / (fan_in + fan_out));
    for (std::size_t i = 0; i < count; ++i) w[i] = static_cast<T>(rng.uniform(-a, a));
  }
}

// Biases: 0, except for Init::uniform (PyTorch's default: +-1/sqrt(fan_in)).
template <class T>
void fill_biases(T* b, std::size_t count, int fan_in, Rng& rng, Init init) {
  if (init != Init::uniform) {
    std::fill(b, b + count, T(0));
    return;
  }
  const double a = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (std::size_t i = 0; i < count; ++i) b[i] = static_cast<T>(rng.uniform(-a, a));
}

constexpr std::ptrdiff_t kElemGrain = 1 << 15;

// Sums over one channel's values: `planes` runs of `len` contiguous values,
// run p starting at x + p * stride.  Eight interleaved partial sums in T (a
// fixed order, so results do not depend on the machine's vector width: the
// compiler vectorizes them) over chunks of at most 1024 values, each chunk's
// total then added in double: float-speed arithmetic with the error of a
// 128-term float sum per chunk.
constexpr int kLanes = 8;
constexpr std::int64_t kChunk = 1024;

template <class T, class F>
double lane_sum(int planes, std::int64_t len, std::int64_t stride, F&& term) {
  double total = 0;
  for (int p = 0; p < planes; ++p) {
    const std::int64_t base = p * stride;
    for (std::int64_t c0 = 0; c0 < len; c0 += kChunk) {
      const std::int64_t c1 = std::min(len, c0 + kChunk);
      T acc[kLanes] = {};
      std::int64_t k = c0;
      for (; k + kLanes <= c1; k += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += term(base + k + l);
      for (; k < c1; ++k) acc[(k - c0) % kLanes] += term(base + k);
      T s = 0;
      for (T a : acc) s += a;
      total += static_cast<double>(s);
    }
  }
  return total;
}

}  // namespace

std::string_view to_string(Init init) {
  switch (init) {
    case Init::he:
      return "he";
    case Init::xavier:
      return "xavier";
    case Init::uniform:
      return "uniform";
  }
  return "?";
}

Init parse_init(std::string_view name) {
  for (Init i : {Init::he, Init::xavier, Init::uniform})
    if (name == to_string(i)) return i;
  throw UsageError("unknown initialization '" + std::string(name) +
                   "' (choose he, xavier or uniform)");
}

// ---- Conv2d ------------------------------------------------------------------

template <class T>
Conv2d<T>::Conv2d(int filters, int kernel, int stride, Padding pad, Border border)
    : filters_(filters), kernel_(kernel), stride_(stride), pad_(pad), border_(border) {
  if (filters < 1)
    throw UsageError("convolution needs at least 1 filter (got " + std::to_string(filters) + ")");
  for (int p : {pad.top, pad.bottom, pad.left, pad.right})
    check_window("convolution", kernel, stride, p);
}

template <class T>
Dims Conv2d<T>::setup(Dims in) {
  if (in.c < 1) throw UsageError("convolution input has no channels");
  ConvSpec spec;
  spec.correlate = true;
  spec.stride_y = spec.stride_x = stride_;
  spec.pad = pad_;
  spec.border = border_;
  g_geom_ = plan(spec, in.h, in.w, kernel_, kernel_);
  this->in_ = in;
  this->out_ = Dims{filters_, g_geom_.out_h, g_geom_.out_w};
  return this->out_;
}

template <class T>
std::size_t Conv2d<T>::param_count() const {
  return static_cast<std::size_t>(filters_) * this->in_.c * kernel_ * kernel_ + filters_;
}

template <class T>
std::vector<TensorInfo> Conv2d<T>::param_tensors() const {
  const std::size_t wn = param_count() - filters_;
  return {TensorInfo{"weight", {filters_, this->in_.c, kernel_, kernel_}, 0, wn, true},
          TensorInfo{"bias", {filters_}, wn, static_cast<std::size_t>(filters_), false}};
}

template <class T>
void Conv2d<T>::initialize(Rng& rng, Init init) {
  const std::size_t wn = param_count() - filters_;
  fill_weights(this->p_, wn, this->in_.c * kernel_ * kernel_, filters_ * kernel_ * kernel_, rng,
               init);
  fill_biases(this->p_ + wn, static_cast<std::size_t>(filters_), this->in_.c * kernel_ * kernel_,
              rng, init);
}

template <class T>
void Conv2d<T>::forward(const T* x, T* y, int n, Mode) {
  ConvBatchShape s{n, this->in_.c, filters_, g_geom_};
  const std::size_t wn = param_count() - filters_;
  conv_multichannel_forward<T>(s, x, this->p_, this->p_ + wn, y);
}

template <class T>
void Conv2d<T>::backward(const T* x, const T*, const T* dy, T* dx, int n) {
  ConvBatchShape s{n, this->in_.c, filters_, g_geom_};
  const std::size_t wn = param_count() - filters_;
  T* dw = this->g_;
  T* db = dw ? dw + wn : nullptr;  // unbound gradients: input gradient only
  conv_multichannel_backward<T>(s, x, this->p_, dy, dw, db, dx);
}

// ---- Linear ------------------------------------------------------------------

template <class T>
Linear<T>::Linear(int units) : units_(units) {
  if (units < 1)
    throw UsageError("fully connected layer needs at least 1 unit (got " + std::to_string(units) +
                     ")");
}

template <class T>
Dims Linear<T>::setup(Dims in) {
  if (in.size() < 1 || in.size() > std::numeric_limits<int>::max())
    throw UsageError("fully connected layer input size is out of range");
  inputs_ = static_cast<int>(in.size());
  this->in_ = in;
  this->out_ = Dims{units_, 1, 1};
  return this->out_;
}

template <class T>
std::size_t Linear<T>::param_count() const {
  return static_cast<std::size_t>(units_) * inputs_ + units_;
}

template <class T>
std::vector<TensorInfo> Linear<T>::param_tensors() const {
  const std::size_t wn = static_cast<std::size_t>(units_) * inputs_;
  return {TensorInfo{"weight", {units_, inputs_}, 0, wn, true},
          TensorInfo{"bias", {units_}, wn, static_cast<std::size_t>(units_), false}};
}

template <class T>
void Linear<T>::initialize(Rng& rng, Init init) {
  const std::size_t wn = static_cast<std::size_t>(units_) * inputs_;
  fill_weights(this->p_, wn, inputs_, units_, rng, init);
  fill_biases(this->p_ + wn, static_cast<std::size_t>(units_), inputs_, rng, init);
}

template <class T>
void Linear<T>::forward(const T* x, T* y, int n, Mode) {
  const T* W = this->p_;
  const T* b = this->p_ + static_cast<std::size_t>(units_) * inputs_;
  // Rows (samples) are independent: split them.
  parallel_for(0, n, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    const int rows = static_cast<int>(hi - lo);
    T* yl = y + lo * units_;
    for (int i = 0; i < rows; ++i)
      std::copy(b, b + units_, yl + static_cast<std::ptrdiff_t>(i) * units_);
    gemm<T>(false, true, rows, units_, inputs_, T(1), x + lo * inputs_, inputs_, W, inputs_, T(1),
            yl, units_);
  });
}

template <class T>
void Linear<T>::backward(const T* x, const T*, const T* dy, T* dx, int n) {
  const T* W = this->p_;
  T* dW = this->g_;
  T* db = this->g_ + static_cast<std::size_t>(units_) * inputs_;
  // dW += dy^T x and db += column sums of dy: split the units (rows of dW);
  // each keeps the whole sum over the batch, so the split does not matter.
  parallel_for(0, units_, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    const int rows = static_cast<int>(hi - lo);
    gemm<T>(true, false, rows, inputs_, n, T(1), dy + lo, units_, x, inputs_, T(1),
            dW + lo * inputs_, inputs_);
    for (std::ptrdiff_t u = lo; u < hi; ++u) {
      T acc = 0;
      for (int i = 0; i < n; ++i) acc += dy[static_cast<std::ptrdiff_t>(i) * units_ + u];
      db[u] += acc;
    }
  });
  if (!dx) return;
  parallel_for(0, n, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    gemm<T>(false, false, static_cast<int>(hi - lo), inputs_, units_, T(1), dy + lo * units_,
            units_, W, inputs_, T(1), dx + lo * inputs_, inputs_);
  });
}

// ---- ReLU --------------------------------------------------------------------

template <class T>
Dims ReLU<T>::setup(Dims in) {
  this->in_ = this->out_ = in;
  return in;
}

template <class T>
void ReLU<T>::forward(const T* x, T* y, int n, Mode) {
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(n) * this->in_.size();
  parallel_for(0, total, kElemGrain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    // Local restrict pointers: through the closure's references the compiler
    // would reload them after every store and not vectorize.
    const T* __restrict xs = x + lo;
    T* __restrict ys = y + lo;
    for (std::ptrdiff_t i = 0; i < hi - lo; ++i) ys[i] = xs[i] > T(0) ? xs[i] : T(0);
  });
}

template <class T>
void ReLU<T>::backward(const T* x, const T*, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(n) * this->in_.size();
  parallel_for(0, total, kElemGrain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    const T* __restrict xs = x + lo;
    const T* __restrict ds = dy + lo;
    T* __restrict out = dx + lo;
    for (std::ptrdiff_t i = 0; i < hi - lo; ++i) {
      const T d = ds[i];  // loaded unconditionally, so the select vectorizes
      out[i] = xs[i] > T(0) ? d : T(0);
    }
  });
}

// ---- Pool2d ------------------------------------------------------------------

template <class T>
Pool2d<T>::Pool2d(bool max, int kernel, int stride, int pad)
    : max_(max), kernel_(kernel), stride_(stride), pad_(pad) {
  check_window(max ? "max pooling" : "average pooling", kernel, stride, pad);
}

template <class T>
Dims Pool2d<T>::setup(Dims in) {
  ConvSpec spec;
  spec.correlate = true;
  spec.stride_y = spec.stride_x = stride_;
  spec.pad = {pad_, pad_, pad_, pad_};
  geom_ = plan(spec, in.h, in.w, kernel_, kernel_);
  this->in_ = in;
  this->out_ = Dims{in.c, geom_.out_h, geom_.out_w};
  return this->out_;
}

template <class T>
void Pool2d<T>::forward(const T* x, T* y, int n, Mode) {
  const std::int64_t planes = static_cast<std::int64_t>(n) * this->in_.c;
  if (max_) {
    argmax_.resize(static_cast<std::size_t>(planes) * this->out_.h * this->out_.w);
    maxpool_forward<T>(planes, geom_, x, y, argmax_.data());
  } else {
    avgpool_forward<T>(planes, geom_, x, y);
  }
}

template <class T>
void Pool2d<T>::backward(const T*, const T*, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::int64_t planes = static_cast<std::int64_t>(n) * this->in_.c;
  if (max_)
    maxpool_backward<T>(planes, geom_, dy, argmax_.data(), dx);
  else
    avgpool_backward<T>(planes, geom_, dy, dx);
}

// ---- GlobalAvgPool -----------------------------------------------------------

template <class T>
Dims GlobalAvgPool<T>::setup(Dims in) {
  this->in_ = in;
  this->out_ = Dims{in.c, 1, 1};
  return this->out_;
}

template <class T>
void GlobalAvgPool<T>::forward(const T* x, T* y, int n, Mode) {
  const std::int64_t hw = static_cast<std::int64_t>(this->in_.h) * this->in_.w;
  const std::int64_t planes = static_cast<std::int64_t>(n) * this->in_.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    // Summed in double: for float maps the sum is then exact in all but
    // extreme cases, so it does not depend on the order of the values (a
    // circularly shifted map gives the same mean, bit for bit).
    double acc = 0;
    for (std::int64_t k = 0; k < hw; ++k) acc += static_cast<double>(x[p * hw + k]);
    y[p] = static_cast<T>(acc / static_cast<double>(hw));
  }
}

template <class T>
void GlobalAvgPool<T>::backward(const T*, const T*, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::int64_t hw = static_cast<std::int64_t>(this->in_.h) * this->in_.w;
  const std::int64_t planes = static_cast<std::int64_t>(n) * this->in_.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    const T share = dy[p] / static_cast<T>(hw);
    for (std::int64_t k = 0; k < hw; ++k) dx[p * hw + k] += share;
  }
}

// ---- Flatten -----------------------------------------------------------------

template <class T>
Dims Flatten<T>::setup(Dims in) {
  if (in.size() > std::numeric_limits<int>::max()) throw UsageError("flattened size is too large");
  this->in_ = in;
  this->out_ = Dims{static_cast<int>(in.size()), 1, 1};
  return this->out_;
}

template <class T>
void Flatten<T>::forward(const T* x, T* y, int n, Mode) {
  std::copy(x, x + static_cast<std::ptrdiff_t>(n) * this->in_.size(), y);
}

template <class T>
void Flatten<T>::backward(const T*, const T*, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(n) * this->in_.size();
  for (std::ptrdiff_t i = 0; i < total; ++i) dx[i] += dy[i];
}

// ---- BatchNorm ---------------------------------------------------------------

template <class T>
BatchNorm<T>::BatchNorm(double eps, double momentum) : eps_(eps), momentum_(momentum) {
  if (!(eps > 0)) throw UsageError("batchnorm epsilon must be positive");
  if (!(momentum >= 0 && momentum <= 1))
    throw UsageError("batchnorm momentum must be between 0 and 1");
}

template <class T>
Dims BatchNorm<T>::setup(Dims in) {
  this->in_ = this->out_ = in;
  mean_.assign(in.c, 0.0);
  var_.assign(in.c, 0.0);
  inv_std_.assign(in.c, 0.0);
  return in;
}

template <class T>
std::size_t BatchNorm<T>::param_count() const {
  return 2 * static_cast<std::size_t>(this->in_.c);
}
template <class T>
std::size_t BatchNorm<T>::buffer_count() const {
  return 2 * static_cast<std::size_t>(this->in_.c);
}

template <class T>
std::vector<TensorInfo> BatchNorm<T>::param_tensors() const {
  const int c = this->in_.c;
  const auto cs = static_cast<std::size_t>(c);
  return {TensorInfo{"gamma", {c}, 0, cs, false}, TensorInfo{"beta", {c}, cs, cs, false}};
}

template <class T>
std::vector<TensorInfo> BatchNorm<T>::buffer_tensors() const {
  const int c = this->in_.c;
  const auto cs = static_cast<std::size_t>(c);
  return {TensorInfo{"running_mean", {c}, 0, cs, false},
          TensorInfo{"running_var", {c}, cs, cs, false}};
}

template <class T>
void BatchNorm<T>::initialize(Rng&, Init) {
  const int c = this->in_.c;
  std::fill(this->p_, this->p_ + c, T(1));
  std::fill(this->p_ + c, this->p_ + 2 * c, T(0));
  std::fill(this->b_, this->b_ + c, T(0));
  std::fill(this->b_ + c, this->b_ + 2 * c, T(1));
}

template <class T>
void BatchNorm<T>::forward(const T* x, T* y, int n, Mode mode) {
  const int C = this->in_.c;
  const std::int64_t hw = static_cast<std::int64_t>(this->in_.h) * this->in_.w;
  const std::int64_t m = static_cast<std::int64_t>(n) * hw;
  T* rmean = this->b_;
  T* rvar = this->b_ + C;
  last_mode_ = mode;
  const std::int64_t cs = static_cast<std::int64_t>(C) * hw;  // one sample
  if (mode == Mode::train) {
    if (m < 2)
      throw UsageError("batchnorm in training needs at least 2 values per channel (batch of " +
                       std::to_string(n) + ")");
    parallel_for(0, C, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      for (std::ptrdiff_t j = lo; j < hi; ++j) {
        // Two passes (mean, then squared deviations) as batch_statistics
        // does, over contiguous runs, summed in chunks (lane_sum).
        const T* __restrict xj = x + j * hw;
        const double mu =
            lane_sum<T>(n, hw, cs, [&](std::int64_t i) { return xj[i]; }) / static_cast<double>(m);
        const T mu_t = static_cast<T>(mu);
        const double var = lane_sum<T>(n, hw, cs,
                                       [&](std::int64_t i) {
                                         const T d = xj[i] - mu_t;
                                         return d * d;
                                       }) /
                           static_cast<double>(m);
        mean_[j] = mu;
        var_[j] = var;
        normalize_channel(x, y, j, n, hw, C);
      }
    });
    if (!frozen_) update_running_stats(mean_.data(), var_.data(), m);
  } else {
    for (int j = 0; j < C; ++j) {
      mean_[j] = rmean[j];
      var_[j] = rvar[j];
    }
    parallel_for(0, C, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      for (std::ptrdiff_t j = lo; j < hi; ++j) normalize_channel(x, y, j, n, hw, C);
    });
  }
}

template <class T>
void BatchNorm<T>::update_running_stats(const double* mean, const double* var, std::int64_t count) {
  const int C = this->in_.c;
  T* rmean = this->b_;
  T* rvar = this->b_ + C;
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  for (int j = 0; j < C; ++j) {
    rmean[j] = static_cast<T>((1 - momentum_) * rmean[j] + momentum_ * mean[j]);
    rvar[j] = static_cast<T>((1 - momentum_) * rvar[j] + momentum_ * var[j] * unbias);
  }
}

// xhat = (x - mean) / sqrt(var + eps) as x * scale + shift in T, from
// mean_[j] and inv_std_[j]: forward and backward compute the same values, so
// backward recomputes xhat from x rather than forward storing it.
template <class T>
std::pair<T, T> BatchNorm<T>::xhat_coeffs(std::int64_t j) const {
  return {static_cast<T>(inv_std_[j]), static_cast<T>(-mean_[j] * inv_std_[j])};
}

// y = gamma xhat + beta for channel j, from mean_[j] and var_[j]; sets
// inv_std_[j].
template <class T>
void BatchNorm<T>::normalize_channel(const T* x, T* y, std::int64_t j, int n, std::int64_t hw,
                                     int C) {
  inv_std_[j] = 1.0 / std::sqrt(var_[j] + eps_);
  const auto [scale, shift] = xhat_coeffs(j);
  const T g = this->p_[j], b = this->p_[C + j];
  for (int s = 0; s < n; ++s) {
    const std::int64_t off = (static_cast<std::int64_t>(s) * C + j) * hw;
    const T* __restrict xs = x + off;
    T* __restrict ys = y + off;
    for (std::int64_t k = 0; k < hw; ++k) ys[k] = g * (xs[k] * scale + shift) + b;
  }
}

template <class T>
void BatchNorm<T>::backward(const T* x, const T*, const T* dy, T* dx, int n) {
  const int C = this->in_.c;
  const std::int64_t hw = static_cast<std::int64_t>(this->in_.h) * this->in_.w;
  const std::int64_t cs = static_cast<std::int64_t>(C) * hw;
  const double m = static_cast<double>(n) * static_cast<double>(hw);
  const T* gamma = this->p_;
  T* dgamma = this->g_;
  T* dbeta = this->g_ + C;
  const bool train = last_mode_ == Mode::train;
  parallel_for(0, C, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t j = lo; j < hi; ++j) {
      // sum dy and sum dy * xhat over the channel's m samples.
      // Named copies, not a structured binding: clang does not let a lambda
      // capture structured bindings before C++20's P1091 support.
      const std::pair<T, T> coeffs = xhat_coeffs(j);
      const T hs = coeffs.first, hb = coeffs.second;
      const T* __restrict dj = dy + j * hw;
      const T* __restrict xj = x + j * hw;
      const double sdy = lane_sum<T>(n, hw, cs, [&](std::int64_t i) { return dj[i]; });
      const double sdyx =
          lane_sum<T>(n, hw, cs, [&](std::int64_t i) { return dj[i] * (xj[i] * hs + hb); });
      dgamma[j] += static_cast<T>(sdyx);
      dbeta[j] += static_cast<T>(sdy);
      if (!dx) continue;
      const double scale = static_cast<double>(gamma[j]) * inv_std_[j];
      // Eq. (34): dx = gamma/sqrt(var+eps) (dy - mean(dy) - xhat mean(dy xhat)).
      // In eval mode the statistics are constants: dx = gamma/sqrt(var+eps) dy.
      const double mdy = train ? sdy / m : 0.0;
      const double mdyx = train ? sdyx / m : 0.0;
      // dx = a dy + b xhat + c (backward_assigns), the per-element work in T.
      const T a = static_cast<T>(scale), b = static_cast<T>(-scale * mdyx),
              c = static_cast<T>(-scale * mdy);
      for (int s = 0; s < n; ++s) {
        const T* __restrict d = dy + s * cs + j * hw;
        const T* __restrict xs = x + s * cs + j * hw;
        T* __restrict o = dx + s * cs + j * hw;
        for (std::int64_t k = 0; k < hw; ++k) o[k] = a * d[k] + b * (xs[k] * hs + hb) + c;
      }
    }
  });
}

// ---- Dropout -----------------------------------------------------------------

template <class T>
Dropout<T>::Dropout(double p, bool spatial, std::uint64_t seed)
    : p_(p), spatial_(spatial), rng_(seed) {
  if (!(p >= 0 && p < 1))
    throw UsageError("dropout probability must be at least 0 and below 1 (got " +
                     std::to_string(p) + ")");
}

template <class T>
Dims Dropout<T>::setup(Dims in) {
  this->in_ = this->out_ = in;
  return in;
}

template <class T>
void Dropout<T>::forward(const T* x, T* y, int n, Mode mode) {
  last_mode_ = mode;
  const std::int64_t size = this->in_.size();
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(n) * size;
  if (mode == Mode::eval) {
    std::copy(x, x + total, y);
    return;
  }
  if (!fixed_ || static_cast<std::ptrdiff_t>(mask_.size()) != total) {
    mask_.resize(static_cast<std::size_t>(total));
    const T keep = static_cast<T>(1.0 / (1.0 - p_));
    if (spatial_) {
      const std::int64_t hw = static_cast<std::int64_t>(this->in_.h) * this->in_.w;
      const std::int64_t planes = static_cast<std::int64_t>(n) * this->in_.c;
      for (std::int64_t q = 0; q < planes; ++q) {
        const T v = rng_.uniform() < p_ ? T(0) : keep;
        std::fill(mask_.begin() + q * hw, mask_.begin() + (q + 1) * hw, v);
      }
    } else {
      for (std::ptrdiff_t i = 0; i < total; ++i) mask_[i] = rng_.uniform() < p_ ? T(0) : keep;
    }
  }
  for (std::ptrdiff_t i = 0; i < total; ++i) y[i] = x[i] * mask_[i];
}

template <class T>
void Dropout<T>::backward(const T*, const T*, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::ptrdiff_t total = static_cast<std::ptrdiff_t>(n) * this->in_.size();
  if (last_mode_ == Mode::eval) {
    for (std::ptrdiff_t i = 0; i < total; ++i) dx[i] += dy[i];
  } else {
    for (std::ptrdiff_t i = 0; i < total; ++i) dx[i] += dy[i] * mask_[i];
  }
}

// ---- Softmax -----------------------------------------------------------------

template <class T>
Dims Softmax<T>::setup(Dims in) {
  this->in_ = this->out_ = in;
  return in;
}

template <class T>
void Softmax<T>::forward(const T* x, T* y, int n, Mode) {
  const std::int64_t k = this->in_.size();
  for (int i = 0; i < n; ++i) {
    const T* z = x + i * k;
    T* p = y + i * k;
    const T mx = *std::max_element(z, z + k);
    double s = 0;
    for (std::int64_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j] - mx));
    for (std::int64_t j = 0; j < k; ++j)
      p[j] = static_cast<T>(std::exp(static_cast<double>(z[j] - mx)) / s);
  }
}

template <class T>
void Softmax<T>::backward(const T*, const T* y, const T* dy, T* dx, int n) {
  if (!dx) return;
  const std::int64_t k = this->in_.size();
  for (int i = 0; i < n; ++i) {
    const T* p = y + i * k;
    const T* d = dy + i * k;
    double dot = 0;
    for (std::int64_t j = 0; j < k; ++j) dot += static_cast<double>(d[j]) * p[j];
    for (std::int64_t j = 0; j < k; ++j)
      dx[i * k + j] += static_cast<T>(p[j] * (static_cast<double>(d[j]) - dot));
  }
}

template <class T>
double softmax_cross_entropy(const T* logits, const int* labels, int n, int k, T* dlogits,
                             double smoothing) {
  if (n < 1 || k < 1) throw UsageError("cross-entropy needs at least one sample and one class");
  if (!(smoothing >= 0 && smoothing < 1))
    throw UsageError("label smoothing must be in [0, 1), not " + std::to_string(smoothing));
  const double on = 1.0 - smoothing, off = smoothing / k;
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const int label = labels[i];
    if (label < 0 || label >= k)
      throw UsageError("label " + std::to_string(label) + " of sample " + std::to_string(i) +
                       " is outside 0.." + std::to_string(k - 1));
    const T* z = logits + static_cast<std::ptrdiff_t>(i) * k;
    const double mx = static_cast<double>(*std::max_element(z, z + k));
    double s = 0;
    for (int j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j]) - mx);
    const double lse = std::log(s);
    if (smoothing > 0) {
      // -sum_j t_j log p_j with t = (1 - e) onehot + e / k, sum_j t_j = 1.
      double zs = 0;
      for (int j = 0; j < k; ++j) zs += static_cast<double>(z[j]) - mx;
      total += lse - on * (static_cast<double>(z[label]) - mx) - off * zs;
    } else {
      total += lse - (static_cast<double>(z[label]) - mx);
    }
    if (dlogits) {
      T* d = dlogits + static_cast<std::ptrdiff_t>(i) * k;
      for (int j = 0; j < k; ++j) {
        const double p = std::exp(static_cast<double>(z[j]) - mx - lse);
        const double t = smoothing > 0 ? (j == label ? on : 0.0) + off : (j == label ? 1.0 : 0.0);
        d[j] = static_cast<T>((p - t) / n);
      }
    }
  }
  return total / n;
}

#define CONVKIT_INSTANTIATE_LAYERS(T) \
  template class Conv2d<T>;           \
  template class Linear<T>;           \
  template class ReLU<T>;             \
  template class Pool2d<T>;           \
  template class GlobalAvgPool<T>;    \
  template class Flatten<T>;          \
  template class BatchNorm<T>;        \
  template class Dropout<T>;          \
  template class Softmax<T>;          \
  template double softmax_cross_entropy<T>(const T*, const int*, int, int, T*, double);

CONVKIT_INSTANTIATE_LAYERS(float)
CONVKIT_INSTANTIATE_LAYERS(double)

}  // namespace convkit::nn

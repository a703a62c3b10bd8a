// convkit/nn/layers.hpp — neural-network layers: forward/backward pairs.
//
// Layout: every activation is N x C x H x W, row-major and contiguous; a
// vector activation (after FLATTEN / FC) is N x C x 1 x 1.  T is float for
// training and double for the gradient checks in the tests.
//
// The contract shared by every layer (llm.c style):
//   setup(in)         fixes the per-sample input shape and returns the output
//                     shape; throws UsageError for impossible geometry.
//   bind(p, g, buf)   points the layer at its slices of the model's single
//                     parameter buffer, gradient buffer and buffer of
//                     non-trained state (batchnorm running statistics).
//   forward(x, y, n, mode)
//                     requires: x holds n samples of the input shape, y room
//                     for n outputs (x and y never alias).
//                     ensures: y = f(x); saves what backward needs (batchnorm's
//                     mean and inverse std, dropout's mask, max-pool's
//                     winners).
//   backward(x, y, dy, dx, n)
//                     requires: the forward call before it was on this x.
//                     ensures: dx += dL/dx (dx may be nullptr: not wanted) and
//                     every parameter gradient += dL/dparam.  Nothing is ever
//                     zeroed by backward; zeroing is separate (Sequential::zero_grad).
//                     Layers with backward_assigns() set dx = dL/dx instead.
//                     Conv2d and average Pool2d bound with grads == nullptr compute
//                     dx only and read neither x nor y (receptive-field probes).
// Mode::train vs Mode::eval only matters to batchnorm and dropout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/engine_nn.hpp"
#include "convkit/random.hpp"

namespace convkit::nn {

enum class Mode { train, eval };

/// Per-sample shape of an activation: channels x height x width.
struct Dims {
  int c = 0, h = 0, w = 0;
  std::int64_t size() const { return static_cast<std::int64_t>(c) * h * w; }
  friend bool operator==(const Dims&, const Dims&) = default;
};

/// A named tensor inside the model's flat buffers (for checkpoints).
struct TensorInfo {
  std::string name;        ///< e.g. "3.conv.weight"
  std::vector<int> shape;  ///< e.g. {F, C, KH, KW}
  std::size_t offset = 0;  ///< into params()/grads() or buffers()
  std::size_t size = 0;
  bool decay = true;  ///< weight decay applies (weights yes, biases and BN no)
};

/// Weight initialization.
///   he       normal, standard deviation sqrt(2 / fan_in); biases 0
///   xavier   uniform in +-sqrt(6 / (fan_in + fan_out)); biases 0
///   uniform  uniform in +-1/sqrt(fan_in) for weights and biases (PyTorch's
///            default for Conv2d and Linear)
enum class Init { he, xavier, uniform };
/// "he", "xavier" or "uniform"; parse_init throws UsageError listing them.
std::string_view to_string(Init init);
Init parse_init(std::string_view name);

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;
  /// Short kind name: "conv", "fc", "bn", ...
  virtual std::string kind() const = 0;
  virtual Dims setup(Dims in) = 0;
  Dims input_dims() const { return in_; }
  Dims output_dims() const { return out_; }
  /// Number of trained parameters and of non-trained state values.
  virtual std::size_t param_count() const { return 0; }
  virtual std::size_t buffer_count() const { return 0; }
  /// The tensors inside this layer's slices (offsets relative to the slice).
  virtual std::vector<TensorInfo> param_tensors() const { return {}; }
  virtual std::vector<TensorInfo> buffer_tensors() const { return {}; }
  void bind(T* params, T* grads, T* buffers) {
    p_ = params;
    g_ = grads;
    b_ = buffers;
  }
  /// Initial values: weights (and, for Init::uniform, biases) by `init` from rng,
  /// other biases 0, BN gamma 1 / beta 0,
  /// running mean 0 / variance 1.
  virtual void initialize(Rng& /*rng*/, Init /*init*/) {}
  virtual void forward(const T* x, T* y, int n, Mode mode) = 0;
  virtual void backward(const T* x, const T* y, const T* dy, T* dx, int n) = 0;
  /// True for layers whose backward sets every element of dx (dx = ...)
  /// instead of adding to it, so the caller need not clear dx first (ReLU,
  /// batchnorm: saves a pass over a batch's activations).
  virtual bool backward_assigns() const { return false; }

 protected:
  Dims in_, out_;
  T* p_ = nullptr;
  T* g_ = nullptr;
  T* b_ = nullptr;
};

/// Multi-channel 2D convolution (cross-correlation, as in deep-learning
/// frameworks) with bias, on the engine (engine_nn.hpp: im2col + GEMM).
/// Parameters: weight F x C x K x K, then bias F.
/// Output H' = floor((H + pad.top + pad.bottom - K) / stride) + 1 (plan());
/// the int-pad constructor pads `pad` on every side.  Padded samples follow
/// `border` (zero, circular, reflect, ...).
/// Throws UsageError when filters < 1, kernel < 1, stride < 1, or a padding
/// amount is negative or >= kernel.
template <class T>
class Conv2d : public Layer<T> {
 public:
  Conv2d(int filters, int kernel, int stride, int pad, Border border)
      : Conv2d(filters, kernel, stride, Padding{pad, pad, pad, pad}, border) {}
  Conv2d(int filters, int kernel, int stride, Padding pad, Border border);
  std::string kind() const override { return "conv"; }
  Dims setup(Dims in) override;
  std::size_t param_count() const override;
  std::vector<TensorInfo> param_tensors() const override;
  void initialize(Rng& rng, Init init) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
  const ConvGeometry& geometry() const { return g_geom_; }

 private:
  int filters_, kernel_, stride_;
  Padding pad_;
  Border border_;
  ConvGeometry g_geom_;
};

/// Fully connected: y[n] = W x[n] + b, W is units x inputs (inputs = C*H*W of
/// the input, which is read as a flat vector).  Parameters: W, then b.
template <class T>
class Linear : public Layer<T> {
 public:
  explicit Linear(int units);
  std::string kind() const override { return "fc"; }
  Dims setup(Dims in) override;
  std::size_t param_count() const override;
  std::vector<TensorInfo> param_tensors() const override;
  void initialize(Rng& rng, Init init) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;

 private:
  int units_;
  int inputs_ = 0;
};

/// y = max(x, 0); dx += dy where x > 0.
template <class T>
class ReLU : public Layer<T> {
 public:
  std::string kind() const override { return "relu"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
  bool backward_assigns() const override { return true; }
};

/// Max or average pooling over K x K windows with a stride and zero-amount
/// padding (padded samples never win a max and are not counted in a mean).
/// Throws UsageError when kernel < 1, stride < 1, pad < 0 or pad >= kernel.
template <class T>
class Pool2d : public Layer<T> {
 public:
  Pool2d(bool max, int kernel, int stride, int pad);
  std::string kind() const override { return max_ ? "maxpool" : "avgpool"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
  const ConvGeometry& geometry() const { return geom_; }

 private:
  bool max_;
  int kernel_, stride_, pad_;
  ConvGeometry geom_;
  std::vector<std::int32_t> argmax_;
};

/// Global average pooling: C x H x W -> C x 1 x 1, the mean of each channel
/// (summed in double, so that the order of the values hardly ever matters).
template <class T>
class GlobalAvgPool : public Layer<T> {
 public:
  std::string kind() const override { return "gap"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
};

/// C x H x W -> (C*H*W) x 1 x 1; the data does not move.
template <class T>
class Flatten : public Layer<T> {
 public:
  std::string kind() const override { return "flatten"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
};

/// Batch normalization of each channel over the batch (and, for feature
/// maps, over all positions: "spatial batchnorm"); on a C x 1 x 1 input it is
/// the vector batchnorm of the seed's problem 1.  Parameters: gamma C, beta C.
/// Buffers: running mean C, running variance C.
///   train: y = gamma (x - mu_B) / sqrt(var_B + eps) + beta with the batch's
///          mean and biased variance (two passes in double, as
///          nn/batchnorm_math.hpp; xhat itself in T); then
///          running = (1 - momentum) running + momentum * batch value, the
///          variance entering unbiased (m / (m - 1)), as in PyTorch.
///   eval:  the same with the running mean and variance.
/// Backward (train), the seed's closed form (eq. 34), per channel j over its
/// m samples, with xhat = (x - mu) / sqrt(var + eps):
///   dx_i = gamma / sqrt(var + eps) * (dy_i - mean_k dy_k - xhat_i * mean_k(dy_k xhat_k))
///   dgamma += sum_i dy_i xhat_i,   dbeta += sum_i dy_i.
/// xhat is not stored: backward recomputes it from x, exactly as forward did.
/// Throws UsageError in train mode when a channel has fewer than 2 samples.
template <class T>
class BatchNorm : public Layer<T> {
 public:
  explicit BatchNorm(double eps = 1e-5, double momentum = 0.1);
  std::string kind() const override { return "bn"; }
  Dims setup(Dims in) override;
  std::size_t param_count() const override;
  std::size_t buffer_count() const override;
  std::vector<TensorInfo> param_tensors() const override;
  std::vector<TensorInfo> buffer_tensors() const override;
  void initialize(Rng& rng, Init init) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
  bool backward_assigns() const override { return true; }
  /// When frozen, train-mode forward leaves the running statistics alone
  /// (used by gradient checks, which call forward many times).
  void freeze_running_stats(bool f) { frozen_ = f; }
  /// Per-channel mean and (biased) variance of the last train-mode forward.
  const std::vector<double>& batch_mean() const { return mean_; }
  const std::vector<double>& batch_var() const { return var_; }
  /// The running-statistics update of a train-mode forward over `count`
  /// values per channel with these statistics (what forward does unless
  /// frozen; data-parallel training replays it in a fixed order).
  void update_running_stats(const double* mean, const double* var, std::int64_t count);

 private:
  double eps_, momentum_;
  bool frozen_ = false;
  Mode last_mode_ = Mode::train;
  std::pair<T, T> xhat_coeffs(std::int64_t j) const;
  void normalize_channel(const T* x, T* y, std::int64_t j, int n, std::int64_t hw, int C);
  std::vector<double> mean_, var_, inv_std_;
};

/// Inverted dropout with drop probability p: in train mode each element
/// (spatial: each whole channel of each sample) is kept with probability
/// 1 - p and scaled by 1 / (1 - p); eval mode is the identity.  The mask
/// (0 or 1/(1-p) per element) is kept for backward: dx += dy * mask.
/// Throws UsageError unless 0 <= p < 1.
template <class T>
class Dropout : public Layer<T> {
 public:
  Dropout(double p, bool spatial, std::uint64_t seed);
  std::string kind() const override { return spatial_ ? "spatial-dropout" : "dropout"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
  /// When fixed, train-mode forward reuses the current mask instead of
  /// drawing a new one (gradient checks); the mask must match the batch.
  void fix_mask(bool f) { fixed_ = f; }
  const std::vector<T>& mask() const { return mask_; }
  std::vector<T>& mask() { return mask_; }
  void reseed(std::uint64_t seed) { rng_.seed(seed); }

 private:
  double p_;
  bool spatial_;
  bool fixed_ = false;
  Mode last_mode_ = Mode::train;
  Rng rng_;
  std::vector<T> mask_;
};

/// Softmax over the C*H*W values of each sample (numerically stable: the
/// maximum is subtracted first).  dx += y * (dy - sum(dy * y)).
template <class T>
class Softmax : public Layer<T> {
 public:
  std::string kind() const override { return "softmax"; }
  Dims setup(Dims in) override;
  void forward(const T* x, T* y, int n, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, T* dx, int n) override;
};

/// Mean softmax cross-entropy of n rows of k logits against integer labels:
///   L = -1/n sum_i log softmax(z_i)[label_i],  computed as
///   log sum_j exp(z_ij - max_i) - (z_i,label - max_i)  (stable).
/// When dlogits is not nullptr it receives (overwritten) dL/dz = (softmax - onehot) / n.
/// With label smoothing e > 0 the target is t = (1 - e) onehot + e / k:
///   L = -1/n sum_i sum_j t_ij log softmax(z_i)_j,  dL/dz = (softmax - t) / n.
/// Throws UsageError for a label outside [0, k) or e outside [0, 1).
template <class T>
double softmax_cross_entropy(const T* logits, const int* labels, int n, int k, T* dlogits,
                             double smoothing = 0.0);

}  // namespace convkit::nn

// convkit/nn/model.hpp — a Sequential model built from the architecture
// language (arch.hpp), with all parameters in one flat buffer.
//
//   Sequential<float> model(parse_arch("CONV3-32 BN ReLU POOL2 FLATTEN FC-10"),
//                           nn::Dims{1, 28, 28}, {.seed = 1});
//   model.zero_grad();
//   const float* logits = model.forward(x, n, nn::Mode::train);
//   double loss = model.loss(labels);   // softmax cross-entropy, sets dL/dlogits
//   model.backward();                   // grads() += dL/dparams
//   optimizer.step(model.params(), model.grads(), lr);
//
// Layer mapping: CONVk-f -> Conv2d (filters f required; stride, padding and
// border from the spec); POOLk / MAXPOOLk -> max Pool2d, AVGPOOLk -> average
// Pool2d; GAP; FLATTEN; FC-n -> Linear; ReLU; BN -> BatchNorm (spatial on
// feature maps, vector after FLATTEN/FC); DROPOUTp -> Dropout; SOFTMAX ->
// Softmax.  loss() works on the logits: when the last layer is SOFTMAX, on
// its input (the fused, stable softmax cross-entropy) and backward() starts
// below it.
//
// Parameter and buffer names are "<layer index>.<kind>.<tensor>", e.g.
// "0.conv.weight", "1.bn.running_var".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "convkit/arch.hpp"
#include "convkit/nn/layers.hpp"

namespace convkit::nn {

struct BuildOptions {
  std::uint64_t seed = 0;  ///< weights and dropout masks (each dropout layer: its own stream)
  Init init = Init::he;
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
};

template <class T>
class Sequential {
 public:
  /// Builds every layer for per-sample input `input` and initializes it.
  /// Throws UsageError naming the layer (text and column) when it cannot be
  /// built (e.g. a CONV without a filter count, a kernel larger than its input).
  Sequential(const Arch& arch, Dims input, const BuildOptions& opt = {});
  /// An empty model to which layers are added by hand; call finalize() after.
  Sequential() = default;
  void add(std::unique_ptr<Layer<T>> layer, std::string label = "");
  void finalize(Dims input, const BuildOptions& opt = {});

  Dims input_dims() const { return input_; }
  Dims output_dims() const;
  /// Per-sample output shape of layer i.
  Dims layer_output(std::size_t i) const { return layers_[i]->output_dims(); }
  std::size_t size() const { return layers_.size(); }
  Layer<T>& layer(std::size_t i) { return *layers_[i]; }

  /// Runs the layers; returns the last layer's output (n x output_dims()),
  /// valid until the next forward.  Throws UsageError for n < 1.
  const T* forward(const T* x, int n, Mode mode);
  /// Output of layer i from the last forward.
  const T* activation(std::size_t i) const { return acts_[i + 1].data(); }
  /// Mean softmax cross-entropy of the logits of the last forward against
  /// labels (n of them); stores dL/dlogits for backward().
  double loss(const int* labels);
  /// Label smoothing e of loss() (0: plain cross-entropy; see softmax_cross_entropy).
  void set_label_smoothing(double e) { smoothing_ = e; }
  double label_smoothing() const { return smoothing_; }
  /// Back-propagates the gradient stored by loss(): grads() += dL/dparams,
  /// and dL/dinput (input_grad()) unless want_input_grad is false (training
  /// needs no gradient of its images, and skips that last product).
  void backward(bool want_input_grad = true);
  /// Back-propagates a given gradient of the last layer's output (n x
  /// output_dims()), through all layers; returns dL/dinput (n x input_dims()).
  const T* backward(const T* dy);
  /// dL/dinput from the last backward (n x input_dims()).
  const T* input_grad() const { return dacts_[0].data(); }

  std::span<T> params() { return params_; }
  std::span<T> grads() { return grads_; }
  std::span<T> buffers() { return buffers_; }
  std::span<const T> params() const { return params_; }
  std::span<const T> buffers() const { return buffers_; }
  std::vector<TensorInfo> param_tensors() const;
  std::vector<TensorInfo> buffer_tensors() const;
  /// Per-parameter weight-decay flags (1 for weights, 0 for biases and BN).
  std::vector<unsigned char> decay_mask() const;
  std::size_t layer_param_count(std::size_t i) const { return layers_[i]->param_count(); }
  void zero_grad();
  /// Re-seeds every dropout layer (e.g. once per epoch for reproducible resume).
  void reseed_dropout(std::uint64_t seed);

 private:
  void run_backward(std::size_t top, const T* dy, bool input_grad);
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<std::string> labels_;
  Dims input_;
  std::vector<T> params_, grads_, buffers_;
  std::vector<std::size_t> poff_, boff_;
  std::vector<std::vector<T>> acts_;   // acts_[0] = input copy, acts_[i+1] = output of layer i
  std::vector<std::vector<T>> dacts_;  // gradients, same indexing
  std::vector<T> dlogits_;
  int n_ = 0;
  bool softmax_last_ = false;
  double smoothing_ = 0.0;
};

/// The receptive field measured, not computed: builds the first `count`
/// layers of `arch` (all of them must keep a spatial map: CONV, pooling,
/// ReLU, BN, DROPOUT, SOFTMAX) with one input channel and one filter per convolution,
/// every weight 1 and bias 0, ReLU, dropout and batchnorm as the identity and
/// max-pooling replaced by average pooling over the same window (so no path
/// is silenced), then back-propagates a 1 from the output unit in the middle
/// of the last map, (out_h / 2, out_w / 2), and returns the height and width
/// of the bounding box of the non-zero input gradient.  The input (square,
/// starting at max(8, min_size)) is doubled until the field stays off its
/// outermost rows and columns (so it is neither clipped by the border nor
/// wrapped around a circular padding).  Throws UsageError when the field
/// does not fit a kMaxProbeSize input, when more than kMaxProbeLayers
/// convolution/pooling layers are involved, or when a layer is not spatial.
struct FieldSize {
  int height = 0, width = 0;
};
inline constexpr int kMaxProbeSize = 1024;
inline constexpr std::size_t kMaxProbeLayers = 64;
FieldSize empirical_receptive_field(const Arch& arch, std::size_t count, int min_size = 8);

}  // namespace convkit::nn

// Sequential model and the empirical receptive field (nn/model.hpp).
#include "convkit/nn/model.hpp"

#include <algorithm>
#include <string>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "convkit/random.hpp"

namespace convkit::nn {

namespace {

std::string where(const LayerSpec& s) {
  return "layer '" + s.text + "' (column " + std::to_string(s.column) + ")";
}

template <class T>
std::unique_ptr<Layer<T>> make_layer(const LayerSpec& s, const BuildOptions& opt,
                                     std::uint64_t dropout_seed) {
  switch (s.kind) {
    case LayerKind::conv:
      if (s.filters < 1)
        throw UsageError(where(s) + ": a convolution needs a filter count to be built, e.g. CONV" +
                         std::to_string(s.kernel) + "-16");
      return std::make_unique<Conv2d<T>>(s.filters, s.kernel, s.stride, s.padding(), s.border);
    case LayerKind::maxpool:
      return std::make_unique<Pool2d<T>>(true, s.kernel, s.stride, s.pad);
    case LayerKind::avgpool:
      return std::make_unique<Pool2d<T>>(false, s.kernel, s.stride, s.pad);
    case LayerKind::flatten:
      return std::make_unique<Flatten<T>>();
    case LayerKind::fc:
      return std::make_unique<Linear<T>>(s.filters);
    case LayerKind::relu:
      return std::make_unique<ReLU<T>>();
    case LayerKind::gap:
      return std::make_unique<GlobalAvgPool<T>>();
    case LayerKind::batchnorm:
      return std::make_unique<BatchNorm<T>>(opt.bn_eps, opt.bn_momentum);
    case LayerKind::dropout:
      return std::make_unique<Dropout<T>>(s.rate, false, dropout_seed);
    case LayerKind::softmax:
      return std::make_unique<Softmax<T>>();
  }
  throw UsageError(where(s) + ": unknown layer kind");
}

// Independent streams per dropout layer: output i + 1 of splitmix64 from seed.
std::uint64_t mix(std::uint64_t seed, std::uint64_t i) {
  return splitmix64_at(seed, i + 1);
}

}  // namespace

template <class T>
Sequential<T>::Sequential(const Arch& arch, Dims input, const BuildOptions& opt) {
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& s = arch.layers[i];
    try {
      add(make_layer<T>(s, opt, mix(opt.seed ^ 0xD509, i)), s.text);
    } catch (const UsageError& e) {
      const std::string msg = e.what();
      if (msg.rfind("layer '", 0) == 0) throw;
      throw UsageError(where(s) + ": " + msg);
    }
  }
  // Shape errors name the layer too.
  Dims d = input;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    try {
      d = layers_[i]->setup(d);
    } catch (const UsageError& e) {
      throw UsageError(where(arch.layers[i]) + ": " + e.what());
    }
  }
  finalize(input, opt);
}

template <class T>
void Sequential<T>::add(std::unique_ptr<Layer<T>> layer, std::string label) {
  labels_.push_back(label.empty() ? layer->kind() : std::move(label));
  layers_.push_back(std::move(layer));
}

template <class T>
void Sequential<T>::finalize(Dims input, const BuildOptions& opt) {
  if (input.c < 1 || input.h < 1 || input.w < 1)
    throw UsageError("input shape must be at least 1x1x1");
  input_ = input;
  Dims d = input;
  std::size_t np = 0, nb = 0;
  poff_.clear();
  boff_.clear();
  for (auto& l : layers_) {
    d = l->setup(d);
    poff_.push_back(np);
    boff_.push_back(nb);
    np += l->param_count();
    nb += l->buffer_count();
  }
  params_.assign(np, T(0));
  grads_.assign(np, T(0));
  buffers_.assign(nb, T(0));
  Rng rng(opt.seed);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->bind(params_.data() + poff_[i], grads_.data() + poff_[i],
                     buffers_.data() + boff_[i]);
    layers_[i]->initialize(rng, opt.init);
  }
  softmax_last_ = !layers_.empty() && layers_.back()->kind() == "softmax";
  acts_.assign(layers_.size() + 1, {});
  dacts_.assign(layers_.size() + 1, {});
}

template <class T>
Dims Sequential<T>::output_dims() const {
  return layers_.empty() ? input_ : layers_.back()->output_dims();
}

template <class T>
const T* Sequential<T>::forward(const T* x, int n, Mode mode) {
  if (n < 1) throw UsageError("a batch needs at least one sample");
  n_ = n;
  acts_[0].assign(x, x + static_cast<std::ptrdiff_t>(n) * input_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    acts_[i + 1].resize(static_cast<std::size_t>(n) * layers_[i]->output_dims().size());
    layers_[i]->forward(acts_[i].data(), acts_[i + 1].data(), n, mode);
  }
  return acts_.back().data();
}

template <class T>
double Sequential<T>::loss(const int* labels) {
  if (n_ < 1) throw UsageError("loss() needs a forward pass first");
  const std::size_t top = softmax_last_ ? layers_.size() - 1 : layers_.size();
  const Dims d = top == 0 ? input_ : layers_[top - 1]->output_dims();
  const int k = static_cast<int>(d.size());
  dlogits_.resize(static_cast<std::size_t>(n_) * k);
  return softmax_cross_entropy<T>(acts_[top].data(), labels, n_, k, dlogits_.data(), smoothing_);
}

template <class T>
void Sequential<T>::backward(bool want_input_grad) {
  if (dlogits_.empty()) throw UsageError("backward() needs loss() first");
  const std::size_t top = softmax_last_ ? layers_.size() - 1 : layers_.size();
  run_backward(top, dlogits_.data(), want_input_grad);
}

template <class T>
const T* Sequential<T>::backward(const T* dy) {
  run_backward(layers_.size(), dy, true);
  return dacts_[0].data();
}

template <class T>
void Sequential<T>::run_backward(std::size_t top, const T* dy, bool input_grad) {
  // dacts_[i] = dL/d(input of layer i); layer `top-1` receives dy.
  const T* upstream = dy;
  for (std::size_t i = top; i-- > 0;) {
    if (i == 0 && !input_grad) {
      // Training needs no gradient of the images: layer 0 computes its
      // parameter gradients only.
      layers_[0]->backward(acts_[0].data(), acts_[1].data(), upstream, nullptr, n_);
      break;
    }
    std::vector<T>& dx = dacts_[i];
    dx.resize(static_cast<std::size_t>(n_) *
              (i == 0 ? input_ : layers_[i - 1]->output_dims()).size());
    // Most layers add into dx: clear it (split: it is a batch's activations).
    if (!layers_[i]->backward_assigns()) {
      T* d = dx.data();
      parallel_for(0, static_cast<std::ptrdiff_t>(dx.size()), 1 << 16,
                   [&](std::ptrdiff_t lo, std::ptrdiff_t hi) { std::fill(d + lo, d + hi, T(0)); });
    }
    layers_[i]->backward(acts_[i].data(), acts_[i + 1].data(), upstream, dx.data(), n_);
    upstream = dx.data();
  }
}

template <class T>
std::vector<TensorInfo> Sequential<T>::param_tensors() const {
  std::vector<TensorInfo> out;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (TensorInfo t : layers_[i]->param_tensors()) {
      t.name = std::to_string(i) + "." + layers_[i]->kind() + "." + t.name;
      t.offset += poff_[i];
      out.push_back(std::move(t));
    }
  return out;
}

template <class T>
std::vector<TensorInfo> Sequential<T>::buffer_tensors() const {
  std::vector<TensorInfo> out;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (TensorInfo t : layers_[i]->buffer_tensors()) {
      t.name = std::to_string(i) + "." + layers_[i]->kind() + "." + t.name;
      t.offset += boff_[i];
      out.push_back(std::move(t));
    }
  return out;
}

template <class T>
std::vector<unsigned char> Sequential<T>::decay_mask() const {
  std::vector<unsigned char> mask(params_.size(), 0);
  for (const TensorInfo& t : param_tensors())
    if (t.decay) std::fill(mask.begin() + t.offset, mask.begin() + t.offset + t.size, 1);
  return mask;
}

template <class T>
void Sequential<T>::zero_grad() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template <class T>
void Sequential<T>::reseed_dropout(std::uint64_t seed) {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (auto* d = dynamic_cast<Dropout<T>*>(layers_[i].get())) d->reseed(mix(seed ^ 0xD509, i));
}

template class Sequential<float>;
template class Sequential<double>;

// ---- empirical receptive field -----------------------------------------------

namespace {

bool probe_once(const Arch& arch, std::size_t count, int size, FieldSize& field) {
  std::vector<std::unique_ptr<Layer<double>>> net;
  for (std::size_t i = 0; i < count; ++i) {
    const LayerSpec& s = arch.layers[i];
    try {
      switch (s.kind) {
        case LayerKind::conv:
          net.push_back(
              std::make_unique<Conv2d<double>>(1, s.kernel, s.stride, s.padding(), s.border));
          break;
        case LayerKind::maxpool:
        case LayerKind::avgpool:
          net.push_back(std::make_unique<Pool2d<double>>(false, s.kernel, s.stride, s.pad));
          break;
        case LayerKind::relu:
        case LayerKind::batchnorm:
        case LayerKind::dropout:
        case LayerKind::softmax:
          break;  // the identity: no path silenced
        default:
          throw UsageError(
              "the receptive field is measured on spatial layers only (CONV, pooling, ReLU, BN, "
              "DROPOUT, SOFTMAX)");
      }
    } catch (const UsageError& e) {
      throw UsageError(where(s) + ": " + e.what());
    }
  }
  // Only the backward pass is needed: every layer left is linear, and its
  // input gradient does not depend on its input.  No parameter gradients.
  std::vector<std::vector<double>> params(net.size());
  Dims d{1, size, size};
  try {
    for (std::size_t i = 0; i < net.size(); ++i) {
      d = net[i]->setup(d);
      // Conv2d: weight (all ones), then one bias (zero).
      params[i].assign(net[i]->param_count(), 1.0);
      if (!params[i].empty()) params[i].back() = 0.0;
      net[i]->bind(params[i].data(), nullptr, nullptr);
    }
  } catch (const UsageError&) {
    return false;  // too small an input for this stack: try a larger one
  }
  std::vector<double> grad(static_cast<std::size_t>(d.size()), 0.0);
  grad[static_cast<std::size_t>(d.h / 2) * d.w + d.w / 2] = 1.0;
  for (std::size_t i = net.size(); i-- > 0;) {
    std::vector<double> below(static_cast<std::size_t>(net[i]->input_dims().size()), 0.0);
    net[i]->backward(nullptr, nullptr, grad.data(), below.data(), 1);
    grad.swap(below);
  }
  const double* dx = grad.data();
  int r0 = size, r1 = -1, c0 = size, c1 = -1;
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c)
      if (dx[static_cast<std::size_t>(r) * size + c] != 0.0) {
        r0 = std::min(r0, r);
        r1 = std::max(r1, r);
        c0 = std::min(c0, c);
        c1 = std::max(c1, c);
      }
  if (r1 < 0) throw Error("the receptive-field probe found no path to the input");
  field.height = r1 - r0 + 1;
  field.width = c1 - c0 + 1;
  // Not clipped by the border, and not wrapped around it (a wrapped field
  // reaches both edges): the bounding box stays off the outermost samples.
  return r0 >= 1 && c0 >= 1 && r1 <= size - 2 && c1 <= size - 2;
}

}  // namespace

FieldSize empirical_receptive_field(const Arch& arch, std::size_t count, int min_size) {
  if (count > arch.layers.size()) throw UsageError("receptive field: layer count out of range");
  std::size_t windows = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const LayerKind k = arch.layers[i].kind;
    if (k == LayerKind::conv || k == LayerKind::maxpool || k == LayerKind::avgpool) ++windows;
  }
  if (windows > kMaxProbeLayers)
    throw UsageError("the receptive field is measured for up to " +
                     std::to_string(kMaxProbeLayers) + " convolution/pooling layers (this has " +
                     std::to_string(windows) + ")");
  FieldSize field;
  for (int size = std::max(8, min_size); size <= kMaxProbeSize; size *= 2)
    if (probe_once(arch, count, size, field)) return field;
  throw UsageError("the receptive field is too large to measure (over " +
                   std::to_string(kMaxProbeSize - 2) + " samples)");
}

}  // namespace convkit::nn

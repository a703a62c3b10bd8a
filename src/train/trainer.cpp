// The training loop, evaluation and inference on a saved model.
#include "convkit/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "convkit/arch.hpp"
#include "convkit/engine_nn.hpp"
#include "convkit/error.hpp"
#include "convkit/nn/layers.hpp"
#include "convkit/nn/model.hpp"
#include "convkit/nn/optim.hpp"
#include "convkit/parallel.hpp"
#include "convkit/random.hpp"

namespace convkit {

namespace {

using Model = nn::Sequential<float>;

// An independent 64-bit stream seed from (seed, epoch, stream).
std::uint64_t mix(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
  return split_stream(seed, epoch, stream);
}

std::string fmt_double(double v) {
  char b[40];
  for (int p = 6; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

Model build_model(const std::string& arch, int c, int h, int w, std::uint64_t seed,
                  nn::Init init = nn::Init::he) {
  nn::BuildOptions opt;
  opt.seed = seed;
  opt.init = init;
  return Model(parse_arch(arch), nn::Dims{c, h, w}, opt);
}

void check_classes(const Model& m, int classes, const std::string& what) {
  const auto out = m.output_dims().size();
  if (out != classes)
    throw UsageError("the network ends with " + std::to_string(out) + " outputs but " + what +
                     " has " + std::to_string(classes) + " classes; end the SPEC with FC-" +
                     std::to_string(classes));
}

std::vector<NamedTensor> export_tensors(const std::vector<nn::TensorInfo>& infos,
                                        std::span<const float> buf) {
  std::vector<NamedTensor> out;
  for (const auto& t : infos) {
    NamedTensor n;
    n.name = t.name;
    n.shape.assign(t.shape.begin(), t.shape.end());
    n.data.assign(buf.begin() + static_cast<std::ptrdiff_t>(t.offset),
                  buf.begin() + static_cast<std::ptrdiff_t>(t.offset + t.size));
    out.push_back(std::move(n));
  }
  return out;
}

// Restore the model's parameters and buffers from the checkpoint, checking
// that names and shapes match one to one.
void import_tensors(Model& m, const Checkpoint& c, const std::string& source) {
  std::size_t used = 0;
  auto restore = [&](const std::vector<nn::TensorInfo>& infos, std::span<float> buf) {
    for (const auto& t : infos) {
      const NamedTensor* n = c.find(t.name);
      if (!n)
        throw Error(source + ": checkpoint has no tensor " + t.name + " for its architecture");
      if (!std::equal(n->shape.begin(), n->shape.end(), t.shape.begin(), t.shape.end()) ||
          n->data.size() != t.size)
        throw Error(source + ": tensor " + t.name + " in the checkpoint has the wrong shape");
      std::copy(n->data.begin(), n->data.end(),
                buf.begin() + static_cast<std::ptrdiff_t>(t.offset));
      ++used;
    }
  };
  restore(m.param_tensors(), m.params());
  restore(m.buffer_tensors(), m.buffers());
  if (used != c.tensors.size())
    throw Error(source + ": checkpoint holds " + std::to_string(c.tensors.size()) +
                " tensors but its architecture has " + std::to_string(used));
}

nn::LrSchedule make_schedule(const TrainConfig& cfg, std::int64_t per_epoch) {
  nn::LrSchedule s;
  s.kind = nn::parse_schedule(cfg.schedule);
  s.base = cfg.lr;
  s.gamma = cfg.gamma;
  s.step_size = std::max<std::int64_t>(1, cfg.step_epochs * per_epoch);
  s.total = std::max<std::int64_t>(1, cfg.epochs * per_epoch);
  s.warmup = cfg.warmup_epochs * per_epoch;
  return s;
}

std::vector<std::pair<std::string, std::string>> settings_of(const TrainConfig& cfg) {
  return {{"data", cfg.data},
          {"batch", std::to_string(cfg.batch)},
          {"lr", fmt_double(cfg.lr)},
          {"lr_auto", cfg.lr_auto ? "1" : "0"},
          {"optimizer", cfg.optimizer},
          {"momentum", fmt_double(cfg.momentum)},
          {"weight_decay", fmt_double(cfg.weight_decay)},
          {"nesterov", cfg.nesterov ? "1" : "0"},
          {"label_smoothing", fmt_double(cfg.label_smoothing)},
          {"ema", fmt_double(cfg.ema)},
          {"schedule", cfg.schedule},
          {"gamma", fmt_double(cfg.gamma)},
          {"step_epochs", std::to_string(cfg.step_epochs)},
          {"warmup_epochs", std::to_string(cfg.warmup_epochs)},
          {"seed", std::to_string(cfg.seed)},
          {"init", cfg.init},
          {"val_split", fmt_double(cfg.val_split)},
          {"crop_pad", std::to_string(cfg.augment.crop_pad)},
          {"hflip", cfg.augment.hflip ? "1" : "0"},
          {"epochs", std::to_string(cfg.epochs)},
          {"log", cfg.log},
          {"plot", cfg.plot},
          {"micro_batch", std::to_string(cfg.micro_batch)},
          {"precision", cfg.precision}};
}

int argmax(const float* v, int k) {
  return static_cast<int>(std::max_element(v, v + k) - v);
}
int argmax(const double* v, int k) {
  return static_cast<int>(std::max_element(v, v + k) - v);
}

bool ends_in_softmax(Model& m) {
  return m.size() > 0 && m.layer(m.size() - 1).kind() == "softmax";
}

// The mirror image (left-right) of every image of an n x C x H x W batch.
void mirror_batch(const float* x, std::size_t n, int c, int h, int w, float* out) {
  const std::size_t rows = n * static_cast<std::size_t>(c) * static_cast<std::size_t>(h);
  const std::size_t W = static_cast<std::size_t>(w);
  for (std::size_t r = 0; r < rows; ++r) std::reverse_copy(x + r * W, x + (r + 1) * W, out + r * W);
}

// Class probabilities of n rows of k outputs: the rows themselves when the
// network ends in SOFTMAX, else their softmax (stable).
void to_probabilities(const float* out, std::size_t n, int k, bool softmax_last, double* p) {
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = out + i * static_cast<std::size_t>(k);
    double* q = p + i * static_cast<std::size_t>(k);
    if (softmax_last) {
      for (int j = 0; j < k; ++j) q[j] = z[j];
      continue;
    }
    const double mx = *std::max_element(z, z + k);
    double s = 0;
    for (int j = 0; j < k; ++j) s += q[j] = std::exp(static_cast<double>(z[j]) - mx);
    for (int j = 0; j < k; ++j) q[j] /= s;
  }
}

// Probabilities of a batch already normalized (n x C x H x W in x), the mean
// over the image and its mirror image when tta_flip; `mirror` is scratch.
void batch_probabilities(Model& m, const float* x, std::size_t n, const nn::Dims& in, bool tta_flip,
                         std::vector<float>& mirror, std::vector<double>& p) {
  const int k = static_cast<int>(m.output_dims().size());
  const bool sm = ends_in_softmax(m);
  p.resize(n * static_cast<std::size_t>(k));
  to_probabilities(m.forward(x, static_cast<int>(n), nn::Mode::eval), n, k, sm, p.data());
  if (!tta_flip) return;
  mirror.resize(n * static_cast<std::size_t>(in.size()));
  mirror_batch(x, n, in.c, in.h, in.w, mirror.data());
  std::vector<double> q(p.size());
  to_probabilities(m.forward(mirror.data(), static_cast<int>(n), nn::Mode::eval), n, k, sm,
                   q.data());
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.5 * (p[i] + q[i]);
}

// Bytes of trivially copyable values, for the collectives.
template <class V>
void put(std::vector<std::byte>& out, const V* v, std::size_t n) {
  const auto* b = reinterpret_cast<const std::byte*>(v);
  out.insert(out.end(), b, b + n * sizeof(V));
}
template <class V>
V get(const std::byte*& p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

// The part [lo, hi) of `count` items (groups, chunks) that rank r of p does:
// contiguous, in rank order.
std::pair<std::size_t, std::size_t> share(std::size_t count, int r, int p) {
  return {count * static_cast<std::size_t>(r) / static_cast<std::size_t>(p),
          count * static_cast<std::size_t>(r + 1) / static_cast<std::size_t>(p)};
}

// Mean loss and accuracy of the model in eval mode over a whole set, in
// chunks of `batch` images shared out among the group's ranks; the chunks'
// sums are gathered and added in chunk order, so the result is the same for
// any number of ranks.
std::pair<double, double> evaluate(Model& m, const Dataset& d, const Normalization& norm, int batch,
                                   std::vector<std::vector<std::int64_t>>* confusion,
                                   const dist::Group& group, bool tta_flip = false) {
  const int k = static_cast<int>(m.output_dims().size());
  // The loss reported is the plain cross-entropy, whatever smoothing trains.
  const double smoothing = m.label_smoothing();
  m.set_label_smoothing(0.0);
  std::vector<float> mirror;
  std::vector<double> probs;
  std::vector<float> x(static_cast<std::size_t>(batch) * d.image_size());
  std::vector<std::int32_t> y(static_cast<std::size_t>(batch));
  std::vector<std::size_t> idx(static_cast<std::size_t>(batch));
  const std::size_t B = static_cast<std::size_t>(batch);
  const std::size_t chunks = (d.size() + B - 1) / B;
  std::vector<std::byte> mine, all;
  const auto [c0, c1] = share(chunks, group.rank(), group.size());
  for (std::size_t c = c0; c < c1; ++c) {
    const std::size_t start = c * B;
    const std::size_t n = std::min<std::size_t>(B, d.size() - start);
    for (std::size_t i = 0; i < n; ++i) idx[i] = start + i;
    make_batch(d, idx.data(), n, norm, {}, nullptr, x.data(), y.data());
    double loss = 0;
    std::int64_t correct = 0;
    auto count = [&](int i, int p) {
      correct += p == y[i];
      if (confusion) ++(*confusion)[y[i]][p];
    };
    if (tta_flip) {
      batch_probabilities(m, x.data(), n, m.input_dims(), true, mirror, probs);
      for (std::size_t i = 0; i < n; ++i) {
        const double* q = probs.data() + i * static_cast<std::size_t>(k);
        loss -= std::log(std::max(q[y[i]], std::numeric_limits<double>::min()));
        count(static_cast<int>(i), argmax(q, k));
      }
    } else {
      const float* out = m.forward(x.data(), static_cast<int>(n), nn::Mode::eval);
      loss = m.loss(y.data()) * static_cast<double>(n);
      for (std::size_t i = 0; i < n; ++i) count(static_cast<int>(i), argmax(out + i * k, k));
    }
    put(mine, &loss, 1);
    put(mine, &correct, 1);
  }
  constexpr std::size_t kRecord = sizeof(double) + sizeof(std::int64_t);
  std::vector<std::size_t> counts(static_cast<std::size_t>(group.size()));
  for (int r = 0; r < group.size(); ++r) {
    const auto [a, b] = share(chunks, r, group.size());
    counts[static_cast<std::size_t>(r)] = (b - a) * kRecord;
  }
  group.allgather(mine, counts, all);
  double loss = 0;
  std::size_t correct = 0;
  for (const std::byte* p = all.data(); p != all.data() + all.size();) {
    loss += get<double>(p);
    correct += static_cast<std::size_t>(get<std::int64_t>(p));
  }
  m.set_label_smoothing(smoothing);
  if (d.size() == 0) return {0.0, 0.0};
  return {loss / static_cast<double>(d.size()),
          static_cast<double>(correct) / static_cast<double>(d.size())};
}

// The range test of TrainConfig::lr_auto (trainer.hpp).  Every rank runs
// all of it on its own (same data, same arithmetic), so each finds the same
// rate; the model's weights and buffers are restored afterwards.
LrFinding find_learning_rate(Model& model, const nn::OptimizerConfig& ocfg,
                             const std::vector<unsigned char>& decay_mask, const Dataset& tr,
                             const Normalization& norm, int batch, std::uint64_t seed) {
  LrFinding f;
  constexpr int kSteps = 100;
  constexpr double kBeta = 0.9;
  constexpr int kSlope = 5;  // steps over which the slope is measured
  const std::vector<float> params(model.params().begin(), model.params().end());
  const std::vector<float> buffers(model.buffers().begin(), model.buffers().end());
  nn::Optimizer opt(ocfg, params.size());
  opt.set_decay_mask(decay_mask);
  std::vector<std::size_t> order(tr.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  DataRng rng(mix(seed, 0, 4));
  shuffle(order, rng);
  model.reseed_dropout(mix(seed, 0, 5));
  const std::size_t B = std::min<std::size_t>(static_cast<std::size_t>(batch), tr.size());
  std::vector<float> x(B * tr.image_size());
  std::vector<std::int32_t> y(B);
  std::vector<std::size_t> idx(B);
  double avg = 0, best = std::numeric_limits<double>::infinity();
  std::vector<double> lrs, smoothed;
  std::size_t next = 0;
  for (int i = 0; i < kSteps; ++i) {
    const double lr = f.from * std::pow(f.to / f.from, static_cast<double>(i) / (kSteps - 1));
    for (std::size_t k = 0; k < B; ++k, next = (next + 1) % order.size()) idx[k] = order[next];
    make_batch(tr, idx.data(), B, norm, {}, nullptr, x.data(), y.data());
    model.zero_grad();
    model.forward(x.data(), static_cast<int>(B), nn::Mode::train);
    const double loss = model.loss(y.data());
    f.steps = i + 1;
    if (!std::isfinite(loss)) break;
    avg = kBeta * avg + (1 - kBeta) * loss;
    const double smooth = avg / (1 - std::pow(kBeta, i + 1));
    if (smooth < best) {
      best = smooth;
      f.at_min = lr;
    }
    lrs.push_back(lr);
    smoothed.push_back(smooth);
    if (i >= 10 && smooth > 4 * best) break;
    model.backward(false);
    opt.step(model.params(), model.grads(), lr);
  }
  std::copy(params.begin(), params.end(), model.params().begin());
  std::copy(buffers.begin(), buffers.end(), model.buffers().begin());
  model.zero_grad();
  if (!(f.at_min > 0)) f.at_min = f.from;
  // The steepest fall of the smoothed loss over kSlope steps, after the
  // first 10 (where the average still settles).
  double fall = 0;
  f.steepest = f.at_min;
  for (std::size_t i = 10; i < smoothed.size(); ++i)
    if (smoothed[i] - smoothed[i - kSlope] < fall) {
      fall = smoothed[i] - smoothed[i - kSlope];
      f.steepest = lrs[i - kSlope / 2];
    }
  f.chosen = std::clamp(std::min(f.steepest, f.at_min / 10) / 2, 1e-5, 1.0);
  return f;
}

double to_double(const std::string& s, const std::string& key) {
  try {
    std::size_t pos = 0;
    const double v = std::stod(s, &pos);
    if (pos == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("checkpoint setting " + key + " has a bad value '" + s + "'");
}

int to_int(const std::string& s, const std::string& key) {
  const double v = to_double(s, key);
  if (!(v >= 0 && v <= 1e9) || v != static_cast<double>(static_cast<int>(v)))
    throw Error("checkpoint setting " + key + " has a bad value '" + s + "'");
  return static_cast<int>(v);
}

}  // namespace

TrainConfig config_from_checkpoint(const Checkpoint& c) {
  TrainConfig cfg;
  cfg.arch = c.arch;
  cfg.data = c.setting("data");
  cfg.batch = to_int(c.setting("batch", "64"), "batch");
  cfg.lr = to_double(c.setting("lr", "0.001"), "lr");
  // The rate the range test chose is in lr; a resumed run does not test again.
  cfg.lr_auto = c.setting("lr_auto", "0") == "1";
  cfg.optimizer = c.setting("optimizer", c.optimizer);
  cfg.momentum = to_double(c.setting("momentum", "0.9"), "momentum");
  cfg.weight_decay = to_double(c.setting("weight_decay", "0"), "weight_decay");
  cfg.nesterov = c.setting("nesterov", "0") == "1";
  cfg.label_smoothing = to_double(c.setting("label_smoothing", "0"), "label_smoothing");
  cfg.ema = to_double(c.setting("ema", "0"), "ema");
  if (!(cfg.label_smoothing >= 0 && cfg.label_smoothing < 1) || !(cfg.ema >= 0 && cfg.ema < 1))
    throw Error("checkpoint settings label_smoothing and ema must be in [0, 1)");
  cfg.schedule = c.setting("schedule", "constant");
  cfg.gamma = to_double(c.setting("gamma", "0.1"), "gamma");
  cfg.step_epochs = to_int(c.setting("step_epochs", "10"), "step_epochs");
  cfg.warmup_epochs = to_int(c.setting("warmup_epochs", "0"), "warmup_epochs");
  try {
    cfg.seed = static_cast<std::uint64_t>(std::stoull(c.setting("seed", "1")));
  } catch (const std::exception&) {
    throw Error("checkpoint setting seed has a bad value");
  }
  cfg.val_split = to_double(c.setting("val_split", "0.1"), "val_split");
  cfg.augment.crop_pad = to_int(c.setting("crop_pad", "0"), "crop_pad");
  cfg.augment.hflip = c.setting("hflip", "0") == "1";
  cfg.epochs = to_int(c.setting("epochs", "1"), "epochs");
  cfg.init = c.setting("init", "he");
  cfg.log = c.setting("log");
  cfg.plot = c.setting("plot");
  // Checkpoints written before micro-groups computed each batch as one group.
  cfg.micro_batch = to_int(c.setting("micro_batch", "0"), "micro_batch");
  if (cfg.batch < 1) throw Error("checkpoint setting batch must be at least 1");
  // Checkpoints written before the setting existed were trained in fp32.
  cfg.precision = c.setting("precision", "fp32");
  if (cfg.precision != "fp32" && cfg.precision != "bf16")
    throw Error("checkpoint setting precision has a bad value '" + cfg.precision + "'");
  return cfg;
}

Checkpoint train_model(const TrainConfig& config, const DataSource& source,
                       const Checkpoint* resume, const std::string& checkpoint_path,
                       const std::string& log_path, const TrainHooks& hooks) {
  TrainConfig cfg = config;         // lr_auto sets lr
  const FlushDenormalsScope flush;  // see parallel.hpp: the same in eval and predict
  const dist::Group& group = hooks.group ? *hooks.group : dist::local();
  const bool lead = group.rank() == 0;
  if (cfg.micro_batch < 0) throw UsageError(param("micro_batch") + " must not be negative");
  if (cfg.epochs < 1) throw UsageError(param("epochs") + " must be at least 1");
  if (cfg.batch < 1) throw UsageError(param("batch") + " must be at least 1");
  if (!cfg.lr_auto && (!(cfg.lr > 0) || !std::isfinite(cfg.lr)))
    throw UsageError(param("lr") + " must be positive");
  const Dataset& all = source.train;
  if (all.size() < 2) throw Error(source.name + ": the training part holds fewer than 2 images");
  Split split = split_validation(all, cfg.val_split, cfg.seed);
  const Dataset& tr = split.train;
  const Dataset& val = split.val;
  if (tr.size() < 2) throw UsageError(param("val_split") + " leaves fewer than 2 training images");

  Model model = build_model(cfg.arch, all.channels, all.height, all.width, cfg.seed,
                            nn::parse_init(cfg.init));
  check_classes(model, all.num_classes(), source.name);

  nn::OptimizerConfig ocfg;
  ocfg.kind = nn::parse_optimizer(cfg.optimizer);
  ocfg.momentum = ocfg.kind == nn::OptimizerKind::sgd ? cfg.momentum : 0.0;
  ocfg.weight_decay = cfg.weight_decay;
  if (cfg.nesterov && ocfg.kind != nn::OptimizerKind::sgd)
    throw UsageError(param("nesterov") + " is a variant of SGD momentum: give it with " +
                     param("optimizer") + " sgd");
  if (cfg.nesterov && !(ocfg.momentum > 0))
    throw UsageError(param("nesterov") + " needs " + param("momentum") + " above 0");
  ocfg.nesterov = cfg.nesterov;
  if (!(cfg.label_smoothing >= 0 && cfg.label_smoothing < 1))
    throw UsageError(param("label_smoothing") + " must be from 0 to less than 1");
  if (!(cfg.ema >= 0 && cfg.ema < 1))
    throw UsageError(param("ema") + " must be from 0 to less than 1");
  model.set_label_smoothing(cfg.label_smoothing);
  // The training steps' matrix products (the range test's too).
  const MatmulPrecisionScope precision(parse_matmul_precision(cfg.precision, "--precision"));
  nn::Optimizer opt(ocfg, model.params().size());
  opt.set_decay_mask(model.decay_mask());

  const int B = cfg.batch;
  const std::size_t rem = tr.size() % static_cast<std::size_t>(B);
  // A last batch of one image would make batchnorm's variance meaningless: drop it.
  const std::size_t usable = rem == 1 ? tr.size() - 1 : tr.size();
  const std::int64_t per_epoch = static_cast<std::int64_t>((usable + B - 1) / B);

  // The weights' moving average (cfg.ema > 0): parameters and buffers.
  std::vector<float> ema_params, ema_buffers;
  Checkpoint ck;
  ck.arch = cfg.arch;
  ck.in_channels = all.channels;
  ck.in_height = all.height;
  ck.in_width = all.width;
  ck.class_names = all.class_names;
  ck.optimizer = cfg.optimizer;
  ck.settings = settings_of(cfg);
  Normalization norm;
  if (resume) {
    if (resume->in_channels != all.channels || resume->in_height != all.height ||
        resume->in_width != all.width)
      throw Error("checkpoint was trained on " + std::to_string(resume->in_width) + "x" +
                  std::to_string(resume->in_height) + "x" + std::to_string(resume->in_channels) +
                  " images but " + source.name + " has " + std::to_string(all.width) + "x" +
                  std::to_string(all.height) + "x" + std::to_string(all.channels));
    if (resume->class_names != all.class_names)
      throw Error("the classes of " + source.name +
                  " are not those the checkpoint was trained on (the same names in the same "
                  "order)");
    if (resume->optimizer != cfg.optimizer)
      throw Error("checkpoint optimizer " + resume->optimizer + " differs from " + cfg.optimizer);
    import_tensors(model, *resume, "checkpoint");
    auto optimizer_tensor = [&](const char* name, std::size_t size) {
      for (const auto& t : resume->optimizer_tensors)
        if (t.name == name && t.data.size() == size) return t.data.begin();
      throw Error(std::string("checkpoint has no ") + name + " that fits the model");
    };
    auto st = optimizer_tensor("optimizer.state", opt.state().size());
    std::copy(st, st + static_cast<std::ptrdiff_t>(opt.state().size()), opt.state().begin());
    if (cfg.ema > 0) {
      // The model tensors hold the average; the trained weights sit beside
      // the optimizer state.
      const auto p = model.params();
      const auto b = model.buffers();
      ema_params.assign(p.begin(), p.end());
      ema_buffers.assign(b.begin(), b.end());
      auto tp = optimizer_tensor("trained.params", p.size());
      std::copy(tp, tp + static_cast<std::ptrdiff_t>(p.size()), p.begin());
      auto tb = optimizer_tensor("trained.buffers", b.size());
      std::copy(tb, tb + static_cast<std::ptrdiff_t>(b.size()), b.begin());
    }
    for (const auto& [k, v] : resume->optimizer_scalars)
      if (k == "steps") opt.set_steps(static_cast<std::int64_t>(v));
    ck.epoch = resume->epoch;
    ck.history = resume->history;
    norm.mean = resume->norm_mean;
    norm.stddev = resume->norm_std;
    if (norm.mean.size() != static_cast<std::size_t>(all.channels) ||
        norm.stddev.size() != norm.mean.size())
      throw Error("checkpoint normalization does not match the data's channels");
  } else {
    norm = compute_normalization(tr);
  }
  ck.norm_mean = norm.mean;
  ck.norm_std = norm.stddev;
  // Every rank starts from rank 0's weights, buffers and optimizer state.
  group.broadcast(model.params());
  group.broadcast(model.buffers());
  group.broadcast(opt.state());
  // A resumed run goes on with the rate its range test chose (stored as lr).
  if (cfg.lr_auto && !resume) {
    const LrFinding found =
        find_learning_rate(model, ocfg, model.decay_mask(), tr, norm, B, cfg.seed);
    cfg.lr = found.chosen;
    ck.settings = settings_of(cfg);
    if (lead && hooks.on_lr_found) hooks.on_lr_found(found);
  }
  const nn::LrSchedule sched = make_schedule(cfg, per_epoch);
  if (cfg.ema > 0 && !resume) {
    ema_params.assign(model.params().begin(), model.params().end());
    ema_buffers.assign(model.buffers().begin(), model.buffers().end());
  }
  // Every rank updates the average the same way after the same step.
  auto update_ema = [&] {
    if (cfg.ema <= 0) return;
    const double t = static_cast<double>(opt.steps());
    const float d = static_cast<float>(std::min(cfg.ema, (1 + t) / (10 + t)));
    auto blend = [d](std::vector<float>& avg, std::span<const float> w) {
      for (std::size_t i = 0; i < avg.size(); ++i) avg[i] = d * avg[i] + (1 - d) * w[i];
    };
    blend(ema_params, model.params());
    blend(ema_buffers, model.buffers());
  };
  // Swaps the model's weights with their average (twice: back again).
  auto swap_ema = [&] {
    if (cfg.ema <= 0) return;
    std::swap_ranges(ema_params.begin(), ema_params.end(), model.params().begin());
    std::swap_ranges(ema_buffers.begin(), ema_buffers.end(), model.buffers().begin());
  };

  auto snapshot = [&] {
    swap_ema();
    ck.tensors = export_tensors(model.param_tensors(), model.params());
    auto bufs = export_tensors(model.buffer_tensors(), model.buffers());
    swap_ema();
    ck.tensors.insert(ck.tensors.end(), bufs.begin(), bufs.end());
    const auto st = opt.state();
    ck.optimizer_tensors = {{"optimizer.state",
                             {static_cast<std::int64_t>(st.size())},
                             std::vector<float>(st.begin(), st.end())}};
    if (cfg.ema > 0)
      for (auto [name, w] : {std::pair{"trained.params", std::span<const float>(model.params())},
                             std::pair{"trained.buffers", std::span<const float>(model.buffers())}})
        ck.optimizer_tensors.push_back(
            {name, {static_cast<std::int64_t>(w.size())}, std::vector<float>(w.begin(), w.end())});
    ck.optimizer_scalars = {{"steps", static_cast<double>(opt.steps())}};
    ck.rng_state = DataRng(mix(cfg.seed, static_cast<std::uint64_t>(ck.epoch), 0)).state();
  };
  if (ck.epoch >= cfg.epochs) {
    snapshot();
    return ck;
  }

  std::vector<float> x(static_cast<std::size_t>(B) * tr.image_size());
  std::vector<std::int32_t> y(static_cast<std::size_t>(B));
  std::vector<std::size_t> order(tr.size());
  const int k = static_cast<int>(model.output_dims().size());
  using clock = std::chrono::steady_clock;

  // Batchnorm layers: their running statistics are updated from the
  // gathered per-group statistics, in group order, on every rank.
  struct Bn {
    nn::BatchNorm<float>* layer;
    std::size_t channels;
    std::int64_t per_sample;  // values per channel of one image
  };
  std::vector<Bn> bns;
  std::size_t bn_values = 0;
  for (std::size_t i = 0; i < model.size(); ++i)
    if (auto* bn = dynamic_cast<nn::BatchNorm<float>*>(&model.layer(i))) {
      const nn::Dims d = model.layer_output(i);
      bns.push_back({bn, static_cast<std::size_t>(d.c), static_cast<std::int64_t>(d.h) * d.w});
      bn_values += 2 * static_cast<std::size_t>(d.c);
      bn->freeze_running_stats(true);
    }
  // One group's record: its loss x images, correct count, batchnorm means
  // and variances (gathered by every rank: a rank's block is its stop flag,
  // then its groups' records).  The gradients travel separately: the
  // parameters are cut into one slice per rank; each rank receives its slice
  // of every other rank's groups' gradients, sums all groups' slices in group
  // order, takes the optimizer step on its slice of the parameters and
  // gathers the stepped slices, so every rank holds the same parameters
  // while each moves about (groups it holds + 1) x the gradient's bytes, as
  // a ring allreduce, and updates only its slice.
  const std::size_t nparams = model.grads().size();
  const std::size_t record = sizeof(double) + sizeof(std::int64_t) + bn_values * sizeof(double);
  const std::size_t G = cfg.micro_batch > 0 ? static_cast<std::size_t>(cfg.micro_batch) : 0;
  auto group_count = [&](std::size_t n) { return G == 0 ? 1 : std::max<std::size_t>(1, n / G); };
  const std::size_t P = static_cast<std::size_t>(group.size());
  const std::size_t me = static_cast<std::size_t>(group.rank());
  // Rank r's slice of the parameters is [slice_at[r], slice_at[r + 1]).
  std::vector<std::size_t> slice_at(P + 1);
  for (std::size_t r = 0; r < P; ++r)
    slice_at[r] = share(nparams, static_cast<int>(r), group.size()).first;
  slice_at[P] = nparams;
  const std::size_t p0 = slice_at[me], mine_n = slice_at[me + 1] - p0;
  std::vector<std::size_t> slice_bytes(P);
  for (std::size_t r = 0; r < P; ++r)
    slice_bytes[r] = (slice_at[r + 1] - slice_at[r]) * sizeof(float);
  std::vector<std::byte> mine, gathered;
  std::vector<std::size_t> counts(P), send_counts(P), recv_counts(P);
  // This rank's groups' gradients: the slices for the other ranks in rank
  // order (each block group after group), then its own slices.
  // The other ranks' groups' gradients, this rank's slice of each.
  std::vector<float> held_grads, received;
  std::vector<float> slice(mine_n);
  std::vector<double> acc(mine_n);
  std::vector<const float*> group_slice;
  // Each rank's optimizer state is up to date in its own slice only: the
  // slices are gathered before a checkpoint is taken.
  auto gather_optimizer_state = [&] {
    const auto st = opt.state();
    for (std::size_t off = 0; off + nparams <= st.size(); off += nparams)
      group.allgather_in_place(std::as_writable_bytes(st.subspan(off, nparams)), slice_bytes);
  };
  auto seconds_since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };

  for (int e = ck.epoch + 1; e <= cfg.epochs; ++e) {
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    DataRng shuffle_rng(mix(cfg.seed, static_cast<std::uint64_t>(e), 1));
    shuffle(order, shuffle_rng);
    DataRng aug_rng(mix(cfg.seed, static_cast<std::uint64_t>(e), 2));
    const std::uint64_t dropout_seed = mix(cfg.seed, static_cast<std::uint64_t>(e), 3);
    model.reseed_dropout(dropout_seed);
    if (hooks.progress && lead)
      hooks.progress->begin_epoch(e, cfg.epochs, static_cast<std::size_t>(per_epoch));
    double loss_sum = 0, lr = cfg.lr;
    std::size_t seen = 0, correct = 0;
    for (std::int64_t b = 0; b < per_epoch; ++b) {
      const std::size_t start = static_cast<std::size_t>(b) * B;
      const std::size_t n = std::min<std::size_t>(B, usable - start);
      // Every rank makes the whole batch (the augmentation stream is drawn
      // in image order) and computes its share of the groups.
      make_batch(tr, order.data() + start, n, norm, cfg.augment, &aug_rng, x.data(), y.data());
      const std::size_t groups = group_count(n);
      auto bounds = [&](std::size_t g) {
        return std::pair<std::size_t, std::size_t>{g * G, g + 1 == groups ? n : (g + 1) * G};
      };
      mine.clear();
      const double stop = hooks.stop && hooks.stop->load() ? 1.0 : 0.0;
      put(mine, &stop, 1);
      const auto [g0, g1] = share(groups, group.rank(), group.size());
      const std::size_t held = g1 - g0;
      held_grads.resize(held * nparams);
      for (std::size_t g = g0; g < g1; ++g) {
        const auto [lo, hi] = bounds(g);
        const int ng = static_cast<int>(hi - lo);
        if (G > 0) model.reseed_dropout(mix(dropout_seed, static_cast<std::uint64_t>(b), g));
        model.zero_grad();
        const float* out = model.forward(x.data() + lo * tr.image_size(), ng, nn::Mode::train);
        std::int64_t right = 0;
        for (int i = 0; i < ng; ++i) right += argmax(out + i * k, k) == y[lo + i];
        const double loss = model.loss(y.data() + lo) * ng;
        model.backward(false);  // no gradient of the images
        put(mine, &loss, 1);
        put(mine, &right, 1);
        for (const Bn& bn : bns) {
          put(mine, bn.layer->batch_mean().data(), bn.channels);
          put(mine, bn.layer->batch_var().data(), bn.channels);
        }
        const float* gr = model.grads().data();
        for (std::size_t r = 0; r < P; ++r) {
          const std::size_t s0 = slice_at[r], len = slice_at[r + 1] - s0;
          const std::size_t block =
              held * (r == me ? nparams - mine_n : s0 - (r > me ? mine_n : 0));
          std::memcpy(held_grads.data() + block + (g - g0) * len, gr + s0, len * sizeof(float));
        }
      }
      for (std::size_t r = 0; r < P; ++r) {
        const auto [a, z] = share(groups, static_cast<int>(r), group.size());
        counts[r] = sizeof(double) + (z - a) * record;
        send_counts[r] = r == me ? 0 : held * slice_bytes[r];
        recv_counts[r] = r == me ? 0 : (z - a) * mine_n * sizeof(float);
      }
      const auto tc = clock::now();
      group.allgather(mine, counts, gathered);
      received.resize((groups - held) * mine_n);
      group.alltoall(std::as_bytes(std::span(held_grads).first(held * (nparams - mine_n))),
                     send_counts, recv_counts, std::as_writable_bytes(std::span(received)));
      double comm_seconds = seconds_since(tc);
      // The other ranks' groups arrive in rank order, which is group order.
      // The gradient of the batch's mean loss is the groups' mean gradients
      // weighted by their sizes, summed in group order.
      group_slice.resize(groups);
      const float* from = received.data();
      for (std::size_t g = 0; g < groups; ++g)
        if (g >= g0 && g < g1) {
          group_slice[g] = held_grads.data() + held * (nparams - mine_n) + (g - g0) * mine_n;
        } else {
          group_slice[g] = from;
          from += mine_n;
        }
      parallel_for(0, static_cast<std::ptrdiff_t>(mine_n), 1 << 14,
                   [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                     const auto i0 = static_cast<std::size_t>(lo),
                                i1 = static_cast<std::size_t>(hi);
                     std::fill(acc.begin() + lo, acc.begin() + hi, 0.0);
                     for (std::size_t g = 0; g < groups; ++g) {
                       const auto [glo, ghi] = bounds(g);
                       const double w = static_cast<double>(ghi - glo);
                       for (std::size_t i = i0; i < i1; ++i)
                         acc[i] += static_cast<double>(group_slice[g][i]) * w;
                     }
                     for (std::size_t i = i0; i < i1; ++i)
                       slice[i] = static_cast<float>(acc[i] / static_cast<double>(n));
                   });
      // Losses, accuracy, batchnorm statistics and stop flags, in group order.
      bool stopping = false;
      const std::byte* p = gathered.data();
      for (int r = 0; r < group.size(); ++r) {
        stopping |= get<double>(p) != 0.0;
        const auto [a, z] = share(groups, r, group.size());
        for (std::size_t g = a; g < z; ++g) {
          const auto [lo, hi] = bounds(g);
          const double loss = get<double>(p);
          if (!std::isfinite(loss))
            throw dist::CollectiveError("training diverged in epoch " + std::to_string(e) +
                                        " (loss is " + std::to_string(loss) + "); try a smaller " +
                                        param("lr"));
          loss_sum += loss;
          correct += static_cast<std::size_t>(get<std::int64_t>(p));
          for (const Bn& bn : bns) {
            std::vector<double> mv(2 * bn.channels);
            std::memcpy(mv.data(), p, mv.size() * sizeof(double));
            p += mv.size() * sizeof(double);
            bn.layer->update_running_stats(mv.data(), mv.data() + bn.channels,
                                           static_cast<std::int64_t>(hi - lo) * bn.per_sample);
          }
        }
      }
      // The step on this rank's slice, then every rank's stepped slice.
      lr = sched.at((e - 1) * per_epoch + b);
      opt.step_slice(model.params().subspan(p0, mine_n), slice, p0, lr);
      const auto tg = clock::now();
      group.allgather_in_place(std::as_writable_bytes(model.params()), slice_bytes);
      comm_seconds += seconds_since(tg);
      if (hooks.comm) {
        hooks.comm->seconds += comm_seconds;
        hooks.comm->steps += 1;
        // Bytes from the other ranks.
        hooks.comm->bytes += static_cast<double>(
            (gathered.size() - mine.size()) + (received.size() + nparams - mine_n) * sizeof(float));
      }
      update_ema();
      seen += n;
      if (hooks.progress && lead)
        hooks.progress->update(static_cast<std::size_t>(b + 1), loss_sum / seen,
                               static_cast<double>(correct) / seen, seen);
      if (stopping) {
        if (hooks.progress && lead) hooks.progress->clear();
        throw TrainInterrupted{e, ck.epoch};
      }
    }
    const double train_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    if (hooks.progress && lead) hooks.progress->clear();
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = loss_sum / static_cast<double>(seen);
    m.train_acc = static_cast<double>(correct) / static_cast<double>(seen);
    if (val.size() > 0) {
      // In fp32 whatever the training precision, as eval computes.
      const MatmulPrecisionScope fp32(MatmulPrecision::fp32);
      swap_ema();
      auto [vl, va] = evaluate(model, val, norm, std::max(B, 256), nullptr, group);
      swap_ema();
      m.val_loss = vl;
      m.val_acc = va;
    } else {
      m.val_loss = std::numeric_limits<double>::quiet_NaN();
      m.val_acc = std::numeric_limits<double>::quiet_NaN();
    }
    m.lr = lr;
    m.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    m.images_per_second = train_seconds > 0 ? static_cast<double>(seen) / train_seconds : 0.0;
    ck.epoch = e;
    ck.history.push_back(m);
    gather_optimizer_state();
    snapshot();
    if (!lead) continue;
    if (!checkpoint_path.empty()) save_checkpoint(checkpoint_path, ck);
    if (!log_path.empty()) write_metrics_log(log_path, ck.history);
    if (hooks.on_epoch) hooks.on_epoch(m);
  }
  return ck;
}

void check_input_size(const Checkpoint& c, const Dataset& data) {
  if (data.channels != c.in_channels || data.height != c.in_height || data.width != c.in_width)
    throw Error("the model takes " + std::to_string(c.in_width) + "x" +
                std::to_string(c.in_height) + "x" + std::to_string(c.in_channels) +
                " images but the data has " + std::to_string(data.width) + "x" +
                std::to_string(data.height) + "x" + std::to_string(data.channels));
}

EvalResult evaluate_model(const Checkpoint& c, const Dataset& data, int batch, bool tta_flip) {
  const FlushDenormalsScope flush;
  check_input_size(c, data);
  Model m = build_model(c.arch, c.in_channels, c.in_height, c.in_width, 0);
  import_tensors(m, c, "checkpoint");
  const int k = static_cast<int>(m.output_dims().size());
  if (data.num_classes() > k)
    throw Error("the data has " + std::to_string(data.num_classes()) +
                " classes but the model only " + std::to_string(k));
  EvalResult r;
  r.count = data.size();
  r.class_names =
      c.class_names.size() == static_cast<std::size_t>(k) ? c.class_names : data.class_names;
  while (r.class_names.size() < static_cast<std::size_t>(k))
    r.class_names.push_back(std::to_string(r.class_names.size()));
  r.confusion.assign(k, std::vector<std::int64_t>(k, 0));
  Normalization norm{c.norm_mean, c.norm_std};
  auto [l, a] = evaluate(m, data, norm, batch, &r.confusion, dist::local(), tta_flip);
  r.loss = l;
  r.accuracy = a;
  return r;
}

struct LoadedModel::Impl {
  Checkpoint ck;
  Model model;
  Impl(const Checkpoint& c)
      : ck(c), model(build_model(c.arch, c.in_channels, c.in_height, c.in_width, 0)) {
    import_tensors(model, ck, "checkpoint");
    if (ck.norm_mean.size() != static_cast<std::size_t>(ck.in_channels) ||
        ck.norm_std.size() != ck.norm_mean.size())
      throw Error("checkpoint normalization does not match its input channels");
  }
  /// Images in the data's units, normalized with the checkpoint's statistics.
  std::vector<float> normalized(const float* images, int n) const;
};

LoadedModel::LoadedModel(const Checkpoint& c) : impl_(std::make_unique<Impl>(c)) {}
LoadedModel::~LoadedModel() = default;

int LoadedModel::classes() const {
  return static_cast<int>(impl_->model.output_dims().size());
}

std::vector<float> LoadedModel::Impl::normalized(const float* images, int n) const {
  const std::size_t sz = static_cast<std::size_t>(ck.in_channels) * ck.in_height * ck.in_width;
  const std::size_t hw = static_cast<std::size_t>(ck.in_height) * ck.in_width;
  std::vector<float> x(images, images + sz * n);
  for (int i = 0; i < n; ++i)
    for (int ch = 0; ch < ck.in_channels; ++ch)
      for (std::size_t p = 0; p < hw; ++p) {
        float& v = x[i * sz + ch * hw + p];
        v = (v - ck.norm_mean[ch]) / ck.norm_std[ch];
      }
  return x;
}

std::size_t LoadedModel::layers() const {
  return impl_->model.size();
}

std::vector<int> LoadedModel::layer_shape(std::size_t i) const {
  const nn::Dims d = impl_->model.layer_output(i);
  return {d.c, d.h, d.w};
}

std::vector<float> LoadedModel::activations(const float* images, int n, std::size_t i) {
  const FlushDenormalsScope flush;
  if (i >= layers())
    throw UsageError("layer " + std::to_string(i) + " does not exist (the model has " +
                     std::to_string(layers()) + ")");
  const std::vector<float> x = impl_->normalized(images, n);
  impl_->model.forward(x.data(), n, nn::Mode::eval);
  const float* a = impl_->model.activation(i);
  return std::vector<float>(a,
                            a + static_cast<std::size_t>(n) *
                                    static_cast<std::size_t>(impl_->model.layer_output(i).size()));
}

std::vector<double> LoadedModel::probabilities(const float* images, int n, bool tta_flip) {
  const FlushDenormalsScope flush;
  const std::vector<float> x = impl_->normalized(images, n);
  std::vector<float> mirror;
  std::vector<double> p;
  batch_probabilities(impl_->model, x.data(), static_cast<std::size_t>(n),
                      impl_->model.input_dims(), tta_flip, mirror, p);
  return p;
}

}  // namespace convkit

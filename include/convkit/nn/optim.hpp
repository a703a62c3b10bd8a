// convkit/nn/optim.hpp — optimizers over a model's flat parameter buffer, and
// learning-rate schedules.  Every optimizer is one loop over the parameters.
//
// With g the gradient, p a parameter, lr the step's learning rate, wd the
// weight decay (applied where the decay mask is 1, everywhere if no mask):
//   sgd:    g' = g + wd p;  v = mu v + g';  d = nesterov ? g' + mu v : v;  p -= lr d
//           (PyTorch's formulation; mu = 0 is plain SGD)
//   adam:   g' = g + wd p (L2 in the gradient);
//           m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
//           p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//   adamw:  as adam with g' = g, and the decay decoupled: p -= lr wd p first.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "convkit/names.hpp"

namespace convkit::nn {

enum class OptimizerKind { sgd, adam, adamw };
inline constexpr EnumName<OptimizerKind> kOptimizerNames[] = {
    {"sgd", OptimizerKind::sgd}, {"adam", OptimizerKind::adam}, {"adamw", OptimizerKind::adamw}};

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double momentum = 0.0;                          ///< sgd
  bool nesterov = false;                          ///< sgd (needs momentum > 0)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  ///< adam / adamw
  double weight_decay = 0.0;
};

class Optimizer {
 public:
  /// Throws UsageError for out-of-range settings (negative momentum or decay,
  /// betas outside [0, 1), eps <= 0, nesterov without momentum).
  Optimizer(const OptimizerConfig& cfg, std::size_t count);
  /// Optional weight-decay mask (1 = decay), e.g. Sequential::decay_mask().
  void set_decay_mask(std::vector<unsigned char> mask);
  /// One update of all parameters with learning rate lr.
  void step(std::span<float> params, std::span<const float> grads, double lr);
  /// One update of the parameters [offset, offset + params.size()) alone
  /// (their gradients in grads, their state and decay mask at the same
  /// offset): the same values step() gives them, so ranks that each update
  /// their own slice and gather the slices agree with one process bit for
  /// bit.  Every rank calls it once a step (it counts the step).
  void step_slice(std::span<float> params, std::span<const float> grads, std::size_t offset,
                  double lr);
  /// The optimizer's state (momentum / moment buffers) and step count, for
  /// checkpoints: state().size() floats, restored with set_state().
  std::span<const float> state() const { return state_; }
  std::span<float> state() { return state_; }
  std::int64_t steps() const { return t_; }
  void set_steps(std::int64_t t) { t_ = t; }
  const OptimizerConfig& config() const { return cfg_; }

 private:
  OptimizerConfig cfg_;
  std::size_t count_;
  std::vector<float> state_;  // sgd: v; adam/adamw: m then v
  std::vector<unsigned char> mask_;
  std::int64_t t_ = 0;
};

OptimizerKind parse_optimizer(std::string_view name);  ///< sgd, adam, adamw

/// Learning rate at a step (0-based) of `total` steps:
///   constant: base
///   step:     base * gamma^floor(s / step_size)
///   cosine:   min_lr + (base - min_lr) (1 + cos(pi s / total)) / 2
///   onecycle: (as fastai and PyTorch's OneCycleLR) a half cosine from base/25
///             up to base over the first u = floor(0.3 total) steps, then a
///             half cosine down to base/250000 at the last step
///   triangular: linear up, base (s + 1) / u for s < u = floor(total / 5),
///             then linear down, base (total - s) / (total - u + 1): one
///             triangle over the run (fast-training recipes)
/// then, when warmup > 0, for s < warmup the rate is scaled by (s + 1) / warmup
/// (linear warm-up), and the schedule itself runs on s - warmup over
/// total - warmup steps.
enum class ScheduleKind { constant, step, cosine, onecycle, triangular };
inline constexpr EnumName<ScheduleKind> kScheduleNames[] = {
    {"constant", ScheduleKind::constant},
    {"step", ScheduleKind::step},
    {"cosine", ScheduleKind::cosine},
    {"onecycle", ScheduleKind::onecycle},
    {"triangular", ScheduleKind::triangular}};
struct LrSchedule {
  ScheduleKind kind = ScheduleKind::constant;
  double base = 0.01;
  double gamma = 0.1;          ///< step
  std::int64_t step_size = 1;  ///< step
  double min_lr = 0.0;         ///< cosine
  std::int64_t total = 1;      ///< cosine, onecycle, triangular
  std::int64_t warmup = 0;
  double at(std::int64_t s) const;
};
/// constant, step, cosine, onecycle, triangular
ScheduleKind parse_schedule(std::string_view name);

}  // namespace convkit::nn

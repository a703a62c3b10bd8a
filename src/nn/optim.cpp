// Optimizers and learning-rate schedules (nn/optim.hpp).
#include "convkit/nn/optim.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit::nn {

Optimizer::Optimizer(const OptimizerConfig& cfg, std::size_t count) : cfg_(cfg), count_(count) {
  if (cfg.momentum < 0 || cfg.momentum >= 1)
    throw UsageError("momentum must be at least 0 and below 1");
  if (cfg.nesterov && cfg.momentum <= 0) throw UsageError("nesterov needs a momentum above 0");
  if (cfg.weight_decay < 0) throw UsageError("weight decay must not be negative");
  if (cfg.beta1 < 0 || cfg.beta1 >= 1 || cfg.beta2 < 0 || cfg.beta2 >= 1)
    throw UsageError("adam betas must be at least 0 and below 1");
  if (!(cfg.eps > 0)) throw UsageError("adam epsilon must be positive");
  state_.assign(cfg.kind == OptimizerKind::sgd ? count : 2 * count, 0.0f);
}

void Optimizer::set_decay_mask(std::vector<unsigned char> mask) {
  if (mask.size() != count_) throw UsageError("weight-decay mask size does not match the model");
  mask_ = std::move(mask);
}

void Optimizer::step(std::span<float> params, std::span<const float> grads, double lr) {
  if (params.size() != count_ || grads.size() != count_)
    throw UsageError("optimizer: parameter count does not match");
  step_slice(params, grads, 0, lr);
}

void Optimizer::step_slice(std::span<float> params_slice, std::span<const float> grads_slice,
                           std::size_t offset, double lr) {
  if (grads_slice.size() != params_slice.size() || offset > count_ ||
      params_slice.size() > count_ - offset)
    throw UsageError("optimizer: the slice does not fit the parameters");
  ++t_;
  // i counts the parameters (state and mask), j = i - offset the slice.
  float* params = params_slice.data();
  const float* grads = grads_slice.data();
  const std::size_t end = offset + params_slice.size();
  const float wd = static_cast<float>(cfg_.weight_decay);
  const float rate = static_cast<float>(lr);
  const bool masked = !mask_.empty();
  auto decay = [&](std::size_t i) { return masked && !mask_[i] ? 0.0f : wd; };
  // Every parameter's update is independent of the others': split them.
  auto each_param = [&](auto&& update) {
    parallel_for(static_cast<std::ptrdiff_t>(offset), static_cast<std::ptrdiff_t>(end), 1 << 14,
                 [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                   for (auto i = static_cast<std::size_t>(lo); i < static_cast<std::size_t>(hi);
                        ++i)
                     update(i, i - offset);
                 });
  };
  switch (cfg_.kind) {
    case OptimizerKind::sgd: {
      const float mu = static_cast<float>(cfg_.momentum);
      float* v = state_.data();
      each_param([&](std::size_t i, std::size_t j) {
        const float g = grads[j] + decay(i) * params[j];
        v[i] = mu * v[i] + g;
        const float d = cfg_.nesterov ? g + mu * v[i] : (mu > 0 ? v[i] : g);
        params[j] -= rate * d;
      });
      break;
    }
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      const bool decoupled = cfg_.kind == OptimizerKind::adamw;
      const float b1 = static_cast<float>(cfg_.beta1), b2 = static_cast<float>(cfg_.beta2);
      const float c1 = static_cast<float>(1.0 - std::pow(cfg_.beta1, static_cast<double>(t_)));
      const float c2 = static_cast<float>(1.0 - std::pow(cfg_.beta2, static_cast<double>(t_)));
      const float eps = static_cast<float>(cfg_.eps);
      float* m = state_.data();
      float* v = state_.data() + count_;
      each_param([&](std::size_t i, std::size_t j) {
        float g = grads[j];
        if (decoupled)
          params[j] -= rate * decay(i) * params[j];
        else
          g += decay(i) * params[j];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        params[j] -= rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
      });
      break;
    }
  }
}

OptimizerKind parse_optimizer(std::string_view name) {
  return parse_name(kOptimizerNames, name, "optimizer");
}

ScheduleKind parse_schedule(std::string_view name) {
  return parse_name(kScheduleNames, name, "learning-rate schedule");
}

namespace {
constexpr double kPi = 3.14159265358979323846;
}

double LrSchedule::at(std::int64_t s) const {
  if (s < 0) s = 0;
  double scale = 1.0;
  std::int64_t e = s, span = total;
  if (warmup > 0) {
    if (s < warmup) scale = static_cast<double>(s + 1) / static_cast<double>(warmup);
    e = std::max<std::int64_t>(0, s - warmup);
    span = std::max<std::int64_t>(1, total - warmup);
  }
  double lr = base;
  switch (kind) {
    case ScheduleKind::constant:
      break;
    case ScheduleKind::step:
      lr = base * std::pow(gamma, static_cast<double>(e / std::max<std::int64_t>(1, step_size)));
      break;
    case ScheduleKind::cosine: {
      const double f = std::min(
          1.0, static_cast<double>(e) / static_cast<double>(std::max<std::int64_t>(1, span)));
      lr = min_lr + (base - min_lr) * 0.5 * (1.0 + std::cos(kPi * f));
      break;
    }
    case ScheduleKind::onecycle: {
      const std::int64_t n = std::max<std::int64_t>(1, span);
      const std::int64_t up = std::max<std::int64_t>(1, (3 * n) / 10);
      const double start = base / 25, end = start / 1e4;
      if (e < up) {
        const double f = static_cast<double>(e) / static_cast<double>(up);
        lr = start + (base - start) * 0.5 * (1.0 - std::cos(kPi * f));
      } else {
        const double f = std::min(1.0, static_cast<double>(e - up) /
                                           static_cast<double>(std::max<std::int64_t>(1, n - up)));
        lr = end + (base - end) * 0.5 * (1.0 + std::cos(kPi * f));
      }
      break;
    }
    case ScheduleKind::triangular: {
      const std::int64_t n = std::max<std::int64_t>(1, span);
      const std::int64_t up = std::max<std::int64_t>(1, n / 5);
      if (e < up)
        lr = base * static_cast<double>(e + 1) / static_cast<double>(up);
      else
        lr = base * static_cast<double>(std::max<std::int64_t>(0, n - e)) /
             static_cast<double>(std::max<std::int64_t>(1, n - up + 1));
      break;
    }
  }
  return lr * scale;
}

}  // namespace convkit::nn

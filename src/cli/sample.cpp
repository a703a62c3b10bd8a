// convkit sample — random samples from a Gaussian (1D or correlated nD) or a
// uniform distribution, as columns of numbers (the seed's problem 1 data).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/number_list.hpp"
#include "cli/validate.hpp"
#include "convkit/data_table.hpp"
#include "convkit/error.hpp"
#include "convkit/random.hpp"

namespace convkit::cli {
namespace {

struct SampleOptions {
  std::string dist;
  std::string mean = "0", var, stddev, cov, low = "0", high = "1";
  std::int64_t count = 1000;
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string output = "-";
};

constexpr std::int64_t kMaxSampleCells = 10'000'000;

// Lower-triangular L with L L^T = C (C symmetric positive semi-definite).
std::vector<double> cholesky(const std::vector<double>& C, int d) {
  std::vector<double> L(static_cast<std::size_t>(d) * d, 0.0);
  double scale = 0;
  for (int i = 0; i < d; ++i) scale = std::max(scale, std::abs(C[i * d + i]));
  const double tol = 1e-12 * std::max(scale, 1e-300);
  for (int j = 0; j < d; ++j) {
    double s = C[j * d + j];
    for (int k = 0; k < j; ++k) s -= L[j * d + k] * L[j * d + k];
    if (s < -tol) throw UsageError("--cov is not positive semi-definite (not a covariance matrix)");
    const double piv = s > tol ? std::sqrt(s) : 0.0;
    L[j * d + j] = piv;
    for (int i = j + 1; i < d; ++i) {
      double t = C[i * d + j];
      for (int k = 0; k < j; ++k) t -= L[i * d + k] * L[j * d + k];
      if (piv == 0) {
        if (std::abs(t) > 1e-9 * std::max(scale, 1e-300))
          throw UsageError("--cov is not positive semi-definite (not a covariance matrix)");
        L[i * d + j] = 0;
      } else {
        L[i * d + j] = t / piv;
      }
    }
  }
  return L;
}

void run_sample(const SampleOptions& o) {
  const std::vector<double> mean = parse_number_list(o.mean, "--mean");
  const int d = static_cast<int>(mean.size());
  if (d > 64) throw UsageError("--mean: at most 64 dimensions");
  if (o.count < 1 || o.count > kMaxSampleCells / d)
    throw UsageError("--count must be between 1 and " + std::to_string(kMaxSampleCells / d) +
                     " for " + std::to_string(d) + " column(s)");
  Rng rng(o.seed_given ? o.seed : std::random_device{}());
  DataTable t;
  t.rows = o.count;
  t.cols = d;
  t.format = table_format_for_path(o.output);
  t.npy_1d = d == 1;
  t.data.resize(static_cast<std::size_t>(o.count) * d);

  if (o.dist == "uniform") {  // otherwise gaussian (alias normal)
    if (!o.var.empty() || !o.stddev.empty() || !o.cov.empty())
      throw UsageError("uniform takes --low and --high, not --var/--std/--cov");
    std::vector<double> lo = parse_number_list(o.low, "--low"),
                        hi = parse_number_list(o.high, "--high");
    lo = broadcast(lo, d, "--low");
    hi = broadcast(hi, d, "--high");
    for (int j = 0; j < d; ++j)
      if (!(hi[j] > lo[j])) throw UsageError("--high must be greater than --low");
    for (std::int64_t r = 0; r < o.count; ++r)
      for (int j = 0; j < d; ++j)
        t.data[static_cast<std::size_t>(r * d + j)] = rng.uniform(lo[j], hi[j]);
    write_data_table(t, o.output);
    return;
  }

  // Gaussian: covariance from --cov, or diagonal from --var / --std (default 1).
  const int given = !o.var.empty() + !o.stddev.empty() + !o.cov.empty();
  if (given > 1) throw UsageError("give only one of --var, --std and --cov");
  std::vector<double> C(static_cast<std::size_t>(d) * d, 0.0);
  if (!o.cov.empty()) {
    const Matrix m = parse_matrix_flag(o.cov, "--cov");
    if (m.rows != d || m.cols != d)
      throw UsageError("--cov is " + std::to_string(m.rows) + "x" + std::to_string(m.cols) +
                       " but --mean has " + std::to_string(d) + " value(s): need " +
                       std::to_string(d) + "x" + std::to_string(d));
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        if (!std::isfinite(m(i, j)))
          throw UsageError("--cov: entry (" + std::to_string(i + 1) + "," + std::to_string(j + 1) +
                           ") is not a finite number");
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        const double a = m(i, j), b = m(j, i);
        if (std::abs(a - b) > 1e-12 * std::max({std::abs(a), std::abs(b), 1.0}))
          throw UsageError("--cov must be symmetric");
        C[i * d + j] = a;
      }
  } else {
    std::vector<double> v(d, 1.0);
    if (!o.var.empty()) v = broadcast(parse_number_list(o.var, "--var"), d, "--var");
    if (!o.stddev.empty()) {
      v = broadcast(parse_number_list(o.stddev, "--std"), d, "--std");
      for (double& x : v) {
        if (x < 0) throw UsageError("--std must not be negative");
        x *= x;
      }
    }
    for (int j = 0; j < d; ++j) {
      if (v[j] < 0) throw UsageError("--var must not be negative");
      C[j * d + j] = v[j];
    }
  }
  const std::vector<double> L = cholesky(C, d);

  // Standard normals by Box-Muller (both outputs used), then x = mean + L z.
  std::vector<double> z(d);
  bool have_spare = false;
  double spare = 0;
  auto normal = [&]() {
    if (have_spare) {
      have_spare = false;
      return spare;
    }
    const auto [first, second] = rng.normal_pair();
    spare = second;
    have_spare = true;
    return first;
  };
  for (std::int64_t r = 0; r < o.count; ++r) {
    for (int j = 0; j < d; ++j) z[j] = normal();
    for (int i = 0; i < d; ++i) {
      double s = mean[i];
      for (int k = 0; k <= i; ++k) s += L[i * d + k] * z[k];
      t.data[static_cast<std::size_t>(r * d + i)] = s;
    }
  }
  write_data_table(t, o.output);
}

void register_sample(CLI::App& app) {
  auto opt = std::make_shared<SampleOptions>();
  auto* sub = app.add_subcommand(
      "sample", "Draw random samples (Gaussian, correlated Gaussian, uniform) as number columns");
  sub->add_option("distribution", opt->dist, "gaussian (alias normal) or uniform")
      ->required()
      ->check(CLI::IsMember({"gaussian", "normal", "uniform"}));
  sub->add_option("--mean", opt->mean,
                  "Mean, one value per column, comma-separated (default 0; sets the dimension)");
  sub->add_option("--var", opt->var,
                  "Variance: one value, or one per column (diagonal covariance)");
  sub->add_option("--std", opt->stddev, "Standard deviation instead of --var");
  sub->add_option("--cov", opt->cov,
                  "Covariance matrix literal, e.g. \"[1 0.8; 0.8 1]\" (sampled through its "
                  "Cholesky factor)");
  sub->add_option("--low", opt->low, "uniform: lower bound(s) (default 0)");
  sub->add_option("--high", opt->high, "uniform: upper bound(s) (default 1)");
  sub->add_option("-n,--count", opt->count, "Number of samples (rows), default 1000")
      ->check(whole_range(1, kMaxSampleCells));
  auto* seed = sub->add_option("--seed", opt->seed,
                               "Random seed: the same seed gives the same numbers on every "
                               "machine (default: a fresh random seed)")
                   ->check(whole_range(0, 1LL << 62));
  sub->add_option("-o,--output", opt->output,
                  "Output file: .csv (commas), .npy, anything else whitespace-separated text; "
                  "'-' = stdout (default)");
  sub->footer(
      "Examples:\n"
      "  convkit sample gaussian --mean 1.5 --var 0.16 --count 10000 --seed 1 -o x.txt\n"
      "  convkit sample gaussian --mean 1,2 --cov \"[1 0.8; 0.8 1]\" --count 5000 --seed 7 "
      "-o xy.txt\n"
      "  convkit sample uniform --low -1 --high 1 --count 5 --seed 3\n"
      "Numbers are printed in the shortest form that reads back to the same double.");
  sub->callback([opt, seed] {
    opt->seed_given = seed->count() > 0;
    run_sample(*opt);
  });
}

}  // namespace

CONVKIT_COMMAND(21, register_sample);

}  // namespace convkit::cli

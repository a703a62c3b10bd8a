// convkit sample — random samples from a Gaussian (1D or correlated nD) or a
// uniform distribution (convkit/sampling.hpp), as columns of numbers (the
// seed's problem 1 data).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/number_list.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/sampling.hpp"

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

void run_sample(const SampleOptions& o) {
  const std::vector<double> mean = parse_number_list(o.mean, "--mean");
  Rng rng(o.seed_given ? o.seed : std::random_device{}());
  DataTable t;
  if (o.dist == "uniform") {  // otherwise gaussian (alias normal)
    if (!o.var.empty() || !o.stddev.empty() || !o.cov.empty())
      throw UsageError("uniform takes --low and --high, not --var/--std/--cov");
    t = sample_uniform({static_cast<int>(mean.size()), parse_number_list(o.low, "--low"),
                        parse_number_list(o.high, "--high")},
                       o.count, rng);
  } else {
    GaussianSpec g;
    g.mean = mean;
    if (!o.var.empty()) g.var = parse_number_list(o.var, "--var");
    if (!o.stddev.empty()) g.stddev = parse_number_list(o.stddev, "--std");
    if (!o.cov.empty()) g.cov = parse_matrix_flag(o.cov, "--cov");
    t = sample_gaussian(g, o.count, rng);
  }
  t.format = table_format_for_path(o.output);
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

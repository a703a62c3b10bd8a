// convkit/train/progress.hpp — what a training run tells its user.
//
// On a terminal, one bar per epoch redrawn in place (batches, running loss and
// accuracy, images/s, ETA); otherwise a plain line at most every 10 seconds.
// The per-epoch summary line goes to stdout; --quiet silences the bar.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "convkit/train/checkpoint.hpp"

namespace convkit {

class Progress {
 public:
  /// `out` receives the bar (normally stderr); `tty` picks the style.
  Progress(std::FILE* out, bool tty, bool quiet) : out_(out), tty_(tty), quiet_(quiet) {}

  void begin_epoch(int epoch, int epochs, std::size_t batches);
  /// After each batch: batches done so far, running mean loss and accuracy
  /// (0..1) over the epoch, images seen this epoch.
  void update(std::size_t done, double loss, double acc, std::size_t images);
  /// Clear the bar (before printing anything else).
  void clear();

 private:
  std::FILE* out_;
  bool tty_, quiet_;
  int epoch_ = 0, epochs_ = 0;
  std::size_t batches_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

/// The peak resident memory of this process so far, in MiB (getrusage's
/// ru_maxrss): shown in the progress line and the epoch summary.
double peak_memory_mib();

/// The one-line epoch summary, e.g.
/// "epoch 2/5  train loss 0.4312 acc 84.51%  val loss 0.4020 acc 85.60%  lr 0.001  3.2 s  18700
/// img/s  peak memory 212 MiB"
std::string epoch_summary(const EpochMetrics& m, int epochs, bool has_val);

/// Write the metrics history atomically: CSV, or JSON when the path ends in .json.
void write_metrics_log(const std::string& path, const std::vector<EpochMetrics>& history);

/// A PNG with two panels, loss and accuracy against epoch, train and (when
/// has_val) validation; written atomically.
void plot_training_curves(const std::string& path, const std::vector<EpochMetrics>& history,
                          bool has_val);

}  // namespace convkit

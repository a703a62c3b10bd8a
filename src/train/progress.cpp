#include "convkit/train/progress.hpp"

#include <sys/resource.h>

#include <cmath>
#include <cstdio>

#include "convkit/io/atomic.hpp"

namespace convkit {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = std::lround(s);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%02ld:%02ld", t / 60, t % 60);
  return b;
}

// Shortest text that reads back to the same double.
std::string exact(double v) {
  char b[40];
  for (int p = 6; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

}  // namespace

double peak_memory_mib() {
  struct rusage u {};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

void Progress::begin_epoch(int epoch, int epochs, std::size_t batches) {
  epoch_ = epoch;
  epochs_ = epochs;
  batches_ = batches;
  start_ = last_ = std::chrono::steady_clock::now();
  drawn_ = false;
}

void Progress::update(std::size_t done, double loss, double acc, std::size_t images) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool last = done == batches_;
  if (tty_ ? (since < 0.1 && !last) : (since < 10.0 || last)) return;
  last_ = now;
  const double el = std::chrono::duration<double>(now - start_).count();
  const double ips = el > 0 ? images / el : 0.0;
  const double eta = done > 0 ? el / done * (batches_ - done) : -1;
  std::string line = "epoch " + std::to_string(epoch_) + "/" + std::to_string(epochs_) + " ";
  if (tty_) {
    const int width = 24;
    const int fill = batches_ ? static_cast<int>(width * done / batches_) : width;
    line.push_back('[');
    line.append(static_cast<std::size_t>(fill), '#');
    line.append(static_cast<std::size_t>(width - fill), '.');
    line.append("] ");
  }
  line += std::to_string(done) + "/" + std::to_string(batches_) + " loss " + fmt("%.4f", loss) +
          " acc " + fmt("%.2f", 100 * acc) + "% " + fmt("%.0f", ips) + " img/s peak " +
          fmt("%.0f", peak_memory_mib()) + " MiB ETA " + duration(eta);
  if (tty_) {
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void Progress::clear() {
  if (drawn_ && tty_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
  drawn_ = false;
}

std::string epoch_summary(const EpochMetrics& m, int epochs, bool has_val) {
  std::string s = "epoch " + std::to_string(m.epoch) + "/" + std::to_string(epochs) +
                  "  train loss " + fmt("%.4f", m.train_loss) + " acc " +
                  fmt("%.2f", 100 * m.train_acc) + "%";
  if (has_val)
    s += "  val loss " + fmt("%.4f", m.val_loss) + " acc " + fmt("%.2f", 100 * m.val_acc) + "%";
  s += "  lr " + fmt("%.4g", m.lr) + "  " + fmt("%.1f", m.seconds) + " s  " +
       fmt("%.0f", m.images_per_second) + " img/s  peak memory " + fmt("%.0f", peak_memory_mib()) +
       " MiB";
  return s;
}

void write_metrics_log(const std::string& path, const std::vector<EpochMetrics>& history) {
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  std::string out;
  // JSON has no nan: a missing value (no validation part) is null.
  auto jexact = [](double v) { return std::isfinite(v) ? exact(v) : std::string("null"); };
  if (json) {
    out = "[\n";
    for (std::size_t i = 0; i < history.size(); ++i) {
      const auto& m = history[i];
      out += "  {\"epoch\": " + std::to_string(m.epoch) +
             ", \"train_loss\": " + jexact(m.train_loss) +
             ", \"train_acc\": " + jexact(m.train_acc) + ", \"val_loss\": " + jexact(m.val_loss) +
             ", \"val_acc\": " + jexact(m.val_acc) + ", \"lr\": " + jexact(m.lr) +
             ", \"seconds\": " + jexact(m.seconds) +
             ", \"images_per_second\": " + jexact(m.images_per_second) + "}" +
             (i + 1 < history.size() ? ",\n" : "\n");
    }
    out += "]\n";
  } else {
    out = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,images_per_second\n";
    for (const auto& m : history)
      out += std::to_string(m.epoch) + "," + exact(m.train_loss) + "," + exact(m.train_acc) + "," +
             exact(m.val_loss) + "," + exact(m.val_acc) + "," + exact(m.lr) + "," +
             exact(m.seconds) + "," + exact(m.images_per_second) + "\n";
  }
  write_file_atomic(path, out);
}

}  // namespace convkit

// The shared batch driver (see batch.hpp).
#include "cli/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <new>
#include <set>
#include <thread>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"

namespace convkit::cli {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// "K/N" with 1 <= K <= N.
void parse_shard(const std::string& s, int& k, int& n) {
  auto slash = s.find('/');
  auto bad = [&] {
    return UsageError("--shard '" + s + "' is not K/N with 1 <= K <= N (e.g. --shard 2/4)");
  };
  if (slash == std::string::npos) throw bad();
  auto parse = [&](std::string_view t, int& v) {
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) throw bad();
  };
  parse(std::string_view(s).substr(0, slash), k);
  parse(std::string_view(s).substr(slash + 1), n);
  if (n < 1 || k < 1 || k > n) throw bad();
}

std::string display(const std::string& path) {
  return path == "-" ? "<stdin>" : path;
}
std::string display_out(const std::string& path) {
  return path == "-" ? "<stdout>" : path;
}

// Progress: a bar redrawn in place on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress(std::size_t total, bool quiet, std::string verb)
      : total_(total), quiet_(quiet || total <= 1), tty_(isatty(2) == 1), verb_(std::move(verb)) {}

  void done(const BatchItem& item) {
    std::lock_guard<std::mutex> lk(m_);
    ++finished_;
    if (quiet_) return;
    if (tty_) {
      draw(item.input);
    } else {
      std::fprintf(stderr, "convkit %s: [%zu/%zu] %s -> %s\n", verb_.c_str(), finished_, total_,
                   display(item.input).c_str(), display_out(item.output).c_str());
    }
  }

  void failed(const BatchItem& item, const std::string& why) {
    std::lock_guard<std::mutex> lk(m_);
    ++finished_;
    std::string line = why;
    std::replace(line.begin(), line.end(), '\n', ' ');
    // The library's messages usually name the file already; add it if not.
    const std::string name = display(item.input);
    if (line.find(name) == std::string::npos) line = name + ": " + line;
    if (tty_ && !quiet_) std::fputs("\r\x1b[K", stderr);  // clear the bar
    std::fprintf(stderr, "convkit: error: %s\n", line.c_str());
    if (tty_ && !quiet_) draw(item.input);
  }

  void finish() {
    std::lock_guard<std::mutex> lk(m_);
    if (tty_ && !quiet_ && drawn_) std::fputs("\n", stderr);
    std::fflush(stderr);
  }

 private:
  void draw(const std::string& last) {
    const int width = 30;
    int filled = total_ ? static_cast<int>(width * finished_ / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\x1b[Kconvkit %s [%s] %zu/%zu %s", verb_.c_str(), bar.c_str(),
                 finished_, total_, display(last).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  std::mutex m_;
  std::size_t total_, finished_ = 0;
  bool quiet_, tty_, drawn_ = false;
  std::string verb_;
};

}  // namespace

void add_batch_options(CLI::App* sub, BatchOptions& o) {
  sub->add_option("inputs", o.inputs, "Input images ('-' reads standard input)")->required();
  sub->add_option("-o,--output", o.output,
                  "Output file for a single input, format by extension ('-' writes PNG to "
                  "standard output)");
  sub->add_option("--outdir", o.outdir,
                  "Directory for the outputs (created if missing); each keeps its input's base "
                  "name");
  sub->add_option("--suffix", o.suffix, "Appended to each output's base name in --outdir");
  sub->add_option("--format", o.format,
                  "Output format in --outdir: png, jpg, bmp, tga, pgm, ppm, npy (default: the "
                  "input's)");
  sub->add_option("-j,--jobs", o.jobs, "Files processed at the same time")
      ->check(whole_range(1, 256))
      ->default_val(1);
  sub->add_option("--shard", o.shard,
                  "Process only part K of N of the inputs (1-based, round-robin: inputs "
                  "K, K+N, K+2N, ...)");
  sub->add_flag("-q,--quiet", o.quiet, "No progress output; errors only");
}

bool is_float_output(const std::string& path) {
  return lower(fs::path(path).extension().string()) == ".npy";
}

std::vector<BatchItem> plan_batch(const BatchOptions& o) {
  if (o.inputs.empty()) throw UsageError("no input files");
  if (!o.output.empty() && !o.outdir.empty())
    throw UsageError("give either -o OUT (one input) or --outdir DIR, not both");
  if (!o.output.empty() && o.inputs.size() > 1)
    throw UsageError("-o takes one input; for " + std::to_string(o.inputs.size()) +
                     " inputs use --outdir DIR");
  if (!o.format.empty() && o.outdir.empty())
    throw UsageError("--format applies with --outdir; with -o the extension picks the format");
  if (!o.suffix.empty() && o.outdir.empty()) throw UsageError("--suffix applies with --outdir");
  if (o.inputs.size() > 1 && std::find(o.inputs.begin(), o.inputs.end(), "-") != o.inputs.end())
    throw UsageError("'-' (standard input) must be the only input");
  if (o.inputs.size() > 1 && o.outdir.empty())
    throw UsageError("several inputs need --outdir DIR for their outputs");
  std::string ext;
  if (!o.format.empty()) {
    ext = "." + lower(o.format);
    if (ext == ".jpeg") ext = ".jpg";
    if (!is_image_path("x" + ext))
      throw UsageError("--format '" + o.format +
                       "' is not a format convkit writes (png, jpg, bmp, tga, pgm, ppm, npy)");
  }
  int shard_k = 1, shard_n = 1;
  if (!o.shard.empty()) parse_shard(o.shard, shard_k, shard_n);

  std::vector<BatchItem> items;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < o.inputs.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shard_n)) != shard_k - 1) continue;
    const std::string& in = o.inputs[i];
    BatchItem item{in, ""};
    if (!o.output.empty()) {
      item.output = o.output;
      if (item.output != "-" && !is_image_path(item.output))
        throw UsageError("output '" + item.output +
                         "' has no image extension convkit writes (png, jpg, bmp, tga, pgm, ppm, "
                         "npy)");
    } else if (o.outdir.empty()) {
      if (in != "-") throw UsageError("where should the result go? give -o OUT or --outdir DIR");
      item.output = "-";
    } else {
      fs::path p = in == "-" ? fs::path("stdin.png") : fs::path(in);
      std::string e = ext.empty() ? p.extension().string() : ext;
      std::string name = p.stem().string() + o.suffix + e;
      item.output = (fs::path(o.outdir) / name).string();
      if (!is_image_path(item.output))
        throw UsageError("cannot name an output for '" + display(in) + "': '" + e +
                         "' is not a format convkit writes; choose one with --format");
      std::string key = fs::path(item.output).lexically_normal().string();
      if (!seen.insert(key).second)
        throw UsageError("two inputs would both be written to '" + item.output +
                         "'; use --suffix or separate runs");
    }
    if (item.output == "-" && isatty(1) == 1)
      throw UsageError(
          "refusing to write an image to a terminal; give -o OUT or redirect "
          "standard output");
    items.push_back(std::move(item));
  }
  return items;
}

int run_batch(const BatchOptions& o, const std::string& verb,
              const std::function<void(const BatchItem&)>& work) {
  std::vector<BatchItem> items = plan_batch(o);
  if (!o.outdir.empty() && !items.empty()) {
    std::error_code ec;
    fs::create_directories(o.outdir, ec);
    if (ec || !fs::is_directory(o.outdir))
      throw Error("cannot create the output directory '" + o.outdir +
                  "': " + (ec ? ec.message() : std::string("not a directory")));
  }
  Progress progress(items.size(), o.quiet, verb);
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= items.size()) return;
      const BatchItem& item = items[i];
      try {
        work(item);
        progress.done(item);
      } catch (const std::bad_alloc&) {
        ++failures;
        progress.failed(item, "out of memory");
      } catch (const std::exception& e) {
        ++failures;
        progress.failed(item, e.what());
      }
    }
  };
  const int jobs = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(o.jobs),
                                                          std::max<std::size_t>(items.size(), 1)));
  if (jobs <= 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  progress.finish();
  const int failed = failures.load();
  if (failed > 0) {
    if (items.size() > 1)
      std::fprintf(stderr, "convkit: %d of %zu files failed\n", failed, items.size());
    set_exit_status(1);
  }
  return failed;
}

void add_policy_options(CLI::App* sub, PolicyFlags& p) {
  sub->add_flag("--abs", p.abs, "Integer output: write |v| (then clamp to the format's range)");
  sub->add_flag("--normalize", p.normalize,
                "Integer output: map the image's [min, max] onto the format's full range");
  sub->add_option("--offset", p.offset,
                  "Integer output: write v + V (then clamp); V is in the output's units, e.g. 128 "
                  "for 8-bit, 32768 for 16-bit")
      ->check(any_finite())
      ->each([&p](const std::string&) { p.offset_given = true; });
  sub->add_flag("--clip", p.clip, "Integer output: clamp values to the format's range");
}

bool apply_policy_flags(const PolicyFlags& p, ImageWriteOptions& opts) {
  int n = int(p.abs) + int(p.normalize) + int(p.clip) + int(p.offset_given);
  if (n > 1) throw UsageError("choose one of --abs, --normalize, --offset V and --clip");
  if (n == 0) return false;
  if (p.abs) opts.policy = ValuePolicy::abs;
  if (p.normalize) opts.policy = ValuePolicy::normalize;
  if (p.clip) opts.policy = ValuePolicy::clip;
  if (p.offset_given) {
    opts.policy = ValuePolicy::offset;
    opts.offset = static_cast<float>(p.offset);
  }
  return true;
}

}  // namespace convkit::cli

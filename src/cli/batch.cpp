// The shared batch driver (see batch.hpp).
#include "cli/batch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <thread>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/colour.hpp"
#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/text.hpp"
#include "convkit/io/tiff.hpp"

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

// --shard auto: K/N from Slurm's job-array variables.  The ids must form one
// arithmetic run MIN, MIN+STEP, ..., MAX (sbatch --array=A-B or A-B:S, any %
// limit); K counts from 1 whatever MIN is, so --array=0-31 and --array=1-32
// both give shards 1..32 of 32.
void shard_from_slurm(int& k, int& n) {
  auto get = [](const char* name) -> std::optional<long long> {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    long long x = 0;
    auto r = std::from_chars(v, v + std::strlen(v), x);
    if (r.ec != std::errc() || *r.ptr != '\0' || x < 0 || x > 100000000)
      throw UsageError(std::string("--shard auto: ") + name + "='" + v + "' is not an array index");
    return x;
  };
  const auto id = get("SLURM_ARRAY_TASK_ID");
  const auto min = get("SLURM_ARRAY_TASK_MIN");
  auto count = get("SLURM_ARRAY_TASK_COUNT");
  const auto max = get("SLURM_ARRAY_TASK_MAX");
  const long long step = get("SLURM_ARRAY_TASK_STEP").value_or(1);
  auto missing = [](const char* name) {
    return UsageError(std::string("--shard auto needs Slurm's job-array variables, but ") + name +
                      " is not set (run it from an sbatch --array job, or give --shard K/N)");
  };
  if (!id) throw missing("SLURM_ARRAY_TASK_ID");
  if (!min) throw missing("SLURM_ARRAY_TASK_MIN");
  if (step < 1) throw UsageError("--shard auto: SLURM_ARRAY_TASK_STEP must be at least 1");
  if (!count && max && *max >= *min) count = (*max - *min) / step + 1;
  if (!count) throw missing("SLURM_ARRAY_TASK_COUNT");
  const auto uneven = [] {
    return UsageError(
        "--shard auto: the array's ids are not one evenly spaced run (SLURM_ARRAY_TASK_MIN, "
        "_MAX, _STEP, _COUNT disagree); use --array=A-B or A-B:S, or compute --shard K/N");
  };
  if (*count < 1 || (max && *max - *min != (*count - 1) * step)) throw uneven();
  if (*id < *min || (*id - *min) % step != 0 || (*id - *min) / step >= *count) throw uneven();
  k = static_cast<int>((*id - *min) / step + 1);
  n = static_cast<int>(*count);
}

// The entries of a --files-from list.  Bounded: at most 1 GiB of list and
// kMaxEntries entries of at most kMaxPath bytes; empty entries are skipped.
constexpr std::size_t kMaxEntries = 10'000'000;
constexpr std::size_t kMaxPath = 4096;

std::vector<std::string> read_list(const std::string& file, bool null_separated) {
  const std::string name = "--files-from " + (file == "-" ? std::string("<stdin>") : file);
  std::string text;
  try {
    text = read_file_bytes(file, std::size_t(1) << 30);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--files-from: ") + e.what());
  }
  if (null_separated && text.find('\0') == std::string::npos &&
      text.find('\n') != std::string::npos)
    throw UsageError(name + " has lines but no NUL separators; drop -0 for a list of lines");
  const char sep = null_separated ? '\0' : '\n';
  std::vector<std::string> out;
  std::size_t pos = 0, number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string::npos) end = text.size();
    std::string entry = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!null_separated && !entry.empty() && entry.back() == '\r') entry.pop_back();
    if (entry.empty()) continue;
    const std::string where =
        name + (null_separated ? ", entry " : ", line ") + std::to_string(number);
    if (entry.find('\0') != std::string::npos)
      throw UsageError(where + " contains a NUL byte; a list from find -print0 needs -0");
    if (entry.size() > kMaxPath)
      throw UsageError(where + " is longer than " + std::to_string(kMaxPath) + " bytes");
    if (entry == "-") throw UsageError(where + ": '-' (standard input) cannot be listed");
    if (out.size() == kMaxEntries)
      throw UsageError(name + " lists more than " + std::to_string(kMaxEntries) +
                       " inputs; split it into several runs");
    out.push_back(std::move(entry));
  }
  return out;
}

// --log FILE: one JSON object a line, each line one write() on an O_APPEND
// descriptor, so shards appending to one local file never interleave lines.
class JsonLog {
 public:
  explicit JsonLog(const std::string& path) : path_(path) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error("--log " + path + ": cannot open: " + std::strerror(errno));
  }
  ~JsonLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;

  /// status: ok, skipped or failed; bytes < 0 is written as null.
  void record(const BatchItem& item, const char* status, const std::string& error, double ms,
              long long bytes) {
    if (fd_ < 0) return;
    char num[64];
    std::string line = "{\"input\":" + json_string(item.input) +
                       ",\"output\":" + (item.output.empty() ? "null" : json_string(item.output)) +
                       ",\"status\":\"" + status +
                       "\",\"error\":" + (error.empty() ? "null" : json_string(error));
    std::snprintf(num, sizeof num, ",\"ms\":%.3f,\"bytes\":", ms);
    line += num;
    line += bytes < 0 ? "null" : std::to_string(bytes);
    line += "}\n";
    std::lock_guard<std::mutex> lk(m_);
    ssize_t w = ::write(fd_, line.data(), line.size());
    if (w != static_cast<ssize_t>(line.size()) && !failed_) {
      failed_ = true;
      std::fprintf(stderr, "convkit: error: --log %s: write failed: %s\n", path_.c_str(),
                   w < 0 ? std::strerror(errno) : "short write");
    }
  }
  bool failed() const { return failed_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex m_;
  bool failed_ = false;
};

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

  /// A finished input; `skipped` when its output existed (--skip-existing).
  void done(const BatchItem& item, bool skipped = false) {
    std::lock_guard<std::mutex> lk(m_);
    ++finished_;
    if (quiet_) return;
    if (tty_) {
      draw(item.input);
    } else {
      std::fprintf(stderr, "convkit %s: [%zu/%zu] %s -> %s%s\n", verb_.c_str(), finished_, total_,
                   display(item.input).c_str(), display_out(item.output).c_str(),
                   skipped ? " (exists, skipped)" : "");
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
  sub->add_option("inputs", o.inputs, "Input images ('-' reads standard input)");
  sub->add_option("-o,--output", o.output,
                  "Output file for a single input, format by extension ('-': standard output, "
                  "NPY for .npy float input, else PNG, or --format)");
  add_batch_flags(sub, o);
}

void add_batch_flags(CLI::App* sub, BatchOptions& o) {
  sub->add_option("--outdir", o.outdir,
                  "Directory for the outputs (created if missing); each keeps its input's base "
                  "name");
  sub->add_option("--suffix", o.suffix, "Appended to each output's base name in --outdir");
  sub->add_option("--format", o.format,
                  "Output format in --outdir or on standard output (-o -): png, jpg, bmp, tga, "
                  "pgm, ppm, tif, npy (default: the input's)");
  sub->add_option("--compression", o.compression, "TIFF output: none (default), lzw or deflate")
      ->check(CLI::IsMember({"none", "lzw", "deflate"}));
  sub->add_option("--tile", o.tile,
                  "TIFF output in N x N tiles (N a multiple of 16) instead of strips")
      ->check(whole_range(16, 65536));
  sub->add_option("--quality", o.quality, "JPEG quality, 1 (smallest) to 100 (best); default 92")
      ->check(whole_range(1, 100));
  sub->add_option("-j,--jobs", o.jobs, "Files processed at the same time")
      ->check(whole_range(1, 256))
      ->default_val(1);
  sub->add_option("--shard", o.shard,
                  "Process only part K of N of the inputs (1-based, round-robin: inputs "
                  "K, K+N, K+2N, ...); 'auto' takes K and N from a Slurm job array "
                  "(SLURM_ARRAY_TASK_ID, _MIN, _STEP, _COUNT)");
  sub->add_option("--files-from", o.files_from,
                  "Read inputs from FILE, one path a line ('-' = standard input); after any "
                  "INPUTs given on the command line");
  sub->add_flag("-0,--null", o.null_separated,
                "--files-from entries end with NUL bytes (find -print0), not newlines");
  sub->add_option("--relative-to", o.relative_to,
                  "With --outdir: keep each input's path below DIR (DIR/a/b.png -> OUTDIR/a/b.png, "
                  "directories created); an input outside DIR fails");
  sub->add_flag("--skip-existing", o.skip_existing,
                "Do not recompute an output that exists (outputs are written whole or not at "
                "all, so an existing one is complete)");
  sub->add_option("--log", o.log,
                  "Append one JSON line per input to FILE: input, output, status "
                  "(ok/skipped/failed), error, ms, bytes");
  sub->add_flag("-q,--quiet", o.quiet, "No progress output; errors only");
}

TiffWriteOptions tiff_options(const BatchOptions& o) {
  TiffWriteOptions t;
  if (!o.compression.empty()) t.compression = parse_tiff_compression(o.compression);
  if (o.tile != 0) {
    if (o.tile % 16 != 0)
      throw UsageError("--tile must be a multiple of 16 (got " + std::to_string(o.tile) + ")");
    t.tiled = true;
    t.tile_width = t.tile_height = o.tile;
  }
  return t;
}

void check_tiff_flags(const BatchOptions& o, const std::string& output) {
  if (o.compression.empty() && o.tile == 0) return;
  const std::string ext =
      output == "-" ? "." + lower(o.format) : lower(fs::path(output).extension().string());
  if (ext != ".tif" && ext != ".tiff")
    throw UsageError(
        "--compression and --tile apply to TIFF output (.tif, .tiff, or --format tif "
        "with -o -); '" +
        output + "' is not one");
}

std::string stdout_format(const BatchOptions& o, const Image& in) {
  if (!o.format.empty()) return lower(o.format);
  return in.is_float() ? "npy" : "png";
}

bool is_float_output(const std::string& path) {
  return lower(fs::path(path).extension().string()) == ".npy";
}

namespace {

// `p` made absolute with "." and ".." removed (symbolic links are not followed).
fs::path absolute_normal(const std::string& p) {
  fs::path a = fs::absolute(fs::path(p)).lexically_normal();
  if (a.has_parent_path() && a.filename().empty()) a = a.parent_path();  // "dir/" -> "dir"
  return a;
}

// Name the output of `in` under --outdir; sets item.error instead when it has
// none (outside --relative-to, or an extension convkit does not write), so
// that this input fails on its own.
void name_output(const BatchOptions& o, const std::string& ext, const fs::path& base,
                 BatchItem& item) {
  const std::string& in = item.input;
  fs::path p = in == "-" ? fs::path("stdin.png") : fs::path(in);
  fs::path sub;  // directories below --outdir
  if (!o.relative_to.empty()) {
    fs::path rel = in == "-" ? fs::path("..") : absolute_normal(in).lexically_relative(base);
    if (rel.empty() || *rel.begin() == ".." || rel == ".") {
      item.error = display(in) + ": not below --relative-to " + o.relative_to;
      return;
    }
    sub = rel.parent_path();
  }
  std::string e = ext.empty() ? p.extension().string() : ext;
  fs::path out = fs::path(o.outdir) / sub / (p.stem().string() + o.suffix + e);
  if (!is_image_path(out.string())) {
    item.error = display(in) + ": cannot name its output: '" + e +
                 "' is not a format convkit writes; choose one with --format";
    return;
  }
  item.output = out.string();
}

}  // namespace

std::vector<BatchItem> plan_batch(const BatchOptions& o) {
  tiff_options(o);  // a bad --tile before any file
  std::vector<std::string> inputs = o.inputs;
  if (!o.files_from.empty()) {
    if (o.files_from == "-" && std::find(inputs.begin(), inputs.end(), "-") != inputs.end())
      throw UsageError("--files-from - and the input '-' cannot both read standard input");
    auto listed = read_list(o.files_from, o.null_separated);
    if (listed.empty()) throw UsageError("--files-from " + o.files_from + " lists no inputs");
    inputs.insert(inputs.end(), listed.begin(), listed.end());
  } else if (o.null_separated) {
    throw UsageError("-0/--null applies with --files-from");
  }
  if (inputs.empty()) throw UsageError("no input files: give INPUT... or --files-from FILE");
  if (!o.output.empty() && !o.outdir.empty())
    throw UsageError("give either -o OUT (one input) or --outdir DIR, not both");
  if (!o.output.empty() && inputs.size() > 1)
    throw UsageError("-o takes one input; for " + std::to_string(inputs.size()) +
                     " inputs use --outdir DIR");
  const bool to_stdout = o.output == "-" || (o.output.empty() && o.outdir.empty() &&
                                             inputs.size() == 1 && inputs[0] == "-");
  if (!o.format.empty() && o.outdir.empty() && !to_stdout)
    throw UsageError(
        "--format applies with --outdir or -o - (standard output); with -o FILE the "
        "extension picks the format");
  if (!o.suffix.empty() && o.outdir.empty()) throw UsageError("--suffix applies with --outdir");
  if (!o.relative_to.empty() && o.outdir.empty())
    throw UsageError("--relative-to applies with --outdir");
  if (inputs.size() > 1 && std::find(inputs.begin(), inputs.end(), "-") != inputs.end())
    throw UsageError("'-' (standard input) must be the only input");
  if (inputs.size() > 1 && o.outdir.empty())
    throw UsageError("several inputs need --outdir DIR for their outputs");
  std::string ext;
  if (!o.format.empty()) {
    ext = "." + lower(o.format);
    if (ext == ".jpeg") ext = ".jpg";
    if (!is_image_path("x" + ext))
      throw UsageError("--format '" + o.format +
                       "' is not a format convkit writes (png, jpg, bmp, tga, pgm, ppm, tif, npy)");
  }
  int shard_k = 1, shard_n = 1;
  if (o.shard == "auto")
    shard_from_slurm(shard_k, shard_n);
  else if (!o.shard.empty())
    parse_shard(o.shard, shard_k, shard_n);
  const fs::path base = o.relative_to.empty() ? fs::path() : absolute_normal(o.relative_to);

  // Outputs are named for the whole list, not only this shard, so that two
  // inputs in different shards cannot overwrite each other either.
  std::vector<BatchItem> items;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool mine = static_cast<int>(i % static_cast<std::size_t>(shard_n)) == shard_k - 1;
    const std::string& in = inputs[i];
    BatchItem item{in, "", ""};
    if (!o.output.empty()) {
      item.output = o.output;
      if (item.output != "-" && !is_image_path(item.output))
        throw UsageError("output '" + item.output +
                         "' has no image extension convkit writes (png, jpg, bmp, tga, pgm, ppm, "
                         "tif, npy)");
    } else if (o.outdir.empty()) {
      if (in != "-") throw UsageError("where should the result go? give -o OUT or --outdir DIR");
      item.output = "-";
    } else {
      name_output(o, ext, base, item);
      if (!item.output.empty() &&
          !seen.insert(fs::path(item.output).lexically_normal().string()).second)
        throw UsageError(
            "two inputs would both be written to '" + item.output + "'" +
            (o.relative_to.empty() ? "; use --relative-to DIR to keep their folders" : "") +
            ", --suffix, or separate runs");
    }
    if (o.quality != 0 && !item.output.empty()) {
      const std::string e = item.output == "-" ? "." + lower(o.format)
                                               : lower(fs::path(item.output).extension().string());
      if (e != ".jpg" && e != ".jpeg")
        throw UsageError("--quality applies to JPEG output (.jpg, or --format jpg); '" +
                         display(item.output) + "' is not JPEG");
    }
    if (!item.output.empty()) check_tiff_flags(o, item.output);
    if (!mine) continue;
    if (item.output == "-" && isatty(1) == 1)
      throw UsageError(
          "refusing to write an image to a terminal; give -o OUT or redirect "
          "standard output");
    items.push_back(std::move(item));
  }
  return items;
}

int run_batch(const BatchOptions& o, const std::vector<BatchItem>& items, const std::string& verb,
              const std::function<void(const BatchItem&)>& work) {
  if (!o.outdir.empty() && !items.empty()) {
    std::error_code ec;
    fs::create_directories(o.outdir, ec);
    if (ec || !fs::is_directory(o.outdir))
      throw Error("cannot create the output directory '" + o.outdir +
                  "': " + (ec ? ec.message() : std::string("not a directory")));
  }
  JsonLog log(o.log);
  Progress progress(items.size(), o.quiet, verb);
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= items.size()) return;
      const BatchItem& item = items[i];
      const auto start = std::chrono::steady_clock::now();
      auto ms = [&] {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
      };
      auto size_of = [](const std::string& path) -> long long {
        std::error_code ec;
        auto n = path == "-" ? std::uintmax_t(-1) : fs::file_size(path, ec);
        return ec || n == std::uintmax_t(-1) ? -1 : static_cast<long long>(n);
      };
      std::string why;
      try {
        if (!item.error.empty()) throw Error(item.error);
        if (o.skip_existing && item.output != "-" && fs::exists(item.output)) {
          progress.done(item, true);
          log.record(item, "skipped", "", ms(), size_of(item.output));
          continue;
        }
        if (!o.relative_to.empty()) {
          fs::path dir = fs::path(item.output).parent_path();
          std::error_code ec;
          if (!dir.empty()) fs::create_directories(dir, ec);
          if (ec) throw Error("cannot create '" + dir.string() + "': " + ec.message());
        }
        work(item);
        progress.done(item);
        log.record(item, "ok", "", ms(), size_of(item.output));
        continue;
      } catch (const std::bad_alloc&) {
        why = "out of memory";
      } catch (const std::exception& e) {
        why = error_text(e);
      }
      ++failures;
      progress.failed(item, why);
      log.record(item, "failed", why, ms(), -1);
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
      std::fprintf(stderr, "convkit: %d of %zu inputs failed\n", failed, items.size());
    // 1: nothing was done; 3: some inputs failed, the others are done.
    set_exit_status(static_cast<std::size_t>(failed) == items.size() ? 1 : 3);
  }
  if (log.failed()) set_exit_status(1);
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

void add_colour_options(CLI::App* sub, ColourFlags& c, const std::string& verb) {
  sub->add_option("--alpha", c.alpha,
                  "RGBA / grey+alpha: premultiply (default: colour filtered as colour*alpha, no "
                  "halos at transparent edges) or pass (each channel on its own, alpha unchanged)")
      ->check(CLI::IsMember(names_of(kAlphaModeNames)))
      ->default_val("premultiply");
  sub->add_flag("--linear", c.linear,
                verb + " in linear light: sRGB decoded before, encoded after (float in between)");
}

void apply_quality(const BatchOptions& o, ImageWriteOptions& opts) {
  if (o.quality != 0) opts.jpeg_quality = o.quality;
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

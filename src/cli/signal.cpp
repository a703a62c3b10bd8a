// convkit signal KIND — standard 1D signals as "n value" text (or .npy).
//
// Every signal is defined for all n and then shifted: x_N(n) = x(n - N).
//   rect / boxcar  1 for 0 <= n < L
//   geometric      a^n for 0 <= n < L (a^n u(n), truncated)
//   impulse        1 at n = 0
//   step           1 for n >= 0 (u(n))
//   sine           A sin(2 pi f n + phase)
//   noise          uniform in [-A, A], the value at each n fixed by the seed
// The samples printed are n = N .. N+L-1 (the signal's support), or the window
// --range A:B / --start A --end B, with zeros where the signal is zero.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <optional>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/text.hpp"
#include "convkit/random.hpp"

namespace convkit::cli {

namespace {

struct SignalOptions {
  std::string kind;
  std::optional<long long> length;
  long long shift = 0;
  std::optional<double> ratio;
  std::optional<long long> start, end;
  std::string range;
  std::optional<double> freq;
  double amplitude = 1;
  double phase = 0;
  std::uint64_t seed = 1;
  std::string output;
};

// A fixed, portable hash from (seed, n) to 64 random bits.
std::uint64_t mix(std::uint64_t x) {
  return splitmix64_at(x, 1);
}

void run_signal(const SignalOptions& o) {
  std::string kind = o.kind == "boxcar" ? "rect" : o.kind;
  if (o.length && *o.length < 1) throw UsageError("--length must be at least 1");
  if (o.ratio && kind != "geometric") throw UsageError("--ratio applies to the geometric signal");
  if (o.freq && kind != "sine") throw UsageError("--freq applies to the sine signal");

  // The support's length before shifting (0: unbounded).
  long long support = 0;
  if (kind == "rect") {
    if (!o.length) throw UsageError("rect needs --length L");
    support = *o.length;
  } else if (kind == "geometric") {
    if (!o.ratio) throw UsageError("geometric needs --ratio a (the signal is a^n u(n))");
    const double a = std::fabs(*o.ratio);
    if (o.length) {
      support = *o.length;
    } else if (a < 1) {
      // Until |a|^n drops below 2^-60: the rest no longer changes a double sum.
      support = a == 0 ? 1 : static_cast<long long>(std::ceil(-60 * std::log(2.0) / std::log(a)));
      if (support > (1 << 24))
        throw UsageError("geometric with ratio " + format_number(*o.ratio) +
                         " decays too slowly; give --length L");
    } else {
      throw UsageError("geometric with |ratio| >= 1 grows without end; give --length L");
    }
  } else if (kind == "impulse") {
    support = 1;
  }

  // The window of n to print.
  long long lo = 0, hi = 0;
  if (!o.range.empty()) {
    if (o.start || o.end) throw UsageError("give --range or --start/--end, not both");
    auto colon = o.range.find(':', o.range[0] == '-' ? 1 : 0);
    try {
      if (colon == std::string::npos) throw std::invalid_argument("");
      std::size_t u1 = 0, u2 = 0;
      const std::string a = o.range.substr(0, colon), b = o.range.substr(colon + 1);
      lo = std::stoll(a, &u1);
      hi = std::stoll(b, &u2);
      if (u1 != a.size() || u2 != b.size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--range '" + o.range + "' is not of the form A:B (e.g. -6:12)");
    }
  } else if (o.start || o.end) {
    if (!o.start || !o.end) throw UsageError("give both --start and --end");
    lo = *o.start;
    hi = *o.end;
  } else {
    long long len = o.length ? *o.length : support;
    if (len == 0)
      throw UsageError(kind + " has no end: give --length L, --range A:B or --start/--end");
    lo = o.shift;
    hi = o.shift + len - 1;
  }
  if (hi < lo) throw UsageError("the window ends before it starts");
  if (hi - lo >= (1LL << 28))
    throw UsageError("the window is too long (at most 268435456 samples)");

  Signal s;
  s.origin = lo;
  s.values.reserve(static_cast<std::size_t>(hi - lo + 1));
  for (long long n = lo; n <= hi; ++n) {
    const long long m = n - o.shift;  // unshifted index
    const bool in_support = m >= 0 && (support == 0 || m < support);
    double v = 0;
    if (kind == "rect" || kind == "impulse") {
      v = in_support ? 1 : 0;
    } else if (kind == "geometric") {
      v = in_support ? std::pow(*o.ratio, static_cast<double>(m)) : 0;
    } else if (kind == "step") {
      v = m >= 0 ? 1 : 0;
    } else if (kind == "sine") {
      if (!o.freq) throw UsageError("sine needs --freq F (cycles per sample)");
      v = o.amplitude * std::sin(2 * std::numbers::pi * *o.freq * static_cast<double>(m) + o.phase);
    } else if (kind == "noise") {
      const double u =
          static_cast<double>(mix(o.seed * 0x100000001b3ULL ^ mix(static_cast<std::uint64_t>(m))) >>
                              11) *
          0x1.0p-53;
      v = o.amplitude * (2 * u - 1);
    }
    s.values.push_back(v);
  }
  auto slash = o.output.find_last_of('/');
  auto dot = o.output.find_last_of('.');
  std::string ext = (dot == std::string::npos || (slash != std::string::npos && dot < slash))
                        ? ""
                        : o.output.substr(dot + 1);
  if (ext == "npy" || ext == "NPY") {
    NpyArray a;
    a.shape = {static_cast<std::int64_t>(s.values.size())};
    a.data = s.values;
    a.origin = s.origin;  // kept in the header, read back by convolve
    write_npy(o.output, a, NpyType::f8);
  } else if (ext == "csv" || ext == "CSV") {
    // Real CSV: "n,value" rows (no comment line), which convolve reads back.
    std::string text;
    for (std::size_t k = 0; k < s.values.size(); ++k)
      text += std::to_string(s.origin + static_cast<std::int64_t>(k)) + "," +
              format_number(s.values[k]) + "\n";
    write_file_atomic(o.output, text);
  } else if (o.output.empty() || o.output == "-") {
    const std::string text = format_signal(s);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(o.output, format_signal(s));
  }
}

void register_signal(CLI::App& app) {
  auto opts = std::make_shared<SignalOptions>();
  CLI::App* sub = app.add_subcommand(
      "signal", "Make a standard 1D signal (rect, geometric, impulse, step, sine, noise)");
  sub->add_option("KIND", opts->kind, "rect (or boxcar), geometric, impulse, step, sine, noise")
      ->required()
      ->check(CLI::IsMember({"rect", "boxcar", "geometric", "impulse", "step", "sine", "noise"}));
  sub->add_option("-L,--length", opts->length,
                  "Number of samples from the start (rect: its length L; geometric: where a^n is "
                  "cut off, default when |a|^n < 2^-60)")
      ->check(whole_range(1, 1LL << 28));
  sub->add_option("-N,--shift", opts->shift, "Shift by N samples: x(n - N)")
      ->default_str("0")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--ratio", opts->ratio, "geometric: a in a^n u(n)")->check(any_finite());
  sub->add_option("--range", opts->range, "Print n = A..B (zeros outside the support), as A:B");
  sub->add_option("--start", opts->start, "First n to print (with --end)")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--end", opts->end, "Last n to print (with --start)")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--freq", opts->freq, "sine: frequency in cycles per sample")
      ->check(any_finite());
  sub->add_option("--amplitude", opts->amplitude, "sine and noise: amplitude")
      ->default_str("1")
      ->check(any_finite());
  sub->add_option("--phase", opts->phase, "sine: phase in radians")
      ->default_str("0")
      ->check(any_finite());
  sub->add_option("--seed", opts->seed, "noise: random seed (same seed, same samples)")
      ->default_str("1")
      ->check(whole_range(0, (1LL << 62)));
  sub->add_option("-o,--output", opts->output,
                  "Output file: \"n value\" text, .csv (\"n,value\" rows), or .npy (the first n "
                  "kept in the header); "
                  "default standard output");
  sub->footer(R"(Examples:
  convkit signal rect --length 7                      # x(n) = 1 for n = 0..6
  convkit signal rect --length 7 --shift 5 -o x2.txt  # x(n - 5), the seed's 2(b)
  convkit signal geometric --ratio 0.5 --length 64 -o h.txt
  convkit signal impulse --range -3:3
  convkit signal sine --freq 0.05 --length 100 --amplitude 2 -o s.npy
  convkit signal noise --length 1000 --seed 7

Output is "n value" per line, values printed so they read back exactly;
convkit convolve keeps the sample indices (origins) of its inputs.  A .npy
file keeps the first sample's index n as a comment after its header dict
("# convkit origin: 5"), which numpy.load skips and convolve reads back.)");
  sub->callback([opts, sub] {
    // Every flag acts or is refused.
    const std::string kind = opts->kind == "boxcar" ? "rect" : opts->kind;
    if (sub->count("--amplitude") > 0 && kind != "sine" && kind != "noise")
      throw UsageError("--amplitude applies to the sine and noise signals");
    if (sub->count("--phase") > 0 && kind != "sine")
      throw UsageError("--phase applies to the sine signal");
    if (sub->count("--seed") > 0 && kind != "noise")
      throw UsageError("--seed applies to the noise signal");
    run_signal(*opts);
  });
}

}  // namespace

CONVKIT_COMMAND(20, register_signal);

}  // namespace convkit::cli

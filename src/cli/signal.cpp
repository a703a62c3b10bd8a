// convkit signal KIND — the standard 1D signals (convkit/signal.hpp) as
// "n value" text, .csv or .npy.  The samples printed are the signal's support,
// or the window --range A:B / --start A --end B, with zeros where the signal is zero.
#include <cstdint>
#include <optional>

#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/signal.hpp"

namespace convkit::cli {

namespace {

struct SignalOptions {
  std::string kind;
  SignalSpec spec;
  std::optional<long long> start, end;
  std::string range;
  std::string output;
};

// The window from --range A:B or --start/--end, if given.
std::optional<SampleRange> window_of(const SignalOptions& o) {
  if (!o.range.empty()) {
    if (o.start || o.end) throw UsageError("give --range or --start/--end, not both");
    const auto colon = o.range.find(':', o.range[0] == '-' ? 1 : 0);
    try {
      if (colon == std::string::npos) throw std::invalid_argument("");
      std::size_t u1 = 0, u2 = 0;
      const std::string a = o.range.substr(0, colon), b = o.range.substr(colon + 1);
      SampleRange r{std::stoll(a, &u1), std::stoll(b, &u2)};
      if (u1 != a.size() || u2 != b.size()) throw std::invalid_argument("");
      return r;
    } catch (const std::exception&) {
      throw UsageError("--range '" + o.range + "' is not of the form A:B (e.g. -6:12)");
    }
  }
  if (!o.start && !o.end) return std::nullopt;
  if (!o.start || !o.end) throw UsageError("give both --start and --end");
  return SampleRange{*o.start, *o.end};
}

void register_signal(CLI::App& app) {
  auto opts = std::make_shared<SignalOptions>();
  SignalSpec& spec = opts->spec;
  CLI::App* sub = app.add_subcommand(
      "signal", "Make a standard 1D signal (rect, geometric, impulse, step, sine, noise)");
  sub->add_option("KIND", opts->kind, "rect (or boxcar), geometric, impulse, step, sine, noise")
      ->required()
      ->check(CLI::IsMember(names_of(kSignalKindNames)));
  sub->add_option("-L,--length", spec.length,
                  "Number of samples from the start (rect: its length L; geometric: where a^n is "
                  "cut off, default when |a|^n < 2^-60)")
      ->check(whole_range(1, 1LL << 28));
  sub->add_option("-N,--shift", spec.shift, "Shift by N samples: x(n - N)")
      ->default_str("0")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--ratio", spec.ratio, "geometric: a in a^n u(n)")->check(any_finite());
  sub->add_option("--range", opts->range, "Print n = A..B (zeros outside the support), as A:B");
  sub->add_option("--start", opts->start, "First n to print (with --end)")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--end", opts->end, "Last n to print (with --start)")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--freq", spec.freq, "sine: frequency in cycles per sample")->check(any_finite());
  sub->add_option("--amplitude", spec.amplitude, "sine and noise: amplitude")
      ->default_str("1")
      ->check(any_finite());
  sub->add_option("--phase", spec.phase, "sine: phase in radians")
      ->default_str("0")
      ->check(any_finite());
  sub->add_option("--seed", spec.seed, "noise: random seed (same seed, same samples)")
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
  sub->callback([opts] {
    opts->spec.kind = parse_name(kSignalKindNames, opts->kind, "signal");
    write_signal(make_signal(opts->spec, window_of(*opts)), opts->output);
  });
}

}  // namespace

CONVKIT_COMMAND(20, register_signal);

}  // namespace convkit::cli

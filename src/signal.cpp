// The standard signals of convkit/signal.hpp.
#include "convkit/signal.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/random.hpp"

namespace convkit {

namespace {

constexpr long long kMaxSamples = 1LL << 28;

// The support's length before shifting (0: unbounded), after refusing the
// parameters that do not apply to the kind.
long long support_length(const SignalSpec& s) {
  const SignalKind k = s.kind;
  if (s.length && *s.length < 1) throw UsageError(param("length") + " must be at least 1");
  if (s.ratio && k != SignalKind::geometric)
    throw UsageError(param("ratio") + " applies to the geometric signal");
  if (s.freq && k != SignalKind::sine)
    throw UsageError(param("freq") + " applies to the sine signal");
  if (s.amplitude && k != SignalKind::sine && k != SignalKind::noise)
    throw UsageError(param("amplitude") + " applies to the sine and noise signals");
  if (s.phase && k != SignalKind::sine)
    throw UsageError(param("phase") + " applies to the sine signal");
  if (s.seed && k != SignalKind::noise)
    throw UsageError(param("seed") + " applies to the noise signal");
  if (k == SignalKind::sine && !s.freq)
    throw UsageError("sine needs " + param("freq") + " F (cycles per sample)");
  switch (k) {
    case SignalKind::rect:
      if (!s.length) throw UsageError("rect needs " + param("length") + " L");
      return *s.length;
    case SignalKind::geometric: {
      if (!s.ratio)
        throw UsageError("geometric needs " + param("ratio") + " a (the signal is a^n u(n))");
      if (s.length) return *s.length;
      const double a = std::fabs(*s.ratio);
      if (!(a < 1))
        throw UsageError("geometric with |ratio| >= 1 grows without end; give " + param("length") +
                         " L");
      // Until |a|^n drops below 2^-60: the rest no longer changes a double sum.
      const long long n =
          a == 0 ? 1 : static_cast<long long>(std::ceil(-60 * std::log(2.0) / std::log(a)));
      if (n > (1 << 24))
        throw UsageError("geometric with ratio " + format_number(*s.ratio) +
                         " decays too slowly; give " + param("length") + " L");
      return n;
    }
    case SignalKind::impulse:
      return 1;
    case SignalKind::step:
    case SignalKind::sine:
    case SignalKind::noise:
      return 0;
  }
  return 0;
}

// A fixed, portable hash from (seed, n) to a uniform number in [0, 1).
double noise_uniform(std::uint64_t seed, long long m) {
  const auto mix = [](std::uint64_t x) { return splitmix64_at(x, 1); };
  return static_cast<double>(mix(seed * 0x100000001b3ULL ^ mix(static_cast<std::uint64_t>(m))) >>
                             11) *
         0x1.0p-53;
}

}  // namespace

Signal make_signal(const SignalSpec& spec, const std::optional<SampleRange>& range) {
  const long long support = support_length(spec);
  SampleRange r;
  if (range) {
    r = *range;
  } else {
    const long long len = spec.length ? *spec.length : support;
    if (len == 0)
      throw UsageError(std::string(name_of(kSignalKindNames, spec.kind)) + " has no end: give " +
                       param("length") + " L or a " + param("range"));
    r = {spec.shift, spec.shift + len - 1};
  }
  if (r.last < r.first) throw UsageError("the window ends before it starts");
  if (r.last - r.first >= kMaxSamples)
    throw UsageError("the window is too long (at most " + std::to_string(kMaxSamples) +
                     " samples)");

  const double amplitude = spec.amplitude.value_or(1), phase = spec.phase.value_or(0);
  const std::uint64_t seed = spec.seed.value_or(1);
  Signal s;
  s.origin = r.first;
  s.values.reserve(static_cast<std::size_t>(r.last - r.first + 1));
  for (long long n = r.first; n <= r.last; ++n) {
    const long long m = n - spec.shift;  // unshifted index
    const bool in_support = m >= 0 && (support == 0 || m < support);
    double v = 0;
    switch (spec.kind) {
      case SignalKind::rect:
      case SignalKind::impulse:
        v = in_support ? 1 : 0;
        break;
      case SignalKind::geometric:
        v = in_support ? std::pow(*spec.ratio, static_cast<double>(m)) : 0;
        break;
      case SignalKind::step:
        v = m >= 0 ? 1 : 0;
        break;
      case SignalKind::sine:
        v = amplitude *
            std::sin(2 * std::numbers::pi * *spec.freq * static_cast<double>(m) + phase);
        break;
      case SignalKind::noise:
        v = amplitude * (2 * noise_uniform(seed, m) - 1);
        break;
    }
    s.values.push_back(v);
  }
  return s;
}

void write_signal(const Signal& s, const std::string& path) {
  const std::size_t slash = path.find_last_of('/'), dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash)
                        ? ""
                        : path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "npy") {
    NpyArray a;
    a.shape = {static_cast<std::int64_t>(s.values.size())};
    a.data = s.values;
    a.origin = s.origin;  // kept in the header, read back by convolve
    write_npy(path, a, NpyType::f8);
    return;
  }
  std::string text;
  if (ext == "csv") {  // real CSV: "n,value" rows, no comment line
    for (std::size_t k = 0; k < s.values.size(); ++k)
      text += std::to_string(s.origin + static_cast<std::int64_t>(k)) + "," +
              format_number(s.values[k]) + "\n";
  } else {
    text = format_signal(s);
  }
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(path, text);
  }
}

}  // namespace convkit

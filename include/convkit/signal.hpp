// convkit/signal.hpp — the standard 1D signals, and writing a signal to a file.
//
// Every signal is defined for all n and then shifted: x_N(n) = x(n - N).
//   rect (boxcar)  1 for 0 <= n < L
//   geometric      a^n for 0 <= n < L (a^n u(n), truncated)
//   impulse        1 at n = 0
//   step           1 for n >= 0 (u(n))
//   sine           A sin(2 pi f n + phase)
//   noise          uniform in [-A, A], the value at each n fixed by the seed
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "convkit/io/text.hpp"
#include "convkit/names.hpp"

namespace convkit {

enum class SignalKind { rect, geometric, impulse, step, sine, noise };

inline constexpr EnumName<SignalKind> kSignalKindNames[] = {
    {"rect", SignalKind::rect},           {"boxcar", SignalKind::rect},
    {"geometric", SignalKind::geometric}, {"impulse", SignalKind::impulse},
    {"step", SignalKind::step},           {"sine", SignalKind::sine},
    {"noise", SignalKind::noise}};

/// A signal's definition.  A parameter given to a kind it does not apply to is
/// refused, so the optional ones are left empty unless they are meant.
struct SignalSpec {
  SignalKind kind = SignalKind::rect;
  /// The support's length L from the start (rect: required; geometric: where a^n is
  /// cut off, by default once |a|^n < 2^-60); also the samples made without a range.
  std::optional<long long> length;
  long long shift = 0;              ///< N in x(n - N)
  std::optional<double> ratio;      ///< geometric: a (required)
  std::optional<double> freq;       ///< sine: cycles per sample (required)
  std::optional<double> amplitude;  ///< sine and noise: A (default 1)
  std::optional<double> phase;      ///< sine: radians (default 0)
  std::optional<std::uint64_t>
      seed;  ///< noise: the same seed, the same value at each n (default 1)
};

/// The sample indices first..last (inclusive).
struct SampleRange {
  long long first = 0, last = 0;
};

/// The samples n in `range` of the signal, zeros outside its support; without a
/// range, the support itself (n = shift .. shift + length - 1).  At most 2^28
/// samples.  UsageError naming the parameter that is missing, out of range or
/// not for this kind.
Signal make_signal(const SignalSpec& spec, const std::optional<SampleRange>& range = {});

/// Write `s` by the name of `path`: .npy (float64, the first index n kept in the
/// header), .csv ("n,value" rows), anything else "n value" text under a
/// "# n value" line; "-" or "" is standard output (text).  Files are written atomically.
void write_signal(const Signal& s, const std::string& path);

}  // namespace convkit

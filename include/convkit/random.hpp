// convkit/random.hpp — the library's one source of random numbers: the
// splitmix64 mixer, the stream splitter, the Box-Muller normal and one
// generator class over a choice of bit engine.
//
// The standard library's distributions are implementation-defined, so every
// distribution here is fixed arithmetic and a seed gives the same numbers on
// every platform.  Two bit engines are used, each where its stream is pinned:
//   std::mt19937_64 (fixed by the standard): weight initialization, dropout
//     masks, `convkit sample`  — Rng;
//   xoshiro256** (Blackman & Vigna), seeded through splitmix64, whose four
//     words fit into a checkpoint: shuffles, splits, synthetic sets — DataRng.
// Distributions on top of either:
//   uniform()  = (u >> 11) * 2^-53, in [0, 1)
//   below(n)   = u % n after rejecting the biased top of the range
//   normal()   = Box-Muller: sqrt(-2 ln(1 - u1)) * cos(2 pi u2)
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>

namespace convkit {

inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

/// The splitmix64 output function: a bijective 64-bit mix.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// One splitmix64 step: advance `state` by the golden gamma and mix it.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  return splitmix64_mix(state += kGoldenGamma);
}

/// Output n (n >= 1) of the splitmix64 sequence started at `seed`, without
/// stepping through the first n - 1: a random-access hash of (seed, n).
constexpr std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t n) {
  return splitmix64_mix(seed + kGoldenGamma * n);
}

/// The stream splitter: an independent seed for stream (a, b) of `seed`
/// (the trainer uses a = epoch, b = purpose: shuffle, augmentation, ...).
constexpr std::uint64_t split_stream(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return splitmix64_mix(seed * kGoldenGamma ^ (a + 1) * 0xbf58476d1ce4e5b9ULL ^
                        (b + 1) * 0x94d049bb133111ebULL);
}

inline constexpr double kTwoPi = 6.283185307179586476925;

/// Box-Muller from two uniforms, u1 in (0, 1] and u2 in [0, 1): the pair of
/// independent standard normals (r cos 2 pi u2, r sin 2 pi u2).
inline std::pair<double, double> box_muller_pair(double u1, double u2) {
  const double r = std::sqrt(-2.0 * std::log(u1));
  return {r * std::cos(kTwoPi * u2), r * std::sin(kTwoPi * u2)};
}

/// The first of box_muller_pair, without computing the second.
inline double box_muller(double u1, double u2) {
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

/// xoshiro256**: 256 bits of state, seeded by four splitmix64 steps.
class Xoshiro256ss {
 public:
  using result_type = std::uint64_t;
  explicit Xoshiro256ss(std::uint64_t seed = 0) { this->seed(seed); }
  void seed(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t operator()() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::array<std::uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

/// The generator: the distributions above over a 64-bit bit engine.
template <class Engine>
class BasicRng {
 public:
  explicit BasicRng(std::uint64_t seed = 0) : gen_(seed) {}
  void seed(std::uint64_t s) { gen_.seed(s); }
  std::uint64_t next() { return gen_(); }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), n > 0, without modulo bias (rejection).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do x = gen_();
    while (x >= limit);
    return x % n;
  }

  /// Standard normal (Box-Muller, the cosine half).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return box_muller(1.0 - u1, u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  /// Both halves of one Box-Muller draw: the same two uniforms as normal().
  std::pair<double, double> normal_pair() {
    const double u1 = uniform(), u2 = uniform();
    return box_muller_pair(1.0 - u1, u2);
  }

  /// The engine's state (xoshiro256**: four words, for checkpoints).
  auto state() const requires requires(const Engine& e) { e.state(); }
  { return gen_.state(); }

 private:
  Engine gen_;
};

using Rng = BasicRng<std::mt19937_64>;
using DataRng = BasicRng<Xoshiro256ss>;

/// Fisher-Yates shuffle (the same permutation on every platform).
template <class Vec, class Engine>
void shuffle(Vec& v, BasicRng<Engine>& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace convkit

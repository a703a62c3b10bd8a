// convkit/nn/random.hpp — the one random-number source of the NN code.
//
// std::mt19937_64 is fully specified by the standard, so its output is the
// same on every platform; the distributions are ours (the standard library's
// are not specified bit for bit):
//   uniform()  = (u >> 11) * 2^-53, in [0, 1)
//   normal()   = Box-Muller: sqrt(-2 ln(1 - u1)) * cos(2 pi u2)
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace convkit {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : gen_(seed) {}
  void seed(std::uint64_t s) { gen_.seed(s); }
  std::uint64_t next() { return gen_(); }
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586476925 * u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

 private:
  std::mt19937_64 gen_;
};

}  // namespace convkit

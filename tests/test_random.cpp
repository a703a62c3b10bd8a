// The one random-number header: splitmix64 against its published sequence,
// the random-access and stepping forms against each other, and the
// generator's distributions against their definitions on the raw engine.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>

#include "convkit/random.hpp"

using namespace convkit;

TEST_CASE("[random] splitmix64 gives the published sequence for seed 1234567") {
  const std::uint64_t expected[] = {6457827717110365317ULL, 3203168211198807973ULL,
                                    9817491932198370423ULL, 4593380528125082431ULL,
                                    16408922859458223821ULL};
  std::uint64_t state = 1234567;
  for (std::uint64_t n = 1; n <= 5; ++n) {
    CAPTURE(n);
    CHECK(splitmix64(state) == expected[n - 1]);
    CHECK(splitmix64_at(1234567, n) == expected[n - 1]);
  }
}

TEST_CASE("[random] split_stream: distinct streams for distinct (epoch, purpose)") {
  CHECK(split_stream(1, 0, 0) != split_stream(1, 0, 1));
  CHECK(split_stream(1, 0, 1) != split_stream(1, 1, 0));
  CHECK(split_stream(1, 2, 3) != split_stream(2, 2, 3));
  CHECK(split_stream(5, 6, 7) == split_stream(5, 6, 7));
}

TEST_CASE("[random] Rng is mt19937_64 with the 53-bit uniform and Box-Muller on 1 - u1") {
  std::mt19937_64 g(42);
  auto u = [&] { return static_cast<double>(g() >> 11) / 9007199254740992.0; };
  Rng rng(42);
  for (int i = 0; i < 100; ++i) CHECK(rng.uniform() == u());
  for (int i = 0; i < 100; ++i) CHECK(rng.uniform(-2, 3) == -2 + 5 * u());
  for (int i = 0; i < 100; ++i) {
    const double u1 = 1 - u(), u2 = u();
    const double r = std::sqrt(-2 * std::log(u1)), a = 2 * 3.14159265358979323846 * u2;
    if (i % 2) {
      CHECK(rng.normal() == r * std::cos(a));
    } else {
      const auto [c, s] = rng.normal_pair();
      CHECK(c == r * std::cos(a));
      CHECK(s == r * std::sin(a));
    }
  }
}

TEST_CASE("[random] DataRng is xoshiro256** seeded by four splitmix64 steps") {
  DataRng rng(99);
  std::uint64_t z = 99;
  std::uint64_t s[4];
  for (auto& w : s) w = splitmix64(z);
  CHECK(rng.state() == std::array<std::uint64_t, 4>{s[0], s[1], s[2], s[3]});
  auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t want = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    CHECK(rng.next() == want);
  }
  // below(n) stays in range and reaches every value.
  bool seen[7] = {};
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = rng.below(7);
    REQUIRE(v < 7);
    seen[v] = true;
  }
  for (bool b : seen) CHECK(b);
}

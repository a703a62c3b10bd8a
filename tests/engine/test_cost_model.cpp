// [engine] The cost model's per-machine FFT factor: where the crossover lies,
// how the factor is cached per CPU model, and how it is pinned.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "convkit/engine.hpp"
#include "engine/schedules.hpp"
#include "support/run.hpp"

using namespace convkit;

namespace {

ConvGeometry square(int n, int k) {
  ConvSpec spec;
  spec.mode = SizeMode::same;
  return plan(spec, n, n, k, k);
}

// Pins the factor for one test and forgets it afterwards.
struct PinFactor {
  explicit PinFactor(double f) { detail::set_fft_factor(f); }
  ~PinFactor() { detail::set_fft_factor(std::nullopt); }
};

std::string cached_file(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("fft-factor-", 0) == 0) return e.path().string();
  return "";
}

}  // namespace

TEST_CASE("[engine] the planner sends 31x31 on 4096x4096 to the FFT and 21x21 to the direct loop") {
  PinFactor pin(detail::kFftFactorDefault);
  CHECK(detail::choose_schedule(square(4096, 31), false) == Schedule::fft);
  CHECK(detail::choose_schedule(square(4096, 21), false) == Schedule::direct);
  CHECK(detail::choose_schedule(square(4096, 3), false) == Schedule::direct);
  // The factor moves the crossover: an FFT priced 4x dearer loses at 31x31.
  detail::set_fft_factor(detail::kFftFactorMax);
  CHECK(detail::choose_schedule(square(4096, 31), false) == Schedule::direct);
}

TEST_CASE(
    "[engine] a 1,000,000-sample signal takes the direct loop for 32 taps and the FFT for 1024") {
  PinFactor pin(detail::kFftFactorDefault);
  ConvSpec spec;
  spec.mode = SizeMode::same;
  CHECK(detail::choose_schedule(plan(spec, 1, 1000000, 1, 32), false) == Schedule::direct);
  CHECK(detail::choose_schedule(plan(spec, 1, 1000000, 1, 1024), false) == Schedule::fft);
  CHECK(detail::choose_schedule(plan(spec, 1, 1000000, 1, 65536), false) == Schedule::fft);
}

TEST_CASE("[engine] the FFT factor is measured once per CPU model and read back from the cache") {
  const std::string dir = test::temp_dir() + "/ck-cache";
  std::filesystem::remove_all(dir);
  const double measured = detail::cached_fft_factor(dir);
  CHECK(measured >= detail::kFftFactorMin);
  CHECK(measured <= detail::kFftFactorMax);
  const std::string file = cached_file(dir);
  REQUIRE(!file.empty());
  double stored = 0;
  std::ifstream(file) >> stored;
  CHECK(stored == doctest::Approx(measured));
  // A cached value is used as it is (no new measurement could give 1.5: not
  // a quarter power of two).
  std::ofstream(file) << "1.5\n";
  CHECK(detail::cached_fft_factor(dir) == 1.5);
  // A damaged or out-of-range cache is measured again and rewritten.
  for (const char* junk : {"abc\n", "1e9\n"}) {
    CAPTURE(junk);
    std::ofstream(file) << junk;
    const double again = detail::cached_fft_factor(dir);
    CHECK(again >= detail::kFftFactorMin);
    CHECK(again <= detail::kFftFactorMax);
    double reread = 0;
    std::ifstream(file) >> reread;
    CHECK(reread == doctest::Approx(again));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("[engine] CONVKIT_FFT_FACTOR pins the FFT factor without measuring") {
  detail::set_fft_factor(std::nullopt);
  ::setenv("CONVKIT_FFT_FACTOR", "2", 1);
  CHECK(detail::fft_factor() == 2.0);
  detail::set_fft_factor(std::nullopt);
  ::setenv("CONVKIT_FFT_FACTOR", "default", 1);
  CHECK(detail::fft_factor() == detail::kFftFactorDefault);
  detail::set_fft_factor(std::nullopt);
  ::unsetenv("CONVKIT_FFT_FACTOR");
}

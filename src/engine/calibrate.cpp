// The cost model's one per-machine number: how much an FFT cost unit costs
// here relative to a multiply-add of the direct loop.  cost_direct counts
// multiply-adds and cost_fft counts butterfly-scale operations of the
// overlap-save tiles; their relative speed depends on the CPU (SIMD width,
// caches), so a constant measured on one machine puts the crossover in the
// wrong place on another.  The factor is measured once per CPU model (a
// 31x31 correlation of a 196x2048 strip, direct and by FFT in the 128x128
// tiles of large images: about 150 ms, once),
// rounded to a quarter power of two so that timing noise rarely moves it,
// and cached in $XDG_CACHE_HOME/convkit (~/.cache/convkit).  CONVKIT_FFT_FACTOR
// pins it (a number, or "default" for kFftFactorDefault without measuring).
// Only the choice of schedule depends on it: each schedule's results are the
// same whatever it is, and the thread count never enters.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "engine/schedules.hpp"

namespace convkit::detail {

namespace {

std::mutex g_mutex;
std::optional<double> g_factor;  // resolved factor, once known

std::optional<double> parse_factor(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  while (end && (*end == ' ' || *end == '\n' || *end == '\t')) ++end;
  if (end == s.c_str() || !end || *end != '\0' || !(v >= kFftFactorMin && v <= kFftFactorMax))
    return std::nullopt;
  return v;
}

// A stable file name for a CPU model (FNV-1a of /proc/cpuinfo's model name
// and the SIMD level the direct loop uses).
std::string cpu_key() {
  std::string model = "unknown";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1);
      break;
    }
  model += simd_level() == Simd::avx2 ? "/avx2" : "/baseline";
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : model) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) buf[i] = hex[(h >> (60 - 4 * i)) & 15];
  buf[16] = '\0';
  return buf;
}

}  // namespace

// Interleaved runs of the two schedules (so that a change of load hits both),
// the fastest of each.  The plane is a strip as wide as a large image, so
// that the direct loop streams rows through the caches as it does there.
double measure_fft_factor() {
  const int h = 196, w = 2048, k = 31;
  std::vector<float> in(static_cast<std::size_t>(h) * w), out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 7919) % 1000) / 1000;
  std::vector<float> kernel(static_cast<std::size_t>(k) * k, 1.0f / (k * k));
  ConvSpec spec;
  spec.mode = SizeMode::same;
  const ConvGeometry g = plan(spec, h, w, k, k);
  const View<const float> vi{in.data(), h, w, w}, vk{kernel.data(), k, k, k};
  const View<float> vo{out.data(), h, w, w};
  auto ms = [](auto&& fn) {
    auto a = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
  };
  double direct = 1e300, fft = 1e300;
  for (int i = 0; i < 3; ++i) {
    direct = std::min(direct, ms([&] { conv2d_direct<float>(vi, vk, g, vo); }));
    fft = std::min(fft, ms([&] { conv2d_fft<float>(vi, vk, g, vo); }));
  }
  const double ratio = (fft / cost_fft(g)) / (direct / cost_direct(g));
  if (!(ratio > 0) || !std::isfinite(ratio)) return kFftFactorDefault;
  return std::clamp(std::exp2(std::round(4 * std::log2(ratio)) / 4), kFftFactorMin, kFftFactorMax);
}

double cached_fft_factor(const std::string& cache_dir) {
  namespace fs = std::filesystem;
  const fs::path file = fs::path(cache_dir) / ("fft-factor-" + cpu_key());
  {
    std::ifstream in(file);
    std::string text;
    if (in && std::getline(in, text))
      if (auto v = parse_factor(text)) return *v;
  }
  const double f = measure_fft_factor();
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  const fs::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    out << f << "\n";
    if (!out) return f;  // an unwritable cache costs a measurement per process, nothing else
  }
  fs::rename(tmp, file, ec);
  if (ec) fs::remove(tmp, ec);
  return f;
}

double fft_factor() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_factor) return *g_factor;
  const char* env = std::getenv("CONVKIT_FFT_FACTOR");
  if (env && std::string(env) == "default") {
    g_factor = kFftFactorDefault;
  } else if (env && *env) {
    g_factor = parse_factor(env).value_or(kFftFactorDefault);
  } else {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg == '/')
      g_factor = cached_fft_factor(std::string(xdg) + "/convkit");
    else if (home && *home == '/')
      g_factor = cached_fft_factor(std::string(home) + "/.cache/convkit");
    else
      g_factor = kFftFactorDefault;
  }
  return *g_factor;
}

void set_fft_factor(std::optional<double> f) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_factor = f;
}

}  // namespace convkit::detail

// Internal to the engine: the schedules behind conv2d() and the helpers they
// share.  Tests include this header to run each schedule by name and to pin
// the SIMD level; nothing outside src/engine/ and tests/engine/ should.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "convkit/engine.hpp"

namespace convkit::detail {

/// Row buffers are padded by this many elements so that the vector loops may
/// read (never write) a whole tile past the end of a row.
inline constexpr int kRowSlack = 64;

/// Output rows computed together by block_rows.
inline constexpr int kBlockRows = 3;

/// n rounded up to a multiple of m (n >= 0, m > 0).
inline std::ptrdiff_t round_up(std::ptrdiff_t n, std::ptrdiff_t m) {
  return (n + m - 1) / m * m;
}

/// out[x] = sum_t w[t] * base[offs[t] + x], x in [0, n).  Runtime-dispatched
/// between the AVX2+FMA and the portable loop.  May read up to
/// base[offs[t] + round_up(n, kRowSlack) - 1].
void row_taps(float* out, int n, const float* base, const std::ptrdiff_t* offs, const float* w,
              int ntaps);
void row_taps(double* out, int n, const double* base, const std::ptrdiff_t* offs, const double* w,
              int ntaps);

/// kBlockRows output rows (out, out + out_stride, ...) of a vertical-stride-1
/// correlation: out[r][x] = sum_{ky,kx} w[ky*kw+kx] *
/// base[(r+ky)*row_step + xoffs[kx] + x].  Bit-identical to row_taps with
/// offs[ky*kw+kx] = ky*row_step + xoffs[kx], but loads each input vector once
/// for up to kBlockRows rows.
void block_rows(float* out, std::ptrdiff_t out_stride, int n, const float* base,
                std::ptrdiff_t row_step, const std::ptrdiff_t* xoffs, const float* w, int kh,
                int kw);
void block_rows(double* out, std::ptrdiff_t out_stride, int n, const double* base,
                std::ptrdiff_t row_step, const std::ptrdiff_t* xoffs, const double* w, int kh,
                int kw);

enum class Simd { baseline, avx2 };
/// The SIMD level row_taps uses now.
Simd simd_level();
/// True when this CPU (and build) can run the AVX2+FMA loop.
bool simd_available(Simd s);
/// Pin the SIMD level (tests); ignored when the CPU cannot run it.  Passing
/// automatic=true goes back to the best available.
void force_simd(Simd s, bool automatic = false);

/// The correlation kernel w (true convolution: h flipped in both axes),
/// row-major KH x KW.
template <class T>
std::vector<T> correlation_kernel(View<const T> kernel, bool correlate);

/// When w (KH x KW, row-major) equals col (KH) x row (KW) to within a tiny
/// relative tolerance, fill col and row and return true.
template <class T>
bool rank1_factors(const std::vector<T>& w, int kh, int kw, std::vector<T>& col,
                   std::vector<T>& row);

// The schedules.  Each computes exactly conv2d_reference's function, on all
// threads, with results independent of the thread count.
template <class T>
void conv2d_direct(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out);
/// Throws Error when the kernel is not rank 1.
template <class T>
void conv2d_separable(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out);
template <class T>
void conv2d_fft(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out);

/// The FFT schedule's tiling of the rows: FFT length and output rows per tile.
struct FftRows {
  int f = 1, t = 1;
};
FftRows fft_rows(const ConvGeometry& g);
/// conv2d_fft with the row tiling given (a band of a larger geometry tiles
/// its rows as the whole does, so its numbers are the same).
template <class T>
void conv2d_fft(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
                const FftRows& rows);

/// FFT cost per point of a tile, per log2 of the tile area and flat, in units
/// of one lane multiply-add of the direct loop (measured: README "Engine").
inline constexpr double kFftCostPerLog = 40.0;
inline constexpr double kFftCostPerPoint = 50.0;

/// Estimated cost of each schedule for a geometry: cost_direct in multiply-adds
/// of the direct loop, cost_fft in FFT units that fft_factor() converts to
/// them; automatic picks the cheapest.
double cost_direct(const ConvGeometry& g);
double cost_separable(const ConvGeometry& g);
double cost_fft(const ConvGeometry& g);
/// The machine's price of one cost_fft unit in direct multiply-adds: measured
/// once per CPU model and cached (src/engine/calibrate.cpp), or pinned by the
/// environment variable CONVKIT_FFT_FACTOR (a number, or "default").
double fft_factor();
/// Pin the factor for this process (tests); std::nullopt forgets it, so the
/// next fft_factor() resolves it again.
void set_fft_factor(std::optional<double> f);
/// Measure the factor now (about 150 ms), rounded to a quarter power of two.
double measure_fft_factor();
/// The factor cached in cache_dir for this CPU model, measured and stored
/// there when missing or unreadable.
double cached_fft_factor(const std::string& cache_dir);
/// The factor without measuring: 2^-0.25, what the calibration measured on
/// this project's 2-core development machine, where 31x31 on 4096x4096 costs
/// about the same by FFT and direct (README "Engine") and 21x21 is cheaper
/// direct.  Used for jobs too small to be worth measuring and when
/// CONVKIT_FFT_FACTOR=default.
inline constexpr double kFftFactorDefault = 0.84089641525371454;
/// Jobs cheaper than this many direct multiply-adds (about 150 ms, what a
/// measurement costs) use kFftFactorDefault rather than measure.
inline constexpr double kCalibrateAbove = 2e9;
/// The factor is clamped to [kFftFactorMin, kFftFactorMax] (the model is right
/// to within that on any CPU the SIMD loops run on).
inline constexpr double kFftFactorMin = 0.25, kFftFactorMax = 4.0;
/// Number of overlap-save tiles the FFT schedule uses for a geometry.
long long fft_tiles(const ConvGeometry& g);
/// The schedule `automatic` resolves to.
Schedule choose_schedule(const ConvGeometry& g, bool separable);

}  // namespace convkit::detail

// convkit/pixels.hpp — the engine on 8- and 16-bit interleaved pixels.
//
// The same correlation as conv2d() on float planes (convkit/engine.hpp), run
// on integer pixels as decoders give them: rows of interleaved channels
// (RGBRGB...), 8 or 16 bits a sample.  No whole float plane is made: each
// thread converts a band of rows to float on the fly into a small buffer
// (a few hundred KiB, so it stays in the cache), runs the engine's own row
// loops on it (the interleaved row is filtered as it is: tap t of channel c
// reads sample (x + t) * channels + c), and rounds each output row back.
//
// The float arithmetic per sample is the float path's, operation for
// operation (the same float taps, the same multiply-adds in the same order),
// so the float result is bit-identical to filtering the image's float planes
// with conv2d() and the same schedule; an integer output is that float
// rounded half up and clamped to the type's range, as write_image() rounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "convkit/engine.hpp"

namespace convkit {

/// Interleaved pixels: sample (y, x, c) is data[y * stride + x * channels + c]
/// (stride in samples, at least cols * channels).
template <class T>
struct Pixels {
  T* data = nullptr;
  int rows = 0, cols = 0, channels = 1;
  std::ptrdiff_t stride = 0;
};

/// The (In, Out) sample types the integer path is built for: M(In, Out) for each.
#define CONVKIT_FOR_PIXEL_TYPES(M) \
  M(std::uint8_t, std::uint8_t)    \
  M(std::uint8_t, std::int16_t)    \
  M(std::uint8_t, float)           \
  M(std::uint16_t, std::uint16_t)  \
  M(std::uint16_t, float)

/// Correlate each channel of `in` with `kernel` (odd KH x KW, correlation
/// form), same-size output, samples outside the image made up by `border`
/// (each axis its own rule; under Border::zero the samples are border.value).
/// In -> Out as CONVKIT_FOR_PIXEL_TYPES lists; an integer Out is the float
/// result rounded half up and clamped, a float Out the float result itself.
/// `schedule` as conv2d(): automatic picks what conv2d() would pick for one
/// plane of the image (an FFT converts whole planes: it is for large kernels,
/// where the conversion costs little); reference is not offered here.
/// Throws UsageError on an even kernel size, mismatched shapes or a schedule
/// of reference, Error for separable with a kernel that is not rank 1; `in`
/// and `out` must not overlap.
template <class In, class Out>
void conv2d_pixels(Pixels<const In> in, View<const float> kernel, const BorderRule& border,
                   Pixels<Out> out, Schedule schedule = Schedule::automatic);

// ---- fixed point for 8-bit separable filters ------------------------------
//
// A separable mask col (x) row on 8-bit samples, in integer arithmetic: a
// horizontal pass into 16-bit intermediates, then a vertical pass with 32-bit
// sums and one final rounding (AVX2 where the CPU has it, chosen at run time;
// the portable loop computes the same integers).  Two kinds:
//
//   exact  every tap an integer times one scale 1/N (Sobel, Scharr, Prewitt:
//          N = 1; box: N = size^2): the integer sum S is exact and the result
//          is S itself (int16, float) or S / N rounded half up and clamped
//          (uint8): the exactly rounded value, equal to the float path's
//          wherever the float path rounds correctly (always for N = 1).
//   approx any other taps (Gaussian), uint8 output only: taps quantized to
//          fixed point, the result within error_bound() of the exact value
//          before rounding, and planned only when that bound is at most
//          kFixedMaxError, so the uint8 result is within one grey level of
//          the float path's (see src/engine/fixed_point.cpp for the proof).

/// The largest error bound (in grey levels, before rounding) an approximate
/// fixed-point plan may have.
inline constexpr double kFixedMaxError = 0.75;

class FixedSeparable {
 public:
  /// The plan for correlating with col (x) row (odd sizes, correlation
  /// form).  ok() is false when neither kind applies (the caller then uses
  /// the float path): sums that could overflow the 16/32-bit intermediates,
  /// more than 255 taps, or an approximate bound above kFixedMaxError.
  FixedSeparable(const std::vector<double>& col, const std::vector<double>& row);
  /// The plan of a kh x kw correlation mask (row-major) when it is an outer
  /// product; ok() false when it is not.
  static FixedSeparable from_mask(const std::vector<double>& mask, int kh, int kw);

  bool ok() const { return kind_ != Kind::none; }
  bool exact() const { return kind_ == Kind::exact; }
  /// Bound on |fixed-point value before rounding - exact value| (0 when exact).
  double error_bound() const { return bound_; }
  int kh() const { return static_cast<int>(col_.size()); }
  int kw() const { return static_cast<int>(row_.size()); }
  /// True when run() can write Out: uint8 for both kinds; int16 and float
  /// for exact plans only.
  template <class Out>
  bool writes() const;

  /// Filter out.rows rows: output row m reads input rows rows[m] ..
  /// rows[m + kh() - 1] (each out.cols * out.channels samples, interleaved;
  /// nullptr: a row of `value` samples), columns extended by `cols` (under
  /// Border::zero with `value`).  The caller builds the rows with the
  /// vertical border rule, so bands of a larger image give its rows exactly.
  /// Results do not depend on the thread count or on the bands.
  template <class Out>
  void run(const std::uint8_t* const* rows, Border cols, std::uint8_t value, Pixels<Out> out) const;

 private:
  enum class Kind { none, exact, approx };
  Kind kind_ = Kind::none;
  std::vector<std::int16_t> col_, row_;  // integer taps
  int hshift_ = 0;                       // horizontal sums >> hshift_ (rounded) into int16
  int vshift_ = 0;                       // vertical sums >> vshift_ (rounded), approx
  int divisor_ = 1;                      // exact: the result is S / divisor_
  double bound_ = 0;
};

/// conv2d_pixels() of a separable mask (col (x) row) on 8-bit pixels by
/// FixedSeparable: returns false, doing nothing, when the plan is not ok(),
/// cannot write Out, or the border value is not an integer in [0, 255].
template <class Out>
bool separable_fixed(Pixels<const std::uint8_t> in, const FixedSeparable& plan,
                     const BorderRule& border, Pixels<Out> out);

}  // namespace convkit

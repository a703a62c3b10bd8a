// convkit/engine.hpp — THE convolution.
//
// Every operation in convkit that slides a kernel over data (convolve, blur,
// edge, the NN convolution layer, pooling windows, receptive-field probes)
// goes through this header.  There is no second convolution loop.
//
// Definition (the seed's eq. (1) and (3)), for a kernel h of size KH x KW:
//
//   true convolution   y[m,n] = sum_{i,j} x[m-i, n-j] h[i,j]
//   correlation        y[m,n] = sum_{i,j} x[m+i, n+j] h[i,j]
//
// Internally a true convolution is a correlation with the kernel flipped in
// both axes.  The engine works in three steps:
//   1. plan():   resolve the user's request (padding amounts or a scipy-style
//                size mode, strides, border) into a ConvGeometry: the padding
//                on each side of the input and the output size
//                  out = floor((N + pad_before + pad_after - K) / S) + 1;
//   2. the input is extended by the border rule (zero, circular, reflect,
//      symmetric, replicate) — conceptually; schedules may remap indices;
//   3. a valid-only strided correlation of the extended input.
// conv2d_reference() spells this out with plain loops; conv2d() picks a fast
// schedule that must give the same numbers (tests hold it to that).
//
// 1D signals are 2D with one row (KH = 1, H = 1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/names.hpp"

namespace convkit {

// clang-format off
/// How samples outside the input are made up.  One enum for every operation.
///   zero       ... 0 0 | a b c d | 0 0 ...   (constant: BorderRule::value, 0 unless given)
///   circular   ... c d | a b c d | a b ...   (the input tiles the plane: a torus)
///   reflect    ... c b | a b c d | c b ...   (edge sample not repeated; OpenCV
///                                             BORDER_REFLECT_101, PyTorch "reflect")
///   symmetric  ... b a | a b c d | d c ...   (edge sample repeated; OpenCV
///                                             BORDER_REFLECT, numpy "symmetric")
///   replicate  ... a a | a b c d | d d ...   (OpenCV BORDER_REPLICATE)
enum class Border { zero, circular, reflect, symmetric, replicate };

/// The border of a 2D operation: a rule for each axis (scipy.ndimage lets
/// the axes differ: mode=('reflect', 'constant')) and the value of the
/// samples outside the input under Border::zero, which is then scipy's
/// mode='constant' with cval = value (0 by default: zero padding).  A single
/// Border converts to the same rule on both axes with value 0.
struct BorderRule {
  Border rows = Border::zero;  ///< along the height (rows added above and below)
  Border cols = Border::zero;  ///< along the width (columns added left and right)
  double value = 0;            ///< samples outside under Border::zero; must be finite
  BorderRule() = default;
  BorderRule(Border both) : rows(both), cols(both) {}  // NOLINT: one rule for both axes
  BorderRule(Border r, Border c, double v = 0) : rows(r), cols(c), value(v) {}
  bool operator==(const BorderRule&) const = default;
  /// True when any axis uses Border::zero (so `value` is used).
  bool uses_value() const { return rows == Border::zero || cols == Border::zero; }
};

/// How the output size is chosen.
///   pad    explicit padding amounts (ConvSpec::pad); size floor((N+P0+P1-K)/S)+1
///   full   every position where kernel and input overlap: pads K-1 on both sides
///   same   the centre of `full`, as scipy.signal: pads ceil((K-1)/2) before,
///          floor((K-1)/2) after
///   valid  only positions where the kernel lies wholly inside the input: no padding
enum class SizeMode { pad, full, same, valid };
// clang-format on

struct Padding {
  int top = 0, bottom = 0, left = 0, right = 0;
};

/// What the user asked for.
struct ConvSpec {
  bool correlate = false;  ///< false: true convolution (kernel flipped); true: correlation
  int stride_y = 1, stride_x = 1;
  SizeMode mode = SizeMode::pad;
  Padding pad;  ///< used only when mode == SizeMode::pad
  BorderRule border = Border::zero;
};

/// The resolved geometry of one 2D convolution.  `pad` is always in terms of
/// the input: rows/columns added before and after it.
struct ConvGeometry {
  int in_h = 0, in_w = 0;
  int k_h = 0, k_w = 0;
  int stride_y = 1, stride_x = 1;
  Padding pad;
  int out_h = 0, out_w = 0;
  bool correlate = false;
  BorderRule border = Border::zero;
};

/// The output length of one axis of a sliding window (convolution, pooling):
/// the number of window positions, floor((n + before + after - k) / stride) + 1,
/// or 0 when the window does not fit.  stride >= 1.  plan() and the CNN
/// shape inference (arch) both size their outputs with it.
constexpr long long window_output_length(long long n, long long before, long long after,
                                         long long k, long long stride) {
  const long long span = n + before + after - k;
  return span < 0 ? 0 : span / stride + 1;
}

/// Resolve a request.  Throws UsageError (naming the axis and the numbers)
/// when a stride is < 1, a padding is negative, a size is < 1, the output
/// would be empty (e.g. a kernel larger than the input in valid mode), or
/// the border value is not finite.
ConvGeometry plan(const ConvSpec& spec, int in_h, int in_w, int k_h, int k_w);

/// Map a possibly out-of-range index i of an axis of length n to an index in
/// [0, n) by the border rule, or -1 when the sample is the border value
/// (Border::zero: BorderRule::value, 0 unless given).
/// Works for any distance outside the input (patterns repeat as needed).
int border_index(long long i, int n, Border b);

/// A strided 2D view (rows x cols, `stride` elements between rows).
template <class T>
struct View {
  T* data = nullptr;
  int rows = 0, cols = 0;
  std::ptrdiff_t stride = 0;
  T& operator()(int r, int c) const { return data[r * stride + c]; }
};
template <class T>
View<T> make_view(T* data, int rows, int cols) {
  return View<T>{data, rows, cols, cols};
}

/// The definition, as plain loops.  out must be g.out_h x g.out_w.
template <class T>
void conv2d_reference(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out);

/// Which inner loops to use.  `automatic` picks the fastest for the shape.
enum class Schedule { automatic, reference, direct, separable, fft };

/// The same function as conv2d_reference, computed fast and on all threads.
/// Results do not depend on the thread count.
template <class T>
void conv2d(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
            Schedule schedule = Schedule::automatic);

/// Convenience: convolve a whole contiguous plane, returning the output.
template <class T>
std::vector<T> conv2d(const std::vector<T>& in, int h, int w, const std::vector<T>& kernel, int kh,
                      int kw, const ConvSpec& spec, int* out_h, int* out_w,
                      Schedule schedule = Schedule::automatic);

// ---- bands: the same convolution a few output rows at a time ------------
//
// A streaming caller (convkit/pipeline.hpp) never holds the whole input: it
// computes output rows [m0, m1) from the input rows they need, which it
// extends vertically by the border rule itself (rows above and below the
// image come from border_index, or are zeros).  The horizontal border stays
// the engine's.  With the schedule fixed to the one the whole image would
// use, each band equals the same rows of conv2d() bit for bit.

/// The schedule conv2d(..., Schedule::automatic) picks for this geometry and
/// kernel, from the shapes alone.  (conv2d also steps back from the FFT to
/// the direct loops when the data holds a NaN or infinity; a caller that
/// streams data which may do so must check it first.)
template <class T>
Schedule resolve_schedule(View<const T> kernel, const ConvGeometry& g);

/// Bands must start at a multiple of this many output rows for conv2d_band
/// to match conv2d: the FFT schedule's tile height, 1 for the others.
int band_alignment(const ConvGeometry& g, Schedule schedule);

/// Output rows [m0, m0 + out.rows) of conv2d(in, kernel, g, ..., schedule),
/// from `ext`: rows m0*Sy .. m0*Sy + ext.rows - 1 of the input extended
/// vertically by g.pad.top / g.pad.bottom and the border rule, so
/// ext.rows = (out.rows - 1) * Sy + KH.  `schedule` must not be automatic
/// (resolve it on the whole geometry); m0 must be a multiple of
/// band_alignment(g, schedule).  Throws Error otherwise.
template <class T>
void conv2d_band(View<const T> ext, View<const T> kernel, const ConvGeometry& g, int m0,
                 View<T> out, Schedule schedule);

/// Names used on the command line and in messages: each mode's own name, then
/// the aliases parse_border also accepts: scipy.ndimage's constant (with 0),
/// mirror, nearest and wrap; numpy.pad's edge; PyTorch's zeros.  scipy's and
/// numpy's own "reflect" differ (scipy's repeats the edge sample: that is our
/// symmetric), so our reflect keeps OpenCV's meaning and scipy users say mirror.
inline constexpr EnumName<Border> kBorderNames[] = {
    {"zero", Border::zero},           {"circular", Border::circular},
    {"reflect", Border::reflect},     {"symmetric", Border::symmetric},
    {"replicate", Border::replicate}, {"constant", Border::zero},
    {"zeros", Border::zero},          {"wrap", Border::circular},
    {"mirror", Border::reflect},      {"nearest", Border::replicate},
    {"edge", Border::replicate}};
/// The output sizes a caller may ask for by name (pad is the engine's own).
inline constexpr EnumName<SizeMode> kSizeModeNames[] = {
    {"full", SizeMode::full}, {"same", SizeMode::same}, {"valid", SizeMode::valid}};
std::string_view to_string(Border b);
/// "reflect", or "ROWS,COLS" when the axes differ, plus " (value V)" when a
/// zero border has a value other than 0.
std::string to_string(const BorderRule& b);
/// "MODE" (both axes) or "ROWS,COLS" (scipy's per-axis mode: the first name
/// for the rows, the second for the columns), each a name parse_border
/// accepts; value 0.  Throws UsageError naming the text.
BorderRule parse_border_rule(std::string_view text);
std::string_view to_string(SizeMode m);
Border parse_border(std::string_view name);       ///< throws UsageError listing the choices
SizeMode parse_size_mode(std::string_view name);  ///< throws UsageError listing the choices

}  // namespace convkit

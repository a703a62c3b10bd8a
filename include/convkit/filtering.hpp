// convkit/filtering.hpp — everyday image filters built on the engine.
//
// As in libvips, every filter here is a mask plus a call to the engine
// (convkit/engine.hpp): blur builds a Gaussian or box mask, edge picks the
// Sobel / Prewitt / Scharr / Laplacian mask.  A separable mask goes to the
// engine as one call: its outer product with Schedule::separable, which the
// engine factors again and runs as a row pass (1xK) fused with a column pass
// (Kx1).  There is no convolution loop in this file's implementation.
//
// Sign convention (OpenCV's): the x derivative is positive where intensity
// grows to the right, the y derivative positive where it grows downward
// (rows counted from the top).  Masks are given here as correlation masks
// (the way OpenCV prints them) and run with ConvSpec::correlate = true.
//
// Images are planar float, or double for float64 images (convkit/io/image.hpp),
// filtered in their own precision; every colour channel is filtered on its
// own; an alpha channel passes through unchanged, except in blur (below and
// convkit/colour.hpp), which by default filters RGBA premultiplied by alpha.
#pragma once

#include <string_view>
#include <vector>

#include "convkit/colour.hpp"
#include "convkit/engine.hpp"
#include "convkit/io/image.hpp"
#include "convkit/names.hpp"
#include "convkit/pixels.hpp"

namespace convkit {

// ---- masks ----------------------------------------------------------------

/// Gaussian size from sigma when no size is given: 2*ceil(3*sigma)+1
/// (the kernel reaches 3 sigma on each side).
int gaussian_size_for_sigma(double sigma);

/// Sigma from the size when no sigma is given (OpenCV's rule):
/// 0.3*((size-1)/2 - 1) + 0.8.
double gaussian_sigma_for_size(int size);

/// 1D Gaussian taps exp(-x^2 / (2 sigma^2)), x = -(size-1)/2 .. (size-1)/2,
/// normalised to sum 1.  size odd >= 1, sigma > 0 (UsageError otherwise).
std::vector<double> gaussian_taps(int size, double sigma);

/// 1D box taps, all 1/size.  size odd >= 1.
std::vector<double> box_taps(int size);

/// A separable 2D mask: mask[r][c] = col[r] * row[c] (correlation form).
struct SeparableMask {
  std::vector<double> col, row;
};

enum class EdgeOperator { sobel, prewitt, scharr, laplacian, log, dog };
enum class EdgeDirection { x, y, magnitude, direction };

inline constexpr EnumName<EdgeOperator> kEdgeOperatorNames[] = {
    {"sobel", EdgeOperator::sobel},   {"prewitt", EdgeOperator::prewitt},
    {"scharr", EdgeOperator::scharr}, {"laplacian", EdgeOperator::laplacian},
    {"log", EdgeOperator::log},       {"dog", EdgeOperator::dog}};
inline constexpr EnumName<EdgeDirection> kEdgeDirectionNames[] = {
    {"x", EdgeDirection::x},
    {"y", EdgeDirection::y},
    {"magnitude", EdgeDirection::magnitude},
    {"direction", EdgeDirection::direction}};

std::string_view to_string(EdgeOperator op);
std::string_view to_string(EdgeDirection d);
EdgeOperator parse_edge_operator(std::string_view name);    ///< throws UsageError listing choices
EdgeDirection parse_edge_direction(std::string_view name);  ///< throws UsageError listing choices

/// The derivative mask of a gradient operator (sobel, prewitt, scharr) along
/// x (along_x) or y, in correlation form:
///   sobel-x = [1 2 1]^T (x) [-1 0 1],  scharr-x = [3 10 3]^T (x) [-1 0 1],
///   prewitt-x = [1 1 1]^T (x) [-1 0 1];  the y masks are the transposes.
/// Sobel of size 5 or 7 (ksize; the others take only 3) is OpenCV's
/// getDerivKernels: binomial smoothing (1 4 6 4 1; 1 6 15 20 15 6 1) times
/// the binomial of size ksize-1 differenced (-1 -2 0 2 1; -1 -4 -5 0 5 4 1).
SeparableMask derivative_mask(EdgeOperator op, bool along_x, int ksize = 3);

/// The 4-neighbour Laplacian [0 1 0; 1 -4 1; 0 1 0] (OpenCV Laplacian ksize 1), row-major 3x3.
std::vector<double> laplacian_mask();

/// The largest |response| of an operator's x/y (or Laplacian) output for
/// input values in [0, 1]: the sum of the mask's positive weights
/// (sobel 4, prewitt 3, scharr 16, laplacian 4; sobel ksize 5: 48, 7: 640).
/// Used to show signed derivatives in an integer file without clipping.
/// (log and dog depend on sigma and size: use the EdgeOptions overload.)
double edge_gain(EdgeOperator op, int ksize = 3);

/// scipy.ndimage's second derivative of a Gaussian, the order-2 kernel of
/// gaussian_filter: (x^2/sigma^4 - 1/sigma^2) * g(x), with g the Gaussian
/// taps of gaussian_taps(size, sigma) (normalised to sum 1 before the
/// derivative factor, as scipy does).  size odd >= 1, sigma > 0.
std::vector<double> gaussian_second_derivative_taps(int size, double sigma);

/// The Laplacian-of-Gaussian size from sigma: 2*floor(4*sigma + 0.5) + 1, the
/// kernel of scipy.ndimage.gaussian_laplace with its default truncate = 4.
/// (Longer than blur's 3 sigma: the x^2 factor makes the tails heavier, and a
/// 3-sigma kernel would answer about 0.05/sigma^2 per unit on a flat image.)
int log_size_for_sigma(double sigma);

// ---- planes ---------------------------------------------------------------

/// Correlate one h x w plane with col (x) row through the engine, output the
/// same size, samples outside the plane made up by `border`.  One engine call
/// (the separable schedule: a row pass and a column pass); a 1D mask is one
/// pass.
/// The float and double overloads compute in the samples' own precision.
void separable_filter(const float* in, int h, int w, const SeparableMask& mask, BorderRule border,
                      float* out);
void separable_filter(const double* in, int h, int w, const SeparableMask& mask, BorderRule border,
                      double* out);

/// Correlate one plane with a full 2D mask (kh x kw, odd sizes), same size output.
void filter_plane(const float* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  BorderRule border, float* out);
void filter_plane(const double* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  BorderRule border, double* out);

// ---- images ---------------------------------------------------------------

enum class BlurType { box, gaussian };
inline constexpr EnumName<BlurType> kBlurTypeNames[] = {{"box", BlurType::box},
                                                        {"gaussian", BlurType::gaussian}};
std::string_view to_string(BlurType t);
BlurType parse_blur_type(std::string_view name);  ///< throws UsageError listing choices

struct BlurOptions {
  BlurType type = BlurType::gaussian;
  int size = 0;      ///< odd kernel size; 0: from sigma (gaussian) or 3 (box)
  double sigma = 0;  ///< gaussian only; 0: from size, or 1 when the size is 0 too
  BorderRule border = Border::reflect;
  /// Gaussian only: a different vertical sigma (0: the same as sigma).  The
  /// vertical size is then `size` when given, else 2*ceil(3*sigma_y)+1.
  double sigma_y = 0;
  /// RGBA / grey+alpha: premultiplied (alpha blurred too, no halos) or each
  /// channel on its own with alpha unchanged (see convkit/colour.hpp).
  AlphaMode alpha = AlphaMode::premultiply;
  /// Blur in linear light: colour converted from sRGB before and back after
  /// (float intermediate; alpha is not converted).
  bool linear = false;
};

/// The resolved size and sigma (sigma 0 for box).  Throws UsageError on an
/// even or non-positive size, a non-positive sigma, or sigma given for a box.
struct ResolvedBlur {
  int size;
  double sigma;
};
ResolvedBlur resolve_blur(const BlurOptions& o);

/// Blur each colour channel (with alpha premultiplied, or alpha passing
/// through, as o.alpha says; in linear light when o.linear).  Same size as the input.
Image blur(const Image& in, const BlurOptions& o);
/// The same into `out`, whose buffer is reused when it already has the size.
void blur(const Image& in, const BlurOptions& o, Image& out);
/// True when blur() of an image shaped like `in` is blur_filter(o) on each
/// colour plane alone (alpha copied): no linear light, no premultiplying.
bool blur_is_plane_filter(const Image& in, const BlurOptions& o);

struct EdgeOptions {
  EdgeOperator op = EdgeOperator::sobel;
  EdgeDirection direction = EdgeDirection::magnitude;  ///< ignored for laplacian, log, dog
  BorderRule border = Border::reflect;
  int ksize = 3;  ///< 3, 5 or 7 for sobel (OpenCV's ksize); the other operators take only 3
  /// log and dog only (0: not given).  sigma: the Gaussian's (default 1);
  /// sigma2: dog's wider Gaussian (default 1.6 * sigma, must exceed sigma);
  /// size: odd kernel size (log default log_size_for_sigma; dog: each
  /// Gaussian 2*ceil(3*sigma)+1 as blur's, or both `size`).
  double sigma = 0, sigma2 = 0;
  int size = 0;
};

/// The two separable masks whose filtered planes make log or dog:
///   log  first + second = g''(x) g(y) + g(x) g''(y)  (scipy's gaussian_laplace)
///   dog  first - second = G(sigma) - G(sigma2)        (blur(sigma) - blur(sigma2),
///        as skimage.filters.difference_of_gaussians)
/// UsageError naming sigma, sigma2 or size for bad values, or for
/// sigma/sigma2/size given to another operator.
struct GaussianEdgeMasks {
  SeparableMask first, second;
  bool subtract = false;  ///< dog: first - second; log: first + second
};
GaussianEdgeMasks gaussian_edge_masks(const EdgeOptions& o);

/// edge_gain for any operator: for log and dog the larger of the sums of the
/// positive and of the negative weights of the 2D kernel their two masks make
/// (the largest |response| for input in [0, 1]; a truncated LoG does not sum
/// exactly to 0).
double edge_gain(const EdgeOptions& o);

/// Edge response of each colour channel; alpha passes through.
///   x, y       the signed derivative (OpenCV Sobel/Scharr with dx or dy = 1)
///   magnitude  sqrt(gx^2 + gy^2)
///   direction  atan2(gy, gx) in degrees, in [0, 360) (as cv::phase in degrees);
///              0 where both derivatives are 0
///   laplacian  the 4-neighbour Laplacian (direction ignored)
///   log, dog   Laplacian of Gaussian, difference of Gaussians (see
///              gaussian_edge_masks; direction ignored)
/// The result is float data: bit_depth 32, or 64 (double samples) for a float64 image.
Image edge(const Image& in, const EdgeOptions& o);
/// The same into `out`, whose buffer is reused when it already has the size.
void edge(const Image& in, const EdgeOptions& o, Image& out);

// ---- the filters as engine passes ------------------------------------------
//
// blur() and edge() run the passes below on each colour plane; the streaming
// pipeline (convkit/pipeline.hpp) runs the same passes on bands of rows, so
// both compute the same numbers by construction.

/// One engine pass: correlate with `mask` (kh x kw, row-major, converted to
/// the samples' type), same-size output (SizeMode::same), with `schedule`.
struct PlanePass {
  std::vector<double> mask;
  int kh = 1, kw = 1;
  Schedule schedule = Schedule::automatic;
};
/// The pass of a separable mask: its outer product on the fused separable
/// schedule, or, when one factor has a single tap, the scaled 1D mask.
PlanePass separable_pass(const SeparableMask& mask);

/// What a filter does to each colour plane (alpha passes through).
struct PlaneFilter {
  std::vector<PlanePass> passes;             ///< one, or two (gx then gy) combined
  EdgeDirection combine = EdgeDirection::x;  ///< two passes: magnitude or direction
  int sum_sign = 0;  ///< two passes: first + second (1, log) or first - second (-1, dog)
  BorderRule border = Border::reflect;
  bool float_result = false;  ///< the result is float data (edge), else the input's depth (blur)
  bool filter_alpha = false;  ///< alpha filtered like colour (premultiplied blur), else copied
  /// The caller writes the result as 8-bit samples (rounded half up and
  /// clamped, as write_image does): 8-bit input may then be blurred in fixed
  /// point (FixedSeparable), within one grey level of rounding the float
  /// result.  Off: the result keeps the float values (for 16-bit or float
  /// output).  Edge results are exact in fixed point and need no flag.
  bool rounds_to_8bit = false;
};
PlaneFilter blur_filter(const BlurOptions& o);  ///< UsageError as resolve_blur
PlaneFilter edge_filter(const EdgeOptions& o);  ///< UsageError on a bad ksize

/// Run f on each colour plane of `in` (alpha copied) into `out`.  An 8-bit
/// image (every sample an integer in [0, 255]) whose passes all have
/// fixed_point_plans() is filtered in fixed point (convkit/pixels.hpp): edges
/// exactly; blur results rounded to 8-bit values when f.rounds_to_8bit.
void apply_plane_filter(const Image& in, const PlaneFilter& f, Image& out);

/// The fixed-point plans (FixedSeparable) of f's passes on 8-bit samples, or
/// none (empty) when f is not for fixed point: a pass that is not separable,
/// a plan that cannot write f's result (uint8 for blur, when
/// f.rounds_to_8bit: exact or within one grey level; float for edge: exact
/// plans only, so Sobel, Scharr and Prewitt give the float path's numbers),
/// or a border value that is not an 8-bit sample.  apply_plane_filter and the streaming pipeline
/// both use them.
std::vector<FixedSeparable> fixed_point_plans(const PlaneFilter& f);

/// Combine gradients: gx[i] becomes sqrt(gx^2 + gy^2) (magnitude) or
/// atan2(gy, gx) in degrees in [0, 360) (direction), for i in [0, n).
template <class T>
void combine_gradients(T* gx, const T* gy, std::size_t n, EdgeDirection d);
/// The two passes of f made one: first +/- second when f.sum_sign, else
/// combine_gradients with f.combine.
template <class T>
void combine_passes(T* first, const T* second, std::size_t n, const PlaneFilter& f);

// ---- integer pixels ---------------------------------------------------------
//
// The filters above on 8- and 16-bit interleaved pixels (convkit/pixels.hpp),
// converted to float a band of rows at a time, never a whole plane.  Every
// channel is filtered (an alpha channel too: split it off first).  The float
// result of each sample is bit-identical to the float path above on the
// image's float planes; an integer output is that value rounded half up and
// clamped to the output type, as write_image() rounds it.  Instantiated for
// In -> Out: uint8 -> uint8, int16, float; uint16 -> uint16, float.
// Except: separable passes on uint8 input (blur, edge, separable_filter, not
// filter_plane) run in fixed point when FixedSeparable has a plan: integer
// kernels (box, Sobel, Scharr, Prewitt) exactly, a Gaussian blur within one
// grey level of the float path (as blur() of an 8-bit Image).

template <class In, class Out>
void separable_filter(Pixels<const In> in, const SeparableMask& mask, const BorderRule& border,
                      Pixels<Out> out);
template <class In, class Out>
void filter_plane(Pixels<const In> in, const std::vector<double>& mask, int kh, int kw,
                  const BorderRule& border, Pixels<Out> out);
/// blur() of 8-bit (T = std::uint8_t) or 16-bit (std::uint16_t) pixels.
/// Every channel is blurred on its own (o.alpha does not apply: Pixels know
/// no alpha); o.linear is refused (UsageError: linear light needs float).
template <class T>
void blur(Pixels<const T> in, const BlurOptions& o, Pixels<T> out);
/// edge() of integer pixels: x, y and laplacian into any Out (uint8 -> int16
/// is exact for every operator but sobel --ksize 7, whose values can pass
/// 32767 and saturate); magnitude, direction, log and dog (two passes
/// combined) need float output.
template <class In, class Out>
void edge(Pixels<const In> in, const EdgeOptions& o, Pixels<Out> out);

/// Convert an RGB(A) image to grey (ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B,
/// as OpenCV's cvtColor), keeping alpha; grey images are returned unchanged.
Image to_grey(const Image& in);

}  // namespace convkit

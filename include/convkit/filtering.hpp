// convkit/filtering.hpp — everyday image filters built on the engine.
//
// As in libvips, every filter here is a mask plus a call to the engine
// (convkit/engine.hpp): blur builds a Gaussian or box mask, edge picks the
// Sobel / Prewitt / Scharr / Laplacian mask.  Separable masks run as two 1D
// passes (a row pass 1xK, then a column pass Kx1), each an engine call.
// There is no convolution loop in this file's implementation.
//
// Sign convention (OpenCV's): the x derivative is positive where intensity
// grows to the right, the y derivative positive where it grows downward
// (rows counted from the top).  Masks are given here as correlation masks
// (the way OpenCV prints them) and run with ConvSpec::correlate = true.
//
// Images are planar float, or double for float64 images (convkit/io/image.hpp),
// filtered in their own precision; every colour channel is filtered on its
// own; an alpha channel passes through unchanged.
#pragma once

#include <string_view>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/io/image.hpp"

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

enum class EdgeOperator { sobel, prewitt, scharr, laplacian };
enum class EdgeDirection { x, y, magnitude, direction };

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
double edge_gain(EdgeOperator op, int ksize = 3);

// ---- planes ---------------------------------------------------------------

/// Correlate one h x w plane with col (x) row through the engine, output the
/// same size, samples outside the plane made up by `border`.  Two 1D passes.
/// The float and double overloads compute in the samples' own precision.
void separable_filter(const float* in, int h, int w, const SeparableMask& mask, Border border,
                      float* out);
void separable_filter(const double* in, int h, int w, const SeparableMask& mask, Border border,
                      double* out);

/// Correlate one plane with a full 2D mask (kh x kw, odd sizes), same size output.
void filter_plane(const float* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  Border border, float* out);
void filter_plane(const double* in, int h, int w, const std::vector<double>& mask, int kh, int kw,
                  Border border, double* out);

// ---- images ---------------------------------------------------------------

enum class BlurType { box, gaussian };
std::string_view to_string(BlurType t);
BlurType parse_blur_type(std::string_view name);  ///< throws UsageError listing choices

struct BlurOptions {
  BlurType type = BlurType::gaussian;
  int size = 0;      ///< odd kernel size; 0: from sigma (gaussian) or 3 (box)
  double sigma = 0;  ///< gaussian only; 0: from size, or 1 when the size is 0 too
  Border border = Border::reflect;
  /// Gaussian only: a different vertical sigma (0: the same as sigma).  The
  /// vertical size is then `size` when given, else 2*ceil(3*sigma_y)+1.
  double sigma_y = 0;
};

/// The resolved size and sigma (sigma 0 for box).  Throws UsageError on an
/// even or non-positive size, a non-positive sigma, or sigma given for a box.
struct ResolvedBlur {
  int size;
  double sigma;
};
ResolvedBlur resolve_blur(const BlurOptions& o);

/// Blur each colour channel; alpha passes through.  Same size as the input.
Image blur(const Image& in, const BlurOptions& o);
/// The same into `out`, whose buffer is reused when it already has the size.
void blur(const Image& in, const BlurOptions& o, Image& out);

struct EdgeOptions {
  EdgeOperator op = EdgeOperator::sobel;
  EdgeDirection direction = EdgeDirection::magnitude;  ///< ignored for laplacian
  Border border = Border::reflect;
  int ksize = 3;  ///< 3, 5 or 7 for sobel (OpenCV's ksize); the other operators take only 3
};

/// Edge response of each colour channel; alpha passes through.
///   x, y       the signed derivative (OpenCV Sobel/Scharr with dx or dy = 1)
///   magnitude  sqrt(gx^2 + gy^2)
///   direction  atan2(gy, gx) in degrees, in [0, 360) (as cv::phase in degrees);
///              0 where both derivatives are 0
///   laplacian  the 4-neighbour Laplacian (direction ignored)
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
  Border border = Border::reflect;
  bool float_result = false;  ///< the result is float data (edge), else the input's depth (blur)
};
PlaneFilter blur_filter(const BlurOptions& o);  ///< UsageError as resolve_blur
PlaneFilter edge_filter(const EdgeOptions& o);  ///< UsageError on a bad ksize

/// Run f on each colour plane of `in` (alpha copied) into `out`.
void apply_plane_filter(const Image& in, const PlaneFilter& f, Image& out);

/// Combine gradients: gx[i] becomes sqrt(gx^2 + gy^2) (magnitude) or
/// atan2(gy, gx) in degrees in [0, 360) (direction), for i in [0, n).
template <class T>
void combine_gradients(T* gx, const T* gy, std::size_t n, EdgeDirection d);

/// Convert an RGB(A) image to grey (ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B,
/// as OpenCV's cvtColor), keeping alpha; grey images are returned unchanged.
Image to_grey(const Image& in);

}  // namespace convkit

// convkit/sharpen.hpp — unsharp mask, with ImageMagick's -unsharp semantics.
//
//   d   = in - gaussian_blur(in, sigma)
//   out = in + amount * d   where 2*|d| >= threshold * range
//   out = in                elsewhere
// `threshold` is a fraction of the format's range (range = 255 for 8-bit,
// 65535 for 16-bit, 1 for float data), and the factor 2 is ImageMagick's
// (UnsharpMaskImage), so `convert in -unsharp 0xS+A+T` maps to sigma S,
// amount A, threshold T.  The blur is convkit's Gaussian (size
// 2*ceil(3*sigma)+1 unless given, reflect border by default).
//
// Alpha (AlphaMode::premultiply, the default): the blur is premultiplied
// (blur(c*a) / blur(a), convkit/colour.hpp), so the colour of transparent
// pixels does not leak into d as a halo; alpha itself passes through.  Where
// the blurred alpha is 0 (the pixel and all its neighbours transparent) d is
// 0.  AlphaMode::pass blurs each channel on its own.  linear: the colour is
// converted from sRGB to linear light first and back after, so d and the
// threshold are in linear units.
#pragma once

#include "convkit/colour.hpp"
#include "convkit/engine.hpp"
#include "convkit/io/image.hpp"

namespace convkit {

struct SharpenOptions {
  double sigma = 1;      ///< of the Gaussian blur, > 0
  double amount = 1;     ///< gain on the difference, >= 0
  double threshold = 0;  ///< fraction of the range, 0..1
  int size = 0;          ///< odd blur size; 0: 2*ceil(3*sigma)+1
  BorderRule border = Border::reflect;
  AlphaMode alpha = AlphaMode::premultiply;
  bool linear = false;  ///< sharpen in linear light (sRGB converted before, back after)
};

/// Sharpen every colour channel (alpha passes through; see above).  The result is float
/// data with the input's bit depth recorded; values may leave the format's
/// range (the CLI clamps integer output).  Throws UsageError naming the
/// option for a bad sigma, amount, threshold or size.
Image sharpen(const Image& in, const SharpenOptions& o);

}  // namespace convkit

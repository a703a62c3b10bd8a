// convkit/colour.hpp — alpha and light for image filters.
//
// Premultiplied alpha: a filter that mixes neighbouring pixels (blur, the
// blur inside sharpen) must weigh each pixel's colour by its coverage, or
// the colour of transparent pixels (often black) bleeds into the visible
// ones as a dark halo.  So colour c and alpha a are filtered as (c*a, a)
// and the colour divided by the filtered alpha after: out = F(c*a) / F(a).
// Where F(a) is 0 (no visible pixel under the kernel) the colour is 0.
//
// Linear light: sRGB samples are encoded with the IEC 61966-2-1 transfer
// function; averaging them is not averaging light.  srgb_to_linear /
// linear_to_srgb convert with the exact piecewise function
//   linear = s / 12.92                      for s <= 0.04045
//          = ((s + 0.055) / 1.055)^2.4      otherwise
//   s      = 12.92 * linear                 for linear <= 0.0031308
//          = 1.055 * linear^(1/2.4) - 0.055 otherwise
// on values in [0, 1], extended to negative values by symmetry (f(-x) =
// -f(x), as scRGB) so that filtered values outside the range survive the
// round trip.  Alpha is never converted.
#pragma once

#include <string_view>

#include "convkit/io/image.hpp"
#include "convkit/names.hpp"

namespace convkit {

/// How a filter treats the alpha channel of an image that has one.
///   premultiply  colour filtered as colour*alpha, alpha filtered with it,
///                colour divided by the filtered alpha after (no halos)
///   pass         each colour channel filtered on its own, alpha unchanged
enum class AlphaMode { premultiply, pass };
inline constexpr EnumName<AlphaMode> kAlphaModeNames[] = {{"premultiply", AlphaMode::premultiply},
                                                          {"pass", AlphaMode::pass}};
std::string_view to_string(AlphaMode m);
AlphaMode parse_alpha_mode(std::string_view name);  ///< throws UsageError listing choices

/// The sRGB transfer function and its inverse on one value (see above).
double srgb_to_linear(double s);
double linear_to_srgb(double linear);

/// Convert the colour planes (not alpha) of an image in place, in the image's
/// own units: samples are divided by the format's range (255, 65535; 1 for
/// float data, taken as 0..1), converted, and multiplied back.
void srgb_to_linear(Image& img);
void linear_to_srgb(Image& img);

/// colour *= alpha on every colour plane (no-op without alpha).
void premultiply_alpha(Image& img);
/// colour /= alpha on every colour plane; colour 0 where alpha <= 0.
void unpremultiply_alpha(Image& img);

}  // namespace convkit

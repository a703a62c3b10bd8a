// convkit/canny.hpp — Canny edge detection, as OpenCV's cv::Canny.
//
//   1. Sobel derivatives gx, gy (3x3, replicated border, as cv::Canny);
//   2. gradient magnitude |gx| + |gy| (OpenCV's default L2gradient = false);
//   3. non-maximum suppression along the gradient direction quantised to
//      0, 45, 90 or 135 degrees with OpenCV's tan(22.5) test and tie rules
//      (samples outside the image count as magnitude 0);
//   4. hysteresis: a sample kept by step 3 whose magnitude is above `high`
//      is an edge, and so is one above `low` that touches an edge (8-neighbours),
//      transitively.  As in OpenCV, both thresholds are rounded down
//      (floor) and swapped when low > high.
// On 8-bit grey images the result equals cv::Canny(img, low, high) exactly.
#pragma once

#include "convkit/io/image.hpp"

namespace convkit {

struct CannyOptions {
  double low = 0, high = 0;  ///< hysteresis thresholds on |gx| + |gy|
};

/// Edges of a grey image, or of the BT.601 luma of a colour one (rounded to
/// whole numbers for 8/16-bit images, as cvtColor does; alpha is ignored).
/// Thresholds are in the image's units.  Result: one 8-bit channel, 255 on edges and 0 elsewhere.
/// Throws UsageError for thresholds that are negative or not finite, Error for an empty image or
/// NaN samples.
Image canny(const Image& in, const CannyOptions& o);

}  // namespace convkit

// src/sobel.hpp — Sobel masks of size 5 and 7 (OpenCV's ksize), for edge().
#pragma once

#include "convkit/filtering.hpp"

namespace convkit {

/// The x (along_x) or y Sobel mask of size ksize 3, 5 or 7, as OpenCV's
/// getDerivKernels(dx, dy, ksize): binomial smoothing across, the binomial of
/// size ksize-1 differenced along.  Throws UsageError naming --ksize for
/// another size or for an operator other than sobel.
SeparableMask sobel_mask(EdgeOperator op, bool along_x, int ksize);

}  // namespace convkit

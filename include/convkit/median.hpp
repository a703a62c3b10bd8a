// convkit/median.hpp — the median filter, a rank filter of its own (it is not
// a convolution and does not go through the engine).
//
// Every output sample is the median of the K x K window centred on it; the
// border replicates the edge samples (OpenCV's BORDER_REPLICATE, the border
// cv::medianBlur uses), so results equal cv::medianBlur's for odd K.
//
// Algorithms, chosen per channel plane by its values:
//   * samples that are all integers 0..255 (8-bit images):
//       K = 3      every column of 3 sorted once (for two output rows at a
//                  time) and shared by the 3 outputs that use it; the median
//                  is the median of the largest column low, the median column
//                  middle and the smallest column high.  Vectors of 64
//                  samples (AVX-512; with VBMI the sorted columns stay in
//                  registers and byte permutes give the neighbours'), 32
//                  (AVX2) or 16, chosen at run time; interleaved channels
//                  are filtered in place;
//       K = 5      a sorting network pruned to the median, over columns that
//                  are sorted first (one sorted column serves K outputs);
//       K >= 7     Perreault & Hebert's constant-time median (2007): one
//                  256-bin histogram per column, a kernel histogram that
//                  slides along the row, coarse (16-bin) and fine levels;
//   * any other samples (16-bit, float):
//       K = 3, 5   the same sorting networks, on float values;
//       K >= 7     a selection (std::nth_element) over each window: exact,
//                  but O(K^2) per sample, so much slower than the 8-bit path.
// Even K has no centre sample and is refused (as cv::medianBlur does); K = 1
// copies.  NaN samples have no order and are refused.  Alpha passes through.
#pragma once

#include <cstddef>
#include <cstdint>

#include "convkit/io/image.hpp"

namespace convkit {

/// Largest window side: the 8-bit histograms count up to K*K in 16 bits.
inline constexpr int kMaxMedianSize = 255;

struct MedianOptions {
  int size = 3;  ///< K: odd, 1..kMaxMedianSize
};

/// Throws UsageError naming `size` when K is even or out of range.
void check_median_size(int size);

/// The median of every colour channel (alpha is copied).  Throws UsageError
/// for a bad size, Error for an empty image or NaN samples.
Image median(const Image& in, const MedianOptions& opts);

/// The 8-bit kernel on its own (benchmarks, callers with 8-bit buffers):
/// `src` and `dst` are width x height pixels of `channels` (1 to 4)
/// interleaved samples, rows `stride` bytes apart; they must not overlap.
/// Every channel is filtered (alpha too, as cv::medianBlur does).  Runs on
/// the parallel_for pool.
void median_u8(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
               std::ptrdiff_t dst_stride, int width, int height, int size, int channels = 1);

namespace detail {

/// The 3x3 8-bit kernels (tests and benchmarks pick one to check or time
/// each; the default, `automatic`, is the widest the CPU runs).  All give
/// the same results.
enum class Median3Kernel { automatic, baseline, avx2, avx512, avx512_vbmi };
bool median3_kernel_available(Median3Kernel kernel);
/// Not thread-safe: set it before filtering.  Throws Error when the CPU
/// lacks the instructions.
void set_median3_kernel(Median3Kernel kernel);

}  // namespace detail

}  // namespace convkit

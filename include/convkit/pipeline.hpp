// convkit/pipeline.hpp — filtering images of any size in bounded memory.
//
//   RowSource -> bands of rows (+ the kernel's halo) -> engine -> RowSink
//
// The pipeline reads the input a band of rows at a time, extends each band
// vertically by the border rule (rows above and below the image are made by
// border_index from the rows that hold them: the first and last K/2 rows, or
// for circular padding rows of the far end, read in a first pass over the
// file), runs the filter's engine passes on it (conv2d_band, on the schedule
// the whole image would use, so results are bit-identical to blur() / edge()),
// and hands the band to the sink in order while the next one is computed.
// Decoding runs ahead in its own thread and encoding behind in another.
//
// Memory: O(width x (kernel height + band height) x channels), never the
// height; the band height adapts to the budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/rows.hpp"

namespace convkit {

/// The default memory budget of streamed commands: 1 GiB.
inline constexpr std::int64_t kDefaultMemoryBudget = std::int64_t(1) << 30;

/// Parse "BYTES" with an optional K, M, G or T suffix (powers of 1024, an
/// optional trailing B or iB: 512M, 2GiB, 1.5G).  UsageError naming `flag`.
std::int64_t parse_memory_size(const std::string& text, const std::string& flag = "--memory");

/// A size for messages: "512 KiB", "3 MiB", "2.5 GiB" (rounded up).
std::string format_memory_size(std::int64_t bytes);

/// The shape of filter f's result for an input of this shape (no samples).
Image filtered_shape(const Image& in, const PlaneFilter& f);

/// Where and how the kernel is applied.  blur and edge use same_size_geometry
/// (a same-size correlation with f.border, alpha copied); `convkit convolve`
/// gives its own: any size mode, padding, strides, true convolution, a bias.
struct StreamGeometry {
  ConvSpec spec;    ///< size mode, padding, strides, correlate, border (f.border is not used)
  double bias = 0;  ///< added (in the sample type) to every filtered sample
  bool filter_alpha = false;  ///< alpha filtered like colour (bias too)
  /// Alpha, when not filtered: correlated with this kernel (of f's size) on the
  /// same geometry with border value 0, e.g. a delta that samples it under the
  /// anchor; empty: copied, which needs a same-size geometry.
  std::vector<double> alpha_mask;
};
StreamGeometry same_size_geometry(const PlaneFilter& f);
/// The result's shape under a geometry: its output rows and columns.
Image filtered_shape(const Image& in, const PlaneFilter& f, const StreamGeometry& geo);

/// The bytes the whole-image path of f needs for an input of this shape
/// (input, result and scratch planes, and the codec's interleaved samples).
std::int64_t whole_image_bytes(const Image& in, const PlaneFilter& f);

/// The smallest working set of stream_filter for this input and filter, with
/// the band it would use within `memory`; bytes > memory when it cannot run
/// within the budget (then `why` says what needs the memory).
struct StreamPlan {
  int band_rows = 0;
  std::int64_t bytes = 0;
  std::string why;
};
StreamPlan plan_stream(const Image& in, const PlaneFilter& f, std::int64_t memory);

/// Filter `src` (rows from next_row() 0 on) by f into `sink`, band by band.
/// Throws Error naming the budget when the working set does not fit in
/// `memory`; rewinds `src` (so it must be seekable) when circular padding or
/// the FFT on float data needs a first pass.  `sink` gets every row in order
/// and finish() is NOT called (the caller may run the filter twice).
/// band_rows > 0 asks for bands of about that many rows (rounded up to the
/// FFT tile; tests use it to cut many bands from small images).
void stream_filter(RowSource& src, const PlaneFilter& f, RowSink& sink, std::int64_t memory,
                   int band_rows = 0);
/// The same on a geometry of its own (convkit convolve).
void stream_filter(RowSource& src, const PlaneFilter& f, const StreamGeometry& geo, RowSink& sink,
                   std::int64_t memory, int band_rows = 0);

/// A sink that writes nothing and keeps the range of the finite colour
/// values (channels 0 .. colour-1): the first pass of --normalize.
class RangeSink : public RowSink {
 public:
  RangeSink(int width, int colour) : width_(width), colour_(colour) {}
  void write(int n, const float* const* planes, std::ptrdiff_t stride) override;
  void write(int n, const double* const* planes, std::ptrdiff_t stride) override;
  void finish() override {}
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();

 private:
  template <class T>
  void widen(int n, const T* const* planes, std::ptrdiff_t stride);
  int width_, colour_;
};

}  // namespace convkit

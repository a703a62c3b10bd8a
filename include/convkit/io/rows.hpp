// convkit/io/rows.hpp — images read and written a band of rows at a time.
//
// The streaming pipeline (convkit/pipeline.hpp) never holds a whole image:
// a RowSource decodes the next rows on demand and a RowSink encodes rows in
// order, so memory is bounded by the band, not by the image height.  Samples
// are the numbers read_image / write_image would give or take for the same
// file (same units, same value policies), so a streamed result is the same
// file as a whole-image one.
//
// Formats that stream: PNG (not interlaced), baseline JPEG (scanlines),
// binary PGM/PPM (P5/P6), C-order .npy (2 or 3 dimensions), uncompressed BMP
// (a band of stored rows by one seek, bottom-up too) and TIFF (strips
// or tiles, through TiffReader) in; PNG, PGM/PPM, float .npy and TIFF
// (TiffWriter: integer or float, strips or tiles, BigTIFF when needed) out.
// The others (RLE BMP, TGA, text PGM/PPM, interlaced PNG, progressive JPEG,
// Fortran-order .npy; JPEG, BMP, TGA and integer .npy out) are read and
// written whole by read_image / write_image.
//
// A new format implements RowSource::decode (the next n rows, interleaved,
// in the source's sample type; a strip or tile reader keeps the rest of its
// last strip for the next call) and, when it can start over, restart().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "convkit/io/image.hpp"

namespace convkit {

/// The samples a RowSource decodes into: native-endian integers or floats.
enum class RowSampleType { u8, u16, f32, f64 };

class RowSource {
 public:
  virtual ~RowSource() = default;
  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  /// As Image::bit_depth: 8, 16, 32 (float), 64 (float64, with keep_float64).
  int bit_depth() const { return bit_depth_; }
  /// The next row read() returns (0 after opening or rewind()).
  int next_row() const { return next_; }
  /// True when rewind() can start over (a regular file).
  virtual bool seekable() const { return false; }
  /// Back to row 0; throws Error when the source is not seekable.
  void rewind();
  /// Read the next n rows (at most height() - next_row()) as planes: sample
  /// (c, y, x) of the band goes to planes[c][y * stride + x].  T is float,
  /// or double for a float64 source (bit_depth() 64).
  template <class T>
  void read(int n, T* const* planes, std::ptrdiff_t stride);
  /// The image's shape (and bit depth) with no samples.
  Image shape() const;
  /// The bytes the decoder holds beside the rows it returns (a TIFF's row of
  /// tiles or strip): counted in the pipeline's memory budget.
  virtual std::int64_t buffer_bytes() const { return 0; }

 protected:
  void set_shape(int width, int height, int channels, int bit_depth, RowSampleType type);
  /// Decode the next n rows into dst: n * width * channels samples of
  /// sample_type(), interleaved (y, x, c).  Throws Error naming the file on
  /// corrupt or truncated data.
  virtual void decode(int n, unsigned char* dst) = 0;
  /// Start decoding from row 0 again (only called when seekable()).
  virtual void restart() {}

 private:
  int width_ = 0, height_ = 0, channels_ = 0, bit_depth_ = 8;
  RowSampleType type_ = RowSampleType::u8;
  int next_ = 0;
  std::vector<unsigned char> scratch_;
};

/// Open the regular file `path` for reading by rows.  Returns nullptr and
/// sets *why_not (a short phrase for messages) when it does not stream: its
/// format, or standard input, a pipe or a device (read those whole, nothing
/// of them has been read then).  Throws Error naming the file when it cannot
/// be opened or its header is corrupt.  max_pixels > 0 refuses a larger
/// width x height as read_image does (0: no pixel limit, memory is the
/// pipeline's budget).  keep_float64 as for read_image.
std::unique_ptr<RowSource> open_row_source(const std::string& path, bool keep_float64,
                                           std::string* why_not, std::int64_t max_pixels = 0);

class RowSink {
 public:
  virtual ~RowSink() = default;
  /// Write the next n rows from planes (as RowSource::read).  T is the
  /// result's sample type: float, or double for a float64 image.
  virtual void write(int n, const float* const* planes, std::ptrdiff_t stride) = 0;
  virtual void write(int n, const double* const* planes, std::ptrdiff_t stride) = 0;
  /// After the last row: complete the file (trailers, flush).
  virtual void finish() = 0;
  /// The bytes the encoder holds beside the rows given (a TIFF's tile row).
  virtual std::int64_t buffer_bytes() const { return 0; }
};

/// True when write_image(shape, path, opts) can be written by rows
/// (open_row_sink will not return nullptr); else *why_not says why.
bool row_sink_supported(const Image& shape, const std::string& path, const ImageWriteOptions& opts,
                        std::string* why_not);

/// A sink writing the file write_image(img, path, opts) would write, for an
/// image of `shape` (its samples are not used), into `out` (the temporary
/// file of write_file_atomic, or standard output).  lo and hi: the range of
/// the colour values for ValuePolicy::normalize (a first pass finds it).
std::unique_ptr<RowSink> open_row_sink(std::FILE* out, const Image& shape, const std::string& path,
                                       const ImageWriteOptions& opts, double lo = 0, double hi = 0);

}  // namespace convkit

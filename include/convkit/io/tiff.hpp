// convkit/io/tiff.hpp — TIFF and BigTIFF by rows, through libtiff.
//
// TiffReader reads any range of rows of a TIFF's first image into a caller's
// buffer; TiffWriter takes rows in order.  Both keep at most one strip row or
// tile row of the image in memory, so their memory does not grow with the
// image's height.  Samples are interleaved in a row (x, then channel) in the
// file's own type: uint8, uint16, float32 or float64.
//
// Supported: grey (1 channel), grey+alpha (2), RGB (3), RGBA (4); unsigned 8-
// and 16-bit or IEEE float 32- and 64-bit samples; strips or tiles; chunky or
// planar-separate samples; any compression libtiff decodes except JPEG in
// YCbCr.  Anything else (palette, YCbCr, CMYK, 1/4/12-bit, signed or 32-bit
// integers, half floats, more channels) is refused with one line naming the
// file and what is unsupported.  libtiff's messages never reach the terminal:
// its errors become convkit::Error, its warnings are dropped.  A file that
// ends before its pixels, or whose pixels do not decode, is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "convkit/io/image.hpp"

namespace convkit {

enum class SampleType { u8, u16, f32, f64 };
/// Bytes of one sample: 1, 2, 4 or 8.
std::size_t sample_bytes(SampleType t);

/// "none", "lzw" or "deflate" (also "zip"); UsageError naming compression otherwise.
TiffCompression parse_tiff_compression(const std::string& name);

class TiffReader {
 public:
  /// Opens a file.  Throws convkit::Error naming it when it cannot be read, is
  /// not a TIFF, is of a kind not supported, or exceeds limits.max_pixels.
  explicit TiffReader(const std::string& path, const ImageLimits& limits = {});
  /// Reads a TIFF already in memory; `bytes` must outlive the reader.
  TiffReader(std::string_view bytes, const std::string& name, const ImageLimits& limits = {});
  ~TiffReader();
  TiffReader(TiffReader&&) noexcept;
  TiffReader& operator=(TiffReader&&) noexcept;

  int width() const;
  int height() const;
  int channels() const;  ///< 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  SampleType sample_type() const;
  bool tiled() const;
  bool bigtiff() const;
  /// True when the file's alpha is associated (premultiplied) alpha.
  bool premultiplied() const;
  /// Bytes of one row: width * channels * sample_bytes.
  std::size_t row_bytes() const;
  /// Reads rows [y0, y0 + count) into dst (count * row_bytes() bytes).  Rows
  /// may be read in any order; reading forward costs each strip or tile once.
  /// The reader keeps one strip row or tile row; a chunky strip of more than
  /// 16 MiB (a whole image in one strip, say) is read a row at a time, which
  /// is cheap forward but restarts the strip's decoding for a row above the
  /// last one read.
  void read_rows(int y0, int count, void* dst);
  /// The bytes the reader holds at most: its strip row or tile row of the
  /// whole width, and one strip or tile as decoded and as read from the file.
  std::int64_t buffer_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when a TIFF of this size may pass 4 GiB: its samples, with the worst
/// growth of the compression (LZW can grow incompressible data by half), plus
/// room for its tables.
bool tiff_may_exceed_4gib(int width, int height, int channels, SampleType type,
                          TiffCompression compression);

class TiffWriter {
 public:
  /// Starts a TIFF on `f`, an open file positioned at its start (when `f` is
  /// not a regular file at offset 0, e.g. a pipe, the file is assembled in
  /// memory and written by finish()).  `name` is used in messages.
  TiffWriter(std::FILE* f, const std::string& name, int width, int height, int channels,
             SampleType type, const TiffWriteOptions& opts = {});
  ~TiffWriter();
  TiffWriter(const TiffWriter&) = delete;
  TiffWriter& operator=(const TiffWriter&) = delete;

  bool bigtiff() const;
  /// The bytes the writer holds: the strip or tile row being filled and a
  /// tile, twice (libtiff encodes a copy).
  std::int64_t buffer_bytes() const;
  /// Appends `count` rows (count * width * channels samples of the type, interleaved).
  void write_rows(const void* rows, int count);
  /// Writes what is buffered and the directory.  Throws unless every row was given.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convkit

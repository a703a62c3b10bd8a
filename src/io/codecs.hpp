// Internal: the per-format image codecs behind read_image / write_image.
// Decoders take the whole file in memory and return interleaved integer
// samples; encoders write interleaved samples to an open FILE.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "convkit/io/image.hpp"

namespace convkit::detail {

/// Interleaved integer samples: sample (y, x, c) is samples[(y * width + x) * channels + c].
struct Pixels {
  int width = 0, height = 0, channels = 0;
  int depth = 8;  ///< 8 or 16
  std::vector<std::uint16_t> samples;
};

/// Throws Error naming the file when width x height is not positive or exceeds the limits.
/// Call before allocating pixel memory.
void check_dimensions(long long width, long long height, const ImageLimits& limits,
                      const std::string& name);

/// The value policy of ImageWriteOptions applied to planar samples: writes
/// integer samples for output channel c (every `channels`-th element of out).
/// Shared by write_image and the row sinks (convkit/io/rows.hpp), so a
/// streamed file has the same samples as one written whole.
struct ValueConverter {
  ValueConverter(const Image& img, int depth, int channels_out, const ImageWriteOptions& o,
                 std::string name, const char* format);
  std::string name;
  const char* format;
  int depth, channels, width;
  bool name_channel;
  ImageWriteOptions opts;
  double max_out = 255, scale = 1;
  int colour = 1;  ///< colour planes of the source
  bool out_alpha = false;
  std::vector<int> src;  ///< the source plane of each output channel
  /// Samples k0 .. k0+n-1 (row-major over the whole image, for messages) of
  /// one plane; lo and hi: the normalize policy's range.  Throws Error on a
  /// NaN, or (policy none) a value outside the format's range.
  template <class T>
  void convert(const T* p, std::size_t k0, std::size_t n, int c, double lo, double hi,
               std::uint16_t* out) const;
};
/// Widen [lo, hi] to the finite values of p[0..n).
template <class T>
void widen_range(const T* p, std::size_t n, double& lo, double& hi);

Pixels decode_png(std::string_view bytes, const std::string& name, const ImageLimits& limits);
Pixels decode_jpeg(std::string_view bytes, const std::string& name, const ImageLimits& limits);
Pixels decode_bmp_tga(std::string_view bytes, const std::string& name, const ImageLimits& limits,
                      bool tga);
/// BMP by our own decoder (bmp.cpp); decode_bmp_tga(..., false) calls it.
Pixels decode_bmp(std::string_view bytes, const std::string& name, const ImageLimits& limits);

/// A BMP's headers, parsed and checked against the file's size, and how its
/// stored rows become samples: decode_bmp reads the whole file through it,
/// the row source (rows.cpp) one band of rows at a time.
class BmpLayout {
 public:
  /// `head`: the file's first bytes (at least its headers and palette; all of
  /// it for decode_bmp); `file_size`: the whole file's.  Throws Error naming
  /// the file when a header is corrupt or the pixels would pass its end.
  BmpLayout(std::string_view head, std::uint64_t file_size, const std::string& name,
            const ImageLimits& limits);
  std::size_t width = 0, height = 0;
  std::uint64_t offset = 0;  ///< the first pixel byte
  std::size_t stride = 0;    ///< bytes of a stored row (uncompressed: padded to 4)
  bool top_down = false;
  bool rle = false, is_rle8 = false;  ///< run-length data: decoded only from the start
  /// The stored row (0 = first in the file) of image row y, and back.
  std::size_t file_row(std::size_t y) const { return top_down ? y : height - 1 - y; }
  /// The values (palette indices or packed pixels) of one stored row of `stride` bytes.
  void row_values(const unsigned char* row, std::uint32_t* out) const;
  /// True when the image may have alpha: 16/32-bit with an alpha mask.
  bool may_have_alpha() const { return bpp > 8 && alpha.mask != 0; }
  /// Whether any of n values sets alpha bits (an alpha that is zero everywhere is padding).
  bool any_alpha(const std::uint32_t* v, std::size_t n) const;
  /// 1 (a grey palette), 3, or 4 with alpha.
  int channels(bool has_alpha) const;
  /// The samples of n values, channels(has_alpha) each (8-bit values in S).
  template <class S>
  void samples(const std::uint32_t* v, std::size_t n, bool has_alpha, S* out) const;

 private:
  // One colour mask: where its bits start, how many, and the value it scales to 255 from.
  struct Mask {
    std::uint32_t mask = 0;
    int shift = 0;
    std::uint32_t max = 0;
    explicit Mask(std::uint32_t m = 0);
    bool contiguous() const { return !mask || (max & (max + 1)) == 0; }
    std::uint16_t get(std::uint32_t v) const {
      const std::uint32_t x = (v & mask) >> shift;
      return static_cast<std::uint16_t>((static_cast<std::uint64_t>(x) * 255 + max / 2) / max);
    }
  };
  std::uint32_t bpp = 0;
  Mask red, green, blue, alpha;
  std::vector<std::uint8_t> palette;  // RGB triples
  bool grey = true;
};
/// True when the first 18 bytes are a plausible TGA header (TGA has no magic bytes).
bool looks_like_tga(std::string_view bytes);
Pixels decode_pnm(std::string_view bytes, const std::string& name, const ImageLimits& limits);

void encode_png(std::FILE* f, const Pixels& px, int compression, const std::string& name);
/// A PNG read a band of rows at a time (libpng's row interface) from `f`,
/// after `head`, the bytes of it already read; the transformations of
/// decode_png (palette and low depths expanded, tRNS to alpha).  An
/// interlaced file has passes > 1 and cannot be read this way.
class PngRowReader {
 public:
  PngRowReader(std::FILE* f, std::string head, std::string name);
  ~PngRowReader();
  PngRowReader(const PngRowReader&) = delete;
  PngRowReader& operator=(const PngRowReader&) = delete;
  long long width = 0, height = 0;
  int channels = 0, depth = 8, passes = 1;
  /// The next n rows as the file stores them (big-endian 16-bit samples).
  void read(int n, unsigned char* raw);
  /// After the last row: the checksums and chunks that follow.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
  std::string name_;
};

/// A baseline JPEG read by scanlines from `f` (from its first byte), with
/// decode_jpeg's colour handling (grey, RGB; CMYK/YCCK turned into RGB).  A
/// progressive file (libjpeg would hold all its coefficients) is only
/// opened: `progressive` is set and it must be read whole.
class JpegRowReader {
 public:
  JpegRowReader(std::FILE* f, std::string name);
  ~JpegRowReader();
  JpegRowReader(const JpegRowReader&) = delete;
  JpegRowReader& operator=(const JpegRowReader&) = delete;
  long long width = 0, height = 0;
  int channels = 0;
  bool progressive = false;
  /// The next n rows of width * channels bytes.
  void read(int n, unsigned char* out);
  void finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
  std::string name_;
};

/// A PNG written a band of rows at a time (libpng's row interface), with the
/// settings of encode_png, so the file is the same.
class PngRowWriter {
 public:
  PngRowWriter(std::FILE* f, int width, int height, int channels, int depth, int compression,
               std::string name);
  ~PngRowWriter();
  PngRowWriter(const PngRowWriter&) = delete;
  PngRowWriter& operator=(const PngRowWriter&) = delete;
  /// n rows of interleaved samples.
  void write(const std::uint16_t* samples, int n);
  void finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
  std::string name_;
  int width_, channels_, depth_;
  std::vector<unsigned char> raw_;
};
void encode_jpeg(std::FILE* f, const Pixels& px, int quality, const std::string& name);
void encode_bmp_tga(std::FILE* f, const Pixels& px, bool tga, const std::string& name);
/// kind '5' (PGM, 1 channel) or '6' (PPM, 3 channels); 8- or 16-bit.
void encode_pnm(std::FILE* f, const Pixels& px, char kind, const std::string& name);

/// TIFF (tiff.cpp): whole images through TiffReader / TiffWriter.
Image decode_tiff(std::string_view bytes, const std::string& name, const ImageLimits& limits);
/// Reads a TIFF file from disk a strip or tile row at a time (never the file whole).
Image read_tiff_file(const std::string& path, const ImageLimits& limits);
/// Interleaved 8- or 16-bit samples to a TIFF.
void encode_tiff(std::FILE* f, const Pixels& px, const TiffWriteOptions& o,
                 const std::string& name);
/// A float or double image's planes to a float32 (float64 = false) or float64 TIFF.
void encode_tiff_float(std::FILE* f, const Image& img, bool float64, const TiffWriteOptions& o,
                       const std::string& name);

}  // namespace convkit::detail

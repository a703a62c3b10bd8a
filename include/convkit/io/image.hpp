// convkit/io/image.hpp — images in and out.
//
// Pixels are planar: sample (c, y, x) is data[(c * height + y) * width + x].
// Samples are float32 (`data`), or float64 (`data64`, bit_depth 64) for
// float64 .npy images read with ImageLimits::keep_float64, so double data is
// filtered and written in double end to end.  Values keep the file's units:
// 0..255 for 8-bit files, 0..65535 for 16-bit, as stored for float (.npy)
// data.  Formats are chosen by extension (reading also sniffs the magic
// bytes): PNG (libpng), JPEG (libjpeg-turbo), BMP (our own decoder), TGA
// (stb_image after our size checks), PGM/PPM (our own parser), NPY (our own).
// A file that ends before the pixels its header declares is refused in every
// format, never zero-filled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace convkit {

struct Image {
  int width = 0, height = 0, channels = 0;  ///< channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  /// 8 or 16 for integer files; 32 for float data; 64 for float64 data (in data64)
  int bit_depth = 8;
  std::vector<float> data;     ///< planar, see above; empty when is_double()
  std::vector<double> data64;  ///< the planes of a float64 image (bit_depth 64), else empty

  bool is_double() const { return bit_depth == 64; }
  bool is_float() const { return bit_depth == 32 || bit_depth == 64; }
  /// The sample buffer of type T (float: data, double: data64).
  template <class T>
  std::vector<T>& samples() {
    if constexpr (std::is_same_v<T, double>)
      return data64;
    else
      return data;
  }
  template <class T>
  const std::vector<T>& samples() const {
    if constexpr (std::is_same_v<T, double>)
      return data64;
    else
      return data;
  }
  template <class T>
  T* plane_of(int c) {
    return samples<T>().data() + static_cast<std::size_t>(c) * width * height;
  }
  template <class T>
  const T* plane_of(int c) const {
    return samples<T>().data() + static_cast<std::size_t>(c) * width * height;
  }
  float* plane(int c) { return plane_of<float>(c); }
  const float* plane(int c) const { return plane_of<float>(c); }
  /// Number of samples in the buffer in use.
  std::size_t sample_count() const { return is_double() ? data64.size() : data.size(); }
  bool has_alpha() const { return channels == 2 || channels == 4; }
  /// Largest value of the integer format the image came from (255, 65535), 0 for float.
  float max_value() const { return bit_depth == 8 ? 255.f : bit_depth == 16 ? 65535.f : 0.f; }
};

/// Call f(T{}) with T = double for a float64 image and float otherwise, so one
/// template serves both sample types.
template <class F>
decltype(auto) with_sample_type(const Image& img, F&& f) {
  if (img.is_double()) return f(double{});
  return f(float{});
}

/// The process-wide default of ImageLimits::max_pixels: 256 Mpx (a 16384 x
/// 16384 image; 1 GiB of float samples per channel) unless changed, as the
/// command line's --max-pixels does.  Values below 1 are refused (UsageError).
inline constexpr std::int64_t kDefaultMaxPixels = 256LL * 1024 * 1024;
std::int64_t default_max_pixels();
void set_default_max_pixels(std::int64_t pixels);

/// Limits applied before any pixel buffer is allocated.
struct ImageLimits {
  std::int64_t max_pixels = default_max_pixels();  ///< width * height
  /// Read float64 .npy data as a float64 image (bit_depth 64, data64) instead
  /// of converting it to float32.  Filters that handle both types ask for it.
  bool keep_float64 = false;
};

/// Read an image; "-" reads standard input.  Throws convkit::Error naming the
/// file on a missing, unreadable, corrupt, truncated or oversized file.  Reads
/// no more than the header allows (the first 64 KiB to tell the format, then at
/// most 16 MiB + 64 bytes per declared pixel), so a pipe or device is never
/// slurped.
Image read_image(const std::string& path, const ImageLimits& limits = {});

/// The most text read_input_bytes reads from a pipe or device (256 MiB).
inline constexpr std::size_t kMaxStreamTextBytes = std::size_t(256) << 20;

/// The bytes of an input whose format is not known yet ("-" = standard
/// input), read in steps as read_image reads: an image or .npy (told by its
/// magic bytes, or a .tga name) is read only as far as its header says it can
/// need, and refused early when it declares more than `limits` allow.
/// Anything else is text: at most max_text_bytes (at most kMaxStreamTextBytes
/// from a pipe or device), the read ending after the first block (64 KiB, then
/// 1 MiB) that holds a NUL byte, so binary data is refused by the caller after
/// its first bytes.  max_text_bytes 0: no text is wanted, only the first 64 KiB
/// are read.  So /dev/zero, or an endless pipe, is never read whole.
std::string read_input_bytes(const std::string& path, const ImageLimits& limits = {},
                             std::size_t max_text_bytes = std::size_t(1) << 31);

/// Decode an image already in memory (e.g. standard input); `name` is used in
/// messages.  TGA has no magic bytes: it is known by a plausible header, or by
/// `path_hint` (a file name) ending in .tga.
Image decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits = {},
                   const std::string& path_hint = "");

/// True when the bytes start like a file read_image understands (PNG, JPEG,
/// BMP, PGM/PPM, NPY magic, or a plausible TGA header).
bool looks_like_image(std::string_view bytes);

// clang-format off
/// What to do with values that do not fit an integer format.
///   none       refuse to write if any value is outside [0, max] or not finite
///              (the error names the policy flags)
///   clip       clamp to [0, max]
///   abs        |v|, then clamp
///   normalize  map [min, max] of the data linearly to [0, max] (per image, all
///              colour channels together)
///   offset     v + offset, then clamp (e.g. 128 shows signed derivatives as grey)
enum class ValuePolicy { none, clip, abs, normalize, offset };
// clang-format on

enum class TiffCompression { none, lzw, deflate };

/// How TIFF files are written (see convkit/io/tiff.hpp).
struct TiffWriteOptions {
  TiffCompression compression = TiffCompression::none;
  bool tiled = false;                       ///< tiles instead of strips
  int tile_width = 256, tile_height = 256;  ///< multiples of 16
  int rows_per_strip = 0;                   ///< 0: about 64 KiB of samples a strip
  /// BigTIFF (64-bit offsets) is written when the file may pass 4 GiB (see
  /// tiff_may_exceed_4gib), or always when force_bigtiff is set.
  bool force_bigtiff = false;
};

struct ImageWriteOptions {
  ValuePolicy policy = ValuePolicy::none;
  float offset = 0;  ///< for ValuePolicy::offset, in the OUTPUT's units (128: 8-bit mid-grey)
  /// 0: the format's natural depth for this image (PNG/PGM keep 16-bit; .npy keeps
  /// float32 or float64); 8 or 16; 32 or 64 (.npy float32 / float64)
  int bit_depth = 0;
  /// The format of standard output ("-"), as an extension (png, jpg, npy, ...);
  /// empty: NPY for float images (bit_depth 32 or 64), PNG for 8/16-bit ones.
  std::string format;
  int jpeg_quality = 92;
  int png_compression = 1;  ///< zlib level: 1 is fast and still small
  TiffWriteOptions tiff;
};

/// The format write_image gives `path` ("png", "jpg", "npy", ...; "-": see
/// ImageWriteOptions::format); UsageError for an unknown extension or format.
std::string output_format(const std::string& path, const ImageWriteOptions& opts, const Image& img);
/// True when write_image(img, path, opts) keeps float values (an NPY float file).
bool writes_float(const std::string& path, const ImageWriteOptions& opts, const Image& img);

/// Write an image, format by extension; "-" writes to standard output in the
/// format output_format() names.  A colour image with alpha written to a
/// format without alpha (JPEG, PPM, PGM) loses its alpha with a one-line
/// warning on standard error.
/// The file appears atomically (temporary file + rename): never half-written.
void write_image(const Image& img, const std::string& path, const ImageWriteOptions& opts = {});

/// True when the path's extension names an image format we can write.
bool is_image_path(const std::string& path);

}  // namespace convkit

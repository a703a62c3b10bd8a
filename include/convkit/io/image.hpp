// convkit/io/image.hpp — images in and out.
//
// Pixels are float32, planar: sample (c, y, x) is data[(c * height + y) * width + x].
// Values keep the file's units: 0..255 for 8-bit files, 0..65535 for 16-bit,
// as stored for float (.npy) data.  Formats are chosen by extension (reading
// also sniffs the magic bytes): PNG (libpng), JPEG (libjpeg-turbo), BMP (our
// own decoder), TGA (stb_image after our size checks), PGM/PPM (our own
// parser), NPY (our own).  A file that ends before the pixels its header
// declares is refused in every format, never zero-filled.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace convkit {

struct Image {
  int width = 0, height = 0, channels = 0;  ///< channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  int bit_depth = 8;                        ///< 8 or 16 for integer files; 32 for float data
  std::vector<float> data;                  ///< planar, see above

  float* plane(int c) { return data.data() + static_cast<std::size_t>(c) * width * height; }
  const float* plane(int c) const {
    return data.data() + static_cast<std::size_t>(c) * width * height;
  }
  bool has_alpha() const { return channels == 2 || channels == 4; }
  /// Largest value of the integer format the image came from (255, 65535), 0 for float.
  float max_value() const { return bit_depth == 8 ? 255.f : bit_depth == 16 ? 65535.f : 0.f; }
};

/// The process-wide default of ImageLimits::max_pixels: 256 Mpx (a 16384 x
/// 16384 image; 1 GiB of float samples per channel) unless changed, as the
/// command line's --max-pixels does.  Values below 1 are refused (UsageError).
inline constexpr std::int64_t kDefaultMaxPixels = 256LL * 1024 * 1024;
std::int64_t default_max_pixels();
void set_default_max_pixels(std::int64_t pixels);

/// Limits applied before any pixel buffer is allocated.
struct ImageLimits {
  std::int64_t max_pixels = default_max_pixels();  ///< width * height
};

/// Read an image; "-" reads standard input.  Throws convkit::Error naming the
/// file on a missing, unreadable, corrupt, truncated or oversized file.  Reads
/// no more than the header allows (the first 64 KiB to tell the format, then at
/// most 16 MiB + 64 bytes per declared pixel), so a pipe or device is never
/// slurped.
Image read_image(const std::string& path, const ImageLimits& limits = {});

/// Decode an image already in memory (e.g. standard input); `name` is used in
/// messages.  TGA has no magic bytes: it is known by a plausible header, or by
/// `path_hint` (a file name) ending in .tga.
Image decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits = {},
                   const std::string& path_hint = "");

/// True when the bytes start like a file read_image understands (PNG, JPEG,
/// BMP, PGM/PPM, NPY magic, or a plausible TGA header).
bool looks_like_image(std::string_view bytes);

/// What to do with values that do not fit an integer format.
///   none       refuse to write if any value is outside [0, max] or not finite (the error names the
///   policy flags) clip       clamp to [0, max] abs        |v|, then clamp normalize  map [min,
///   max] of the data linearly to [0, max] (per image, all colour channels together) offset     v +
///   offset, then clamp (e.g. 128 shows signed derivatives as grey)
enum class ValuePolicy { none, clip, abs, normalize, offset };

struct ImageWriteOptions {
  ValuePolicy policy = ValuePolicy::none;
  float offset = 0;   ///< for ValuePolicy::offset
  int bit_depth = 0;  ///< 0: the format's natural depth for this image (PNG/PGM keep 16-bit)
  int jpeg_quality = 92;
  int png_compression = 1;  ///< zlib level: 1 is fast and still small
};

/// Write an image, format by extension; "-" writes PNG to standard output.
/// The file appears atomically (temporary file + rename): never half-written.
void write_image(const Image& img, const std::string& path, const ImageWriteOptions& opts = {});

/// True when the path's extension names an image format we can write.
bool is_image_path(const std::string& path);

}  // namespace convkit

// Internal: the per-format image codecs behind read_image / write_image.
// Decoders take the whole file in memory and return interleaved integer
// samples; encoders write interleaved samples to an open FILE.
#pragma once

#include <cstdint>
#include <cstdio>
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

Pixels decode_png(std::string_view bytes, const std::string& name, const ImageLimits& limits);
Pixels decode_jpeg(std::string_view bytes, const std::string& name, const ImageLimits& limits);
Pixels decode_bmp_tga(std::string_view bytes, const std::string& name, const ImageLimits& limits,
                      bool tga);
/// BMP by our own decoder (bmp.cpp); decode_bmp_tga(..., false) calls it.
Pixels decode_bmp(std::string_view bytes, const std::string& name, const ImageLimits& limits);
/// True when the first 18 bytes are a plausible TGA header (TGA has no magic bytes).
bool looks_like_tga(std::string_view bytes);
Pixels decode_pnm(std::string_view bytes, const std::string& name, const ImageLimits& limits);

void encode_png(std::FILE* f, const Pixels& px, int compression, const std::string& name);
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

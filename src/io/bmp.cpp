// BMP decoding, our own: every header version (OS/2 core, BITMAPINFOHEADER,
// V2 to V5), 1/4/8-bit palettes, 16/24/32-bit colour with or without
// BITFIELDS masks, RLE4 and RLE8, bottom-up and top-down row order.  Every
// size the header declares is checked against the file before a pixel is
// read, so a file cut short is refused, never zero-filled.
#include <cstdint>

#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit::detail {

namespace {

std::uint32_t u16(std::string_view b, std::size_t at) {
  return static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8;
}
std::uint32_t u32(std::string_view b, std::size_t at) {
  return u16(b, at) | u16(b, at + 2) << 16;
}

// One colour mask: where its bits start, how many, and the value it scales to 255 from.
struct Mask {
  std::uint32_t mask = 0;
  int shift = 0;
  std::uint32_t max = 0;
  explicit Mask(std::uint32_t m = 0) : mask(m) {
    if (!m) return;
    while (!((m >> shift) & 1)) ++shift;
    max = m >> shift;
  }
  bool contiguous() const { return !mask || (max & (max + 1)) == 0; }
  std::uint16_t get(std::uint32_t v) const {
    const std::uint32_t x = (v & mask) >> shift;
    return static_cast<std::uint16_t>((static_cast<std::uint64_t>(x) * 255 + max / 2) / max);
  }
};

enum Compression : std::uint32_t { rgb = 0, rle8 = 1, rle4 = 2, bitfields = 3, alphabitfields = 6 };

}  // namespace

Pixels decode_bmp(std::string_view b, const std::string& name, const ImageLimits& limits) {
  auto fail = [&](const std::string& what) -> Error {
    return Error(name + ": corrupt or unsupported BMP file: " + what);
  };
  auto short_file = [&](std::size_t need, const std::string& what) -> Error {
    return Error(name + ": truncated BMP file: it ends after " + std::to_string(b.size()) +
                 " bytes, but " + what + " needs " + std::to_string(need));
  };
  if (b.size() < 2 || b[0] != 'B' || b[1] != 'M') throw fail("no 'BM' signature");
  if (b.size() < 18) throw short_file(18, "the file header");
  const std::uint32_t offset = u32(b, 10);
  const std::uint32_t hsize = u32(b, 14);
  if (hsize != 12 && hsize != 16 && (hsize < 40 || hsize > 124))
    throw fail("unknown info header size " + std::to_string(hsize));
  if (b.size() < 14ull + hsize) throw short_file(14ull + hsize, "the info header");
  long long w = 0, h = 0;
  std::uint32_t bpp = 0, compression = rgb, colours_used = 0;
  bool top_down = false;
  if (hsize == 12) {  // OS/2 BITMAPCOREHEADER
    w = u16(b, 18);
    h = u16(b, 20);
    bpp = u16(b, 24);
  } else if (hsize == 16) {  // OS/2 2.x, short form
    w = u32(b, 18);
    h = static_cast<std::int32_t>(u32(b, 22));
    bpp = u16(b, 28);
  } else {
    w = static_cast<std::int32_t>(u32(b, 18));
    h = static_cast<std::int32_t>(u32(b, 22));
    bpp = u16(b, 28);
    compression = u32(b, 30);
    colours_used = u32(b, 46);
  }
  if (h < 0) {
    top_down = true;
    h = -h;
  }
  check_dimensions(w, h, limits, name);
  if (compression == rle8 && bpp != 8) throw fail("RLE8 needs 8 bits per pixel");
  if (compression == rle4 && bpp != 4) throw fail("RLE4 needs 4 bits per pixel");
  if ((compression == bitfields || compression == alphabitfields) && bpp != 16 && bpp != 32)
    throw fail("BITFIELDS needs 16 or 32 bits per pixel");
  if (compression != rgb && compression != rle8 && compression != rle4 &&
      compression != bitfields && compression != alphabitfields)
    throw fail("compression type " + std::to_string(compression) +
               " (JPEG or PNG inside BMP) is not supported");
  if (bpp != 1 && bpp != 2 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    throw fail(std::to_string(bpp) + " bits per pixel");

  // Colour masks: in the header (V2 and later) or just after a 40-byte header.
  std::size_t after_header = 14 + hsize;
  Mask red, green, blue, alpha;
  if (compression == bitfields || compression == alphabitfields) {
    std::size_t at = 54;
    if (hsize == 40) {
      const std::size_t n = compression == alphabitfields ? 16 : 12;
      if (b.size() < after_header + n) throw short_file(after_header + n, "the colour masks");
      after_header += n;
    } else if (hsize < 52) {
      throw fail("BITFIELDS without colour masks");
    }
    red = Mask(u32(b, at));
    green = Mask(u32(b, at + 4));
    blue = Mask(u32(b, at + 8));
    if ((compression == alphabitfields && hsize == 40) || hsize >= 56)
      alpha = Mask(u32(b, at + 12));
  } else if (bpp == 16) {
    red = Mask(0x7c00);
    green = Mask(0x03e0);
    blue = Mask(0x001f);
  } else if (bpp == 32) {
    red = Mask(0xff0000);
    green = Mask(0xff00);
    blue = Mask(0xff);
    alpha = Mask(0xff000000u);
  }
  if (!red.contiguous() || !green.contiguous() || !blue.contiguous() || !alpha.contiguous() ||
      ((bpp == 16 || bpp == 32) && (!red.mask || !green.mask || !blue.mask)))
    throw fail("unusable colour masks");

  // The palette, for 1 to 8 bits per pixel.
  std::vector<std::uint8_t> palette;  // RGB triples
  bool grey = true;
  if (bpp <= 8) {
    const std::size_t entry = hsize == 12 ? 3 : 4;
    const std::size_t full = std::size_t(1) << bpp;
    std::size_t n = colours_used == 0 || colours_used > full ? full : colours_used;
    // The palette sits between the headers and the pixels; some writers list fewer entries than
    // colours_used says, so take what fits there, but at least one.
    if (offset > after_header) n = std::min(n, (offset - after_header) / entry);
    if (n == 0) throw fail("a palette image without a palette");
    if (b.size() < after_header + n * entry)
      throw short_file(after_header + n * entry, "the palette");
    palette.assign(full * 3, 0);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t at = after_header + k * entry;
      palette[3 * k] = static_cast<std::uint8_t>(b[at + 2]);
      palette[3 * k + 1] = static_cast<std::uint8_t>(b[at + 1]);
      palette[3 * k + 2] = static_cast<std::uint8_t>(b[at]);
      grey = grey && palette[3 * k] == palette[3 * k + 1] && palette[3 * k] == palette[3 * k + 2];
    }
  }
  if (offset >= b.size())
    throw Error(name + ": truncated BMP file: it ends after " + std::to_string(b.size()) +
                " bytes, before its pixels, which the header places at byte " +
                std::to_string(offset));

  const std::size_t width = static_cast<std::size_t>(w), height = static_cast<std::size_t>(h);
  const std::string_view data = b.substr(offset);
  // Uncompressed rows are padded to 4 bytes; their size is checked before anything is allocated.
  const std::size_t stride = (width * bpp + 31) / 32 * 4;
  const bool rle = compression == rle8 || compression == rle4;
  if (!rle && data.size() < stride * height)
    throw Error(name + ": truncated BMP file: it ends after " + std::to_string(b.size()) +
                " bytes, but the header declares " + std::to_string(stride * height) +
                " bytes of pixels from byte " + std::to_string(offset));
  // Palette indices (bpp <= 8) or packed values, one per pixel, rows top to bottom.
  std::vector<std::uint32_t> values(width * height, 0);
  auto row_of = [&](std::size_t y) { return top_down ? y : height - 1 - y; };  // file -> image
  if (rle) {
    // Runs: (count, index) pairs; 0 0 ends a line, 0 1 ends the image, 0 2 dx dy moves,
    // 0 n (n >= 3) is n literal indices padded to a 16-bit boundary.
    std::size_t i = 0, x = 0, y = 0;
    bool ended = false;
    auto need = [&](std::size_t n) {
      if (i + n > data.size())
        throw Error(name + ": truncated BMP file: its run-length data ends after " +
                    std::to_string(b.size()) + " bytes, at pixel row " + std::to_string(y) +
                    " of " + std::to_string(height) + ", without an end-of-image code");
    };
    auto put = [&](std::uint32_t v) {
      if (x < width && y < height) values[row_of(y) * width + x] = v;
      ++x;
    };
    while (!ended) {
      if (y >= height) break;
      need(2);
      const unsigned count = static_cast<unsigned char>(data[i]);
      const unsigned code = static_cast<unsigned char>(data[i + 1]);
      i += 2;
      if (count > 0) {
        for (unsigned k = 0; k < count; ++k)
          put(compression == rle8 ? code : (k % 2 == 0 ? code >> 4 : code & 15));
      } else if (code == 0) {
        x = 0;
        ++y;
      } else if (code == 1) {
        ended = true;
      } else if (code == 2) {
        need(2);
        x += static_cast<unsigned char>(data[i]);
        y += static_cast<unsigned char>(data[i + 1]);
        i += 2;
      } else {
        const std::size_t bytes = compression == rle8 ? code : (code + 1) / 2;
        need(bytes + (bytes & 1));
        for (unsigned k = 0; k < code; ++k) {
          const unsigned byte =
              static_cast<unsigned char>(data[i + (compression == rle8 ? k : k / 2)]);
          put(compression == rle8 ? byte : (k % 2 == 0 ? byte >> 4 : byte & 15));
        }
        i += bytes + (bytes & 1);
      }
    }
  } else {
    for (std::size_t y = 0; y < height; ++y) {
      const std::size_t base = y * stride;
      std::uint32_t* out = values.data() + row_of(y) * width;
      for (std::size_t x = 0; x < width; ++x) {
        if (bpp < 8) {
          const std::size_t bit = x * bpp;
          const unsigned byte = static_cast<unsigned char>(data[base + bit / 8]);
          out[x] = (byte >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
        } else if (bpp == 8) {
          out[x] = static_cast<unsigned char>(data[base + x]);
        } else if (bpp == 16) {
          out[x] = u16(data, base + 2 * x);
        } else if (bpp == 24) {
          out[x] = u16(data, base + 3 * x) |
                   static_cast<std::uint32_t>(static_cast<unsigned char>(data[base + 3 * x + 2]))
                       << 16;
        } else {
          out[x] = u32(data, base + 4 * x);
        }
      }
    }
  }

  Pixels px;
  px.width = static_cast<int>(width);
  px.height = static_cast<int>(height);
  px.depth = 8;
  const std::size_t n = width * height;
  if (bpp <= 8) {
    px.channels = grey ? 1 : 3;
    px.samples.resize(n * px.channels);
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint8_t* c = palette.data() + 3 * values[k];
      for (int ch = 0; ch < px.channels; ++ch) px.samples[k * px.channels + ch] = c[ch];
    }
    return px;
  }
  if (bpp == 24) {
    red = Mask(0xff0000);
    green = Mask(0xff00);
    blue = Mask(0xff);
  }
  // An alpha channel that is zero everywhere is padding (xRGB), not transparency.
  bool has_alpha = false;
  if (alpha.mask)
    for (std::size_t k = 0; k < n && !has_alpha; ++k) has_alpha = (values[k] & alpha.mask) != 0;
  px.channels = has_alpha ? 4 : 3;
  px.samples.resize(n * px.channels);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint16_t* s = px.samples.data() + k * px.channels;
    s[0] = red.get(values[k]);
    s[1] = green.get(values[k]);
    s[2] = blue.get(values[k]);
    if (has_alpha) s[3] = alpha.get(values[k]);
  }
  return px;
}

}  // namespace convkit::detail

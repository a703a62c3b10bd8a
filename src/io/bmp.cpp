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

enum Compression : std::uint32_t { rgb = 0, rle8 = 1, rle4 = 2, bitfields = 3, alphabitfields = 6 };

}  // namespace

BmpLayout::Mask::Mask(std::uint32_t m) : mask(m) {
  if (!m) return;
  while (!((m >> shift) & 1)) ++shift;
  max = m >> shift;
}

BmpLayout::BmpLayout(std::string_view b, std::uint64_t file_size, const std::string& name,
                     const ImageLimits& limits) {
  auto fail = [&](const std::string& what) -> Error {
    return Error(name + ": corrupt or unsupported BMP file: " + what);
  };
  auto short_file = [&](std::size_t need, const std::string& what) -> Error {
    return Error(name + ": truncated BMP file: it ends after " + std::to_string(b.size()) +
                 " bytes, but " + what + " needs " + std::to_string(need));
  };
  if (b.size() < 2 || b[0] != 'B' || b[1] != 'M') throw fail("no 'BM' signature");
  if (b.size() < 18) throw short_file(18, "the file header");
  offset = u32(b, 10);
  const std::uint32_t hsize = u32(b, 14);
  if (hsize != 12 && hsize != 16 && (hsize < 40 || hsize > 124))
    throw fail("unknown info header size " + std::to_string(hsize));
  if (b.size() < 14ull + hsize) throw short_file(14ull + hsize, "the info header");
  long long w = 0, h = 0;
  std::uint32_t compression = rgb, colours_used = 0;
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
  rle = compression == rle8 || compression == rle4;
  is_rle8 = compression == rle8;

  // Colour masks: in the header (V2 and later) or just after a 40-byte header.
  std::size_t after_header = 14 + hsize;
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
  if (bpp <= 8) {
    const std::size_t entry = hsize == 12 ? 3 : 4;
    const std::size_t full = std::size_t(1) << bpp;
    std::size_t n = colours_used == 0 || colours_used > full ? full : colours_used;
    // The palette sits between the headers and the pixels; some writers list fewer entries than
    // colours_used says, so take what fits there, but at least one.
    if (offset > after_header) n = std::min<std::size_t>(n, (offset - after_header) / entry);
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
  if (offset >= file_size)
    throw Error(name + ": truncated BMP file: it ends after " + std::to_string(file_size) +
                " bytes, before its pixels, which the header places at byte " +
                std::to_string(offset));

  width = static_cast<std::size_t>(w);
  height = static_cast<std::size_t>(h);
  // Uncompressed rows are padded to 4 bytes; their size is checked before anything is allocated.
  stride = (width * bpp + 31) / 32 * 4;
  if (!rle && (file_size - offset) / stride < height)  // stride >= 4: no overflow
    throw Error(name + ": truncated BMP file: it ends after " + std::to_string(file_size) +
                " bytes, but the header declares " + std::to_string(stride * height) +
                " bytes of pixels from byte " + std::to_string(offset));
  if (bpp == 24) {
    red = Mask(0xff0000);
    green = Mask(0xff00);
    blue = Mask(0xff);
  }
}

void BmpLayout::row_values(const unsigned char* row, std::uint32_t* out) const {
  const std::string_view data(reinterpret_cast<const char*>(row), stride);
  for (std::size_t x = 0; x < width; ++x) {
    if (bpp < 8) {
      const std::size_t bit = x * bpp;
      const unsigned byte = row[bit / 8];
      out[x] = (byte >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
    } else if (bpp == 8) {
      out[x] = row[x];
    } else if (bpp == 16) {
      out[x] = u16(data, 2 * x);
    } else if (bpp == 24) {
      out[x] = u16(data, 3 * x) | static_cast<std::uint32_t>(row[3 * x + 2]) << 16;
    } else {
      out[x] = u32(data, 4 * x);
    }
  }
}

bool BmpLayout::any_alpha(const std::uint32_t* v, std::size_t n) const {
  if (bpp <= 8 || !alpha.mask) return false;
  bool found = false;
  for (std::size_t k = 0; k < n && !found; ++k) found = (v[k] & alpha.mask) != 0;
  return found;
}

int BmpLayout::channels(bool has_alpha) const {
  if (bpp <= 8) return grey ? 1 : 3;
  return has_alpha ? 4 : 3;
}

template <class S>
void BmpLayout::samples(const std::uint32_t* v, std::size_t n, bool has_alpha, S* out) const {
  const int ch = channels(has_alpha);
  if (bpp <= 8) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint8_t* c = palette.data() + 3 * v[k];
      for (int i = 0; i < ch; ++i) out[k * ch + i] = c[i];
    }
    return;
  }
  for (std::size_t k = 0; k < n; ++k) {
    S* s = out + k * ch;
    s[0] = static_cast<S>(red.get(v[k]));
    s[1] = static_cast<S>(green.get(v[k]));
    s[2] = static_cast<S>(blue.get(v[k]));
    if (has_alpha) s[3] = static_cast<S>(alpha.get(v[k]));
  }
}
template void BmpLayout::samples<std::uint8_t>(const std::uint32_t*, std::size_t, bool,
                                               std::uint8_t*) const;
template void BmpLayout::samples<std::uint16_t>(const std::uint32_t*, std::size_t, bool,
                                                std::uint16_t*) const;

Pixels decode_bmp(std::string_view b, const std::string& name, const ImageLimits& limits) {
  const BmpLayout L(b, b.size(), name, limits);
  const std::size_t width = L.width, height = L.height;
  const std::string_view data = b.substr(L.offset);
  // Palette indices (bpp <= 8) or packed values, one per pixel, rows top to bottom.
  std::vector<std::uint32_t> values(width * height, 0);
  if (L.rle) {
    auto row_of = [&](std::size_t y) { return L.top_down ? y : height - 1 - y; };  // file -> image
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
    const bool r8 = L.is_rle8;
    while (!ended) {
      if (y >= height) break;
      need(2);
      const unsigned count = static_cast<unsigned char>(data[i]);
      const unsigned code = static_cast<unsigned char>(data[i + 1]);
      i += 2;
      if (count > 0) {
        for (unsigned k = 0; k < count; ++k) put(r8 ? code : (k % 2 == 0 ? code >> 4 : code & 15));
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
        const std::size_t bytes = r8 ? code : (code + 1) / 2;
        need(bytes + (bytes & 1));
        for (unsigned k = 0; k < code; ++k) {
          const unsigned byte = static_cast<unsigned char>(data[i + (r8 ? k : k / 2)]);
          put(r8 ? byte : (k % 2 == 0 ? byte >> 4 : byte & 15));
        }
        i += bytes + (bytes & 1);
      }
    }
  } else {
    const auto* raw = reinterpret_cast<const unsigned char*>(data.data());
    for (std::size_t y = 0; y < height; ++y)
      L.row_values(raw + L.file_row(y) * L.stride, values.data() + y * width);
  }

  Pixels px;
  px.width = static_cast<int>(width);
  px.height = static_cast<int>(height);
  px.depth = 8;
  const std::size_t n = width * height;
  // An alpha channel that is zero everywhere is padding (xRGB), not transparency.
  const bool has_alpha = L.any_alpha(values.data(), n);
  px.channels = L.channels(has_alpha);
  px.samples.resize(n * px.channels);
  L.samples(values.data(), n, has_alpha, px.samples.data());
  return px;
}

}  // namespace convkit::detail

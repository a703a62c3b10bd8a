// TGA through stb_image, BMP and TGA writing through stb_image_write (Debian's
// libstb-dev; BMP is decoded by bmp.cpp).  Only those two decoders are
// compiled in; the header is read first (stbi_info) so the dimensions are
// checked against ImageLimits before pixels are decoded.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#include <stb_image.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>

#include <climits>
#include <memory>

#include <cerrno>
#include <cstring>
#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit::detail {

namespace {

// stb_image reads past the end of a TGA as zeros, so the sizes its header
// declares are checked here first: the ID field, the colour map and the
// pixels (for RLE, by walking the packets).
void check_tga_size(std::string_view b, const std::string& name) {
  auto short_file = [&](std::size_t need, const std::string& what) {
    return Error(name + ": truncated TGA file: it ends after " + std::to_string(b.size()) +
                 " bytes, but " + what + " needs " + std::to_string(need));
  };
  if (b.size() < 18) throw short_file(18, "the header");
  auto u8 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(b[at]));
  };
  auto u16 = [&](std::size_t at) { return u8(at) | u8(at + 1) << 8; };
  const std::size_t type = u8(2);
  const std::size_t map_bytes = u8(1) ? u16(5) * ((u8(7) + 7) / 8) : 0;
  const std::size_t start = 18 + u8(0) + map_bytes;
  if (b.size() < start) throw short_file(start, "the header's ID field and colour map");
  const std::size_t pixels = u16(12) * u16(14), bytes_per_pixel = (u8(16) + 7) / 8;
  if (type < 8) {
    if (b.size() - start < pixels * bytes_per_pixel)
      throw Error(name + ": truncated TGA file: it ends after " + std::to_string(b.size()) +
                  " bytes, but the header declares " + std::to_string(pixels * bytes_per_pixel) +
                  " bytes of pixels from byte " + std::to_string(start));
    return;
  }
  // RLE: a packet byte, then one pixel repeated (high bit set) or n + 1 literal pixels.
  std::size_t i = start, done = 0;
  while (done < pixels) {
    if (i >= b.size()) break;
    const std::size_t head = u8(i++), count = (head & 127) + 1;
    const std::size_t body = (head & 128 ? 1 : count) * bytes_per_pixel;
    if (b.size() - i < body) break;
    i += body;
    done += count;
  }
  if (done < pixels)
    throw Error(name + ": truncated TGA file: its run-length data ends after " +
                std::to_string(b.size()) + " bytes with " + std::to_string(done) + " of " +
                std::to_string(pixels) + " pixels");
}

}  // namespace

bool looks_like_tga(std::string_view b) {
  if (b.size() < 18) return false;
  stbi__context s;
  stbi__start_mem(&s, reinterpret_cast<const stbi_uc*>(b.data()), 18);
  return stbi__tga_test(&s) != 0;
}

Pixels decode_bmp_tga(std::string_view bytes, const std::string& name, const ImageLimits& limits,
                      bool tga) {
  if (!tga) return decode_bmp(bytes, name, limits);
  const char* what = "TGA";
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw Error(name + ": " + what + " file is too large");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  check_tga_size(bytes, name);
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp))
    throw Error(name + ": corrupt or unsupported " + what + " file (" + stbi_failure_reason() +
                ")");
  check_dimensions(w, h, limits, name);
  int got = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, len, &w, &h, &got, 0), stbi_image_free);
  if (!pixels)
    throw Error(name + ": corrupt " + std::string(what) + " file (" + stbi_failure_reason() + ")");
  if (got < 1 || got > 4) throw Error(name + ": unsupported " + std::string(what) + " layout");
  Pixels px;
  px.width = w;
  px.height = h;
  px.channels = got;
  px.depth = 8;
  const std::size_t n = static_cast<std::size_t>(w) * h * got;
  px.samples.assign(pixels.get(), pixels.get() + n);
  return px;
}

namespace {
struct Sink {
  std::FILE* f;
  bool ok = true;
  int err = 0;
};
void sink_write(void* context, void* data, int size) {
  auto* s = static_cast<Sink*>(context);
  if (size > 0 && std::fwrite(data, 1, static_cast<std::size_t>(size), s->f) !=
                      static_cast<std::size_t>(size)) {
    if (s->ok) s->err = errno;
    s->ok = false;
  }
}
}  // namespace

void encode_bmp_tga(std::FILE* f, const Pixels& px, bool tga, const std::string& name) {
  std::vector<unsigned char> raw(px.samples.size());
  for (std::size_t k = 0; k < raw.size(); ++k) raw[k] = static_cast<unsigned char>(px.samples[k]);
  Sink sink{f};
  int ok =
      tga ? stbi_write_tga_to_func(sink_write, &sink, px.width, px.height, px.channels, raw.data())
          : stbi_write_bmp_to_func(sink_write, &sink, px.width, px.height, px.channels, raw.data());
  if (!ok || !sink.ok)
    throw Error(name + ": cannot write " + (tga ? "TGA" : "BMP") +
                (sink.err ? std::string(": ") + std::strerror(sink.err) : std::string()));
}

}  // namespace convkit::detail

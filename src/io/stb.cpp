// BMP and TGA through stb_image / stb_image_write (Debian's libstb-dev).
// Only those two decoders are compiled in; the header is read first (stbi_info)
// so the dimensions are checked against ImageLimits before pixels are decoded.
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

Pixels decode_bmp_tga(std::string_view bytes, const std::string& name, const ImageLimits& limits,
                      bool tga) {
  const char* what = tga ? "TGA" : "BMP";
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw Error(name + ": " + what + " file is too large");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
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

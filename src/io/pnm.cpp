// PGM / PPM (netpbm): P2 and P3 (text), P5 and P6 (binary), maxval 1..65535.
// Samples are rescaled to 0..255 (maxval < 256) or 0..65535 when maxval is
// not already 255 or 65535.
#include <cmath>

#include <cerrno>
#include <cstring>
#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit::detail {

namespace {

struct Reader {
  std::string_view s;
  std::size_t i = 0;
  const std::string& name;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name + ": corrupt PGM/PPM file at byte " + std::to_string(i) + ": " + what);
  }
  void skip_space_and_comments() {
    while (i < s.size()) {
      char c = s[i];
      if (c == '#') {
        while (i < s.size() && s[i] != '\n') ++i;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        ++i;
      } else {
        break;
      }
    }
  }
  long long number(const char* what, long long max) {
    skip_space_and_comments();
    if (i >= s.size()) fail(std::string("file ends before the ") + what);
    if (s[i] < '0' || s[i] > '9') fail(std::string("expected the ") + what);
    long long v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i] - '0');
      if (v > max) fail(std::string("the ") + what + " is too large");
      ++i;
    }
    return v;
  }
};

}  // namespace

Pixels decode_pnm(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  if (bytes.size() < 2 || bytes[0] != 'P') throw Error(name + ": not a PGM/PPM file");
  const char kind = bytes[1];
  if (kind != '2' && kind != '3' && kind != '5' && kind != '6')
    throw Error(name + ": unsupported netpbm type P" + std::string(1, kind) +
                " (supported: P2, P3, P5, P6)");
  Reader r{bytes, 2, name};
  const long long w = r.number("width", 1LL << 31);
  const long long h = r.number("height", 1LL << 31);
  const long long maxval = r.number("maximum value", 65535);
  if (maxval < 1) r.fail("the maximum value must be 1 to 65535");
  check_dimensions(w, h, limits, name);
  const int channels = (kind == '3' || kind == '6') ? 3 : 1;
  const int depth = maxval > 255 ? 16 : 8;
  const double target = depth == 16 ? 65535.0 : 255.0;
  const std::size_t n = static_cast<std::size_t>(w) * h * channels;
  const bool binary = kind == '5' || kind == '6';
  if (binary) {
    if (r.i >= bytes.size()) r.fail("file ends after the header");
    ++r.i;  // exactly one whitespace byte after maxval
    const std::size_t bps = maxval > 255 ? 2 : 1;
    if ((bytes.size() - r.i) / bps < n)
      throw Error(name + ": truncated PGM/PPM file: it ends after " + std::to_string(bytes.size()) +
                  " bytes, but the header declares " + std::to_string(n * bps) +
                  " bytes of pixels (" + std::to_string(w) + "x" + std::to_string(h) +
                  ") from byte " + std::to_string(r.i));
  } else if (bytes.size() - r.i < n) {
    throw Error(name + ": truncated PGM/PPM file: fewer values than " + std::to_string(w) + "x" +
                std::to_string(h) + " pixels need");
  }
  Pixels px;
  px.width = static_cast<int>(w);
  px.height = static_cast<int>(h);
  px.channels = channels;
  px.depth = depth;
  px.samples.resize(n);
  const bool rescale = maxval != 255 && maxval != 65535;
  for (std::size_t k = 0; k < n; ++k) {
    long long v;
    if (binary) {
      if (maxval > 255) {
        v = (static_cast<unsigned char>(bytes[r.i]) << 8) |
            static_cast<unsigned char>(bytes[r.i + 1]);
        r.i += 2;
      } else {
        v = static_cast<unsigned char>(bytes[r.i++]);
      }
    } else {
      r.skip_space_and_comments();
      if (r.i >= bytes.size())
        throw Error(name + ": truncated PGM/PPM file: " + std::to_string(k) + " of " +
                    std::to_string(n) + " values present");
      v = r.number("sample", 1 << 20);
    }
    if (v > maxval)
      r.fail("sample " + std::to_string(v) + " exceeds the maximum value " +
             std::to_string(maxval));
    px.samples[k] = static_cast<std::uint16_t>(
        rescale ? std::lround(static_cast<double>(v) * target / static_cast<double>(maxval)) : v);
  }
  return px;
}

void encode_pnm(std::FILE* f, const Pixels& px, char kind, const std::string& name) {
  const int maxval = px.depth == 16 ? 65535 : 255;
  if (std::fprintf(f, "P%c\n%d %d\n%d\n", kind, px.width, px.height, maxval) < 0)
    throw Error(name + ": write failed: " + std::strerror(errno));
  std::vector<unsigned char> raw;
  raw.reserve(px.samples.size() * (px.depth / 8));
  for (auto v : px.samples) {
    if (px.depth == 16) raw.push_back(static_cast<unsigned char>(v >> 8));
    raw.push_back(static_cast<unsigned char>(v & 0xff));
  }
  if (std::fwrite(raw.data(), 1, raw.size(), f) != raw.size())
    throw Error(name + ": write failed: " + std::strerror(errno));
}

}  // namespace convkit::detail

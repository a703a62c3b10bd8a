// read_image / write_image: format dispatch, integer <-> float conversion and
// the value policies that decide what happens to values an integer format
// cannot hold.
#include "convkit/io/image.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include <sys/stat.h>

#include "codecs.hpp"
#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/rows.hpp"
#include "convkit/io/text.hpp"
#include "convkit/io/tiff.hpp"

namespace convkit {

namespace {
std::atomic<std::int64_t> g_max_pixels{kDefaultMaxPixels};
}

std::int64_t default_max_pixels() {
  return g_max_pixels.load(std::memory_order_relaxed);
}

void set_default_max_pixels(std::int64_t pixels) {
  if (pixels < 1)
    throw UsageError(param("max_pixels") + " must be at least 1 (got " + std::to_string(pixels) +
                     ")");
  g_max_pixels.store(pixels, std::memory_order_relaxed);
}

namespace detail {

void check_dimensions(long long width, long long height, const ImageLimits& limits,
                      const std::string& name) {
  if (width < 1 || height < 1)
    throw Error(name + ": image has no pixels (" + std::to_string(width) + "x" +
                std::to_string(height) + ")");
  if (width > (1LL << 30) || height > (1LL << 30) || width * height > limits.max_pixels)
    throw Error(name + ": image is too large (" + std::to_string(width) + "x" +
                std::to_string(height) + "; the limit is " + std::to_string(limits.max_pixels) +
                " pixels, see " + param("max_pixels") + ")");
}

ValueConverter::ValueConverter(const Image& img, int depth_, int channels_out,
                               const ImageWriteOptions& o, std::string name_, const char* format_)
    : name(std::move(name_)),
      format(format_),
      depth(depth_),
      channels(channels_out),
      width(img.width),
      name_channel(img.channels > 1),
      opts(o) {
  max_out = depth == 16 ? 65535.0 : 255.0;
  // Integer sources are rescaled between 8 and 16 bits; float data keeps its numbers.
  scale = img.max_value() > 0 ? max_out / img.max_value() : 1.0;
  colour = img.has_alpha() ? img.channels - 1 : img.channels;
  // Which source plane feeds each output channel.
  src.resize(static_cast<std::size_t>(channels_out));
  out_alpha = channels_out == 2 || channels_out == 4;
  const int out_colour = out_alpha ? channels_out - 1 : channels_out;
  for (int c = 0; c < out_colour; ++c) src[c] = colour == 1 ? 0 : c;
  if (out_alpha) src[channels_out - 1] = img.channels - 1;
}

template <class T>
void widen_range(const T* p, std::size_t n, double& lo, double& hi) {
  for (std::size_t k = 0; k < n; ++k) {
    double v = p[k];
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
}

namespace {
// The value policies by name (ValuePolicy), which the command line spells as flags.
Message policy_hint() {
  return "choose a value policy: " + param("abs") + ", " + param("normalize") + ", " +
         param("offset") + " V or " + param("clip") + ", or write a float format (.npy)";
}
}  // namespace

template <class T>
void ValueConverter::convert(const T* p, std::size_t k0, std::size_t n, int c, double lo, double hi,
                             std::uint16_t* out) const {
  const bool is_alpha = out_alpha && c == channels - 1;
  const ValuePolicy policy =
      is_alpha && opts.policy != ValuePolicy::none ? ValuePolicy::clip : opts.policy;
  auto where = [&](std::size_t k) {
    k += k0;
    return " at x=" + std::to_string(k % width) + ", y=" + std::to_string(k / width) +
           (name_channel ? ", channel " + std::to_string(src[c]) : "");
  };
  // Checks first (one branch-free pass each; the element is looked up only
  // to name it in the error), then the conversion with the policy chosen
  // once per plane, so the loops vectorize.
  bool bad = false;
  for (std::size_t k = 0; k < n; ++k) bad |= std::isnan(p[k]);
  if (bad)
    for (std::size_t k = 0; k < n; ++k)
      if (std::isnan(p[k]))
        throw Error(name + ": value nan" + where(k) + " cannot be written to " + format);
  if (policy == ValuePolicy::none) {
    for (std::size_t k = 0; k < n; ++k) {
      const double v = p[k] * scale;
      bad |= !(v >= -0.5 && v < max_out + 0.5);
    }
    if (bad)
      for (std::size_t k = 0; k < n; ++k) {
        const double v = p[k] * scale;
        if (!(v >= -0.5 && v < max_out + 0.5))
          throw Error(name + ": value " + format_number(p[k]) + where(k) + " does not fit " +
                      std::to_string(depth) + "-bit " + format + " (0.." + format_number(max_out) +
                      "); " + policy_hint());
      }
  }
  // Rounding half up, then clamping to [0, max]: for v + 0.5 clamped to
  // [0, max + 0.5], truncation is floor and needs no libm call.
  const std::size_t step = static_cast<std::size_t>(channels);
  const double scale_ = scale, max_out_ = max_out;
  auto store = [&](auto value_of) {
    if (step == 1) {  // contiguous: the same loop, vectorized
      for (std::size_t k = 0; k < n; ++k) {
        const double v = std::min(std::max(value_of(p[k]) + 0.5, 0.0), max_out_ + 0.5);
        out[k] = static_cast<std::uint16_t>(static_cast<int>(v));
      }
      return;
    }
    for (std::size_t k = 0; k < n; ++k) {
      const double v = std::min(std::max(value_of(p[k]) + 0.5, 0.0), max_out_ + 0.5);
      out[k * step] = static_cast<std::uint16_t>(static_cast<int>(v));
    }
  };
  switch (policy) {
    case ValuePolicy::none:
    case ValuePolicy::clip:
      store([&](T v) { return v * scale_; });
      break;
    case ValuePolicy::abs:
      store([&](T v) { return std::fabs(double(v)) * scale_; });
      break;
    case ValuePolicy::offset:
      // The offset is in the output's units: 32768 is mid-grey of a 16-bit
      // file even when the input had 8 bits (v is rescaled, V is not).
      store([&](T v) { return double(v) * scale_ + double(opts.offset); });
      break;
    case ValuePolicy::normalize:
      store([&](T v) {
        if (std::isinf(v)) return v > 0 ? max_out_ : 0.0;
        return hi > lo ? (v - lo) / (hi - lo) * max_out_ : 0.0;
      });
      break;
  }
}

template void widen_range<float>(const float*, std::size_t, double&, double&);
template void widen_range<double>(const double*, std::size_t, double&, double&);
template void ValueConverter::convert<float>(const float*, std::size_t, std::size_t, int, double,
                                             double, std::uint16_t*) const;
template void ValueConverter::convert<double>(const double*, std::size_t, std::size_t, int, double,
                                              double, std::uint16_t*) const;

}  // namespace detail

namespace {

enum class Format { png, jpeg, bmp, tga, pnm, npy, tiff, unknown };

std::string lower_extension(const std::string& path) {
  auto slash = path.find_last_of('/');
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

Format format_from_extension(const std::string& ext) {
  if (ext == "png") return Format::png;
  if (ext == "jpg" || ext == "jpeg" || ext == "jpe") return Format::jpeg;
  if (ext == "bmp") return Format::bmp;
  if (ext == "tga") return Format::tga;
  if (ext == "pgm" || ext == "ppm" || ext == "pnm") return Format::pnm;
  if (ext == "npy") return Format::npy;
  if (ext == "tif" || ext == "tiff") return Format::tiff;
  return Format::unknown;
}

Format sniff(std::string_view b) {
  auto starts = [&](const char* m, std::size_t n) {
    return b.size() >= n && std::memcmp(b.data(), m, n) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) return Format::png;
  if (starts("\xff\xd8\xff", 3)) return Format::jpeg;
  if (starts("BM", 2)) return Format::bmp;
  if (starts("\x93NUMPY", 6)) return Format::npy;
  // TIFF: byte order, then 42 (classic) or 43 (BigTIFF)
  if (starts("II*\0", 4) || starts("MM\0*", 4) || starts("II+\0", 4) || starts("MM\0+", 4))
    return Format::tiff;
  if (b.size() >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7') return Format::pnm;
  if (detail::looks_like_tga(b)) return Format::tga;
  return Format::unknown;
}

// The format by magic bytes (or a TGA header), else by a .tga name; throws for anything else.
Format detect(std::string_view b, const std::string& name, const std::string& path_hint) {
  const Format f = sniff(b);
  if (f != Format::unknown) return f;
  if (format_from_extension(lower_extension(path_hint)) == Format::tga) return Format::tga;
  throw Error(name + ": not an image convkit can read (PNG, JPEG, BMP, TGA, PGM/PPM, TIFF, NPY)");
}

Image from_pixels(const detail::Pixels& px) {
  Image img;
  img.width = px.width;
  img.height = px.height;
  img.channels = px.channels;
  img.bit_depth = px.depth;
  const std::size_t plane = static_cast<std::size_t>(px.width) * px.height;
  img.data.resize(plane * px.channels);
  for (int c = 0; c < px.channels; ++c) {
    float* dst = img.plane(c);
    for (std::size_t k = 0; k < plane; ++k) dst[k] = px.samples[k * px.channels + c];
  }
  return img;
}

// Straight from the file's bytes into the planes: float32 and uint8 in C
// order (what numpy and OpenCV write) in tight loops, anything else element
// by element.
template <class T>
void npy_planes(const NpyView& a, Image& img) {
  const std::size_t plane = static_cast<std::size_t>(img.width) * img.height;
  const int c = img.channels;
  img.samples<T>().resize(plane * c);
  const unsigned char* d = a.data;
  for (int ch = 0; ch < c; ++ch) {
    T* dst = img.plane_of<T>(ch);
    if (std::is_same_v<T, float> && a.native_f4()) {
      const unsigned char* s = d + 4 * ch;
      for (std::size_t k = 0; k < plane; ++k) std::memcpy(dst + k, s + 4 * c * k, 4);
    } else if (a.dtype == "u1" && !a.column_major()) {
      for (std::size_t k = 0; k < plane; ++k) dst[k] = d[k * c + ch];
    } else {
      for (std::size_t k = 0; k < plane; ++k)
        dst[k] = static_cast<T>(a.at(static_cast<std::int64_t>(k * c + ch)));
    }
  }
}

Image from_npy(const NpyView& a, const std::string& name, const ImageLimits& limits) {
  if (a.shape.size() < 2)
    throw Error(name + ": a 1-dimensional array is not an image (expected HxW or HxWxC)");
  const std::int64_t h = a.shape[0], w = a.shape[1], c = a.shape.size() == 3 ? a.shape[2] : 1;
  detail::check_dimensions(w, h, limits, name);
  if (c < 1 || c > 4)
    throw Error(name + ": an image array needs 1 to 4 channels in its last axis, not " +
                std::to_string(c));
  Image img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.channels = static_cast<int>(c);
  const bool f8 = a.kind == 'f' && a.item == 8;
  img.bit_depth = a.dtype == "u1" ? 8 : a.dtype == "u2" ? 16 : f8 && limits.keep_float64 ? 64 : 32;
  if (img.is_double())
    npy_planes<double>(a, img);
  else
    npy_planes<float>(a, img);
  return img;
}

// Converts planar samples (T: the image's sample type) to interleaved
// integers in [0, max_out] by the policy.
template <class T>
detail::Pixels to_pixels(const Image& img, int depth, int channels_out, const ImageWriteOptions& o,
                         const std::string& name, const char* format) {
  detail::Pixels px;
  px.width = img.width;
  px.height = img.height;
  px.channels = channels_out;
  px.depth = depth;
  const detail::ValueConverter conv(img, depth, channels_out, o, name, format);
  const std::size_t plane = static_cast<std::size_t>(img.width) * img.height;
  double lo = 0, hi = 0;
  if (o.policy == ValuePolicy::normalize) {
    lo = INFINITY;
    hi = -INFINITY;
    for (int c = 0; c < conv.colour; ++c) detail::widen_range(img.plane_of<T>(c), plane, lo, hi);
  }
  px.samples.resize(plane * channels_out);
  for (int c = 0; c < channels_out; ++c)
    conv.convert(img.plane_of<T>(conv.src[c]), 0, plane, c, lo, hi, px.samples.data() + c);
  return px;
}

}  // namespace

bool is_image_path(const std::string& path) {
  return format_from_extension(lower_extension(path)) != Format::unknown;
}

bool looks_like_image(std::string_view bytes) {
  return sniff(bytes) != Format::unknown;
}

namespace {

// An input read in steps, so that no more is read than the format's header
// says the file can need: a device or pipe (/dev/zero, a stream that never
// ends) is refused after its first bytes, not read into memory whole.
struct Source {
  std::FILE* f;
  const std::string& name;
  std::string buf;
  bool eof = false;

  // Reads until buf holds n bytes or the input ends.
  void fill(std::size_t n) {
    while (!eof && buf.size() < n) {
      const std::size_t have = buf.size();
      const std::size_t step = std::min<std::size_t>(n - have, std::size_t(1) << 22);
      buf.resize(have + step);
      const std::size_t got = std::fread(buf.data() + have, 1, step, f);
      buf.resize(have + got);
      if (got < step) {
        if (std::ferror(f)) throw Error(name + ": read failed: " + std::strerror(errno));
        eof = true;
      }
    }
  }
};

std::uint32_t be32(std::string_view b, std::size_t at) {
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[k]));
  };
  return u(at) << 24 | u(at + 1) << 16 | u(at + 2) << 8 | u(at + 3);
}
std::uint32_t le16(std::string_view b, std::size_t at) {
  return static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8;
}

// Width and height as the header declares them, reading more of the input
// where the header is long (JPEG segments, PGM comments); {-1, -1} when they
// cannot be found (the decoder then reports what is wrong).
std::pair<long long, long long> declared_size(Format f, Source& in) {
  const std::string_view b = in.buf;
  switch (f) {
    case Format::png:
      if (b.size() >= 24) return {be32(b, 16), be32(b, 20)};
      break;
    case Format::bmp:
      if (b.size() >= 26 && le16(b, 14) == 12) return {le16(b, 18), le16(b, 20)};
      if (b.size() >= 26)
        return {static_cast<std::int32_t>(le16(b, 18) | le16(b, 20) << 16),
                std::llabs(static_cast<std::int32_t>(le16(b, 22) | le16(b, 24) << 16))};
      break;
    case Format::tga:
      if (b.size() >= 18) return {le16(b, 12), le16(b, 14)};
      break;
    case Format::pnm: {
      std::size_t i = 2;
      long long v[2] = {-1, -1};
      for (long long& x : v) {
        while (i < b.size() && (std::isspace(static_cast<unsigned char>(b[i])) || b[i] == '#')) {
          if (b[i] == '#')
            while (i < b.size() && b[i] != '\n') ++i;
          else
            ++i;
        }
        if (i >= b.size() || !std::isdigit(static_cast<unsigned char>(b[i]))) return {-1, -1};
        x = 0;
        while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && x < (1LL << 40))
          x = x * 10 + (b[i++] - '0');
      }
      return {v[0], v[1]};
    }
    case Format::jpeg: {
      // Walk the segments up to the frame header (SOFn), reading up to 16 MiB of them.
      std::size_t i = 2;
      for (;;) {
        in.fill(i + 9);
        const std::string_view s = in.buf;
        if (i + 9 > s.size() || static_cast<unsigned char>(s[i]) != 0xff) break;
        const unsigned m = static_cast<unsigned char>(s[i + 1]);
        if (m == 0xff) {
          ++i;
          continue;
        }
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
          return {be32(s, i + 5) & 0xffff, be32(s, i + 5) >> 16};  // width, height
        i += 2 + (be32(s, i + 2) >> 16);
        if (i > (std::size_t(1) << 24)) break;
      }
      break;
    }
    default:
      break;
  }
  return {-1, -1};
}

// TIFF: width and height from the first directory's tags.  The directory may
// follow the pixels (libtiff writes it last), so the input is read up to it,
// but never past `cap` bytes.  {-1, -1} when they cannot be found.
std::pair<long long, long long> tiff_declared_size(Source& in, std::uint64_t cap) {
  if (in.buf.size() < 16) return {-1, -1};
  const bool le = in.buf[0] == 'I';
  const bool big = in.buf[2] == '+' || in.buf[3] == '+';
  auto get = [&](std::uint64_t at, int n) {
    std::uint64_t v = 0;
    for (int k = 0; k < n; ++k) {
      const auto byte = static_cast<unsigned char>(in.buf[at + (le ? n - 1 - k : k)]);
      v = v << 8 | byte;
    }
    return v;
  };
  const std::uint64_t ifd = big ? get(8, 8) : get(4, 4);
  const std::uint64_t count_bytes = big ? 8 : 2, entry = big ? 20 : 12;
  if (ifd < 8 || ifd > cap) return {-1, -1};
  in.fill(ifd + count_bytes);
  if (in.buf.size() < ifd + count_bytes) return {-1, -1};
  const std::uint64_t n = std::min<std::uint64_t>(get(ifd, static_cast<int>(count_bytes)), 4096);
  in.fill(ifd + count_bytes + n * entry);
  long long size[2] = {-1, -1};
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t at = ifd + count_bytes + i * entry;
    if (at + entry > in.buf.size()) break;
    const std::uint64_t tag = get(at, 2), type = get(at + 2, 2), value = at + (big ? 12 : 8);
    if (tag != 256 && tag != 257) continue;  // ImageWidth, ImageLength
    const int bytes = type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0;  // SHORT, LONG, LONG8
    if (bytes == 0) continue;
    size[tag - 256] =
        static_cast<long long>(std::min<std::uint64_t>(get(value, bytes), 1ULL << 40));
  }
  if (size[0] < 0 || size[1] < 0) return {-1, -1};
  return {size[0], size[1]};
}

}  // namespace

namespace {

// An input opened for reading in steps ('-' = standard input); a directory is refused.
struct Opened {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{nullptr, &std::fclose};
  std::FILE* f = nullptr;
  struct stat st {};
};

Opened open_input(const std::string& path, const std::string& name) {
  Opened o;
  if (path != "-") {
    o.file.reset(std::fopen(path.c_str(), "rb"));
    if (!o.file) throw Error(name + ": cannot open: " + std::strerror(errno));
  }
  o.f = path == "-" ? stdin : o.file.get();
  if (::fstat(::fileno(o.f), &o.st) != 0) o.st = {};
  if (S_ISDIR(o.st.st_mode)) throw Error(name + ": is a directory, not a file");
  return o;
}

// Reads the rest of an image of format `fmt` whose first bytes are in `in`,
// no further than its header says it can need: no format needs more than 64
// bytes a pixel (ASCII PGM/PPM at 16 bits, the worst), plus 16 MiB of headers,
// palettes and metadata; a .npy header says exactly (one byte more shows
// trailing data).  A header without a size reads nothing more (the decoder
// then reports what is wrong).
void fill_declared(Format fmt, Source& in, const ImageLimits& limits, const std::string& name) {
  std::size_t bound = 0;
  if (fmt == Format::npy) {
    bound = npy_declared_size(in.buf, name, limits.max_pixels * 4) + 1;
  } else {
    const auto [w, h] =
        fmt == Format::tiff
            ? tiff_declared_size(
                  in, (std::uint64_t(1) << 24) + 64 * static_cast<std::uint64_t>(limits.max_pixels))
            : declared_size(fmt, in);
    if (w >= 0 && h >= 0) {
      detail::check_dimensions(w, h, limits, name);
      bound = (std::size_t(1) << 24) + 64 * static_cast<std::size_t>(w) * h;
    }
  }
  in.fill(bound);
}

}  // namespace

Image read_image(const std::string& path, const ImageLimits& limits) {
  const std::string name = path == "-" ? "<stdin>" : path;
  Opened file = open_input(path, name);
  Source in{file.f, name};
  in.fill(std::size_t(1) << 16);
  if (in.buf.empty()) throw Error(name + ": file is empty");
  const Format fmt = detect(in.buf, name, path);
  // A TIFF file is read a strip or tile row at a time, never whole.
  if (fmt == Format::tiff && path != "-" && S_ISREG(file.st.st_mode))
    return detail::read_tiff_file(path, limits);
  fill_declared(fmt, in, limits, name);
  return decode_image(in.buf, name, limits, path);
}

std::string read_input_bytes(const std::string& path, const ImageLimits& limits,
                             std::size_t max_text_bytes) {
  const std::string name = path == "-" ? "<stdin>" : path;
  Opened file = open_input(path, name);
  Source in{file.f, name};
  in.fill(std::size_t(1) << 16);
  Format fmt = sniff(in.buf);
  if (fmt == Format::unknown && format_from_extension(lower_extension(path)) == Format::tga)
    fmt = Format::tga;
  if (fmt != Format::unknown) {
    fill_declared(fmt, in, limits, name);
    return std::move(in.buf);
  }
  if (max_text_bytes == 0) return std::move(in.buf);  // the caller takes no text
  const bool regular = S_ISREG(file.st.st_mode);
  const std::size_t limit =
      regular ? max_text_bytes : std::min(max_text_bytes, kMaxStreamTextBytes);
  if (regular && static_cast<unsigned long long>(file.st.st_size) > limit)
    throw Error(name + ": file is too large for text (" + std::to_string(file.st.st_size) +
                " bytes; the limit is " + std::to_string(limit) + ")");
  // Text, read a block at a time; a block holding a NUL byte ends the read
  // (binary data, which the caller refuses on its first bytes).
  std::size_t checked = 0;
  for (;;) {
    if (std::memchr(in.buf.data() + checked, 0, in.buf.size() - checked)) break;
    checked = in.buf.size();
    if (in.eof) break;
    if (checked > limit)
      throw Error(name + ": more than " + std::to_string(limit >> 20) + " MiB of text" +
                  (regular ? "" : " from a pipe or device, the limit for a stream (give a file)"));
    in.fill(checked + (std::size_t(1) << 20));
  }
  return std::move(in.buf);
}

Image decode_image(std::string_view bytes, const std::string& name, const ImageLimits& limits,
                   const std::string& path_hint) {
  if (bytes.empty()) throw Error(name + ": file is empty");
  const Format f = detect(bytes, name, path_hint);
  switch (f) {
    case Format::png:
      return from_pixels(detail::decode_png(bytes, name, limits));
    case Format::jpeg:
      return from_pixels(detail::decode_jpeg(bytes, name, limits));
    case Format::bmp:
      return from_pixels(detail::decode_bmp_tga(bytes, name, limits, false));
    case Format::tga:
      return from_pixels(detail::decode_bmp_tga(bytes, name, limits, true));
    case Format::pnm:
      return from_pixels(detail::decode_pnm(bytes, name, limits));
    case Format::tiff:
      return detail::decode_tiff(bytes, name, limits);
    case Format::npy: {
      return from_npy(parse_npy_view(bytes, name, limits.max_pixels * 4), name, limits);
    }
    case Format::unknown:
      break;
  }
  throw Error(name + ": unknown image format");
}

std::string output_format(const std::string& path, const ImageWriteOptions& opts,
                          const Image& img) {
  std::string ext = path == "-" ? opts.format : lower_extension(path);
  if (path == "-") {
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext.empty()) return img.is_float() ? "npy" : "png";
  }
  if (format_from_extension(ext) == Format::unknown) {
    if (path == "-")
      throw UsageError(param("format") + " '" + opts.format +
                       "' is not a format convkit writes (png, jpg, bmp, tga, pgm, ppm, tif, npy)");
    throw UsageError(path + ": unknown image format '" + ext +
                     "' (use .png, .jpg, .bmp, .tga, .pgm, .ppm, .pnm, .tif or .npy)");
  }
  return ext;
}

bool writes_float(const std::string& path, const ImageWriteOptions& opts, const Image& img) {
  const Format f = format_from_extension(output_format(path, opts, img));
  if (f == Format::tiff)  // TIFF keeps the image's own depth, float included
    return opts.bit_depth == 32 || opts.bit_depth == 64 || (opts.bit_depth == 0 && img.is_float());
  return f == Format::npy && opts.bit_depth != 8 && opts.bit_depth != 16;
}

namespace {

// Float planes to an interleaved float32 or float64 .npy, a band of rows at a time.
template <class T, class Out>
void write_float_npy(const Image& img, const std::string& path, const std::string& name,
                     const std::vector<std::int64_t>& shape, NpyType type) {
  write_file_atomic(path, [&](std::FILE* out) {
    const std::string header = npy_header(shape, type);
    const std::size_t c = static_cast<std::size_t>(img.channels);
    const std::size_t band = std::max<std::size_t>(1, (1 << 18) / (c * img.width));
    std::vector<Out> buf(band * img.width * c);
    bool ok = std::fwrite(header.data(), 1, header.size(), out) == header.size();
    for (std::size_t y0 = 0; ok && y0 < static_cast<std::size_t>(img.height); y0 += band) {
      const std::size_t y1 = std::min<std::size_t>(img.height, y0 + band);
      const std::size_t k0 = y0 * img.width, k1 = y1 * img.width;
      for (std::size_t ch = 0; ch < c; ++ch) {
        const T* p = img.plane_of<T>(static_cast<int>(ch));
        for (std::size_t k = k0; k < k1; ++k) buf[(k - k0) * c + ch] = static_cast<Out>(p[k]);
      }
      const std::size_t bytes = (k1 - k0) * c * sizeof(Out);
      ok = std::fwrite(buf.data(), 1, bytes, out) == bytes;
    }
    if (!ok) throw Error(name + ": write failed: " + std::strerror(errno));
  });
}

// What write_image writes for an image: the format and the samples' depth
// and channels.  Throws the usage errors of an impossible combination.
struct OutputPlan {
  Format f = Format::unknown;
  std::string name;
  int depth = 8, channels = 1;  ///< npy: 8/16 integer, 32/64 float
  const char* format = "PNG";
  char pnm_kind = '5';
};

OutputPlan plan_output(const Image& img, const std::string& path, const ImageWriteOptions& opts) {
  OutputPlan p;
  p.name = path == "-" ? "<stdout>" : path;
  const std::string ext = output_format(path, opts, img);
  p.f = format_from_extension(ext);
  if (opts.bit_depth != 0 && opts.bit_depth != 8 && opts.bit_depth != 16 && opts.bit_depth != 32 &&
      opts.bit_depth != 64)
    throw UsageError("bit depth must be 8, 16, 32 or 64");
  p.channels = img.channels;
  if (p.f == Format::npy) {
    // The image's own float type unless a depth is asked for; integer depths
    // go through the value policy.
    p.format = "NPY";
    p.depth = opts.bit_depth == 8 || opts.bit_depth == 16                        ? opts.bit_depth
              : opts.bit_depth == 64 || (opts.bit_depth == 0 && img.is_double()) ? 64
                                                                                 : 32;
    return p;
  }
  const int colour = img.has_alpha() ? img.channels - 1 : img.channels;
  p.depth = opts.bit_depth == 0 ? (img.bit_depth == 16 ? 16 : 8) : opts.bit_depth;
  switch (p.f) {
    case Format::png:
      break;
    case Format::jpeg:
      p.format = "JPEG";
      p.depth = 8;
      p.channels = colour;  // JPEG has no alpha
      break;
    case Format::bmp:
    case Format::tga:
      p.format = p.f == Format::bmp ? "BMP" : "TGA";
      p.depth = 8;
      // stb writes grey+alpha BMP as 24-bit RGB without alpha; as RGBA it keeps it.
      if (p.f == Format::bmp && img.channels == 2) p.channels = 4;
      break;
    case Format::pnm:
      if (ext == "ppm" || (ext == "pnm" && colour == 3)) {
        p.format = "PPM";
        p.pnm_kind = '6';
        p.channels = 3;
      } else {
        p.format = "PGM";
        if (colour != 1)
          throw UsageError(p.name + ": PGM stores grey images; this one has " +
                           std::to_string(colour) + " colour channels (write .ppm or .png)");
        p.channels = 1;
      }
      break;
    case Format::tiff:  // the image's own depth, float included (see writes_float)
      p.format = "TIFF";
      if (writes_float(path, opts, img))
        p.depth = opts.bit_depth == 64 || (opts.bit_depth == 0 && img.is_double()) ? 64 : 32;
      break;
    default:
      break;
  }
  if ((p.depth == 32 || p.depth == 64) && p.f != Format::tiff)
    throw UsageError(p.name + ": " + p.format + " cannot store float data; write .npy or .tif");
  if (opts.bit_depth == 16 && p.f != Format::png && p.f != Format::pnm && p.f != Format::tiff)
    throw UsageError(p.name + ": " + p.format + " stores 8-bit samples only");
  return p;
}

// Said once the file is written, so a failed write gives its error line alone.
void warn_alpha_dropped(const Image& img, const OutputPlan& p) {
  if (img.has_alpha() && p.f != Format::npy && p.channels != img.channels && p.channels != 4)
    std::fprintf(stderr, "convkit: warning: %s: %s has no alpha channel; alpha dropped\n",
                 p.name.c_str(), p.format);
}

template <class T>
void write_image_as(const Image& img, const std::string& path, const ImageWriteOptions& opts) {
  const OutputPlan p = plan_output(img, path, opts);
  const std::string& name = p.name;
  if (p.f == Format::npy) {
    NpyArray a;
    a.shape = {img.height, img.width};
    if (img.channels > 1) a.shape.push_back(img.channels);
    if (p.depth == 8 || p.depth == 16) {
      a.data.resize(static_cast<std::size_t>(img.width) * img.height * img.channels);
      auto px = to_pixels<T>(img, p.depth, img.channels, opts, name, "NPY");
      for (std::size_t k = 0; k < a.data.size(); ++k) a.data[k] = px.samples[k];
      write_npy(path, a, p.depth == 8 ? NpyType::u1 : NpyType::u2);
    } else if (p.depth == 64) {
      write_float_npy<T, double>(img, path, name, a.shape, NpyType::f8);
    } else {
      write_float_npy<T, float>(img, path, name, a.shape, NpyType::f4);
    }
    return;
  }
  if (p.f == Format::tiff) {
    // The image's own depth unless one is asked for: float data stays float
    // (float32, or float64 for a float64 image); integer depths go through
    // the value policy.
    if (p.depth == 32 || p.depth == 64) {
      write_file_atomic(path, [&](std::FILE* out) {
        detail::encode_tiff_float(out, img, p.depth == 64, opts.tiff, name);
      });
      return;
    }
    auto px = to_pixels<T>(img, p.depth, img.channels, opts, name, "TIFF");
    write_file_atomic(path, [&](std::FILE* out) { detail::encode_tiff(out, px, opts.tiff, name); });
    return;
  }
  auto px = to_pixels<T>(img, p.depth, p.channels, opts, name, p.format);
  write_file_atomic(path, [&](std::FILE* out) {
    switch (p.f) {
      case Format::png:
        detail::encode_png(out, px, opts.png_compression, name);
        break;
      case Format::jpeg:
        detail::encode_jpeg(out, px, opts.jpeg_quality, name);
        break;
      case Format::bmp:
        detail::encode_bmp_tga(out, px, false, name);
        break;
      case Format::tga:
        detail::encode_bmp_tga(out, px, true, name);
        break;
      case Format::pnm:
        detail::encode_pnm(out, px, p.pnm_kind, name);
        break;
      default:
        break;
    }
  });
  warn_alpha_dropped(img, p);
}

// ---- row sinks (convkit/io/rows.hpp) ----------------------------------------

void write_or_fail(std::FILE* out, const void* data, std::size_t n, const std::string& name) {
  if (std::fwrite(data, 1, n, out) != n)
    throw Error(name + ": write failed: " + std::strerror(errno));
}

// PNG and PGM/PPM: the value policy by ValueConverter, then the encoder.
class IntegerRowSink : public RowSink {
 public:
  IntegerRowSink(std::FILE* out, const Image& shape, OutputPlan plan, const ImageWriteOptions& o,
                 double lo, double hi)
      : out_(out),
        shape_(shape),
        plan_(std::move(plan)),
        conv_(shape, plan_.depth, plan_.channels, o, plan_.name, plan_.format),
        lo_(lo),
        hi_(hi) {
    if (plan_.f == Format::png) {
      png_ = std::make_unique<detail::PngRowWriter>(out, shape.width, shape.height, plan_.channels,
                                                    plan_.depth, o.png_compression, plan_.name);
    } else if (plan_.f == Format::tiff) {
      tiff_ = std::make_unique<TiffWriter>(
          out, plan_.name, shape.width, shape.height, plan_.channels,
          plan_.depth == 16 ? SampleType::u16 : SampleType::u8, o.tiff);
    } else {
      const int maxval = plan_.depth == 16 ? 65535 : 255;
      if (std::fprintf(out, "P%c\n%d %d\n%d\n", plan_.pnm_kind, shape.width, shape.height, maxval) <
          0)
        throw Error(plan_.name + ": write failed: " + std::strerror(errno));
    }
  }
  std::int64_t buffer_bytes() const override { return tiff_ ? tiff_->buffer_bytes() : 0; }
  void write(int n, const float* const* planes, std::ptrdiff_t stride) override {
    write_as(n, planes, stride);
  }
  void write(int n, const double* const* planes, std::ptrdiff_t stride) override {
    write_as(n, planes, stride);
  }
  void finish() override {
    if (png_) png_->finish();
    if (tiff_) tiff_->finish();
    warn_alpha_dropped(shape_, plan_);
  }

 private:
  template <class T>
  void write_as(int n, const T* const* planes, std::ptrdiff_t stride) {
    const std::size_t w = static_cast<std::size_t>(shape_.width);
    const int ch = plan_.channels;
    px_.resize(static_cast<std::size_t>(n) * w * ch);
    for (int y = 0; y < n; ++y)
      for (int c = 0; c < ch; ++c)
        conv_.convert(planes[conv_.src[c]] + y * stride, (row_ + y) * w, w, c, lo_, hi_,
                      px_.data() + y * w * ch + c);
    row_ += static_cast<std::size_t>(n);
    if (png_) {
      png_->write(px_.data(), n);
      return;
    }
    if (tiff_ && plan_.depth == 16) {
      tiff_->write_rows(px_.data(), n);
      return;
    }
    const std::size_t bps = plan_.depth == 16 ? 2 : 1;
    raw_.resize(px_.size() * bps);
    if (bps == 2) {
      for (std::size_t k = 0; k < px_.size(); ++k) {
        raw_[2 * k] = static_cast<unsigned char>(px_[k] >> 8);
        raw_[2 * k + 1] = static_cast<unsigned char>(px_[k] & 0xff);
      }
    } else {  // a loop of its own, so it vectorizes
      for (std::size_t k = 0; k < px_.size(); ++k) raw_[k] = static_cast<unsigned char>(px_[k]);
    }
    if (tiff_)
      tiff_->write_rows(raw_.data(), n);
    else
      write_or_fail(out_, raw_.data(), raw_.size(), plan_.name);
  }

  std::FILE* out_;
  Image shape_;
  OutputPlan plan_;
  detail::ValueConverter conv_;
  double lo_, hi_;
  std::unique_ptr<detail::PngRowWriter> png_;
  std::unique_ptr<TiffWriter> tiff_;
  std::size_t row_ = 0;
  std::vector<std::uint16_t> px_;
  std::vector<unsigned char> raw_;
};

// Float .npy (the header, then the rows interleaved as float32 or float64)
// or float TIFF (the same rows through TiffWriter).
class FloatRowSink : public RowSink {
 public:
  FloatRowSink(std::FILE* out, const Image& shape, OutputPlan plan, const ImageWriteOptions& o)
      : out_(out), shape_(shape), plan_(std::move(plan)) {
    if (plan_.f == Format::tiff) {
      tiff_ = std::make_unique<TiffWriter>(
          out, plan_.name, shape.width, shape.height, shape.channels,
          plan_.depth == 64 ? SampleType::f64 : SampleType::f32, o.tiff);
      return;
    }
    std::vector<std::int64_t> dims = {shape.height, shape.width};
    if (shape.channels > 1) dims.push_back(shape.channels);
    const std::string header = npy_header(dims, plan_.depth == 64 ? NpyType::f8 : NpyType::f4);
    write_or_fail(out, header.data(), header.size(), plan_.name);
  }
  std::int64_t buffer_bytes() const override { return tiff_ ? tiff_->buffer_bytes() : 0; }
  void write(int n, const float* const* planes, std::ptrdiff_t stride) override {
    write_as(n, planes, stride);
  }
  void write(int n, const double* const* planes, std::ptrdiff_t stride) override {
    write_as(n, planes, stride);
  }
  void finish() override {
    if (tiff_) tiff_->finish();
  }

 private:
  template <class T>
  void write_as(int n, const T* const* planes, std::ptrdiff_t stride) {
    if (plan_.depth == 64)
      put<T, double>(n, planes, stride);
    else
      put<T, float>(n, planes, stride);
  }
  template <class T, class Out>
  void put(int n, const T* const* planes, std::ptrdiff_t stride) {
    const std::size_t w = static_cast<std::size_t>(shape_.width), c = shape_.channels;
    buf_.resize(static_cast<std::size_t>(n) * w * c * sizeof(Out));
    Out* b = reinterpret_cast<Out*>(buf_.data());
    for (int y = 0; y < n; ++y)
      for (std::size_t ch = 0; ch < c; ++ch) {
        const T* p = planes[ch] + y * stride;
        for (std::size_t x = 0; x < w; ++x) b[(y * w + x) * c + ch] = static_cast<Out>(p[x]);
      }
    if (tiff_)
      tiff_->write_rows(buf_.data(), n);
    else
      write_or_fail(out_, buf_.data(), buf_.size(), plan_.name);
  }
  std::FILE* out_;
  Image shape_;
  OutputPlan plan_;
  std::unique_ptr<TiffWriter> tiff_;
  std::vector<unsigned char> buf_;
};

}  // namespace

void write_image(const Image& img, const std::string& path, const ImageWriteOptions& opts) {
  const std::string name = path == "-" ? "<stdout>" : path;
  if (img.width < 1 || img.height < 1 || img.channels < 1 || img.channels > 4 ||
      img.sample_count() != static_cast<std::size_t>(img.width) * img.height * img.channels)
    throw Error(name + ": cannot write an image of shape " + std::to_string(img.width) + "x" +
                std::to_string(img.height) + "x" + std::to_string(img.channels));
  with_sample_type(img, [&](auto t) { write_image_as<decltype(t)>(img, path, opts); });
}

bool row_sink_supported(const Image& shape, const std::string& path, const ImageWriteOptions& opts,
                        std::string* why_not) {
  const OutputPlan p = plan_output(shape, path, opts);
  std::string reason;
  if (p.f == Format::npy && (p.depth == 8 || p.depth == 16))
    reason = "an integer .npy output";
  else if (p.f != Format::png && p.f != Format::pnm && p.f != Format::npy && p.f != Format::tiff)
    reason = std::string("a ") + p.format + " output";
  if (why_not) *why_not = reason;
  return reason.empty();
}

std::unique_ptr<RowSink> open_row_sink(std::FILE* out, const Image& shape, const std::string& path,
                                       const ImageWriteOptions& opts, double lo, double hi) {
  std::string why;
  if (!row_sink_supported(shape, path, opts, &why))
    throw Error(path + ": " + why + " cannot be written by rows");
  OutputPlan p = plan_output(shape, path, opts);
  if (p.f == Format::npy || p.depth == 32 || p.depth == 64)
    return std::make_unique<FloatRowSink>(out, shape, std::move(p), opts);
  return std::make_unique<IntegerRowSink>(out, shape, std::move(p), opts, lo, hi);
}

}  // namespace convkit

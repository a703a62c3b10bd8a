// TIFF and BigTIFF through libtiff: TiffReader / TiffWriter by rows, and the
// whole-image codecs read_image / write_image use.
#include "convkit/io/tiff.hpp"

#include <sys/stat.h>
#include <tiffio.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit {

namespace {

// libtiff reports through handlers.  Each handle gets its own (TIFFOpenOptions),
// which keep the first message in the reader's or writer's `msg`; the global
// ones, for the few messages libtiff gives without a handle, keep it in a
// thread_local.  Nothing is printed; warnings are dropped.
thread_local std::string t_global_msg;

// The message alone: the module is a libtiff function name or the file name,
// which the error names first anyway.
std::string format_message(const char*, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string m = buf;
  for (char& ch : m)  // one printable line
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  return m;
}

int on_handle_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* msg = static_cast<std::string*>(user);
  if (msg->empty()) *msg = format_message(module, fmt, ap);
  return 1;  // handled: the global handlers are not called
}

int on_handle_warning(TIFF*, void*, const char*, const char*, va_list) {
  return 1;
}

void on_global_error(thandle_t, const char* module, const char* fmt, va_list ap) {
  if (t_global_msg.empty()) t_global_msg = format_message(module, fmt, ap);
}

void install_global_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(nullptr);
    TIFFSetWarningHandler(nullptr);
    TIFFSetErrorHandlerExt(on_global_error);
    TIFFSetWarningHandlerExt(nullptr);
  });
}

// TIFFOpenOptions with our handlers writing into `msg`.
struct Options {
  TIFFOpenOptions* o;
  Options(std::string* msg, std::uint64_t max_alloc) : o(TIFFOpenOptionsAlloc()) {
    install_global_handlers();
    t_global_msg.clear();
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_handle_error, msg);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_handle_warning, nullptr);
    if (max_alloc > 0)
      TIFFOpenOptionsSetMaxSingleMemAlloc(o, static_cast<tmsize_t>(std::min<std::uint64_t>(
                                                 max_alloc, std::numeric_limits<tmsize_t>::max())));
  }
  ~Options() { TIFFOpenOptionsFree(o); }
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
};

// libtiff's client I/O over bytes in memory (reading), a growing buffer
// (writing to a pipe) or a FILE (writing to a regular file).
struct Stream {
  std::string_view bytes;      // reading from memory
  std::string* out = nullptr;  // writing into memory
  std::FILE* file = nullptr;   // writing to a file
  std::uint64_t pos = 0;
};

tmsize_t stream_read(thandle_t h, void* buf, tmsize_t n) {
  auto* s = static_cast<Stream*>(h);
  if (s->file)
    return static_cast<tmsize_t>(std::fread(buf, 1, static_cast<std::size_t>(n), s->file));
  const std::string_view src = s->out ? std::string_view(*s->out) : s->bytes;
  if (n < 0 || s->pos >= src.size()) return 0;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), src.size() - s->pos);
  std::memcpy(buf, src.data() + s->pos, k);
  s->pos += k;
  return static_cast<tmsize_t>(k);
}

tmsize_t stream_write(thandle_t h, void* buf, tmsize_t n) {
  auto* s = static_cast<Stream*>(h);
  if (n < 0) return -1;
  const auto k = static_cast<std::size_t>(n);
  if (s->file) return static_cast<tmsize_t>(std::fwrite(buf, 1, k, s->file));
  if (!s->out) return -1;
  if (s->pos + k > s->out->size()) s->out->resize(s->pos + k);
  std::memcpy(s->out->data() + s->pos, buf, k);
  s->pos += k;
  return n;
}

toff_t stream_seek(thandle_t h, toff_t off, int whence) {
  auto* s = static_cast<Stream*>(h);
  if (s->file) {
    if (::fseeko(s->file, static_cast<off_t>(off), whence) != 0) return static_cast<toff_t>(-1);
    return static_cast<toff_t>(::ftello(s->file));
  }
  const std::uint64_t size = s->out ? s->out->size() : s->bytes.size();
  std::uint64_t base = whence == SEEK_CUR ? s->pos : whence == SEEK_END ? size : 0;
  // off is unsigned: a negative SEEK_CUR / SEEK_END offset wraps around.
  s->pos = base + off;
  return s->pos;
}

int stream_close(thandle_t) {
  return 0;
}

toff_t stream_size(thandle_t h) {
  auto* s = static_cast<Stream*>(h);
  if (s->file) {
    struct stat st {};
    return ::fstat(::fileno(s->file), &st) == 0 ? static_cast<toff_t>(st.st_size) : 0;
  }
  return s->out ? s->out->size() : s->bytes.size();
}

int stream_map(thandle_t h, void** base, toff_t* size) {
  auto* s = static_cast<Stream*>(h);
  if (s->file || s->out) return 0;
  *base = const_cast<char*>(s->bytes.data());
  *size = s->bytes.size();
  return 1;
}

void stream_unmap(thandle_t, void*, toff_t) {}

TIFF* open_stream(const std::string& name, const char* mode, Stream* s, Options& opts) {
  return TIFFClientOpenExt(name.c_str(), mode, s, stream_read, stream_write, stream_seek,
                           stream_close, stream_size, stream_map, stream_unmap, opts.o);
}

// The libtiff message to append to an error: the handle's, else the global
// one, without the file name it often starts with (the error has it first).
std::string reason(const std::string& msg, const std::string& name) {
  std::string m = msg.empty() ? t_global_msg : msg;
  if (m.rfind(name + ": ", 0) == 0) m.erase(0, name.size() + 2);
  return m.empty() ? "" : " (" + m + ")";
}

const char* photometric_name(unsigned p) {
  switch (p) {
    case PHOTOMETRIC_MINISWHITE:
      return "min-is-white grey";
    case PHOTOMETRIC_PALETTE:
      return "palette colour";
    case PHOTOMETRIC_MASK:
      return "transparency mask";
    case PHOTOMETRIC_SEPARATED:
      return "separated (CMYK) colour";
    case PHOTOMETRIC_YCBCR:
      return "YCbCr colour";
    case PHOTOMETRIC_CIELAB:
    case PHOTOMETRIC_ICCLAB:
    case PHOTOMETRIC_ITULAB:
      return "CIE L*a*b* colour";
    case PHOTOMETRIC_LOGL:
    case PHOTOMETRIC_LOGLUV:
      return "LogLuv colour";
    default:
      return nullptr;
  }
}

}  // namespace

std::size_t sample_bytes(SampleType t) {
  switch (t) {
    case SampleType::u8:
      return 1;
    case SampleType::u16:
      return 2;
    case SampleType::f32:
      return 4;
    case SampleType::f64:
      return 8;
  }
  return 1;
}

TiffCompression parse_tiff_compression(const std::string& name) {
  if (name == "none") return TiffCompression::none;
  if (name == "lzw") return TiffCompression::lzw;
  if (name == "deflate" || name == "zip") return TiffCompression::deflate;
  throw UsageError(param("compression") + " must be none, lzw or deflate (got '" + name + "')");
}

// ---------------------------------------------------------------------------
// Reader

// The largest strip kept whole in a reader's cache; taller chunky strips are
// read a row at a time.
constexpr std::uint64_t kMaxStripCache = std::uint64_t(16) << 20;

struct TiffReader::Impl {
  std::string name;
  std::string msg;  // the first libtiff error on this handle
  Stream stream;
  TIFF* tif = nullptr;
  int w = 0, h = 0, c = 0;
  SampleType type = SampleType::u8;
  std::size_t bytes = 1;  // of a sample
  bool tiled = false, big = false, separate = false, assoc = false;
  bool scanlines = false;  // a tall strip read row by row (TIFFReadScanline)
  bool compressed = false;
  std::uint32_t rows_per_strip = 0;
  std::uint32_t scan_next = 0;  // the row TIFFReadScanline reads next without restarting
  std::uint32_t block_h = 0;    // rows per strip, or tile height
  std::uint32_t tile_w = 0;
  std::vector<unsigned char> cache;  // one strip row / tile row, interleaved, full width
  long long cached_block = -1;
  std::vector<unsigned char> chunk;  // one strip or tile as decoded

  ~Impl() {
    if (tif) TIFFClose(tif);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name + ": " + what + reason(msg, name));
  }
  [[noreturn]] void unsupported(const std::string& what) const {
    throw Error(name + ": TIFF with " + what + " is not supported");
  }
  std::size_t row_bytes() const { return static_cast<std::size_t>(w) * c * bytes; }
  void describe(const ImageLimits& limits);
  void load(long long block);
  // Decodes strip or tile `index` (expected bytes `n`) into dst, or into chunk.
  void decode(std::uint32_t index, std::size_t n, const char* what, unsigned char* dst = nullptr);
};

namespace {

std::uint64_t max_alloc_for(const ImageLimits& limits) {
  // The largest strip or tile a permitted image can have (4 float64 samples a
  // pixel), with LZW's worst growth, plus tables.
  const auto px = static_cast<std::uint64_t>(std::max<std::int64_t>(limits.max_pixels, 1));
  return (std::uint64_t(1) << 24) + std::min<std::uint64_t>(px, std::uint64_t(1) << 40) * 48;
}

}  // namespace

TiffReader::TiffReader(const std::string& path, const ImageLimits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = path;
  Options opts(&impl_->msg, max_alloc_for(limits));
  // "m": read(), not mmap: mapped pages would count as the process's memory.
  impl_->tif = TIFFOpenExt(path.c_str(), "rm", opts.o);
  if (!impl_->tif) impl_->fail("not a readable TIFF file");
  impl_->describe(limits);
}

TiffReader::TiffReader(std::string_view bytes, const std::string& name, const ImageLimits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = name;
  impl_->stream.bytes = bytes;
  Options opts(&impl_->msg, max_alloc_for(limits));
  impl_->tif = open_stream(name, "r", &impl_->stream, opts);
  if (!impl_->tif) impl_->fail("not a readable TIFF file");
  impl_->describe(limits);
}

TiffReader::~TiffReader() = default;
TiffReader::TiffReader(TiffReader&&) noexcept = default;
TiffReader& TiffReader::operator=(TiffReader&&) noexcept = default;

void TiffReader::Impl::describe(const ImageLimits& limits) {
  std::uint32_t w32 = 0, h32 = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w32) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h32))
    fail("the image has no width or height tag");
  detail::check_dimensions(w32, h32, limits, name);
  w = static_cast<int>(w32);
  h = static_cast<int>(h32);
  big = TIFFIsBigTIFF(tif) != 0;

  std::uint16_t spp = 1, bps = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  std::uint16_t photometric = 0, compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
    fail("the image has no photometric interpretation tag");

  int colour = 0;
  if (photometric == PHOTOMETRIC_MINISBLACK)
    colour = 1;
  else if (photometric == PHOTOMETRIC_RGB)
    colour = 3;
  else if (const char* what = photometric_name(photometric))
    unsupported(what);
  else
    unsupported("photometric interpretation " + std::to_string(photometric));
  if (spp != colour && spp != colour + 1)
    unsupported(std::to_string(spp) + " samples per pixel in " + (colour == 1 ? "grey" : "RGB") +
                " (1 or 2 for grey, 3 or 4 for RGB)");
  if (spp == colour + 1) {
    std::uint16_t n = 0;
    std::uint16_t* kinds = nullptr;
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &n, &kinds) && n >= 1 && kinds)
      assoc = kinds[0] == EXTRASAMPLE_ASSOCALPHA;
  }
  c = spp;

  if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) {
    if (bps == 8)
      type = SampleType::u8;
    else if (bps == 16)
      type = SampleType::u16;
    else
      unsupported(std::to_string(bps) + "-bit integer samples (8 or 16 bits are)");
  } else if (format == SAMPLEFORMAT_IEEEFP) {
    if (bps == 32)
      type = SampleType::f32;
    else if (bps == 64)
      type = SampleType::f64;
    else
      unsupported(std::to_string(bps) + "-bit float samples (32 or 64 bits are)");
  } else if (format == SAMPLEFORMAT_INT) {
    unsupported("signed integer samples");
  } else {
    unsupported("sample format " + std::to_string(format));
  }
  bytes = sample_bytes(type);

  if (planar != PLANARCONFIG_CONTIG && planar != PLANARCONFIG_SEPARATE)
    unsupported("planar configuration " + std::to_string(planar));
  separate = planar == PLANARCONFIG_SEPARATE && c > 1;
  if (!TIFFIsCODECConfigured(compression)) {
    const TIFFCodec* codec = TIFFFindCODEC(compression);
    unsupported(codec ? std::string(codec->name) + " compression"
                      : "compression scheme " + std::to_string(compression));
  }

  tiled = TIFFIsTiled(tif) != 0;
  if (tiled) {
    std::uint32_t tl = 0;
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w) ||
        !TIFFGetField(tif, TIFFTAG_TILELENGTH, &tl) || tile_w == 0 || tl == 0)
      fail("the image has tiles without a tile size");
    // A tile may overhang the image, but not by more than a legitimate writer would.
    const std::uint64_t area = std::uint64_t(tile_w) * tl;
    if (area > std::max<std::uint64_t>(4 * std::uint64_t(w) * h, std::uint64_t(1) << 22))
      fail("tiles of " + std::to_string(tile_w) + "x" + std::to_string(tl) +
           " are far larger than the image");
    block_h = tl;
    const std::uint64_t n = separate ? bytes : bytes * c;
    if (static_cast<std::uint64_t>(TIFFTileSize64(tif)) != area * n)
      fail("the tile size does not match its samples");
  } else {
    std::uint32_t rps = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps == 0) fail("the image has 0 rows per strip");
    block_h = rows_per_strip = rps;
    compressed = compression != COMPRESSION_NONE;
  }
  block_h = std::min<std::uint32_t>(block_h, static_cast<std::uint32_t>(h));
  // Tall chunky strips (one strip for the whole image is common) are read a
  // row at a time, so the cache stays one row.
  if (!tiled && !separate && std::uint64_t(block_h) * row_bytes() > kMaxStripCache) {
    scanlines = true;
    block_h = 1;
  }
  cache.resize(static_cast<std::size_t>(block_h) * row_bytes());
}

void TiffReader::Impl::decode(std::uint32_t index, std::size_t n, const char* what,
                              unsigned char* dst) {
  if (!dst) {
    if (chunk.size() < n) chunk.resize(n);
    dst = chunk.data();
  }
  msg.clear();  // this read's own message
  t_global_msg.clear();
  const tmsize_t got = tiled ? TIFFReadEncodedTile(tif, index, dst, static_cast<tmsize_t>(n))
                             : TIFFReadEncodedStrip(tif, index, dst, static_cast<tmsize_t>(n));
  if (got != static_cast<tmsize_t>(n))
    fail(std::string(what) + " " + std::to_string(index) +
         " cannot be read: the file is truncated or corrupt");
}

void TiffReader::Impl::load(long long block) {
  const auto y0 = static_cast<std::uint32_t>(block * block_h);
  const std::size_t rows = std::min<std::uint32_t>(block_h, static_cast<std::uint32_t>(h) - y0);
  const std::size_t planes = separate ? c : 1;
  const std::size_t px_bytes = separate ? bytes : bytes * c;  // per pixel in a chunk
  cached_block = -1;
  if (scanlines) {
    // A compressed strip decodes only forward from its start: rows between the
    // last one read and y0 are decoded too, or the strip is restarted.
    const std::uint32_t strip_start = y0 / rows_per_strip * rows_per_strip;
    std::uint32_t from = y0;
    if (compressed) from = scan_next > strip_start && scan_next <= y0 ? scan_next : strip_start;
    msg.clear();
    t_global_msg.clear();
    scan_next = 0;  // unknown until the reads succeed
    for (std::uint32_t y = from; y <= y0; ++y)
      if (TIFFReadScanline(tif, cache.data(), y, 0) != 1)
        fail("row " + std::to_string(y) + " cannot be read: the file is truncated or corrupt");
    scan_next = y0 + 1;
  } else if (!tiled) {
    for (std::size_t p = 0; p < planes; ++p) {
      const std::size_t n = rows * w * px_bytes;
      const std::uint32_t strip = TIFFComputeStrip(tif, y0, static_cast<std::uint16_t>(p));
      if (!separate) {  // straight into the cache
        decode(strip, n, "strip", cache.data());
        continue;
      }
      decode(strip, n, "strip");
      for (std::size_t k = 0; k < rows * w; ++k)
        std::memcpy(&cache[(k * c + p) * bytes], &chunk[k * bytes], bytes);
    }
  } else {
    // A whole tile, even where block_h was clipped to the image's height.
    const auto full = static_cast<std::size_t>(TIFFTileSize64(tif));
    for (std::uint32_t x0 = 0; x0 < static_cast<std::uint32_t>(w); x0 += tile_w) {
      const std::size_t cols = std::min<std::uint32_t>(tile_w, static_cast<std::uint32_t>(w) - x0);
      for (std::size_t p = 0; p < planes; ++p) {
        decode(TIFFComputeTile(tif, x0, y0, 0, static_cast<std::uint16_t>(p)), full, "tile");
        for (std::size_t r = 0; r < rows; ++r) {
          unsigned char* dst = &cache[r * row_bytes() + x0 * bytes * c];
          const unsigned char* src = &chunk[r * tile_w * px_bytes];
          if (!separate) {
            std::memcpy(dst, src, cols * px_bytes);
            continue;
          }
          for (std::size_t x = 0; x < cols; ++x)
            std::memcpy(dst + (x * c + p) * bytes, src + x * bytes, bytes);
        }
      }
    }
  }
  cached_block = block;
}

int TiffReader::width() const {
  return impl_->w;
}
int TiffReader::height() const {
  return impl_->h;
}
int TiffReader::channels() const {
  return impl_->c;
}
SampleType TiffReader::sample_type() const {
  return impl_->type;
}
bool TiffReader::tiled() const {
  return impl_->tiled;
}
bool TiffReader::bigtiff() const {
  return impl_->big;
}
bool TiffReader::premultiplied() const {
  return impl_->assoc;
}
std::size_t TiffReader::row_bytes() const {
  return impl_->row_bytes();
}
std::int64_t TiffReader::buffer_bytes() const {
  const Impl& m = *impl_;
  std::int64_t chunk = 0;  // one strip or tile, decoded (into `chunk`) and raw (libtiff's)
  if (m.tiled)
    chunk = static_cast<std::int64_t>(TIFFTileSize64(m.tif));
  else if (!m.scanlines)
    chunk = static_cast<std::int64_t>(m.block_h) * static_cast<std::int64_t>(m.row_bytes());
  return static_cast<std::int64_t>(m.cache.size()) + 2 * chunk;
}

void TiffReader::read_rows(int y0, int count, void* dst) {
  Impl& m = *impl_;
  if (y0 < 0 || count < 0 || count > m.h - y0)
    throw Error(m.name + ": rows " + std::to_string(y0) + " to " + std::to_string(y0 + count) +
                " are outside the image's " + std::to_string(m.h) + " rows");
  auto* out = static_cast<unsigned char*>(dst);
  const std::size_t rb = m.row_bytes();
  for (int y = y0; y < y0 + count;) {
    const long long block = y / m.block_h;
    if (block != m.cached_block) m.load(block);
    const int b0 = static_cast<int>(block * m.block_h);
    const int n = std::min(y0 + count, b0 + static_cast<int>(m.block_h)) - y;
    std::memcpy(out, &m.cache[static_cast<std::size_t>(y - b0) * rb], n * rb);
    out += n * rb;
    y += n;
  }
}

// ---------------------------------------------------------------------------
// Writer

bool tiff_may_exceed_4gib(int width, int height, int channels, SampleType type,
                          TiffCompression compression) {
  const double raw = double(width) * height * channels * double(sample_bytes(type));
  const double growth = compression == TiffCompression::lzw       ? 1.5
                        : compression == TiffCompression::deflate ? 1.01
                                                                  : 1.0;
  // Tables: each strip or tile costs 16 bytes of offsets and counts in BigTIFF.
  const double tables = double(height) * 16 + double(width) / 16 * height / 16 * 16;
  return raw * growth + tables + double(1 << 20) > 4294967295.0;
}

struct TiffWriter::Impl {
  std::string name;
  std::string msg;
  std::FILE* f = nullptr;
  std::string mem;  // the whole file, when f cannot be written in place
  Stream stream;
  TIFF* tif = nullptr;
  int w = 0, h = 0, c = 0;
  SampleType type = SampleType::u8;
  TiffWriteOptions o;
  bool big = false;
  std::uint32_t block_h = 0;
  std::vector<unsigned char> buf;   // rows of the strip or tile row being filled
  std::vector<unsigned char> tile;  // one tile
  int buffered = 0, rows_done = 0;
  std::uint32_t block_index = 0;
  bool finished = false;

  ~Impl() {
    if (tif) TIFFClose(tif);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name + ": " + what + reason(msg, name));
  }
  std::size_t row_bytes() const { return static_cast<std::size_t>(w) * c * sample_bytes(type); }
  void flush_block();
};

TiffWriter::TiffWriter(std::FILE* f, const std::string& name, int width, int height, int channels,
                       SampleType type, const TiffWriteOptions& opts)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.name = name;
  m.f = f;
  m.w = width;
  m.h = height;
  m.c = channels;
  m.type = type;
  m.o = opts;
  if (width < 1 || height < 1 || channels < 1 || channels > 4)
    throw Error(name + ": cannot write a TIFF of shape " + std::to_string(width) + "x" +
                std::to_string(height) + "x" + std::to_string(channels));
  if (opts.tiled &&
      (opts.tile_width < 16 || opts.tile_height < 16 || opts.tile_width % 16 != 0 ||
       opts.tile_height % 16 != 0 || opts.tile_width > 65536 || opts.tile_height > 65536))
    throw UsageError("TIFF tiles must be multiples of 16 pixels, 16 to 65536 (got " +
                     std::to_string(opts.tile_width) + "x" + std::to_string(opts.tile_height) +
                     ")");
  if (opts.rows_per_strip < 0)
    throw UsageError("TIFF rows per strip must be at least 1 (got " +
                     std::to_string(opts.rows_per_strip) + ")");
  m.big =
      opts.force_bigtiff || tiff_may_exceed_4gib(width, height, channels, type, opts.compression);

  // Written in place only on a regular file at its start; else assembled in memory.
  struct stat st {};
  const bool in_place = ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) && ::ftello(f) == 0;
  if (in_place)
    m.stream.file = f;
  else
    m.stream.out = &m.mem;
  Options topts(&m.msg, 0);
  m.tif = open_stream(name, m.big ? "w8" : "w", &m.stream, topts);
  if (!m.tif) m.fail("cannot start a TIFF file");

  const bool is_float = type == SampleType::f32 || type == SampleType::f64;
  TIFF* t = m.tif;
  bool ok =
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(width)) &&
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(height)) &&
      TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, static_cast<std::uint16_t>(channels)) &&
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(8 * sample_bytes(type))) &&
      TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, is_float ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT) &&
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC,
                   channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
      TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  if (ok && (channels == 2 || channels == 4)) {
    std::uint16_t alpha = EXTRASAMPLE_UNASSALPHA;
    ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &alpha);
  }
  const std::uint16_t compression = opts.compression == TiffCompression::lzw ? COMPRESSION_LZW
                                    : opts.compression == TiffCompression::deflate
                                        ? COMPRESSION_ADOBE_DEFLATE
                                        : COMPRESSION_NONE;
  ok = ok && TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
  if (ok && compression != COMPRESSION_NONE)
    ok = TIFFSetField(t, TIFFTAG_PREDICTOR,
                      is_float ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL);
  const std::size_t rb = m.row_bytes();
  if (opts.tiled) {
    ok = ok && TIFFSetField(t, TIFFTAG_TILEWIDTH, static_cast<std::uint32_t>(opts.tile_width)) &&
         TIFFSetField(t, TIFFTAG_TILELENGTH, static_cast<std::uint32_t>(opts.tile_height));
    m.block_h = static_cast<std::uint32_t>(opts.tile_height);
    m.tile.resize(static_cast<std::size_t>(opts.tile_width) * opts.tile_height * channels *
                  sample_bytes(type));
  } else {
    const std::size_t want = opts.rows_per_strip > 0 ? static_cast<std::size_t>(opts.rows_per_strip)
                                                     : std::max<std::size_t>(1, 65536 / rb);
    m.block_h = static_cast<std::uint32_t>(std::min<std::size_t>(want, height));
    ok = ok && TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, m.block_h);
  }
  if (!ok) m.fail("cannot set up the TIFF's tags");
  m.buf.resize(std::min<std::size_t>(m.block_h, height) * rb);
}

TiffWriter::~TiffWriter() = default;

bool TiffWriter::bigtiff() const {
  return impl_->big;
}
std::int64_t TiffWriter::buffer_bytes() const {
  return 2 * static_cast<std::int64_t>(impl_->buf.size() + impl_->tile.size());
}

void TiffWriter::Impl::flush_block() {
  const std::size_t rb = row_bytes();
  if (!o.tiled) {
    if (TIFFWriteEncodedStrip(tif, block_index, buf.data(), static_cast<tmsize_t>(buffered * rb)) <
        0)
      fail("cannot write strip " + std::to_string(block_index));
  } else {
    const std::size_t px = static_cast<std::size_t>(c) * sample_bytes(type);
    const auto tw = static_cast<std::size_t>(o.tile_width);
    const std::uint32_t y0 = block_index * block_h;
    for (std::size_t x0 = 0; x0 < static_cast<std::size_t>(w); x0 += tw) {
      const std::size_t cols = std::min(tw, w - x0);
      std::fill(tile.begin(), tile.end(), 0);
      for (int r = 0; r < buffered; ++r)
        std::memcpy(&tile[r * tw * px], &buf[r * rb + x0 * px], cols * px);
      const ttile_t index = TIFFComputeTile(tif, static_cast<std::uint32_t>(x0), y0, 0, 0);
      if (TIFFWriteEncodedTile(tif, index, tile.data(), static_cast<tmsize_t>(tile.size())) < 0)
        fail("cannot write tile " + std::to_string(index));
    }
  }
  ++block_index;
  buffered = 0;
}

void TiffWriter::write_rows(const void* rows, int count) {
  Impl& m = *impl_;
  if (m.finished) throw Error(m.name + ": rows given after the TIFF was finished");
  if (count < 0 || count > m.h - m.rows_done)
    throw Error(m.name + ": " + std::to_string(count) + " more rows given after " +
                std::to_string(m.rows_done) + " of the image's " + std::to_string(m.h));
  const auto* src = static_cast<const unsigned char*>(rows);
  const std::size_t rb = m.row_bytes();
  while (count > 0) {
    const int take = std::min(count, static_cast<int>(m.block_h) - m.buffered);
    std::memcpy(&m.buf[m.buffered * rb], src, take * rb);
    src += take * rb;
    m.buffered += take;
    m.rows_done += take;
    count -= take;
    if (m.buffered == static_cast<int>(m.block_h) || m.rows_done == m.h) m.flush_block();
  }
}

void TiffWriter::finish() {
  Impl& m = *impl_;
  if (m.finished) return;
  if (m.rows_done != m.h)
    throw Error(m.name + ": only " + std::to_string(m.rows_done) + " of " + std::to_string(m.h) +
                " rows were written");
  if (!TIFFWriteDirectory(m.tif)) m.fail("cannot write the TIFF directory");
  TIFFClose(m.tif);
  m.tif = nullptr;
  m.finished = true;
  if (!m.msg.empty()) m.fail("write failed");
  if (m.stream.out && std::fwrite(m.mem.data(), 1, m.mem.size(), m.f) != m.mem.size())
    throw Error(m.name + ": write failed: " + std::strerror(errno));
  if (std::ferror(m.f)) throw Error(m.name + ": write failed: " + std::strerror(errno));
}

// ---------------------------------------------------------------------------
// Whole images

namespace detail {

namespace {

// Rows [y0, y0 + rows) of interleaved samples of type S (as read) into the
// image's planes of type T.
template <class T, class S>
void to_planes(const std::vector<unsigned char>& band, int y0, int rows, bool unpremultiply,
               Image& img) {
  const int c = img.channels;
  const std::size_t n = static_cast<std::size_t>(rows) * img.width;
  const std::size_t at = static_cast<std::size_t>(y0) * img.width;
  std::vector<S> line(n * c);
  std::memcpy(line.data(), band.data(), line.size() * sizeof(S));
  for (int ch = 0; ch < c; ++ch) {
    T* dst = img.plane_of<T>(ch) + at;
    for (std::size_t k = 0; k < n; ++k) dst[k] = static_cast<T>(line[k * c + ch]);
  }
  if (!unpremultiply) return;
  // Associated (premultiplied) alpha to straight alpha, as convkit keeps it.
  const double max = img.max_value();
  const T* alpha = img.plane_of<T>(c - 1) + at;
  for (int ch = 0; ch < c - 1; ++ch) {
    T* dst = img.plane_of<T>(ch) + at;
    for (std::size_t k = 0; k < n; ++k) {
      const double a = alpha[k], v = dst[k];
      if (max > 0)
        dst[k] = static_cast<T>(a > 0 ? std::min(max, std::floor(v * max / a + 0.5)) : 0.0);
      else if (a != 0)
        dst[k] = static_cast<T>(v / a);
    }
  }
}

template <class T>
void to_planes(const std::vector<unsigned char>& band, SampleType type, int y0, int rows,
               bool unpremultiply, Image& img) {
  switch (type) {
    case SampleType::u8:
      return to_planes<T, std::uint8_t>(band, y0, rows, unpremultiply, img);
    case SampleType::u16:
      return to_planes<T, std::uint16_t>(band, y0, rows, unpremultiply, img);
    case SampleType::f32:
      return to_planes<T, float>(band, y0, rows, unpremultiply, img);
    case SampleType::f64:
      return to_planes<T, double>(band, y0, rows, unpremultiply, img);
  }
}

Image tiff_to_image(TiffReader& r, const ImageLimits& limits) {
  Image img;
  img.width = r.width();
  img.height = r.height();
  img.channels = r.channels();
  const SampleType type = r.sample_type();
  img.bit_depth = type == SampleType::u8                           ? 8
                  : type == SampleType::u16                        ? 16
                  : type == SampleType::f64 && limits.keep_float64 ? 64
                                                                   : 32;
  const std::size_t plane = static_cast<std::size_t>(img.width) * img.height;
  if (img.is_double())
    img.data64.resize(plane * img.channels);
  else
    img.data.resize(plane * img.channels);
  const bool unpremultiply = r.premultiplied() && img.has_alpha();
  const int band =
      static_cast<int>(std::max<std::size_t>(1, (std::size_t(1) << 20) / r.row_bytes()));
  std::vector<unsigned char> buf;
  for (int y = 0; y < img.height; y += band) {
    const int rows = std::min(band, img.height - y);
    buf.resize(static_cast<std::size_t>(rows) * r.row_bytes());
    r.read_rows(y, rows, buf.data());
    if (img.is_double())
      to_planes<double>(buf, type, y, rows, unpremultiply, img);
    else
      to_planes<float>(buf, type, y, rows, unpremultiply, img);
  }
  return img;
}

}  // namespace

Image decode_tiff(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  TiffReader r(bytes, name, limits);
  return tiff_to_image(r, limits);
}

Image read_tiff_file(const std::string& path, const ImageLimits& limits) {
  TiffReader r(path, limits);
  return tiff_to_image(r, limits);
}

void encode_tiff(std::FILE* f, const Pixels& px, const TiffWriteOptions& o,
                 const std::string& name) {
  const SampleType type = px.depth == 16 ? SampleType::u16 : SampleType::u8;
  TiffWriter w(f, name, px.width, px.height, px.channels, type, o);
  const std::size_t row = static_cast<std::size_t>(px.width) * px.channels;
  if (type == SampleType::u16) {
    w.write_rows(px.samples.data(), px.height);
  } else {
    std::vector<std::uint8_t> line(row);
    for (int y = 0; y < px.height; ++y) {
      const std::uint16_t* s = px.samples.data() + y * row;
      for (std::size_t k = 0; k < row; ++k) line[k] = static_cast<std::uint8_t>(s[k]);
      w.write_rows(line.data(), 1);
    }
  }
  w.finish();
}

namespace {

template <class T, class Out>
void write_float_rows(TiffWriter& w, const Image& img) {
  const int c = img.channels;
  std::vector<Out> line(static_cast<std::size_t>(img.width) * c);
  for (int y = 0; y < img.height; ++y) {
    const std::size_t at = static_cast<std::size_t>(y) * img.width;
    for (int ch = 0; ch < c; ++ch) {
      const T* p = img.plane_of<T>(ch) + at;
      for (int x = 0; x < img.width; ++x)
        line[static_cast<std::size_t>(x) * c + ch] = static_cast<Out>(p[x]);
    }
    w.write_rows(line.data(), 1);
  }
}

}  // namespace

void encode_tiff_float(std::FILE* f, const Image& img, bool float64, const TiffWriteOptions& o,
                       const std::string& name) {
  TiffWriter w(f, name, img.width, img.height, img.channels,
               float64 ? SampleType::f64 : SampleType::f32, o);
  with_sample_type(img, [&](auto t) {
    using T = decltype(t);
    if (float64)
      write_float_rows<T, double>(w, img);
    else
      write_float_rows<T, float>(w, img);
  });
  w.finish();
}

}  // namespace detail

}  // namespace convkit

// PNG through libpng.  libpng reports errors by longjmp; the functions that
// call libpng (read_header, read_rows, write_png) hold no C++ objects with
// destructors between setjmp and the libpng calls, so the jump skips nothing
// but libpng's own C frames.  Buffers are allocated by their callers.
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit::detail {

namespace {

struct PngContext {
  const unsigned char* data = nullptr;  // the file in memory, or its first bytes when `in` is set
  std::size_t size = 0, pos = 0;
  std::FILE* in = nullptr;  // the rest of the file (PngRowReader)
  std::FILE* out = nullptr;
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp msg) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof ctx->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

void on_read(png_structp png, png_bytep dst, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (ctx->in) {
    const std::size_t from_memory = std::min(n, ctx->size - ctx->pos);
    std::memcpy(dst, ctx->data + ctx->pos, from_memory);
    ctx->pos += from_memory;
    if (from_memory < n &&
        std::fread(dst + from_memory, 1, n - from_memory, ctx->in) != n - from_memory)
      png_error(png, "truncated: the file ends inside a chunk it declares");
    return;
  }
  if (n > ctx->size - ctx->pos) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "truncated: the file ends after %zu bytes, inside a chunk it "
                  "declares",
                  ctx->size);
    png_error(png, msg);
  }
  std::memcpy(dst, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

void on_write(png_structp png, png_bytep src, png_size_t n) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (std::fwrite(src, 1, n, ctx->out) != n) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "write failed: %s", std::strerror(errno));
    png_error(png, msg);
  }
}
void on_flush(png_structp) {}

struct ReadHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadHandles() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

// Reads the header and sets up the transformations.  Returns false on error.
bool read_header(png_structp png, png_infop info, png_uint_32* w, png_uint_32* h, int* channels,
                 int* depth, int* passes = nullptr) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  int bit_depth = png_get_bit_depth(png, info);
  int color = png_get_color_type(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  const int n = png_set_interlace_handling(png);
  if (passes) *passes = n;
  png_read_update_info(png, info);
  *w = png_get_image_width(png, info);
  *h = png_get_image_height(png, info);
  *channels = png_get_channels(png, info);
  *depth = png_get_bit_depth(png, info);
  return true;
}

bool read_rows(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  (void)info;
  return true;
}

}  // namespace

Pixels decode_png(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  PngContext ctx;
  ctx.data = reinterpret_cast<const unsigned char*>(bytes.data());
  ctx.size = bytes.size();
  if (bytes.size() < 8 || png_sig_cmp(ctx.data, 0, 8) != 0) throw Error(name + ": not a PNG file");
  ReadHandles hd;
  hd.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (!hd.png) throw Error(name + ": cannot initialise libpng");
  hd.info = png_create_info_struct(hd.png);
  if (!hd.info) throw Error(name + ": cannot initialise libpng");
  png_set_read_fn(hd.png, &ctx, on_read);
  // libpng's own sanity limit; ours (max_pixels) is checked below, before allocating.
  png_set_user_limits(hd.png, 1u << 24, 1u << 24);
  png_uint_32 w = 0, h = 0;
  int channels = 0, depth = 0;
  if (!read_header(hd.png, hd.info, &w, &h, &channels, &depth))
    throw Error(name + ": corrupt PNG: " + ctx.message);
  check_dimensions(w, h, limits, name);
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16))
    throw Error(name + ": unsupported PNG layout (" + std::to_string(channels) + " channels, " +
                std::to_string(depth) + " bits)");
  const std::size_t bps = depth / 8;
  const std::size_t row_bytes = static_cast<std::size_t>(w) * channels * bps;
  if (png_get_rowbytes(hd.png, hd.info) != row_bytes)
    throw Error(name + ": unexpected PNG row size");
  std::vector<unsigned char> raw(row_bytes * h);
  std::vector<png_bytep> rows(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = raw.data() + y * row_bytes;
  if (!read_rows(hd.png, hd.info, rows.data())) throw Error(name + ": corrupt PNG: " + ctx.message);
  Pixels px;
  px.width = static_cast<int>(w);
  px.height = static_cast<int>(h);
  px.channels = channels;
  px.depth = depth;
  const std::size_t n = static_cast<std::size_t>(w) * h * channels;
  px.samples.resize(n);
  if (depth == 8) {
    for (std::size_t k = 0; k < n; ++k) px.samples[k] = raw[k];
  } else {
    for (std::size_t k = 0; k < n; ++k)
      px.samples[k] = static_cast<std::uint16_t>((raw[2 * k] << 8) | raw[2 * k + 1]);
  }
  return px;
}

namespace {

bool read_some_rows(png_structp png, png_bytepp rows, png_uint_32 n) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_rows(png, rows, nullptr, n);
  return true;
}

bool read_end(png_structp png) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_end(png, nullptr);
  return true;
}

}  // namespace

struct PngRowReader::State {
  PngContext ctx;
  ReadHandles hd;
  std::string head;
};

PngRowReader::PngRowReader(std::FILE* f, std::string head, std::string name)
    : s_(std::make_unique<State>()), name_(std::move(name)) {
  s_->head = std::move(head);
  s_->ctx.in = f;
  s_->ctx.data = reinterpret_cast<const unsigned char*>(s_->head.data());
  s_->ctx.size = s_->head.size();
  s_->hd.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s_->ctx, on_error, on_warning);
  if (!s_->hd.png) throw Error(name_ + ": cannot initialise libpng");
  s_->hd.info = png_create_info_struct(s_->hd.png);
  if (!s_->hd.info) throw Error(name_ + ": cannot initialise libpng");
  png_set_read_fn(s_->hd.png, &s_->ctx, on_read);
  png_set_user_limits(s_->hd.png, 1u << 24, 1u << 24);
  png_uint_32 w = 0, h = 0;
  if (!read_header(s_->hd.png, s_->hd.info, &w, &h, &channels, &depth, &passes))
    throw Error(name_ + ": corrupt PNG: " + s_->ctx.message);
  width = static_cast<long long>(w);
  height = static_cast<long long>(h);
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16))
    throw Error(name_ + ": unsupported PNG layout (" + std::to_string(channels) + " channels, " +
                std::to_string(depth) + " bits)");
  if (png_get_rowbytes(s_->hd.png, s_->hd.info) !=
      static_cast<std::size_t>(w) * channels * (depth / 8))
    throw Error(name_ + ": unexpected PNG row size");
}

PngRowReader::~PngRowReader() = default;

void PngRowReader::read(int n, unsigned char* raw) {
  const std::size_t row_bytes = static_cast<std::size_t>(width) * channels * (depth / 8);
  std::vector<png_bytep> rows(static_cast<std::size_t>(n));
  for (int y = 0; y < n; ++y) rows[y] = raw + y * row_bytes;
  if (!read_some_rows(s_->hd.png, rows.data(), static_cast<png_uint_32>(n)))
    throw Error(name_ + ": corrupt PNG: " + s_->ctx.message);
}

void PngRowReader::finish() {
  if (!read_end(s_->hd.png)) throw Error(name_ + ": corrupt PNG: " + s_->ctx.message);
}

namespace {

struct WriteHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteHandles() {
    if (png) png_destroy_write_struct(&png, info ? &info : nullptr);
  }
};

bool write_png(png_structp png, png_infop info, png_uint_32 w, png_uint_32 h, int color, int depth,
               int compression, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, compression);
  // The fast path (as OpenCV's default): the Sub filter on every row instead
  // of libpng's per-row trial of all five filters, and run-length matching.
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_set_compression_strategy(png, Z_RLE);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

namespace {

bool write_png_header(png_structp png, png_infop info, png_uint_32 w, png_uint_32 h, int color,
                      int depth, int compression) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, compression);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);  // as write_png
  png_set_compression_strategy(png, Z_RLE);
  png_write_info(png, info);
  return true;
}

bool write_png_rows(png_structp png, png_bytepp rows, png_uint_32 n) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_write_rows(png, rows, n);
  return true;
}

bool write_png_end(png_structp png) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_write_end(png, nullptr);
  return true;
}

int png_color(int channels) {
  return channels == 1   ? PNG_COLOR_TYPE_GRAY
         : channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
         : channels == 3 ? PNG_COLOR_TYPE_RGB
                         : PNG_COLOR_TYPE_RGB_ALPHA;
}

}  // namespace

struct PngRowWriter::State {
  PngContext ctx;
  WriteHandles hd;
};

PngRowWriter::PngRowWriter(std::FILE* f, int width, int height, int channels, int depth,
                           int compression, std::string name)
    : s_(std::make_unique<State>()),
      name_(std::move(name)),
      width_(width),
      channels_(channels),
      depth_(depth) {
  s_->ctx.out = f;
  s_->hd.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s_->ctx, on_error, on_warning);
  if (!s_->hd.png) throw Error(name_ + ": cannot initialise libpng");
  s_->hd.info = png_create_info_struct(s_->hd.png);
  if (!s_->hd.info) throw Error(name_ + ": cannot initialise libpng");
  png_set_write_fn(s_->hd.png, &s_->ctx, on_write, on_flush);
  if (!write_png_header(s_->hd.png, s_->hd.info, width, height, png_color(channels), depth,
                        compression))
    throw Error(name_ + ": cannot write PNG: " + s_->ctx.message);
}

PngRowWriter::~PngRowWriter() = default;

void PngRowWriter::write(const std::uint16_t* samples, int n) {
  const std::size_t row_bytes = static_cast<std::size_t>(width_) * channels_ * (depth_ / 8);
  const std::size_t count = static_cast<std::size_t>(width_) * channels_ * n;
  raw_.resize(row_bytes * n);
  if (depth_ == 8) {
    for (std::size_t k = 0; k < count; ++k) raw_[k] = static_cast<unsigned char>(samples[k]);
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      raw_[2 * k] = static_cast<unsigned char>(samples[k] >> 8);
      raw_[2 * k + 1] = static_cast<unsigned char>(samples[k] & 0xff);
    }
  }
  std::vector<png_bytep> rows(static_cast<std::size_t>(n));
  for (int y = 0; y < n; ++y) rows[y] = raw_.data() + y * row_bytes;
  if (!write_png_rows(s_->hd.png, rows.data(), static_cast<png_uint_32>(n)))
    throw Error(name_ + ": cannot write PNG: " + s_->ctx.message);
}

void PngRowWriter::finish() {
  if (!write_png_end(s_->hd.png)) throw Error(name_ + ": cannot write PNG: " + s_->ctx.message);
}

void encode_png(std::FILE* f, const Pixels& px, int compression, const std::string& name) {
  PngContext ctx;
  ctx.out = f;
  WriteHandles hd;
  hd.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
  if (!hd.png) throw Error(name + ": cannot initialise libpng");
  hd.info = png_create_info_struct(hd.png);
  if (!hd.info) throw Error(name + ": cannot initialise libpng");
  png_set_write_fn(hd.png, &ctx, on_write, on_flush);
  const int color = px.channels == 1   ? PNG_COLOR_TYPE_GRAY
                    : px.channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
                    : px.channels == 3 ? PNG_COLOR_TYPE_RGB
                                       : PNG_COLOR_TYPE_RGB_ALPHA;
  const std::size_t bps = px.depth / 8;
  const std::size_t row_bytes = static_cast<std::size_t>(px.width) * px.channels * bps;
  const std::size_t n = static_cast<std::size_t>(px.width) * px.height * px.channels;
  std::vector<unsigned char> raw(row_bytes * px.height);
  if (px.depth == 8) {
    for (std::size_t k = 0; k < n; ++k) raw[k] = static_cast<unsigned char>(px.samples[k]);
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      raw[2 * k] = static_cast<unsigned char>(px.samples[k] >> 8);
      raw[2 * k + 1] = static_cast<unsigned char>(px.samples[k] & 0xff);
    }
  }
  std::vector<png_bytep> rows(px.height);
  for (int y = 0; y < px.height; ++y) rows[y] = raw.data() + y * row_bytes;
  if (!write_png(hd.png, hd.info, px.width, px.height, color, px.depth, compression, rows.data()))
    throw Error(name + ": cannot write PNG: " + ctx.message);
}

}  // namespace convkit::detail

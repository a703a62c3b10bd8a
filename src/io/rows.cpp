// Row sources (see convkit/io/rows.hpp): PNG through libpng's row interface,
// baseline JPEG by scanlines, binary PGM/PPM, .npy by offset, uncompressed
// BMP by seeking, and TIFF by strips or tiles through TiffReader.  The sinks are in image.cpp,
// beside write_image, whose format rules they share.
#include "convkit/io/rows.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "codecs.hpp"
#include "convkit/error.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/tiff.hpp"

namespace convkit {

Image RowSource::shape() const {
  Image img;
  img.width = width_;
  img.height = height_;
  img.channels = channels_;
  img.bit_depth = bit_depth_;
  return img;
}

void RowSource::set_shape(int width, int height, int channels, int bit_depth, RowSampleType type) {
  width_ = width;
  height_ = height;
  channels_ = channels;
  bit_depth_ = bit_depth;
  type_ = type;
}

void RowSource::rewind() {
  if (!seekable()) throw Error("this input cannot be read twice (not a regular file)");
  restart();
  next_ = 0;
}

namespace {

template <class S, class T>
void deinterleave(const unsigned char* raw, int rows, int channels, int width, T* const* planes,
                  std::ptrdiff_t stride) {
  const S* s = reinterpret_cast<const S*>(raw);
  const std::size_t w = static_cast<std::size_t>(width);
  if (channels == 1) {  // contiguous: a loop the compiler vectorizes
    for (int y = 0; y < rows; ++y) {
      T* dst = planes[0] + y * stride;
      const S* src = s + static_cast<std::size_t>(y) * w;
      for (std::size_t x = 0; x < w; ++x) dst[x] = static_cast<T>(src[x]);
    }
    return;
  }
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < rows; ++y) {
      T* dst = planes[c] + y * stride;
      const S* src = s + static_cast<std::size_t>(y) * w * channels + c;
      for (std::size_t x = 0; x < w; ++x) dst[x] = static_cast<T>(src[x * channels]);
    }
}

std::size_t sample_size(RowSampleType t) {
  switch (t) {
    case RowSampleType::u8:
      return 1;
    case RowSampleType::u16:
      return 2;
    case RowSampleType::f32:
      return 4;
    case RowSampleType::f64:
      return 8;
  }
  return 1;
}

}  // namespace

template <class T>
void RowSource::read(int n, T* const* planes, std::ptrdiff_t stride) {
  if (n < 0 || n > height_ - next_) throw Error("RowSource::read: past the last row");
  if (n == 0) return;
  const std::size_t n_px = static_cast<std::size_t>(n) * width_;
  scratch_.resize(n_px * channels_ * sample_size(type_));
  decode(n, scratch_.data());
  next_ += n;
  const unsigned char* raw = scratch_.data();
  switch (type_) {
    case RowSampleType::u8:
      return deinterleave<std::uint8_t>(raw, n, channels_, width_, planes, stride);
    case RowSampleType::u16:
      return deinterleave<std::uint16_t>(raw, n, channels_, width_, planes, stride);
    case RowSampleType::f32:
      return deinterleave<float>(raw, n, channels_, width_, planes, stride);
    case RowSampleType::f64:
      return deinterleave<double>(raw, n, channels_, width_, planes, stride);
  }
}

template void RowSource::read<float>(int, float* const*, std::ptrdiff_t);
template void RowSource::read<double>(int, double* const*, std::ptrdiff_t);

namespace {

// An input file ("-" = standard input); regular files can be reopened.
class InputFile {
 public:
  InputFile(const std::string& path) : path_(path), name_(path == "-" ? "<stdin>" : path) {
    open();
  }
  ~InputFile() {
    if (f_ && f_ != stdin) std::fclose(f_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  std::FILE* get() const { return f_; }
  const std::string& name() const { return name_; }
  bool regular() const { return regular_; }
  /// Size in bytes of a regular file (0 otherwise).
  std::uint64_t size() const { return size_; }
  void reopen() {
    if (f_ && f_ != stdin) std::fclose(f_);
    f_ = nullptr;
    open();
  }
  // Exactly n bytes, or an Error naming what ended.
  void read_exact(void* dst, std::size_t n, const char* what) {
    if (std::fread(dst, 1, n, f_) != n) {
      if (std::ferror(f_)) throw Error(name_ + ": read failed: " + std::strerror(errno));
      throw Error(name_ + ": truncated " + what + ": the file ends before the pixels its " +
                  "header declares");
    }
  }

 private:
  void open() {
    f_ = path_ == "-" ? stdin : std::fopen(path_.c_str(), "rb");
    if (!f_) throw Error(name_ + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    regular_ = path_ != "-" && ::fstat(::fileno(f_), &st) == 0 && S_ISREG(st.st_mode);
    size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (::fstat(::fileno(f_), &st) == 0 && S_ISDIR(st.st_mode))
      throw Error(name_ + ": is a directory, not a file");
  }
  std::string path_, name_;
  std::FILE* f_ = nullptr;
  bool regular_ = false;
  std::uint64_t size_ = 0;
};

// A header declaring more pixel bytes than the file can hold is refused
// before any band is allocated (compressed formats: at most `ratio` times
// the file size, zlib's limit being about 1032).
void check_declared(const InputFile& f, long double need, long double ratio, const char* what) {
  if (f.regular() && need > static_cast<long double>(f.size()) * ratio)
    throw Error(f.name() + ": truncated " + what + ": the header declares " +
                std::to_string(static_cast<unsigned long long>(need)) +
                " bytes of pixels, more than the file's " + std::to_string(f.size()) +
                " bytes can hold");
}

// ---- binary PGM / PPM --------------------------------------------------------

class PnmSource : public RowSource {
 public:
  // `head`: the bytes read so far (the header is within them).
  PnmSource(std::unique_ptr<InputFile> file, const std::string& head) : file_(std::move(file)) {
    parse(head);
  }
  bool seekable() const override { return file_->regular(); }

 protected:
  void decode(int n, unsigned char* dst) override {
    const std::size_t count = static_cast<std::size_t>(n) * width() * channels();
    if (maxval_ == 255) {  // the samples as they are: straight into dst
      fill(dst, count);
      return;
    }
    raw_.resize(count * bps_);
    fill(raw_.data(), raw_.size());
    auto* out = reinterpret_cast<std::uint16_t*>(dst);
    for (std::size_t k = 0; k < count; ++k) {
      long long v = bps_ == 2 ? (raw_[2 * k] << 8 | raw_[2 * k + 1]) : raw_[k];
      if (v > maxval_)
        throw Error(file_->name() + ": corrupt PGM/PPM file: sample " + std::to_string(v) +
                    " exceeds the maximum value " + std::to_string(maxval_));
      // As decode_pnm: rescaled to 0..255 or 0..65535 when maxval is neither.
      out[k] = static_cast<std::uint16_t>(
          rescale_ ? std::lround(static_cast<double>(v) * target_ / static_cast<double>(maxval_))
                   : v);
    }
  }
  // The next n bytes of pixels: first those of the header block already read.
  void fill(unsigned char* dst, std::size_t n) {
    const std::size_t have = std::min(n, pending_.size() - pending_pos_);
    std::memcpy(dst, pending_.data() + pending_pos_, have);
    pending_pos_ += have;
    if (have < n) file_->read_exact(dst + have, n - have, "PGM/PPM file");
  }
  void restart() override {
    file_->reopen();
    std::string head(data_start_, '\0');
    file_->read_exact(head.data(), head.size(), "PGM/PPM header");
    pending_.clear();
    pending_pos_ = 0;
  }

 private:
  void parse(const std::string& head) {
    // The header is parsed by the whole-image decoder's rules: decode_pnm
    // on the header with no pixels tells the size; here it is read by hand.
    std::size_t i = 2;
    auto skip = [&] {
      while (i < head.size()) {
        if (head[i] == '#') {
          while (i < head.size() && head[i] != '\n') ++i;
        } else if (std::strchr(" \t\n\r\v\f", head[i]) && head[i] != '\0') {
          ++i;
        } else {
          break;
        }
      }
    };
    long long v[3] = {0, 0, 0};
    const char* what[3] = {"width", "height", "maximum value"};
    for (int k = 0; k < 3; ++k) {
      skip();
      if (i >= head.size() || head[i] < '0' || head[i] > '9')
        throw Error(file_->name() + ": corrupt PGM/PPM file at byte " + std::to_string(i) +
                    ": expected the " + what[k]);
      while (i < head.size() && head[i] >= '0' && head[i] <= '9') {
        v[k] = v[k] * 10 + (head[i++] - '0');
        if (v[k] > (k == 2 ? 65535 : (1LL << 31)))
          throw Error(file_->name() + ": corrupt PGM/PPM file: the " + what[k] + " is too large");
      }
    }
    if (i >= head.size())
      throw Error(file_->name() + ": corrupt PGM/PPM file: it ends after the header");
    maxval_ = v[2];
    if (maxval_ < 1) throw Error(file_->name() + ": corrupt PGM/PPM file: maximum value 0");
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    detail::check_dimensions(v[0], v[1], unlimited, file_->name());
    data_start_ = i + 1;  // exactly one whitespace byte after maxval
    const int depth = maxval_ > 255 ? 16 : 8;
    bps_ = maxval_ > 255 ? 2 : 1;
    target_ = depth == 16 ? 65535.0 : 255.0;
    rescale_ = maxval_ != 255 && maxval_ != 65535;
    set_shape(static_cast<int>(v[0]), static_cast<int>(v[1]), head[1] == '6' ? 3 : 1, depth,
              maxval_ == 255 ? RowSampleType::u8 : RowSampleType::u16);
    pending_ = head.substr(data_start_);
    check_declared(
        *file_,
        static_cast<long double>(data_start_) + (long double)v[0] * v[1] * channels() * bps_, 1,
        "PGM/PPM file");
  }

  std::unique_ptr<InputFile> file_;
  long long maxval_ = 255;
  std::size_t data_start_ = 0, bps_ = 1;
  double target_ = 255;
  bool rescale_ = false;
  std::string pending_;
  std::size_t pending_pos_ = 0;
  std::vector<unsigned char> raw_;
};

// ---- PNG ---------------------------------------------------------------------

class PngSource : public RowSource {
 public:
  PngSource(std::unique_ptr<InputFile> file, std::string head) : file_(std::move(file)) {
    start(std::move(head));
  }
  bool seekable() const override { return file_->regular(); }
  bool interlaced() const { return png_->passes > 1; }

 protected:
  void decode(int n, unsigned char* dst) override {
    const std::size_t count = static_cast<std::size_t>(n) * width() * channels();
    if (png_->depth == 8) {
      png_->read(n, dst);
    } else {
      raw_.resize(count * 2);
      png_->read(n, raw_.data());
      auto* out = reinterpret_cast<std::uint16_t*>(dst);
      for (std::size_t k = 0; k < count; ++k)
        out[k] = static_cast<std::uint16_t>((raw_[2 * k] << 8) | raw_[2 * k + 1]);
    }
    if (next_row() + n == height()) png_->finish();  // the checksums after the last row
  }
  void restart() override {
    png_.reset();
    file_->reopen();
    start("");
  }

 private:
  void start(std::string head) {
    png_ = std::make_unique<detail::PngRowReader>(file_->get(), std::move(head), file_->name());
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    detail::check_dimensions(png_->width, png_->height, unlimited, file_->name());
    const int bps = png_->depth / 8;
    set_shape(static_cast<int>(png_->width), static_cast<int>(png_->height), png_->channels,
              png_->depth, png_->depth == 8 ? RowSampleType::u8 : RowSampleType::u16);
    check_declared(*file_,
                   static_cast<long double>(png_->height) *
                       (1 + static_cast<long double>(png_->width) * png_->channels * bps),
                   1100, "PNG file");
  }

  std::unique_ptr<InputFile> file_;
  std::unique_ptr<detail::PngRowReader> png_;
  std::vector<unsigned char> raw_;
};

// ---- JPEG (baseline, by scanlines) ---------------------------------------------

class JpegSource : public RowSource {
 public:
  explicit JpegSource(std::unique_ptr<InputFile> file) : file_(std::move(file)) { start(); }
  bool seekable() const override { return file_->regular(); }
  bool progressive() const { return jpeg_->progressive; }

 protected:
  void decode(int n, unsigned char* dst) override {
    jpeg_->read(n, dst);
    if (next_row() + n == height()) jpeg_->finish();
  }
  void restart() override {
    jpeg_.reset();
    file_->reopen();
    start();
  }

 private:
  void start() {
    jpeg_ = std::make_unique<detail::JpegRowReader>(file_->get(), file_->name());
    if (jpeg_->progressive) return;
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    detail::check_dimensions(jpeg_->width, jpeg_->height, unlimited, file_->name());
    set_shape(static_cast<int>(jpeg_->width), static_cast<int>(jpeg_->height), jpeg_->channels, 8,
              RowSampleType::u8);
  }

  std::unique_ptr<InputFile> file_;
  std::unique_ptr<detail::JpegRowReader> jpeg_;
};

// ---- .npy ---------------------------------------------------------------------

class NpySource : public RowSource {
 public:
  NpySource(std::unique_ptr<InputFile> file, const std::string& head, bool keep_float64,
            std::string* why_not)
      : file_(std::move(file)) {
    view_ = parse_npy_header(head, file_->name(), std::int64_t(1) << 62, &data_start_);
    if (view_.shape.size() < 2)
      throw Error(file_->name() +
                  ": a 1-dimensional array is not an image (expected HxW or HxWxC)");
    if (view_.column_major()) {
      *why_not = "a Fortran-order .npy array";
      return;
    }
    const std::int64_t h = view_.shape[0], w = view_.shape[1];
    const std::int64_t c = view_.shape.size() == 3 ? view_.shape[2] : 1;
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    detail::check_dimensions(w, h, unlimited, file_->name());
    if (c < 1 || c > 4)
      throw Error(file_->name() + ": an image array needs 1 to 4 channels in its last axis, not " +
                  std::to_string(c));
    // As from_npy: u1 and u2 keep their integer depth, float64 stays double
    // when asked, everything else becomes float32.
    const bool f8 = view_.kind == 'f' && view_.item == 8;
    const int depth = view_.dtype == "u1"   ? 8
                      : view_.dtype == "u2" ? 16
                      : f8 && keep_float64  ? 64
                                            : 32;
    set_shape(static_cast<int>(w), static_cast<int>(h), static_cast<int>(c), depth,
              depth == 8    ? RowSampleType::u8
              : depth == 16 ? RowSampleType::u16
                            : RowSampleType::f64);
    pending_ = head.substr(std::min(head.size(), data_start_));
    check_declared(*file_,
                   static_cast<long double>(data_start_) + (long double)h * w * c * view_.item, 1,
                   ".npy file");
    ok_ = true;
  }
  bool ok() const { return ok_; }
  bool seekable() const override { return file_->regular(); }

 protected:
  void decode(int n, unsigned char* dst) override {
    const std::size_t count = static_cast<std::size_t>(n) * width() * channels();
    raw_.resize(count * static_cast<std::size_t>(view_.item));
    std::size_t have = std::min(raw_.size(), pending_.size() - pending_pos_);
    std::memcpy(raw_.data(), pending_.data() + pending_pos_, have);
    pending_pos_ += have;
    if (have < raw_.size()) file_->read_exact(raw_.data() + have, raw_.size() - have, ".npy file");
    NpyView rows = view_;
    rows.shape[0] = n;
    rows.data = raw_.data();
    // Element by element through NpyView::at, as from_npy converts them.
    if (bit_depth() == 8) {
      std::memcpy(dst, raw_.data(), count);
    } else if (bit_depth() == 16) {
      auto* out = reinterpret_cast<std::uint16_t*>(dst);
      for (std::size_t k = 0; k < count; ++k)
        out[k] = static_cast<std::uint16_t>(rows.at(static_cast<std::int64_t>(k)));
    } else {
      auto* out = reinterpret_cast<double*>(dst);
      for (std::size_t k = 0; k < count; ++k) out[k] = rows.at(static_cast<std::int64_t>(k));
    }
  }
  void restart() override {
    file_->reopen();
    if (std::fseek(file_->get(), static_cast<long>(data_start_), SEEK_SET) != 0)
      throw Error(file_->name() + ": cannot seek: " + std::strerror(errno));
    pending_.clear();
    pending_pos_ = 0;
  }

 private:
  std::unique_ptr<InputFile> file_;
  NpyView view_;
  std::size_t data_start_ = 0;
  bool ok_ = false;
  std::string pending_;
  std::size_t pending_pos_ = 0;
  std::vector<unsigned char> raw_;
};

// ---- BMP (uncompressed; bottom-up rows by seeking) ---------------------------

// The samples decode_bmp gives: 8-bit grey, RGB or RGBA.  A band of rows is
// one contiguous run of stored rows (in reverse order when bottom-up), read
// with one seek.  A 16/32-bit file with an alpha mask is scanned once first:
// its alpha is a channel only when some pixel sets it.
class BmpSource : public RowSource {
 public:
  BmpSource(std::unique_ptr<InputFile> file, const std::string& head, std::string* why_not)
      : file_(std::move(file)) {
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    layout_ = std::make_unique<detail::BmpLayout>(head, file_->size(), file_->name(), unlimited);
    if (layout_->rle) {
      *why_not = "a run-length (RLE) BMP (its rows decode only in order from the bottom)";
      return;
    }
    const detail::BmpLayout& L = *layout_;
    if (L.may_have_alpha()) {
      for (std::size_t y = 0; y < L.height && !alpha_;) {
        const std::size_t n = std::min<std::size_t>(L.height - y, 64);
        load(y, n);  // stored rows y .. y + n - 1 of the file, in file order here
        for (std::size_t r = 0; r < n && !alpha_; ++r)
          alpha_ = L.any_alpha(values_.data() + r * L.width, L.width);
        y += n;
      }
    }
    set_shape(static_cast<int>(L.width), static_cast<int>(L.height), L.channels(alpha_), 8,
              RowSampleType::u8);
    ok_ = true;
  }
  bool ok() const { return ok_; }
  bool seekable() const override { return file_->regular(); }

 protected:
  void decode(int n, unsigned char* dst) override {
    const detail::BmpLayout& L = *layout_;
    const std::size_t y0 = static_cast<std::size_t>(next_row()), rows = static_cast<std::size_t>(n);
    // Image rows y0 .. y0 + n - 1 are stored rows first .. first + n - 1.
    const std::size_t first = L.top_down ? y0 : L.height - y0 - rows;
    load(first, rows);
    const std::size_t per_row = L.width * static_cast<std::size_t>(channels());
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t stored = L.top_down ? r : rows - 1 - r;  // within the run
      L.samples(values_.data() + stored * L.width, L.width, alpha_, dst + r * per_row);
    }
  }

 private:
  // The values of stored rows [first, first + n) into values_, in file order.
  void load(std::size_t first, std::size_t n) {
    const detail::BmpLayout& L = *layout_;
    raw_.resize(n * L.stride);
    values_.resize(n * L.width);
    const std::uint64_t at = L.offset + static_cast<std::uint64_t>(first) * L.stride;
    if (::fseeko(file_->get(), static_cast<off_t>(at), SEEK_SET) != 0)
      throw Error(file_->name() + ": cannot seek: " + std::strerror(errno));
    file_->read_exact(raw_.data(), raw_.size(), "BMP file");
    for (std::size_t r = 0; r < n; ++r)
      L.row_values(raw_.data() + r * L.stride, values_.data() + r * L.width);
  }

  std::unique_ptr<InputFile> file_;
  std::unique_ptr<detail::BmpLayout> layout_;
  bool ok_ = false, alpha_ = false;
  std::vector<unsigned char> raw_;
  std::vector<std::uint32_t> values_;
};

// ---- TIFF (strips or tiles, through TiffReader) --------------------------------

// The samples as tiff_to_image gives them: the file's own type (float64 as
// float32 unless kept), associated alpha made straight by the same formula.
class TiffSource : public RowSource {
 public:
  TiffSource(const std::string& path, bool keep_float64) {
    ImageLimits unlimited;
    unlimited.max_pixels = std::int64_t(1) << 62;
    reader_ = std::make_unique<TiffReader>(path, unlimited);
    const SampleType t = reader_->sample_type();
    const bool f64 = t == SampleType::f64 && keep_float64;
    set_shape(reader_->width(), reader_->height(), reader_->channels(),
              t == SampleType::u8    ? 8
              : t == SampleType::u16 ? 16
              : f64                  ? 64
                                     : 32,
              t == SampleType::u8    ? RowSampleType::u8
              : t == SampleType::u16 ? RowSampleType::u16
              : f64                  ? RowSampleType::f64
                                     : RowSampleType::f32);
    narrow_ = t == SampleType::f64 && !keep_float64;
    unpremultiply_ = reader_->premultiplied() && channels() > 1;
  }
  bool seekable() const override { return true; }
  std::int64_t buffer_bytes() const override { return reader_->buffer_bytes(); }

 protected:
  void decode(int n, unsigned char* dst) override {
    const std::size_t count = static_cast<std::size_t>(n) * width() * channels();
    if (narrow_) {  // float64 samples read as float32
      raw_.resize(count * sizeof(double));
      reader_->read_rows(next_row(), n, raw_.data());
      const double* s = reinterpret_cast<const double*>(raw_.data());
      float* d = reinterpret_cast<float*>(dst);
      for (std::size_t k = 0; k < count; ++k) d[k] = static_cast<float>(s[k]);
    } else {
      reader_->read_rows(next_row(), n, dst);
    }
    if (!unpremultiply_) return;
    switch (bit_depth()) {
      case 8:
        return straight<std::uint8_t, float>(dst, count, 255);
      case 16:
        return straight<std::uint16_t, float>(dst, count, 65535);
      case 32:
        return straight<float, float>(dst, count, 0);
      default:
        return straight<double, double>(dst, count, 0);
    }
  }

 private:
  // Associated to straight alpha in the sample type T of the planes, as
  // tiff_to_image does it.
  template <class S, class T>
  void straight(unsigned char* raw, std::size_t count, double max) const {
    S* s = reinterpret_cast<S*>(raw);
    const std::size_t c = static_cast<std::size_t>(channels());
    for (std::size_t p = 0; p < count; p += c) {
      const double a = static_cast<T>(s[p + c - 1]);
      for (std::size_t ch = 0; ch + 1 < c; ++ch) {
        const double v = static_cast<T>(s[p + ch]);
        if (max > 0)
          s[p + ch] = static_cast<S>(
              static_cast<T>(a > 0 ? std::min(max, std::floor(v * max / a + 0.5)) : 0.0));
        else if (a != 0)
          s[p + ch] = static_cast<S>(static_cast<T>(v / a));
      }
    }
  }

  std::unique_ptr<TiffReader> reader_;
  bool narrow_ = false, unpremultiply_ = false;
  std::vector<unsigned char> raw_;
};

}  // namespace

namespace {

std::unique_ptr<RowSource> open_any(const std::string& path, bool keep_float64,
                                    std::string* why_not);

}  // namespace

std::unique_ptr<RowSource> open_row_source(const std::string& path, bool keep_float64,
                                           std::string* why_not, std::int64_t max_pixels) {
  std::unique_ptr<RowSource> src = open_any(path, keep_float64, why_not);
  if (src && max_pixels > 0) {
    ImageLimits limits;
    limits.max_pixels = max_pixels;
    detail::check_dimensions(src->width(), src->height(), limits, path);
  }
  return src;
}

namespace {

std::unique_ptr<RowSource> open_any(const std::string& path, bool keep_float64,
                                    std::string* why_not) {
  std::string dummy;
  if (!why_not) why_not = &dummy;
  if (path == "-") {
    *why_not = "standard input";
    return nullptr;
  }
  auto file = std::make_unique<InputFile>(path);
  if (!file->regular()) {  // read whole: its first bytes cannot be read again
    *why_not = "a pipe or device (not a regular file)";
    return nullptr;
  }
  // The first block: enough for the signature and any sane header.
  std::string head(std::size_t(1) << 16, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), file->get()));
  if (std::ferror(file->get()))
    throw Error(file->name() + ": read failed: " + std::strerror(errno));
  if (head.empty()) throw Error(file->name() + ": file is empty");
  auto starts = [&](const char* m, std::size_t n) {
    return head.size() >= n && std::memcmp(head.data(), m, n) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n", 8)) {
    auto src = std::make_unique<PngSource>(std::move(file), std::move(head));
    if (src->interlaced()) {
      *why_not = "an interlaced PNG (Adam7 needs the whole image)";
      return nullptr;
    }
    return src;
  }
  if (starts("\xff\xd8\xff", 3)) {
    file->reopen();  // libjpeg reads the file from its first byte
    auto src = std::make_unique<JpegSource>(std::move(file));
    if (src->progressive()) {
      *why_not = "a progressive JPEG (libjpeg holds the whole image to decode it)";
      return nullptr;
    }
    return src;
  }
  if (starts("P5", 2) || starts("P6", 2)) return std::make_unique<PnmSource>(std::move(file), head);
  if (starts("\x93NUMPY", 6)) {
    auto src = std::make_unique<NpySource>(std::move(file), head, keep_float64, why_not);
    if (!src->ok()) return nullptr;
    return src;
  }
  if (starts("BM", 2)) {
    auto src = std::make_unique<BmpSource>(std::move(file), head, why_not);
    if (!src->ok()) return nullptr;
    return src;
  }
  if (starts("II*\0", 4) || starts("MM\0*", 4) || starts("II+\0", 4) || starts("MM\0+", 4))
    return std::make_unique<TiffSource>(path, keep_float64);
  if (starts("P2", 2) || starts("P3", 2))
    *why_not = "a text (P2/P3) PGM/PPM file";
  else
    *why_not = "this format (PNG, JPEG, binary PGM/PPM, .npy, TIFF and BMP stream; TGA does not)";
  return nullptr;
}

}  // namespace

}  // namespace convkit

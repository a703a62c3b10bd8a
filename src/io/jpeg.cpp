// JPEG through libjpeg(-turbo).  Its error_exit must not return, so it
// longjmps back into read_header / read_rows / write_jpeg, which hold no C++
// objects with destructors; buffers belong to the callers.
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <vector>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "codecs.hpp"
#include "convkit/error.hpp"

namespace convkit::detail {

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 1];
};

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings are ignored, except a file that ends early: that is an error.
void on_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
}

void install(ErrorManager& err) {
  jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  err.message[0] = '\0';
}

bool read_header(jpeg_decompress_struct* cinfo, ErrorManager* err, const unsigned char* data,
                 unsigned long size) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, size);
  jpeg_read_header(cinfo, TRUE);
  // CMYK (and YCCK) files come out as CMYK and are turned into RGB below.
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_calc_output_dimensions(cinfo);
  return true;
}

bool read_rows(jpeg_decompress_struct* cinfo, ErrorManager* err, unsigned char* out,
               std::size_t row_bytes) {
  if (setjmp(err->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + static_cast<std::size_t>(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

struct DecompressGuard {
  jpeg_decompress_struct* c;
  ~DecompressGuard() { jpeg_destroy_decompress(c); }
};

}  // namespace

Pixels decode_jpeg(std::string_view bytes, const std::string& name, const ImageLimits& limits) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err;
  install(err);
  cinfo.err = &err.pub;
  DecompressGuard guard{&cinfo};
  if (!read_header(&cinfo, &err, reinterpret_cast<const unsigned char*>(bytes.data()),
                   static_cast<unsigned long>(bytes.size())))
    throw Error(name + ": corrupt JPEG: " + err.message);
  check_dimensions(cinfo.output_width, cinfo.output_height, limits, name);
  const bool cmyk = cinfo.out_color_space == JCS_CMYK;
  const int channels = cinfo.out_color_space == JCS_GRAYSCALE ? 1 : cmyk ? 4 : 3;
  const std::size_t row_bytes = static_cast<std::size_t>(cinfo.output_width) * channels;
  std::vector<unsigned char> raw(row_bytes * cinfo.output_height);
  if (!read_rows(&cinfo, &err, raw.data(), row_bytes))
    throw Error(name + ": corrupt JPEG: " + err.message);
  Pixels px;
  px.width = static_cast<int>(cinfo.output_width);
  px.height = static_cast<int>(cinfo.output_height);
  px.depth = 8;
  if (!cmyk) {
    px.channels = channels;
    px.samples.assign(raw.begin(), raw.end());
    return px;
  }
  // Adobe's writers (the usual source of CMYK JPEGs, marked by their APP14
  // segment) store every ink inverted, 255 meaning none: then red is C'K'/255.
  // Without the marker the values are plain ink amounts.
  px.channels = 3;
  const std::size_t n = static_cast<std::size_t>(px.width) * px.height;
  px.samples.resize(n * 3);
  const bool inverted = cinfo.saw_Adobe_marker;
  for (std::size_t k = 0; k < n; ++k) {
    const unsigned char* p = raw.data() + 4 * k;
    const unsigned key = inverted ? p[3] : 255u - p[3];
    for (int c = 0; c < 3; ++c) {
      const unsigned ink = inverted ? p[c] : 255u - p[c];
      px.samples[3 * k + c] = static_cast<std::uint16_t>((ink * key + 127) / 255);
    }
  }
  return px;
}

namespace {

bool start_rows(jpeg_decompress_struct* cinfo, ErrorManager* err, std::FILE* f, bool* progressive) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_stdio_src(cinfo, f);
  jpeg_read_header(cinfo, TRUE);
  // As read_header: CMYK and YCCK come out as CMYK, turned into RGB by rows.
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  *progressive = jpeg_has_multiple_scans(cinfo);
  if (*progressive) return true;  // not started: the caller reads it whole
  jpeg_start_decompress(cinfo);
  return true;
}

bool some_rows(jpeg_decompress_struct* cinfo, ErrorManager* err, unsigned char* out,
               std::size_t row_bytes, int n) {
  if (setjmp(err->jump)) return false;
  for (int y = 0; y < n; ++y) {
    JSAMPROW row = out + static_cast<std::size_t>(y) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  return true;
}

bool finish_rows(jpeg_decompress_struct* cinfo, ErrorManager* err) {
  if (setjmp(err->jump)) return false;
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

struct JpegRowReader::State {
  jpeg_decompress_struct cinfo{};
  ErrorManager err;
  bool created = false;
  std::vector<unsigned char> cmyk;
  ~State() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegRowReader::JpegRowReader(std::FILE* f, std::string name)
    : s_(std::make_unique<State>()), name_(std::move(name)) {
  install(s_->err);
  s_->cinfo.err = &s_->err.pub;
  s_->created = true;
  if (!start_rows(&s_->cinfo, &s_->err, f, &progressive))
    throw Error(name_ + ": corrupt JPEG: " + s_->err.message);
  if (progressive) return;
  width = s_->cinfo.output_width;
  height = s_->cinfo.output_height;
  channels = s_->cinfo.out_color_space == JCS_GRAYSCALE ? 1 : 3;
}

JpegRowReader::~JpegRowReader() = default;

void JpegRowReader::read(int n, unsigned char* out) {
  const bool cmyk = s_->cinfo.out_color_space == JCS_CMYK;
  const std::size_t w = static_cast<std::size_t>(width);
  unsigned char* dst = out;
  if (cmyk) {
    s_->cmyk.resize(w * 4 * n);
    dst = s_->cmyk.data();
  }
  if (!some_rows(&s_->cinfo, &s_->err, dst, w * (cmyk ? 4 : channels), n))
    throw Error(name_ + ": corrupt JPEG: " + s_->err.message);
  if (!cmyk) return;
  // As decode_jpeg: Adobe's inverted inks (APP14), else plain ink amounts.
  const bool inverted = s_->cinfo.saw_Adobe_marker;
  for (std::size_t k = 0; k < w * n; ++k) {
    const unsigned char* p = dst + 4 * k;
    const unsigned key = inverted ? p[3] : 255u - p[3];
    for (int c = 0; c < 3; ++c) {
      const unsigned ink = inverted ? p[c] : 255u - p[c];
      out[3 * k + c] = static_cast<unsigned char>((ink * key + 127) / 255);
    }
  }
}

void JpegRowReader::finish() {
  if (!finish_rows(&s_->cinfo, &s_->err)) throw Error(name_ + ": corrupt JPEG: " + s_->err.message);
}

namespace {

bool write_jpeg(jpeg_compress_struct* cinfo, ErrorManager* err, std::FILE* f, int w, int h,
                int channels, int quality, unsigned char* data) {
  if (setjmp(err->jump)) return false;
  jpeg_create_compress(cinfo);
  jpeg_stdio_dest(cinfo, f);
  cinfo->image_width = static_cast<JDIMENSION>(w);
  cinfo->image_height = static_cast<JDIMENSION>(h);
  cinfo->input_components = channels;
  cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  const std::size_t row_bytes = static_cast<std::size_t>(w) * channels;
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = data + static_cast<std::size_t>(cinfo->next_scanline) * row_bytes;
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

struct CompressGuard {
  jpeg_compress_struct* c;
  ~CompressGuard() { jpeg_destroy_compress(c); }
};

}  // namespace

void encode_jpeg(std::FILE* f, const Pixels& px, int quality, const std::string& name) {
  if (px.channels != 1 && px.channels != 3)
    throw Error(name + ": JPEG stores grey or RGB images, not " + std::to_string(px.channels) +
                " channels");
  std::vector<unsigned char> raw(px.samples.size());
  for (std::size_t k = 0; k < raw.size(); ++k) raw[k] = static_cast<unsigned char>(px.samples[k]);
  jpeg_compress_struct cinfo{};
  ErrorManager err;
  install(err);
  cinfo.err = &err.pub;
  CompressGuard guard{&cinfo};
  if (!write_jpeg(&cinfo, &err, f, px.width, px.height, px.channels, quality, raw.data()))
    throw Error(name + ": cannot write JPEG: " + err.message);
}

}  // namespace convkit::detail

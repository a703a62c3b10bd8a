// PNG output of a canvas through libpng, into memory, then written atomically.
#include <png.h>

#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <string>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"
#include "plot/file_out.hpp"

namespace convkit::plot {

namespace {

struct PngSink {
  std::string bytes;
};

void png_write_cb(png_structp png, png_bytep data, png_size_t len) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes.append(reinterpret_cast<const char*>(data), len);
}
void png_flush_cb(png_structp) {}
void png_error_cb(png_structp png, png_const_charp msg) {
  auto* err = static_cast<std::string*>(png_get_error_ptr(png));
  if (err) *err = msg ? msg : "libpng error";
  png_longjmp(png, 1);
}
void png_warning_cb(png_structp, png_const_charp) {}

}  // namespace

std::string encode_png(const Canvas& canvas) {
  std::string error;
  PngSink sink;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, png_error_cb, png_warning_cb);
  if (!png) throw Error("cannot encode PNG: out of memory");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error("cannot encode PNG: out of memory");
  }
  // No C++ objects with destructors are created between setjmp and the
  // potential longjmp below; the row pointer is computed inside the loop.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error("cannot encode PNG: " + error);
  }
  png_set_write_fn(png, &sink, png_write_cb, png_flush_cb);
  png_set_compression_level(png, 6);
  png_set_IHDR(png, info, static_cast<png_uint_32>(canvas.width()),
               static_cast<png_uint_32>(canvas.height()), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const std::uint8_t* base = canvas.rgb().data();
  for (int y = 0; y < canvas.height(); ++y)
    png_write_row(png, const_cast<png_bytep>(base + static_cast<std::size_t>(y) *
                                                        canvas.width() * 3));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return std::move(sink.bytes);
}

bool is_png_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

void save_png(const Canvas& canvas, const std::string& path) {
  write_output_bytes(path, encode_png(canvas));
}

}  // namespace convkit::plot

// convkit convolve INPUT KERNEL — convolve a signal, a matrix or an image with
// a kernel, through the engine (include/convkit/engine.hpp).
//
// What the input is:
//   image      a PNG/JPEG/BMP/TGA/PGM/PPM file (by magic bytes; TGA by extension),
//              or a 3-D .npy array HxWxC; filtered per channel, alpha passes through
//   signal     text with one row of values or one value per line; two columns
//              "n value" whose first column counts up by one (sample indices);
//              an inline literal "[1 2 3]"; a 1-D .npy array
//   matrix     any other text (rows of numbers), an inline literal "[1 2; 3 4]",
//              a 2-D .npy array
// --as signal|matrix overrides the guess for text.
//
// Signals keep their origin: x starting at n=a convolved with h starting at
// n=b gives y starting at n=a+b (eq. (1) of the seed), so for signals the
// default output is the full linear convolution.  Matrices and images default
// to the seed's 2-D convention: no padding, stride 1 (valid).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/streaming.hpp"
#include "cli/validate.hpp"
#include "convkit/colour.hpp"
#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filters.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/image.hpp"
#include "convkit/io/npy.hpp"
#include "convkit/io/rows.hpp"
#include "convkit/io/text.hpp"
#include "convkit/pipeline.hpp"
#include "io/codecs.hpp"

namespace convkit::cli {

namespace {

struct ConvolveOptions {
  BatchOptions batch;  // INPUT... KERNEL --outdir DIR: --files-from, -j, --shard, ...
  std::string input, kernel, output;
  bool correlate = false;
  std::string stride = "1";
  std::string pad;
  std::string padding;  // empty: zero, or reflect with --same
  std::optional<double> border_value;
  std::string anchor;
  bool same = false;
  std::optional<double> kernel_scale, bias;
  bool normalize_kernel = false;
  std::string mode;
  std::string as = "auto";
  std::string range;
  std::optional<long long> origin, kernel_origin;
  bool abs = false, normalize = false, clip = false;
  std::optional<double> offset;
  bool filter_alpha = false;
  std::string alpha = "pass";  ///< premultiply: colour*alpha and alpha filtered, divided after
  int bit_depth = 0;
  std::string format;
  int threads = 0;
  long long max_pixels = 0;
  std::string memory;
};

std::vector<int> parse_ints(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  std::size_t i = 0;
  while (true) {
    std::size_t j = text.find(',', i);
    std::string tok = text.substr(i, j == std::string::npos ? std::string::npos : j - i);
    try {
      std::size_t used = 0;
      long long v = std::stoll(tok, &used);
      if (used != tok.size() || v < -(1LL << 30) || v > (1LL << 30))
        throw std::invalid_argument("");
      out.push_back(static_cast<int>(v));
    } catch (const std::exception&) {
      throw UsageError(flag + " '" + quote_for_message(text) + "': '" + quote_for_message(tok) +
                       "' is not an integer");
    }
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

std::pair<long long, long long> parse_range(const std::string& text) {
  auto colon = text.find(':', text[0] == '-' ? 1 : 0);
  try {
    if (colon == std::string::npos) throw std::invalid_argument("");
    std::size_t u1 = 0, u2 = 0;
    const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
    long long lo = std::stoll(a, &u1), hi = std::stoll(b, &u2);
    if (u1 != a.size() || u2 != b.size()) throw std::invalid_argument("");
    if (hi < lo) throw UsageError("--range " + text + ": the end is before the start");
    if (hi - lo > (1LL << 28)) throw UsageError("--range " + text + ": too many samples");
    return {lo, hi};
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception&) {
    throw UsageError("--range '" + text + "' is not of the form A:B (e.g. -6:12)");
  }
}

// Policy flags -> ImageWriteOptions.
ImageWriteOptions write_options(const ConvolveOptions& o) {
  ImageWriteOptions w;
  int n = o.abs + o.normalize + o.clip + o.offset.has_value();
  if (n > 1) throw UsageError("choose at most one of --abs, --normalize, --offset, --clip");
  if (o.abs) w.policy = ValuePolicy::abs;
  if (o.normalize) w.policy = ValuePolicy::normalize;
  if (o.clip) w.policy = ValuePolicy::clip;
  if (o.offset) {
    w.policy = ValuePolicy::offset;
    w.offset = static_cast<float>(*o.offset);
  }
  w.bit_depth = o.bit_depth;
  w.format = o.format;
  apply_quality(o.batch, w);
  w.tiff = tiff_options(o.batch);
  return w;
}

bool has_policy(const ConvolveOptions& o) {
  return o.abs || o.normalize || o.clip || o.offset.has_value();
}

std::string extension(const std::string& path) {
  auto slash = path.find_last_of('/');
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

// Text output: CSV (comma separated, no comment lines) for a .csv name,
// space-separated rows otherwise.
bool is_csv(const std::string& out) {
  return extension(out) == "csv";
}

void write_text(const std::string& out, const std::string& text) {
  if (out.empty() || out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(out, text);
  }
}

// --anchor ROW,COL checked against the kernel, or the kernel's centre.
std::pair<int, int> anchor_of(const ConvolveOptions& o, const Kernel& k) {
  if (o.anchor.empty()) return {(k.rows - 1) / 2, (k.cols - 1) / 2};
  const auto a = parse_ints("--anchor", o.anchor);
  if (a.size() != 2) throw UsageError("--anchor '" + o.anchor + "': give ROW,COL");
  if (a[0] < 0 || a[0] >= k.rows || a[1] < 0 || a[1] >= k.cols)
    throw UsageError("--anchor " + o.anchor + " is outside the " + std::to_string(k.rows) + "x" +
                     std::to_string(k.cols) + " kernel (rows 0.." + std::to_string(k.rows - 1) +
                     ", columns 0.." + std::to_string(k.cols - 1) + ")");
  return {a[0], a[1]};
}

// The engine's request from the flags; `one_d` for signals; `k` the kernel
// (its size places an --anchor).
ConvSpec make_spec(const ConvolveOptions& o, bool one_d, const Kernel& k) {
  ConvSpec spec;
  spec.correlate = o.correlate;
  spec.border = border_from_flags(o.padding.empty() ? (o.same ? "reflect" : "zero") : o.padding,
                                  o.border_value);
  auto s = parse_ints("--stride", o.stride);
  if (s.size() > 2 || (one_d && s.size() != 1))
    throw UsageError("--stride '" + o.stride + "': give S" +
                     (one_d ? " for a signal" : " or SY,SX"));
  for (int v : s)
    if (v < 1) throw UsageError("--stride '" + o.stride + "': strides must be at least 1");
  spec.stride_y = one_d ? 1 : s[0];
  spec.stride_x = s.back();
  if (!o.mode.empty() && !o.pad.empty()) throw UsageError("give either --mode or --pad, not both");
  if (o.same && (!o.pad.empty() || (!o.mode.empty() && o.mode != "same")))
    throw UsageError("--same is --mode same with a reflect border; give no --pad or other --mode");
  if (!o.anchor.empty()) {
    // The kernel element h[ar, ac] sits over the output sample: a same-size
    // output (OpenCV's filter2D anchor).  Correlation reads x[m + i - ar];
    // true convolution reads x[m - (i - ar)], i.e. the flipped kernel with
    // K-1-ar rows of padding above.
    if (one_d)
      throw UsageError("--anchor applies to matrices and images (signals: --kernel-origin)");
    if (!o.pad.empty() || (!o.mode.empty() && o.mode != "same"))
      throw UsageError("--anchor gives a same-size output; give no --pad or other --mode");
    const auto [ar, ac] = anchor_of(o, k);
    const int top = o.correlate ? ar : k.rows - 1 - ar;
    const int left = o.correlate ? ac : k.cols - 1 - ac;
    spec.mode = SizeMode::pad;
    spec.pad = {top, k.rows - 1 - top, left, k.cols - 1 - left};
    return spec;
  }
  if (o.same) {
    spec.mode = SizeMode::same;
  } else if (!o.mode.empty()) {
    spec.mode = parse_size_mode(o.mode);
  } else if (o.pad.empty()) {
    spec.mode = one_d ? SizeMode::full : SizeMode::pad;
  } else {
    spec.mode = SizeMode::pad;
    auto p = parse_ints("--pad", o.pad);
    for (int v : p)
      if (v < 0) throw UsageError("--pad '" + o.pad + "': padding must not be negative");
    if (one_d) {
      if (p.size() > 2) throw UsageError("--pad '" + o.pad + "': a signal takes P or BEFORE,AFTER");
      spec.pad.left = p[0];
      spec.pad.right = p.back();
    } else if (p.size() == 1) {
      spec.pad = {p[0], p[0], p[0], p[0]};
    } else if (p.size() == 2) {
      spec.pad = {p[0], p[0], p[1], p[1]};
    } else if (p.size() == 4) {
      spec.pad = {p[0], p[1], p[2], p[3]};
    } else {
      throw UsageError("--pad '" + o.pad + "': give P, Y,X or T,B,L,R");
    }
  }
  return spec;
}

// A 2D output larger than the --max-pixels limit is refused before any memory
// is allocated, naming the size it would have and the limit it passes.
void check_output_size(const ConvolveOptions& o, const ConvGeometry& g) {
  const long long values = static_cast<long long>(g.out_h) * g.out_w;
  const long long limit = default_max_pixels();
  if (values <= limit) return;
  const std::string cause = !o.pad.empty()    ? "--pad '" + quote_for_message(o.pad) + "': "
                            : !o.mode.empty() ? "--mode " + o.mode + ": "
                                              : "";
  throw UsageError(cause + "the output would be " + std::to_string(g.out_h) + " x " +
                   std::to_string(g.out_w) + " = " + std::to_string(values) +
                   " values per channel, over the limit of " + std::to_string(limit) +
                   " (--max-pixels N raises it)");
}

enum class Kind { signal, matrix, image };

struct Input {
  Kind kind = Kind::matrix;
  Signal signal;
  Matrix matrix;
  Image image;
  /// A one-channel image filtered straight from the mapped file: `image`
  /// then holds only the shape and type, `plane` points into `mapped`.
  std::unique_ptr<MappedNpy> mapped;
  const void* plane = nullptr;
};

// A 2-D float32/float64 .npy written to a .npy of its own type is filtered
// as a one-channel image: in its own precision, straight from the file's
// bytes into the plane and back out in bands, without a float64 matrix
// (same geometry and values as the matrix path; float32 stays float32).
bool float_npy_image(std::string_view bytes, const std::string& name, const ConvolveOptions& o) {
  if (o.as == "matrix" || extension(o.output) != "npy") return false;
  const NpyView v = parse_npy_view(bytes, name);
  return v.shape.size() == 2 && v.kind == 'f' && (v.item == 4 || v.item == 8) &&
         (o.bit_depth == 0 || o.bit_depth == 8 * v.item);
}

Input load_input(const ConvolveOptions& o) {
  Input in;
  const std::string& path = o.input;
  const std::size_t first = path.find_first_not_of(" \t\r\n");
  std::error_code ec;
  const bool literal = first != std::string::npos && path[first] == '[';
  std::string text;
  std::string_view bytes;
  std::string name;
  // A .npy file is mapped rather than copied into memory (it is read once,
  // straight into the engine's planes or parsed).
  std::unique_ptr<MappedNpy> mapped;
  if (literal) {
    bytes = path;
    name = "input '" + quote_for_message(path) + "'";
  } else {
    if (path != "-") mapped = MappedNpy::open(path);
    if (mapped) {
      bytes = mapped->bytes();
    } else {
      text = read_input_bytes(path);  // bounded: /dev/zero or a pipe is not read whole
      bytes = text;
    }
    name = path == "-" ? "<stdin>" : path;
  }
  if (!literal && bytes.starts_with("\x93NUMPY") && float_npy_image(bytes, name, o)) {
    in.kind = Kind::image;
    ImageLimits limits;
    limits.keep_float64 = true;
    const NpyView v = parse_npy_view(bytes, name, limits.max_pixels * 4);
    if (mapped && !v.swap && !v.column_major() &&
        reinterpret_cast<std::uintptr_t>(v.data) % v.item == 0) {
      // Native-order C-order data is already the engine's layout: no copy.
      detail::check_dimensions(v.shape[1], v.shape[0], limits, name);
      in.image.width = static_cast<int>(v.shape[1]);
      in.image.height = static_cast<int>(v.shape[0]);
      in.image.channels = 1;
      in.image.bit_depth = v.item == 8 ? 64 : 32;
      in.plane = v.data;
      in.mapped = std::move(mapped);
    } else {
      in.image = decode_image(bytes, name, limits, path);
    }
  } else if (!literal && bytes.starts_with("\x93NUMPY")) {
    NpyArray a = parse_npy(bytes, name);
    if (a.shape.size() == 1) {
      in.kind = Kind::signal;
      in.signal.values = std::move(a.data);
      in.signal.origin = a.origin;  // kept in the header by convkit's writers
    } else if (a.shape.size() == 2 && o.as != "image") {
      in.kind = Kind::matrix;
      if (a.shape[0] > (1 << 30) || a.shape[1] > (1 << 30)) throw Error(name + ": array too large");
      in.matrix.rows = static_cast<int>(a.shape[0]);
      in.matrix.cols = static_cast<int>(a.shape[1]);
      in.matrix.data = std::move(a.data);
    } else {
      in.kind = Kind::image;
      ImageLimits limits;
      limits.keep_float64 = true;  // float64 in, float64 out
      in.image = decode_image(bytes, name, limits, path);
    }
  } else if (!literal && (looks_like_image(bytes) || extension(path) == "tga")) {
    in.kind = Kind::image;
    in.image = decode_image(bytes, name, {}, path);
  } else {
    if (!literal && looks_binary(bytes))
      throw Error(name + ": not a text matrix or a supported image (binary data starting '" +
                  quote_for_message(bytes, 16) + "'; images: PNG, JPEG, BMP, TGA, PGM/PPM, .npy)");
    try {
      TextShape shape = classify_text(bytes, name);
      if (o.as == "signal") shape = TextShape::signal;
      if (o.as == "matrix") shape = TextShape::matrix;
      if (o.as == "image") throw UsageError(name + " is text, not an image");
      if (shape == TextShape::matrix) {
        in.kind = Kind::matrix;
        in.matrix = parse_matrix(bytes, name);
      } else {
        in.kind = Kind::signal;
        in.signal = parse_signal(bytes, name);
      }
    } catch (const ParseError& e) {
      // An inline literal is part of the command line: a usage error (exit 2).
      if (literal) throw UsageError(e.what());
      throw;
    }
  }
  if (o.origin) {
    if (in.kind != Kind::signal) throw UsageError("--origin applies to signals only");
    in.signal.origin = *o.origin;
  }
  return in;
}

void run_signal(const ConvolveOptions& o, Input& in, const Kernel& k) {
  if (k.rows != 1 && k.cols != 1)
    throw UsageError("a signal needs a 1D kernel; '" + k.name + "' is " + std::to_string(k.rows) +
                     "x" + std::to_string(k.cols));
  const ConvSpec spec = make_spec(o, true, k);
  const auto& x = in.signal.values;
  const int n = static_cast<int>(x.size());
  const int kw = static_cast<int>(k.data.size());
  if (x.size() > (std::size_t(1) << 30)) throw Error("signal is too long");
  const ConvGeometry g = plan(spec, 1, n, 1, kw);
  std::vector<double> y(static_cast<std::size_t>(g.out_w));
  conv2d<double>(make_view<const double>(x.data(), 1, n),
                 make_view<const double>(k.data.data(), 1, kw), g,
                 make_view<double>(y.data(), 1, g.out_w));
  // Sample index of output j:  n = start + j * stride, with
  //   convolution   start = a + b + (K-1) - pad_before
  //   correlation   start = a - b - pad_before
  const long long a = in.signal.origin;
  const long long b = o.kernel_origin ? *o.kernel_origin : k.origin;
  const long long start = spec.correlate ? a - b - g.pad.left : a + b + (kw - 1) - g.pad.left;
  const long long step = g.stride_x;

  std::vector<std::pair<long long, double>> samples;
  if (!o.range.empty()) {
    auto [lo, hi] = parse_range(o.range);
    for (long long t = lo; t <= hi; ++t) {
      double v = 0;
      long long d = t - start;
      if (d >= 0 && d % step == 0 && d / step < g.out_w) v = y[static_cast<std::size_t>(d / step)];
      samples.emplace_back(t, v);
    }
  } else {
    for (int j = 0; j < g.out_w; ++j) samples.emplace_back(start + j * step, y[j]);
  }
  const std::string ext = extension(o.output);
  if (ext == "npy") {
    NpyArray arr;
    arr.shape = {static_cast<std::int64_t>(samples.size())};
    arr.origin = samples.front().first;  // the first sample's index n
    for (auto& s : samples) arr.data.push_back(s.second);
    write_npy(o.output, arr, NpyType::f8);
    return;
  }
  if (is_image_path(o.output))
    throw UsageError("a 1D result cannot be written as an image; use .txt or .npy");
  // CSV: "n,value" rows (no header, so convkit reads it back as an indexed signal).
  const bool csv = is_csv(o.output);
  std::string text = csv ? "" : "# n value\n";
  for (auto& [t, v] : samples)
    text += std::to_string(t) + (csv ? "," : " ") + format_number(v) + "\n";
  write_text(o.output, text);
}

// --bias and a .mat file's offset: added to every result sample.
double total_bias(const ConvolveOptions& o, const Kernel& k) {
  return k.offset + o.bias.value_or(0.0);
}

void run_matrix(const ConvolveOptions& o, Input& in, const Kernel& k) {
  const ConvSpec spec = make_spec(o, false, k);
  const Matrix& m = in.matrix;
  const ConvGeometry g = plan(spec, m.rows, m.cols, k.rows, k.cols);
  check_output_size(o, g);
  Matrix out;
  out.rows = g.out_h;
  out.cols = g.out_w;
  out.data.resize(static_cast<std::size_t>(out.rows) * out.cols);
  conv2d<double>(make_view<const double>(m.data.data(), m.rows, m.cols),
                 make_view<const double>(k.data.data(), k.rows, k.cols), g,
                 make_view<double>(out.data.data(), out.rows, out.cols));
  if (const double b = total_bias(o, k); b != 0)
    for (double& v : out.data) v += b;
  const std::string ext = extension(o.output);
  if (ext == "npy" && (o.bit_depth == 0 || o.bit_depth == 64)) {
    NpyArray a;
    a.shape = {out.rows, out.cols};
    a.data = out.data;
    write_npy(o.output, a, NpyType::f8);
  } else if (!o.output.empty() && o.output != "-" && is_image_path(o.output)) {
    Image img;
    img.width = out.cols;
    img.height = out.rows;
    img.channels = 1;
    img.bit_depth = 64;  // double samples: the value policy sees the exact results
    img.data64 = out.data;
    write_image(img, o.output, write_options(o));
  } else {
    write_text(o.output, format_matrix_as(out, {is_csv(o.output) ? ',' : ' ', false}));
  }
}

// Alpha passes through: the engine samples it at each output position under
// the kernel's centre, or its --anchor: this delta kernel, correlated on the
// same geometry and border rules (a constant border is transparent, value 0).
std::vector<double> alpha_delta(const ConvolveOptions& o, const Kernel& k) {
  std::vector<double> delta(k.data.size(), 0.0);
  const auto [cy, cx] = anchor_of(o, k);
  // True convolution: the flipped kernel's element, so alpha lines up with the colour channels.
  if (o.correlate)
    delta[static_cast<std::size_t>(cy) * k.cols + cx] = 1;
  else
    delta[static_cast<std::size_t>(k.rows - 1 - cy) * k.cols + (k.cols - 1 - cx)] = 1;
  return delta;
}

// The bytes the whole-image path holds for an image of this shape and a
// result of out_w x out_h: the file's samples, the input and result planes,
// the encoder's samples.
std::int64_t whole_convolve_bytes(const Image& in, const ConvGeometry& g) {
  const std::int64_t t = in.is_double() ? 8 : 4, c = in.channels;
  return static_cast<std::int64_t>(in.width) * in.height * c * (4 + t) +
         static_cast<std::int64_t>(g.out_w) * g.out_h * c * (4 + t);
}

// The image result in the input's sample type T (float, or double for float64 .npy).
// `mapped_plane`, when set, is the one channel's samples (src holds none).
template <class T>
Image convolve_image(const ConvolveOptions& o, const Image& src, const void* mapped_plane,
                     const Kernel& k, const ConvGeometry& g) {
  Image dst;
  dst.width = g.out_w;
  dst.height = g.out_h;
  dst.channels = src.channels;
  dst.bit_depth = src.bit_depth;
  const std::size_t plane = static_cast<std::size_t>(g.out_w) * g.out_h;
  dst.samples<T>().resize(plane * src.channels);
  std::vector<T> kernel(k.data.begin(), k.data.end());
  const std::vector<double> d = alpha_delta(o, k);
  const std::vector<T> delta(d.begin(), d.end());
  ConvGeometry ga = g;
  ga.correlate = true;
  ga.border.value = 0;
  const T bias = static_cast<T>(total_bias(o, k));
  for (int c = 0; c < src.channels; ++c) {
    const bool alpha =
        src.has_alpha() && c == src.channels - 1 && !o.filter_alpha && o.alpha != "premultiply";
    const T* in = mapped_plane ? static_cast<const T*>(mapped_plane) : src.plane_of<T>(c);
    T* out = dst.plane_of<T>(c);
    conv2d<T>(make_view<const T>(in, src.height, src.width),
              make_view<const T>(alpha ? delta.data() : kernel.data(), k.rows, k.cols),
              alpha ? ga : g, make_view<T>(out, g.out_h, g.out_w));
    if (!alpha && bias != T(0))
      for (std::size_t i = 0; i < plane; ++i) out[i] += bias;
  }
  return dst;
}

void run_image(const ConvolveOptions& o, Input& in, const Kernel& k) {
  if (o.output.empty())
    throw UsageError(
        "an image result needs -o OUT (e.g. -o out.png, out.npy, or -o - for standard "
        "output)");
  const ConvSpec spec = make_spec(o, false, k);
  const bool premultiply = o.alpha == "premultiply" && in.image.has_alpha();
  Image premultiplied;
  if (premultiply) {
    premultiplied = in.image;
    premultiply_alpha(premultiplied);
  }
  const Image& src = premultiply ? premultiplied : in.image;
  const ConvGeometry g = plan(spec, src.height, src.width, k.rows, k.cols);
  check_output_size(o, g);
  if (const std::int64_t need = whole_convolve_bytes(src, g), memory = memory_budget(o.memory);
      need > memory)
    throw Error((o.input == "-" ? std::string("<stdin>") : o.input) +
                ": this image is read whole, and that needs about " + format_memory_size(need) +
                ", more than --memory " + format_memory_size(memory) + "; raise --memory");
  Image dst = with_sample_type(src, [&](auto t) {
    return convolve_image<decltype(t)>(o, src, premultiply ? nullptr : in.plane, k, g);
  });
  if (premultiply) unpremultiply_alpha(dst);
  if (o.output != "-" && !is_image_path(o.output)) {
    if (dst.channels != 1)
      throw UsageError(o.output + ": a " + std::to_string(dst.channels) +
                       "-channel image result needs an image or .npy output");
    Matrix m;
    m.rows = dst.height;
    m.cols = dst.width;
    with_sample_type(dst, [&](auto t) {
      const auto& v = dst.samples<decltype(t)>();
      m.data.assign(v.begin(), v.end());
    });
    // Print each sample in the shortest form that reads back to the same
    // number in the image's own precision (float32, or float64).
    write_text(o.output, format_matrix_as(m, {is_csv(o.output) ? ',' : ' ', dst.bit_depth != 64}));
    return;
  }
  write_image(dst, o.output, write_options(o));
}

// The filter and geometry of convolve on an image, for the streaming pipeline.
PlaneFilter image_filter(const ConvSpec& spec, const Kernel& k) {
  PlaneFilter f;
  PlanePass pass;
  pass.mask = k.data;
  pass.kh = k.rows;
  pass.kw = k.cols;
  f.passes.push_back(pass);
  f.border = spec.border;
  return f;
}

StreamGeometry image_geometry(const ConvolveOptions& o, const ConvSpec& spec, const Kernel& k) {
  StreamGeometry geo;
  geo.spec = spec;
  geo.bias = total_bias(o, k);
  geo.filter_alpha = o.filter_alpha;
  geo.alpha_mask = alpha_delta(o, k);
  return geo;
}

// A 2-D image INPUT read by rows: a regular file in a format that streams
// (PNG, baseline JPEG, binary PGM/PPM, C-order .npy, BMP, TIFF), written to an
// image file or standard output that can be written by rows.  nullptr: read
// it whole (any other input or output, --alpha premultiply with alpha, or a
// file the streaming decoders refuse: the whole-image path then says why).
std::unique_ptr<RowSource> open_streamed(const ConvolveOptions& o, const Kernel& k) {
  const std::size_t first = o.input.find_first_not_of(" \t\r\n");
  if (o.input == "-" || (first != std::string::npos && o.input[first] == '[') || o.output.empty() ||
      (o.output != "-" && !is_image_path(o.output)))
    return nullptr;
  std::unique_ptr<RowSource> src;
  try {
    // A .npy is an image when it has 3 dimensions, or 2 and --as image or a
    // float .npy result of its own type (as load_input decides); else a
    // matrix or a signal, read whole.
    std::error_code ec;  // a pipe or device is read whole: its first bytes cannot be read twice
    if (!std::filesystem::is_regular_file(o.input, ec)) return nullptr;
    std::string head(std::size_t(1) << 16, '\0');
    if (std::FILE* f = std::fopen(o.input.c_str(), "rb")) {
      head.resize(std::fread(head.data(), 1, head.size(), f));
      std::fclose(f);
    } else {
      return nullptr;
    }
    const bool npy = head.starts_with("\x93NUMPY");
    if (npy) {
      const NpyView v = parse_npy_header(head, o.input, std::int64_t(1) << 62, nullptr);
      const bool own_float = o.as != "matrix" && extension(o.output) == "npy" && v.kind == 'f' &&
                             (v.item == 4 || v.item == 8) &&
                             (o.bit_depth == 0 || o.bit_depth == 8 * v.item);
      if (v.shape.size() < 2 || (v.shape.size() == 2 && o.as != "image" && !own_float))
        return nullptr;
    }
    std::string why;
    src = open_row_source(o.input, npy, &why, explicit_max_pixels(o.max_pixels));
    if (!src || (o.alpha == "premultiply" && src->shape().has_alpha())) return nullptr;
    // Standard output cannot be taken back: it gets a stream only when no
    // value can fail to fit (a float output, or integer samples under a value
    // policy); else the image is read whole and a bad value is found first.
    if (o.output == "-" && !writes_float(o.output, write_options(o), src->shape()) &&
        (!has_policy(o) || src->shape().is_float()))
      return nullptr;
    const ConvSpec spec = make_spec(o, false, k);
    const Image shape =
        filtered_shape(src->shape(), image_filter(spec, k), image_geometry(o, spec, k));
    if (!row_sink_supported(shape, o.output, write_options(o), &why)) return nullptr;
  } catch (const Error&) {
    return nullptr;
  }
  return src;
}

// An image convolved a band of rows at a time (README "Images of any size").
void stream_image(const ConvolveOptions& o, RowSource& src, const Kernel& k) {
  const ConvSpec spec = make_spec(o, false, k);
  const PlaneFilter f = image_filter(spec, k);
  const StreamGeometry geo = image_geometry(o, spec, k);
  // Streamed, the memory does not grow with the output; but padding that
  // makes it larger than the input is held to --max-pixels, as when read whole.
  const ConvGeometry g = plan(spec, src.height(), src.width(), k.rows, k.cols);
  if (static_cast<std::int64_t>(g.out_h) * g.out_w >
      static_cast<std::int64_t>(src.height()) * src.width())
    check_output_size(o, g);
  OutputRule r;
  r.write = write_options(o);
  BatchItem item;
  item.input = o.input;
  item.output = o.output;
  stream_to_output(src, f, geo, filtered_shape(src.shape(), f, geo), r, item,
                   memory_budget(o.memory));
}

void run_one(const ConvolveOptions& o, const Kernel& k) {
  std::unique_ptr<RowSource> streamed = open_streamed(o, k);
  Input in;
  if (streamed) {
    if (o.origin) throw UsageError("--origin applies to signals only");
    in.kind = Kind::image;
    in.image = streamed->shape();
  } else {
    in = load_input(o);
  }
  if (!o.format.empty() && (o.output != "-" || in.kind != Kind::image))
    throw UsageError(
        "--format applies to an image result written to standard output (-o -); with -o "
        "FILE the extension picks the format");
  Image matrix_result;  // a matrix result is written as a float64 image
  matrix_result.bit_depth = 64;
  const bool integer_out =
      in.kind == Kind::image
          ? !o.output.empty() && (o.output == "-" || is_image_path(o.output)) &&
                !writes_float(o.output, write_options(o), in.image)
          : is_image_path(o.output) && !writes_float(o.output, write_options(o), matrix_result);
  if (has_policy(o) && !integer_out)
    throw UsageError(
        "--abs, --normalize, --offset and --clip apply when writing an 8- or 16-bit "
        "image; this output keeps exact values");
  if (o.kernel_origin && in.kind != Kind::signal)
    throw UsageError("--kernel-origin applies to signals only");
  if ((o.bias || k.offset != 0) && in.kind == Kind::signal)
    throw UsageError("--bias (or a matrix file's offset) applies to matrices and images");
  if (!o.range.empty() && in.kind != Kind::signal)
    throw UsageError("--range applies to 1D signals only");
  // Every flag acts or is refused.
  if (o.filter_alpha && in.kind != Kind::image)
    throw UsageError("--filter-alpha applies to images only");
  if (o.alpha != "pass" && in.kind != Kind::image)
    throw UsageError("--alpha applies to images only");
  if (o.bit_depth != 0 &&
      (in.kind == Kind::signal ||
       !(is_image_path(o.output) || (o.output == "-" && in.kind == Kind::image))))
    throw UsageError(
        "--bit-depth applies when a matrix or image result is written to an image or .npy file");
  switch (in.kind) {
    case Kind::signal:
      run_signal(o, in, k);
      break;
    case Kind::matrix:
      run_matrix(o, in, k);
      break;
    case Kind::image:
      if (streamed)
        stream_image(o, *streamed, k);
      else
        run_image(o, in, k);
      break;
  }
}

// The kernel with --kernel-scale or --normalize-kernel applied.
Kernel convolve_kernel(const ConvolveOptions& o) {
  if (o.kernel_scale && o.normalize_kernel)
    throw UsageError("give --kernel-scale or --normalize-kernel, not both");
  Kernel k = load_kernel(o.kernel);
  if (o.normalize_kernel) normalize_kernel(k);
  if (o.kernel_scale)
    for (double& v : k.data) v *= *o.kernel_scale;
  return k;
}

// convolve INPUT KERNEL, or INPUT... KERNEL --outdir DIR (and --files-from):
// many inputs go through the batch driver, each as one convolve INPUT KERNEL.
// `more` are the operands after the first two (the kernel is the last).
void run_convolve(ConvolveOptions o, const std::vector<std::string>& more) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  memory_budget(o.memory);  // a bad --memory is a usage error before any input is read
  for (const auto& a : more)
    if (a.size() > 1 && a[0] == '-')
      throw UsageError("unknown option '" + a + "' (see 'convkit convolve --help')");
  BatchOptions& b = o.batch;
  if (more.empty() && b.outdir.empty() && b.files_from.empty()) {
    if (o.kernel.empty()) throw UsageError("give INPUT and KERNEL");
    if (o.input == "-" && o.kernel == "-")
      throw UsageError("INPUT and KERNEL cannot both be '-': standard input can be read only once");
    if (!b.shard.empty() || b.skip_existing || !b.log.empty() || !b.relative_to.empty() ||
        !b.suffix.empty() || b.null_separated)
      throw UsageError(
          "--shard, --skip-existing, --log, --relative-to, --suffix and -0 apply with --outdir");
    o.format = b.format;  // one input: --format names the format of -o -
    if (b.quality != 0) {
      const std::string e = o.output == "-" ? extension("x." + b.format) : extension(o.output);
      if (e != "jpg" && e != "jpeg")
        throw UsageError("--quality applies to JPEG output (.jpg, or --format jpg with -o -)");
    }
    tiff_options(b);
    if (!o.output.empty()) check_tiff_flags(b, o.output);
    run_one(o, convolve_kernel(o));
    return;
  }
  std::vector<std::string> operands = {o.input};
  if (!o.kernel.empty()) operands.push_back(o.kernel);
  operands.insert(operands.end(), more.begin(), more.end());
  o.kernel = operands.back();
  operands.pop_back();
  if (operands.empty() && b.files_from.empty())
    throw UsageError("give INPUT... KERNEL (the kernel comes last)");
  if (o.kernel == "-" &&
      (b.files_from == "-" || std::find(operands.begin(), operands.end(), "-") != operands.end()))
    throw UsageError(
        "an input and KERNEL cannot both be '-': standard input can be read only once");
  b.inputs = operands;
  b.output = o.output;
  const auto items = plan_batch(b);
  const Kernel k = convolve_kernel(o);
  run_batch(b, items, "convolve", [&](const BatchItem& item) {
    ConvolveOptions one = o;
    one.input = item.input;
    one.output = item.output;
    run_one(one, k);
  });
}

void register_convolve(CLI::App& app) {
  auto opts = std::make_shared<ConvolveOptions>();
  CLI::App* sub = app.add_subcommand(
      "convolve", "Convolve a signal, matrix or image with a kernel (true convolution by default)");
  sub->add_option("INPUT", opts->input,
                  "Signal or matrix text, an inline literal \"[1 2 3; 4 5 6]\", an image "
                  "(PNG, JPEG, BMP, TGA, PGM/PPM) or a .npy array; - reads standard input. "
                  "Several INPUTs (then KERNEL) need --outdir DIR")
      ->required();
  sub->add_option("KERNEL", opts->kernel,
                  "Inline literal \"[-1 0 1]\", a kernel file (matrix text, \"n value\" signal, "
                  ".npy) or a filter name (see 'convkit filters')");
  // INPUT... KERNEL: operands past the second arrive as extras, untouched
  // (a vector option would split an inline literal like "[1,2]").
  sub->allow_extras();
  sub->add_option("-o,--output", opts->output,
                  "Output file, format by extension (.txt, .npy, .png, .jpg, .bmp, .tga, .pgm, "
                  ".ppm, .tif); default: text on standard output");
  sub->add_flag("--correlate", opts->correlate,
                "Correlation (no kernel flip), as CNN layers compute it");
  sub->add_option("--stride", opts->stride, "Stride S, or SY,SX")->default_str("1");
  sub->add_option("--pad", opts->pad,
                  "Padding: P, Y,X or T,B,L,R (signals: P or BEFORE,AFTER); "
                  "output size floor((N+2P-K)/S)+1");
  sub->add_option("--padding", opts->padding,
                  std::string("How padded samples are made: zero, circular, reflect (OpenCV's "
                              "BORDER_REFLECT_101), symmetric, replicate (default zero; reflect "
                              "with --same)") +
                      kPaddingAliases)
      ->default_str("zero");
  add_border_value_option(sub, opts->border_value);
  sub->add_flag("--same", opts->same,
                "Same-size output with a reflect border: --mode same --padding reflect (the "
                "usual image filter; --padding may change the border)");
  sub->add_option("--anchor", opts->anchor,
                  "ROW,COL: the kernel element (from 0, in the kernel as given) that sits over "
                  "each output sample, as OpenCV's anchor; same-size output. Default: the "
                  "centre. scipy.ndimage's origin=(o0,o1) on a KxL kernel is --anchor "
                  "K//2+o0,L//2+o1, for convolve (true convolution) and correlate "
                  "(--correlate) alike");
  sub->add_option("--kernel-scale", opts->kernel_scale,
                  "Multiply the kernel by S (after a literal's /N and a matrix file's scale)")
      ->check(any_finite());
  sub->add_flag("--normalize-kernel", opts->normalize_kernel,
                "Divide the kernel by the sum of its taps (ImageMagick's convolve:scale='!'); "
                "refused when they sum to 0");
  sub->add_option("--bias", opts->bias,
                  "Add B to every result (after filtering, before --abs/--clip/...; images: "
                  "colour channels, in the image's units)")
      ->check(any_finite());
  sub->add_option("--mode", opts->mode,
                  "Output size as scipy.signal: full, same or valid (default: full for signals; "
                  "no padding for matrices and images)");
  sub->add_option(
         "--as", opts->as,
         "Treat a text INPUT as a signal or a matrix, or a 2-D .npy as an image (default: guess)")
      ->check(CLI::IsMember({"auto", "signal", "matrix", "image"}));
  sub->add_option("--origin", opts->origin, "Sample index of the input signal's first value")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--kernel-origin", opts->kernel_origin,
                  "Sample index of the kernel's first tap (1D; default 0, or from an \"n value\" "
                  "file)")
      ->check(whole_range(-(1LL << 53), 1LL << 53));
  sub->add_option("--range", opts->range,
                  "Print the 1D result from n=A to n=B, zeros outside its support (A:B)");
  auto* abs = sub->add_flag("--abs", opts->abs, "Write |v| to 8/16-bit images");
  auto* norm = sub->add_flag("--normalize", opts->normalize,
                             "Map the result's [min, max] to the image format's full range");
  auto* off =
      sub->add_option("--offset", opts->offset,
                      "Write v + V to 8/16-bit images; V is in the output's units (128 for 8-bit, "
                      "32768 for 16-bit)")
          ->check(any_finite());
  auto* clip = sub->add_flag("--clip", opts->clip, "Clamp values to the image format's range");
  abs->excludes(norm, off, clip);
  norm->excludes(off, clip);
  off->excludes(clip);
  sub->add_flag("--filter-alpha", opts->filter_alpha,
                "Filter the alpha channel too (by default it passes through)");
  sub->add_option(
         "--alpha", opts->alpha,
         "pass (default: colour channels filtered on their own) or premultiply (colour*alpha "
         "and alpha filtered, colour divided by the filtered alpha after, 0 where it is <= "
         "0; for averaging kernels)")
      ->check(CLI::IsMember({"pass", "premultiply"}))
      ->default_val("pass");
  sub->add_option("--bit-depth", opts->bit_depth,
                  "Output sample depth: 8 or 16 (PNG, PGM/PPM, TIFF, .npy as uint8/uint16), 32 or "
                  "64 (.npy or TIFF float32/float64); default: the input's")
      ->transform(bit_depth_one_of({0, 8, 16, 32, 64},
                                   "8, 16, 32 or 64 (32f and 64f also; 0: the input's depth)"));
  add_threads_option(sub, opts->threads);
  add_max_pixels_option(sub, opts->max_pixels);
  add_memory_option(sub, opts->memory);
  add_batch_flags(sub, opts->batch);
  sub->footer(R"(Examples:
  # the seed's problem 2(a): a rect of length 7 through h(n) = 0.5^n u(n)
  convkit signal rect --length 7 -o x.txt
  convkit signal geometric --ratio 0.5 --length 64 -o h.txt
  convkit convolve x.txt h.txt --range -6:12
  # 2(c): no padding, stride 1 -> a 3x3 matrix of -40
  convkit convolve "[1 2 3 4 5; 6 7 8 9 10; 11 12 13 14 15; 16 17 18 19 20; 21 22 23 24 25]" \
                   "[-1 -2 -1; 0 0 0; 1 2 1]"
  # 2(d) ii: stride 2, pad 1
  convkit convolve data/seed-x.txt data/seed-h.txt --stride 2 --pad 1
  # an image: vertical edges, negative values shown around grey 128
  convkit convolve photo.png "[-1 0 1; -2 0 2; -1 0 1]" --mode same --padding reflect \
                   --offset 128 -o edges.png
  # many images, each as above, 2 at a time
  convkit convolve *.png sobel-x --mode same --offset 128 --outdir out/ -j 2
  # the usual image filter: same size, reflect border; a kernel with its scale
  convkit convolve photo.png "[1 2 1; 2 4 2; 1 2 1]/16" --same -o soft.png
  # ImageMagick: -define convolve:scale='!' -morphology Convolve '3x3:1,2,1 2,4,2 1,2,1'
  convkit convolve in.png "[1 2 1; 2 4 2; 1 2 1]" --normalize-kernel --same --padding replicate \
                   -o out.png
  # scipy.ndimage.convolve(a, k, mode='constant', cval=7, origin=(0,1)), k 3x3
  convkit convolve a.npy k.npy --padding constant --border-value 7 --anchor 1,2 -o out.npy
  # a libvips matrix file (width height scale offset, then rows), JPEG quality 85
  convkit convolve photo.png sharpen.mat --same --clip --quality 85 -o out.jpg

Signals keep their origin (x from n=a, h from n=b give y from n=a+b) and
default to the full convolution; matrices and images default to no padding,
stride 1.  Image files that stream (PNG, baseline JPEG, binary PGM/PPM,
.npy, BMP, TIFF to PNG/PGM/PPM/.npy/TIFF) are convolved a band of rows at a
time within --memory, with every geometry; others are read whole.
Results are never silently clipped into 8-bit files: choose
--abs, --normalize, --offset V or --clip, or write .npy.  --anchor ROW,COL:
scipy.ndimage's origin=(o0,o1) on a KxL kernel is --anchor K//2+o0,L//2+o1
(scipy's convolve; its correlate with --correlate).)" +
              std::string(kBatchFooter));
  sub->callback([opts, sub] { run_convolve(*opts, sub->remaining()); });
}

}  // namespace

CONVKIT_COMMAND(10, register_convolve);

}  // namespace convkit::cli

// Streamed or whole: the per-input work of blur and edge (see streaming.hpp).
#include "cli/streaming.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/io/atomic.hpp"
#include "convkit/io/rows.hpp"
#include "convkit/pipeline.hpp"

namespace convkit::cli {

std::int64_t default_memory_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const std::int64_t half = pages > 0 && page > 0 ? std::int64_t(pages) * page / 2 : 0;
  return std::max<std::int64_t>(half, kDefaultMemoryBudget);
}

void add_memory_option(CLI::App* sub, std::string& memory) {
  sub->add_option(
         "--memory", memory,
         "Memory budget in bytes (K, M, G suffixes: 512M, 2G). Inputs that stream "
         "(PNG, baseline JPEG, binary PGM/PPM, .npy, BMP, TIFF files to PNG/PGM/PPM/.npy/TIFF) are "
         "filtered a band of "
         "rows at a time within it; others are read whole and must fit in it. Default: "
         "half the physical memory, at least 1G")
      ->type_name("BYTES");
}

std::int64_t memory_budget(const std::string& memory) {
  return memory.empty() ? default_memory_budget() : parse_memory_size(memory, "--memory");
}

namespace {

// Applies the rule's affine map to the colour planes on the way to `next`.
class AffineSink : public RowSink {
 public:
  AffineSink(RowSink& next, int width, int channels, int colour, double a, double b)
      : next_(next), width_(width), channels_(channels), colour_(colour), a_(a), b_(b) {}
  void write(int n, const float* const* planes, std::ptrdiff_t stride) override {
    put(n, planes, stride, f_);
  }
  void write(int n, const double* const* planes, std::ptrdiff_t stride) override {
    put(n, planes, stride, d_);
  }
  void finish() override { next_.finish(); }
  std::int64_t buffer_bytes() const override { return next_.buffer_bytes(); }

 private:
  template <class T>
  void put(int n, const T* const* planes, std::ptrdiff_t stride, std::vector<std::vector<T>>& buf) {
    buf.resize(static_cast<std::size_t>(colour_));
    std::vector<const T*> out(planes, planes + channels_);
    const std::size_t w = static_cast<std::size_t>(width_);
    for (int c = 0; c < colour_; ++c) {
      buf[c].resize(static_cast<std::size_t>(n) * w);
      for (int y = 0; y < n; ++y)
        for (std::size_t x = 0; x < w; ++x)  // as edge's affine_colour: in T
          buf[c][y * w + x] = planes[c][y * stride + x] * static_cast<T>(a_) + static_cast<T>(b_);
      out[c] = buf[c].data();
    }
    std::vector<std::ptrdiff_t> unused;
    // Colour planes now have stride w; alpha keeps its own.  Copy alpha too
    // when the strides differ, so one stride serves all planes.
    std::vector<std::vector<T>> alpha;
    if (static_cast<std::ptrdiff_t>(w) != stride)
      for (int c = colour_; c < channels_; ++c) {
        alpha.emplace_back(static_cast<std::size_t>(n) * w);
        for (int y = 0; y < n; ++y)
          std::copy(planes[c] + y * stride, planes[c] + y * stride + w,
                    alpha.back().data() + y * w);
        out[c] = alpha.back().data();
      }
    next_.write(n, out.data(), static_cast<std::ptrdiff_t>(w));
  }

  RowSink& next_;
  int width_, channels_, colour_;
  double a_, b_;
  std::vector<std::vector<float>> f_;
  std::vector<std::vector<double>> d_;
};

// f, told whether its result is written as 8-bit samples with no change of
// value but rounding and clamping (PlaneFilter::rounds_to_8bit: then 8-bit
// input may be blurred in fixed point).
PlaneFilter with_rounding(const PlaneFilter& f, Image shape, const std::string& output,
                          const OutputRule& r) {
  PlaneFilter g = f;
  if (r.bit_depth) shape.bit_depth = r.bit_depth;
  const ValuePolicy p = r.write.policy;
  g.rounds_to_8bit =
      shape.bit_depth == 8 && !r.affine && (r.write.bit_depth == 0 || r.write.bit_depth == 8) &&
      p != ValuePolicy::normalize && (p != ValuePolicy::offset || r.write.offset == 0) &&
      !writes_float(output, r.write, shape);
  return g;
}

void whole(const BatchOptions& batch, const BatchItem& item, const PlaneFilter& f,
           const RuleFn& rule, std::int64_t memory, const std::string& why,
           const ItemHooks& hooks) {
  ImageLimits limits;
  limits.keep_float64 = true;  // float64 in, float64 out
  Image in = read_image(item.input, limits);
  const std::int64_t need = whole_image_bytes(in, f);
  if (need > memory)
    throw Error((item.input == "-" ? std::string("<stdin>") : item.input) + ": " + why +
                " is read whole, and that needs about " + format_memory_size(need) +
                ", more than --memory " + format_memory_size(memory) + "; raise --memory");
  if (hooks.prepare) hooks.prepare(in);
  Image shape = filtered_shape(in, f);
  OutputRule r = rule(in, shape, item.output);
  if (item.output == "-" && r.write.format.empty()) r.write.format = stdout_format(batch, in);
  Image out;
  if (hooks.filter && !(hooks.streams && hooks.streams(in)))
    hooks.filter(in, out);
  else
    apply_plane_filter(in, with_rounding(f, shape, item.output, r), out);
  if (r.bit_depth) out.bit_depth = r.bit_depth;
  if (r.affine) {
    const std::size_t n = static_cast<std::size_t>(out.width) * out.height;
    const int colour = out.has_alpha() ? out.channels - 1 : out.channels;
    with_sample_type(out, [&](auto t) {
      using T = decltype(t);
      T* p = out.samples<T>().data();
      for (std::size_t i = 0; i < n * static_cast<std::size_t>(colour); ++i)
        p[i] = p[i] * static_cast<T>(r.a) + static_cast<T>(r.b);
    });
  }
  write_image(out, item.output, r.write);
}

}  // namespace

std::int64_t explicit_max_pixels(long long max_pixels) {
  return max_pixels == kDefaultMaxPixels ? 0 : max_pixels;
}

void filter_item(const BatchOptions& batch, const BatchItem& item, const PlaneFilter& f,
                 const RuleFn& rule, std::int64_t memory, std::int64_t max_pixels, bool may_stream,
                 const ItemHooks& hooks) {
  std::string why = "this input";
  std::unique_ptr<RowSource> src;
  if (!may_stream) {
    why = "with these options the image";
  } else if (item.input == "-") {
    why = "standard input";
  } else {
    src = open_row_source(item.input, true, &why, max_pixels);
    if (!src && why.empty()) why = "this input";
  }
  if (!src) return whole(batch, item, f, rule, memory, why, hooks);
  const Image in = src->shape();
  if (hooks.streams && !hooks.streams(in)) {
    src.reset();
    return whole(batch, item, f, rule, memory, "with these options the image", hooks);
  }
  Image shape = filtered_shape(in, f);
  OutputRule r = rule(in, shape, item.output);
  if (item.output == "-" && r.write.format.empty()) r.write.format = stdout_format(batch, in);
  if (r.bit_depth) shape.bit_depth = r.bit_depth;
  std::string sink_why;
  if (!row_sink_supported(shape, item.output, r.write, &sink_why)) {
    src.reset();
    return whole(batch, item, f, rule, memory, sink_why, hooks);
  }
  stream_to_output(*src, with_rounding(f, shape, item.output, r), same_size_geometry(f), shape, r,
                   item, memory);
}

void stream_to_output(RowSource& src, const PlaneFilter& f, const StreamGeometry& geo,
                      const Image& shape, const OutputRule& r, const BatchItem& item,
                      std::int64_t memory) {
  const std::string name = item.input;
  try {
    double lo = 0, hi = 0;
    const int colour = shape.has_alpha() ? shape.channels - 1 : shape.channels;
    const int w = shape.width;
    if (r.write.policy == ValuePolicy::normalize) {  // a first pass for the range
      RangeSink range(w, colour);
      AffineSink affine(range, w, shape.channels, colour, r.a, r.b);
      stream_filter(src, f, geo, r.affine ? static_cast<RowSink&>(affine) : range, memory);
      lo = range.lo;
      hi = range.hi;
    }
    write_file_atomic(item.output, [&](std::FILE* out) {
      auto sink = open_row_sink(out, shape, item.output, r.write, lo, hi);
      AffineSink affine(*sink, w, shape.channels, colour, r.a, r.b);
      RowSink& first = r.affine ? static_cast<RowSink&>(affine) : *sink;
      stream_filter(src, f, geo, first, memory);
      first.finish();
    });
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.find(name) != std::string::npos) throw;
    throw e.with_context(name + ": ");
  }
}

}  // namespace convkit::cli

// convkit edge — Sobel, Prewitt, Scharr and Laplacian edges of images.
#include <limits>
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/canny.hpp"
#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/image.hpp"

namespace convkit::cli {

namespace {

struct EdgeCli {
  BatchOptions batch;
  PolicyFlags policy;
  std::string op = "sobel";
  std::string direction;
  std::string padding = "reflect";
  int ksize = 3;
  double low = -1, high = -1;  ///< canny only; -1: not given
  bool grey = false;
  int threads = 0;
  long long max_pixels = 0;
};

// Scale the colour planes (not alpha) by a and add b.
void affine_colour(Image& img, double a, double b) {
  const std::size_t n = static_cast<std::size_t>(img.width) * img.height;
  const int colour = img.has_alpha() ? img.channels - 1 : img.channels;
  with_sample_type(img, [&](auto t) {
    using T = decltype(t);
    T* p = img.samples<T>().data();
    for (std::size_t i = 0; i < n * static_cast<std::size_t>(colour); ++i)
      p[i] = p[i] * static_cast<T>(a) + static_cast<T>(b);
  });
}

void run_canny(const EdgeCli& o) {
  if (o.low < 0 || o.high < 0)
    throw UsageError("--operator canny needs --low T1 and --high T2 (e.g. --low 50 --high 150)");
  if (!o.direction.empty()) throw UsageError("--direction does not apply to --operator canny");
  if (o.ksize != 3) throw UsageError("--ksize applies to --operator sobel only");
  if (o.padding != "reflect")
    throw UsageError("--padding does not apply to --operator canny (it replicates the border)");
  const CannyOptions c{o.low, o.high};
  ImageWriteOptions user;
  apply_policy_flags(o.policy, user);
  const auto items = plan_batch(o.batch);
  user.tiff = tiff_options(o.batch);
  run_batch(o.batch, items, "edge", [&](const BatchItem& item) {
    write_image(canny(read_image(item.input), c), item.output, user);
  });
}

void run_edge(const EdgeCli& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  if (o.op == "canny") return run_canny(o);
  if (o.low >= 0 || o.high >= 0) throw UsageError("--low and --high apply to --operator canny");
  EdgeOptions e;
  e.op = parse_edge_operator(o.op);
  if (e.op == EdgeOperator::laplacian && !o.direction.empty())
    throw UsageError("--direction does not apply to --operator laplacian");
  e.direction = parse_edge_direction(o.direction.empty() ? "magnitude" : o.direction);
  e.border = parse_border(o.padding);
  e.ksize = o.ksize;
  if (e.ksize != 3) derivative_mask(e.op, true, e.ksize);  // a bad --ksize before any file
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  const auto items = plan_batch(o.batch);  // usage errors before any file is touched
  user.tiff = tiff_options(o.batch);
  const bool signed_result = e.op == EdgeOperator::laplacian || e.direction == EdgeDirection::x ||
                             e.direction == EdgeDirection::y;
  run_batch(o.batch, items, "edge", [&](const BatchItem& item) {
    ImageLimits limits;
    limits.keep_float64 = true;  // float64 in, float64 out
    Image in = read_image(item.input, limits);
    if (o.grey) in = to_grey(in);
    Image out = edge(in, e);
    ImageWriteOptions w = user;
    if (item.output == "-") w.format = stdout_format(o.batch, in);
    const float max = in.max_value();
    // Float output by the format and the input's depth (a TIFF keeps the input's).
    if (writes_float(item.output, w, in)) {
      write_image(out, item.output, w);  // exact float values
      return;
    }
    // Integer input: the result is in the input's units.  (A float64 result
    // keeps bit_depth 64, its sample type; it is written as 8-bit like float32.)
    if (!out.is_double()) out.bit_depth = max > 0 ? in.bit_depth : 8;
    if (!user_policy) {
      if (max == 0 || e.direction == EdgeDirection::magnitude) {
        w.policy = ValuePolicy::normalize;
      } else if (signed_result) {
        // [-gain*max, gain*max] -> [0, max], zero at mid-grey: nothing clips.
        affine_colour(out, 1.0 / (2.0 * edge_gain(e.op, e.ksize)), max / 2.0);
        w.policy = ValuePolicy::clip;
      } else {  // direction: [0, 360) degrees -> [0, max)
        affine_colour(out, max / 360.0, 0.0);
        w.policy = ValuePolicy::clip;
      }
    }
    write_image(out, item.output, w);
  });
}

void register_edge(CLI::App& app) {
  static EdgeCli o;
  CLI::App* sub = app.add_subcommand(
      "edge", "Edges of images: Sobel, Prewitt, Scharr gradients or the Laplacian");
  add_batch_options(sub, o.batch);
  sub->add_option("--operator", o.op,
                  "sobel, prewitt, scharr, laplacian (4-neighbour) or canny (8-bit 0/255 edges)")
      ->check(CLI::IsMember({"sobel", "prewitt", "scharr", "laplacian", "canny"}))
      ->default_val("sobel");
  sub->add_option("--direction", o.direction,
                  "x, y (signed derivatives), magnitude (default) or direction (degrees)")
      ->check(CLI::IsMember({"x", "y", "magnitude", "direction"}));
  sub->add_option("--padding", o.padding,
                  std::string("Border: reflect (default; OpenCV's BORDER_REFLECT_101), symmetric, "
                              "replicate, circular or zero") +
                      kPaddingAliases)
      ->default_val("reflect");
  sub->add_option("--ksize", o.ksize,
                  "Sobel size 3 (default), 5 or 7, as OpenCV's ksize (sobel only)")
      ->check(whole_one_of({3, 5, 7}, "3, 5 or 7"))
      ->default_val(3);
  sub->add_option("--low", o.low, "Canny: lower hysteresis threshold on |gx| + |gy|")
      ->check(finite_range(0, std::numeric_limits<double>::max(), "a number of at least 0"));
  sub->add_option("--high", o.high, "Canny: upper hysteresis threshold on |gx| + |gy|")
      ->check(finite_range(0, std::numeric_limits<double>::max(), "a number of at least 0"));
  sub->add_flag("--grey,--gray", o.grey, "Convert colour input to grey (BT.601 luma) first");
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "Signs as OpenCV: x is positive where intensity grows to the right, y where it grows\n"
      "downward; the results equal cv::Sobel / cv::Scharr (dx or dy = 1, ksize 3; Sobel also\n"
      "--ksize 5 and 7) and cv::Laplacian (ksize 1) on float data with the same border.\n"
      "direction is atan2(gy, gx) in degrees in [0, 360), 0 where the gradient is 0.\n\n"
      "Float output (.npy; .tif for float TIFF input) keeps the exact values (float64\n"
      "input: float64 output). -o -\n"
      "writes NPY for .npy float input and PNG otherwise, or the --format given.\n"
      "Integer output (PNG, ...) never clips\n"
      "silently; without a policy flag:\n"
      "  x, y, laplacian  v / (2*gain) + max/2: zero is mid-grey (128 in 8 bits), the full\n"
      "                   range fits (gain: sobel 4, prewitt 3, scharr 16, laplacian 4;\n"
      "                   sobel --ksize 5: 48, --ksize 7: 640)\n"
      "  magnitude        normalized: the image's [min, max] onto [0, max]\n"
      "  direction        degrees * max/360\n"
      "  float input      normalized\n"
      "--abs, --normalize, --offset V or --clip apply to the raw values instead.\n\n"
      "--operator canny --low T1 --high T2 is OpenCV's Canny (L1 gradient |gx| + |gy| of the\n"
      "3x3 Sobel with a replicated border, non-maximum suppression, hysteresis: edges above\n"
      "T2 and those above T1 connected to them); colour input is converted to grey (BT.601)\n"
      "first. Output: one 8-bit channel, 255 on edges, 0 elsewhere; on 8-bit grey images it\n"
      "equals cv::Canny(img, T1, T2). --padding does not apply to it.\n\n"
      "Examples:\n"
      "  convkit edge photo.png -o edges.png                   # Sobel magnitude\n"
      "  convkit edge photo.png --grey --operator scharr -o edges.png\n"
      "  convkit edge photo.png --direction x -o gx.png         # 128 = flat\n"
      "  convkit edge photo.png --direction x --abs -o gx.png   # |gx|, clamped\n"
      "  convkit edge photo.png --direction y -o gy.npy         # exact signed floats\n"
      "  convkit edge photo.png --ksize 5 --direction x -o gx.npy   # cv2.Sobel(img, cv2.CV_32F, "
      "1, 0, ksize=5)\n"
      "  convkit edge *.png --operator laplacian --outdir out/ -j 2\n"
      "  convkit edge photo.png --operator canny --low 50 --high 150 -o edges.png   # cv2.Canny\n"
      "  convkit edge x.npy -o - | convkit edge - -o xx.npy    # exact floats through a pipe" +
      std::string(kBatchFooter));
  sub->callback([] { run_edge(o); });
}

}  // namespace

CONVKIT_COMMAND(32, register_edge);

}  // namespace convkit::cli

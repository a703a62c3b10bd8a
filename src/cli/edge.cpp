// convkit edge — Sobel, Prewitt, Scharr and Laplacian edges of images.
#include <limits>
#include <optional>
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/streaming.hpp"
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
  std::optional<double> border_value;
  int ksize = 3;
  double low = -1, high = -1;    ///< canny only; -1: not given
  double sigma = 0, sigma2 = 0;  ///< log and dog only; 0: not given
  int size = 0;
  bool grey = false;
  int bit_depth = 0;  // --bit-depth: 0 keeps the writer's choice
  int threads = 0;
  long long max_pixels = 0;
  std::string memory;
};

void run_canny(const EdgeCli& o) {
  if (o.low < 0 || o.high < 0)
    throw UsageError("--operator canny needs --low T1 and --high T2 (e.g. --low 50 --high 150)");
  if (!o.direction.empty()) throw UsageError("--direction does not apply to --operator canny");
  if (o.ksize != 3) throw UsageError("--ksize applies to --operator sobel only");
  if (o.sigma != 0 || o.sigma2 != 0 || o.size != 0)
    throw UsageError("--sigma, --sigma2 and --size apply to --operator log or dog");
  if (o.bit_depth != 0) throw UsageError("--bit-depth does not apply to --operator canny (8-bit)");
  if (o.padding != "reflect" || o.border_value)
    throw UsageError(
        "--padding and --border-value do not apply to --operator canny (it replicates the "
        "border)");
  const CannyOptions c{o.low, o.high};
  ImageWriteOptions user;
  apply_policy_flags(o.policy, user);
  apply_quality(o.batch, user);
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
  const bool second_order =
      e.op == EdgeOperator::laplacian || e.op == EdgeOperator::log || e.op == EdgeOperator::dog;
  if (second_order && !o.direction.empty())
    throw UsageError("--direction does not apply to --operator " + o.op);
  e.sigma = o.sigma;
  e.sigma2 = o.sigma2;
  e.size = o.size;
  e.direction = parse_edge_direction(o.direction.empty() ? "magnitude" : o.direction);
  e.border = border_from_flags(o.padding, o.border_value);
  e.ksize = o.ksize;
  if (e.ksize != 3) derivative_mask(e.op, true, e.ksize);  // a bad --ksize before any file
  const double gain = edge_gain(e);                        // and bad --sigma, --sigma2, --size
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  apply_quality(o.batch, user);
  user.bit_depth = o.bit_depth;
  const std::int64_t memory = memory_budget(o.memory);
  const PlaneFilter filter = edge_filter(e);
  const auto items = plan_batch(o.batch);  // usage errors before any file is touched
  user.tiff = tiff_options(o.batch);
  const bool signed_result =
      second_order || e.direction == EdgeDirection::x || e.direction == EdgeDirection::y;
  const RuleFn rule = [&](const Image& in, const Image& out, const std::string& output) {
    OutputRule r;
    r.write = user;
    if (output == "-") r.write.format = stdout_format(o.batch, in);
    const float max = in.max_value();
    // Float output by the format and the input's depth (a TIFF keeps the input's).
    if (writes_float(output, r.write, in)) return r;  // exact float values
    // Integer input: the result is in the input's units.  (A float64 result
    // keeps bit_depth 64, its sample type; it is written as 8-bit like float32.)
    if (!out.is_double()) r.bit_depth = max > 0 ? in.bit_depth : 8;
    if (!user_policy) {
      if (max == 0 || (!second_order && e.direction == EdgeDirection::magnitude)) {
        r.write.policy = ValuePolicy::normalize;
      } else if (signed_result) {
        // [-gain*max, gain*max] -> [0, max], zero at mid-grey: nothing clips.
        r.affine = true;
        // (gain 0: an all-zero kernel, e.g. dog of two one-tap Gaussians; out is 0.)
        r.a = gain > 0 ? 1.0 / (2.0 * gain) : 0.0;
        r.b = max / 2.0;
        r.write.policy = ValuePolicy::clip;
      } else {  // direction: [0, 360) degrees -> [0, max)
        r.affine = true;
        r.a = max / 360.0;
        r.write.policy = ValuePolicy::clip;
      }
    }
    return r;
  };
  run_batch(o.batch, items, "edge", [&](const BatchItem& item) {
    filter_item(o.batch, item, filter, rule, memory, explicit_max_pixels(o.max_pixels), !o.grey,
                ItemHooks{[&](Image& in) {
                  if (o.grey) in = to_grey(in);
                }});
  });
}

void register_edge(CLI::App& app) {
  static EdgeCli o;
  CLI::App* sub = app.add_subcommand(
      "edge",
      "Edges of images: Sobel, Prewitt, Scharr gradients, the Laplacian, LoG, DoG or Canny");
  add_batch_options(sub, o.batch);
  sub->add_option("--operator", o.op,
                  "sobel, prewitt, scharr, laplacian (4-neighbour), log (Laplacian of Gaussian), "
                  "dog (difference of Gaussians) or canny (8-bit 0/255 edges)")
      ->check(CLI::IsMember({"sobel", "prewitt", "scharr", "laplacian", "log", "dog", "canny"}))
      ->default_val("sobel");
  sub->add_option("--direction", o.direction,
                  "x, y (signed derivatives), magnitude (default) or direction (degrees)")
      ->check(CLI::IsMember({"x", "y", "magnitude", "direction"}));
  sub->add_option("--padding", o.padding,
                  std::string("Border: reflect (default; OpenCV's BORDER_REFLECT_101), symmetric, "
                              "replicate, circular or zero") +
                      kPaddingAliases)
      ->default_val("reflect");
  add_border_value_option(sub, o.border_value);
  sub->add_option("--ksize", o.ksize,
                  "Sobel size 3 (default), 5 or 7, as OpenCV's ksize (sobel only)")
      ->check(whole_one_of({3, 5, 7}, "3, 5 or 7"))
      ->default_val(3);
  sub->add_option("--low", o.low, "Canny: lower hysteresis threshold on |gx| + |gy|")
      ->check(finite_range(0, std::numeric_limits<double>::max(), "a number of at least 0"));
  sub->add_option("--high", o.high, "Canny: upper hysteresis threshold on |gx| + |gy|")
      ->check(finite_range(0, std::numeric_limits<double>::max(), "a number of at least 0"));
  sub->add_option("--sigma", o.sigma, "log, dog: the Gaussian's sigma in pixels (default 1)")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true));
  sub->add_option("--sigma2", o.sigma2,
                  "dog: the wider Gaussian's sigma, larger than --sigma (default 1.6*sigma)")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true));
  sub->add_option("--size", o.size,
                  "log, dog: odd kernel size (log default 2*floor(4*sigma+0.5)+1, scipy's; "
                  "dog: each Gaussian 2*ceil(3*sigma)+1, as blur)")
      ->check(whole_range(1, 4095));
  sub->add_flag("--grey,--gray", o.grey, "Convert colour input to grey (BT.601 luma) first");
  sub->add_option("--bit-depth", o.bit_depth,
                  "Output sample depth: 8 or 16 (PNG, PGM/PPM, .npy as uint8/uint16), 32 or 32f "
                  "(.npy float32), 64 (.npy float64); default: the input's")
      ->transform(bit_depth_one_of({8, 16, 32, 64}, "8, 16, 32 or 64 (32f and 64f also)"));
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  add_memory_option(sub, o.memory);
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
      "  x, y, laplacian, v / (2*gain) + max/2: zero is mid-grey (128 in 8 bits), the full\n"
      "  log, dog         range fits (gain: sobel 4, prewitt 3, scharr 16, laplacian 4;\n"
      "                   sobel --ksize 5: 48, --ksize 7: 640; log, dog: the larger sum of\n"
      "                   the kernel's positive or negative weights)\n"
      "  magnitude        normalized: the image's [min, max] onto [0, max]\n"
      "  direction        degrees * max/360\n"
      "  float input      normalized\n"
      "--abs, --normalize, --offset V or --clip apply to the raw values instead.\n\n"
      "--operator canny --low T1 --high T2 is OpenCV's Canny (L1 gradient |gx| + |gy| of the\n"
      "3x3 Sobel with a replicated border, non-maximum suppression, hysteresis: edges above\n"
      "T2 and those above T1 connected to them); colour input is converted to grey (BT.601)\n"
      "first. Output: one 8-bit channel, 255 on edges, 0 elsewhere; on 8-bit grey images it\n"
      "equals cv::Canny(img, T1, T2). --padding does not apply to it.\n\n"
      "--operator log --sigma S is scipy.ndimage.gaussian_laplace: the sum of the second\n"
      "derivatives of the Gaussian along x and y (two separable passes), negative on a bright\n"
      "spot; the default size is scipy's (truncate 4): with --padding symmetric it equals\n"
      "gaussian_laplace(img, S), whose default mode 'reflect' is convkit's symmetric.\n"
      "--operator dog --sigma S --sigma2 S2 is blur(S) - blur(S2) (skimage's\n"
      "difference_of_gaussians; positive on a bright spot), each blur as `convkit blur`.\n\n"
      "Images of any size: PNG, JPEG, binary PGM/PPM, .npy and BMP files written to PNG, PGM/PPM\n"
      "or .npy are filtered a band of rows at a time, in memory that does not grow with the\n"
      "height (--memory is the budget); normalized output reads such a file twice. --grey,\n"
      "canny and other formats read the image whole.\n\n"
      "Examples:\n"
      "  convkit edge photo.png -o edges.png                   # Sobel magnitude\n"
      "  convkit edge photo.png --grey --operator scharr -o edges.png\n"
      "  convkit edge photo.png --direction x -o gx.png         # 128 = flat\n"
      "  convkit edge photo.png --direction x --abs -o gx.png   # |gx|, clamped\n"
      "  convkit edge photo.png --direction y -o gy.npy         # exact signed floats\n"
      "  convkit edge photo.png --direction x --bit-depth 32f -o gx.npy   # float32\n"
      "  convkit edge photo.png --padding constant --border-value 0 -o edges.png\n"
      "  convkit edge photo.png --ksize 5 --direction x -o gx.npy   # cv2.Sobel(img, cv2.CV_32F, "
      "1, 0, ksize=5)\n"
      "  convkit edge *.png --operator laplacian --outdir out/ -j 2\n"
      "  convkit edge photo.png --operator log --sigma 2 -o log.npy   # signed floats\n"
      "  convkit edge photo.png --operator log --sigma 2 --padding symmetric -o log.npy\n"
      "                                   # = scipy.ndimage.gaussian_laplace(img, 2)\n"
      "  convkit edge photo.png --operator dog --sigma 1 --sigma2 2 --normalize -o dog.png\n"
      "  convkit edge photo.png --operator canny --low 50 --high 150 -o edges.png   # cv2.Canny\n"
      "  convkit edge x.npy -o - | convkit edge - -o xx.npy    # exact floats through a pipe" +
      std::string(kBatchFooter));
  sub->callback([] { run_edge(o); });
}

}  // namespace

CONVKIT_COMMAND(32, register_edge);

}  // namespace convkit::cli

// convkit edge — Sobel, Prewitt, Scharr and Laplacian edges of images.
#include <limits>
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
  int ksize = 3;
  double low = -1, high = -1;  ///< canny only; -1: not given
  bool grey = false;
  int threads = 0;
  long long max_pixels = 0;
  std::string memory;
};

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
  const std::int64_t memory = memory_budget(o.memory);
  const PlaneFilter filter = edge_filter(e);
  const auto items = plan_batch(o.batch);  // usage errors before any file is touched
  const bool signed_result = e.op == EdgeOperator::laplacian || e.direction == EdgeDirection::x ||
                             e.direction == EdgeDirection::y;
  const RuleFn rule = [&](const Image& in, const Image& out, const std::string& output) {
    OutputRule r;
    r.write = user;
    if (output == "-") r.write.format = stdout_format(o.batch, in);
    const float max = in.max_value();
    if (writes_float(output, r.write, out)) return r;  // exact float values
    // Integer input: the result is in the input's units.  (A float64 result
    // keeps bit_depth 64, its sample type; it is written as 8-bit like float32.)
    if (!out.is_double()) r.bit_depth = max > 0 ? in.bit_depth : 8;
    if (!user_policy) {
      if (max == 0 || e.direction == EdgeDirection::magnitude) {
        r.write.policy = ValuePolicy::normalize;
      } else if (signed_result) {
        // [-gain*max, gain*max] -> [0, max], zero at mid-grey: nothing clips.
        r.affine = true;
        r.a = 1.0 / (2.0 * edge_gain(e.op, e.ksize));
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
                [&](Image& in) {
                  if (o.grey) in = to_grey(in);
                });
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
  add_memory_option(sub, o.memory);
  sub->footer(
      "Signs as OpenCV: x is positive where intensity grows to the right, y where it grows\n"
      "downward; the results equal cv::Sobel / cv::Scharr (dx or dy = 1, ksize 3; Sobel also\n"
      "--ksize 5 and 7) and cv::Laplacian (ksize 1) on float data with the same border.\n"
      "direction is atan2(gy, gx) in degrees in [0, 360), 0 where the gradient is 0.\n\n"
      "Float output (.npy) keeps the exact values (float64 input: float64 output). -o -\n"
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
      "Images of any size: PNG, JPEG, binary PGM/PPM and .npy files written to PNG, PGM/PPM\n"
      "or .npy are filtered a band of rows at a time, in memory that does not grow with the\n"
      "height (--memory is the budget); normalized output reads such a file twice. --grey,\n"
      "canny and other formats read the image whole.\n\n"
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

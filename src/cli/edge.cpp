// convkit edge — Sobel, Prewitt, Scharr and Laplacian edges of images.
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
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

void run_edge(const EdgeCli& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  EdgeOptions e;
  e.op = parse_edge_operator(o.op);
  if (e.op == EdgeOperator::laplacian && !o.direction.empty())
    throw UsageError("--direction does not apply to --operator laplacian");
  e.direction = parse_edge_direction(o.direction.empty() ? "magnitude" : o.direction);
  e.border = parse_border(o.padding);
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  const auto items = plan_batch(o.batch);  // usage errors before any file is touched
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
    if (writes_float(item.output, w, out)) {
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
        affine_colour(out, 1.0 / (2.0 * edge_gain(e.op)), max / 2.0);
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
  sub->add_option("--operator", o.op, "sobel, prewitt, scharr or laplacian (4-neighbour)")
      ->check(CLI::IsMember({"sobel", "prewitt", "scharr", "laplacian"}))
      ->default_val("sobel");
  sub->add_option("--direction", o.direction,
                  "x, y (signed derivatives), magnitude (default) or direction (degrees)")
      ->check(CLI::IsMember({"x", "y", "magnitude", "direction"}));
  sub->add_option("--padding", o.padding,
                  std::string("Border: reflect (default; OpenCV's BORDER_REFLECT_101), symmetric, "
                              "replicate, circular or zero") +
                      kPaddingAliases)
      ->default_val("reflect");
  sub->add_flag("--grey,--gray", o.grey, "Convert colour input to grey (BT.601 luma) first");
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "Signs as OpenCV: x is positive where intensity grows to the right, y where it grows\n"
      "downward; the results equal cv::Sobel / cv::Scharr (dx or dy = 1, ksize 3) and\n"
      "cv::Laplacian (ksize 1) on float data with the same border. direction is\n"
      "atan2(gy, gx) in degrees in [0, 360), 0 where the gradient is 0.\n\n"
      "Float output (.npy) keeps the exact values (float64 input: float64 output). -o -\n"
      "writes NPY for .npy float input and PNG otherwise, or the --format given.\n"
      "Integer output (PNG, ...) never clips\n"
      "silently; without a policy flag:\n"
      "  x, y, laplacian  v / (2*gain) + max/2: zero is mid-grey (128 in 8 bits), the full\n"
      "                   range fits (gain: sobel 4, prewitt 3, scharr 16, laplacian 4)\n"
      "  magnitude        normalized: the image's [min, max] onto [0, max]\n"
      "  direction        degrees * max/360\n"
      "  float input      normalized\n"
      "--abs, --normalize, --offset V or --clip apply to the raw values instead.\n\n"
      "Examples:\n"
      "  convkit edge photo.png -o edges.png                   # Sobel magnitude\n"
      "  convkit edge photo.png --grey --operator scharr -o edges.png\n"
      "  convkit edge photo.png --direction x -o gx.png         # 128 = flat\n"
      "  convkit edge photo.png --direction x --abs -o gx.png   # |gx|, clamped\n"
      "  convkit edge photo.png --direction y -o gy.npy         # exact signed floats\n"
      "  convkit edge *.png --operator laplacian --outdir out/ -j 2\n"
      "  convkit edge x.npy -o - | convkit edge - -o xx.npy    # exact floats through a pipe" +
      std::string(kBatchFooter));
  sub->callback([] { run_edge(o); });
}

}  // namespace

CONVKIT_COMMAND(32, register_edge);

}  // namespace convkit::cli

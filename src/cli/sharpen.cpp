// convkit sharpen — unsharp mask of images, many at a time.
#include <optional>
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/image.hpp"
#include "convkit/sharpen.hpp"

namespace convkit::cli {

namespace {

struct SharpenCli {
  BatchOptions batch;
  PolicyFlags policy;
  SharpenOptions s;
  std::string padding = "reflect";
  ColourFlags colour;
  std::optional<double> border_value;
  int threads = 0;
  long long max_pixels = 0;
};

void run_sharpen(SharpenCli& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  o.s.border = border_from_flags(o.padding, o.border_value);
  o.s.alpha = parse_alpha_mode(o.colour.alpha);
  o.s.linear = o.colour.linear;
  resolve_blur({BlurType::gaussian, o.s.size, o.s.sigma, o.s.border});  // usage errors first
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  apply_quality(o.batch, user);
  const auto items = plan_batch(o.batch);
  user.tiff = tiff_options(o.batch);
  run_batch(o.batch, items, "sharpen", [&](const BatchItem& item) {
    Image in = read_image(item.input);
    Image out = sharpen(in, o.s);
    ImageWriteOptions w = user;
    // Sharpening overshoots at edges; integer images are clamped to their
    // range, as ImageMagick does.  Float data keeps its values.
    if (!user_policy && in.max_value() > 0) w.policy = ValuePolicy::clip;
    write_image(out, item.output, w);
  });
}

void register_sharpen(CLI::App& app) {
  static SharpenCli o;
  CLI::App* sub = app.add_subcommand(
      "sharpen", "Unsharp mask: in + amount*(in - Gaussian blur), as ImageMagick's -unsharp");
  add_batch_options(sub, o.batch);
  sub->add_option("--sigma", o.s.sigma, "Gaussian standard deviation in pixels (default 1)")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true))
      ->default_val(1.0);
  sub->add_option("--amount", o.s.amount,
                  "Gain on the difference from the blur (default 1; 0 changes nothing)")
      ->check(finite_range(0, 1000, "a number from 0 to 1000"))
      ->default_val(1.0);
  sub->add_option("--threshold", o.s.threshold,
                  "Leave samples where 2*|in - blur| < T*range (T a fraction of the range: "
                  "0.05 = 5%; default 0)")
      ->check(finite_range(0, 1, "a number from 0 to 1"))
      ->default_val(0.0);
  sub->add_option("--size", o.s.size, "Blur size K (odd; default 2*ceil(3*sigma)+1)")
      ->check(whole_range(1, 4095));
  sub->add_option("--padding", o.padding,
                  std::string("Border: reflect (default; OpenCV's BORDER_REFLECT_101), symmetric, "
                              "replicate, circular or zero") +
                      kPaddingAliases)
      ->default_val("reflect");
  add_colour_options(sub, o.colour, "Sharpen");
  add_border_value_option(sub, o.border_value);
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "d = in - blur(in); out = in + amount*d where 2*|d| >= threshold*range, else in\n"
      "(ImageMagick's UnsharpMask rule; range: 255 for 8-bit, 65535 for 16-bit, 1 for float\n"
      "data). Integer images are clamped to their range; float (.npy) output keeps the\n"
      "values. Alpha passes through; the blur of RGBA is premultiplied by alpha (no halo\n"
      "from transparent pixels; d = 0 where no neighbour is visible), --alpha pass blurs\n"
      "each channel on its own. --linear sharpens linear light (exact sRGB curve, float in\n"
      "between; the threshold is then in linear units). `convert in.png -unsharp 0x2+1+0.05 "
      "out.png` is\n"
      "--sigma 2 --amount 1 --threshold 0.05 (ImageMagick picks its own kernel width for\n"
      "radius 0, so results differ slightly at the kernel tails).\n\n"
      "Examples:\n"
      "  convkit sharpen photo.png -o sharp.png                     # sigma 1, amount 1\n"
      "  convkit sharpen photo.png --sigma 2 --amount 1 --threshold 0.05 -o sharp.png\n"
      "  convkit sharpen icon-rgba.png --linear -o sharp.png       # premultiplied, linear\n"
      "  convkit sharpen photo.jpg --quality 90 -o sharp.jpg\n"
      "  convkit sharpen *.jpg --sigma 1.5 --amount 0.8 --outdir out/ -j 2" +
      std::string(kBatchFooter));
  sub->callback([] { run_sharpen(o); });
}

}  // namespace

CONVKIT_COMMAND(34, register_sharpen);

}  // namespace convkit::cli

// convkit blur — box and Gaussian blur of images, many at a time.
#include <cstdint>
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/image.hpp"

namespace convkit::cli {

namespace {

struct BlurCli {
  BatchOptions batch;
  PolicyFlags policy;
  std::string type = "gaussian";
  int size = 0;
  double sigma = 0, sigma_x = 0, sigma_y = 0;
  std::string padding = "reflect";
  ColourFlags colour;
  int threads = 0;
  long long max_pixels = 0;
};

// blur() of an integer image without float planes, each colour channel on
// its own (--alpha pass): the integer path, alpha passed through.
IntegerImage blur_integer(const IntegerImage& in, const BlurOptions& b) {
  IntegerImage out = in;
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(in.width) * in.channels;
  blur(Pixels<const std::uint16_t>{in.samples.data(), in.height, in.width, in.channels, stride}, b,
       Pixels<std::uint16_t>{out.samples.data(), in.height, in.width, in.channels, stride});
  if (in.channels == 2 || in.channels == 4)  // alpha: the input's
    for (std::size_t i = in.channels - 1; i < in.samples.size(); i += in.channels)
      out.samples[i] = in.samples[i];
  return out;
}

void run_blur(const BlurCli& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  BlurOptions b;
  b.type = parse_blur_type(o.type);
  b.size = o.size;
  b.sigma = o.sigma;
  if (o.sigma_x > 0 || o.sigma_y > 0) {  // anisotropic Gaussian
    if (o.sigma > 0) throw UsageError("give --sigma or --sigma-x/--sigma-y, not both");
    if (b.type == BlurType::box) throw UsageError("--sigma-x/--sigma-y apply to --type gaussian");
    b.sigma = o.sigma_x > 0 ? o.sigma_x : 1.0;
    b.sigma_y = o.sigma_y > 0 ? o.sigma_y : 1.0;
  }
  b.border = parse_border(o.padding);
  b.alpha = parse_alpha_mode(o.colour.alpha);
  b.linear = o.colour.linear;
  resolve_blur(b);  // usage errors before any file is touched
  if (b.sigma_y > 0) resolve_blur({b.type, b.size, b.sigma_y, b.border});
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  const auto items = plan_batch(o.batch);
  run_batch(o.batch, items, "blur", [&](const BatchItem& item) {
    ImageLimits limits;
    limits.keep_float64 = true;  // float64 in, float64 out
    IntegerImage ints;
    Image in = read_image(item.input, limits, ints);
    ImageWriteOptions w = user;
    if (in.width == 0) {  // an 8- or 16-bit file, as decoded
      if (item.output == "-") w.format = stdout_format(o.batch, Image{});
      // Each colour channel on its own (not linear light, no premultiplied
      // alpha) and written as it is: filtered as integers, the same values
      // as through float planes (see convkit/pixels.hpp).
      const bool alpha = ints.channels == 2 || ints.channels == 4;
      const bool per_channel = !b.linear && (!alpha || b.alpha == AlphaMode::pass);
      if (per_channel && !user_policy && writes_unchanged(ints, item.output, w)) {
        write_image(blur_integer(ints, b), item.output, w);
        return;
      }
      in = to_image(ints);
    }
    Image out = blur(in, b);
    if (item.output == "-") w.format = stdout_format(o.batch, in);
    // A blur (non-negative weights summing to 1) stays inside the input's
    // range; only float rounding can step past it, so clamping is safe.
    if (!user_policy && in.max_value() > 0) w.policy = ValuePolicy::clip;
    write_image(out, item.output, w);
  });
}

void register_blur(CLI::App& app) {
  static BlurCli o;
  CLI::App* sub = app.add_subcommand(
      "blur", "Blur images with a box or Gaussian kernel (separable: two 1D passes)");
  add_batch_options(sub, o.batch);
  sub->add_option("--type", o.type, "box or gaussian")
      ->check(CLI::IsMember({"box", "gaussian"}))
      ->default_val("gaussian");
  sub->add_option("--size", o.size,
                  "Kernel size K (odd). Gaussian default: 2*ceil(3*sigma)+1; box default: 3")
      ->check(whole_range(1, 4095));
  sub->add_option("--sigma", o.sigma,
                  "Gaussian standard deviation in pixels, greater than 0 and at most 600. Default: "
                  "from --size by OpenCV's rule "
                  "0.3*((K-1)/2-1)+0.8, or 1 when neither is given")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true));
  sub->add_option("--sigma-x", o.sigma_x,
                  "Anisotropic Gaussian: horizontal sigma (default 1 when --sigma-y is given)")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true));
  sub->add_option("--sigma-y", o.sigma_y,
                  "Anisotropic Gaussian: vertical sigma (default 1 when --sigma-x is given); "
                  "each size is 2*ceil(3*sigma)+1 unless --size sets both")
      ->check(finite_range(0, 600, "a number greater than 0 and at most 600", true));
  sub->add_option("--padding", o.padding,
                  std::string("Border: reflect (default; OpenCV's BORDER_REFLECT_101), symmetric, "
                              "replicate, circular or zero") +
                      kPaddingAliases)
      ->default_val("reflect");
  add_colour_options(sub, o.colour, "Blur");
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "Integer images keep their depth and stay in range (values are rounded). Float input\n"
      "(.npy) written to an integer format needs --clip, --normalize, --abs or --offset.\n"
      "float64 .npy input is filtered and written in float64; float32 in float32.\n"
      "-o - writes NPY for .npy float input and PNG otherwise, or the --format given.\n"
      "Alpha: by default RGBA is blurred premultiplied (colour*alpha and alpha blurred, the\n"
      "colour divided by the blurred alpha after; colour 0 where it is 0), so transparent\n"
      "pixels leave no dark or bright halo. --alpha pass blurs each channel on its own and\n"
      "keeps alpha unchanged (convkit before premultiplying). --linear blurs linear light:\n"
      "the exact sRGB curve (IEC 61966-2-1) decoded before and encoded after, in float, so\n"
      "8-bit images do not band; alpha is not converted; float data is taken as 0..1.\n\n"
      "Examples:\n"
      "  convkit blur photo.png -o soft.png                      # Gaussian, sigma 1, 7x7\n"
      "  convkit blur photo.png --sigma 2 -o soft.png            # 13x13 Gaussian\n"
      "  convkit blur photo.png --type box --size 5 -o box.png\n"
      "  convkit blur photo.png --sigma-x 4 --sigma-y 1 -o streak.png   # 25 wide, 7 tall\n"
      "  convkit blur logo-rgba.png --sigma 3 -o soft.png       # premultiplied: no halo\n"
      "  convkit blur logo-rgba.png --sigma 3 --alpha pass -o old.png\n"
      "  convkit blur photo.png --sigma 4 --linear -o soft.png  # in linear light\n"
      "  convkit blur *.png --sigma 3 --outdir out/ --suffix -blur -j 2\n"
      "  convkit blur *.jpg --outdir out/ --format png --shard 2/4   # every 4th file from the "
      "2nd\n"
      "  cat in.png | convkit blur - --sigma 2 > out.png\n"
      "  convkit blur data.npy -o - | convkit blur - -o twice.npy  # NPY through the pipe\n"
      "  convkit blur data.npy --sigma 2 -o data-blur.npy         # float in, exact float out" +
      std::string(kBatchFooter));
  sub->callback([] { run_blur(o); });
}

}  // namespace

CONVKIT_COMMAND(31, register_blur);

}  // namespace convkit::cli

// convkit blur — box and Gaussian blur of images, many at a time.
#include <optional>
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/streaming.hpp"
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
  std::optional<double> border_value;
  int bit_depth = 0;  // --bit-depth: 0 keeps the writer's choice
  int threads = 0;
  long long max_pixels = 0;
  std::string memory;
};

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
  b.border = border_from_flags(o.padding, o.border_value);
  b.alpha = parse_alpha_mode(o.colour.alpha);
  b.linear = o.colour.linear;
  resolve_blur(b);  // usage errors before any file is touched
  if (b.sigma_y > 0) resolve_blur({b.type, b.size, b.sigma_y, b.border});
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  apply_quality(o.batch, user);
  user.bit_depth = o.bit_depth;
  const std::int64_t memory = memory_budget(o.memory);
  const PlaneFilter filter = blur_filter(b);
  const auto items = plan_batch(o.batch);
  // A blur (non-negative weights summing to 1) stays inside the input's
  // range; only float rounding can step past it, so clamping is safe.
  const RuleFn rule = [&](const Image& in, const Image&, const std::string&) {
    OutputRule r;
    r.write = user;
    if (!user_policy && in.max_value() > 0) r.write.policy = ValuePolicy::clip;
    return r;
  };
  user.tiff = tiff_options(o.batch);
  run_batch(o.batch, items, "blur", [&](const BatchItem& item) {
    ItemHooks hooks;
    // Premultiplied alpha and linear light are not done by bands: such inputs
    // are read whole, through blur().
    hooks.filter = [&](const Image& in, Image& out) { blur(in, b, out); };
    hooks.streams = [&](const Image& in) { return blur_is_plane_filter(in, b); };
    filter_item(o.batch, item, filter, rule, memory, explicit_max_pixels(o.max_pixels), true,
                hooks);
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
  add_border_value_option(sub, o.border_value);
  sub->add_option("--bit-depth", o.bit_depth,
                  "Output sample depth: 8 or 16 (PNG, PGM/PPM, .npy as uint8/uint16), 32 or 32f "
                  "(.npy float32), 64 (.npy float64); default: the input's")
      ->transform(bit_depth_one_of({8, 16, 32, 64}, "8, 16, 32 or 64 (32f and 64f also)"));
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  add_memory_option(sub, o.memory);
  sub->footer(
      "Integer images keep their depth and stay in range (values are rounded). Float input\n"
      "(.npy) written to an integer format needs --clip, --normalize, --abs or --offset.\n"
      "float64 .npy input is filtered and written in float64; float32 in float32.\n"
      "TIFF (.tif, .tiff: 8/16-bit, float, strips or tiles, BigTIFF) in and out; float\n"
      "TIFF input gives float TIFF output with exact values, as .npy does.\n"
      "-o - writes NPY for .npy float input and PNG otherwise, or the --format given.\n"
      "Alpha: by default RGBA is blurred premultiplied (colour*alpha and alpha blurred, the\n"
      "colour divided by the blurred alpha after; colour 0 where it is 0), so transparent\n"
      "pixels leave no dark or bright halo. --alpha pass blurs each channel on its own and\n"
      "keeps alpha unchanged (convkit before premultiplying). --linear blurs linear light:\n"
      "the exact sRGB curve (IEC 61966-2-1) decoded before and encoded after, in float, so\n"
      "8-bit images do not band; alpha is not converted; float data is taken as 0..1.\n\n"
      "Images of any size: PNG, JPEG, binary PGM/PPM, .npy and BMP files written to PNG, PGM/PPM\n"
      "or .npy are blurred a band of rows at a time, in memory that does not grow with the\n"
      "height (--memory is the budget); other inputs and outputs, --linear, and images with\n"
      "alpha unless --alpha pass, are read and written whole.\n\n"
      "Examples:\n"
      "  convkit blur photo.png -o soft.png                      # Gaussian, sigma 1, 7x7\n"
      "  convkit blur photo.png --sigma 2 -o soft.png            # 13x13 Gaussian\n"
      "  convkit blur photo.png --type box --size 5 -o box.png\n"
      "  convkit blur scan.tif --sigma 2 -o soft.tif --compression deflate --tile 256\n"
      "  convkit blur photo.png --sigma-x 4 --sigma-y 1 -o streak.png   # 25 wide, 7 tall\n"
      "  convkit blur logo-rgba.png --sigma 3 -o soft.png       # premultiplied: no halo\n"
      "  convkit blur logo-rgba.png --sigma 3 --alpha pass -o old.png\n"
      "  convkit blur photo.png --sigma 4 --linear -o soft.png  # in linear light\n"
      "  convkit blur photo.png --padding reflect,constant --border-value 255 -o soft.png\n"
      "  convkit blur photo.png --sigma 2 --bit-depth 16 -o soft16.png   # keep the fractions\n"
      "  convkit blur *.png --sigma 3 --outdir out/ --suffix -blur -j 2\n"
      "  convkit blur *.jpg --outdir out/ --format png --shard 2/4   # every 4th file from the "
      "2nd\n"
      "  cat in.png | convkit blur - --sigma 2 > out.png\n"
      "  convkit blur data.npy -o - | convkit blur - -o twice.npy  # NPY through the pipe\n"
      "  convkit blur data.npy --sigma 2 -o data-blur.npy         # float in, exact float out\n"
      "  convkit blur scan.pgm --sigma 2 --memory 256M -o soft.pgm  # any height, 256 MiB at most" +
      std::string(kBatchFooter));
  sub->callback([] { run_blur(o); });
}

}  // namespace

CONVKIT_COMMAND(31, register_blur);

}  // namespace convkit::cli

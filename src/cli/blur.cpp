// convkit blur — box and Gaussian blur of images, many at a time.
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
  int threads = 0;
  long long max_pixels = 0;
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
  b.border = parse_border(o.padding);
  resolve_blur(b);  // usage errors before any file is touched
  if (b.sigma_y > 0) resolve_blur({b.type, b.size, b.sigma_y, b.border});
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  const auto items = plan_batch(o.batch);
  user.tiff = tiff_options(o.batch);
  run_batch(o.batch, items, "blur", [&](const BatchItem& item) {
    ImageLimits limits;
    limits.keep_float64 = true;  // float64 in, float64 out
    Image in = read_image(item.input, limits);
    Image out = blur(in, b);
    ImageWriteOptions w = user;
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
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "Integer images keep their depth and stay in range (values are rounded). Float input\n"
      "(.npy) written to an integer format needs --clip, --normalize, --abs or --offset.\n"
      "float64 .npy input is filtered and written in float64; float32 in float32.\n"
      "TIFF (.tif, .tiff: 8/16-bit, float, strips or tiles, BigTIFF) in and out; float\n"
      "TIFF input gives float TIFF output with exact values, as .npy does.\n"
      "-o - writes NPY for .npy float input and PNG otherwise, or the --format given.\n"
      "Alpha passes through unblurred.\n\n"
      "Examples:\n"
      "  convkit blur photo.png -o soft.png                      # Gaussian, sigma 1, 7x7\n"
      "  convkit blur photo.png --sigma 2 -o soft.png            # 13x13 Gaussian\n"
      "  convkit blur photo.png --type box --size 5 -o box.png\n"
      "  convkit blur scan.tif --sigma 2 -o soft.tif --compression deflate --tile 256\n"
      "  convkit blur photo.png --sigma-x 4 --sigma-y 1 -o streak.png   # 25 wide, 7 tall\n"
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

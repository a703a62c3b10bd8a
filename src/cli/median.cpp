// convkit median — the median filter of images, many at a time.
#include <string>

#include "cli/batch.hpp"
#include "cli/command.hpp"
#include "cli/validate.hpp"
#include "convkit/error.hpp"
#include "convkit/io/image.hpp"
#include "convkit/median.hpp"

namespace convkit::cli {

namespace {

struct MedianCli {
  BatchOptions batch;
  PolicyFlags policy;
  int size = 3;
  int threads = 0;
  long long max_pixels = 0;
};

void run_median(const MedianCli& o) {
  apply_threads(o.threads);
  apply_max_pixels(o.max_pixels);
  if (o.size % 2 == 0)
    throw UsageError("--size " + std::to_string(o.size) +
                     " is even: a median window needs a centre sample (use an odd size)");
  MedianOptions m;
  m.size = o.size;
  check_median_size(m.size);
  ImageWriteOptions user;
  const bool user_policy = apply_policy_flags(o.policy, user);
  apply_quality(o.batch, user);
  const auto items = plan_batch(o.batch);
  user.tiff = tiff_options(o.batch);
  run_batch(o.batch, items, "median", [&](const BatchItem& item) {
    Image in = read_image(item.input);
    Image out = median(in, m);
    ImageWriteOptions w = user;
    // Every output sample is one of the input samples: always in range.
    if (!user_policy && in.max_value() > 0) w.policy = ValuePolicy::clip;
    write_image(out, item.output, w);
  });
}

void register_median(CLI::App& app) {
  static MedianCli o;
  CLI::App* sub = app.add_subcommand(
      "median", "Median filter of images (K x K window, replicated border, as cv::medianBlur)");
  add_batch_options(sub, o.batch);
  sub->add_option("--size", o.size, "Window side K: odd, 1 to 255 (default 3; 1 copies)")
      ->check(whole_range(1, kMaxMedianSize))
      ->default_val(3);
  add_policy_options(sub, o.policy);
  add_threads_option(sub, o.threads);
  add_max_pixels_option(sub, o.max_pixels);
  sub->footer(
      "Every output sample is the median of the K x K window around it; the border\n"
      "replicates the edge samples (OpenCV's BORDER_REPLICATE, which cv::medianBlur uses),\n"
      "so results equal cv::medianBlur(img, K); there is no --padding (a constant border\n"
      "would drag the median towards its value). An even K is refused. Colour channels are\n"
      "filtered independently; alpha passes through. 8-bit images: a sorting network for\n"
      "K = 3 and 5, a constant-time histogram method (Perreault & Hebert) for K >= 7.\n"
      "16-bit and float (.npy) images: exact too; K = 3 and 5 are as fast, but K >= 7\n"
      "selects over each window (time grows with K*K). NaN samples are refused.\n\n"
      "Examples:\n"
      "  convkit median noisy.png -o clean.png                   # 3x3 (cv2.medianBlur(img, 3))\n"
      "  convkit median noisy.png --size 5 -o clean.png          # cv2.medianBlur(img, 5)\n"
      "  convkit median scans/*.png --size 15 --outdir out/ --suffix -med -j 2\n"
      "  cat in.png | convkit median - --size 7 > out.png" +
      std::string(kBatchFooter));
  sub->callback([] { run_median(o); });
}

}  // namespace

CONVKIT_COMMAND(33, register_median);

}  // namespace convkit::cli

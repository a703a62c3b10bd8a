// bench_median: convkit's median filter against cv::medianBlur in the same
// process, on the same random 8-bit grey image (default 3840x2160), the same
// border (replicate) and the same thread count.  One row per (K, threads):
//   convkit_ms  median_u8 on the 8-bit buffer (what cv::medianBlur does)
//   image_ms    median() on convkit's float Image, as the CLI calls it (adds
//               the checks and the float <-> 8-bit conversions)
//   opencv_ms   cv::medianBlur(src, dst, K)
//   ratio       convkit_ms / opencv_ms (below 1: convkit faster)
// Times are the median of --reps runs after one warm-up; outputs are checked
// equal before timing.
//
// Usage: bench_median [--reps N] [--width W --height H]
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "convkit/median.hpp"
#include "convkit/parallel.hpp"
#include "timing.hpp"

using namespace convkit;
using convkit::bench::median_ms;

int main(int argc, char** argv) {
  int reps = 5, w = 3840, h = 2160;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--width") w = std::atoi(argv[i + 1]);
    if (a == "--height") h = std::atoi(argv[i + 1]);
  }
  cv::Mat src(h, w, CV_8UC1), ref;
  cv::theRNG().state = 1;
  cv::randu(src, 0, 256);
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 1;
  img.bit_depth = 8;
  img.data.assign(src.ptr<unsigned char>(0), src.ptr<unsigned char>(0) + src.total());

  std::printf("bench_median: %dx%d 8-bit grey, median of %d runs, border replicate\n", w, h, reps);
  std::printf("%4s %8s %11s %9s %10s %7s\n", "K", "threads", "convkit_ms", "image_ms", "opencv_ms",
              "ratio");
  for (int threads : {1, 2}) {
    cv::setNumThreads(threads);
    set_thread_count(threads);
    for (int k : {3, 5, 15, 31}) {
      cv::Mat dst(h, w, CV_8UC1);
      double tcv = median_ms(reps, [&] { cv::medianBlur(src, ref, k); });
      double tck = median_ms(reps, [&] {
        median_u8(src.ptr(), static_cast<std::ptrdiff_t>(src.step), dst.ptr(),
                  static_cast<std::ptrdiff_t>(dst.step), w, h, k);
      });
      if (cv::norm(dst, ref, cv::NORM_INF) != 0) {
        std::fprintf(stderr, "bench_median: K %d differs from cv::medianBlur\n", k);
        return 1;
      }
      double tim = median_ms(reps, [&] { (void)median(img, {k}); });
      std::printf("%4d %8d %11.1f %9.1f %10.1f %7.2f\n", k, threads, tck, tim, tcv, tck / tcv);
      std::fflush(stdout);
    }
  }
  return 0;
}

// bench_median: convkit's median filter against cv::medianBlur in the same
// process, on the same random 8-bit image (default 3840x2160), grey and RGB
// (interleaved, as OpenCV holds it), the same border (replicate) and the
// same thread count.  One row per (channels, K, threads):
//   convkit_ms  median_u8 on the 8-bit buffer (what cv::medianBlur does)
//   opencv_ms   cv::medianBlur(src, dst, K)
//   ratio       convkit_ms / opencv_ms (below 1: convkit faster)
//   cpu_ratio   the same ratio of process CPU time (all threads): on a busy
//               machine it leaves out the time spent waiting for a core
//   image_ms    median() on convkit's float Image, as the CLI calls it (adds
//               the checks and the float <-> 8-bit conversions); --image
// Times are the fastest of --reps runs after one warm-up (on a shared
// machine the least disturbed run); outputs are checked equal before timing.
//
// Usage: bench_median [--reps N] [--width W --height H] [--sizes 3,5,15,31]
//                     [--channels 1,3] [--threads 1,2] [--image 0|1]
//                     [--kernel3 baseline|avx2|avx512|avx512_vbmi]  (3x3 kernel; default
//                     the widest the CPU runs)
#include <cstdio>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "convkit/median.hpp"
#include "convkit/parallel.hpp"
#include "timing.hpp"

using namespace convkit;
using convkit::bench::min_ms;

namespace {

std::vector<int> int_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, w = 3840, h = 2160;
  bool image = false;
  std::vector<int> sizes{3, 5, 15, 31}, channels{1, 3}, thread_counts{1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--width") w = std::atoi(argv[i + 1]);
    if (a == "--height") h = std::atoi(argv[i + 1]);
    if (a == "--sizes") sizes = int_list(argv[i + 1]);
    if (a == "--channels") channels = int_list(argv[i + 1]);
    if (a == "--threads") thread_counts = int_list(argv[i + 1]);
    if (a == "--image") image = std::atoi(argv[i + 1]) != 0;
    if (a == "--kernel3") {
      using K = detail::Median3Kernel;
      const std::string v = argv[i + 1];
      detail::set_median3_kernel(v == "baseline" ? K::baseline
                                 : v == "avx2"   ? K::avx2
                                 : v == "avx512" ? K::avx512
                                                 : K::avx512_vbmi);
    }
  }
  std::printf("bench_median: %dx%d 8-bit, fastest of %d runs, border replicate\n", w, h, reps);
  std::printf("%3s %4s %8s %11s %10s %7s %10s %9s\n", "cn", "K", "threads", "convkit_ms",
              "opencv_ms", "ratio", "cpu_ratio", "image_ms");
  for (int cn : channels) {
    cv::Mat src(h, w, CV_8UC(cn)), ref;
    cv::theRNG().state = 1;
    cv::randu(src, cv::Scalar::all(0), cv::Scalar::all(256));
    Image img;
    img.width = w;
    img.height = h;
    img.channels = cn;
    img.bit_depth = 8;
    img.data.resize(src.total() * static_cast<std::size_t>(cn));
    for (int c = 0; c < cn; ++c)
      for (std::size_t i = 0; i < src.total(); ++i)
        img.data[static_cast<std::size_t>(c) * src.total() + i] = src.data[i * cn + c];
    for (int threads : thread_counts) {
      cv::setNumThreads(threads);
      set_thread_count(threads);
      for (int k : sizes) {
        cv::Mat dst(h, w, CV_8UC(cn));
        double cpu_cv = 0, cpu_ck = 0;
        const double tcv = min_ms(
            reps, [&] { cv::medianBlur(src, ref, k); }, &cpu_cv);
        const double tck = min_ms(
            reps,
            [&] {
              median_u8(src.ptr(), static_cast<std::ptrdiff_t>(src.step), dst.ptr(),
                        static_cast<std::ptrdiff_t>(dst.step), w, h, k, cn);
            },
            &cpu_ck);
        if (cv::norm(dst, ref, cv::NORM_INF) != 0) {
          std::fprintf(stderr, "bench_median: K %d, %d channels differs from cv::medianBlur\n", k,
                       cn);
          return 1;
        }
        const double tim = image ? min_ms(reps, [&] { (void)median(img, {k}); }) : 0.0;
        std::printf("%3d %4d %8d %11.3f %10.3f %7.2f %10.2f %9.1f\n", cn, k, threads, tck, tcv,
                    tck / tcv, cpu_ck / cpu_cv, tim);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

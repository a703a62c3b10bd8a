// bench_filtering: convkit blur / edge against OpenCV in the same process, on
// the same 3840x2160 RGB data, the same border (reflect = BORDER_REFLECT_101)
// and the same thread count.  Prints one row per case with the ratio
// convkit / OpenCV (below 1: convkit faster).
//
// float rows: OpenCV runs on CV_32FC3, convkit on the planar float image.
// 8-bit rows: OpenCV runs on CV_8UC3 (its fixed-point path); convkit's time
// includes converting the 8-bit pixels to float, and for the blurs the
// rounding back to 8 bits (OpenCV's Sobel of 8-bit data gives int16, convkit's
// float: no conversion back is timed for it).
//
// Both sides write into an output buffer allocated by the warm-up run and
// reused (OpenCV: the same cv::Mat dst; convkit: the same Image).
//
// Usage: bench_filtering [--reps N] [--width W --height H]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "convkit/filtering.hpp"
#include "convkit/parallel.hpp"
#include "timing.hpp"

using namespace convkit;
using convkit::bench::median_ms;

namespace {

Image planar_from(const cv::Mat& m) {  // CV_32FC3 / CV_8UC3 -> planar float
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.channels = m.channels();
  img.bit_depth = m.depth() == CV_8U ? 8 : 32;
  img.data.resize(m.total() * m.channels());
  const std::size_t n = m.total();
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < img.channels; ++c) {
        float v = m.depth() == CV_8U ? m.ptr<uchar>(y)[x * img.channels + c]
                                     : m.ptr<float>(y)[x * img.channels + c];
        img.data[c * n + std::size_t(y) * m.cols + x] = v;
      }
  return img;
}

// What the CLI does around the filter for 8-bit data: u8 -> float, and the
// rounding back to u8.
void u8_to_float(const std::vector<unsigned char>& in, std::vector<float>& out) {
  const unsigned char* __restrict s = in.data();
  float* __restrict d = out.data();
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
}
void float_to_u8(const std::vector<float>& in, std::vector<unsigned char>& out) {
  out.resize(in.size());
  const float* __restrict s = in.data();
  unsigned char* __restrict d = out.data();
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i)
    d[i] =
        static_cast<unsigned char>(static_cast<int>(std::min(std::max(s[i], 0.f), 255.f) + 0.5f));
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, w = 3840, h = 2160;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    if (a == "--width") w = std::atoi(argv[i + 1]);
    if (a == "--height") h = std::atoi(argv[i + 1]);
  }
  cv::Mat u8(h, w, CV_8UC3), f32;
  cv::theRNG().state = 1;
  cv::randu(u8, 0, 256);
  u8.convertTo(f32, CV_32F, 1.0 / 255);
  Image imf = planar_from(f32), im8 = planar_from(u8);
  std::vector<unsigned char> planar8(im8.data.size());
  for (std::size_t i = 0; i < planar8.size(); ++i) planar8[i] = (unsigned char)im8.data[i];

  std::printf(
      "bench_filtering: %dx%d RGB, median of %d runs, border reflect (BORDER_REFLECT_101)\n", w, h,
      reps);
  std::printf("%-26s %-6s %8s %10s %10s %8s\n", "case", "data", "threads", "convkit_ms",
              "opencv_ms", "ratio");
  struct Case {
    std::string name;
    std::function<void(const cv::Mat&, cv::Mat&)> cv_fn;
    std::function<void(const Image&, Image&)> ck_fn;
    bool back_to_u8;  ///< 8-bit rows: OpenCV's output is 8-bit too (blur) or int16 (Sobel)
  };
  std::vector<Case> cases = {
      {"GaussianBlur sigma 2 (13)",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::GaussianBlur(s, d, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
       },
       [](const Image& s, Image& d) {
         blur(s, {BlurType::gaussian, 13, 2.0, Border::reflect}, d);
       },
       true},
      {"GaussianBlur sigma 5 (31)",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::GaussianBlur(s, d, cv::Size(31, 31), 5, 5, cv::BORDER_REFLECT_101);
       },
       [](const Image& s, Image& d) {
         blur(s, {BlurType::gaussian, 31, 5.0, Border::reflect}, d);
       },
       true},
      {"Sobel dx",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::Sobel(s, d, s.depth() == CV_8U ? CV_16S : CV_32F, 1, 0, 3, 1, 0,
                   cv::BORDER_REFLECT_101);
       },
       [](const Image& s, Image& d) {
         edge(s, {EdgeOperator::sobel, EdgeDirection::x, Border::reflect}, d);
       },
       false},
  };
  for (int threads : {1, 2}) {
    cv::setNumThreads(threads);
    set_thread_count(threads);
    for (const auto& c : cases) {
      for (bool eight : {false, true}) {
        cv::Mat dst;
        const cv::Mat& src = eight ? u8 : f32;
        double tcv = median_ms(reps, [&] { c.cv_fn(src, dst); });
        double tck;
        if (eight) {
          std::vector<unsigned char> back(planar8.size());
          Image in = im8, out;
          tck = median_ms(reps, [&] {
            auto tc = std::chrono::steady_clock::now();
            u8_to_float(planar8, in.data);
            auto t0 = std::chrono::steady_clock::now();
            c.ck_fn(in, out);
            auto t1 = std::chrono::steady_clock::now();
            if (c.back_to_u8) float_to_u8(out.data, back);
            auto t2 = std::chrono::steady_clock::now();
            if (std::getenv("BENCH_DEBUG"))
              std::fprintf(stderr, "to float %.1f ms, filter %.1f ms, to u8 %.1f ms\n",
                           std::chrono::duration<double, std::milli>(t0 - tc).count(),
                           std::chrono::duration<double, std::milli>(t1 - t0).count(),
                           std::chrono::duration<double, std::milli>(t2 - t1).count());
          });
        } else {
          Image out;
          tck = median_ms(reps, [&] { c.ck_fn(imf, out); });
        }
        std::printf("%-26s %-6s %8d %10.1f %10.1f %8.2f\n", c.name.c_str(),
                    eight ? "8-bit" : "float", threads, tck, tcv, tck / tcv);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

// bench_filtering: convkit blur / edge / filter2D against OpenCV in the same
// process, on the same 3840x2160 data, the same border (reflect =
// BORDER_REFLECT_101) and the same thread count.  Prints one row per case
// with the ratio convkit / OpenCV (below 1: convkit faster).
//
// float rows: OpenCV runs on CV_32FC3, convkit on the planar float image.
// 8-bit and 16-bit rows (grey and RGB): both sides run on the same
// interleaved cv::Mat buffers, convkit through its native integer path
// (convkit/pixels.hpp: 8-bit blurs and Sobel in fixed point, FixedSeparable;
// other masks and 16-bit data in bands of rows converted to float on the fly,
// rounded back).  Outputs: the input's depth for the blurs and filter2D; Sobel of
// 8-bit data gives int16 (CV_16S), of 16-bit data float (CV_32F).
// filter2D uses a fixed random 3x3 / 5x5 kernel (not separable).
//
// Both sides write into an output allocated by the warm-up run and reused.
// Times are the fastest of --runs runs (after one warm-up): on a shared,
// loaded machine the least disturbed run.  The cpu columns are the smallest
// process CPU time of a run (all threads), which waiting for a core on a
// loaded machine does not inflate; with 1 thread it is the work done.
//
// Usage: bench_filtering [--runs N] [--width W --height H] [--only TEXT]
//   --only TEXT   only the rows whose case or data contains TEXT (e.g. 8-bit)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
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
using convkit::bench::min_ms;

namespace {

Image planar_from(const cv::Mat& m) {  // CV_32FC3 -> planar float
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.channels = m.channels();
  img.bit_depth = 32;
  img.data.resize(m.total() * m.channels());
  const std::size_t n = m.total();
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < img.channels; ++c)
        img.data[c * n + std::size_t(y) * m.cols + x] = m.ptr<float>(y)[x * img.channels + c];
  return img;
}

template <class T>
Pixels<const T> pixels(const cv::Mat& m) {
  return {m.ptr<T>(), m.rows, m.cols, m.channels(), static_cast<std::ptrdiff_t>(m.step1())};
}
template <class T>
Pixels<T> pixels(cv::Mat& m) {
  return {m.ptr<T>(), m.rows, m.cols, m.channels(), static_cast<std::ptrdiff_t>(m.step1())};
}

// Run f(In{}, Out{}) for the sample types of an 8-bit or 16-bit source;
// `edge_out`: the output is int16 (8-bit) or float (16-bit) as cv::Sobel's.
template <class F>
void with_types(const cv::Mat& s, bool edge_out, F&& f) {
  if (s.depth() == CV_8U) {
    if (edge_out)
      f(std::uint8_t{}, std::int16_t{});
    else
      f(std::uint8_t{}, std::uint8_t{});
  } else {
    if (edge_out)
      f(std::uint16_t{}, float{});
    else
      f(std::uint16_t{}, std::uint16_t{});
  }
}

int out_depth(const cv::Mat& s, bool edge_out) {
  if (!edge_out) return s.depth();
  return s.depth() == CV_8U ? CV_16S : CV_32F;
}

std::vector<double> random_mask(int k) {
  cv::RNG rng(k);
  std::vector<double> m(static_cast<std::size_t>(k) * k);
  double sum = 0;
  for (auto& v : m) sum += v = rng.uniform(0.0, 1.0);
  for (auto& v : m) v /= sum;
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, w = 3840, h = 2160;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps" || a == "--runs") reps = std::atoi(argv[i + 1]);
    if (a == "--width") w = std::atoi(argv[i + 1]);
    if (a == "--height") h = std::atoi(argv[i + 1]);
    if (a == "--only") only = argv[i + 1];
  }
  cv::Mat u8(h, w, CV_8UC3), f32;
  cv::theRNG().state = 1;
  cv::randu(u8, 0, 256);
  u8.convertTo(f32, CV_32F, 1.0 / 255);
  Image imf = planar_from(f32);
  cv::Mat u16, grey8, grey16;
  u8.convertTo(u16, CV_16U, 257);
  cv::randu(u16, 0, 65536);
  cv::extractChannel(u8, grey8, 0);
  cv::extractChannel(u16, grey16, 0);

  std::printf("bench_filtering: %dx%d, fastest of %d runs, border reflect (BORDER_REFLECT_101)\n",
              w, h, reps);
  std::printf("%-26s %-11s %7s %10s %10s %6s %8s %8s %6s\n", "case", "data", "threads",
              "convkit_ms", "opencv_ms", "ratio", "ck_cpu", "cv_cpu", "ratio");
  struct Case {
    std::string name;
    std::function<void(const cv::Mat&, cv::Mat&)> cv_fn;
    std::function<void(const Image&, Image&)> float_fn;  ///< empty: no float row
    /// convkit on integer pixels, into dst already shaped as OpenCV's output
    std::function<void(const cv::Mat&, cv::Mat&)> int_fn;
    bool edge_out;  ///< Sobel: int16 / float output
  };
  const BlurOptions g2{BlurType::gaussian, 13, 2.0, Border::reflect};
  const BlurOptions g5{BlurType::gaussian, 31, 5.0, Border::reflect};
  const BlurOptions box5{BlurType::box, 5, 0, Border::reflect};
  const EdgeOptions sobel_x{EdgeOperator::sobel, EdgeDirection::x, Border::reflect};
  auto int_blur = [](const BlurOptions& o) {
    return [o](const cv::Mat& s, cv::Mat& d) {
      with_types(s, false, [&](auto in, auto) {
        using T = decltype(in);
        blur(pixels<T>(s), o, pixels<T>(d));
      });
    };
  };
  auto filter2d_case = [](int k) {
    const std::vector<double> m = random_mask(k);
    cv::Mat km(k, k, CV_64F);
    for (int i = 0; i < k * k; ++i) km.at<double>(i / k, i % k) = m[static_cast<std::size_t>(i)];
    return Case{"filter2D " + std::to_string(k) + "x" + std::to_string(k),
                [km](const cv::Mat& s, cv::Mat& d) {
                  cv::filter2D(s, d, -1, km, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
                },
                {},
                [m, k](const cv::Mat& s, cv::Mat& d) {
                  with_types(s, false, [&](auto in, auto) {
                    using T = decltype(in);
                    filter_plane(pixels<T>(s), m, k, k, Border::reflect, pixels<T>(d));
                  });
                },
                false};
  };
  std::vector<Case> cases = {
      {"GaussianBlur sigma 2 (13)",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::GaussianBlur(s, d, cv::Size(13, 13), 2, 2, cv::BORDER_REFLECT_101);
       },
       [g2](const Image& s, Image& d) { blur(s, g2, d); }, int_blur(g2), false},
      {"GaussianBlur sigma 5 (31)",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::GaussianBlur(s, d, cv::Size(31, 31), 5, 5, cv::BORDER_REFLECT_101);
       },
       [g5](const Image& s, Image& d) { blur(s, g5, d); }, int_blur(g5), false},
      {"blur 5x5",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::blur(s, d, cv::Size(5, 5), cv::Point(-1, -1), cv::BORDER_REFLECT_101);
       },
       {},
       int_blur(box5),
       false},
      {"Sobel dx",
       [](const cv::Mat& s, cv::Mat& d) {
         cv::Sobel(s, d, s.depth() == CV_32F ? CV_32F : out_depth(s, true), 1, 0, 3, 1, 0,
                   cv::BORDER_REFLECT_101);
       },
       [sobel_x](const Image& s, Image& d) { edge(s, sobel_x, d); },
       [sobel_x](const cv::Mat& s, cv::Mat& d) {
         with_types(s, true, [&](auto in, auto out) {
           using In = decltype(in);
           using Out = decltype(out);
           edge(pixels<In>(s), sobel_x, pixels<Out>(d));
         });
       },
       true},
      filter2d_case(3),
      filter2d_case(5),
  };
  struct Data {
    const char* name;
    const cv::Mat* mat;
  };
  const Data data[] = {{"float RGB", &f32},
                       {"8-bit grey", &grey8},
                       {"8-bit RGB", &u8},
                       {"16-bit grey", &grey16},
                       {"16-bit RGB", &u16}};
  for (int threads : {1, 2}) {
    cv::setNumThreads(threads);
    set_thread_count(threads);
    for (const auto& c : cases) {
      for (const Data& dt : data) {
        const bool is_float = dt.mat->depth() == CV_32F;
        if (is_float && !c.float_fn) continue;
        if (!only.empty() && (c.name + " " + dt.name).find(only) == std::string::npos) continue;
        const cv::Mat& src = *dt.mat;
        cv::Mat dst;
        double ccv = 0, cck = 0;
        double tcv = min_ms(
            reps, [&] { c.cv_fn(src, dst); }, &ccv);
        double tck;
        if (is_float) {
          Image out;
          tck = min_ms(
              reps, [&] { c.float_fn(imf, out); }, &cck);
        } else {
          cv::Mat mine(src.size(), CV_MAKETYPE(out_depth(src, c.edge_out), src.channels()));
          tck = min_ms(
              reps, [&] { c.int_fn(src, mine); }, &cck);
          // Same function, different rounding rules: report the largest difference.
          cv::Mat diff;
          cv::absdiff(mine, dst, diff);
          double mx = 0;
          cv::minMaxLoc(diff.reshape(1), nullptr, &mx);
          if (mx > 1)
            std::fprintf(stderr, "%s %s: differs from OpenCV by %g\n", c.name.c_str(), dt.name, mx);
        }
        std::printf("%-26s %-11s %7d %10.1f %10.1f %6.2f %8.1f %8.1f %6.2f\n", c.name.c_str(),
                    dt.name, threads, tck, tcv, tck / tcv, cck, ccv, cck / ccv);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

// convkit's engine against OpenCV, same data, same border, same run.
//
//   convkit_bench_engine [--runs N] [--border reflect|zero|circular]
//                        [--sizes 3,5,...] [--threads 1,2] [--only 2d|rgb|1d]
//                        [--schedule automatic|direct|separable|fft]
//
// Tables: a 4096x4096 float32 plane and a 3840x2160 3-channel float image
// (convkit filters the 3 planes, OpenCV the interleaved CV_32FC3 image), with
// a general (not separable) kernel against cv::filter2D and a Gaussian
// (separable) kernel against cv::sepFilter2D; then 1D signals of 1,000,000
// samples.  Each time is the median of --runs runs after one warm-up.
// The ratio is convkit / OpenCV: below 1 means convkit is faster.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"

using namespace convkit;

namespace {

int g_runs = 5;

double median_ms(const std::function<void()>& fn) {
  fn();  // warm-up (page faults, thread pool start)
  std::vector<double> t;
  for (int i = 0; i < g_runs; ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoi(item));
  return v;
}

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::direct:
      return "direct";
    case Schedule::separable:
      return "separable";
    case Schedule::fft:
      return "fft";
    case Schedule::reference:
      return "reference";
    case Schedule::automatic:
      return "automatic";
  }
  return "?";
}

std::vector<float> random_plane(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> gaussian_1d(int k) {
  std::vector<float> g(static_cast<std::size_t>(k));
  double sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8, sum = 0;
  for (int i = 0; i < k; ++i) {
    double x = i - (k - 1) / 2.0;
    g[i] = static_cast<float>(std::exp(-x * x / (2 * sigma * sigma)));
    sum += g[i];
  }
  for (auto& x : g) x = static_cast<float>(x / sum);
  return g;
}

struct Options {
  Border border = Border::reflect;
  std::vector<int> sizes = {3, 5, 7, 9, 11, 15, 21, 31};
  std::vector<int> threads = {1, 2};
  std::string only;
  Schedule schedule = Schedule::automatic;
  int plane = 4096;
};

int cv_border(Border b) {
  return b == Border::zero ? cv::BORDER_CONSTANT : cv::BORDER_REFLECT_101;
}

// OpenCV's side: filter2D / sepFilter2D, or (circular) copyMakeBorder WRAP
// then a valid filter of the padded image.
void opencv_filter(const cv::Mat& src, cv::Mat& dst, const cv::Mat& ker, const cv::Mat& kx,
                   const cv::Mat& ky, bool separable, Border b, cv::Mat& scratch) {
  const cv::Mat* in = &src;
  int border = cv_border(b);
  int kh = separable ? ky.rows : ker.rows, kw = separable ? kx.cols : ker.cols;
  if (b == Border::circular) {
    cv::copyMakeBorder(src, scratch, kh / 2, kh / 2, kw / 2, kw / 2, cv::BORDER_WRAP);
    in = &scratch;
    border = cv::BORDER_CONSTANT;
  }
  cv::Mat out;
  if (b == Border::circular) {
    if (separable)
      cv::sepFilter2D(*in, out, -1, kx, ky, cv::Point(-1, -1), 0, border);
    else
      cv::filter2D(*in, out, -1, ker, cv::Point(-1, -1), 0, border);
    out(cv::Rect(kw / 2, kh / 2, src.cols, src.rows)).copyTo(dst);
    return;
  }
  if (separable)
    cv::sepFilter2D(*in, dst, -1, kx, ky, cv::Point(-1, -1), 0, border);
  else
    cv::filter2D(*in, dst, -1, ker, cv::Point(-1, -1), 0, border);
}

void header(const char* title) {
  std::printf("\n%s\n", title);
  std::printf("%-10s %4s %7s %-10s %11s %11s %7s\n", "kernel", "K", "threads", "schedule",
              "convkit ms", "opencv ms", "ratio");
}

// planes: convkit's planar copy of the image; cvimg: the same data for OpenCV.
void bench_image(const char* title, const std::vector<std::vector<float>>& planes, int h, int w,
                 const cv::Mat& cvimg, const Options& o) {
  header(title);
  std::vector<std::vector<float>> outs(planes.size(),
                                       std::vector<float>(static_cast<std::size_t>(h) * w));
  cv::Mat dst, scratch;
  for (bool separable : {false, true}) {
    for (int k : o.sizes) {
      std::vector<float> kernel(static_cast<std::size_t>(k) * k);
      std::vector<float> g = gaussian_1d(k);
      if (separable) {
        for (int i = 0; i < k; ++i)
          for (int j = 0; j < k; ++j) kernel[static_cast<std::size_t>(i) * k + j] = g[i] * g[j];
      } else {
        kernel = random_plane(kernel.size(), 1000u + static_cast<unsigned>(k));
        for (auto& x : kernel) x -= 0.5f;
      }
      cv::Mat ker(k, k, CV_32F, kernel.data());
      cv::Mat kx(1, k, CV_32F, g.data()), ky(k, 1, CV_32F, g.data());
      ConvSpec spec;
      spec.correlate = true;  // filter2D computes correlation
      spec.mode = SizeMode::same;
      spec.border = o.border;
      ConvGeometry geo = plan(spec, h, w, k, k);
      Schedule chosen =
          o.schedule == Schedule::automatic ? detail::choose_schedule(geo, separable) : o.schedule;
      if (chosen == Schedule::separable && !separable) continue;
      for (int t : o.threads) {
        set_thread_count(t);
        cv::setNumThreads(t);
        double ck = median_ms([&] {
          for (std::size_t c = 0; c < planes.size(); ++c)
            conv2d<float>(View<const float>{planes[c].data(), h, w, w},
                          View<const float>{kernel.data(), k, k, k}, geo,
                          View<float>{outs[c].data(), h, w, w}, chosen);
        });
        double cvms = median_ms(
            [&] { opencv_filter(cvimg, dst, ker, kx, ky, separable, o.border, scratch); });
        std::printf("%-10s %4d %7d %-10s %11.2f %11.2f %7.2f\n", separable ? "gaussian" : "general",
                    k, t, schedule_name(chosen), ck, cvms, ck / cvms);
        std::fflush(stdout);
      }
    }
  }
}

void bench_1d(const Options& o) {
  header("1D: 1,000,000 samples, 1 x K kernel (OpenCV: filter2D on one row)");
  const int n = 1000000;
  auto x = random_plane(n, 7);
  std::vector<float> y(n);
  cv::Mat src(1, n, CV_32F, x.data()), dst;
  for (int k : {32, 1024, 65536}) {
    auto kernel = random_plane(static_cast<std::size_t>(k), 99);
    cv::Mat ker(1, k, CV_32F, kernel.data());
    ConvSpec spec;
    spec.correlate = true;
    spec.mode = SizeMode::same;
    spec.border = o.border == Border::circular ? Border::reflect : o.border;
    ConvGeometry geo = plan(spec, 1, n, 1, k);
    Schedule chosen = detail::choose_schedule(geo, false);
    for (int t : o.threads) {
      set_thread_count(t);
      cv::setNumThreads(t);
      double ck = median_ms([&] {
        conv2d<float>(View<const float>{x.data(), 1, n, n},
                      View<const float>{kernel.data(), 1, k, k}, geo,
                      View<float>{y.data(), 1, n, n});
      });
      // OpenCV anchors an even kernel at k/2; convkit's `same` at (k-1)/2 - the
      // work is the same.
      double cvms = median_ms([&] {
        cv::filter2D(src, dst, -1, ker, cv::Point(-1, -1), 0, cv_border(spec.border.rows));
      });
      std::printf("%-10s %4d %7d %-10s %11.2f %11.2f %7.2f\n", "signal", k, t,
                  schedule_name(chosen), ck, cvms, ck / cvms);
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "convkit_bench_engine: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") {
      g_runs = std::max(1, std::stoi(next()));
    } else if (a == "--border") {
      o.border = parse_border(next());
      if (o.border != Border::reflect && o.border != Border::zero && o.border != Border::circular) {
        std::fprintf(stderr, "convkit_bench_engine: --border is reflect, zero or circular\n");
        return 2;
      }
    } else if (a == "--sizes") {
      o.sizes = parse_list(next());
    } else if (a == "--threads") {
      o.threads = parse_list(next());
    } else if (a == "--schedule") {
      std::string v = next();
      if (v == "direct")
        o.schedule = Schedule::direct;
      else if (v == "separable")
        o.schedule = Schedule::separable;
      else if (v == "fft")
        o.schedule = Schedule::fft;
      else
        o.schedule = Schedule::automatic;
    } else if (a == "--plane") {
      o.plane = std::max(16, std::stoi(next()));
    } else if (a == "--only") {
      o.only = next();
    } else {
      std::printf(
          "usage: convkit_bench_engine [--runs N] [--border reflect|zero|circular]\n"
          "                            [--sizes 3,5,7] [--threads 1,2] [--only 2d|rgb|1d]\n"
          "                            [--schedule automatic|direct|separable|fft]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::printf("convkit engine vs OpenCV %s; border %s; median of %d runs; SIMD %s\n", CV_VERSION,
              std::string(to_string(o.border)).c_str(), g_runs,
              detail::simd_level() == detail::Simd::avx2 ? "avx2+fma" : "baseline");
  if (o.only.empty() || o.only == "2d") {
    const int h = o.plane, w = o.plane;
    std::vector<std::vector<float>> planes = {random_plane(static_cast<std::size_t>(h) * w, 1)};
    cv::Mat img(h, w, CV_32F, planes[0].data());
    const std::string title = std::to_string(h) + "x" + std::to_string(w) + " float32, 1 channel";
    bench_image(title.c_str(), planes, h, w, img, o);
  }
  if (o.only.empty() || o.only == "rgb") {
    const int h = 2160, w = 3840;
    std::vector<std::vector<float>> planes;
    for (unsigned c = 0; c < 3; ++c)
      planes.push_back(random_plane(static_cast<std::size_t>(h) * w, 10 + c));
    cv::Mat img(h, w, CV_32FC3);
    for (int r = 0; r < h; ++r) {
      float* p = img.ptr<float>(r);
      for (int c = 0; c < w; ++c)
        for (int ch = 0; ch < 3; ++ch)
          p[3 * c + ch] = planes[ch][static_cast<std::size_t>(r) * w + c];
    }
    bench_image("3840x2160 float32, 3 channels (convkit: 3 planes)", planes, h, w, img, o);
  }
  if (o.only.empty() || o.only == "1d") bench_1d(o);
  return 0;
}

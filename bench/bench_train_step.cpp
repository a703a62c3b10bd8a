// bench_train_step: forward + backward (train mode, softmax cross-entropy) of
//   CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU
//   POOL2 FLATTEN FC-256 ReLU FC-10
// on a batch of 128 28x28x1 inputs, with 1 and 2 threads; when PyTorch is
// installed (Debian python3-torch), the same network in PyTorch in the same
// run (bench/torch_train_step.py), and the ratio convkit / PyTorch.
//
//   convkit_bench_train_step [--iters N] [--batch B] [--threads LIST] [--no-torch]
//                            [--gemm blas|avx2|avx512]   (default: the widest the CPU runs)
//                            [--precision fp32|bf16]     (convkit's GEMM products; default fp32)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "convkit/arch.hpp"
#include "convkit/engine_nn.hpp"
#include "convkit/nn/model.hpp"
#include "convkit/parallel.hpp"
#include "engine/gemm_kernel.hpp"

namespace {

const char* kNet =
    "CONV3-32 BN ReLU CONV3-32 BN ReLU POOL2 CONV3-64 BN ReLU CONV3-64 BN ReLU POOL2 FLATTEN "
    "FC-256 ReLU FC-10";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double convkit_ms(int threads, int batch, int iters) {
  convkit::set_thread_count(threads);
  convkit::nn::Sequential<float> model(convkit::parse_arch(kNet), convkit::nn::Dims{1, 28, 28},
                                       {.seed = 1});
  convkit::Rng rng(2);
  std::vector<float> x(static_cast<std::size_t>(batch) * 784);
  for (float& v : x) v = static_cast<float>(rng.normal());
  std::vector<int> y(static_cast<std::size_t>(batch));
  for (int& v : y) v = static_cast<int>(rng.next() % 10);
  std::vector<double> times;
  for (int i = 0; i < iters + 2; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    model.zero_grad();
    model.forward(x.data(), batch, convkit::nn::Mode::train);
    model.loss(y.data());
    model.backward(false);  // as training does
    const auto t1 = std::chrono::steady_clock::now();
    if (i >= 2) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return median(times);
}

// Runs the PyTorch script; returns its median in ms or a negative number.
double torch_ms(int threads, int batch, int iters) {
  const char* py = std::getenv("CONVKIT_BENCH_PYTHON");
  std::string cmd = std::string(py ? py : "/usr/bin/python3") +
                    " " CONVKIT_BENCH_DIR "/torch_train_step.py --threads " +
                    std::to_string(threads) + " --batch " + std::to_string(batch) + " --iters " +
                    std::to_string(iters) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[512];
  double ms = -1;
  while (std::fgets(line, sizeof line, p)) {
    const char* at = std::strstr(line, "median_ms=");
    if (at) ms = std::atof(at + 10);
  }
  if (pclose(p) != 0) return -1;
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 10, batch = 128;
  bool torch = true;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--batch" && i + 1 < argc) {
      batch = std::max(2, std::atoi(argv[++i]));
    } else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ","))
        threads.push_back(std::max(1, std::atoi(t)));
    } else if (a == "--no-torch") {
      torch = false;
    } else if (a == "--gemm" && i + 1 < argc) {
      const std::string k = argv[++i];
      const auto kernel = k == "blas"   ? convkit::GemmKernel::blas
                          : k == "avx2" ? convkit::GemmKernel::avx2
                                        : convkit::GemmKernel::avx512;
      if ((k != "blas" && k != "avx2" && k != "avx512") ||
          !convkit::gemm_kernel_available(kernel)) {
        std::fprintf(stderr, "GEMM kernel '%s' is not available here\n", k.c_str());
        return 2;
      }
      convkit::force_gemm_kernel(kernel);
    } else if (a == "--precision" && i + 1 < argc) {
      const std::string p = argv[++i];
      if ((p != "fp32" && p != "bf16") ||
          !convkit::matmul_precision_available(convkit::parse_matmul_precision(p, "--precision"))) {
        std::fprintf(stderr, "precision '%s' is not available here\n", p.c_str());
        return 2;
      }
      convkit::set_matmul_precision(convkit::parse_matmul_precision(p, "--precision"));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--iters N] [--batch B] [--threads 1,2] [--no-torch] "
                   "[--gemm blas|avx2|avx512] [--precision fp32|bf16]\n",
                   argv[0]);
      return 2;
    }
  }
  const convkit::GemmKernel g = convkit::gemm_kernel();
  std::printf("network: %s\ninput: %d x 28x28x1, forward + backward, median of %d, GEMM %s, %s\n\n",
              kNet, batch, iters,
              g == convkit::GemmKernel::avx512 ? "avx512"
              : g == convkit::GemmKernel::avx2 ? "avx2"
                                               : "blas",
              convkit::precision_name(convkit::matmul_precision()));
  std::printf("%-8s %14s %14s %8s\n", "threads", "convkit ms", "pytorch ms", "ratio");
  for (int t : threads) {
    const double c = convkit_ms(t, batch, iters);
    const double p = torch ? torch_ms(t, batch, iters) : -1;
    if (p > 0)
      std::printf("%-8d %14.1f %14.1f %7.2fx\n", t, c, p, c / p);
    else
      std::printf("%-8d %14.1f %14s %8s\n", t, c, "n/a", "");
    std::fflush(stdout);
  }
  return 0;
}

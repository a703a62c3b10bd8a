// The engine's multi-channel schedule against the single-plane definition
// (conv2d_reference) summed over input channels; pooling against brute force.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/engine_nn.hpp"
#include "convkit/random.hpp"
#include "convkit/parallel.hpp"
#include "engine/gemm_kernel.hpp"

using namespace convkit;

namespace {

std::vector<double> randv(std::size_t n, Rng& rng) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.uniform(-1, 1);
  return v;
}

// y[n,f] = b[f] + sum_c conv2d_reference(x[n,c], w[f,c]).
std::vector<double> reference_multichannel(const ConvBatchShape& s, const std::vector<double>& x,
                                           const std::vector<double>& w,
                                           const std::vector<double>& b) {
  const ConvGeometry& g = s.g;
  const std::size_t plane = static_cast<std::size_t>(g.in_h) * g.in_w;
  const std::size_t oplane = static_cast<std::size_t>(g.out_h) * g.out_w;
  const std::size_t kk = static_cast<std::size_t>(g.k_h) * g.k_w;
  std::vector<double> y(static_cast<std::size_t>(s.batch) * s.filters * oplane, 0.0);
  std::vector<double> part(oplane);
  for (int n = 0; n < s.batch; ++n)
    for (int f = 0; f < s.filters; ++f) {
      double* yo = y.data() + (static_cast<std::size_t>(n) * s.filters + f) * oplane;
      for (std::size_t k = 0; k < oplane; ++k) yo[k] = b[f];
      for (int c = 0; c < s.channels; ++c) {
        View<const double> in{x.data() + (static_cast<std::size_t>(n) * s.channels + c) * plane,
                              g.in_h, g.in_w, g.in_w};
        View<const double> ker{w.data() + (static_cast<std::size_t>(f) * s.channels + c) * kk,
                               g.k_h, g.k_w, g.k_w};
        conv2d_reference<double>(in, ker, g, make_view(part.data(), g.out_h, g.out_w));
        for (std::size_t k = 0; k < oplane; ++k) yo[k] += part[k];
      }
    }
  return y;
}

struct Case {
  int h, w, k, stride, pad;
  Border border;
  bool correlate;
};

}  // namespace

TEST_CASE("[engine] multi-channel convolution equals the reference summed over channels") {
  Rng rng(11);
  const Case cases[] = {
      {7, 6, 3, 1, 1, Border::zero, true},     {7, 6, 3, 2, 1, Border::zero, true},
      {8, 8, 2, 1, 1, Border::circular, true}, {5, 9, 3, 1, 2, Border::circular, false},
      {6, 7, 4, 3, 2, Border::reflect, true},  {6, 6, 3, 1, 1, Border::replicate, false},
      {5, 5, 5, 1, 0, Border::zero, true},     {9, 4, 1, 2, 0, Border::symmetric, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.h);
    CAPTURE(c.k);
    CAPTURE(c.stride);
    CAPTURE(to_string(c.border));
    ConvSpec spec;
    spec.correlate = c.correlate;
    spec.stride_y = spec.stride_x = c.stride;
    spec.pad = {c.pad, c.pad, c.pad, c.pad};
    spec.border = c.border;
    ConvBatchShape s{3, 2, 4, plan(spec, c.h, c.w, c.k, c.k)};
    const auto x = randv(static_cast<std::size_t>(s.batch) * s.channels * c.h * c.w, rng);
    const auto w = randv(static_cast<std::size_t>(s.filters) * s.col_rows(), rng);
    const auto b = randv(static_cast<std::size_t>(s.filters), rng);
    const auto want = reference_multichannel(s, x, w, b);
    std::vector<double> got(want.size(), 99.0);
    conv_multichannel_forward<double>(s, x.data(), w.data(), b.data(), got.data());
    for (std::size_t i = 0; i < want.size(); ++i)
      REQUIRE(got[i] == doctest::Approx(want[i]).epsilon(1e-12));

    // float too, within float rounding
    std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), bf(b.begin(), b.end());
    std::vector<float> yf(want.size());
    conv_multichannel_forward<float>(s, xf.data(), wf.data(), bf.data(), yf.data());
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(std::abs(yf[i] - want[i]) < 1e-5);
  }
}

TEST_CASE("[engine] col2im is the adjoint of im2col, for every border") {
  Rng rng(5);
  for (Border b :
       {Border::zero, Border::circular, Border::reflect, Border::symmetric, Border::replicate}) {
    CAPTURE(to_string(b));
    ConvSpec spec;
    spec.correlate = true;
    spec.stride_y = 2;
    spec.stride_x = 1;
    spec.pad = {2, 1, 1, 2};
    spec.border = b;
    const ConvGeometry g = plan(spec, 6, 5, 3, 3);
    const int C = 2;
    ConvBatchShape s{1, C, 1, g};
    const auto x = randv(static_cast<std::size_t>(C) * 30, rng);
    const auto c = randv(static_cast<std::size_t>(s.col_rows() * s.col_cols()), rng);
    std::vector<double> col(c.size());
    im2col<double>(x.data(), C, g, col.data());
    std::vector<double> back(x.size(), 0.0);
    col2im_add<double>(c.data(), C, g, back.data());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < c.size(); ++i) lhs += col[i] * c[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * back[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
  }
}

TEST_CASE("[engine] same-padding layers: the shifted-plane im2col and col2im") {
  // Stride 1, zero border, output rows as wide as the input's: im2col and the
  // backward's col2im take whole shifted planes.  Against the definition,
  // with odd and even kernels, asymmetric padding, true convolution, and
  // fewer output rows than input rows.
  struct Geo {
    int h, w, k;
    Padding pad;
    bool correlate;
  };
  const Geo geos[] = {{7, 6, 3, {1, 1, 1, 1}, true},  {5, 8, 2, {0, 1, 0, 1}, true},
                      {6, 5, 4, {1, 2, 1, 2}, false}, {4, 9, 5, {2, 2, 2, 2}, true},
                      {9, 7, 3, {0, 0, 1, 1}, true},  {3, 3, 3, {2, 0, 1, 1}, false}};
  Rng rng(21);
  for (const Geo& q : geos) {
    CAPTURE(q.h);
    CAPTURE(q.w);
    CAPTURE(q.k);
    ConvSpec spec;
    spec.correlate = q.correlate;
    spec.pad = q.pad;
    const ConvGeometry g = plan(spec, q.h, q.w, q.k, q.k);
    REQUIRE(g.out_w == g.in_w);
    const int C = 3, F = 2, N = 2;
    ConvBatchShape s{N, C, F, g};
    const auto x = randv(static_cast<std::size_t>(N) * C * q.h * q.w, rng);
    std::vector<double> col(static_cast<std::size_t>(s.col_rows() * s.col_cols()), 7.0);
    im2col<double>(x.data(), C, g, col.data());
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < q.k; ++i)
        for (int j = 0; j < q.k; ++j)
          for (int m = 0; m < g.out_h; ++m)
            for (int k = 0; k < g.out_w; ++k) {
              const int r = m + i - q.pad.top, cc = k + j - q.pad.left;
              const double want = r < 0 || r >= q.h || cc < 0 || cc >= q.w
                                      ? 0.0
                                      : x[(static_cast<std::size_t>(c) * q.h + r) * q.w + cc];
              const int ki = q.correlate ? i : q.k - 1 - i, kj = q.correlate ? j : q.k - 1 - j;
              const std::size_t row = (static_cast<std::size_t>(c) * q.k + ki) * q.k + kj;
              REQUIRE(col[row * s.col_cols() + static_cast<std::size_t>(m) * g.out_w + k] == want);
            }
    // The backward's input gradient: col2im of W^T dy, summed as col2im_add does.
    const auto w = randv(static_cast<std::size_t>(F) * s.col_rows(), rng);
    const auto dy = randv(static_cast<std::size_t>(N) * F * s.col_cols(), rng);
    std::vector<double> dx(x.size(), 0.0);
    conv_multichannel_backward<double>(s, x.data(), w.data(), dy.data(), nullptr, nullptr,
                                       dx.data());
    const std::size_t in_size = static_cast<std::size_t>(C) * q.h * q.w;
    for (int n = 0; n < N; ++n) {
      std::vector<double> dcol(col.size(), 0.0), want(in_size, 0.0);
      for (std::int64_t r = 0; r < s.col_rows(); ++r)
        for (std::int64_t p = 0; p < s.col_cols(); ++p)
          for (int f = 0; f < F; ++f)
            dcol[r * s.col_cols() + p] +=
                w[f * s.col_rows() + r] *
                dy[(static_cast<std::size_t>(n) * F + f) * s.col_cols() + p];
      col2im_add<double>(dcol.data(), C, g, want.data());
      for (std::size_t e = 0; e < in_size; ++e)
        REQUIRE(dx[n * in_size + e] == doctest::Approx(want[e]).epsilon(1e-12));
    }
  }
}

TEST_CASE("[engine] multi-channel backward does not depend on the thread count") {
  Rng rng(3);
  ConvSpec spec;
  spec.correlate = true;
  spec.pad = {1, 1, 1, 1};
  ConvBatchShape s{19, 3, 5, plan(spec, 9, 9, 3, 3)};
  std::vector<float> x(static_cast<std::size_t>(s.batch) * 3 * 81), w(5 * 27),
      dy(static_cast<std::size_t>(s.batch) * 5 * 81);
  for (float& v : x) v = static_cast<float>(rng.uniform(-1, 1));
  for (float& v : w) v = static_cast<float>(rng.uniform(-1, 1));
  for (float& v : dy) v = static_cast<float>(rng.uniform(-1, 1));
  auto run = [&](int threads) {
    set_thread_count(threads);
    std::vector<float> dw(w.size(), 0.0f), db(5, 0.0f), dx(x.size(), 0.0f);
    conv_multichannel_backward<float>(s, x.data(), w.data(), dy.data(), dw.data(), db.data(),
                                      dx.data());
    dw.insert(dw.end(), db.begin(), db.end());
    dw.insert(dw.end(), dx.begin(), dx.end());
    return dw;
  };
  const auto one = run(1);
  const auto two = run(2);
  const auto three = run(3);
  set_thread_count(0);
  CHECK(one == two);
  CHECK(one == three);
}

TEST_CASE("[engine] pooling windows: max and average against brute force") {
  Rng rng(8);
  for (int pad : {0, 1}) {
    ConvSpec spec;
    spec.correlate = true;
    spec.stride_y = spec.stride_x = 2;
    spec.pad = {pad, pad, pad, pad};
    const ConvGeometry g = plan(spec, 7, 6, 3, 3);
    const int planes = 3;
    const auto x = randv(static_cast<std::size_t>(planes) * 42, rng);
    std::vector<double> ymax(static_cast<std::size_t>(planes) * g.out_h * g.out_w),
        yavg(ymax.size());
    std::vector<std::int32_t> arg(ymax.size());
    maxpool_forward<double>(planes, g, x.data(), ymax.data(), arg.data());
    avgpool_forward<double>(planes, g, x.data(), yavg.data());
    for (int p = 0; p < planes; ++p)
      for (int m = 0; m < g.out_h; ++m)
        for (int n = 0; n < g.out_w; ++n) {
          double best = -1e300, sum = 0;
          int count = 0;
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
              const int r = m * 2 + i - pad, c = n * 2 + j - pad;
              if (r < 0 || r >= 7 || c < 0 || c >= 6) continue;
              const double v = x[static_cast<std::size_t>(p) * 42 + r * 6 + c];
              best = std::max(best, v);
              sum += v;
              ++count;
            }
          const std::size_t o = (static_cast<std::size_t>(p) * g.out_h + m) * g.out_w + n;
          CHECK(ymax[o] == best);
          CHECK(x[static_cast<std::size_t>(p) * 42 + arg[o]] == best);
          CHECK(yavg[o] == doctest::Approx(sum / count));
        }
  }
}

TEST_CASE("[engine] float backward (the single-precision GEMM) matches double") {
  Rng rng(21);
  ConvSpec spec;
  spec.correlate = true;
  spec.stride_y = spec.stride_x = 2;
  spec.pad = {1, 1, 1, 1};
  spec.border = Border::circular;
  // Odd sizes: GEMM tiles with partial rows and narrow column panels.
  ConvBatchShape s{5, 7, 13, plan(spec, 11, 9, 3, 3)};
  const auto x = randv(static_cast<std::size_t>(s.batch) * 7 * 99, rng);
  const auto w = randv(static_cast<std::size_t>(s.filters) * s.col_rows(), rng);
  const auto dy = randv(static_cast<std::size_t>(s.batch) * s.filters * s.col_cols(), rng);
  std::vector<double> dw(w.size(), 0.0), db(13, 0.0), dx(x.size(), 0.0);
  conv_multichannel_backward<double>(s, x.data(), w.data(), dy.data(), dw.data(), db.data(),
                                     dx.data());
  std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()), dyf(dy.begin(), dy.end());
  std::vector<float> dwf(w.size(), 0.0f), dbf(13, 0.0f), dxf(x.size(), 0.0f);
  conv_multichannel_backward<float>(s, xf.data(), wf.data(), dyf.data(), dwf.data(), dbf.data(),
                                    dxf.data());
  for (std::size_t i = 0; i < dw.size(); ++i) REQUIRE(std::abs(dwf[i] - dw[i]) < 1e-4);
  for (std::size_t i = 0; i < db.size(); ++i) REQUIRE(std::abs(dbf[i] - db[i]) < 1e-4);
  for (std::size_t i = 0; i < dx.size(); ++i) REQUIRE(std::abs(dxf[i] - dx[i]) < 1e-4);
}

TEST_CASE("[engine] gemm: every kernel, every transpose combination against plain loops") {
  // Shapes that leave every partial tile: rows 1..12 past a 12- or 6-row
  // block, columns past a 32- or 16-column panel, and row strides longer
  // than the rows.
  struct Shape {
    int M, N, K, pad;
  };
  const Shape shapes[] = {{13, 37, 19, 0}, {1, 1, 1, 0},  {12, 32, 7, 3},    {25, 17, 40, 5},
                          {6, 48, 3, 0},   {11, 5, 2, 1}, {32, 100, 288, 0}, {7, 64, 33, 2},
                          {9, 13, 200, 1}, {5, 7, 65, 3}, {288, 32, 784, 0}};
  std::vector<GemmKernel> kernels;
  for (GemmKernel k : {GemmKernel::blas, GemmKernel::avx2, GemmKernel::avx512})
    if (gemm_kernel_available(k)) kernels.push_back(k);
  Rng rng(4);
  std::vector<float> own;  // the AVX2 kernel's result, which AVX-512 must match bit for bit
  for (const Shape& sh : shapes)
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int M = sh.M, N = sh.N, K = sh.K;
      const int lda = (ta ? M : K) + sh.pad, ldb = (tb ? K : N) + sh.pad, ldc = N + sh.pad;
      std::vector<float> A(static_cast<std::size_t>(ta ? K : M) * lda);
      std::vector<float> B(static_cast<std::size_t>(tb ? N : K) * ldb);
      std::vector<float> C0(static_cast<std::size_t>(M) * ldc);
      for (float& v : A) v = static_cast<float>(rng.uniform(-1, 1));
      for (float& v : B) v = static_cast<float>(rng.uniform(-1, 1));
      for (float& v : C0) v = static_cast<float>(rng.uniform(-1, 1));
      for (float beta : {0.0f, 1.0f}) {
        own.clear();
        for (GemmKernel kernel : kernels) {
          CAPTURE(static_cast<int>(kernel));
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(t);
          CAPTURE(beta);
          force_gemm_kernel(kernel);
          REQUIRE(gemm_kernel() == kernel);
          std::vector<float> C = C0;
          gemm<float>(ta, tb, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
          force_gemm_kernel(GemmKernel::blas, true);
          for (int i = 0; i < M; ++i) {
            for (int j = 0; j < N; ++j) {
              double acc = beta * C0[static_cast<std::size_t>(i) * ldc + j];
              for (int k = 0; k < K; ++k)
                acc += static_cast<double>(ta ? A[static_cast<std::size_t>(k) * lda + i]
                                              : A[static_cast<std::size_t>(i) * lda + k]) *
                       (tb ? B[static_cast<std::size_t>(j) * ldb + k]
                           : B[static_cast<std::size_t>(k) * ldb + j]);
              REQUIRE(std::abs(C[static_cast<std::size_t>(i) * ldc + j] - acc) < 1e-4 * (1 + K));
            }
            // The padding past column N is never written.
            for (int j = N; j < ldc; ++j)
              REQUIRE(C[static_cast<std::size_t>(i) * ldc + j] ==
                      C0[static_cast<std::size_t>(i) * ldc + j]);
          }
          if (kernel == GemmKernel::avx2) own = C;
          if (kernel == GemmKernel::avx512 && !own.empty()) REQUIRE(C == own);
        }
      }
    }
}

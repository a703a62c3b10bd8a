// The bf16 GEMM (MatmulPrecision::bf16) against brute force: operands rounded
// to bfloat16 here, by bit arithmetic (round to nearest, ties to even), their
// exact products summed in double.  The only difference allowed is the
// rounding of the kernel's float sums.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "convkit/engine_nn.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "convkit/random.hpp"

using namespace convkit;

namespace {

float round_bf16(float v) {
  std::uint32_t u = std::bit_cast<std::uint32_t>(v);
  u += 0x7FFFu + ((u >> 16) & 1u);  // halfway rounds to the even upper half
  return std::bit_cast<float>(u & 0xFFFF0000u);
}

bool bf16_here() {
  if (matmul_precision_available(MatmulPrecision::bf16)) return true;
  std::puts("CONVKIT-TEST-SKIPPED: this CPU has no AVX512_BF16");
  return false;
}

struct Shape {
  int M, N, K;
};

}  // namespace

TEST_CASE("[engine] bf16 GEMM equals brute force on operands rounded to bfloat16") {
  if (!bf16_here()) return;
  Rng rng(21);
  const Shape shapes[] = {{1, 1, 1},    {5, 7, 3},    {12, 32, 16},  {13, 33, 17},
                          {30, 70, 65}, {16, 100, 9}, {3, 200, 288}, {40, 6, 784}};
  const MatmulPrecisionScope bf16(MatmulPrecision::bf16);
  for (const Shape& sh : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (float beta : {0.0f, 1.0f}) {
          CAPTURE(sh.M);
          CAPTURE(sh.N);
          CAPTURE(sh.K);
          CAPTURE(ta);
          CAPTURE(tb);
          CAPTURE(beta);
          // Stored shapes, with row strides longer than the rows.
          const int ar = ta ? sh.K : sh.M, ac = ta ? sh.M : sh.K;
          const int br = tb ? sh.N : sh.K, bc = tb ? sh.K : sh.N;
          const int lda = ac + 3, ldb = bc + 5, ldc = sh.N + 2;
          std::vector<float> A(static_cast<std::size_t>(ar) * lda),
              B(static_cast<std::size_t>(br) * ldb), C(static_cast<std::size_t>(sh.M) * ldc);
          for (float& v : A) v = static_cast<float>(rng.uniform(-2, 2));
          for (float& v : B) v = static_cast<float>(rng.uniform(-2, 2));
          for (float& v : C) v = static_cast<float>(rng.uniform(-1, 1));
          const std::vector<float> C0 = C;
          gemm<float>(ta, tb, sh.M, sh.N, sh.K, 1.0f, A.data(), lda, B.data(), ldb, beta, C.data(),
                      ldc);
          int bad = 0;
          for (int i = 0; i < sh.M; ++i)
            for (int j = 0; j < sh.N; ++j) {
              const float c0 = C0[static_cast<std::size_t>(i) * ldc + j];
              double sum = beta == 1.0f ? c0 : 0.0, magnitude = beta == 1.0f ? std::fabs(c0) : 0.0;
              for (int k = 0; k < sh.K; ++k) {
                const float a = A[ta ? static_cast<std::size_t>(k) * lda + i
                                     : static_cast<std::size_t>(i) * lda + k];
                const float b = B[tb ? static_cast<std::size_t>(j) * ldb + k
                                     : static_cast<std::size_t>(k) * ldb + j];
                const double p = static_cast<double>(round_bf16(a)) * round_bf16(b);
                sum += p;
                magnitude += std::fabs(p);
              }
              // At most K + 1 float additions, each off by half a unit in
              // the last place of a partial sum no larger than `magnitude`.
              const double tol = (sh.K + 2) * std::ldexp(1.0, -24) * magnitude;
              const float got = C[static_cast<std::size_t>(i) * ldc + j];
              if (!(std::fabs(got - sum) <= tol)) ++bad;
            }
          CHECK(bad == 0);
          // The padding between rows of C is not written.
          for (int i = 0; i < sh.M; ++i)
            for (int j = sh.N; j < ldc; ++j)
              CHECK(C[static_cast<std::size_t>(i) * ldc + j] ==
                    C0[static_cast<std::size_t>(i) * ldc + j]);
        }
}

TEST_CASE("[engine] bf16 GEMM rounds its operands to nearest, ties to even") {
  if (!bf16_here()) return;
  // 1 + 2^-8 lies halfway between the bfloat16 numbers 1 and 1 + 2^-7: it
  // rounds to 1 (even); 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and
  // 1 + 2^-6 and rounds up to 1 + 2^-6; 1 + 2^-8 + 2^-20 is above halfway.
  // Every sum below is exact, so the results are exact too.
  const float ulp = std::ldexp(1.0f, -8);
  const std::vector<float> a = {1 + ulp, 1 + 3 * ulp, 1 + ulp + std::ldexp(1.0f, -20), -(1 + ulp)};
  const std::vector<float> one = {1.0f};
  std::vector<float> c(4, 5.0f);
  const MatmulPrecisionScope bf16(MatmulPrecision::bf16);
  gemm<float>(false, false, 4, 1, 1, 1.0f, a.data(), 1, one.data(), 1, 0.0f, c.data(), 1);
  CHECK(c == std::vector<float>{1.0f, 1 + 4 * ulp, 1 + 2 * ulp, -1.0f});
  // The same along k (pairs of operands in one word) and with B rounded.
  std::vector<float> row(6, 1 + ulp), col(6, 1 + 3 * ulp), out(1, 0.0f);
  gemm<float>(false, false, 1, 1, 6, 1.0f, row.data(), 6, col.data(), 1, 0.0f, out.data(), 1);
  CHECK(out[0] == 6 * (1 + 4 * ulp));
}

TEST_CASE("[engine] bf16 multi-channel convolution: any thread count, near fp32 but rounded") {
  if (!bf16_here()) return;
  Rng rng(5);
  ConvSpec spec;
  spec.correlate = true;
  spec.pad = {1, 1, 1, 1};
  const ConvBatchShape s{19, 3, 5, plan(spec, 9, 9, 3, 3)};
  std::vector<float> x(static_cast<std::size_t>(s.batch) * 3 * 81), w(5 * 27), b(5),
      dy(static_cast<std::size_t>(s.batch) * 5 * 81);
  for (auto* v : {&x, &w, &b, &dy})
    for (float& e : *v) e = static_cast<float>(rng.uniform(-1, 1));
  auto run = [&](MatmulPrecision p, int threads) {
    const MatmulPrecisionScope scope(p);
    set_thread_count(threads);
    std::vector<float> y(dy.size()), dw(w.size(), 0.0f), db(5, 0.0f), dx(x.size(), 0.0f);
    conv_multichannel_forward<float>(s, x.data(), w.data(), b.data(), y.data());
    conv_multichannel_backward<float>(s, x.data(), w.data(), dy.data(), dw.data(), db.data(),
                                      dx.data());
    for (auto* v : {&dw, &db, &dx}) y.insert(y.end(), v->begin(), v->end());
    return y;
  };
  const auto one = run(MatmulPrecision::bf16, 1);
  const auto two = run(MatmulPrecision::bf16, 2);
  const auto three = run(MatmulPrecision::bf16, 3);
  const auto fp32 = run(MatmulPrecision::fp32, 2);
  set_thread_count(0);
  CHECK(one == two);
  CHECK(one == three);
  // bfloat16 keeps 8 significant bits: every value within a few 2^-8 of
  // fp32's relative to its terms, and most of them not equal.
  REQUIRE(one.size() == fp32.size());
  std::size_t equal = 0;
  double worst = 0;
  for (std::size_t i = 0; i < one.size(); ++i) {
    equal += one[i] == fp32[i];
    worst = std::max(worst, std::fabs(static_cast<double>(one[i]) - fp32[i]));
  }
  CHECK(worst < 0.5);
  CHECK(worst > 1e-4);
  CHECK(equal < one.size() / 2);
}

TEST_CASE("[engine] bf16 precision is refused where the CPU lacks AVX512_BF16") {
  // CONVKIT_DISABLE_BF16 stands for such a CPU.
  const char* old = std::getenv("CONVKIT_DISABLE_BF16");
  const std::string saved = old ? old : "";
  setenv("CONVKIT_DISABLE_BF16", "1", 1);
  CHECK_FALSE(matmul_precision_available(MatmulPrecision::bf16));
  CHECK(matmul_precision_available(MatmulPrecision::fp32));
  CHECK_THROWS_AS(set_matmul_precision(MatmulPrecision::bf16), UsageError);
  CHECK(matmul_precision() == MatmulPrecision::fp32);
  setenv("CONVKIT_DISABLE_BF16", "0", 1);
  const bool cpu = matmul_precision_available(MatmulPrecision::bf16);
  if (old)
    setenv("CONVKIT_DISABLE_BF16", saved.c_str(), 1);
  else
    unsetenv("CONVKIT_DISABLE_BF16");
  CHECK(cpu == matmul_precision_available(MatmulPrecision::bf16));
  CHECK(parse_matmul_precision("bf16", "--precision") == MatmulPrecision::bf16);
  CHECK_THROWS_AS(parse_matmul_precision("fp16", "--precision"), UsageError);
}

// The row loop of row_kernel.inc, compiled for the portable baseline and, on
// x86-64, for AVX2+FMA; the CPU is asked once which one to use.  The default
// build therefore runs on any x86-64 and builds on arm64.
#include <atomic>
#include <cstddef>
#include <cstring>

#include "engine/cpu.hpp"
#include "engine/schedules.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define CONVKIT_HAVE_AVX2_PATH 1
#include <immintrin.h>
#else
#define CONVKIT_HAVE_AVX2_PATH 0
#endif

namespace convkit::detail {

namespace base_impl {
#define CONVKIT_VEC_BYTES 16
#define CONVKIT_FMA(a, b, c) ((a) * (b) + (c))
#include "row_kernel.inc"
#undef CONVKIT_FMA
#undef CONVKIT_VEC_BYTES

void row_taps_f(float* out, int n, const float* base, const std::ptrdiff_t* offs, const float* w,
                int ntaps) {
  row_taps_impl<float>(out, n, base, offs, w, ntaps);
}
void row_taps_d(double* out, int n, const double* base, const std::ptrdiff_t* offs, const double* w,
                int ntaps) {
  row_taps_impl<double>(out, n, base, offs, w, ntaps);
}
void block_rows_f(float* out, std::ptrdiff_t os, int n, const float* base, std::ptrdiff_t rs,
                  const std::ptrdiff_t* xoffs, const float* w, int kh, int kw) {
  block_rows_impl<float>(out, os, n, base, rs, xoffs, w, kh, kw);
}
void block_rows_d(double* out, std::ptrdiff_t os, int n, const double* base, std::ptrdiff_t rs,
                  const std::ptrdiff_t* xoffs, const double* w, int kh, int kw) {
  block_rows_impl<double>(out, os, n, base, rs, xoffs, w, kh, kw);
}
}  // namespace base_impl

#if CONVKIT_HAVE_AVX2_PATH
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace avx2_impl {
typedef float v8f __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
inline v8f fmadd(v8f a, v8f b, v8f c) {
  return (v8f)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
}
inline v4d fmadd(v4d a, v4d b, v4d c) {
  return (v4d)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
}
#define CONVKIT_VEC_BYTES 32
#define CONVKIT_FMA(a, b, c) fmadd((a), (b), (c))
#include "row_kernel.inc"
#undef CONVKIT_FMA
#undef CONVKIT_VEC_BYTES

void row_taps_f(float* out, int n, const float* base, const std::ptrdiff_t* offs, const float* w,
                int ntaps) {
  row_taps_impl<float>(out, n, base, offs, w, ntaps);
}
void row_taps_d(double* out, int n, const double* base, const std::ptrdiff_t* offs, const double* w,
                int ntaps) {
  row_taps_impl<double>(out, n, base, offs, w, ntaps);
}
void block_rows_f(float* out, std::ptrdiff_t os, int n, const float* base, std::ptrdiff_t rs,
                  const std::ptrdiff_t* xoffs, const float* w, int kh, int kw) {
  block_rows_impl<float>(out, os, n, base, rs, xoffs, w, kh, kw);
}
void block_rows_d(double* out, std::ptrdiff_t os, int n, const double* base, std::ptrdiff_t rs,
                  const std::ptrdiff_t* xoffs, const double* w, int kh, int kw) {
  block_rows_impl<double>(out, os, n, base, rs, xoffs, w, kh, kw);
}
}  // namespace avx2_impl
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace {

bool cpu_has_avx2() {
#if CONVKIT_HAVE_AVX2_PATH
  return cpu_features().avx2 && cpu_features().fma;
#else
  return false;
#endif
}

// -1: automatic (best available); otherwise a pinned Simd value.
std::atomic<int> g_forced{-1};

bool use_avx2() {
  int f = g_forced.load(std::memory_order_relaxed);
  if (f == static_cast<int>(Simd::baseline)) return false;
  return cpu_has_avx2();
}

}  // namespace

bool simd_available(Simd s) {
  return s == Simd::baseline || cpu_has_avx2();
}

Simd simd_level() {
  return use_avx2() ? Simd::avx2 : Simd::baseline;
}

void force_simd(Simd s, bool automatic) {
  g_forced.store(automatic ? -1 : static_cast<int>(s), std::memory_order_relaxed);
}

void row_taps(float* out, int n, const float* base, const std::ptrdiff_t* offs, const float* w,
              int ntaps) {
#if CONVKIT_HAVE_AVX2_PATH
  if (use_avx2()) return avx2_impl::row_taps_f(out, n, base, offs, w, ntaps);
#endif
  base_impl::row_taps_f(out, n, base, offs, w, ntaps);
}

void row_taps(double* out, int n, const double* base, const std::ptrdiff_t* offs, const double* w,
              int ntaps) {
#if CONVKIT_HAVE_AVX2_PATH
  if (use_avx2()) return avx2_impl::row_taps_d(out, n, base, offs, w, ntaps);
#endif
  base_impl::row_taps_d(out, n, base, offs, w, ntaps);
}

void block_rows(float* out, std::ptrdiff_t out_stride, int n, const float* base,
                std::ptrdiff_t row_step, const std::ptrdiff_t* xoffs, const float* w, int kh,
                int kw) {
#if CONVKIT_HAVE_AVX2_PATH
  if (use_avx2())
    return avx2_impl::block_rows_f(out, out_stride, n, base, row_step, xoffs, w, kh, kw);
#endif
  base_impl::block_rows_f(out, out_stride, n, base, row_step, xoffs, w, kh, kw);
}

void block_rows(double* out, std::ptrdiff_t out_stride, int n, const double* base,
                std::ptrdiff_t row_step, const std::ptrdiff_t* xoffs, const double* w, int kh,
                int kw) {
#if CONVKIT_HAVE_AVX2_PATH
  if (use_avx2())
    return avx2_impl::block_rows_d(out, out_stride, n, base, row_step, xoffs, w, kh, kw);
#endif
  base_impl::block_rows_d(out, out_stride, n, base, row_step, xoffs, w, kh, kw);
}

}  // namespace convkit::detail

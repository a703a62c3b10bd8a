// Single- and double-precision GEMM for the NN schedules (engine_nn.hpp).
//
// OpenBLAS's run-time CPU detection can fall back to its generic SSE3
// ("Prescott") kernels on virtual machines that hide the CPU model, which is
// ten times slower than the hardware allows.  So for float the engine has its
// own register-blocked kernels and uses the BLAS only on CPUs without AVX2:
//
//   avx512  C tiles of up to 12 rows x 32 columns in 24 ZMM registers.  A is
//           packed per 12-row block (K x 12, so the broadcasts walk one
//           stream), B per 32-column panel (K x 32, zero-padded); narrow
//           edges are stored through masks.  Either operand may be
//           transposed: the packing reads it in place.
//   avx2    C tiles of 6 rows x 16 columns in 12 YMM registers; B packed per
//           16-column panel, transposed operands copied first.
//
// Both accumulate every C entry as one FMA chain over k in increasing order,
// so they give bit-identical results; the BLAS may not.
//
//   bf16    (MatmulPrecision::bf16, with AVX512_BF16) the avx512 tiles and
//           packing over words that hold two bfloat16, multiplied by
//           vdpbf16ps; see its section below.
#if defined(__x86_64__) || defined(__i386__)
#define CONVKIT_HAVE_X86_GEMM 1
#include <immintrin.h>
#endif

#include <dlfcn.h>

#include <cblas.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "convkit/engine_nn.hpp"
#include "convkit/error.hpp"
#include "engine/cpu.hpp"
#include "engine/gemm_kernel.hpp"

namespace convkit {

namespace {

// OpenBLAS would start its own threads inside every call and fight
// parallel_for for the cores.  Ask it (if it is OpenBLAS at all: the symbol
// is looked up at run time, so any CBLAS works) to stay single-threaded.
void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] {
    using SetThreads = void (*)(int);
    if (void* sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
      SetThreads set = nullptr;
      static_assert(sizeof(set) == sizeof(sym));
      std::memcpy(&set, &sym, sizeof(set));
      set(1);
    }
  });
}

// Per-thread packing buffers only grow: resizing one down and up again
// between calls of different shapes would zero-fill it every time.
void grow(std::vector<float>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

CBLAS_TRANSPOSE tr(bool t) {
  return t ? CblasTrans : CblasNoTrans;
}

void blas_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                const float* B, int ldb, float beta, float* C, int ldc) {
  blas_single_threaded();
  cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#ifdef CONVKIT_HAVE_X86_GEMM

// ---- AVX2: 6 x 16 tiles ------------------------------------------------------

template <int R>
__attribute__((target("avx2,fma"))) inline void tile_rx16(int K, const float* A, int lda,
                                                          const float* B, int ldb, float* C,
                                                          int ldc, bool accumulate) {
  __m256 c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_loadu_ps(B + static_cast<std::ptrdiff_t>(k) * ldb);
    const __m256 b1 = _mm256_loadu_ps(B + static_cast<std::ptrdiff_t>(k) * ldb + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + static_cast<std::ptrdiff_t>(r) * lda + k);
      c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float* cr = C + static_cast<std::ptrdiff_t>(r) * ldc;
    if (accumulate) {
      c0[r] = _mm256_add_ps(_mm256_loadu_ps(cr), c0[r]);
      c1[r] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c1[r]);
    }
    _mm256_storeu_ps(cr, c0[r]);
    _mm256_storeu_ps(cr + 8, c1[r]);
  }
}

__attribute__((target("avx2,fma"))) void tile6(int rows, int K, const float* A, int lda,
                                               const float* B, int ldb, float* C, int ldc,
                                               bool accumulate) {
  switch (rows) {
    case 6:
      return tile_rx16<6>(K, A, lda, B, ldb, C, ldc, accumulate);
    case 5:
      return tile_rx16<5>(K, A, lda, B, ldb, C, ldc, accumulate);
    case 4:
      return tile_rx16<4>(K, A, lda, B, ldb, C, ldc, accumulate);
    case 3:
      return tile_rx16<3>(K, A, lda, B, ldb, C, ldc, accumulate);
    case 2:
      return tile_rx16<2>(K, A, lda, B, ldb, C, ldc, accumulate);
    default:
      return tile_rx16<1>(K, A, lda, B, ldb, C, ldc, accumulate);
  }
}

// C (M x N) = A (M x K) * B (K x N) [+ C], all row-major.
__attribute__((target("avx2,fma"))) void sgemm_nn_avx2(int M, int N, int K, const float* A, int lda,
                                                       const float* B, int ldb, float* C, int ldc,
                                                       bool accumulate) {
  thread_local std::vector<float> bpad;
  float ctile[6 * 16];
  for (int j = 0; j < N; j += 16) {
    const int w = std::min(16, N - j);
    // Pack the panel (K x 16, zero-padded when narrow) into one contiguous
    // stream: it is read once per 6-row tile.
    grow(bpad, static_cast<std::size_t>(K) * 16);
    for (int k = 0; k < K; ++k) {
      float* dst = bpad.data() + static_cast<std::size_t>(k) * 16;
      std::memcpy(dst, B + static_cast<std::ptrdiff_t>(k) * ldb + j, sizeof(float) * w);
      if (w < 16) std::fill(dst + w, dst + 16, 0.0f);
    }
    const float* Bp = bpad.data();
    for (int i = 0; i < M; i += 6) {
      const int h = std::min(6, M - i);
      const float* Ai = A + static_cast<std::ptrdiff_t>(i) * lda;
      float* Cij = C + static_cast<std::ptrdiff_t>(i) * ldc + j;
      if (w == 16) {
        tile6(h, K, Ai, lda, Bp, 16, Cij, ldc, accumulate);
      } else {
        tile6(h, K, Ai, lda, Bp, 16, ctile, 16, false);
        for (int r = 0; r < h; ++r)
          for (int c = 0; c < w; ++c) {
            float& dst = Cij[static_cast<std::ptrdiff_t>(r) * ldc + c];
            dst = (accumulate ? dst : 0.0f) + ctile[r * 16 + c];
          }
      }
    }
  }
}

// rows x cols (row stride ld) -> cols x rows, contiguous.
void transpose_into(const float* src, int rows, int cols, int ld, std::vector<float>& dst) {
  grow(dst, static_cast<std::size_t>(rows) * cols);
  constexpr int kB = 32;
  for (int r0 = 0; r0 < rows; r0 += kB)
    for (int c0 = 0; c0 < cols; c0 += kB)
      for (int r = r0; r < std::min(rows, r0 + kB); ++r)
        for (int c = c0; c < std::min(cols, c0 + kB); ++c)
          dst[static_cast<std::size_t>(c) * rows + r] =
              src[static_cast<std::ptrdiff_t>(r) * ld + c];
}

void avx2_sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B,
                int ldb, float* C, int ldc, bool accumulate) {
  thread_local std::vector<float> at, bt;
  if (ta) {  // A is stored K x M
    transpose_into(A, K, M, lda, at);
    A = at.data();
    lda = K;
  }
  if (tb) {  // B is stored N x K
    transpose_into(B, N, K, ldb, bt);
    B = bt.data();
    ldb = N;
  }
  sgemm_nn_avx2(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

// ---- AVX-512: 12 x 32 tiles --------------------------------------------------

constexpr int kRows512 = 12;
constexpr int kCols512 = 32;

// Rows [0, R) of a finished tile (two 16-lane halves per row) into C, added
// to what C holds when accumulating; the lanes outside m0/m1 are not touched.
template <int R>
__attribute__((target("avx512f"))) inline void store_tile(__m512* c0, __m512* c1, float* C, int ldc,
                                                          __mmask16 m0, __mmask16 m1,
                                                          bool accumulate) {
  for (int r = 0; r < R; ++r) {
    float* cr = C + static_cast<std::ptrdiff_t>(r) * ldc;
    if (accumulate) {
      c0[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), c0[r]);
      c1[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), c1[r]);
    }
    _mm512_mask_storeu_ps(cr, m0, c0[r]);
    _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
  }
}

// C rows [0, R) x columns [0, 32) (masked by m0/m1) from packed A (K x R)
// and packed B (K x 32).
template <int R>
__attribute__((target("avx512f"))) inline void tile_rx32(int K, const float* Ap, const float* Bp,
                                                         float* C, int ldc, __mmask16 m0,
                                                         __mmask16 m1, bool accumulate) {
  __m512 c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_loadu_ps(Bp);
    const __m512 b1 = _mm512_loadu_ps(Bp + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(Ap[r]);
      c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
    Ap += R;
    Bp += kCols512;
  }
  store_tile<R>(c0, c1, C, ldc, m0, m1, accumulate);
}

template <int R>
struct Fp32Tile {
  __attribute__((target("avx512f"))) static void run(int K, const float* Ap, const float* Bp,
                                                     float* C, int ldc, __mmask16 m0, __mmask16 m1,
                                                     bool accumulate) {
    tile_rx32<R>(K, Ap, Bp, C, ldc, m0, m1, accumulate);
  }
};

// The lanes of columns [0, w) in the two 16-lane halves of a 32-column panel.
struct PanelMasks {
  __mmask16 lo, hi;
};
inline PanelMasks panel_masks(int w) {
  const auto lanes = [](int n) {
    return static_cast<__mmask16>(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1);
  };
  return {lanes(w), lanes(w - 16)};
}

// K rows of w <= 32 floats (row stride ld) -> K x 32, zero-padded.
__attribute__((target("avx512f"))) void copy_panel(const float* src, int ld, int K, int w,
                                                   float* dst) {
  const auto [m0, m1] = panel_masks(w);
  for (int k = 0; k < K; ++k, src += ld, dst += kCols512) {
    _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(m0, src));
    _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(m1, src + 16));
  }
}

// K rows of h <= 16 floats (row stride ld) -> K x h, contiguous.
__attribute__((target("avx512f"))) void copy_rows(const float* src, int ld, int K, int h,
                                                  float* dst) {
  const __mmask16 m = panel_masks(h).lo;
  for (int k = 0; k < K; ++k, src += ld, dst += h)
    _mm512_mask_storeu_ps(dst, m, _mm512_maskz_loadu_ps(m, src));
}

// Columns k..k+15 of `count` <= 16 rows (the rest read as zero) -> column
// t at dst + t * stride, the lanes of `keep` stored: a 16 x 16 register
// transpose, four rounds of 16 shuffles.
__attribute__((target("avx512f"))) void transpose16(const float* const* rows, int count, int k,
                                                    float* dst, int stride, __mmask16 keep) {
  // Zero-masking forms throughout: GCC 12's plain AVX-512 shuffles start from
  // _mm512_undefined_ps(), which -Wuninitialized flags in its own header.
  constexpr __mmask16 all = 0xFFFF;
  constexpr __mmask8 all8 = 0xFF;
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = i < count ? _mm512_loadu_ps(rows[i] + k) : _mm512_setzero_ps();
  // Within each 128-bit lane L, afterwards r[4q + s] holds element 4L + s
  // of rows 4q .. 4q+3.
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_ps(all, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_ps(all, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, b, d));
  }
  // Column 4L + s = lane L of r[s], r[4 + s], r[8 + s], r[12 + s].
  for (int s = 0; s < 4; ++s) {
    const __m512 u0 = _mm512_maskz_shuffle_f32x4(all, r[s], r[4 + s], 0x44);
    const __m512 u1 = _mm512_maskz_shuffle_f32x4(all, r[s], r[4 + s], 0xEE);
    const __m512 u2 = _mm512_maskz_shuffle_f32x4(all, r[8 + s], r[12 + s], 0x44);
    const __m512 u3 = _mm512_maskz_shuffle_f32x4(all, r[8 + s], r[12 + s], 0xEE);
    _mm512_mask_storeu_ps(dst + (0 + s) * stride, keep,
                          _mm512_maskz_shuffle_f32x4(all, u0, u2, 0x88));
    _mm512_mask_storeu_ps(dst + (4 + s) * stride, keep,
                          _mm512_maskz_shuffle_f32x4(all, u0, u2, 0xDD));
    _mm512_mask_storeu_ps(dst + (8 + s) * stride, keep,
                          _mm512_maskz_shuffle_f32x4(all, u1, u3, 0x88));
    _mm512_mask_storeu_ps(dst + (12 + s) * stride, keep,
                          _mm512_maskz_shuffle_f32x4(all, u1, u3, 0xDD));
  }
}

using Tile512 = void (*)(int, const float*, const float*, float*, int, __mmask16, __mmask16, bool);

// The tiles Tile<1>::run .. Tile<12>::run, indexed by block height - 1.
template <template <int> class Tile, std::size_t... I>
constexpr auto tile_table(std::index_sequence<I...>) {
  return std::array<Tile512, sizeof...(I)>{&Tile<static_cast<int>(I) + 1>::run...};
}

// Packs op(A) and the panels of op(B) and runs `tiles` (one per block height)
// over them.  The packing only moves 32-bit words, so it serves the bf16
// kernels too, whose words are pairs of bfloat16 (K then counts the pairs).
void avx512_packed(const std::array<Tile512, kRows512>& tiles, bool ta, bool tb, int M, int N,
                   int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                   bool accumulate) {
  thread_local std::vector<float> apack, bpack;
  // All of op(A), as consecutive K x h blocks of h <= 12 rows.
  grow(apack, static_cast<std::size_t>(M) * K);
  for (int i = 0; i < M; i += kRows512) {
    const int h = std::min(kRows512, M - i);
    float* dst = apack.data() + static_cast<std::size_t>(i) * K;
    if (ta) {
      copy_rows(A + i, lda, K, h, dst);
    } else {
      // Transpose 12-row blocks k-major; row pointers in registers, writes
      // contiguous.
      const float* rows[kRows512];
      for (int r = 0; r < h; ++r) rows[r] = A + static_cast<std::ptrdiff_t>(i + r) * lda;
      if (h == kRows512) {
        int k = 0;
        for (; k + 16 <= K; k += 16, dst += 16 * kRows512)
          transpose16(rows, kRows512, k, dst, kRows512, 0x0FFF);
        for (; k < K; ++k, dst += kRows512)
          for (int r = 0; r < kRows512; ++r) dst[r] = rows[r][k];
      } else {
        for (int k = 0; k < K; ++k, dst += h)
          for (int r = 0; r < h; ++r) dst[r] = rows[r][k];
      }
    }
  }
  grow(bpack, static_cast<std::size_t>(K) * kCols512);
  for (int j = 0; j < N; j += kCols512) {
    const int w = std::min(kCols512, N - j);
    float* bp = bpack.data();
    if (tb) {
      // Rows j.. of the stored N x K matrix become the panel's columns, 16
      // at a time; missing rows (w < 32) come out as zero columns.
      const float* rows[kCols512];
      for (int c = 0; c < w; ++c) rows[c] = B + static_cast<std::ptrdiff_t>(j + c) * ldb;
      for (int c0 = 0; c0 < kCols512; c0 += 16) {
        const int count = std::clamp(w - c0, 0, 16);
        int k = 0;
        for (; k + 16 <= K; k += 16)
          transpose16(rows + c0, count, k, bp + static_cast<std::size_t>(k) * kCols512 + c0,
                      kCols512, 0xFFFF);
        for (; k < K; ++k)
          for (int c = 0; c < 16; ++c)
            bp[static_cast<std::size_t>(k) * kCols512 + c0 + c] =
                c < count ? rows[c0 + c][k] : 0.0f;
      }
    } else {
      copy_panel(B + j, ldb, K, w, bp);
    }
    const auto [m0, m1] = panel_masks(w);
    for (int i = 0; i < M; i += kRows512) {
      const int h = std::min(kRows512, M - i);
      tiles[static_cast<std::size_t>(h - 1)](K, apack.data() + static_cast<std::size_t>(i) * K, bp,
                                             C + static_cast<std::ptrdiff_t>(i) * ldc + j, ldc, m0,
                                             m1, accumulate);
    }
  }
}

void avx512_sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B,
                  int ldb, float* C, int ldc, bool accumulate) {
  static constexpr auto tiles = tile_table<Fp32Tile>(std::make_index_sequence<kRows512>{});
  avx512_packed(tiles, ta, tb, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

// ---- AVX-512 BF16: 12 x 32 tiles over pairs of k -----------------------------
//
// vdpbf16ps takes 32-bit lanes that each hold two bfloat16 numbers and adds
// both products to a float lane: c += a[2p] b[2p] + a[2p+1] b[2p+1].  A
// product of two bfloat16 numbers (8 significant bits each) is exact in
// float, so the only roundings are the operands' (to nearest even, by
// vcvtne2ps2bf16) and the float additions, in a fixed order: increasing p.
// Both operands are first turned into matrices of such pairs along k
// (Kp = ceil(K/2) words per row or column, a zero pads an odd K), in the
// orientation they are stored in; then avx512_packed packs and multiplies
// them as it does floats.

#define CONVKIT_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

// Reinterpretations (vector casts: no instruction).
CONVKIT_BF16_TARGET inline __m512bh as_bf16(__m512 v) {
  return (__m512bh)v;
}
CONVKIT_BF16_TARGET inline __m512 as_float(__m512bh v) {
  return (__m512)v;
}

template <int R>
CONVKIT_BF16_TARGET inline void tile_rx32_bf16(int Kp, const float* Ap, const float* Bp, float* C,
                                               int ldc, __mmask16 m0, __mmask16 m1,
                                               bool accumulate) {
  __m512 c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int p = 0; p < Kp; ++p) {
    const auto b0 = as_bf16(_mm512_loadu_ps(Bp));
    const auto b1 = as_bf16(_mm512_loadu_ps(Bp + 16));
    for (int r = 0; r < R; ++r) {
      const auto a = as_bf16(_mm512_set1_ps(Ap[r]));
      c0[r] = _mm512_dpbf16_ps(c0[r], a, b0);
      c1[r] = _mm512_dpbf16_ps(c1[r], a, b1);
    }
    Ap += R;
    Bp += kCols512;
  }
  store_tile<R>(c0, c1, C, ldc, m0, m1, accumulate);
}

template <int R>
struct Bf16Tile {
  CONVKIT_BF16_TARGET static void run(int Kp, const float* Ap, const float* Bp, float* C, int ldc,
                                      __mmask16 m0, __mmask16 m1, bool accumulate) {
    tile_rx32_bf16<R>(Kp, Ap, Bp, C, ldc, m0, m1, accumulate);
  }
};

// Pairs across two rows: word j = (bf16(r0[j]), bf16(r1[j])) for j < w <= 16,
// r1 == nullptr reads as zeros.
CONVKIT_BF16_TARGET void pair_rows(const float* r0, const float* r1, int w, float* dst) {
  // Word 2j of the result takes bfloat16 j (from r0), word 2j+1 takes 16 + j (from r1).
  alignas(64) static constexpr std::array<short, 32> order = [] {
    std::array<short, 32> o{};
    for (int j = 0; j < 16; ++j) {
      o[static_cast<std::size_t>(2 * j)] = static_cast<short>(j);
      o[static_cast<std::size_t>(2 * j + 1)] = static_cast<short>(16 + j);
    }
    return o;
  }();
  const __mmask16 m = panel_masks(w).lo;
  const __m512 lo = _mm512_maskz_loadu_ps(m, r0);
  const __m512 hi = r1 ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
  const auto both = _mm512_castps_si512(as_float(_mm512_cvtne2ps_pbh(hi, lo)));
  const __m512i pairs = _mm512_permutexvar_epi16(_mm512_load_si512(order.data()), both);
  _mm512_mask_storeu_ps(dst, m, _mm512_castsi512_ps(pairs));
}

// Pairs along one row of K floats: word p = (bf16(src[2p]), bf16(src[2p+1])),
// Kp = ceil(K/2) words.
CONVKIT_BF16_TARGET void pair_along(const float* src, int K, float* dst) {
  for (int k = 0; k < K; k += 32) {
    const int n = std::min(32, K - k);
    const auto [m0, m1] = panel_masks(n);
    const __m512 lo = _mm512_maskz_loadu_ps(m0, src + k);
    const __m512 hi = _mm512_maskz_loadu_ps(m1, src + k + 16);
    // Rounded in order, the 32 bfloat16 are the 16 pairs.
    const __mmask16 out = panel_masks((n + 1) / 2).lo;
    _mm512_mask_storeu_ps(dst + k / 2, out, as_float(_mm512_cvtne2ps_pbh(hi, lo)));
  }
}

// The stored `rows` x `cols` matrix (row stride ld) as pairs along k: along
// its rows (k runs along a row: rows x ceil(cols/2)) or down its columns (k
// runs down a column: ceil(rows/2) x cols).  Returns the new row stride.
int pair_matrix(const float* src, int rows, int cols, int ld, bool k_along_rows,
                std::vector<float>& dst) {
  if (k_along_rows) {
    const int kp = (cols + 1) / 2;
    grow(dst, static_cast<std::size_t>(rows) * kp);
    for (int r = 0; r < rows; ++r)
      pair_along(src + static_cast<std::ptrdiff_t>(r) * ld, cols,
                 dst.data() + static_cast<std::size_t>(r) * kp);
    return kp;
  }
  const int kp = (rows + 1) / 2;
  grow(dst, static_cast<std::size_t>(kp) * cols);
  for (int p = 0; p < kp; ++p) {
    const float* r0 = src + static_cast<std::ptrdiff_t>(2 * p) * ld;
    const float* r1 = 2 * p + 1 < rows ? r0 + ld : nullptr;
    float* d = dst.data() + static_cast<std::size_t>(p) * cols;
    for (int c = 0; c < cols; c += 16)
      pair_rows(r0 + c, r1 ? r1 + c : nullptr, std::min(16, cols - c), d + c);
  }
  return cols;
}

void avx512_bf16_gemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda,
                      const float* B, int ldb, float* C, int ldc, bool accumulate) {
  static constexpr auto tiles = tile_table<Bf16Tile>(std::make_index_sequence<kRows512>{});
  thread_local std::vector<float> apairs, bpairs;
  // op(A) = A (M x K, k along rows) or A^T (stored K x M, k down columns);
  // op(B) = B (K x N, k down columns) or B^T (stored N x K, k along rows).
  const int la =
      ta ? pair_matrix(A, K, M, lda, false, apairs) : pair_matrix(A, M, K, lda, true, apairs);
  const int lb =
      tb ? pair_matrix(B, N, K, ldb, true, bpairs) : pair_matrix(B, K, N, ldb, false, bpairs);
  avx512_packed(tiles, ta, tb, M, N, (K + 1) / 2, apairs.data(), la, bpairs.data(), lb, C, ldc,
                accumulate);
}

bool cpu_has(GemmKernel k) {
  const detail::CpuFeatures& cpu = detail::cpu_features();
  const bool avx2 = cpu.avx2 && cpu.fma, avx512 = cpu.avx512f;
  switch (k) {
    case GemmKernel::blas:
      return true;
    case GemmKernel::avx2:
      return avx2;
    case GemmKernel::avx512:
      return avx512;
  }
  return false;
}

bool cpu_has_bf16() {
  return detail::cpu_features().avx512bf16;
}

#else

bool cpu_has(GemmKernel k) {
  return k == GemmKernel::blas;
}

bool cpu_has_bf16() {
  return false;
}

#endif

// -1: automatic (best available); otherwise a pinned GemmKernel.
std::atomic<int> g_forced_gemm{-1};
// The MatmulPrecision gemm<float> computes in.
std::atomic<int> g_precision{static_cast<int>(MatmulPrecision::fp32)};

}  // namespace

bool matmul_precision_available(MatmulPrecision p) {
  if (p == MatmulPrecision::fp32) return true;
  // Read on every call (not on the GEMM's path), so a test may set it.
  const char* off = std::getenv("CONVKIT_DISABLE_BF16");
  if (off && *off && std::string_view(off) != "0") return false;
  return cpu_has_bf16();
}

void set_matmul_precision(MatmulPrecision p) {
  if (!matmul_precision_available(p))
    throw UsageError(
        "bf16 matrix products need a CPU with the AVX512_BF16 instructions (vdpbf16ps), "
        "which this one does not have");
  g_precision.store(static_cast<int>(p), std::memory_order_relaxed);
}

MatmulPrecision matmul_precision() {
  return static_cast<MatmulPrecision>(g_precision.load(std::memory_order_relaxed));
}

MatmulPrecision parse_matmul_precision(const std::string& name, const std::string& what) {
  if (name == "fp32") return MatmulPrecision::fp32;
  if (name == "bf16") return MatmulPrecision::bf16;
  throw UsageError(what + ": unknown precision '" + name + "' (use fp32 or bf16)");
}

const char* precision_name(MatmulPrecision p) {
  return p == MatmulPrecision::bf16 ? "bf16" : "fp32";
}

bool gemm_kernel_available(GemmKernel k) {
  return cpu_has(k);
}

GemmKernel gemm_kernel() {
  const int f = g_forced_gemm.load(std::memory_order_relaxed);
  if (f >= 0 && cpu_has(static_cast<GemmKernel>(f))) return static_cast<GemmKernel>(f);
  if (cpu_has(GemmKernel::avx512)) return GemmKernel::avx512;
  if (cpu_has(GemmKernel::avx2)) return GemmKernel::avx2;
  return GemmKernel::blas;
}

void force_gemm_kernel(GemmKernel k, bool automatic) {
  g_forced_gemm.store(automatic ? -1 : static_cast<int>(k), std::memory_order_relaxed);
}

template <>
void gemm<float>(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  const GemmKernel kernel = gemm_kernel();
  const bool bf16 = matmul_precision() == MatmulPrecision::bf16;
  if ((kernel == GemmKernel::blas && !bf16) || alpha != 1.0f || (beta != 0.0f && beta != 1.0f) ||
      M <= 0 || N <= 0) {
    blas_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (K <= 0) {
    if (beta == 0.0f)
      for (int i = 0; i < M; ++i)
        std::fill(C + static_cast<std::ptrdiff_t>(i) * ldc,
                  C + static_cast<std::ptrdiff_t>(i) * ldc + N, 0.0f);
    return;
  }
#ifdef CONVKIT_HAVE_X86_GEMM
  if (bf16)
    avx512_bf16_gemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta == 1.0f);
  else if (kernel == GemmKernel::avx512)
    avx512_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta == 1.0f);
  else
    avx2_sgemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, beta == 1.0f);
#endif
}

template <>
void gemm<double>(bool ta, bool tb, int M, int N, int K, double alpha, const double* A, int lda,
                  const double* B, int ldb, double beta, double* C, int ldc) {
  blas_single_threaded();
  cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace convkit

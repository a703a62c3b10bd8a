// conv2d_pixels (convkit/pixels.hpp): the direct and separable schedules of
// conv2d.cpp on interleaved 8/16-bit pixels, converted to float a band of
// rows at a time.  Per sample the float operations are those of conv2d.cpp
// (row_taps / block_rows with the same taps in the same order), so results
// are bit-identical to the float path and independent of the thread count
// and of the strips and bands the image is cut into.
#include "convkit/pixels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace convkit {
namespace detail {

namespace {

// ---- row conversions, compiled for the baseline and for AVX2 -------------

template <class In>
inline __attribute__((always_inline)) void widen_body(const In* __restrict s, float* __restrict d,
                                                      std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}

// v rounded half up (floor(v + 0.5) in exact arithmetic, as write_image
// rounds: v - floor(v) is exact in float) and clamped to Out's range.
template <class Out>
inline __attribute__((always_inline)) void narrow_body(const float* __restrict s, Out* __restrict d,
                                                       std::ptrdiff_t n) {
  constexpr float lo = static_cast<float>(std::numeric_limits<Out>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<Out>::max());
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const float v = s[i];
    float f = std::floor(v);
    f += (v - f >= 0.5f) ? 1.0f : 0.0f;
    f = f > lo ? f : lo;  // NaN -> lo
    f = f < hi ? f : hi;
    d[i] = static_cast<Out>(static_cast<int>(f));
  }
}

template <class In>
void widen_base(const In* s, float* d, std::ptrdiff_t n) {
  widen_body(s, d, n);
}
template <class Out>
void narrow_base(const float* s, Out* d, std::ptrdiff_t n) {
  narrow_body(s, d, n);
}

#if defined(__x86_64__) || defined(__i386__)
#define CONVKIT_PIXELS_AVX2 1
template <class In>
__attribute__((target("avx2,fma"))) void widen_avx2(const In* s, float* d, std::ptrdiff_t n) {
  std::ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v;
    if constexpr (sizeof(In) == 1)
      v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + i)));
    else
      v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
    _mm256_storeu_ps(d + i, _mm256_cvtepi32_ps(v));
  }
  widen_body(s + i, d + i, n - i);
}

// narrow_body on 8 floats: the rounded, clamped values as int32.
__attribute__((target("avx2,fma"))) inline __m256i round_clamp8(const float* s, __m256 lo,
                                                                __m256 hi) {
  const __m256 v = _mm256_loadu_ps(s);
  __m256 f = _mm256_floor_ps(v);
  const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(v, f), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  f = _mm256_add_ps(f, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
  f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);  // max(NaN, lo) is lo
  return _mm256_cvttps_epi32(f);
}

template <class Out>
__attribute__((target("avx2,fma"))) void narrow_avx2(const float* s, Out* d, std::ptrdiff_t n) {
  const __m256 lo = _mm256_set1_ps(static_cast<float>(std::numeric_limits<Out>::min()));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(std::numeric_limits<Out>::max()));
  std::ptrdiff_t i = 0;
  if constexpr (sizeof(Out) == 1) {
    for (; i + 32 <= n; i += 32) {
      const __m256i a = round_clamp8(s + i, lo, hi), b = round_clamp8(s + i + 8, lo, hi);
      const __m256i c = round_clamp8(s + i + 16, lo, hi), e = round_clamp8(s + i + 24, lo, hi);
      // packs work within 128-bit lanes: put the 32-bit groups back in order.
      const __m256i p = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(d + i),
          _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const __m256i a = round_clamp8(s + i, lo, hi), b = round_clamp8(s + i + 8, lo, hi);
      const __m256i p =
          std::is_signed_v<Out> ? _mm256_packs_epi32(a, b) : _mm256_packus_epi32(a, b);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_permute4x64_epi64(p, 0xD8));
    }
  }
  narrow_body(s + i, d + i, n - i);
}
#else
#define CONVKIT_PIXELS_AVX2 0
#endif

template <class In>
void widen(const In* s, float* d, std::ptrdiff_t n) {
#if CONVKIT_PIXELS_AVX2
  if (simd_level() == Simd::avx2) return widen_avx2(s, d, n);
#endif
  widen_base(s, d, n);
}

template <class Out>
void narrow(const float* s, Out* d, std::ptrdiff_t n) {
  if constexpr (std::is_same_v<Out, float>) {
    std::memcpy(d, s, sizeof(float) * static_cast<std::size_t>(n));
  } else {
#if CONVKIT_PIXELS_AVX2
    if (simd_level() == Simd::avx2) return narrow_avx2(s, d, n);
#endif
    narrow_base(s, d, n);
  }
}

// ---- extended rows -------------------------------------------------------

// Builds float rows of the input extended by the border rule: pixel columns
// [x0 - rx, x1 + rx) of extended row r (row r - ry of the input).
template <class In>
class RowMaker {
 public:
  RowMaker(Pixels<const In> in, const BorderRule& border, int ry, int rx)
      : in_(in), border_(border), value_(static_cast<float>(border.value)), ry_(ry), rx_(rx) {}

  void fill(std::ptrdiff_t r, int x0, int x1, float* dst) const {
    const int c = in_.channels, w = in_.cols;
    const long long e0 = static_cast<long long>(x0) - rx_, e1 = static_cast<long long>(x1) + rx_;
    const int sr = border_index(r - ry_, in_.rows, border_.rows);
    if (sr < 0) {  // a row outside under a zero border: all the border value
      std::fill(dst, dst + (e1 - e0) * c, value_);
      return;
    }
    const In* src = in_.data + static_cast<std::ptrdiff_t>(sr) * in_.stride;
    const long long a = std::max<long long>(e0, 0), b = std::min<long long>(e1, w);
    auto pixel = [&](long long e) {
      float* d = dst + (e - e0) * c;
      const int ci = border_index(e, w, border_.cols);
      for (int k = 0; k < c; ++k) d[k] = ci < 0 ? value_ : static_cast<float>(src[ci * c + k]);
    };
    for (long long e = e0; e < a; ++e) pixel(e);
    widen(src + a * c, dst + (a - e0) * c, (b - a) * c);
    for (long long e = b; e < e1; ++e) pixel(e);
  }

 private:
  Pixels<const In> in_;
  BorderRule border_;
  float value_;  // samples outside under a zero border
  int ry_, rx_;
};

// Per-thread float buffers, kept between calls (allocating and zeroing
// fresh pages each call costs more than a small filter).  Slot k of the
// calling thread, at least n floats; its contents are left from earlier use.
float* scratch(int slot, std::size_t n) {
  thread_local std::vector<float> bufs[3];
  std::vector<float>& b = bufs[slot];
  if (b.size() < n) {
    b.clear();
    b.resize(n);
  }
  return b.data();
}

// Pixel columns per strip: the buffers of one strip hold about `floats`.
int strip_pixels(int w, int c, std::ptrdiff_t rows, std::ptrdiff_t floats) {
  std::ptrdiff_t sp = std::max<std::ptrdiff_t>(floats / std::max<std::ptrdiff_t>(rows, 1) / c, 64);
  std::ptrdiff_t strips = (w + sp - 1) / sp;
  return static_cast<int>((w + strips - 1) / strips);
}

constexpr std::ptrdiff_t kStripFloats = 96 * 1024;  // 384 KiB of float rows per thread

// Rows per parallel chunk: enough that refilling the KH-1 rows above a chunk
// costs little.
std::ptrdiff_t chunk_rows(int kh, int h) {
  return std::min<std::ptrdiff_t>(h, std::max(16, 8 * kh));
}

template <class Out>
Out* out_row(Pixels<Out> out, std::ptrdiff_t y, int x0) {
  return out.data + y * out.stride + static_cast<std::ptrdiff_t>(x0) * out.channels;
}

// conv2d_separable's stride-1 ring: each extended row filtered horizontally
// once into a ring of KH rows, the vertical pass reading its KH rows there.
template <class In, class Out>
void separable_pixels(Pixels<const In> in, const std::vector<float>& col,
                      const std::vector<float>& row, const BorderRule& border, Pixels<Out> out) {
  const int kh = static_cast<int>(col.size()), kw = static_cast<int>(row.size());
  const int c = in.channels, w = in.cols;
  const RowMaker<In> maker(in, border, (kh - 1) / 2, (kw - 1) / 2);
  const int sp = strip_pixels(w, c, kh + 1, kStripFloats);
  const std::ptrdiff_t lt = round_up(static_cast<std::ptrdiff_t>(sp) * c, kRowSlack);
  std::vector<std::ptrdiff_t> hoffs;
  for (int t = 0; t < kw; ++t) hoffs.push_back(static_cast<std::ptrdiff_t>(t) * c);
  parallel_for(0, in.rows, chunk_rows(kh, in.rows), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    float* ext = scratch(0, static_cast<std::size_t>((sp + kw - 1) * c + kRowSlack));
    float* ring = scratch(1, static_cast<std::size_t>(kh * lt));
    float* tmp = scratch(2, static_cast<std::size_t>(lt));
    std::vector<std::ptrdiff_t> offs(static_cast<std::size_t>(kh));
    for (int x0 = 0; x0 < w; x0 += sp) {
      const int x1 = std::min(w, x0 + sp);
      const int n = (x1 - x0) * c;
      std::ptrdiff_t made = lo;  // extended rows [lo, made) are in the ring
      for (std::ptrdiff_t m = lo; m < hi; ++m) {
        for (; made < m + kh; ++made) {
          maker.fill(made, x0, x1, ext);
          row_taps(ring + (made % kh) * lt, n, ext, hoffs.data(), row.data(), kw);
        }
        for (int t = 0; t < kh; ++t) offs[t] = ((m + t) % kh) * lt;
        Out* o = out_row(out, m, x0);
        if constexpr (std::is_same_v<Out, float>) {
          row_taps(o, n, ring, offs.data(), col.data(), kh);
        } else {
          row_taps(tmp, n, ring, offs.data(), col.data(), kh);
          narrow(tmp, o, n);
        }
      }
    }
  });
}

// conv2d_direct's bands: KH-1+mb extended rows, then block_rows / row_taps.
template <class In, class Out>
void direct_pixels(Pixels<const In> in, const std::vector<float>& w, int kh, int kw,
                   const BorderRule& border, Pixels<Out> out) {
  const int c = in.channels, width = in.cols;
  const RowMaker<In> maker(in, border, (kh - 1) / 2, (kw - 1) / 2);
  const int mb = 16;
  const int sp = strip_pixels(width, c, mb + kh - 1 + kBlockRows, kStripFloats);
  const std::ptrdiff_t rl = static_cast<std::ptrdiff_t>(sp + kw - 1) * c + kRowSlack;
  const std::ptrdiff_t lt = round_up(static_cast<std::ptrdiff_t>(sp) * c, kRowSlack);
  std::vector<std::ptrdiff_t> xoffs, offs;
  for (int kx = 0; kx < kw; ++kx) xoffs.push_back(static_cast<std::ptrdiff_t>(kx) * c);
  for (int ky = 0; ky < kh; ++ky)
    for (int kx = 0; kx < kw; ++kx) offs.push_back(ky * rl + static_cast<std::ptrdiff_t>(kx) * c);
  const int ntaps = kh * kw;
  parallel_for(0, in.rows, chunk_rows(kh, in.rows), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    float* buf = scratch(0, static_cast<std::size_t>((mb + kh - 1) * rl));
    float* tmp = scratch(1, static_cast<std::size_t>(kBlockRows * lt));
    for (int x0 = 0; x0 < width; x0 += sp) {
      const int x1 = std::min(width, x0 + sp);
      const int n = (x1 - x0) * c;
      for (std::ptrdiff_t m0 = lo; m0 < hi; m0 += mb) {
        const std::ptrdiff_t m1 = std::min<std::ptrdiff_t>(hi, m0 + mb);
        for (std::ptrdiff_t ir = 0; ir < m1 - m0 + kh - 1; ++ir)
          maker.fill(m0 + ir, x0, x1, buf + ir * rl);
        std::ptrdiff_t m = m0;
        if (kh > 1)  // share loads between output rows
          for (; m + kBlockRows <= m1; m += kBlockRows) {
            block_rows(tmp, lt, n, buf + (m - m0) * rl, rl, xoffs.data(), w.data(), kh, kw);
            for (int r = 0; r < kBlockRows; ++r) narrow(tmp + r * lt, out_row(out, m + r, x0), n);
          }
        for (; m < m1; ++m) {
          row_taps(tmp, n, buf + (m - m0) * rl, offs.data(), w.data(), ntaps);
          narrow(tmp, out_row(out, m, x0), n);
        }
      }
    }
  });
}

// Any schedule of conv2d() on whole float planes, one channel at a time (the
// FFT: large kernels, where converting the planes costs little).
template <class In, class Out>
void planes_pixels(Pixels<const In> in, View<const float> kernel, const ConvGeometry& g,
                   Pixels<Out> out, Schedule schedule) {
  const std::size_t n = static_cast<std::size_t>(in.rows) * in.cols;
  std::vector<float> a(n), b(n);
  for (int ch = 0; ch < in.channels; ++ch) {
    for (int y = 0; y < in.rows; ++y) {
      const In* s = in.data + y * in.stride + ch;
      float* d = a.data() + static_cast<std::size_t>(y) * in.cols;
      for (int x = 0; x < in.cols; ++x) d[x] = static_cast<float>(s[x * in.channels]);
    }
    conv2d<float>(View<const float>{a.data(), in.rows, in.cols, in.cols}, kernel, g,
                  View<float>{b.data(), in.rows, in.cols, in.cols}, schedule);
    std::vector<Out> row(static_cast<std::size_t>(in.cols));
    for (int y = 0; y < in.rows; ++y) {
      narrow(b.data() + static_cast<std::size_t>(y) * in.cols, row.data(), in.cols);
      Out* d = out.data + y * out.stride + ch;
      for (int x = 0; x < in.cols; ++x) d[x * out.channels] = row[static_cast<std::size_t>(x)];
    }
  }
}

template <class In, class Out>
void check_pixels(Pixels<const In> in, View<const float> kernel, Pixels<Out> out) {
  if (kernel.rows < 1 || kernel.cols < 1 || kernel.rows % 2 == 0 || kernel.cols % 2 == 0)
    throw UsageError("conv2d_pixels: the kernel size must be odd (got " +
                     std::to_string(kernel.rows) + "x" + std::to_string(kernel.cols) + ")");
  if (in.rows < 1 || in.cols < 1 || in.channels < 1 || !in.data || !out.data)
    throw UsageError("conv2d_pixels: the image is empty");
  if (out.rows != in.rows || out.cols != in.cols || out.channels != in.channels ||
      in.stride < static_cast<std::ptrdiff_t>(in.cols) * in.channels ||
      out.stride < static_cast<std::ptrdiff_t>(out.cols) * out.channels)
    throw UsageError("conv2d_pixels: input and output shapes do not match");
}

}  // namespace

}  // namespace detail

template <class In, class Out>
void conv2d_pixels(Pixels<const In> in, View<const float> kernel, const BorderRule& border,
                   Pixels<Out> out, Schedule schedule) {
  detail::check_pixels(in, kernel, out);
  if (schedule == Schedule::reference)
    throw UsageError("conv2d_pixels: the reference schedule is for float planes only");
  ConvSpec spec;
  spec.correlate = true;
  spec.mode = SizeMode::same;
  spec.border = border;
  const ConvGeometry g = plan(spec, in.rows, in.cols, kernel.rows, kernel.cols);
  const std::vector<float> w = detail::correlation_kernel(kernel, true);
  std::vector<float> col, row;
  const bool sep = detail::rank1_factors(w, g.k_h, g.k_w, col, row);
  if (schedule == Schedule::automatic) {
    // As conv2d() for one float plane of the image (integer data is finite).
    schedule = detail::choose_schedule(g, sep && g.k_h > 1 && g.k_w > 1);
    if (schedule == Schedule::fft) {
      bool finite = true;
      for (float v : w) finite = finite && std::isfinite(v);
      if (!finite) schedule = Schedule::direct;
    }
  }
  switch (schedule) {
    case Schedule::separable:
      if (!sep) throw Error("the separable schedule needs a rank-1 kernel (an outer product)");
      return detail::separable_pixels(in, col, row, border, out);
    case Schedule::fft:
      return detail::planes_pixels(in, kernel, g, out, schedule);
    default:
      return detail::direct_pixels(in, w, g.k_h, g.k_w, border, out);
  }
}

#define CONVKIT_INSTANTIATE(In, Out)                                                           \
  template void conv2d_pixels<In, Out>(Pixels<const In>, View<const float>, const BorderRule&, \
                                       Pixels<Out>, Schedule);
CONVKIT_FOR_PIXEL_TYPES(CONVKIT_INSTANTIATE)
#undef CONVKIT_INSTANTIATE

}  // namespace convkit

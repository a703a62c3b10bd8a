// FixedSeparable (convkit/pixels.hpp): separable filters of 8-bit samples in
// integer arithmetic.
//
// Layout of the work, per thread and strip of columns (as separable_pixels in
// pixels.cpp): each input row is widened to int16 with its columns extended
// by the border rule, filtered horizontally into a ring of kh int16 rows, and
// each output row is the vertical sum of its kh ring rows.  A sum over taps
// is computed in 32 bits by pmaddwd on pairs of terms; symmetric taps
// (w[t] = w[k-1-t], Gaussian, box, Sobel's smoothing) and antisymmetric taps
// (w[t] = -w[k-1-t], the derivatives) are folded first: the two samples a
// tap pair reads are added (subtracted) in 16 bits, halving the multiplies.
// Every step is integer arithmetic, so the AVX2 loop and the portable loop
// give the same integers, for any thread count and any cut into bands.
//
// ---- exact plans ----------------------------------------------------------
// col = c / Nc, row = r / Nr with integer vectors c, r (after removing their
// common factors; the plan needs the remaining scale to be 1/N).  With
// x in [0, 255] the horizontal sums h = sum r_j x_j satisfy |h| <= 255 * sum|r|,
// which the plan requires to fit int16 (half of it when the vertical taps
// fold, since two h are added), and S = sum c_i h_i satisfies
// |S| <= 255 * sum|r| * sum|c| < 2^24, so S is exact in int32 and in float.
// The result S / N: S itself for N = 1; else float(S) / N (one correctly
// rounded division) rounded half up.  For N odd, S / N is never a tie
// (S / N = k + 1/2 would need 2S = N (2k + 1), odd), it is at least 1/(2N)
// from one, and the division's error is at most 2^-24 * 255 < 1/(2N) for
// N < 32768: so the result is S / N exactly rounded.
//
// ---- approximate plans (Gaussian): the error bound ---------------------------
// Let w_j = row taps, v_i = col taps (doubles), and x_ij the input samples in
// [0, 255].  The exact value is V = sum_i v_i H_i with H_i = sum_j w_j x_ij.
//   1. The row taps are quantized to q_j = round(w_j 2^Qr) (Qr the largest
//      with |q_j| <= 32767).  The integer sum Hq_i = sum_j q_j x_ij is exact
//      and |Hq_i / 2^Qr - H_i| <= 255 * e_r, e_r = sum_j |q_j / 2^Qr - w_j|.
//   2. It is rounded to F fractional bits into int16:
//      h_i = floor(Hq_i / 2^(Qr-F) + 1/2), so |h_i / 2^F - Hq_i / 2^Qr| <= 2^-(F+1)
//      (no error when F = Qr).  F is the largest with |h_i| <= 16383, so two
//      of them add in int16.
//   3. The col taps are quantized to p_i = round(v_i 2^Qc), and the 32-bit
//      sum A' = sum_i p_i h_i is exact (the plan checks it fits);
//      A = A' / 2^(Qc+F) is the fixed-point value, and the output is
//      floor(A + 1/2) = (A' + 2^(Qc+F-1)) >> (Qc+F), clamped to [0, 255].
// Then, with e_c = sum_i |p_i / 2^Qc - v_i| and P = sum_i |p_i| / 2^Qc,
//   A - V = sum_i (p_i/2^Qc - v_i) H_i + sum_i (p_i/2^Qc) (h_i/2^F - H_i)
//   |A - V| <= e_c * 255 * sum_j |w_j| + P * (255 e_r + 2^-(F+1)) =: B.
// The plan is made only when B <= kFixedMaxError (0.75) and the float
// path's own error, at most E = 2 (kh + kw + 8) 2^-24 * 255 * sum|w| * sum|v|
// (float taps within a few ulps, then kw and kh multiply-adds, each within
// 2^-24 of the running sum's magnitude; doubled for margin), is below
// 1 - B: for a normalized kernel of 255 + 255 taps E is under 0.02.  Then
// |A - float value| < 1, and two numbers less than 1 apart round
// (floor(. + 1/2)) and clamp to integers at most 1 apart: the output is
// within one grey level of the float path's everywhere.
// For Gaussians of 13 taps (sigma 2) B is about 0.02, of 31 taps (sigma 5)
// about 0.04, of 49 taps (sigma 8) about 0.08.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "convkit/pixels.hpp"
#include "engine/schedules.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define CONVKIT_FIXED_AVX2 1
#include <immintrin.h>
#else
#define CONVKIT_FIXED_AVX2 0
#endif

namespace convkit {

namespace {

constexpr int kMaxTaps = 255;
constexpr int kLanes = 16;  // int16 lanes of one AVX2 vector (rows carry 32 samples of slack)

// ---- the plan --------------------------------------------------------------

// v * m integral for the smallest m in [1, 1024]: the integers and m.
bool integer_taps(const std::vector<double>& v, std::vector<long long>& out, long long& den) {
  for (long long m = 1; m <= 1024; ++m) {
    bool ok = true;
    for (double x : v) {
      const double y = x * static_cast<double>(m);
      if (!(std::abs(y - std::round(y)) <= 1e-9 * std::max(1.0, std::abs(y))) ||
          std::abs(y) > 32767) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.clear();
      for (double x : v) out.push_back(std::llround(x * static_cast<double>(m)));
      den = m;
      return true;
    }
  }
  return false;
}

// +1: w symmetric, -1: antisymmetric, 0: neither (or a single tap).
int fold_of(const std::vector<std::int16_t>& w) {
  const std::size_t k = w.size();
  if (k < 3) return 0;
  bool sym = true, anti = true;
  for (std::size_t t = 0; t < k; ++t) {
    sym = sym && w[t] == w[k - 1 - t];
    anti = anti && w[t] == -w[k - 1 - t];
  }
  return sym ? 1 : anti ? -1 : 0;
}

long long abs_sum(const std::vector<std::int16_t>& w) {
  long long s = 0;
  for (int v : w) s += std::abs(v);
  return s;
}

// round(v * 2^q) for the largest q in [0, 22] keeping every |tap| <= 32767.
int quantize(const std::vector<double>& v, std::vector<std::int16_t>& out) {
  double mx = 0;
  for (double x : v) mx = std::max(mx, std::abs(x));
  int q = 22;
  while (q > 0 && std::round(mx * std::ldexp(1.0, q)) > 32767) --q;
  out.clear();
  for (double x : v) out.push_back(static_cast<std::int16_t>(std::lround(x * std::ldexp(1.0, q))));
  return q;
}

double quant_error(const std::vector<std::int16_t>& q, int bits, const std::vector<double>& v) {
  double e = 0;
  for (std::size_t i = 0; i < v.size(); ++i) e += std::abs(std::ldexp(q[i], -bits) - v[i]);
  return e;
}

// ---- the row loops ----------------------------------------------------------

// The terms of a folded tap list: term j < k/2 reads taps j and k-1-j; the
// centre (symmetric only) is the last term.  Their weights as pmaddwd pairs.
struct Taps {
  int k = 0, fold = 0, terms = 0;
  std::vector<std::int32_t> w;      // term weights
  std::vector<std::int32_t> pairs;  // (w[2p], w[2p+1]) as two int16 in one int32
};

Taps make_taps(const std::vector<std::int16_t>& w, int fold) {
  Taps t;
  t.k = static_cast<int>(w.size());
  t.fold = fold;
  const int k = t.k;
  if (fold == 0)
    for (int v : w) t.w.push_back(v);
  else
    for (int j = 0; j < k / 2; ++j) t.w.push_back(w[static_cast<std::size_t>(j)]);
  if (fold > 0) t.w.push_back(w[static_cast<std::size_t>(k / 2)]);
  t.terms = static_cast<int>(t.w.size());
  for (int j = 0; j < t.terms; j += 2) {
    const std::uint32_t a = static_cast<std::uint16_t>(t.w[j]);
    const std::uint32_t b = j + 1 < t.terms ? static_cast<std::uint16_t>(t.w[j + 1]) : 0u;
    t.pairs.push_back(static_cast<std::int32_t>(a | (b << 16)));
  }
  return t;
}

// Where a row loop's 32-bit sums go: Out samples, either the sums shifted
// right by `shift` with rounding (half up) and saturated to Out, or (div > 0)
// float(sum) / div, rounded half up and clamped for an integer Out.
template <class Out>
struct Store {
  Out* out;
  int shift = 0;
  float div = 0;
};

template <class Out>
inline Out finish_one(const Store<Out>& s, long long acc) {
  if constexpr (std::is_same_v<Out, float>) {
    return static_cast<float>(acc) / s.div;
  } else {
    constexpr long long lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
    if (s.div > 0) {  // as pixels.cpp's narrow_body
      const float v = static_cast<float>(acc) / s.div;
      float f = std::floor(v);
      f += (v - f >= 0.5f) ? 1.0f : 0.0f;
      f = std::clamp(f, static_cast<float>(lo), static_cast<float>(hi));
      return static_cast<Out>(static_cast<int>(f));
    }
    const long long v = s.shift > 0 ? (acc + (1LL << (s.shift - 1))) >> s.shift : acc;
    return static_cast<Out>(std::clamp(v, lo, hi));
  }
}

// out[x] = sum_t w[t] * src[t][x] for x in [0, n), by terms.
template <class Out>
void dot_base(const std::int16_t* const* src, const Taps& t, int n, const Store<Out>& s) {
  const int k = t.k;
  for (int x = 0; x < n; ++x) {
    long long acc = 0;
    for (int j = 0; j < t.terms; ++j) {
      int v = src[j][x];
      if (t.fold != 0 && j < k / 2) v += t.fold * src[k - 1 - j][x];
      acc += static_cast<long long>(t.w[j]) * v;
    }
    s.out[x] = finish_one(s, acc);
  }
}

void widen_base(const std::uint8_t* s, std::int16_t* d, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) d[i] = s[i];
}

#if CONVKIT_FIXED_AVX2
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 inline __m256i load16(const std::int16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <int Fold>
AVX2 inline __m256i term(const std::int16_t* const* src, int k, int j, int x) {
  if (Fold == 0 || j == k / 2) return load16(src[j] + x);
  const __m256i a = load16(src[j] + x), b = load16(src[k - 1 - j] + x);
  return Fold > 0 ? _mm256_add_epi16(a, b) : _mm256_sub_epi16(a, b);
}

// narrow_body on 8 floats: rounded half up, clamped, as int32.
AVX2 inline __m256i round_clamp(__m256 v, __m256 lo, __m256 hi) {
  __m256 f = _mm256_floor_ps(v);
  const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(v, f), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  f = _mm256_add_ps(f, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
  return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(f, lo), hi));
}

// Store 16 results from the sums of pmaddwd on unpacklo (lanes x0-3, x8-11)
// and unpackhi (x4-7, x12-15); `left` < 16 stores only that many.
template <class Out>
AVX2 inline void finish16(const Store<Out>& s, int x, int left, __m256i lo, __m256i hi) {
  alignas(32) Out tmp[kLanes];
  Out* d = left >= kLanes ? s.out + x : tmp;
  if constexpr (std::is_same_v<Out, float>) {
    const __m256 dv = _mm256_set1_ps(s.div);
    const __m256 fl = _mm256_cvtepi32_ps(lo), fh = _mm256_cvtepi32_ps(hi);
    _mm256_storeu_ps(d, _mm256_div_ps(_mm256_permute2f128_ps(fl, fh, 0x20), dv));
    _mm256_storeu_ps(d + 8, _mm256_div_ps(_mm256_permute2f128_ps(fl, fh, 0x31), dv));
  } else {
    __m256i v;  // the 16 results as int16, in order
    if (s.div > 0) {
      const __m256 dv = _mm256_set1_ps(s.div);
      const __m256 mn = _mm256_set1_ps(static_cast<float>(std::numeric_limits<Out>::min()));
      const __m256 mx = _mm256_set1_ps(static_cast<float>(std::numeric_limits<Out>::max()));
      const __m256 fl = _mm256_cvtepi32_ps(lo), fh = _mm256_cvtepi32_ps(hi);
      const __m256i a =
          round_clamp(_mm256_div_ps(_mm256_permute2f128_ps(fl, fh, 0x20), dv), mn, mx);
      const __m256i b =
          round_clamp(_mm256_div_ps(_mm256_permute2f128_ps(fl, fh, 0x31), dv), mn, mx);
      v = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
    } else {
      if (s.shift > 0) {
        const __m256i r = _mm256_set1_epi32(1 << (s.shift - 1));
        const __m128i c = _mm_cvtsi32_si128(s.shift);
        lo = _mm256_sra_epi32(_mm256_add_epi32(lo, r), c);
        hi = _mm256_sra_epi32(_mm256_add_epi32(hi, r), c);
      }
      v = _mm256_packs_epi32(lo, hi);  // within lanes: back in order
    }
    if constexpr (sizeof(Out) == 1)
      _mm_storeu_si128(
          reinterpret_cast<__m128i*>(d),
          _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08)));
    else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), v);
  }
  if (left < kLanes) std::memcpy(s.out + x, tmp, sizeof(Out) * static_cast<std::size_t>(left));
}

// dot_base, 16 outputs at a time (reads up to 15 samples past n).
template <int Fold, class Out>
AVX2 void dot_avx2(const std::int16_t* const* src, const Taps& t, int n, const Store<Out>& s) {
  const int k = t.k, terms = t.terms;
  int x = 0;
  for (; x + 2 * kLanes <= n; x += 2 * kLanes) {  // two vectors share the taps' loads
    __m256i lo = _mm256_setzero_si256(), hi = lo, lo2 = lo, hi2 = lo;
    for (int j = 0; j < terms; j += 2) {
      const __m256i a = term<Fold>(src, k, j, x), a2 = term<Fold>(src, k, j, x + kLanes);
      const bool two = j + 1 < terms;
      const __m256i b = two ? term<Fold>(src, k, j + 1, x) : a;
      const __m256i b2 = two ? term<Fold>(src, k, j + 1, x + kLanes) : a2;
      const __m256i w = _mm256_set1_epi32(t.pairs[static_cast<std::size_t>(j / 2)]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w));
      lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(_mm256_unpacklo_epi16(a2, b2), w));
      hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(_mm256_unpackhi_epi16(a2, b2), w));
    }
    finish16(s, x, kLanes, lo, hi);
    finish16(s, x + kLanes, kLanes, lo2, hi2);
  }
  for (; x < n; x += kLanes) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int j = 0; j < terms; j += 2) {
      const __m256i a = term<Fold>(src, k, j, x);
      const __m256i b = j + 1 < terms ? term<Fold>(src, k, j + 1, x) : a;
      const __m256i w = _mm256_set1_epi32(t.pairs[static_cast<std::size_t>(j / 2)]);
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w));
    }
    finish16(s, x, n - x, lo, hi);
  }
}

AVX2 void widen_avx2(const std::uint8_t* s, std::int16_t* d, std::ptrdiff_t n) {
  std::ptrdiff_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(
        reinterpret_cast<__m256i*>(d + i),
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  widen_base(s + i, d + i, n - i);
}
#undef AVX2
#endif

bool use_avx2() {
#if CONVKIT_FIXED_AVX2
  return detail::simd_level() == detail::Simd::avx2;
#else
  return false;
#endif
}

template <class Out>
void dot(bool avx2, const std::int16_t* const* src, const Taps& t, int n, const Store<Out>& s) {
#if CONVKIT_FIXED_AVX2
  if (avx2) {
    if (t.fold > 0) return dot_avx2<1>(src, t, n, s);
    if (t.fold < 0) return dot_avx2<-1>(src, t, n, s);
    return dot_avx2<0>(src, t, n, s);
  }
#endif
  (void)avx2;
  dot_base(src, t, n, s);
}

void widen(bool avx2, const std::uint8_t* s, std::int16_t* d, std::ptrdiff_t n) {
#if CONVKIT_FIXED_AVX2
  if (avx2) return widen_avx2(s, d, n);
#endif
  (void)avx2;
  widen_base(s, d, n);
}

std::int16_t* scratch16(int slot, std::size_t n) {
  thread_local std::vector<std::int16_t> bufs[2];
  std::vector<std::int16_t>& b = bufs[slot];
  if (b.size() < n) {
    b.clear();
    b.resize(n);
  }
  return b.data();
}

}  // namespace

// ---- FixedSeparable ----------------------------------------------------------

FixedSeparable::FixedSeparable(const std::vector<double>& col, const std::vector<double>& row) {
  const auto bad_size = [](const std::vector<double>& v) {
    return v.empty() || v.size() % 2 == 0 || v.size() > static_cast<std::size_t>(kMaxTaps);
  };
  if (bad_size(col) || bad_size(row)) return;
  for (const auto* v : {&col, &row})
    for (double x : *v)
      if (!std::isfinite(x)) return;

  std::vector<long long> ic, ir;
  long long mc = 0, mr = 0;
  if (integer_taps(col, ic, mc) && integer_taps(row, ir, mr)) {
    // col (x) row = (c (x) r) * (gc * gr) / (mc * mr), c and r without common factors.
    auto strip = [](std::vector<long long>& v) {
      long long g = 0;
      for (long long x : v) g = std::gcd(g, std::abs(x));
      if (g > 1)
        for (long long& x : v) x /= g;
      return std::max(g, 1LL);
    };
    long long num = strip(ic) * strip(ir), den = mc * mr;
    const long long g = std::gcd(num, den);
    num /= g;
    den /= g;
    if (num != 1 || den >= 32768) return;
    col_.assign(ic.begin(), ic.end());
    row_.assign(ir.begin(), ir.end());
    const long long hmax = 255 * abs_sum(row_);
    if (hmax > 32767 || hmax * abs_sum(col_) >= (1LL << 24)) return;
    kind_ = Kind::exact;
    divisor_ = static_cast<int>(den);
    return;
  }

  // Approximate: the proof at the top of this file.
  const int qr = quantize(row, row_);
  const long long hq = 255 * abs_sum(row_);  // |Hq| <= hq
  if (hq == 0 || hq + (1LL << qr) >= (1LL << 31)) return;
  int f = qr;  // fractional bits of the int16 intermediate
  auto hmax = [&](int bits) {
    const int s = qr - bits;
    return ((hq + (s > 0 ? 1LL << (s - 1) : 0)) >> s) + 1;
  };
  while (f > 0 && hmax(f) > 16383) --f;
  if (hmax(f) > 16383) return;
  int qc = quantize(col, col_);
  while (qc >= 0 && 2 * hmax(f) * abs_sum(col_) + (1LL << (qc + f)) >= (1LL << 31)) {
    --qc;
    for (std::size_t i = 0; i < col.size(); ++i)
      col_[i] = static_cast<std::int16_t>(std::lround(std::ldexp(col[i], qc)));
  }
  if (qc < 0 || abs_sum(col_) == 0) return;
  double wsum = 0;
  for (double w : row) wsum += std::abs(w);
  const double e_r = quant_error(row_, qr, row), e_c = quant_error(col_, qc, col);
  const double p = std::ldexp(static_cast<double>(abs_sum(col_)), -qc);
  bound_ = e_c * 255 * wsum + p * (255 * e_r + (qr > f ? std::ldexp(1.0, -(f + 1)) : 0.0));
  double vsum = 0;
  for (double v : col) vsum += std::abs(v);
  const double float_error = 2.0 * static_cast<double>(col.size() + row.size() + 8) *
                             std::ldexp(1.0, -24) * 255 * wsum * vsum;
  if (!(bound_ <= kFixedMaxError) || !(bound_ + float_error < 1)) {
    col_.clear();
    row_.clear();
    return;
  }
  kind_ = Kind::approx;
  hshift_ = qr - f;
  vshift_ = qc + f;
}

FixedSeparable FixedSeparable::from_mask(const std::vector<double>& mask, int kh, int kw) {
  if (kh < 1 || kw < 1 || mask.size() != static_cast<std::size_t>(kh) * kw)
    return FixedSeparable({}, {});
  std::size_t piv = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (std::abs(mask[i]) > std::abs(mask[piv])) piv = i;
  const double m = mask[piv];
  if (!(m != 0) || !std::isfinite(m)) return FixedSeparable({}, {});
  const int pr = static_cast<int>(piv) / kw, pc = static_cast<int>(piv) % kw;
  std::vector<double> col(static_cast<std::size_t>(kh)), row(static_cast<std::size_t>(kw));
  for (int i = 0; i < kh; ++i) col[i] = mask[static_cast<std::size_t>(i) * kw + pc] / m;
  for (int j = 0; j < kw; ++j) row[j] = mask[static_cast<std::size_t>(pr) * kw + j];
  // Balance the factors as the filters build them (a column summing to 1:
  // Gaussian and box masks give back their own taps, so the plan is theirs).
  double sc = 0;
  for (double v : col) sc += v;
  if (!(std::abs(sc) > 1e-6)) sc = 1;
  for (double& v : col) v /= sc;
  for (double& v : row) v *= sc;
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j)
      if (!(std::abs(mask[static_cast<std::size_t>(i) * kw + j] - col[i] * row[j]) <=
            1e-12 * std::abs(m)))
        return FixedSeparable({}, {});
  return FixedSeparable(col, row);
}

template <class Out>
bool FixedSeparable::writes() const {
  if (kind_ == Kind::none) return false;
  return std::is_same_v<Out, std::uint8_t> || kind_ == Kind::exact;
}

template <class Out>
void FixedSeparable::run(const std::uint8_t* const* rows, Border cols, std::uint8_t value,
                         Pixels<Out> out) const {
  if (!writes<Out>()) throw Error("FixedSeparable::run: no fixed-point plan for this output type");
  const int kh = this->kh(), kw = this->kw(), c = out.channels, w = out.cols;
  const int rx = (kw - 1) / 2;
  const bool avx2 = use_avx2();
  const Taps ht = make_taps(row_, fold_of(row_));
  const Taps vt =
      make_taps(col_, kind_ == Kind::exact && 2 * 255 * abs_sum(row_) > 32767 ? 0 : fold_of(col_));
  const Store<std::int16_t> hstore{nullptr, hshift_, 0};
  Store<Out> vstore{nullptr, kind_ == Kind::approx ? vshift_ : 0, 0};
  if (kind_ == Kind::exact && (divisor_ > 1 || std::is_same_v<Out, float>))
    vstore.div = static_cast<float>(divisor_);
  // Strips of about 192 KiB of int16 rows (the ring and the extended row).
  const std::ptrdiff_t budget = 96 * 1024;
  int sp = static_cast<int>(std::max<std::ptrdiff_t>(budget / (kh + 1) / c, 64));
  sp = std::min(sp, w);
  const int strips = (w + sp - 1) / sp;
  sp = (w + strips - 1) / strips;
  const std::ptrdiff_t lt = detail::round_up(static_cast<std::ptrdiff_t>(sp) * c, 32) + 32;
  const std::ptrdiff_t et = static_cast<std::ptrdiff_t>(sp + kw - 1) * c + 32;
  const std::ptrdiff_t grain =
      std::max<std::ptrdiff_t>({16, 8 * kh, out.rows / (4 * std::max(1, thread_count()))});
  parallel_for(0, out.rows, grain, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    std::int16_t* ext = scratch16(0, static_cast<std::size_t>(et));
    std::int16_t* ring = scratch16(1, static_cast<std::size_t>(kh * lt));
    std::vector<const std::int16_t*> hsrc(static_cast<std::size_t>(kw)),
        vsrc(static_cast<std::size_t>(kh));
    for (int t = 0; t < kw; ++t) hsrc[t] = ext + static_cast<std::ptrdiff_t>(t) * c;
    for (int x0 = 0; x0 < w; x0 += sp) {
      const int x1 = std::min(w, x0 + sp), n = (x1 - x0) * c;
      const long long e0 = static_cast<long long>(x0) - rx, e1 = static_cast<long long>(x1) + rx;
      const long long a = std::max<long long>(e0, 0), b = std::min<long long>(e1, w);
      std::ptrdiff_t made = lo;  // rows [lo, made) are in the ring
      for (std::ptrdiff_t m = lo; m < hi; ++m) {
        for (; made < m + kh; ++made) {
          const std::uint8_t* src = rows[made];
          if (!src) {
            std::fill(ext, ext + (e1 - e0) * c, static_cast<std::int16_t>(value));
          } else {
            auto pixel = [&](long long e) {
              const int ci = border_index(e, w, cols);
              for (int k = 0; k < c; ++k)
                ext[(e - e0) * c + k] = static_cast<std::int16_t>(ci < 0 ? value : src[ci * c + k]);
            };
            for (long long e = e0; e < a; ++e) pixel(e);
            widen(avx2, src + a * c, ext + (a - e0) * c, (b - a) * c);
            for (long long e = b; e < e1; ++e) pixel(e);
          }
          Store<std::int16_t> hs = hstore;
          hs.out = ring + (made % kh) * lt;
          dot(avx2, hsrc.data(), ht, n, hs);
        }
        for (int t = 0; t < kh; ++t) vsrc[t] = ring + ((m + t) % kh) * lt;
        Store<Out> vs = vstore;
        vs.out = out.data + m * out.stride + static_cast<std::ptrdiff_t>(x0) * c;
        dot(avx2, vsrc.data(), vt, n, vs);
      }
    }
  });
}

template <class Out>
bool separable_fixed(Pixels<const std::uint8_t> in, const FixedSeparable& plan,
                     const BorderRule& border, Pixels<Out> out) {
  if (!plan.writes<Out>()) return false;
  const double v = border.value;
  if (border.uses_value() && !(v >= 0 && v <= 255 && v == std::floor(v))) return false;
  if (in.rows < 1 || in.cols < 1 || in.channels < 1 || !in.data || !out.data ||
      out.rows != in.rows || out.cols != in.cols || out.channels != in.channels ||
      in.stride < static_cast<std::ptrdiff_t>(in.cols) * in.channels ||
      out.stride < static_cast<std::ptrdiff_t>(out.cols) * out.channels)
    throw UsageError("separable_fixed: input and output shapes do not match");
  const int ry = (plan.kh() - 1) / 2;
  std::vector<const std::uint8_t*> rows(static_cast<std::size_t>(in.rows + plan.kh() - 1));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int s = border_index(static_cast<long long>(r) - ry, in.rows, border.rows);
    rows[r] = s < 0 ? nullptr : in.data + static_cast<std::ptrdiff_t>(s) * in.stride;
  }
  plan.run(rows.data(), border.cols, static_cast<std::uint8_t>(v), out);
  return true;
}

#define CONVKIT_INSTANTIATE(Out)                                                           \
  template bool FixedSeparable::writes<Out>() const;                                       \
  template void FixedSeparable::run<Out>(const std::uint8_t* const*, Border, std::uint8_t, \
                                         Pixels<Out>) const;                               \
  template bool separable_fixed<Out>(Pixels<const std::uint8_t>, const FixedSeparable&,    \
                                     const BorderRule&, Pixels<Out>);
CONVKIT_INSTANTIATE(std::uint8_t)
CONVKIT_INSTANTIATE(std::int16_t)
CONVKIT_INSTANTIATE(float)
#undef CONVKIT_INSTANTIATE

}  // namespace convkit

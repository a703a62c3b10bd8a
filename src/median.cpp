// src/median.cpp — the median filter (see convkit/median.hpp for the choices).
#include "convkit/median.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "engine/cpu.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

// The network loops are compiled three times, for AVX-512 (x86-64-v4: twice
// the vector registers, so the 25 vectors of a 5x5 window stay in them), for
// AVX2 and for the baseline, and the CPU picks one at load time (GCC's
// function multiversioning).  The histogram loop gains nothing from AVX-512
// (measured: K = 15 and 31 no faster), so it keeps AVX2 and the baseline.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CONVKIT_MEDIAN_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#define CONVKIT_MEDIAN_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define CONVKIT_MEDIAN_CLONES
#define CONVKIT_MEDIAN_CLONES_AVX2
#endif
#define CONVKIT_INLINE inline __attribute__((always_inline))

namespace convkit {

namespace {

// ---------------------------------------------------------------------------
// Sorting networks, built at compile time and checked by the 0-1 principle.

/// One compare-exchange: a gets the smaller, b the larger value.  A pruned
/// network keeps only the half whose result is used later.
struct Op {
  int a = 0, b = 0;
  enum Kind { both, min_only, max_only } kind = both;
};

/// Batcher's odd-even merge sort for the next power of two >= n, without the
/// comparators that touch positions >= n (think of them as +infinity: they
/// never move, so those comparators never exchange).
constexpr std::vector<Op> batcher(int n) {
  int big = 1;
  while (big < n) big <<= 1;
  std::vector<Op> out;
  for (int p = 1; p < big; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < big; j += 2 * k)
        for (int i = 0; i < std::min(k, big - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n)
            out.push_back({i + j, i + j + k});
  return out;
}

/// A set of 0-1 inputs to a network of n positions, transposed: for each
/// position, one bit per input.  A compare-exchange is then AND (the
/// smaller value) and OR (the larger) of two positions' words.
struct ZeroOne {
  int n = 0, words = 0;
  std::vector<std::uint64_t> bits;  // bits[pos * words + w]
  constexpr ZeroOne(int positions, int inputs)
      : n(positions), words((inputs + 63) / 64), bits(static_cast<std::size_t>(n) * words, 0) {}
  constexpr std::uint64_t* at(int pos) {
    return bits.data() + static_cast<std::size_t>(pos) * words;
  }
  constexpr void set(int pos, int input) {
    at(pos)[input / 64] |= std::uint64_t(1) << (input % 64);
  }
};

/// Keep the comparators that exchange for some input in `in` (which are
/// advanced through the kept ones), then drop what does not feed position
/// `keep` (nothing when keep < 0).  Every comparator dropped in the first
/// step never exchanges for any real input of the same shape, by the 0-1
/// principle: thresholding a real input at the larger of the two values
/// would give a 0-1 input on which it exchanges.
constexpr std::vector<Op> prune(const std::vector<Op>& net, ZeroOne& in, int keep) {
  std::vector<Op> live;
  for (const Op& o : net) {
    std::uint64_t* a = in.at(o.a);
    std::uint64_t* b = in.at(o.b);
    bool used = false;
    for (int w = 0; w < in.words && !used; ++w) used = (a[w] & ~b[w]) != 0;
    if (!used) continue;
    live.push_back(o);
    for (int w = 0; w < in.words; ++w) {
      const std::uint64_t x = a[w], y = b[w];
      a[w] = x & y;
      b[w] = x | y;
    }
  }
  // char, not bool: clang's constant evaluator rejects libstdc++'s vector<bool>
  std::vector<char> need(static_cast<std::size_t>(in.n), keep < 0);
  if (keep >= 0) need[static_cast<std::size_t>(keep)] = true;
  std::vector<Op> ops;
  for (std::size_t i = live.size(); i-- > 0;) {
    const Op& o = live[i];
    const bool na = need[static_cast<std::size_t>(o.a)] != 0;
    const bool nb = need[static_cast<std::size_t>(o.b)] != 0;
    if (!na && !nb) continue;
    ops.push_back({o.a, o.b, na && nb ? Op::both : na ? Op::min_only : Op::max_only});
    need[static_cast<std::size_t>(o.a)] = need[static_cast<std::size_t>(o.b)] = true;
  }
  std::reverse(ops.begin(), ops.end());
  return ops;
}

/// Networks for a K x K window: `sort` sorts a column of K samples; `select`
/// takes K sorted columns (position c*K + i holds rank i of column c) and
/// leaves their median at position `mid`.
constexpr int kMaxOps = 160;
struct Networks {
  int k = 0, mid = 0, nsort = 0, nselect = 0;
  Op sort[kMaxOps]{}, select[kMaxOps]{};
};

template <int K>
constexpr Networks build_networks() {
  Networks net;
  net.k = K;
  constexpr int n = K * K;
  net.mid = n / 2;
  // Column sort, checked on every 0-1 column of K samples: input m has a 1
  // at position i when bit i of m is set.  Sorted: ones at the top.
  constexpr int columns = 1 << K;
  ZeroOne col(K, columns);
  for (int m = 0; m < columns; ++m)
    for (int i = 0; i < K; ++i)
      if ((m >> i) & 1) col.set(i, m);
  const std::vector<Op> sort = prune(batcher(K), col, -1);
  for (int m = 0; m < columns; ++m)
    for (int i = 0; i < K; ++i) {
      const bool one = (col.at(i)[m / 64] >> (m % 64)) & 1;
      if (one != (i >= K - std::popcount(static_cast<unsigned>(m))))
        throw std::logic_error("median: the column network does not sort");
    }
  // Selection over sorted columns: input j has ones_c(j) = digit c of j in
  // base K+1 ones at the top of column c.
  int inputs = 1;
  for (int c = 0; c < K; ++c) inputs *= K + 1;
  ZeroOne sel(n, inputs);
  std::vector<int> total(static_cast<std::size_t>(inputs), 0);
  for (int j = 0; j < inputs; ++j)
    for (int c = 0, rest = j; c < K; ++c, rest /= K + 1) {
      const int ones = rest % (K + 1);
      total[static_cast<std::size_t>(j)] += ones;
      for (int i = K - ones; i < K; ++i) sel.set(c * K + i, j);
    }
  const std::vector<Op> select = prune(batcher(n), sel, net.mid);
  for (int j = 0; j < inputs; ++j) {
    const bool one = (sel.at(net.mid)[j / 64] >> (j % 64)) & 1;
    if (one != (net.mid >= n - total[static_cast<std::size_t>(j)]))
      throw std::logic_error("median: the selection network misses the median");
  }
  if (sort.size() > kMaxOps || select.size() > kMaxOps)
    throw std::logic_error("median: network larger than kMaxOps");
  net.nsort = static_cast<int>(sort.size());
  net.nselect = static_cast<int>(select.size());
  std::copy(sort.begin(), sort.end(), net.sort);
  std::copy(select.begin(), select.end(), net.select);
  return net;
}

template <int K>
inline constexpr Networks kNetworks = build_networks<K>();

/// 32 bytes of samples, one compare-exchange per instruction (AVX2) or two.
template <class T>
struct VecOf;
template <>
struct VecOf<std::uint8_t> {
  typedef std::uint8_t type __attribute__((vector_size(32)));
  typedef std::uint8_t unaligned __attribute__((vector_size(32), aligned(1), may_alias));
};
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
  typedef float unaligned __attribute__((vector_size(32), aligned(1), may_alias));
};

/// One whole-vector load or store at any address (no split halves: a store
/// of two halves then a load of the whole stalls store forwarding).
template <class T>
CONVKIT_INLINE void load(typename VecOf<T>::type& v, const T* p) {
  v = *reinterpret_cast<const typename VecOf<T>::unaligned*>(p);
}
template <class T>
CONVKIT_INLINE void store(T* p, const typename VecOf<T>::type& v) {
  *reinterpret_cast<typename VecOf<T>::unaligned*>(p) = v;
}

// The operation's fields as separate template arguments: clang does not take
// a reference to an array element (N.sort[I]) as a template argument.
template <int A, int B, auto kind, class V>
CONVKIT_INLINE void compare_exchange(V* v) {
  const V x = v[A], y = v[B];
  if constexpr (kind != Op::max_only) v[A] = x < y ? x : y;
  if constexpr (kind != Op::min_only) v[B] = x > y ? x : y;
}

template <const Networks& N, bool select, class V, std::size_t... I>
CONVKIT_INLINE void apply(V* v, std::index_sequence<I...>) {
  if constexpr (select)
    (compare_exchange<N.select[I].a, N.select[I].b, N.select[I].kind>(v), ...);
  else
    (compare_exchange<N.sort[I].a, N.sort[I].b, N.sort[I].kind>(v), ...);
}

/// Where the samples come from: `fill(y, x, n, out)` writes samples
/// [x, x + n) of source row y.  Rows of the replicated border are made on
/// the fly, a few at a time, so no padded copy of the image is needed.
template <class T>
struct Source {
  int width = 0, height = 0, r = 0;
  std::function<void(int, int, int, T*)> fill;
  int cn = 1;  ///< interleaved channels: a pixel is cn samples, fill counts samples

  /// Padded samples [p0, p0 + n) of padded row py (padded row/pixel i is
  /// source row/pixel i - r, clamped into the image).
  void padded(int py, int p0, int n, T* out) const {
    const int y = std::clamp(py - r, 0, height - 1);
    const int left = std::clamp(r * cn - p0, 0, n);
    const int mid = std::clamp((width + r) * cn - p0, left, n);
    T edge[4]{};  // cn <= 4
    if (left > 0) {
      fill(y, 0, cn, edge);
      for (int i = 0; i < left; ++i) out[i] = edge[(p0 + i) % cn];
    }
    if (mid > left) fill(y, p0 + left - r * cn, mid - left, out + left);
    if (n > mid) {
      fill(y, (width - 1) * cn, cn, edge);
      for (int i = mid; i < n; ++i) out[i] = edge[(p0 + i) % cn];
    }
  }
};

constexpr int kSlack = 64;  // samples past the end of a row buffer; more than one vector

/// The k padded rows y..y+k-1 (columns [p0, p0 + n)) of a sliding window
/// that moves down one row at a time.
template <class T>
class RowRing {
 public:
  RowRing(const Source<T>& src, int k, int p0, int n)
      : src_(src),
        k_(k),
        p0_(p0),
        n_(n),
        stride_(n + kSlack),
        buf_(static_cast<std::size_t>(stride_) * k, T(0)) {}
  /// Make rows y..y+k-1 available (cheapest when y grows by one).
  void move_to(int y) {
    const int from = (y == top_ + 1) ? y + k_ - 1 : y;
    for (int py = from; py < y + k_; ++py) src_.padded(py, p0_, n_, slot(py));
    top_ = y;
  }
  /// Padded row y + i, from column p0.
  const T* row(int i) const { return const_cast<RowRing*>(this)->slot(top_ + i); }

 private:
  T* slot(int py) { return buf_.data() + static_cast<std::ptrdiff_t>(py % k_) * stride_; }
  const Source<T>& src_;
  int k_, p0_, n_;
  std::ptrdiff_t stride_;
  std::vector<T> buf_;
  int top_ = -2;
};

/// o = the median of a, b, c (out-parameter: no vector return values, whose
/// ABI differs between the AVX2 and baseline builds).
template <class V>
CONVKIT_INLINE void median3(V& o, const V& a, const V& b, const V& c) {
  const V lo = a < b ? a : b, hi = a > b ? a : b;
  const V m = hi < c ? hi : c;
  o = lo > m ? lo : m;
}

// Loads and stores of whole index sequences (functions, not lambdas: GCC
// may leave a lambda out of line, and with it every vector in memory).
template <class V, class T, std::size_t... I>
CONVKIT_INLINE void load_rows(V* v, const T* const* row, int p, std::index_sequence<I...>) {
  (load(v[I], row[I] + p), ...);
}
template <class V, class T, std::size_t... I>
CONVKIT_INLINE void store_rows(T* p, std::ptrdiff_t stride, const V* v, std::index_sequence<I...>) {
  (store(p + std::ptrdiff_t(I) * stride, v[I]), ...);
}
/// Position c*K + i: rank i of the column c pixels (c*CN samples) right of p.
template <int K, int CN, class V, class T, std::size_t... I>
CONVKIT_INLINE void load_window(V* v, const T* p, std::ptrdiff_t stride,
                                std::index_sequence<I...>) {
  (load(v[I], p + std::ptrdiff_t(I % K) * stride + int(I / K) * CN), ...);
}

/// Output rows [y0, y1) of a K x K median (K = 3, 5) by the networks.  CN:
/// the channel count (src.cn), a constant so the loads' offsets are.
template <int K, int CN, class T>
CONVKIT_INLINE void network_rows(const Source<T>& src, T* dst, std::ptrdiff_t dst_stride, int y0,
                                 int y1) {
  using V = typename VecOf<T>::type;
  constexpr int L = sizeof(V) / sizeof(T);
  constexpr int cn = CN;
  const int w = src.width * cn, wp = (src.width + K - 1) * cn;
  const std::ptrdiff_t cs_stride = wp + kSlack;
  std::vector<T> cs(static_cast<std::size_t>(cs_stride) * K, T(0));
  RowRing<T> rows(src, K, 0, wp);
  V v[K * K];
  for (int y = y0; y < y1; ++y) {
    rows.move_to(y);
    const T* row[K];
    for (int i = 0; i < K; ++i) row[i] = rows.row(i);
    // Sort the K samples of every padded column once; K outputs share each.
    for (int p = 0; p < wp; p += L) {
      load_rows(v, row, p, std::make_index_sequence<K>{});
      apply<kNetworks<K>, false>(v, std::make_index_sequence<kNetworks<K>.nsort>{});
      store_rows(cs.data() + p, cs_stride, v, std::make_index_sequence<K>{});
    }
    T* out = dst + static_cast<std::ptrdiff_t>(y) * dst_stride;
    for (int x = 0; x < w; x += L) {
      // Position c*K + i: rank i of column x + c*cn (pixel c to the right).
      load_window<K, CN>(v, cs.data() + x, cs_stride, std::make_index_sequence<K * K>{});
      if constexpr (K == 3) {
        // With sorted columns the 3x3 median is the median of the largest
        // low, the median middle and the smallest high (12 operations where
        // the pruned merge network takes 26).
        V lo = v[0] > v[3] ? v[0] : v[3], hi = v[2] < v[5] ? v[2] : v[5], mid;
        lo = lo > v[6] ? lo : v[6];
        hi = hi < v[8] ? hi : v[8];
        median3(mid, v[1], v[4], v[7]);
        median3(v[kNetworks<K>.mid], lo, mid, hi);
      } else {
        apply<kNetworks<K>, true>(v, std::make_index_sequence<kNetworks<K>.nselect>{});
      }
      if (w - x >= L)
        store(out + x, v[kNetworks<K>.mid]);
      else
        std::memcpy(out + x, &v[kNetworks<K>.mid], sizeof(T) * static_cast<std::size_t>(w - x));
    }
  }
}

/// Float data (one channel).
template <class T>
CONVKIT_INLINE void network_rows_any(const Source<T>& src, T* dst, std::ptrdiff_t stride, int y0,
                                     int y1, int k) {
  if (k == 3)
    network_rows<3, 1>(src, dst, stride, y0, y1);
  else
    network_rows<5, 1>(src, dst, stride, y0, y1);
}

/// 8-bit 5x5 (3x3 has a kernel of its own), 1 to 4 interleaved channels.
CONVKIT_MEDIAN_CLONES
void network_rows_u8(const Source<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t stride,
                     int y0, int y1) {
  switch (src.cn) {
    case 1:
      return network_rows<5, 1>(src, dst, stride, y0, y1);
    case 2:
      return network_rows<5, 2>(src, dst, stride, y0, y1);
    case 3:
      return network_rows<5, 3>(src, dst, stride, y0, y1);
    default:
      return network_rows<5, 4>(src, dst, stride, y0, y1);
  }
}

CONVKIT_MEDIAN_CLONES
void network_rows_f32(const Source<float>& src, float* dst, std::ptrdiff_t stride, int y0, int y1,
                      int k) {
  network_rows_any(src, dst, stride, y0, y1, k);
}

// ---------------------------------------------------------------------------
// 3x3 on 8-bit samples, straight from the caller's rows (no padded copy),
// interleaved channels allowed (neighbouring pixels are `cn` bytes apart).
//
// Two output rows at a time: rows y and y+1 are sorted as a pair once, and
// the rows above and below are merged in, which gives every column of 3 of
// both windows sorted (lo, mid, hi).  Those go to small buffers, one chunk of
// the row at a time so that everything stays in the L1 cache; a second pass
// takes for each output the max of the 3 column lows, the min of the 3 column
// highs and the median of the 3 column middles, and their median.  Vectors
// of L bytes throughout; the last vector of a run is placed to end at the
// run's end (overlapping the one before: the same values are written again),
// so no sample is ever done one at a time.

// The helpers below return vectors by value; they are always inlined, so no
// call ever passes a vector and GCC's note that such calls would change ABI
// between the AVX-512, AVX2 and baseline builds does not apply.  (GCC reports
// it where the templates are instantiated, at the end of the file, so the
// pragma holds to the end.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

/// L bytes of samples: 64 (AVX-512BW), 32 (AVX2) or 16 (baseline SSE2).
template <int L>
struct Bytes {
  typedef std::uint8_t type __attribute__((vector_size(L)));
  typedef std::uint8_t unaligned __attribute__((vector_size(L), aligned(1), may_alias));
};

template <class V>
CONVKIT_INLINE V vmin(V a, V b) {
  return a < b ? a : b;
}
template <class V>
CONVKIT_INLINE V vmax(V a, V b) {
  return a > b ? a : b;
}

/// Output bytes per chunk of a row: 4 source rows, 6 sorted-column buffers
/// and 2 output rows of this size fit in a 32 KiB L1 data cache.
constexpr int kChunk3 = 1024;

template <int L>
struct Median3 {
  using V = typename Bytes<L>::type;
  using U = typename Bytes<L>::unaligned;

  static CONVKIT_INLINE V ld(const std::uint8_t* p) { return *reinterpret_cast<const U*>(p); }
  static CONVKIT_INLINE void st(std::uint8_t* p, V v) { *reinterpret_cast<U*>(p) = v; }

  /// Sorted columns of the two windows: buffer index j is row sample
  /// x0 - cn + j.  `a` holds rows (r0, r1, r2), `b` rows (r1, r2, r3).
  std::uint8_t* a[3];
  std::uint8_t* b[3];

  /// Samples [s0, s1) (s1 - s0 >= L) of the four rows, sorted into the
  /// buffers at j = s - base.
  CONVKIT_INLINE void sort_columns(const std::uint8_t* const r[6], int s0, int s1, int base,
                                   bool two) const {
    // Local copies: the stores below are of bytes, which may alias anything,
    // so pointers read through r or this would be read again after each.
    const std::uint8_t *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3], *r4 = r[4], *r5 = r[5];
    std::uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *b0 = b[0], *b1 = b[1], *b2 = b[2];
    for (int s = s0;; s += L) {
      if (s > s1 - L) s = s1 - L;
      // The two rows the next pair reads first: fetched a pair ahead, the
      // loads below do not wait for memory.
      __builtin_prefetch(r4 + s);
      __builtin_prefetch(r5 + s);
      const V top = ld(r0 + s), u = ld(r1 + s), d = ld(r2 + s);
      const V plo = vmin(u, d), phi = vmax(u, d);
      const int j = s - base;
      {
        const V t = vmax(plo, top);
        st(a0 + j, vmin(plo, top));
        st(a1 + j, vmin(t, phi));
        st(a2 + j, vmax(t, phi));
      }
      if (two) {
        const V bot = ld(r3 + s), t = vmax(plo, bot);
        st(b0 + j, vmin(plo, bot));
        st(b1 + j, vmin(t, phi));
        st(b2 + j, vmax(t, phi));
      }
      if (s == s1 - L) break;
    }
  }

  /// Outputs [0, c) (c >= L) of one row from the sorted columns `col`.
  static CONVKIT_INLINE void combine(std::uint8_t* const col[3], int cn, int c, std::uint8_t* out,
                                     std::uint8_t* next) {
    const std::uint8_t *lo = col[0], *mid = col[1], *hi = col[2];
    for (int x = 0;; x += L) {
      if (x > c - L) x = c - L;
      __builtin_prefetch(next + x, 1);  // the output row of the next pair, for writing
      const V l = vmax(vmax(ld(lo + x), ld(lo + x + cn)), ld(lo + x + 2 * cn));
      const V h = vmin(vmin(ld(hi + x), ld(hi + x + cn)), ld(hi + x + 2 * cn));
      const V m0 = ld(mid + x), m1 = ld(mid + x + cn), m2 = ld(mid + x + 2 * cn);
      const V m = vmax(vmin(m0, m1), vmin(vmax(m0, m1), m2));
      st(out + x, vmax(vmin(l, h), vmin(vmax(l, h), m)));
      if (x == c - L) break;
    }
  }

  /// Output rows [y0, y1) of an image whose rows are n = width * cn >= L
  /// bytes long.
  static void rows(const std::uint8_t* src, std::ptrdiff_t sstride, std::uint8_t* dst,
                   std::ptrdiff_t dstride, int n, int height, int cn, int y0, int y1) {
    const int cap = kChunk3 + 2 * cn;
    std::vector<std::uint8_t> store(static_cast<std::size_t>(cap) * 6 + 64);
    Median3 m;
    for (int i = 0; i < 3; ++i) {
      m.a[i] = store.data() + static_cast<std::ptrdiff_t>(i) * cap;
      m.b[i] = store.data() + static_cast<std::ptrdiff_t>(3 + i) * cap;
    }
    auto row = [&](int y) { return src + std::clamp(y, 0, height - 1) * sstride; };
    for (int y = y0; y < y1; y += 2) {
      const bool two = y + 1 < y1;
      const std::uint8_t* const r[6] = {row(y - 1), row(y),     row(y + 1),
                                        row(y + 2), row(y + 3), row(y + 4)};
      std::uint8_t* out0 = dst + static_cast<std::ptrdiff_t>(y) * dstride;
      std::uint8_t* out1 = out0 + dstride;
      for (int x0 = 0; x0 < n; x0 += kChunk3) {
        // Chunks of at least L outputs: a short last chunk moves back.
        const int c0 = std::max(0, std::min(x0, n - L));
        const int c = std::min(kChunk3, n - c0);
        const int s0 = std::max(c0 - cn, 0), s1 = std::min(c0 + c + cn, n);
        const int base = c0 - cn;
        m.sort_columns(r, s0, s1, base, two);
        // Replicated border: the column left of sample 0 is the one of
        // sample 0 of the same channel, likewise on the right.
        auto pad = [&](std::uint8_t* const buf[3]) {
          for (int i = 0; i < 3; ++i) {
            if (c0 == 0) std::memcpy(buf[i], buf[i] + cn, static_cast<std::size_t>(cn));
            if (c0 + c == n) std::memcpy(buf[i] + c + cn, buf[i] + c, static_cast<std::size_t>(cn));
          }
        };
        pad(m.a);
        // The next pair's output rows (past the band's last row: this
        // pair's again, a harmless prefetch).
        const std::ptrdiff_t ahead = y + 3 < y1 ? 2 * dstride : 0;
        combine(m.a, cn, c, out0 + c0, out0 + ahead + c0);
        if (two) {
          pad(m.b);
          combine(m.b, cn, c, out1 + c0, out1 + ahead + c0);
        }
      }
    }
  }
};

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512bw"))) void median3_avx512(const std::uint8_t* src,
                                                        std::ptrdiff_t sstride, std::uint8_t* dst,
                                                        std::ptrdiff_t dstride, int n, int h,
                                                        int cn, int y0, int y1) {
  Median3<64>::rows(src, sstride, dst, dstride, n, h, cn, y0, y1);
}
__attribute__((target("avx2"))) void median3_avx2(const std::uint8_t* src, std::ptrdiff_t sstride,
                                                  std::uint8_t* dst, std::ptrdiff_t dstride, int n,
                                                  int h, int cn, int y0, int y1) {
  Median3<32>::rows(src, sstride, dst, dstride, n, h, cn, y0, y1);
}

// With AVX-512 VBMI (a byte permute across two registers) no buffer is
// needed: the sorted columns of 64 samples stay in registers, and those of
// the neighbouring pixels (cn samples left and right) are one permute of two
// consecutive vectors away.  Per 64 samples of a row pair: 4 loads, 2 stores.
#define CONVKIT_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) inline

struct Cols3 {
  __m512i lo, mid, hi;
};

CONVKIT_VBMI __m512i vbmi_med3(__m512i a, __m512i b, __m512i c) {
  return _mm512_max_epu8(_mm512_min_epu8(a, b), _mm512_min_epu8(_mm512_max_epu8(a, b), c));
}

/// Bits [a, b) of a 64-bit mask, 0 <= a, b <= 64.
inline std::uint64_t bit_range(int a, int b) {
  if (a >= b) return 0;
  const std::uint64_t upto_b = b >= 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << b) - 1;
  return upto_b & ~((std::uint64_t(1) << a) - 1);
}

/// The sorted columns at samples [x, x + 64) (loads masked by m) of the
/// window of row y (rows r0 r1 r2: a) and of row y + 1 (r1 r2 r3: b).
CONVKIT_VBMI void vbmi_columns(const std::uint8_t* r0, const std::uint8_t* r1,
                               const std::uint8_t* r2, const std::uint8_t* r3, int x, __mmask64 m,
                               Cols3& a, Cols3& b) {
  const __m512i top = _mm512_maskz_loadu_epi8(m, r0 + x), u = _mm512_maskz_loadu_epi8(m, r1 + x);
  const __m512i d = _mm512_maskz_loadu_epi8(m, r2 + x), bot = _mm512_maskz_loadu_epi8(m, r3 + x);
  const __m512i plo = _mm512_min_epu8(u, d), phi = _mm512_max_epu8(u, d);
  __m512i t = _mm512_max_epu8(plo, top);
  a = {_mm512_min_epu8(plo, top), _mm512_min_epu8(t, phi), _mm512_max_epu8(t, phi)};
  t = _mm512_max_epu8(plo, bot);
  b = {_mm512_min_epu8(plo, bot), _mm512_min_epu8(t, phi), _mm512_max_epu8(t, phi)};
}

/// One row's 64 medians from the sorted columns of the previous, current
/// and next vector.  Samples whose left (right) neighbour lies past the
/// border, bits `left` (`right`), take their own column: the replicated
/// pixel's column is the same.
CONVKIT_VBMI __m512i vbmi_medians(const Cols3& p, const Cols3& c, const Cols3& nx, __m512i im,
                                  __m512i ip, __mmask64 left, __mmask64 right) {
  const __mmask64 kl = static_cast<__mmask64>(~left), kr = static_cast<__mmask64>(~right);
  const __m512i lo_l = _mm512_mask_permutex2var_epi8(c.lo, kl, im, p.lo);
  const __m512i lo_r = _mm512_mask_permutex2var_epi8(c.lo, kr, ip, nx.lo);
  const __m512i hi_l = _mm512_mask_permutex2var_epi8(c.hi, kl, im, p.hi);
  const __m512i hi_r = _mm512_mask_permutex2var_epi8(c.hi, kr, ip, nx.hi);
  const __m512i mid_l = _mm512_mask_permutex2var_epi8(c.mid, kl, im, p.mid);
  const __m512i mid_r = _mm512_mask_permutex2var_epi8(c.mid, kr, ip, nx.mid);
  const __m512i lo = _mm512_max_epu8(_mm512_max_epu8(lo_l, c.lo), lo_r);
  const __m512i hi = _mm512_min_epu8(_mm512_min_epu8(hi_l, c.hi), hi_r);
  return vbmi_med3(lo, vbmi_med3(mid_l, c.mid, mid_r), hi);
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void median3_vbmi(
    const std::uint8_t* src, std::ptrdiff_t sstride, std::uint8_t* dst, std::ptrdiff_t dstride,
    int n, int height, int cn, int y0, int y1) {
  // Byte p of the left neighbours is byte p - cn of the current vector, or
  // byte 64 + p - cn of the previous one (index bit 6 picks the second
  // table); of the right neighbours byte p + cn of the current or the next.
  alignas(64) std::uint8_t left_index[64], right_index[64];
  for (int p = 0; p < 64; ++p) {
    left_index[p] = static_cast<std::uint8_t>((p - cn) & 127);
    right_index[p] = static_cast<std::uint8_t>(p + cn);
  }
  const __m512i im = _mm512_load_si512(left_index), ip = _mm512_load_si512(right_index);
  const int nv = (n + 63) / 64;
  auto row = [&](int y) { return src + std::clamp(y, 0, height - 1) * sstride; };
  auto load_mask = [&](int k) {
    return static_cast<__mmask64>(bit_range(0, std::min(64, n - 64 * k)));
  };
  for (int y = y0; y < y1; y += 2) {
    const bool two = y + 1 < y1;
    const std::uint8_t *r0 = row(y - 1), *r1 = row(y), *r2 = row(y + 1), *r3 = row(y + 2);
    const std::uint8_t *f0 = row(y + 3), *f1 = row(y + 4);  // the next pair's new rows
    std::uint8_t* out0 = dst + static_cast<std::ptrdiff_t>(y) * dstride;
    std::uint8_t* out1 = out0 + dstride;
    Cols3 pa, ca, na, pb, cb, nb;
    vbmi_columns(r0, r1, r2, r3, 0, load_mask(0), ca, cb);
    pa = ca;
    pb = cb;
    for (int k = 0; k < nv; ++k) {
      const int x = 64 * k;
      if (k + 1 < nv) {
        vbmi_columns(r0, r1, r2, r3, x + 64, load_mask(k + 1), na, nb);
      } else {
        na = ca;  // only read by samples whose right neighbour is the border
        nb = cb;
      }
      __builtin_prefetch(f0 + x);
      __builtin_prefetch(f1 + x);
      const __mmask64 left = static_cast<__mmask64>(k == 0 ? bit_range(0, cn) : 0);
      const __mmask64 right = static_cast<__mmask64>(
          bit_range(std::clamp(n - cn - x, 0, 64), std::clamp(n - x, 0, 64)));
      const __mmask64 store = load_mask(k);
      _mm512_mask_storeu_epi8(out0 + x, store, vbmi_medians(pa, ca, na, im, ip, left, right));
      if (two)
        _mm512_mask_storeu_epi8(out1 + x, store, vbmi_medians(pb, cb, nb, im, ip, left, right));
      pa = ca;
      ca = na;
      pb = cb;
      cb = nb;
    }
  }
}
#endif

/// The 3x3 kernels, widest first; `automatic` takes the widest the CPU has.
detail::Median3Kernel& median3_choice() {
  static detail::Median3Kernel choice = detail::Median3Kernel::automatic;
  return choice;
}

detail::Median3Kernel median3_kernel() {
  using K = detail::Median3Kernel;
  if (median3_choice() != K::automatic) return median3_choice();
  for (K k : {K::avx512_vbmi, K::avx512, K::avx2})
    if (detail::median3_kernel_available(k)) return k;
  return K::baseline;
}

/// Output rows [y0, y1), rows n >= 64 bytes long (the widest vector).
void median3_rows(const std::uint8_t* src, std::ptrdiff_t sstride, std::uint8_t* dst,
                  std::ptrdiff_t dstride, int n, int h, int cn, int y0, int y1) {
  switch (median3_kernel()) {
#if defined(__x86_64__) && defined(__GNUC__)
    case detail::Median3Kernel::avx512_vbmi:
      return median3_vbmi(src, sstride, dst, dstride, n, h, cn, y0, y1);
    case detail::Median3Kernel::avx512:
      return median3_avx512(src, sstride, dst, dstride, n, h, cn, y0, y1);
    case detail::Median3Kernel::avx2:
      return median3_avx2(src, sstride, dst, dstride, n, h, cn, y0, y1);
#endif
    default:
      return Median3<16>::rows(src, sstride, dst, dstride, n, h, cn, y0, y1);
  }
}

/// The whole 3x3 median of an 8-bit image of `cn` interleaved channels.
/// Rows shorter than the widest vector are first widened by copies of their
/// last pixel (the replicated border makes that change no output).
void median3_u8(const std::uint8_t* src, std::ptrdiff_t sstride, std::uint8_t* dst,
                std::ptrdiff_t dstride, int width, int height, int cn) {
  const int n = width * cn;
  if (n >= 64) {
    parallel_for(0, (height + 1) / 2, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      median3_rows(src, sstride, dst, dstride, n, height, cn, static_cast<int>(2 * lo),
                   static_cast<int>(std::min<std::ptrdiff_t>(2 * hi, height)));
    });
    return;
  }
  const int wide = (64 + cn - 1) / cn, nw = wide * cn;
  std::vector<std::uint8_t> in(static_cast<std::size_t>(nw) * height),
      out(static_cast<std::size_t>(nw) * height);
  for (int y = 0; y < height; ++y) {
    std::uint8_t* r = in.data() + static_cast<std::ptrdiff_t>(y) * nw;
    std::memcpy(r, src + y * sstride, static_cast<std::size_t>(n));
    for (int x = n; x < nw; x += cn) std::memcpy(r + x, r + n - cn, static_cast<std::size_t>(cn));
  }
  median3_rows(in.data(), nw, out.data(), nw, nw, height, cn, 0, height);
  for (int y = 0; y < height; ++y)
    std::memcpy(dst + y * dstride, out.data() + static_cast<std::ptrdiff_t>(y) * nw,
                static_cast<std::size_t>(n));
}

// ---------------------------------------------------------------------------
// Perreault & Hebert: constant time per sample for 8-bit data.

/// 16 counts of a histogram level, one vector.
typedef std::uint16_t Counts __attribute__((vector_size(32)));
typedef std::uint16_t CountsU __attribute__((vector_size(32), aligned(2), may_alias));

CONVKIT_INLINE void load_counts(Counts& v, const std::uint16_t* p) {
  v = *reinterpret_cast<const CountsU*>(p);
}

/// The first bin whose running count passes `rank`; `acc` gets the count of
/// the bins before it added.
CONVKIT_INLINE int find_bin(const Counts& c, int rank, int& acc) {
  int b = 0;
  while (acc + c[b] <= rank) acc += c[b++];
  return b;
}

/// Output columns [x0, x1) of rows [y0, y1), any odd K >= 3.  Column histograms (coarse: 16
/// bins of the high nibble, fine: 256 bins) cover the K padded rows of the
/// current output row; the kernel histogram is their sum over K columns.
/// Its coarse level slides one column at a time; a fine 16-bin segment is
/// brought up to date only when the median falls in it.
CONVKIT_MEDIAN_CLONES_AVX2
void histogram_tile(const Source<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                    int x0, int x1, int y0, int y1, int k) {
  const int w = x1 - x0, wp = w + k - 1;
  std::vector<std::uint16_t> hc(static_cast<std::size_t>(wp) * 16, 0);
  std::vector<std::uint16_t> hf(static_cast<std::size_t>(wp) * 256, 0);
  std::vector<std::uint8_t> row(static_cast<std::size_t>(wp));
  auto add_row = [&](int py, int delta) {
    src.padded(py, x0, wp, row.data());
    const auto d = static_cast<std::uint16_t>(delta);
    for (int p = 0; p < wp; ++p) {
      hc[static_cast<std::size_t>(p) * 16 + (row[p] >> 4)] += d;
      hf[static_cast<std::size_t>(p) * 256 + row[p]] += d;
    }
  };
  for (int i = 0; i < k; ++i) add_row(y0 + i, 1);
  const int rank = k * k / 2;  // 0-based rank of the median
  Counts kc;
  Counts kf[16];
  int fresh[16];  // the column x at which each fine segment was last exact
  for (int y = y0; y < y1; ++y) {
    if (y > y0) {
      add_row(y - 1, -1);
      add_row(y + k - 1, 1);
    }
    kc = Counts{};
    for (int p = 0; p < k; ++p) {
      Counts col;
      load_counts(col, hc.data() + static_cast<std::size_t>(p) * 16);
      kc += col;
    }
    std::fill(fresh, fresh + 16, -k);  // stale: recomputed at first use
    std::uint8_t* out = dst + static_cast<std::ptrdiff_t>(y) * dst_stride + x0;
    for (int x = 0; x < w; ++x) {
      if (x > 0) {
        Counts in, gone;
        load_counts(in, hc.data() + static_cast<std::size_t>(x + k - 1) * 16);
        load_counts(gone, hc.data() + static_cast<std::size_t>(x - 1) * 16);
        kc += in - gone;
      }
      int acc = 0;
      const int b = find_bin(kc, rank, acc);
      Counts& seg = kf[b];
      if (2 * (x - fresh[b]) > k) {
        seg = Counts{};
        for (int p = x; p < x + k; ++p) {
          Counts h;
          load_counts(h, hf.data() + static_cast<std::size_t>(p) * 256 + b * 16);
          seg += h;
        }
      } else {
        for (int c = fresh[b] + 1; c <= x; ++c) {
          Counts in, gone;
          load_counts(in, hf.data() + static_cast<std::size_t>(c + k - 1) * 256 + b * 16);
          load_counts(gone, hf.data() + static_cast<std::size_t>(c - 1) * 256 + b * 16);
          seg += in - gone;
        }
      }
      fresh[b] = x;
      out[x] = static_cast<std::uint8_t>(b * 16 + find_bin(seg, rank, acc));
    }
  }
}

/// The generic exact path for K >= 7 on data that is not 8-bit.
void select_rows(const Source<float>& src, float* dst, std::ptrdiff_t dst_stride, int y0, int y1,
                 int k) {
  std::vector<float> window(static_cast<std::size_t>(k) * k);
  const auto mid = window.begin() + k * k / 2;
  RowRing<float> rows(src, k, 0, src.width + k - 1);
  for (int y = y0; y < y1; ++y) {
    rows.move_to(y);
    for (int x = 0; x < src.width; ++x) {
      for (int i = 0; i < k; ++i) std::copy_n(rows.row(i) + x, k, window.begin() + i * k);
      std::nth_element(window.begin(), mid, window.end());
      dst[static_cast<std::ptrdiff_t>(y) * dst_stride + x] = *mid;
    }
  }
}

void median_source_u8(const Source<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t stride,
                      int k) {
  const int h = src.height;
  if (k <= 5) {
    parallel_for(0, h, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      network_rows_u8(src, dst, stride, static_cast<int>(lo), static_cast<int>(hi));
    });
  } else {
    // Tiles: stripes of columns whose histograms stay in the cache, and row
    // bands when there are too few stripes for the threads (each band starts
    // by filling K rows of column histograms).
    const int w = src.width, stripe = 384;
    const int stripes = (w + stripe - 1) / stripe;
    const int bands = std::clamp(2 * thread_count() / stripes, 1, std::max(1, h / (4 * k)));
    parallel_for(0, stripes * bands, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      for (auto t = lo; t < hi; ++t) {
        const int s = static_cast<int>(t) % stripes, b = static_cast<int>(t) / stripes;
        histogram_tile(src, dst, stride, s * stripe, std::min(w, (s + 1) * stripe),
                       static_cast<int>(std::int64_t(h) * b / bands),
                       static_cast<int>(std::int64_t(h) * (b + 1) / bands), k);
      }
    });
  }
}

}  // namespace

namespace detail {

bool median3_kernel_available(Median3Kernel kernel) {
  const detail::CpuFeatures& cpu = detail::cpu_features();
  const bool avx2 = cpu.avx2, avx512 = cpu.avx512bw, vbmi = cpu.avx512vbmi;
  switch (kernel) {
    case Median3Kernel::avx512_vbmi:
      return vbmi;
    case Median3Kernel::avx512:
      return avx512;
    case Median3Kernel::avx2:
      return avx2;
    default:
      return true;
  }
}

void set_median3_kernel(Median3Kernel kernel) {
  if (!median3_kernel_available(kernel))
    throw Error("median: this CPU cannot run the requested 3x3 kernel");
  median3_choice() = kernel;
}

}  // namespace detail

void check_median_size(int size) {
  if (size < 1 || size > kMaxMedianSize)
    throw UsageError("median size " + std::to_string(size) + " is out of range (1 to " +
                     std::to_string(kMaxMedianSize) + ")");
  if (size % 2 == 0)
    throw UsageError("median size " + std::to_string(size) +
                     " is even: a median window needs a centre sample (use an odd size)");
}

void median_u8(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
               std::ptrdiff_t dst_stride, int width, int height, int size, int channels) {
  check_median_size(size);
  if (width <= 0 || height <= 0) throw Error("median: the image is empty");
  if (channels < 1 || channels > 4)
    throw UsageError("median: channels " + std::to_string(channels) + " is out of range (1 to 4)");
  const std::size_t row = static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  if (size == 1) {
    for (int y = 0; y < height; ++y) std::memcpy(dst + y * dst_stride, src + y * src_stride, row);
    return;
  }
  if (size == 3) return median3_u8(src, src_stride, dst, dst_stride, width, height, channels);
  if (channels > 1 && size > 5) {
    // The histograms take one channel: each goes through a plane of its own.
    const std::size_t n = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    std::vector<std::uint8_t> in(n), out(n);
    for (int c = 0; c < channels; ++c) {
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
          in[static_cast<std::size_t>(y) * width + x] = src[y * src_stride + x * channels + c];
      median_u8(in.data(), width, out.data(), width, width, height, size, 1);
      for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
          dst[y * dst_stride + x * channels + c] = out[static_cast<std::size_t>(y) * width + x];
    }
    return;
  }
  Source<std::uint8_t> s{width, height, size / 2,
                         [&](int y, int x, int n, std::uint8_t* out) {
                           std::memcpy(out, src + y * src_stride + x, static_cast<std::size_t>(n));
                         },
                         channels};
  median_source_u8(s, dst, dst_stride, size);
}

Image median(const Image& in, const MedianOptions& opts) {
  check_median_size(opts.size);
  const std::size_t n = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  if (in.width <= 0 || in.height <= 0 || in.channels <= 0 ||
      in.data.size() != n * static_cast<std::size_t>(in.channels))
    throw Error("the image is empty or its pixel buffer does not match its size");
  Image out = in;
  const int k = opts.size, r = k / 2, w = in.width, h = in.height;
  const int colour = in.has_alpha() ? in.channels - 1 : in.channels;
  if (k == 1) return out;
  for (int c = 0; c < colour; ++c) {
    const float* plane = in.plane(c);
    // Branch-free, so it vectorises: adding and taking away 1.5 * 2^23 rounds
    // a float below 2^22 to a whole number.
    constexpr float kRound = 12582912.f;
    int nan = 0, not_byte = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float v = plane[i];
      nan |= v != v;
      not_byte |= !(v >= 0.f) | !(v <= 255.f) | ((v + kRound) - kRound != v);
    }
    const bool bytes = !not_byte;
    if (nan)
      throw Error("median: channel " + std::to_string(c) + " has NaN samples (NaN has no order)");
    float* dst = out.plane(c);
    auto at = [&](int y, int x) { return plane + static_cast<std::ptrdiff_t>(y) * w + x; };
    if (bytes) {
      std::vector<std::uint8_t> in8(n), res(n);
      for (std::size_t i = 0; i < n; ++i) in8[i] = static_cast<std::uint8_t>(plane[i]);
      median_u8(in8.data(), w, res.data(), w, w, h, k);
      std::copy(res.begin(), res.end(), dst);
    } else {
      Source<float> p{w, h, r,
                      [&](int y, int x, int count, float* o) { std::copy_n(at(y, x), count, o); }};
      parallel_for(0, h, k <= 5 ? 16 : 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        if (k <= 5)
          network_rows_f32(p, dst, w, static_cast<int>(lo), static_cast<int>(hi), k);
        else
          select_rows(p, dst, w, static_cast<int>(lo), static_cast<int>(hi), k);
      });
    }
  }
  return out;
}

}  // namespace convkit

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

// The hot loops are compiled twice, for AVX2 and for the baseline, and the
// CPU picks one at load time (GCC's function multiversioning).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CONVKIT_MEDIAN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CONVKIT_MEDIAN_CLONES
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

  /// Padded samples [p0, p0 + n) of padded row py (padded row/column i is
  /// source row/column i - r, clamped into the image).
  void padded(int py, int p0, int n, T* out) const {
    const int y = std::clamp(py - r, 0, height - 1);
    const int left = std::clamp(r - p0, 0, n), mid = std::clamp(width + r - p0, left, n);
    T edge{};
    if (left > 0) {
      fill(y, 0, 1, &edge);
      std::fill(out, out + left, edge);
    }
    if (mid > left) fill(y, p0 + left - r, mid - left, out + left);
    if (n > mid) {
      fill(y, width - 1, 1, &edge);
      std::fill(out + mid, out + n, edge);
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

/// Output rows [y0, y1) of a K x K median (K = 3, 5) by the networks.
template <int K, class T>
CONVKIT_INLINE void network_rows(const Source<T>& src, T* dst, std::ptrdiff_t dst_stride, int y0,
                                 int y1) {
  using V = typename VecOf<T>::type;
  constexpr int L = sizeof(V) / sizeof(T);
  const int w = src.width, wp = w + K - 1;
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
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (load(v[I], row[I] + p), ...);
      }
      (std::make_index_sequence<K>{});
      apply<kNetworks<K>, false>(v, std::make_index_sequence<kNetworks<K>.nsort>{});
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (store(cs.data() + std::ptrdiff_t(I) * cs_stride + p, v[I]), ...);
      }
      (std::make_index_sequence<K>{});
    }
    T* out = dst + static_cast<std::ptrdiff_t>(y) * dst_stride;
    for (int x = 0; x < w; x += L) {
      // Position c*K + i: rank i of column x + c.
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (load(v[I], cs.data() + std::ptrdiff_t(I % K) * cs_stride + x + int(I / K)), ...);
      }
      (std::make_index_sequence<K * K>{});
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

template <class T>
CONVKIT_INLINE void network_rows_any(const Source<T>& src, T* dst, std::ptrdiff_t stride, int y0,
                                     int y1, int k) {
  if (k == 3)
    network_rows<3>(src, dst, stride, y0, y1);
  else
    network_rows<5>(src, dst, stride, y0, y1);
}

CONVKIT_MEDIAN_CLONES
void network_rows_u8(const Source<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t stride,
                     int y0, int y1, int k) {
  network_rows_any(src, dst, stride, y0, y1, k);
}

CONVKIT_MEDIAN_CLONES
void network_rows_f32(const Source<float>& src, float* dst, std::ptrdiff_t stride, int y0, int y1,
                      int k) {
  network_rows_any(src, dst, stride, y0, y1, k);
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
CONVKIT_MEDIAN_CLONES
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
      network_rows_u8(src, dst, stride, static_cast<int>(lo), static_cast<int>(hi), k);
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

void check_median_size(int size) {
  if (size < 1 || size > kMaxMedianSize)
    throw UsageError("median size " + std::to_string(size) + " is out of range (1 to " +
                     std::to_string(kMaxMedianSize) + ")");
  if (size % 2 == 0)
    throw UsageError("median size " + std::to_string(size) +
                     " is even: a median window needs a centre sample (use an odd size)");
}

void median_u8(const std::uint8_t* src, std::ptrdiff_t src_stride, std::uint8_t* dst,
               std::ptrdiff_t dst_stride, int width, int height, int size) {
  check_median_size(size);
  if (width <= 0 || height <= 0) throw Error("median: the image is empty");
  if (size == 1) {
    for (int y = 0; y < height; ++y)
      std::memcpy(dst + y * dst_stride, src + y * src_stride, static_cast<std::size_t>(width));
    return;
  }
  Source<std::uint8_t> s{width, height, size / 2, [&](int y, int x, int n, std::uint8_t* out) {
                           std::memcpy(out, src + y * src_stride + x, static_cast<std::size_t>(n));
                         }};
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
      Source<std::uint8_t> p{w, h, r, [&](int y, int x, int count, std::uint8_t* o) {
                               const float* s = at(y, x);
                               for (int i = 0; i < count; ++i)
                                 o[i] = static_cast<std::uint8_t>(s[i]);
                             }};
      std::vector<std::uint8_t> res(n);
      median_source_u8(p, res.data(), w, k);
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

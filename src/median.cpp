// src/median.cpp — the median filter (see convkit/median.hpp for the choices).
#include "convkit/median.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
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
// Sorting networks, built once and checked by the 0-1 principle.

/// One compare-exchange: a gets the smaller, b the larger value.  A pruned
/// network keeps only the half whose result is used later.
struct Op {
  std::uint8_t a, b;
  enum Kind : std::uint8_t { both, min_only, max_only } kind;
};

/// Batcher's odd-even merge sort for the next power of two >= n, without the
/// comparators that touch positions >= n (think of them as +infinity: they
/// never move, so those comparators never exchange).
std::vector<std::pair<int, int>> batcher(int n) {
  int big = 1;
  while (big < n) big <<= 1;
  std::vector<std::pair<int, int>> out;
  for (int p = 1; p < big; p <<= 1)
    for (int k = p; k >= 1; k >>= 1)
      for (int j = k % p; j + k < big; j += 2 * k)
        for (int i = 0; i < std::min(k, big - j - k); ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < n)
            out.push_back({i + j, i + j + k});
  return out;
}

/// Apply the exchanges to 0-1 inputs, one bit per position.
bool exchanges(std::uint32_t m, int a, int b) {
  return ((m >> a) & 1u) && !((m >> b) & 1u);
}
void exchange(std::uint32_t& m, int a, int b) {
  if (exchanges(m, a, b)) m ^= (1u << a) | (1u << b);
}

/// Keep the comparators that exchange for some input in `inputs` (which are
/// advanced through the kept ones), then drop what does not feed `keep`
/// positions (all when keep is empty).  Every comparator dropped in the first
/// step never exchanges for any real input of the same shape, by the 0-1
/// principle: thresholding a real input at the larger of the two values
/// would give a 0-1 input on which it exchanges.
std::vector<Op> prune(const std::vector<std::pair<int, int>>& net,
                      std::vector<std::uint32_t>& inputs, int n, int keep) {
  std::vector<std::pair<int, int>> live;
  for (auto [a, b] : net) {
    bool used = false;
    for (std::uint32_t m : inputs) used = used || exchanges(m, a, b);
    if (!used) continue;
    live.push_back({a, b});
    for (std::uint32_t& m : inputs) exchange(m, a, b);
  }
  std::vector<bool> need(static_cast<std::size_t>(n), keep < 0);
  if (keep >= 0) need[static_cast<std::size_t>(keep)] = true;
  std::vector<Op> ops;
  for (auto it = live.rbegin(); it != live.rend(); ++it) {
    const auto [a, b] = *it;
    const bool na = need[static_cast<std::size_t>(a)], nb = need[static_cast<std::size_t>(b)];
    if (!na && !nb) continue;
    ops.push_back({static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b),
                   na && nb ? Op::both
                   : na     ? Op::min_only
                            : Op::max_only});
    need[static_cast<std::size_t>(a)] = need[static_cast<std::size_t>(b)] = true;
  }
  std::reverse(ops.begin(), ops.end());
  return ops;
}

/// Networks for a K x K window: `sort` sorts a column of K samples; `select`
/// takes K sorted columns (position c*K + i holds rank i of column c) and
/// leaves their median at position `mid`.
struct Networks {
  int k = 0, mid = 0;
  std::vector<Op> sort, select;
};

Networks build_networks(int k) {
  Networks net;
  net.k = k;
  const int n = k * k;
  net.mid = n / 2;
  // Column sort: every 0-1 column of k samples.
  std::vector<std::uint32_t> cols;
  for (std::uint32_t m = 0; m < (1u << k); ++m) cols.push_back(m);
  net.sort = prune(batcher(k), cols, k, -1);
  for (std::uint32_t m : cols) {
    const int ones = __builtin_popcount(m);
    if (m != ((1u << k) - 1) - ((1u << (k - ones)) - 1))
      throw std::logic_error("median: column sorting network does not sort");
  }
  // Selection over sorted columns: every count of ones per column.
  std::vector<std::uint32_t> inputs{0};
  for (int c = 0; c < k; ++c) {
    std::vector<std::uint32_t> next;
    for (std::uint32_t m : inputs)
      for (int ones = 0; ones <= k; ++ones) {
        std::uint32_t col = ((1u << k) - 1) & ~((1u << (k - ones)) - 1);
        next.push_back(m | (col << (c * k)));
      }
    inputs.swap(next);
  }
  std::vector<int> ones;
  for (std::uint32_t m : inputs) ones.push_back(__builtin_popcount(m));
  net.select = prune(batcher(n), inputs, n, net.mid);
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (((inputs[i] >> net.mid) & 1u) != (net.mid >= n - ones[i] ? 1u : 0u))
      throw std::logic_error("median: selection network does not find the median");
  return net;
}

const Networks& networks(int k) {
  static const Networks three = build_networks(3), five = build_networks(5);
  return k == 3 ? three : five;
}

template <class T, int L>
CONVKIT_INLINE void apply(T (*v)[L], const std::vector<Op>& ops) {
  for (const Op& o : ops) {
    T* __restrict a = v[o.a];
    T* __restrict b = v[o.b];
    switch (o.kind) {
      case Op::both:
        for (int l = 0; l < L; ++l) {
          const T x = a[l], y = b[l];
          a[l] = x < y ? x : y;
          b[l] = x > y ? x : y;
        }
        break;
      case Op::min_only:
        for (int l = 0; l < L; ++l) a[l] = a[l] < b[l] ? a[l] : b[l];
        break;
      case Op::max_only:
        for (int l = 0; l < L; ++l) b[l] = a[l] > b[l] ? a[l] : b[l];
        break;
    }
  }
}

/// A plane with `r` replicated samples on every side and slack on the right
/// (vector loops read whole blocks past the end).
template <class T>
struct Padded {
  int width = 0, height = 0, r = 0;
  std::ptrdiff_t stride = 0;
  std::vector<T> buf;
  /// Padded row `py` (0 = the row r above the top), from its padded column 0.
  const T* row(int py) const { return buf.data() + static_cast<std::ptrdiff_t>(py) * stride; }
};

constexpr int kSlack = 128;  // samples; at least one vector block

template <class T, class Get>
Padded<T> pad(int w, int h, int r, Get get) {
  Padded<T> p;
  p.width = w;
  p.height = h;
  p.r = r;
  p.stride = w + 2 * r + kSlack;
  p.buf.assign(static_cast<std::size_t>(p.stride) * (h + 2 * r), T(0));
  for (int py = 0; py < h + 2 * r; ++py) {
    const int y = std::clamp(py - r, 0, h - 1);
    T* out = p.buf.data() + static_cast<std::ptrdiff_t>(py) * p.stride;
    for (int x = 0; x < w; ++x) out[x + r] = get(x, y);
    for (int x = 0; x < r; ++x) {
      out[x] = out[r];
      out[w + r + x] = out[w + r - 1];
    }
  }
  return p;
}

/// Output rows [y0, y1) of a 3x3 or 5x5 median by the networks.
template <class T>
CONVKIT_INLINE void network_rows(const Padded<T>& src, T* dst, std::ptrdiff_t dst_stride, int y0,
                                 int y1, const Networks& net) {
  constexpr int L = 64 / sizeof(T);
  const int k = net.k, w = src.width, wp = w + k - 1;
  const std::ptrdiff_t cs_stride = wp + kSlack;
  std::vector<T> cs(static_cast<std::size_t>(cs_stride) * k, T(0));
  alignas(64) T v[25][L];
  for (int y = y0; y < y1; ++y) {
    // Sort the K samples of every padded column once; K outputs share each.
    for (int p = 0; p < wp; p += L) {
      for (int i = 0; i < k; ++i) std::memcpy(v[i], src.row(y + i) + p, sizeof(v[i]));
      apply<T, L>(v, net.sort);
      for (int i = 0; i < k; ++i) std::memcpy(cs.data() + i * cs_stride + p, v[i], sizeof(v[i]));
    }
    T* out = dst + static_cast<std::ptrdiff_t>(y) * dst_stride;
    for (int x = 0; x < w; x += L) {
      for (int c = 0; c < k; ++c)
        for (int i = 0; i < k; ++i)
          std::memcpy(v[c * k + i], cs.data() + i * cs_stride + x + c, sizeof(v[0]));
      apply<T, L>(v, net.select);
      std::memcpy(out + x, v[net.mid], sizeof(T) * static_cast<std::size_t>(std::min(L, w - x)));
    }
  }
}

CONVKIT_MEDIAN_CLONES
void network_rows_u8(const Padded<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t stride,
                     int y0, int y1, const Networks& net) {
  network_rows(src, dst, stride, y0, y1, net);
}

CONVKIT_MEDIAN_CLONES
void network_rows_f32(const Padded<float>& src, float* dst, std::ptrdiff_t stride, int y0, int y1,
                      const Networks& net) {
  network_rows(src, dst, stride, y0, y1, net);
}

// ---------------------------------------------------------------------------
// Perreault & Hebert: constant time per sample for 8-bit data.

/// Output rows [y0, y1) for any odd K >= 3.  Column histograms (coarse: 16
/// bins of the high nibble, fine: 256 bins) cover the K padded rows of the
/// current output row; the kernel histogram is their sum over K columns.
/// Its coarse level slides one column at a time; a fine 16-bin segment is
/// brought up to date only when the median falls in it.
CONVKIT_MEDIAN_CLONES
void histogram_rows(const Padded<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t dst_stride,
                    int y0, int y1, int k) {
  const int w = src.width, wp = w + k - 1;
  std::vector<std::uint16_t> hc(static_cast<std::size_t>(wp) * 16, 0);
  std::vector<std::uint16_t> hf(static_cast<std::size_t>(wp) * 256, 0);
  auto add_row = [&](int py, int delta) {
    const std::uint8_t* row = src.row(py);
    const auto d = static_cast<std::uint16_t>(delta);
    for (int p = 0; p < wp; ++p) {
      hc[static_cast<std::size_t>(p) * 16 + (row[p] >> 4)] += d;
      hf[static_cast<std::size_t>(p) * 256 + row[p]] += d;
    }
  };
  for (int i = 0; i < k; ++i) add_row(y0 + i, 1);
  const int rank = k * k / 2;  // 0-based rank of the median
  alignas(64) std::uint16_t kc[16];
  alignas(64) std::uint16_t kf[256];
  int fresh[16];  // the column x at which each fine segment was last exact
  for (int y = y0; y < y1; ++y) {
    if (y > y0) {
      add_row(y - 1, -1);
      add_row(y + k - 1, 1);
    }
    std::fill(kc, kc + 16, std::uint16_t(0));
    for (int p = 0; p < k; ++p)
      for (int b = 0; b < 16; ++b) kc[b] += hc[static_cast<std::size_t>(p) * 16 + b];
    std::fill(fresh, fresh + 16, -k);  // stale: recomputed at first use
    std::uint8_t* out = dst + static_cast<std::ptrdiff_t>(y) * dst_stride;
    for (int x = 0; x < w; ++x) {
      if (x > 0) {
        const std::uint16_t* in = hc.data() + static_cast<std::size_t>(x + k - 1) * 16;
        const std::uint16_t* gone = hc.data() + static_cast<std::size_t>(x - 1) * 16;
        for (int b = 0; b < 16; ++b) kc[b] = static_cast<std::uint16_t>(kc[b] + in[b] - gone[b]);
      }
      int acc = 0, b = 0;
      while (acc + kc[b] <= rank) acc += kc[b++];
      std::uint16_t* seg = kf + b * 16;
      if (2 * (x - fresh[b]) > k) {
        std::fill(seg, seg + 16, std::uint16_t(0));
        for (int p = x; p < x + k; ++p) {
          const std::uint16_t* h = hf.data() + static_cast<std::size_t>(p) * 256 + b * 16;
          for (int f = 0; f < 16; ++f) seg[f] = static_cast<std::uint16_t>(seg[f] + h[f]);
        }
      } else {
        for (int c = fresh[b] + 1; c <= x; ++c) {
          const std::uint16_t* in = hf.data() + static_cast<std::size_t>(c + k - 1) * 256 + b * 16;
          const std::uint16_t* gone = hf.data() + static_cast<std::size_t>(c - 1) * 256 + b * 16;
          for (int f = 0; f < 16; ++f)
            seg[f] = static_cast<std::uint16_t>(seg[f] + in[f] - gone[f]);
        }
      }
      fresh[b] = x;
      int f = 0;
      while (acc + seg[f] <= rank) acc += seg[f++];
      out[x] = static_cast<std::uint8_t>(b * 16 + f);
    }
  }
}

/// The generic exact path for K >= 7 on data that is not 8-bit.
void select_rows(const Padded<float>& src, float* dst, std::ptrdiff_t dst_stride, int y0, int y1,
                 int k) {
  std::vector<float> window(static_cast<std::size_t>(k) * k);
  const auto mid = window.begin() + k * k / 2;
  for (int y = y0; y < y1; ++y)
    for (int x = 0; x < src.width; ++x) {
      for (int i = 0; i < k; ++i) std::copy_n(src.row(y + i) + x, k, window.begin() + i * k);
      std::nth_element(window.begin(), mid, window.end());
      dst[static_cast<std::ptrdiff_t>(y) * dst_stride + x] = *mid;
    }
}

void median_padded_u8(const Padded<std::uint8_t>& src, std::uint8_t* dst, std::ptrdiff_t stride,
                      int k) {
  const int h = src.height;
  if (k <= 5) {
    const Networks& net = networks(k);
    parallel_for(0, h, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      network_rows_u8(src, dst, stride, static_cast<int>(lo), static_cast<int>(hi), net);
    });
  } else {
    // Each band starts by filling K rows of column histograms.
    parallel_for(0, h, std::max(64, 4 * k), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      histogram_rows(src, dst, stride, static_cast<int>(lo), static_cast<int>(hi), k);
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
  const auto p = pad<std::uint8_t>(width, height, size / 2,
                                   [&](int x, int y) { return src[y * src_stride + x]; });
  median_padded_u8(p, dst, dst_stride, size);
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
    bool bytes = true;
    for (std::size_t i = 0; i < n; ++i) {
      const float v = plane[i];
      if (std::isnan(v))
        throw Error("median: channel " + std::to_string(c) + " has NaN samples (NaN has no order)");
      bytes = bytes && v >= 0.f && v <= 255.f && v == std::floor(v);
    }
    float* dst = out.plane(c);
    auto at = [&](int x, int y) { return plane[static_cast<std::ptrdiff_t>(y) * w + x]; };
    if (bytes) {
      const auto p = pad<std::uint8_t>(
          w, h, r, [&](int x, int y) { return static_cast<std::uint8_t>(at(x, y)); });
      std::vector<std::uint8_t> res(n);
      median_padded_u8(p, res.data(), w, k);
      std::copy(res.begin(), res.end(), dst);
    } else {
      const auto p = pad<float>(w, h, r, at);
      parallel_for(0, h, k <= 5 ? 16 : 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        if (k <= 5)
          network_rows_f32(p, dst, w, static_cast<int>(lo), static_cast<int>(hi), networks(k));
        else
          select_rows(p, dst, w, static_cast<int>(lo), static_cast<int>(hi), k);
      });
    }
  }
  return out;
}

}  // namespace convkit

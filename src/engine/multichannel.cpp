// Multi-channel, batched schedules of the engine's convolution (im2col +
// GEMM) and the pooling windows.  See engine_nn.hpp for the definitions.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "convkit/engine_nn.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

namespace {

// Where row r of the extended input comes from, for every output position m
// and kernel offset i: index[i * out + m] (or -1 for a zero sample).
std::vector<int> axis_map(int out, int k, int stride, int pad_before, int n, Border b) {
  std::vector<int> map(static_cast<std::size_t>(k) * out);
  for (int i = 0; i < k; ++i)
    for (int m = 0; m < out; ++m)
      map[static_cast<std::size_t>(i) * out + m] =
          border_index(static_cast<long long>(m) * stride + i - pad_before, n, b);
  return map;
}

// Row of `col` that holds kernel offset (i, j) of channel c: the weight that
// multiplies the extended sample at offset (i, j) is w[c, i, j] for a
// correlation and w[c, KH-1-i, KW-1-j] for a true convolution.
inline std::int64_t col_row(const ConvGeometry& g, int c, int i, int j) {
  int ki = g.correlate ? i : g.k_h - 1 - i;
  int kj = g.correlate ? j : g.k_w - 1 - j;
  return (static_cast<std::int64_t>(c) * g.k_h + ki) * g.k_w + kj;
}

// Visit every (row of col, output row m, input row r) and hand the caller the
// column map for kernel column j; shared by im2col and col2im.
template <class F>
void for_each_patch_row(int channels, const ConvGeometry& g, F&& fn) {
  const std::vector<int> rmap =
      axis_map(g.out_h, g.k_h, g.stride_y, g.pad.top, g.in_h, g.border.rows);
  const std::vector<int> cmap =
      axis_map(g.out_w, g.k_w, g.stride_x, g.pad.left, g.in_w, g.border.cols);
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < g.k_h; ++i)
      for (int j = 0; j < g.k_w; ++j) {
        const std::int64_t row = col_row(g, c, i, j);
        const int* cm = cmap.data() + static_cast<std::size_t>(j) * g.out_w;
        // Interior columns: k*Sx + j - pad.left inside [0, W) (a contiguous range).
        auto inside = [&](int k) {
          const long long raw = static_cast<long long>(k) * g.stride_x + j - g.pad.left;
          return raw >= 0 && raw < g.in_w;
        };
        int k0 = 0, k1 = g.out_w;
        while (k0 < k1 && !inside(k0)) ++k0;
        while (k1 > k0 && !inside(k1 - 1)) --k1;
        for (int m = 0; m < g.out_h; ++m)
          fn(c, row, m, rmap[static_cast<std::size_t>(i) * g.out_h + m], cm, k0, k1);
      }
}

// The common layer geometry (stride 1, zero border, output rows as wide as
// the input's: "same" padding): row (c, i, j) of col is the channel plane
// shifted by `shift` samples, zero in the output rows outside [m0, m1) and in
// the columns where the shift wraps around a row ([0, wrap_lo) and
// [W - wrap_hi, W)).  One contiguous span per row of col, not one per
// output row.
struct PlaneShift {
  std::int64_t shift = 0;
  int m0 = 0, m1 = 0, wrap_lo = 0, wrap_hi = 0;
  std::int64_t lo = 0, hi = 0;  // the span of col positions read from the plane
};

bool plane_shifts(const ConvGeometry& g) {
  return g.border == Border::zero && g.stride_x == 1 && g.stride_y == 1 && g.out_w == g.in_w;
}

PlaneShift plane_shift(const ConvGeometry& g, int i, int j) {
  const int W = g.in_w;
  const int di = i - g.pad.top, dj = j - g.pad.left;
  PlaneShift p;
  p.shift = static_cast<std::int64_t>(di) * W + dj;
  p.m0 = std::clamp(-di, 0, g.out_h);
  p.m1 = std::clamp(g.in_h - di, p.m0, g.out_h);
  p.wrap_lo = std::clamp(-dj, 0, W);
  p.wrap_hi = std::clamp(dj, 0, W);
  // Positions whose source falls before the plane's first or after its last
  // sample are wrapped columns of the first or last row: left out.
  const std::int64_t plane = static_cast<std::int64_t>(g.in_h) * W;
  p.lo = std::max<std::int64_t>(static_cast<std::int64_t>(p.m0) * W, -p.shift);
  p.hi = std::min<std::int64_t>(static_cast<std::int64_t>(p.m1) * W, plane - p.shift);
  p.hi = std::max(p.hi, p.lo);
  return p;
}

// keep[j][q] = 1 where output position q reads inside its row for kernel
// column j, 0 where the shift wraps around (the select that uses it
// vectorizes; per-row zeroing would be a call per output row).
template <class T>
std::vector<T> wrap_masks(const ConvGeometry& g) {
  const int W = g.in_w;
  const std::int64_t ohw = static_cast<std::int64_t>(g.out_h) * W;
  std::vector<T> keep(static_cast<std::size_t>(g.k_w * ohw));
  for (int j = 0; j < g.k_w; ++j) {
    const PlaneShift p = plane_shift(g, 0, j);
    T* kj = keep.data() + j * ohw;
    for (std::int64_t q = 0; q < ohw; ++q) {
      const int k = static_cast<int>(q % W);
      kj[q] = k >= p.wrap_lo && k < W - p.wrap_hi ? T(1) : T(0);
    }
  }
  return keep;
}

template <class T>
void im2col_shifted(const T* x, int channels, const ConvGeometry& g, const T* keep, T* col) {
  const std::int64_t ohw = static_cast<std::int64_t>(g.out_h) * g.in_w;
  const std::int64_t plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  for (int i = 0; i < g.k_h; ++i)
    for (int j = 0; j < g.k_w; ++j) {
      const PlaneShift p = plane_shift(g, i, j);
      const T* __restrict kj = keep + j * ohw;
      for (int c = 0; c < channels; ++c) {
        T* dst = col + col_row(g, c, i, j) * ohw;
        std::fill(dst, dst + p.lo, T(0));
        if (p.hi > p.lo) {
          // Position q reads sample q + shift of the plane (>= 0 from lo on).
          const T* __restrict s = x + c * plane + (p.lo + p.shift);
          const T* __restrict k = kj + p.lo;
          T* __restrict d = dst + p.lo;
          for (std::int64_t q = 0; q < p.hi - p.lo; ++q) {
            const T v = s[q];
            d[q] = k[q] != T(0) ? v : T(0);
          }
        }
        std::fill(dst + p.hi, dst + ohw, T(0));
      }
    }
}

// Adds row (c, i, j) of col into the plane for every (c, i, j), one
// contiguous span per row (wrapped positions add zero).  Same additions in
// the same order as col2im_add.
template <class T>
void col2im_shifted(const T* col, int channels, const ConvGeometry& g, const T* keep, T* dx) {
  const std::int64_t ohw = static_cast<std::int64_t>(g.out_h) * g.in_w;
  const std::int64_t plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  for (int c = 0; c < channels; ++c)
    for (int i = 0; i < g.k_h; ++i)
      for (int j = 0; j < g.k_w; ++j) {
        const PlaneShift p = plane_shift(g, i, j);
        const T* __restrict kj = keep + j * ohw;
        if (p.hi <= p.lo) continue;
        const T* __restrict s = col + col_row(g, c, i, j) * ohw + p.lo;
        const T* __restrict k = kj + p.lo;
        T* __restrict d = dx + c * plane + (p.lo + p.shift);
        for (std::int64_t q = 0; q < p.hi - p.lo; ++q) {
          const T v = s[q];
          d[q] += k[q] != T(0) ? v : T(0);
        }
      }
}

}  // namespace

template <class T>
void im2col(const T* x, int channels, const ConvGeometry& g, T* col) {
  if (plane_shifts(g)) return im2col_shifted(x, channels, g, wrap_masks<T>(g).data(), col);
  const std::int64_t ohw = static_cast<std::int64_t>(g.out_h) * g.out_w;
  const std::int64_t plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  const T bv = static_cast<T>(g.border.value);  // samples outside under a zero border
  for_each_patch_row(channels, g,
                     [&](int c, std::int64_t row, int m, int r, const int* cm, int k0, int k1) {
                       T* dst = col + row * ohw + static_cast<std::int64_t>(m) * g.out_w;
                       if (r < 0) {
                         std::fill(dst, dst + g.out_w, bv);
                         return;
                       }
                       const T* src = x + c * plane + static_cast<std::int64_t>(r) * g.in_w;
                       for (int k = 0; k < k0; ++k) dst[k] = cm[k] < 0 ? bv : src[cm[k]];
                       if (k1 > k0) {
                         if (g.stride_x == 1) {
                           // Rows are short (a few dozen samples): a loop beats a memcpy call.
                           const T* __restrict s = src + cm[k0] - k0;
                           T* __restrict d = dst;
                           for (int k = k0; k < k1; ++k) d[k] = s[k];
                         } else {
                           const T* s = src + cm[k0];
                           for (int k = k0; k < k1; ++k, s += g.stride_x) dst[k] = *s;
                         }
                       }
                       for (int k = std::max(k0, k1); k < g.out_w; ++k)
                         dst[k] = cm[k] < 0 ? bv : src[cm[k]];
                     });
}

template <class T>
void col2im_add(const T* col, int channels, const ConvGeometry& g, T* dx) {
  const std::int64_t ohw = static_cast<std::int64_t>(g.out_h) * g.out_w;
  const std::int64_t plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  for_each_patch_row(channels, g,
                     [&](int c, std::int64_t row, int m, int r, const int* cm, int k0, int k1) {
                       if (r < 0) return;
                       const T* src = col + row * ohw + static_cast<std::int64_t>(m) * g.out_w;
                       T* dst = dx + c * plane + static_cast<std::int64_t>(r) * g.in_w;
                       for (int k = 0; k < k0; ++k)
                         if (cm[k] >= 0) dst[cm[k]] += src[k];
                       if (k1 > k0 && g.stride_x == 1) {
                         T* __restrict d = dst + cm[k0] - k0;
                         for (int k = k0; k < k1; ++k) d[k] += src[k];
                       } else if (k1 > k0) {
                         T* d = dst + cm[k0];
                         for (int k = k0; k < k1; ++k, d += g.stride_x) *d += src[k];
                       }
                       for (int k = std::max(k0, k1); k < g.out_w; ++k)
                         if (cm[k] >= 0) dst[cm[k]] += src[k];
                     });
}

namespace {

void check_shape(const ConvBatchShape& s) {
  if (s.batch < 0 || s.channels < 1 || s.filters < 1)
    throw UsageError("convolution layer needs at least one input channel and one filter");
  if (s.col_rows() > std::numeric_limits<int>::max() || s.col_cols() > (1 << 28))
    throw UsageError("convolution layer is too large");
}

// Per-thread buffer `slot` of at least `size` elements; kept between calls,
// so the patch matrices are not allocated and zeroed for every chunk (every
// element is written before it is read).
template <class T>
std::vector<T>& scratch(int slot, std::size_t size) {
  thread_local std::vector<T> buffers[2];
  std::vector<T>& b = buffers[slot];
  if (b.size() < size) b.resize(size);
  return b;
}

// Fixed groups of samples for the weight-gradient reduction.
constexpr int kGroup = 8;

}  // namespace

template <class T>
void conv_multichannel_forward(const ConvBatchShape& s, const T* x, const T* w, const T* bias,
                               T* y) {
  check_shape(s);
  const ConvGeometry& g = s.g;
  const std::int64_t rows = s.col_rows(), cols = s.col_cols();
  const std::int64_t in_size = static_cast<std::int64_t>(s.channels) * g.in_h * g.in_w;
  const std::int64_t out_size = static_cast<std::int64_t>(s.filters) * cols;
  // W^T (rows x F), once for the batch: GEMM kernels pack a transposed left
  // operand with plain row copies, where W itself would be transposed again
  // for every sample.
  std::vector<T> wt(static_cast<std::size_t>(rows) * s.filters);
  for (int f = 0; f < s.filters; ++f)
    for (std::int64_t r = 0; r < rows; ++r) wt[r * s.filters + f] = w[f * rows + r];
  const bool shifted = plane_shifts(g);
  const std::vector<T> keep = shifted ? wrap_masks<T>(g) : std::vector<T>();
  parallel_for(0, s.batch, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    std::vector<T>& col = scratch<T>(0, static_cast<std::size_t>(rows * cols));
    for (std::ptrdiff_t n = lo; n < hi; ++n) {
      T* yn = y + n * out_size;
      if (shifted)
        im2col_shifted(x + n * in_size, s.channels, g, keep.data(), col.data());
      else
        im2col(x + n * in_size, s.channels, g, col.data());
      if (bias) {
        for (int f = 0; f < s.filters; ++f) std::fill(yn + f * cols, yn + (f + 1) * cols, bias[f]);
      }
      gemm<T>(true, false, s.filters, static_cast<int>(cols), static_cast<int>(rows), T(1),
              wt.data(), s.filters, col.data(), static_cast<int>(cols), bias ? T(1) : T(0), yn,
              static_cast<int>(cols));
    }
  });
}

template <class T>
void conv_multichannel_backward(const ConvBatchShape& s, const T* x, const T* w, const T* dy, T* dw,
                                T* db, T* dx) {
  check_shape(s);
  const ConvGeometry& g = s.g;
  const std::int64_t rows = s.col_rows(), cols = s.col_cols();
  const std::int64_t in_size = static_cast<std::int64_t>(s.channels) * g.in_h * g.in_w;
  const std::int64_t out_size = static_cast<std::int64_t>(s.filters) * cols;
  const std::int64_t wsize = static_cast<std::int64_t>(s.filters) * rows;
  const int groups = (s.batch + kGroup - 1) / kGroup;
  const bool want_w = dw != nullptr || db != nullptr;
  const bool shifted = plane_shifts(g);
  const std::vector<T> keep = shifted ? wrap_masks<T>(g) : std::vector<T>();
  // Partial weight/bias gradients of each group, reduced in order below.
  std::vector<T> partial(want_w ? static_cast<std::size_t>(groups) * (wsize + s.filters) : 0);
  parallel_for(0, groups, 1, [&](std::ptrdiff_t glo, std::ptrdiff_t ghi) {
    std::vector<T>& col = scratch<T>(0, static_cast<std::size_t>(rows * cols));
    std::vector<T>& dcol = scratch<T>(1, dx ? static_cast<std::size_t>(rows * cols) : 0);
    for (std::ptrdiff_t gi = glo; gi < ghi; ++gi) {
      T* pw = want_w ? partial.data() + gi * (wsize + s.filters) : nullptr;
      const std::ptrdiff_t n0 = gi * kGroup;
      const std::ptrdiff_t n1 = std::min<std::ptrdiff_t>(s.batch, n0 + kGroup);
      for (std::ptrdiff_t n = n0; n < n1; ++n) {
        const T* dyn = dy + n * out_size;
        if (dw) {
          if (shifted)
            im2col_shifted(x + n * in_size, s.channels, g, keep.data(), col.data());
          else
            im2col(x + n * in_size, s.channels, g, col.data());
          // The group's partial is kept transposed, dW^T (rows x F) += col * dy[n]^T:
          // the long sum (over output positions) runs down the GEMM's inner dimension.
          gemm<T>(false, true, static_cast<int>(rows), s.filters, static_cast<int>(cols), T(1),
                  col.data(), static_cast<int>(cols), dyn, static_cast<int>(cols),
                  n == n0 ? T(0) : T(1), pw, s.filters);
        }
        if (db) {
          T* pb = pw + wsize;
          for (int f = 0; f < s.filters; ++f) {
            T acc = 0;
            const T* d = dyn + f * cols;
            for (std::int64_t k = 0; k < cols; ++k) acc += d[k];
            pb[f] = n == n0 ? acc : pb[f] + acc;
          }
        }
        if (dx) {
          gemm<T>(true, false, static_cast<int>(rows), static_cast<int>(cols), s.filters, T(1), w,
                  static_cast<int>(rows), dyn, static_cast<int>(cols), T(0), dcol.data(),
                  static_cast<int>(cols));
          if (shifted)
            col2im_shifted(dcol.data(), s.channels, g, keep.data(), dx + n * in_size);
          else
            col2im_add(dcol.data(), s.channels, g, dx + n * in_size);
        }
      }
    }
  });
  if (!want_w) return;
  for (int gi = 0; gi < groups; ++gi) {
    const T* pw = partial.data() + static_cast<std::size_t>(gi) * (wsize + s.filters);
    if (dw)
      for (int f = 0; f < s.filters; ++f)
        for (std::int64_t r = 0; r < rows; ++r) dw[f * rows + r] += pw[r * s.filters + f];
    if (db)
      for (int f = 0; f < s.filters; ++f) db[f] += pw[wsize + f];
  }
}

// ---- pooling ---------------------------------------------------------------

namespace {

// Visit every output (m, k) of one plane with the clipped window rows/cols.
template <class F>
void for_each_window(const ConvGeometry& g, F&& fn) {
  for (int m = 0; m < g.out_h; ++m) {
    const int r0 = std::max(0, m * g.stride_y - g.pad.top);
    const int r1 = std::min(g.in_h, m * g.stride_y - g.pad.top + g.k_h);
    for (int k = 0; k < g.out_w; ++k) {
      const int c0 = std::max(0, k * g.stride_x - g.pad.left);
      const int c1 = std::min(g.in_w, k * g.stride_x - g.pad.left + g.k_w);
      fn(static_cast<std::int64_t>(m) * g.out_w + k, r0, r1, c0, c1);
    }
  }
}

std::ptrdiff_t plane_grain(const ConvGeometry& g) {
  const std::int64_t work = static_cast<std::int64_t>(g.out_h) * g.out_w * g.k_h * g.k_w;
  return static_cast<std::ptrdiff_t>(
      std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, work)));
}

}  // namespace

template <class T>
void maxpool_forward(std::int64_t planes, const ConvGeometry& g, const T* x, T* y,
                     std::int32_t* argmax) {
  const std::int64_t in_plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  const std::int64_t out_plane = static_cast<std::int64_t>(g.out_h) * g.out_w;
  parallel_for(0, planes, plane_grain(g), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t p = lo; p < hi; ++p) {
      const T* xp = x + p * in_plane;
      if (g.k_h == 2 && g.k_w == 2 && g.stride_y == 2 && g.stride_x == 2 && g.pad.top == 0 &&
          g.pad.left == 0 && argmax) {
        // The common POOL2: every window lies inside the input.  Same winner
        // rule as below (first maximum in row-major order).
        for (int m = 0; m < g.out_h; ++m) {
          const T* r0 = xp + static_cast<std::int64_t>(2 * m) * g.in_w;
          const T* r1 = r0 + g.in_w;
          T* yo = y + p * out_plane + static_cast<std::int64_t>(m) * g.out_w;
          std::int32_t* ao = argmax + p * out_plane + static_cast<std::int64_t>(m) * g.out_w;
          const std::int32_t base = 2 * m * g.in_w;
          // Branch-free selects (the compiler vectorizes them): offset 0, 1,
          // in_w or in_w + 1 of the window's top-left sample.
          const std::int32_t down = g.in_w;
          for (int k = 0; k < g.out_w; ++k) {
            const int c = 2 * k;
            const T a = r0[c], b = r0[c + 1], d = r1[c], e = r1[c + 1];
            T best = a;
            std::int32_t off = 0;
            off = b > best ? 1 : off;
            best = b > best ? b : best;
            off = d > best ? down : off;
            best = d > best ? d : best;
            off = e > best ? down + 1 : off;
            best = e > best ? e : best;
            yo[k] = best;
            ao[k] = base + c + off;
          }
        }
        continue;
      }
      for_each_window(g, [&](std::int64_t o, int r0, int r1, int c0, int c1) {
        T best = -std::numeric_limits<T>::infinity();
        std::int32_t at = -1;
        for (int r = r0; r < r1; ++r)
          for (int c = c0; c < c1; ++c) {
            const T v = xp[static_cast<std::int64_t>(r) * g.in_w + c];
            if (at < 0 || v > best) {
              best = v;
              at = r * g.in_w + c;
            }
          }
        y[p * out_plane + o] = at < 0 ? T(0) : best;
        if (argmax) argmax[p * out_plane + o] = at;
      });
    }
  });
}

template <class T>
void avgpool_forward(std::int64_t planes, const ConvGeometry& g, const T* x, T* y) {
  const std::int64_t in_plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  const std::int64_t out_plane = static_cast<std::int64_t>(g.out_h) * g.out_w;
  parallel_for(0, planes, plane_grain(g), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t p = lo; p < hi; ++p) {
      const T* xp = x + p * in_plane;
      for_each_window(g, [&](std::int64_t o, int r0, int r1, int c0, int c1) {
        T acc = 0;
        for (int r = r0; r < r1; ++r)
          for (int c = c0; c < c1; ++c) acc += xp[static_cast<std::int64_t>(r) * g.in_w + c];
        const int count = (r1 - r0) * (c1 - c0);
        y[p * out_plane + o] = count > 0 ? acc / static_cast<T>(count) : T(0);
      });
    }
  });
}

template <class T>
void maxpool_backward(std::int64_t planes, const ConvGeometry& g, const T* dy,
                      const std::int32_t* argmax, T* dx) {
  const std::int64_t in_plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  const std::int64_t out_plane = static_cast<std::int64_t>(g.out_h) * g.out_w;
  parallel_for(0, planes, plane_grain(g), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t p = lo; p < hi; ++p)
      for (std::int64_t o = 0; o < out_plane; ++o) {
        const std::int32_t at = argmax[p * out_plane + o];
        if (at >= 0) dx[p * in_plane + at] += dy[p * out_plane + o];
      }
  });
}

template <class T>
void avgpool_backward(std::int64_t planes, const ConvGeometry& g, const T* dy, T* dx) {
  const std::int64_t in_plane = static_cast<std::int64_t>(g.in_h) * g.in_w;
  const std::int64_t out_plane = static_cast<std::int64_t>(g.out_h) * g.out_w;
  parallel_for(0, planes, plane_grain(g), [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t p = lo; p < hi; ++p) {
      T* dxp = dx + p * in_plane;
      for_each_window(g, [&](std::int64_t o, int r0, int r1, int c0, int c1) {
        const int count = (r1 - r0) * (c1 - c0);
        if (count <= 0) return;
        const T share = dy[p * out_plane + o] / static_cast<T>(count);
        for (int r = r0; r < r1; ++r)
          for (int c = c0; c < c1; ++c) dxp[static_cast<std::int64_t>(r) * g.in_w + c] += share;
      });
    }
  });
}

#define CONVKIT_INSTANTIATE_NN_ENGINE(T)                                                           \
  template void im2col<T>(const T*, int, const ConvGeometry&, T*);                                 \
  template void col2im_add<T>(const T*, int, const ConvGeometry&, T*);                             \
  template void conv_multichannel_forward<T>(const ConvBatchShape&, const T*, const T*, const T*,  \
                                             T*);                                                  \
  template void conv_multichannel_backward<T>(const ConvBatchShape&, const T*, const T*, const T*, \
                                              T*, T*, T*);                                         \
  template void maxpool_forward<T>(std::int64_t, const ConvGeometry&, const T*, T*,                \
                                   std::int32_t*);                                                 \
  template void avgpool_forward<T>(std::int64_t, const ConvGeometry&, const T*, T*);               \
  template void maxpool_backward<T>(std::int64_t, const ConvGeometry&, const T*,                   \
                                    const std::int32_t*, T*);                                      \
  template void avgpool_backward<T>(std::int64_t, const ConvGeometry&, const T*, T*);

CONVKIT_INSTANTIATE_NN_ENGINE(float)
CONVKIT_INSTANTIATE_NN_ENGINE(double)

}  // namespace convkit

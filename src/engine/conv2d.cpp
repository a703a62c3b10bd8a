// Fast schedules of the convolution defined in reference.cpp (DESIGN.md
// "Halide": the algorithm apart from its schedule).
//
// Every schedule here works the same way:
//   1. the kernel is flipped once for true convolution, so only correlation
//      is ever computed (correlation_kernel);
//   2. the border is a wrapper: rows of the extended input are built on the
//      fly, one band of output rows at a time, by BandFiller (border_index
//      for the few samples outside the input, each axis by its own rule, the
//      border value where a zero border says so; memcpy for the rest), so any
//      padding amount works, including pads larger than the input and
//      circular wrap-around, and memory stays bounded by a band;
//   3. a valid-only strided correlation of that band.  A horizontal stride
//      Sx is handled by splitting each band row into Sx phase rows
//      (phase p holds columns p, p+Sx, p+2Sx, ...), so every tap reads a
//      contiguous run and no unused outputs are computed.
// Output rows are split across threads; each output element is computed by
// the same operations in the same order whatever the split, so results do
// not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"

namespace convkit {
namespace detail {

namespace {

// Builds rows of the extended input (the input padded by the border rule),
// split into stride_x phase rows of `lp` elements each.
template <class T>
class BandFiller {
 public:
  BandFiller(View<const T> in, const ConvGeometry& g)
      : in_(in), g_(g), value_(static_cast<T>(g.border.value)) {
    sx_ = g.stride_x;
    wneed_ = static_cast<std::ptrdiff_t>(g.out_w - 1) * sx_ + g.k_w;
    lp_ = round_up(g.out_w, kRowSlack) + (g.k_w - 1) / sx_ + 1;
    // Columns [a, b) of the extended row are input columns [a-left, b-left);
    // only the columns outside need the border rule.
    a_ = std::clamp<std::ptrdiff_t>(g.pad.left, 0, wneed_);
    b_ = std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(g.pad.left) + g.in_w, a_, wneed_);
    left_.resize(static_cast<std::size_t>(a_));
    right_.resize(static_cast<std::size_t>(wneed_ - b_));
    for (std::ptrdiff_t c = 0; c < a_; ++c)
      left_[c] = border_index(static_cast<long long>(c) - g.pad.left, g.in_w, g.border.cols);
    for (std::ptrdiff_t c = b_; c < wneed_; ++c)
      right_[c - b_] = border_index(static_cast<long long>(c) - g.pad.left, g.in_w, g.border.cols);
  }

  std::ptrdiff_t phase_len() const { return lp_; }
  std::ptrdiff_t row_len() const { return lp_ * sx_; }

  // Fill dst (row_len() elements) with extended row r (0 = first padded row).
  void fill(long long r, T* dst) const {
    int sr = border_index(r - g_.pad.top, g_.in_h, g_.border.rows);
    if (sr < 0) {  // a row outside under a zero border: all the border value
      std::fill(dst, dst + row_len(), value_);
      return;
    }
    const T* src = in_.data + static_cast<std::ptrdiff_t>(sr) * in_.stride;
    auto at = [&](std::ptrdiff_t c) -> T {
      if (c >= a_ && c < b_) return src[c - g_.pad.left];
      int ci = c < a_ ? left_[c] : right_[c - b_];
      return ci < 0 ? value_ : src[ci];
    };
    if (sx_ == 1) {
      for (std::ptrdiff_t c = 0; c < a_; ++c) dst[c] = at(c);
      if (b_ > a_) std::memcpy(dst + a_, src + (a_ - g_.pad.left), sizeof(T) * (b_ - a_));
      for (std::ptrdiff_t c = b_; c < wneed_; ++c) dst[c] = at(c);
      std::fill(dst + wneed_, dst + lp_, T(0));
      return;
    }
    for (int p = 0; p < sx_; ++p) {
      T* d = dst + p * lp_;
      std::ptrdiff_t t = 0;
      for (std::ptrdiff_t c = p; c < wneed_; c += sx_, ++t) d[t] = at(c);
      std::fill(d + t, d + lp_, T(0));
    }
  }

 private:
  View<const T> in_;
  const ConvGeometry& g_;
  T value_ = T(0);  // samples outside the input under a zero border (scipy's cval)
  int sx_ = 1;
  std::ptrdiff_t wneed_ = 0, lp_ = 0, a_ = 0, b_ = 0;
  std::vector<int> left_, right_;
};

// Output rows per band: the band's extended rows should stay in L2, but a
// band also re-reads KH-1 rows of the band before it, so it holds at least
// `min_rows` output rows.  When the vertical stride skips rows (Sy > KH) each
// output row is its own band, so skipped rows are never built.
int band_rows(const ConvGeometry& g, std::ptrdiff_t row_bytes, int min_rows) {
  if (g.stride_y > g.k_h) return 1;
  std::ptrdiff_t fit = (256 * 1024) / std::max<std::ptrdiff_t>(row_bytes, 1);
  std::ptrdiff_t mb = std::max<std::ptrdiff_t>((fit - g.k_h) / g.stride_y + 1, min_rows);
  return static_cast<int>(std::clamp<std::ptrdiff_t>(mb, 1, 256));
}

// Rows per parallel chunk worth a thread.
std::ptrdiff_t row_grain(double work_per_row) {
  double rows = 200000.0 / std::max(work_per_row, 1.0);
  return static_cast<std::ptrdiff_t>(std::clamp(rows, 1.0, 1e9));
}

template <class T>
void check_shapes(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out) {
  if (in.rows != g.in_h || in.cols != g.in_w || kernel.rows != g.k_h || kernel.cols != g.k_w ||
      out.rows != g.out_h || out.cols != g.out_w)
    throw Error("conv2d: array shapes do not match the planned geometry");
}

}  // namespace

template <class T>
std::vector<T> correlation_kernel(View<const T> kernel, bool correlate) {
  std::vector<T> w(static_cast<std::size_t>(kernel.rows) * kernel.cols);
  for (int i = 0; i < kernel.rows; ++i)
    for (int j = 0; j < kernel.cols; ++j)
      w[static_cast<std::size_t>(i) * kernel.cols + j] =
          correlate ? kernel(i, j) : kernel(kernel.rows - 1 - i, kernel.cols - 1 - j);
  return w;
}

template <class T>
bool rank1_factors(const std::vector<T>& w, int kh, int kw, std::vector<T>& col,
                   std::vector<T>& row) {
  int pi = 0, pj = 0;
  double big = 0;
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j) {
      double a = std::fabs(static_cast<double>(w[static_cast<std::size_t>(i) * kw + j]));
      if (!std::isfinite(a)) return false;
      if (a > big) big = a, pi = i, pj = j;
    }
  col.assign(static_cast<std::size_t>(kh), T(0));
  row.assign(static_cast<std::size_t>(kw), T(0));
  if (big == 0) return true;  // the zero kernel: 0 x 0
  double pivot = static_cast<double>(w[static_cast<std::size_t>(pi) * kw + pj]);
  for (int i = 0; i < kh; ++i)
    col[i] = static_cast<T>(static_cast<double>(w[static_cast<std::size_t>(i) * kw + pj]) / pivot);
  for (int j = 0; j < kw; ++j) row[j] = w[static_cast<std::size_t>(pi) * kw + j];
  // Rank 1 to within a few rounding errors of T, relative to the largest tap.
  const double tol = 8.0 * std::numeric_limits<T>::epsilon() * big;
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j) {
      double d = static_cast<double>(w[static_cast<std::size_t>(i) * kw + j]) -
                 static_cast<double>(col[i]) * static_cast<double>(row[j]);
      if (!(std::fabs(d) <= tol)) return false;
    }
  return true;
}

template <class T>
void conv2d_direct(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out) {
  check_shapes(in, kernel, g, out);
  const std::vector<T> w = correlation_kernel(kernel, g.correlate);
  const BandFiller<T> filler(in, g);
  const std::ptrdiff_t lp = filler.phase_len(), rl = filler.row_len();
  const int sx = g.stride_x, sy = g.stride_y;
  std::vector<std::ptrdiff_t> offs, xoffs;
  for (int kx = 0; kx < g.k_w; ++kx) xoffs.push_back((kx % sx) * lp + kx / sx);
  for (int ky = 0; ky < g.k_h; ++ky)
    for (int kx = 0; kx < g.k_w; ++kx) offs.push_back(ky * rl + (kx % sx) * lp + kx / sx);
  const int mb = band_rows(g, rl * static_cast<std::ptrdiff_t>(sizeof(T)), sy == 1 ? 8 : 1);
  const int ntaps = g.k_h * g.k_w;
  if (g.out_h == 1) {
    // One output row (a 1D signal): build its KH rows once and split the row
    // into column blocks instead.  Blocks start at multiples of the tile, and
    // each element is computed exactly as in a whole row.
    std::vector<T> buf(static_cast<std::size_t>(g.k_h * rl));
    for (int ir = 0; ir < g.k_h; ++ir) filler.fill(ir, buf.data() + ir * rl);
    const std::ptrdiff_t blocks = (g.out_w + kRowSlack - 1) / kRowSlack;
    parallel_for(0, blocks, std::max<std::ptrdiff_t>(1, 4096 / (ntaps + 4)),
                 [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                   const std::ptrdiff_t x0 = lo * kRowSlack;
                   const std::ptrdiff_t x1 = std::min<std::ptrdiff_t>(g.out_w, hi * kRowSlack);
                   row_taps(out.data + x0, static_cast<int>(x1 - x0), buf.data() + x0, offs.data(),
                            w.data(), ntaps);
                 });
    return;
  }
  parallel_for(0, g.out_h, row_grain(double(g.out_w) * (ntaps + 4)),
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 std::vector<T> buf(static_cast<std::size_t>(((mb - 1) * sy + g.k_h) * rl));
                 for (std::ptrdiff_t m0 = lo; m0 < hi; m0 += mb) {
                   std::ptrdiff_t m1 = std::min<std::ptrdiff_t>(hi, m0 + mb);
                   std::ptrdiff_t nrows = (m1 - 1 - m0) * sy + g.k_h;
                   for (std::ptrdiff_t ir = 0; ir < nrows; ++ir)
                     filler.fill(m0 * sy + ir, buf.data() + ir * rl);
                   std::ptrdiff_t m = m0;
                   if (sy == 1 && g.k_h > 1)  // share loads between output rows
                     for (; m + kBlockRows <= m1; m += kBlockRows)
                       block_rows(out.data + m * out.stride, out.stride, g.out_w,
                                  buf.data() + (m - m0) * rl, rl, xoffs.data(), w.data(), g.k_h,
                                  g.k_w);
                   for (; m < m1; ++m)
                     row_taps(out.data + m * out.stride, g.out_w, buf.data() + (m - m0) * sy * rl,
                              offs.data(), w.data(), ntaps);
                 }
               });
}

template <class T>
void conv2d_separable(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out) {
  check_shapes(in, kernel, g, out);
  const std::vector<T> w = correlation_kernel(kernel, g.correlate);
  std::vector<T> col, row;
  if (!rank1_factors(w, g.k_h, g.k_w, col, row))
    throw Error("the separable schedule needs a rank-1 kernel (an outer product)");
  const BandFiller<T> filler(in, g);
  const std::ptrdiff_t lp = filler.phase_len(), rl = filler.row_len();
  const std::ptrdiff_t lt = round_up(g.out_w, kRowSlack);
  const int sx = g.stride_x, sy = g.stride_y;
  std::vector<std::ptrdiff_t> hoffs, voffs;
  for (int kx = 0; kx < g.k_w; ++kx) hoffs.push_back((kx % sx) * lp + kx / sx);
  for (int ky = 0; ky < g.k_h; ++ky) voffs.push_back(ky * lt);
  if (sy == 1) {
    // Vertical stride 1: a ring of KH horizontal-pass rows per thread.  Each
    // extended row is filtered horizontally once (only at the start of a
    // thread's chunk are KH-1 rows computed that the previous chunk also
    // computed), and the vertical pass reads its KH rows from the ring, so
    // the intermediate never leaves the cache.
    parallel_for(0, g.out_h, row_grain(double(g.out_w) * (g.k_h + g.k_w + 8)),
                 [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                   const int kh = g.k_h;
                   std::vector<T> buf(static_cast<std::size_t>(rl));
                   std::vector<T> ring(static_cast<std::size_t>(kh) * lt);
                   std::vector<std::ptrdiff_t> offs(static_cast<std::size_t>(kh));
                   std::ptrdiff_t made = lo;  // extended rows [lo, made) are in the ring
                   for (std::ptrdiff_t m = lo; m < hi; ++m) {
                     for (; made < m + kh; ++made) {
                       filler.fill(made, buf.data());
                       row_taps(ring.data() + (made % kh) * lt, g.out_w, buf.data(), hoffs.data(),
                                row.data(), g.k_w);
                     }
                     for (int t = 0; t < kh; ++t) offs[t] = ((m + t) % kh) * lt;
                     row_taps(out.data + m * out.stride, g.out_w, ring.data(), offs.data(),
                              col.data(), kh);
                   }
                 });
    return;
  }
  // Vertical stride > 1: bands of output rows.  The horizontal pass of the
  // KH-Sy rows shared with the previous band is repeated: keep that under a
  // quarter of the work.
  const int mb = band_rows(g, lt * static_cast<std::ptrdiff_t>(sizeof(T)),
                           (4 * (g.k_h - 1) + g.stride_y - 1) / g.stride_y);
  parallel_for(0, g.out_h, row_grain(double(g.out_w) * (g.k_h + g.k_w + 8)),
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 const std::size_t maxrows = static_cast<std::size_t>((mb - 1) * sy + g.k_h);
                 // One extended row at a time feeds the horizontal pass.
                 std::vector<T> buf(static_cast<std::size_t>(rl)), tmp(maxrows * lt);
                 for (std::ptrdiff_t m0 = lo; m0 < hi; m0 += mb) {
                   std::ptrdiff_t m1 = std::min<std::ptrdiff_t>(hi, m0 + mb);
                   std::ptrdiff_t nrows = (m1 - 1 - m0) * sy + g.k_h;
                   // Horizontal pass: each extended row -> one row of partial sums.
                   for (std::ptrdiff_t ir = 0; ir < nrows; ++ir) {
                     filler.fill(m0 * sy + ir, buf.data());
                     row_taps(tmp.data() + ir * lt, g.out_w, buf.data(), hoffs.data(), row.data(),
                              g.k_w);
                   }
                   // Vertical pass: KH partial-sum rows -> one output row.
                   std::ptrdiff_t m = m0;
                   if (sy == 1 && g.k_h > 1) {
                     const std::ptrdiff_t zero = 0;
                     for (; m + kBlockRows <= m1; m += kBlockRows)
                       block_rows(out.data + m * out.stride, out.stride, g.out_w,
                                  tmp.data() + (m - m0) * lt, lt, &zero, col.data(), g.k_h, 1);
                   }
                   for (; m < m1; ++m)
                     row_taps(out.data + m * out.stride, g.out_w, tmp.data() + (m - m0) * sy * lt,
                              voffs.data(), col.data(), g.k_h);
                 }
               });
}

// ---- choosing a schedule -------------------------------------------------
//
// Costs are in units of one vector-lane multiply-add of the direct loop.
// The constants were measured on the development machine (bench/, a shared
// 2-core Xeon with AVX-512/AVX2): see README "Engine schedules".

double cost_direct(const ConvGeometry& g) {
  double px = double(g.out_h) * g.out_w;
  return px * (double(g.k_h) * g.k_w + 6.0);
}

double cost_separable(const ConvGeometry& g) {
  double rows_in = g.stride_y > g.k_h ? double(g.out_h) * g.k_h : double(g.out_h) * g.stride_y;
  return double(g.out_h) * g.out_w * (g.k_h + 8.0) + rows_in * g.out_w * (g.k_w + 2.0);
}

Schedule choose_schedule(const ConvGeometry& g, bool separable) {
  double d = cost_direct(g);
  double best = d;
  Schedule s = Schedule::direct;
  if (separable && g.k_h > 1 && g.k_w > 1) {
    double c = cost_separable(g);
    if (c < best) best = c, s = Schedule::separable;
  }
  // The FFT's price in multiply-adds is a per-machine factor (calibrate.cpp).
  // It is looked up (measured once per CPU model) only when it can change the
  // answer and the job is large enough to repay a few ms of measuring.
  const double f = cost_fft(g);
  if (f * kFftFactorMin >= best) return s;
  if (f * kFftFactorMax < best) return Schedule::fft;
  const double factor = best < kCalibrateAbove ? kFftFactorDefault : fft_factor();
  return f * factor < best ? Schedule::fft : s;
}

#define CONVKIT_INSTANTIATE(T)                                                                \
  template std::vector<T> correlation_kernel<T>(View<const T>, bool);                         \
  template bool rank1_factors<T>(const std::vector<T>&, int, int, std::vector<T>&,            \
                                 std::vector<T>&);                                            \
  template void conv2d_direct<T>(View<const T>, View<const T>, const ConvGeometry&, View<T>); \
  template void conv2d_separable<T>(View<const T>, View<const T>, const ConvGeometry&, View<T>);
CONVKIT_INSTANTIATE(float)
CONVKIT_INSTANTIATE(double)
#undef CONVKIT_INSTANTIATE

}  // namespace detail

namespace detail {
template <class T>
bool all_finite(View<const T> v) {
  for (int r = 0; r < v.rows; ++r) {
    const T* p = v.data + r * v.stride;
    T acc = 0;
    // x - x is 0 for finite x and NaN for NaN or infinity: one branch-free pass.
    for (int c = 0; c < v.cols; ++c) acc += p[c] - p[c];
    if (acc != 0 || acc != acc) return false;
  }
  return true;
}
}  // namespace detail

template <class T>
Schedule resolve_schedule(View<const T> kernel, const ConvGeometry& g) {
  bool sep = false;
  if (g.k_h > 1 && g.k_w > 1) {
    std::vector<T> w = detail::correlation_kernel(kernel, true), col, row;
    sep = detail::rank1_factors(w, g.k_h, g.k_w, col, row);
  }
  return detail::choose_schedule(g, sep);
}

int band_alignment(const ConvGeometry& g, Schedule schedule) {
  return schedule == Schedule::fft ? detail::fft_rows(g).t : 1;
}

template <class T>
void conv2d_band(View<const T> ext, View<const T> kernel, const ConvGeometry& g, int m0,
                 View<T> out, Schedule schedule) {
  if (schedule == Schedule::automatic)
    throw Error("conv2d_band: resolve the schedule on the whole geometry first");
  const long long need = static_cast<long long>(out.rows - 1) * g.stride_y + g.k_h;
  if (m0 < 0 || out.rows < 1 || static_cast<long long>(m0) + out.rows > g.out_h ||
      out.cols != g.out_w || ext.cols != g.in_w || ext.rows != need ||
      m0 % band_alignment(g, schedule) != 0)
    throw Error("conv2d_band: the band does not match the planned geometry");
  ConvGeometry b = g;  // the band alone: its rows already carry the vertical border
  b.in_h = ext.rows;
  b.pad.top = b.pad.bottom = 0;
  b.out_h = out.rows;
  if (schedule == Schedule::fft)
    return detail::conv2d_fft(ext, kernel, b, out, detail::fft_rows(g));
  conv2d(ext, kernel, b, out, schedule);
}

template <class T>
void conv2d(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
            Schedule schedule) {
  detail::check_shapes(in, kernel, g, out);
  if (schedule == Schedule::automatic) {
    schedule = resolve_schedule(kernel, g);
    // A NaN or infinity stays local in the direct loops (it reaches only the
    // outputs whose window covers it, as in the definition), but an FFT
    // spreads it over its whole tile: such data never takes the FFT path.
    if (schedule == Schedule::fft && (!detail::all_finite(in) || !detail::all_finite(kernel)))
      schedule = Schedule::direct;
  }
  switch (schedule) {
    case Schedule::direct:
      return detail::conv2d_direct(in, kernel, g, out);
    case Schedule::separable:
      return detail::conv2d_separable(in, kernel, g, out);
    case Schedule::fft:
      return detail::conv2d_fft(in, kernel, g, out);
    case Schedule::reference:
    case Schedule::automatic:
      break;
  }
  // The reference loops, with output rows split across threads.
  parallel_for(0, g.out_h, 8, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    ConvGeometry part = g;
    part.out_h = static_cast<int>(hi - lo);
    part.pad.top = g.pad.top - static_cast<int>(lo) * g.stride_y;
    View<T> o{out.data + lo * out.stride, part.out_h, out.cols, out.stride};
    conv2d_reference<T>(in, kernel, part, o);
  });
}

template <class T>
std::vector<T> conv2d(const std::vector<T>& in, int h, int w, const std::vector<T>& kernel, int kh,
                      int kw, const ConvSpec& spec, int* out_h, int* out_w, Schedule schedule) {
  if (static_cast<long long>(h) * w != static_cast<long long>(in.size()))
    throw UsageError("input size does not match its shape");
  if (static_cast<long long>(kh) * kw != static_cast<long long>(kernel.size()))
    throw UsageError("kernel size does not match its shape");
  ConvGeometry g = plan(spec, h, w, kh, kw);
  std::vector<T> out(static_cast<std::size_t>(g.out_h) * g.out_w);
  conv2d<T>(View<const T>{in.data(), h, w, w}, View<const T>{kernel.data(), kh, kw, kw}, g,
            View<T>{out.data(), g.out_h, g.out_w, g.out_w}, schedule);
  if (out_h) *out_h = g.out_h;
  if (out_w) *out_w = g.out_w;
  return out;
}

#define CONVKIT_INSTANTIATE(T)                                                                   \
  template void conv2d<T>(View<const T>, View<const T>, const ConvGeometry&, View<T>, Schedule); \
  template Schedule resolve_schedule<T>(View<const T>, const ConvGeometry&);                     \
  template void conv2d_band<T>(View<const T>, View<const T>, const ConvGeometry&, int, View<T>,  \
                               Schedule);                                                        \
  template std::vector<T> conv2d<T>(const std::vector<T>&, int, int, const std::vector<T>&, int, \
                                    int, const ConvSpec&, int*, int*, Schedule);
CONVKIT_INSTANTIATE(float)
CONVKIT_INSTANTIATE(double)
#undef CONVKIT_INSTANTIATE

}  // namespace convkit

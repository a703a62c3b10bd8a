// The FFT schedule: overlap-save over tiles of the extended input, for large
// kernels.  FFTs come from KISS FFT (BSD-3-Clause, Debian libkissfft-dev):
// the C library (real rows, complex columns) for float, its C++ header template for
// double (the Debian library is built for float only).
//
// A tile covers ty x tx output positions; it reads the (ty-1)*Sy+KH x
// (tx-1)*Sx+KW block of the extended input that they need, zero-filled to
// the FFT size fy x fx.  Circular correlation with the kernel (multiply by
// the conjugate spectrum) equals the linear one wherever the kernel does not
// wrap, which is exactly at the strided positions the tile keeps.  The tile
// grid depends only on the geometry, so results do not depend on threads.
#include <kissfft/kiss_fft.h>
#include <kissfft/kiss_fftr.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <kissfft/kissfft.hh>
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"
#include "engine/schedules.hpp"

namespace convkit::detail {

namespace {

// One-dimensional transforms: real rows of length fx (even) to fx/2+1
// complex values and back, and complex columns of length fy.  Unnormalized.
template <class T>
class Fft1;

// Columns of length 1 are not transformed (Fft2 skips them); plan length 2.
int col_len(int fy) {
  return fy == 1 ? 2 : fy;
}

template <>
class Fft1<float> {
 public:
  using cpx = std::complex<float>;
  Fft1(int fy, int fx)
      : rf_(kiss_fftr_alloc(fx, 0, nullptr, nullptr)),
        ri_(kiss_fftr_alloc(fx, 1, nullptr, nullptr)),
        cf_(kiss_fft_alloc(col_len(fy), 0, nullptr, nullptr)),
        ci_(kiss_fft_alloc(col_len(fy), 1, nullptr, nullptr)) {
    if (!rf_ || !ri_ || !cf_ || !ci_) {
      release();
      throw Error("out of memory planning an FFT of " + std::to_string(fy) + " x " +
                  std::to_string(fx));
    }
  }
  ~Fft1() { release(); }
  Fft1(const Fft1&) = delete;
  Fft1& operator=(const Fft1&) = delete;
  void row_forward(const float* x, cpx* out) { kiss_fftr(rf_, x, as_kiss(out)); }
  void row_inverse(const cpx* in, float* x) { kiss_fftri(ri_, as_kiss(in), x); }
  void col_forward(const cpx* in, cpx* out) { kiss_fft(cf_, as_kiss(in), as_kiss(out)); }
  void col_inverse(const cpx* in, cpx* out) { kiss_fft(ci_, as_kiss(in), as_kiss(out)); }

 private:
  static kiss_fft_cpx* as_kiss(cpx* p) { return reinterpret_cast<kiss_fft_cpx*>(p); }
  static const kiss_fft_cpx* as_kiss(const cpx* p) {
    return reinterpret_cast<const kiss_fft_cpx*>(p);
  }
  void release() {
    kiss_fftr_free(rf_);
    kiss_fftr_free(ri_);
    kiss_fft_free(cf_);
    kiss_fft_free(ci_);
    rf_ = ri_ = nullptr;
    cf_ = ci_ = nullptr;
  }
  kiss_fftr_cfg rf_, ri_;
  kiss_fft_cfg cf_, ci_;
};

template <>
class Fft1<double> {
 public:
  using cpx = std::complex<double>;
  Fft1(int fy, int fx)
      : fx_(fx),
        hx_(fx / 2 + 1),
        rf_(fx, false),
        ri_(fx, true),
        cf_(col_len(fy), false),
        ci_(col_len(fy), true),
        a_(fx),
        b_(fx) {}
  void row_forward(const double* x, cpx* out) {
    for (int j = 0; j < fx_; ++j) a_[j] = cpx(x[j], 0);
    rf_.transform(a_.data(), b_.data());
    std::copy(b_.begin(), b_.begin() + hx_, out);
  }
  void row_inverse(const cpx* in, double* x) {
    for (int k = 0; k < hx_; ++k) a_[k] = in[k];
    for (int k = hx_; k < fx_; ++k) a_[k] = std::conj(in[fx_ - k]);
    ri_.transform(a_.data(), b_.data());
    for (int j = 0; j < fx_; ++j) x[j] = b_[j].real();
  }
  void col_forward(const cpx* in, cpx* out) { cf_.transform(in, out); }
  void col_inverse(const cpx* in, cpx* out) { ci_.transform(in, out); }

 private:
  int fx_, hx_;
  kissfft<double> rf_, ri_, cf_, ci_;
  std::vector<cpx> a_, b_;
};

// Real 2D FFT of an fy x fx array (fx even) to fy x (fx/2+1) complex, and back
// (unnormalized: inverse(forward(x)) = fy*fx*x): rows, then columns.
template <class T>
class Fft2 {
 public:
  using cpx = std::complex<T>;
  Fft2(int fy, int fx) : fy_(fy), fx_(fx), hx_(fx / 2 + 1), f_(fy, fx), c1_(fy), c2_(fy) {}
  void forward(const T* x, cpx* spec) {
    for (int y = 0; y < fy_; ++y)
      f_.row_forward(x + static_cast<std::size_t>(y) * fx_,
                     spec + static_cast<std::size_t>(y) * hx_);
    columns(spec, true);
  }
  void inverse(cpx* spec, T* x) {  // spec is overwritten
    columns(spec, false);
    for (int y = 0; y < fy_; ++y)
      f_.row_inverse(spec + static_cast<std::size_t>(y) * hx_,
                     x + static_cast<std::size_t>(y) * fx_);
  }

 private:
  void columns(cpx* spec, bool fwd) {
    if (fy_ == 1) return;
    for (int k = 0; k < hx_; ++k) {
      for (int y = 0; y < fy_; ++y) c1_[y] = spec[static_cast<std::size_t>(y) * hx_ + k];
      if (fwd)
        f_.col_forward(c1_.data(), c2_.data());
      else
        f_.col_inverse(c1_.data(), c2_.data());
      for (int y = 0; y < fy_; ++y) spec[static_cast<std::size_t>(y) * hx_ + k] = c2_[y];
    }
  }
  int fy_, fx_, hx_;
  Fft1<T> f_;
  std::vector<cpx> c1_, c2_;
};

// Smallest n' >= n whose only prime factors are 2, 3 and 5 (and even if asked).
int fast_size(int n, bool even) {
  for (int m = std::max(n, 1);; ++m) {
    if (even && m % 2) continue;
    int r = m;
    for (int p : {2, 3, 5})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

struct AxisPlan {
  int f = 1;  // FFT length
  int t = 1;  // outputs per tile
  int n = 1;  // tiles
};

// Tile one axis: either one tile covering everything needed, or the power of
// two that minimises FFT work per output.
AxisPlan plan_axis(int out, int s, int k, bool even) {
  long long need = static_cast<long long>(out - 1) * s + k;
  AxisPlan best;
  double best_cost = -1;
  auto consider = [&](int f) {
    int t = std::min<long long>(out, (f - k) / s + 1);
    if (t < 1) return;
    int n = (out + t - 1) / t;
    double cost = double(n) * f * (std::log2(double(f)) + 1.0);
    if (f > 512) cost *= 1.5;  // long columns fall out of cache (measured)
    if (best_cost < 0 || cost < best_cost) best_cost = cost, best = AxisPlan{f, t, n};
  };
  if (need <= 4096) consider(fast_size(static_cast<int>(need), even));
  for (int f = 16; f <= 8192; f *= 2)
    if (f >= k + 1 && f < need) consider(f);
  if (best_cost < 0)
    consider(fast_size(static_cast<int>(std::min<long long>(need, 1 << 24)), even));
  return best;
}

struct FftPlan {
  AxisPlan y, x;
};

FftPlan plan_fft(const ConvGeometry& g, const FftRows* rows = nullptr) {
  AxisPlan y = rows ? AxisPlan{rows->f, rows->t, (g.out_h + rows->t - 1) / rows->t}
                    : plan_axis(g.out_h, g.stride_y, g.k_h, false);
  return FftPlan{y, plan_axis(g.out_w, g.stride_x, g.k_w, true)};
}

template <class T>
void fft_tiles_run(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
                   const FftRows* rows);

}  // namespace

FftRows fft_rows(const ConvGeometry& g) {
  const AxisPlan y = plan_axis(g.out_h, g.stride_y, g.k_h, false);
  return FftRows{y.f, y.t};
}

long long fft_tiles(const ConvGeometry& g) {
  FftPlan p = plan_fft(g);
  return static_cast<long long>(p.y.n) * p.x.n;
}

double cost_fft(const ConvGeometry& g) {
  FftPlan p = plan_fft(g);
  double area = double(p.y.f) * p.x.f;
  double tiles = double(p.y.n) * p.x.n;
  // Two real 2D transforms per tile plus the fill and the spectrum product,
  // in units of the direct loop's lane multiply-adds (see choose_schedule).
  double big = (p.y.f > 512 ? 1.5 : 1.0) * (p.x.f > 512 ? 1.5 : 1.0);
  // A 1D signal has no column transforms (measured: 2.5x cheaper per point).
  if (p.y.f == 1) big /= 2.5;
  return big * tiles * area * (kFftCostPerLog * std::log2(std::max(area, 2.0)) + kFftCostPerPoint);
}

template <class T>
void conv2d_fft(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out) {
  fft_tiles_run(in, kernel, g, out, nullptr);
}

template <class T>
void conv2d_fft(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
                const FftRows& rows) {
  if (rows.t < 1 || rows.f < (rows.t - 1) * g.stride_y + g.k_h)
    throw Error("conv2d_fft: the row tiling does not fit the kernel");
  fft_tiles_run(in, kernel, g, out, &rows);
}

namespace {

template <class T>
void fft_tiles_run(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
                   const FftRows* rows) {
  if (in.rows != g.in_h || in.cols != g.in_w || kernel.rows != g.k_h || kernel.cols != g.k_w ||
      out.rows != g.out_h || out.cols != g.out_w)
    throw Error("conv2d: array shapes do not match the planned geometry");
  using cpx = std::complex<T>;
  const FftPlan p = plan_fft(g, rows);
  const int fy = p.y.f, fx = p.x.f, hx = fx / 2 + 1;
  const std::size_t area = static_cast<std::size_t>(fy) * fx;
  const std::size_t sarea = static_cast<std::size_t>(fy) * hx;

  // Spectrum of the correlation kernel, conjugated and scaled so that one
  // inverse transform of (X * K) gives the correlation.
  std::vector<cpx> kspec(sarea);
  {
    const std::vector<T> w = correlation_kernel(kernel, g.correlate);
    std::vector<T> wpad(area, T(0));
    for (int i = 0; i < g.k_h; ++i)
      for (int j = 0; j < g.k_w; ++j)
        wpad[static_cast<std::size_t>(i) * fx + j] = w[static_cast<std::size_t>(i) * g.k_w + j];
    Fft2<T> fft(fy, fx);
    fft.forward(wpad.data(), kspec.data());
    const T scale = T(1) / static_cast<T>(area);
    for (auto& c : kspec) c = std::conj(c) * scale;
  }

  const std::ptrdiff_t ntiles = static_cast<std::ptrdiff_t>(p.y.n) * p.x.n;
  const T bvalue = static_cast<T>(g.border.value);
  parallel_for(0, ntiles, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    Fft2<T> fft(fy, fx);
    std::vector<T> tile(area);
    std::vector<cpx> spec(sarea);
    std::vector<int> cmap(static_cast<std::size_t>(fx));
    for (std::ptrdiff_t t = lo; t < hi; ++t) {
      const int a = static_cast<int>(t / p.x.n), b = static_cast<int>(t % p.x.n);
      const int m0 = a * p.y.t, m1 = std::min(g.out_h, m0 + p.y.t);
      const int n0 = b * p.x.t, n1 = std::min(g.out_w, n0 + p.x.t);
      const long long r0 = static_cast<long long>(m0) * g.stride_y;
      const long long c0 = static_cast<long long>(n0) * g.stride_x;
      const int span_r = (m1 - 1 - m0) * g.stride_y + g.k_h;
      const int span_c = (n1 - 1 - n0) * g.stride_x + g.k_w;
      for (int j = 0; j < span_c; ++j)
        cmap[j] = border_index(c0 + j - g.pad.left, g.in_w, g.border.cols);
      std::fill(tile.begin(), tile.end(), T(0));
      for (int i = 0; i < span_r; ++i) {
        int sr = border_index(r0 + i - g.pad.top, g.in_h, g.border.rows);
        T* dst = tile.data() + static_cast<std::size_t>(i) * fx;
        if (sr < 0) {  // a row outside under a zero border: the border value
          std::fill(dst, dst + span_c, bvalue);
          continue;
        }
        const T* src = in.data + static_cast<std::ptrdiff_t>(sr) * in.stride;
        for (int j = 0; j < span_c; ++j) dst[j] = cmap[j] < 0 ? bvalue : src[cmap[j]];
      }
      fft.forward(tile.data(), spec.data());
      for (std::size_t k = 0; k < sarea; ++k) {
        const T xr = spec[k].real(), xi = spec[k].imag();
        const T kr = kspec[k].real(), ki = kspec[k].imag();
        spec[k] = cpx(xr * kr - xi * ki, xr * ki + xi * kr);
      }
      fft.inverse(spec.data(), tile.data());
      for (int m = m0; m < m1; ++m) {
        const T* y = tile.data() + static_cast<std::size_t>(m - m0) * g.stride_y * fx;
        T* o = out.data + static_cast<std::ptrdiff_t>(m) * out.stride;
        for (int n = n0; n < n1; ++n) o[n] = y[static_cast<std::size_t>(n - n0) * g.stride_x];
      }
    }
  });
}

}  // namespace

template void conv2d_fft<float>(View<const float>, View<const float>, const ConvGeometry&,
                                View<float>);
template void conv2d_fft<float>(View<const float>, View<const float>, const ConvGeometry&,
                                View<float>, const FftRows&);
template void conv2d_fft<double>(View<const double>, View<const double>, const ConvGeometry&,
                                 View<double>, const FftRows&);
template void conv2d_fft<double>(View<const double>, View<const double>, const ConvGeometry&,
                                 View<double>);

}  // namespace convkit::detail

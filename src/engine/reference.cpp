// The definition of convolution, as plain loops.  Every fast schedule in
// conv2d.cpp is tested against this.
#include "convkit/engine.hpp"

namespace convkit {

// y[m,n] = sum_{i,j} xe[m*Sy + i, n*Sx + j] * g[i,j]
// where xe is the input extended by the border rule (xe[r,c] = x[r - pad.top,
// c - pad.left]) and g = h for correlation, g[i,j] = h[KH-1-i, KW-1-j] for
// true convolution (the seed's eq. (3): flip, then drag).
template <class T>
void conv2d_reference(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out) {
  for (int m = 0; m < g.out_h; ++m) {
    for (int n = 0; n < g.out_w; ++n) {
      T acc = 0;
      for (int i = 0; i < g.k_h; ++i) {
        int r = border_index(static_cast<long long>(m) * g.stride_y + i - g.pad.top, g.in_h,
                             g.border.rows);
        for (int j = 0; j < g.k_w; ++j) {
          int c = border_index(static_cast<long long>(n) * g.stride_x + j - g.pad.left, g.in_w,
                               g.border.cols);
          // Outside the input under a zero border: the border value.  Value 0
          // adds nothing (as zero padding always has, even for an infinite tap).
          const bool outside = r < 0 || c < 0;
          if (outside && g.border.value == 0) continue;
          const T x = outside ? static_cast<T>(g.border.value) : in(r, c);
          T w = g.correlate ? kernel(i, j) : kernel(g.k_h - 1 - i, g.k_w - 1 - j);
          acc += x * w;
        }
      }
      out(m, n) = acc;
    }
  }
}

template void conv2d_reference<float>(View<const float>, View<const float>, const ConvGeometry&,
                                      View<float>);
template void conv2d_reference<double>(View<const double>, View<const double>, const ConvGeometry&,
                                       View<double>);

}  // namespace convkit

// Fast schedules of the convolution defined in reference.cpp.
#include <vector>

#include "convkit/engine.hpp"
#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

template <class T>
void conv2d(View<const T> in, View<const T> kernel, const ConvGeometry& g, View<T> out,
            Schedule schedule) {
  (void)schedule;
  // Rows of the output are independent: split them across threads.
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

#define CONVKIT_INSTANTIATE(T)                                                                  \
  template void conv2d<T>(View<const T>, View<const T>, const ConvGeometry&, View<T>, Schedule); \
  template std::vector<T> conv2d<T>(const std::vector<T>&, int, int, const std::vector<T>&, int, \
                                    int, const ConvSpec&, int*, int*, Schedule);
CONVKIT_INSTANTIATE(float)
CONVKIT_INSTANTIATE(double)
#undef CONVKIT_INSTANTIATE

}  // namespace convkit

// src/canny.cpp — Canny edges (see convkit/canny.hpp).
#include "convkit/canny.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

namespace {

// OpenCV's fixed-point tan(22.5 degrees): round(0.4142135623730950 * 2^15).
constexpr double kShift = 32768.0;
constexpr double kTan22 = 13573.0;

std::string number(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Image canny(const Image& in, const CannyOptions& o) {
  for (auto [name, v] : {std::pair{"low", o.low}, std::pair{"high", o.high}})
    if (!std::isfinite(v) || v < 0)
      throw UsageError(param(name) + " must be a number >= 0 (got " + number(v) + ")");
  const std::size_t n = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  if (in.width <= 0 || in.height <= 0 || in.channels <= 0 ||
      in.data.size() != n * static_cast<std::size_t>(in.channels))
    throw Error("the image is empty or its pixel buffer does not match its size");
  Image grey = in.channels >= 3 ? to_grey(in) : in;
  if (in.channels >= 3 && in.max_value() > 0)  // integer images: integer luma, as cvtColor
    for (float& v : grey.data) v = std::nearbyint(v);
  const float* src = grey.plane(0);
  for (std::size_t i = 0; i < n; ++i)
    if (std::isnan(src[i])) throw Error("canny: the image has NaN samples");
  double low = std::floor(o.low), high = std::floor(o.high);
  if (low > high) std::swap(low, high);

  const int w = in.width, h = in.height;
  auto at = [&](int y, int x) {
    return static_cast<double>(
        src[static_cast<std::size_t>(std::clamp(y, 0, h - 1)) * w + std::clamp(x, 0, w - 1)]);
  };
  // Sobel derivatives and the L1 magnitude, with a ring of zeros around the
  // magnitude (padded width w + 2) so that neighbours outside count as 0.
  const int pw = w + 2;
  std::vector<double> gx(n), gy(n), mag(static_cast<std::size_t>(pw) * (h + 2), 0.0);
  parallel_for(0, h, 32, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (int y = static_cast<int>(lo); y < hi; ++y)
      for (int x = 0; x < w; ++x) {
        const double dx = (at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1)) -
                          (at(y - 1, x - 1) + 2 * at(y, x - 1) + at(y + 1, x - 1));
        const double dy = (at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1)) -
                          (at(y - 1, x - 1) + 2 * at(y - 1, x) + at(y - 1, x + 1));
        const std::size_t i = static_cast<std::size_t>(y) * w + x;
        gx[i] = dx;
        gy[i] = dy;
        mag[static_cast<std::size_t>(y + 1) * pw + x + 1] = std::abs(dx) + std::abs(dy);
      }
  });
  // Non-maximum suppression: 0 not an edge, 1 weak candidate, 2 strong.
  std::vector<std::uint8_t> state(n, 0);
  parallel_for(0, h, 32, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (int y = static_cast<int>(lo); y < hi; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t i = static_cast<std::size_t>(y) * w + x;
        const double* m = mag.data() + static_cast<std::size_t>(y + 1) * pw + x + 1;
        const double v = *m;
        if (!(v > low)) continue;
        const double xs = std::abs(gx[i]), ys = std::abs(gy[i]) * kShift;
        const double tg22x = xs * kTan22;
        bool peak;
        if (ys < tg22x) {  // gradient near horizontal: left and right neighbours
          peak = v > m[-1] && v >= m[1];
        } else if (ys > tg22x + xs * 2 * kShift) {  // near vertical: above and below
          peak = v > m[-pw] && v >= m[pw];
        } else {  // diagonal: the pair along the gradient
          const int s = (gx[i] < 0) != (gy[i] < 0) ? -1 : 1;
          peak = v > m[-pw - s] && v > m[pw + s];
        }
        if (peak) state[i] = v > high ? 2 : 1;
      }
  });
  // Hysteresis: grow the strong edges through 8-connected candidates.
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < n; ++i)
    if (state[i] == 2) stack.push_back(i);
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    const int y = static_cast<int>(i / static_cast<std::size_t>(w)),
              x = static_cast<int>(i % static_cast<std::size_t>(w));
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int yy = y + dy, xx = x + dx;
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        const std::size_t j = static_cast<std::size_t>(yy) * w + xx;
        if (state[j] == 1) {
          state[j] = 2;
          stack.push_back(j);
        }
      }
  }
  Image out;
  out.width = w;
  out.height = h;
  out.channels = 1;
  out.bit_depth = 8;
  out.data.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.data[i] = state[i] == 2 ? 255.f : 0.f;
  return out;
}

}  // namespace convkit

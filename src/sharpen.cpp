// src/sharpen.cpp — unsharp mask (see convkit/sharpen.hpp).
#include "convkit/sharpen.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

Image sharpen(const Image& in, const SharpenOptions& o) {
  if (!(o.amount >= 0) || !std::isfinite(o.amount))
    throw UsageError(param("amount") + " must be a number >= 0 (got " + std::to_string(o.amount) +
                     ")");
  if (!(o.threshold >= 0 && o.threshold <= 1))
    throw UsageError(param("threshold") + " must be a fraction of the range, 0 to 1 (got " +
                     std::to_string(o.threshold) + ")");
  BlurOptions b;
  b.type = BlurType::gaussian;
  b.size = o.size;
  b.sigma = o.sigma;
  b.border = o.border;
  b.alpha = o.alpha;
  Image linear;
  if (o.linear) {
    linear = in;
    srgb_to_linear(linear);
  }
  const Image& src = o.linear ? linear : in;
  Image out = blur(src, b);  // checks sigma, size and the image
  const double range = in.max_value() > 0 ? in.max_value() : 1.0;
  const double limit = o.threshold * range;
  const std::size_t n = static_cast<std::size_t>(in.width) * static_cast<std::size_t>(in.height);
  const int colour = in.has_alpha() ? in.channels - 1 : in.channels;
  const std::size_t total = n * static_cast<std::size_t>(colour);
  // Premultiplied: out's alpha plane is the blurred alpha (0: no visible
  // neighbour, so no difference); the result keeps the input's alpha.
  const bool premultiplied = o.alpha == AlphaMode::premultiply && in.has_alpha();
  std::vector<float> blurred_alpha;
  if (premultiplied) {
    float* a = out.plane(in.channels - 1);
    blurred_alpha.assign(a, a + n);
    std::copy(src.plane(in.channels - 1), src.plane(in.channels - 1) + n, a);
  }
  parallel_for(0, static_cast<std::ptrdiff_t>(total), 1 << 16,
               [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                 for (std::ptrdiff_t i = lo; i < hi; ++i) {
                   const auto k = static_cast<std::size_t>(i);
                   const double v = src.data[k];
                   const bool hidden = premultiplied && !(blurred_alpha[k % n] > 0);
                   const double d = hidden ? 0.0 : v - out.data[k];
                   out.data[k] = static_cast<float>(2 * std::abs(d) < limit ? v : v + o.amount * d);
                 }
               });
  if (o.linear) linear_to_srgb(out);
  return out;
}

}  // namespace convkit

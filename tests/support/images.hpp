// tests/support/images.hpp — random test images.
#pragma once

#include <cstddef>
#include <random>

#include "convkit/io/image.hpp"

namespace convkit::test {

/// A w x h image of c channels with random samples in the units of `depth`:
/// 8 or 16 (whole numbers 0..255 / 0..65535), 32 (float) or 64 (double,
/// in data64) with signed, fractional values.
inline Image random_image(int w, int h, int c, int depth, unsigned seed) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = c;
  img.bit_depth = depth;
  const std::size_t n = static_cast<std::size_t>(w) * h * c;
  std::mt19937 rng(seed);
  if (depth == 64) {
    img.data64.resize(n);
    for (auto& v : img.data64) v = (static_cast<double>(rng()) - 2e9) / 3e5;
    return img;
  }
  img.data.resize(n);
  const unsigned max = depth == 16 ? 65535u : 255u;
  for (auto& v : img.data)
    v = depth == 32 ? (static_cast<float>(rng()) - 2e9f) / 3e5f
                    : static_cast<float>(rng() % (max + 1));
  return img;
}

}  // namespace convkit::test

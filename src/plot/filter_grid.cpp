// A convolution layer's kernels as an image grid (train --plot-filters).
#include <algorithm>
#include <cmath>

#include "convkit/error.hpp"
#include "convkit/plot.hpp"

namespace convkit::plot {

namespace {
constexpr int kMargin = 6, kTileGap = 2, kBlockGap = 6;
}

FilterGrid filter_grid_layout(int filters, int channels, int kernel, const float* weights) {
  if (filters < 1 || channels < 1 || kernel < 1)
    throw UsageError("a filter grid needs at least one filter, channel and weight");
  FilterGrid g;
  g.columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(filters))));
  g.rows = (filters + g.columns - 1) / g.columns;
  g.cell = std::max(2, 48 / kernel);
  const int tiles = channels == 3 ? 1 : channels;
  g.block_width = tiles * kernel * g.cell + (tiles - 1) * kTileGap;
  g.block_height = kernel * g.cell;
  const std::size_t n = static_cast<std::size_t>(filters) * channels * kernel * kernel;
  for (std::size_t i = 0; i < n; ++i)
    g.scale = std::max(g.scale, std::abs(static_cast<double>(weights[i])));
  return g;
}

Canvas filter_grid(const float* weights, int filters, int channels, int kernel) {
  const FilterGrid g = filter_grid_layout(filters, channels, kernel, weights);
  const int width = 2 * kMargin + g.columns * g.block_width + (g.columns - 1) * kBlockGap;
  const int height = 2 * kMargin + g.rows * g.block_height + (g.rows - 1) * kBlockGap;
  Canvas c(width, height, kWhite);
  auto level = [&](float w) {
    const double v = g.scale > 0 ? 128.0 + 127.0 * static_cast<double>(w) / g.scale : 128.0;
    return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
  };
  const std::size_t kk = static_cast<std::size_t>(kernel) * kernel;
  for (int f = 0; f < filters; ++f) {
    const int bx = kMargin + (f % g.columns) * (g.block_width + kBlockGap);
    const int by = kMargin + (f / g.columns) * (g.block_height + kBlockGap);
    const float* w = weights + static_cast<std::size_t>(f) * channels * kk;
    for (int y = 0; y < kernel; ++y)
      for (int x = 0; x < kernel; ++x) {
        const std::size_t at = static_cast<std::size_t>(y) * kernel + x;
        if (channels == 3) {
          const Color col{level(w[at]), level(w[kk + at]), level(w[2 * kk + at])};
          c.fill_rect(bx + x * g.cell, by + y * g.cell, bx + (x + 1) * g.cell,
                      by + (y + 1) * g.cell, col);
          continue;
        }
        for (int ch = 0; ch < channels; ++ch) {
          const std::uint8_t v = level(w[ch * kk + at]);
          const int tx = bx + ch * (kernel * g.cell + kTileGap);
          c.fill_rect(tx + x * g.cell, by + y * g.cell, tx + (x + 1) * g.cell,
                      by + (y + 1) * g.cell, Color{v, v, v});
        }
      }
  }
  return c;
}

}  // namespace convkit::plot

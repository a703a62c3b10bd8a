// Alpha and light for image filters (see convkit/colour.hpp).
#include "convkit/colour.hpp"

#include <cmath>
#include <string>

#include "convkit/error.hpp"
#include "convkit/parallel.hpp"

namespace convkit {

std::string_view to_string(AlphaMode m) {
  return name_of(kAlphaModeNames, m);
}

AlphaMode parse_alpha_mode(std::string_view name) {
  return parse_name(kAlphaModeNames, name, "alpha mode");
}

double srgb_to_linear(double s) {
  const double a = std::fabs(s);
  const double v = a <= 0.04045 ? a / 12.92 : std::pow((a + 0.055) / 1.055, 2.4);
  return std::copysign(v, s);
}

double linear_to_srgb(double linear) {
  const double a = std::fabs(linear);
  const double v = a <= 0.0031308 ? 12.92 * a : 1.055 * std::pow(a, 1 / 2.4) - 0.055;
  return std::copysign(v, linear);
}

namespace {

int colour_planes(const Image& img) {
  return img.has_alpha() ? img.channels - 1 : img.channels;
}

std::size_t plane_size(const Image& img) {
  return static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height);
}

// f(sample) on every colour sample, in parallel.
template <class F>
void map_colour(Image& img, F f) {
  with_sample_type(img, [&](auto t) {
    using T = decltype(t);
    T* p = img.samples<T>().data();
    const auto total = static_cast<std::ptrdiff_t>(plane_size(img) * colour_planes(img));
    parallel_for(0, total, 1 << 14, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
      for (std::ptrdiff_t i = lo; i < hi; ++i) p[i] = static_cast<T>(f(double(p[i])));
    });
  });
}

// f(colour, alpha) -> colour on every colour sample of an image with alpha.
template <class F>
void map_with_alpha(Image& img, F f) {
  if (!img.has_alpha()) return;
  const std::size_t n = plane_size(img);
  with_sample_type(img, [&](auto t) {
    using T = decltype(t);
    const T* alpha = img.plane_of<T>(img.channels - 1);
    for (int c = 0; c < colour_planes(img); ++c) {
      T* p = img.plane_of<T>(c);
      parallel_for(0, static_cast<std::ptrdiff_t>(n), 1 << 14,
                   [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                     for (std::ptrdiff_t i = lo; i < hi; ++i) p[i] = f(p[i], alpha[i]);
                   });
    }
  });
}

double range_of(const Image& img) {
  return img.max_value() > 0 ? img.max_value() : 1.0;
}

}  // namespace

void srgb_to_linear(Image& img) {
  const double m = range_of(img);
  map_colour(img, [m](double v) { return srgb_to_linear(v / m) * m; });
}

void linear_to_srgb(Image& img) {
  const double m = range_of(img);
  map_colour(img, [m](double v) { return linear_to_srgb(v / m) * m; });
}

void premultiply_alpha(Image& img) {
  map_with_alpha(img, [](auto c, auto a) { return c * a; });
}

void unpremultiply_alpha(Image& img) {
  map_with_alpha(img, [](auto c, auto a) { return a > 0 ? c / a : decltype(c)(0); });
}

}  // namespace convkit

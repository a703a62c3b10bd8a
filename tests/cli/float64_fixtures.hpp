// Fixtures for the float64 tests: a raw .npy writer and reader written here
// (independent of convkit's codec) and brute-force double filters.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/filtering_fixtures.hpp"
#include "support/run.hpp"

namespace convkit::test {

/// An array as stored: numpy's dtype string ("<f8"), shape, values in C order.
struct RawNpy {
  std::string descr;
  std::vector<long long> shape;
  std::vector<double> values;
  std::string header;  ///< the header text (dict and padding)
};

/// float64 .npy bytes of `values` with this shape.
inline std::string npy_f8(const std::vector<long long>& shape, const std::vector<double>& values) {
  std::string dims;
  for (long long d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string out = npy_header_bytes("<f8", dims);
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  return out;
}

/// Parse a version 1 .npy of dtype <f8 or <f4 (C order) from its bytes.
inline RawNpy parse_raw_npy(const std::string& b) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error("not npy");
  const std::size_t hl = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
  RawNpy a;
  a.header = b.substr(10, hl);
  const auto d = a.header.find("'descr': '") + 10;
  a.descr = a.header.substr(d, a.header.find('\'', d) - d);
  auto s = a.header.find("'shape': (") + 10;
  const auto e = a.header.find(')', s);
  long long n = 1;
  while (s < e) {
    std::size_t used = 0;
    a.shape.push_back(std::stoll(a.header.substr(s, e - s), &used));
    n *= a.shape.back();
    s += used;
    while (s < e && (a.header[s] == ',' || a.header[s] == ' ')) ++s;
  }
  const char* p = b.data() + 10 + hl;
  const std::size_t item = a.descr == "<f8" ? 8 : 4;
  if (b.size() != 10 + hl + item * static_cast<std::size_t>(n))
    throw std::runtime_error("npy data size");
  for (long long i = 0; i < n; ++i) {
    if (item == 8) {
      double v;
      std::memcpy(&v, p + 8 * i, 8);
      a.values.push_back(v);
    } else {
      float v;
      std::memcpy(&v, p + 4 * i, 4);
      a.values.push_back(v);
    }
  }
  return a;
}

inline RawNpy read_raw_npy(const std::string& path) {
  return parse_raw_npy(read_file(path));
}

/// Values near 1e9 with a fractional part: float32 (spacing 64 there) cannot hold them.
inline std::vector<double> values_near_1e9(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1000.0);
  std::vector<double> v(n);
  for (double& x : v) x = 1e9 + u(rng);
  return v;
}

/// OpenCV's BORDER_REFLECT_101 index.
inline int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/// Same-size correlation of an h x w plane with a kh x kw mask (odd sizes),
/// reflect-101 border, as plain double loops.
inline std::vector<double> correlate_reflect(const std::vector<double>& x, int h, int w,
                                             const std::vector<double>& m, int kh, int kw) {
  std::vector<double> y(x.size());
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      double s = 0;
      for (int i = 0; i < kh; ++i)
        for (int j = 0; j < kw; ++j)
          s += m[i * kw + j] * x[reflect101(r + i - kh / 2, h) * w + reflect101(c + j - kw / 2, w)];
      y[r * w + c] = s;
    }
  return y;
}

}  // namespace convkit::test

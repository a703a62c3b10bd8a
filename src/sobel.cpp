// src/sobel.cpp — Sobel masks of size 5 and 7.
#include "sobel.hpp"

#include <string>
#include <vector>

#include "convkit/error.hpp"

namespace convkit {

namespace {

/// Coefficients of (1 + z)^(n-1): 1 2 1, 1 4 6 4 1, ...
std::vector<double> binomial(int n) {
  std::vector<double> c{1};
  for (int i = 1; i < n; ++i) {
    c.push_back(0);
    for (std::size_t j = c.size() - 1; j > 0; --j) c[j] += c[j - 1];
  }
  return c;
}

}  // namespace

SeparableMask sobel_mask(EdgeOperator op, bool along_x, int ksize) {
  if (ksize != 3 && ksize != 5 && ksize != 7)
    throw UsageError(param("ksize") + " " + std::to_string(ksize) + " is not 3, 5 or 7");
  if (op != EdgeOperator::sobel)
    throw UsageError(param("ksize") + " " + std::to_string(ksize) + " applies to " + param("op") +
                     " sobel only");
  const std::vector<double> smooth = binomial(ksize), half = binomial(ksize - 1);
  // Correlation form: half * (-1, +1), so the response grows where the
  // intensity grows along the axis.
  std::vector<double> diff(static_cast<std::size_t>(ksize), 0.0);
  for (std::size_t j = 0; j < half.size(); ++j) {
    diff[j] -= half[j];
    diff[j + 1] += half[j];
  }
  return along_x ? SeparableMask{smooth, diff} : SeparableMask{diff, smooth};
}

}  // namespace convkit

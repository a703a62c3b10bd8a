// Laplacian of Gaussian and difference of Gaussians: two separable masks
// each, filtered by the engine and added or subtracted (see
// convkit/filtering.hpp, gaussian_edge_masks).
#include <algorithm>
#include <cmath>
#include <string>

#include "convkit/error.hpp"
#include "convkit/filtering.hpp"
#include "convkit/io/text.hpp"

namespace convkit {

namespace {

void check_sigma(double sigma, const char* name) {
  if (!(sigma > 0) || !std::isfinite(sigma) || sigma > 600)
    throw UsageError(param(name) + " must be a number greater than 0 and at most 600 (got " +
                     format_number(sigma) + ")");
}

void check_size(int size, const char* what) {
  if (size < 1 || size % 2 == 0 || size > 4095)
    throw UsageError(param(what) + " " + std::to_string(size) +
                     " is not allowed; it must be odd, from 1 to 4095");
}

}  // namespace

std::vector<double> gaussian_second_derivative_taps(int size, double sigma) {
  std::vector<double> t = gaussian_taps(size, sigma);
  const int r = (size - 1) / 2;
  for (int i = 0; i < size; ++i) {
    const double q = (i - r) / sigma;  // x^2/sigma^4 - 1/sigma^2 = (q^2 - 1) / sigma^2
    t[static_cast<std::size_t>(i)] *= (q * q - 1) / sigma / sigma;
  }
  return t;
}

int log_size_for_sigma(double sigma) {
  check_sigma(sigma, "sigma");
  return 2 * static_cast<int>(std::floor(4 * sigma + 0.5)) + 1;
}

GaussianEdgeMasks gaussian_edge_masks(const EdgeOptions& o) {
  if (o.op != EdgeOperator::log && o.op != EdgeOperator::dog) {
    if (o.sigma != 0 || o.sigma2 != 0 || o.size != 0)
      throw UsageError(param("sigma") + ", " + param("sigma2") + " and " + param("size") +
                       " apply to " + param("op") + " log or dog");
    throw UsageError("only " + param("op") + " log and dog are made of Gaussian masks");
  }
  const double sigma = o.sigma == 0 ? 1.0 : o.sigma;
  check_sigma(sigma, "sigma");
  if (o.size != 0) check_size(o.size, "size");
  if (o.op == EdgeOperator::log) {
    if (o.sigma2 != 0)
      throw UsageError(param("sigma2") + " applies to " + param("op") + " dog, not log");
    const int size = o.size != 0 ? o.size : log_size_for_sigma(sigma);
    if (size > 4095)
      throw UsageError(param("sigma") + " " + format_number(sigma) + " makes a " +
                       std::to_string(size) +
                       "-tap Laplacian-of-Gaussian kernel (at most 4095); give " + param("sigma") +
                       " at most 511 or a " + param("size"));
    const std::vector<double> g = gaussian_taps(size, sigma);
    const std::vector<double> d2 = gaussian_second_derivative_taps(size, sigma);
    for (double v : d2)
      if (!std::isfinite(v))
        throw UsageError(param("sigma") + " " + format_number(sigma) +
                         " is too small for a Laplacian of Gaussian (1/sigma^2 overflows)");
    // mask[r][c] = col[r] * row[c]: d2/dx^2 runs along the row, d2/dy^2 down the column.
    return {SeparableMask{g, d2}, SeparableMask{d2, g}, false};
  }
  const double sigma2 = o.sigma2 == 0 ? 1.6 * sigma : o.sigma2;
  check_sigma(sigma2, "sigma2");
  if (!(sigma2 > sigma))
    throw UsageError(param("sigma2") + " (" + format_number(sigma2) + ") must be larger than " +
                     param("sigma") + " (" + format_number(sigma) + ")");
  const int s1 = o.size != 0 ? o.size : gaussian_size_for_sigma(sigma);
  const int s2 = o.size != 0 ? o.size : gaussian_size_for_sigma(sigma2);
  const std::vector<double> g1 = gaussian_taps(s1, sigma), g2 = gaussian_taps(s2, sigma2);
  return {SeparableMask{g1, g1}, SeparableMask{g2, g2}, true};
}

double edge_gain(const EdgeOptions& o) {
  if (o.op != EdgeOperator::log && o.op != EdgeOperator::dog) {
    if (o.sigma != 0 || o.sigma2 != 0 || o.size != 0) gaussian_edge_masks(o);  // refuses them
    return edge_gain(o.op, o.ksize);
  }
  const GaussianEdgeMasks m = gaussian_edge_masks(o);
  // The 2D kernel first (+/-) second, both centred, summed over its positive
  // and over its negative weights without storing it (up to 4095 x 4095
  // taps).  A truncated LoG does not sum exactly to 0, and one of a single
  // tap has no positive weight, so the gain is the larger of the two sums.
  auto tap = [](const std::vector<double>& v, int i, int r) {
    const int k = i + (static_cast<int>(v.size()) - 1) / 2 - r;
    return k >= 0 && k < static_cast<int>(v.size()) ? v[static_cast<std::size_t>(k)] : 0.0;
  };
  const int r = static_cast<int>((std::max({m.first.col.size(), m.first.row.size(),
                                            m.second.col.size(), m.second.row.size()}) -
                                  1) /
                                 2);
  const double sign = m.subtract ? -1.0 : 1.0;
  double positive = 0, negative = 0;
  for (int i = 0; i <= 2 * r; ++i)
    for (int j = 0; j <= 2 * r; ++j) {
      const double v = tap(m.first.col, i, r) * tap(m.first.row, j, r) +
                       sign * tap(m.second.col, i, r) * tap(m.second.row, j, r);
      (v > 0 ? positive : negative) += std::fabs(v);
    }
  return std::max(positive, negative);
}

}  // namespace convkit

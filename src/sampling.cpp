// The samplers of convkit/sampling.hpp.
#include "convkit/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "convkit/error.hpp"

namespace convkit {

namespace {

// A table of `count` rows of d columns; UsageError for a size out of bounds.
DataTable empty_table(std::int64_t count, int d) {
  if (d < 1 || d > kMaxSampleColumns)
    throw UsageError(param("mean") + ": at most " + std::to_string(kMaxSampleColumns) +
                     " dimensions");
  if (count < 1 || count > kMaxSampleCells / d)
    throw UsageError(param("count") + " must be between 1 and " +
                     std::to_string(kMaxSampleCells / d) + " for " + std::to_string(d) +
                     " column(s)");
  DataTable t;
  t.rows = count;
  t.cols = d;
  t.npy_1d = d == 1;
  t.data.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(d));
  return t;
}

Message not_psd() {
  return param("cov") + " is not positive semi-definite (not a covariance matrix)";
}

// The covariance of spec as a d x d matrix.
Matrix covariance(const GaussianSpec& spec) {
  const int d = static_cast<int>(spec.mean.size());
  const int given = !spec.var.empty() + !spec.stddev.empty() + spec.cov.has_value();
  if (given > 1)
    throw UsageError("give only one of " + param("var") + ", " + param("stddev") + " and " +
                     param("cov"));
  Matrix c{d, d, std::vector<double>(static_cast<std::size_t>(d) * d, 0.0)};
  if (spec.cov) {
    const Matrix& m = *spec.cov;
    if (m.rows != d || m.cols != d)
      throw UsageError(param("cov") + " is " + std::to_string(m.rows) + "x" +
                       std::to_string(m.cols) + " but " + param("mean") + " has " +
                       std::to_string(d) + " value(s): need " + std::to_string(d) + "x" +
                       std::to_string(d));
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        if (!std::isfinite(m(i, j)))
          throw UsageError(param("cov") + ": entry (" + std::to_string(i + 1) + "," +
                           std::to_string(j + 1) + ") is not a finite number");
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        const double a = m(i, j), b = m(j, i);
        if (std::abs(a - b) > 1e-12 * std::max({std::abs(a), std::abs(b), 1.0}))
          throw UsageError(param("cov") + " must be symmetric");
      }
    return m;
  }
  std::vector<double> v(static_cast<std::size_t>(d), 1.0);
  if (!spec.var.empty()) v = per_column(spec.var, v.size(), "var");
  if (!spec.stddev.empty()) {
    v = per_column(spec.stddev, v.size(), "stddev");
    for (double& x : v) {
      if (x < 0) throw UsageError(param("stddev") + " must not be negative");
      x *= x;
    }
  }
  for (int j = 0; j < d; ++j) {
    if (v[j] < 0) throw UsageError(param("var") + " must not be negative");
    c.data[static_cast<std::size_t>(j) * d + j] = v[j];
  }
  return c;
}

}  // namespace

Matrix cholesky(const Matrix& cov) {
  const int d = cov.rows;
  if (cov.cols != d) throw UsageError(param("cov") + " is not square");
  Matrix l{d, d, std::vector<double>(static_cast<std::size_t>(d) * d, 0.0)};
  const auto L = [&](int i, int j) -> double& {
    return l.data[static_cast<std::size_t>(i) * d + j];
  };
  double scale = 0;
  for (int i = 0; i < d; ++i) scale = std::max(scale, std::abs(cov(i, i)));
  const double tol = 1e-12 * std::max(scale, 1e-300);
  for (int j = 0; j < d; ++j) {
    double s = cov(j, j);
    for (int k = 0; k < j; ++k) s -= L(j, k) * L(j, k);
    if (s < -tol) throw UsageError(not_psd());
    const double piv = s > tol ? std::sqrt(s) : 0.0;
    L(j, j) = piv;
    for (int i = j + 1; i < d; ++i) {
      double t = cov(i, j);
      for (int k = 0; k < j; ++k) t -= L(i, k) * L(j, k);
      if (piv == 0) {
        if (std::abs(t) > 1e-9 * std::max(scale, 1e-300)) throw UsageError(not_psd());
        L(i, j) = 0;
      } else {
        L(i, j) = t / piv;
      }
    }
  }
  return l;
}

DataTable sample_gaussian(const GaussianSpec& spec, std::int64_t count, Rng& rng) {
  const int d = static_cast<int>(spec.mean.size());
  DataTable t = empty_table(count, d);
  const Matrix l = cholesky(covariance(spec));
  // Standard normals by Box-Muller (both outputs used), then x = mean + L z.
  std::vector<double> z(static_cast<std::size_t>(d));
  bool have_spare = false;
  double spare = 0;
  const auto normal = [&]() {
    if (have_spare) {
      have_spare = false;
      return spare;
    }
    const auto [first, second] = rng.normal_pair();
    spare = second;
    have_spare = true;
    return first;
  };
  double* out = t.data.data();
  for (std::int64_t r = 0; r < count; ++r) {
    for (double& v : z) v = normal();
    for (int i = 0; i < d; ++i) {
      double s = spec.mean[i];
      for (int k = 0; k <= i; ++k) s += l(i, k) * z[k];
      *out++ = s;
    }
  }
  return t;
}

DataTable sample_uniform(const UniformSpec& spec, std::int64_t count, Rng& rng) {
  const int d = spec.columns;
  DataTable t = empty_table(count, d);
  const std::vector<double> lo = per_column(spec.low, static_cast<std::size_t>(d), "low"),
                            hi = per_column(spec.high, static_cast<std::size_t>(d), "high");
  for (int j = 0; j < d; ++j)
    if (!(hi[j] > lo[j])) throw UsageError(param("high") + " must be greater than " + param("low"));
  double* out = t.data.data();
  for (std::int64_t r = 0; r < count; ++r)
    for (int j = 0; j < d; ++j) *out++ = rng.uniform(lo[j], hi[j]);
  return t;
}

}  // namespace convkit

// convkit/sampling.hpp — random samples from a Gaussian (1D or correlated nD)
// or a uniform distribution, as rows of a table (one column per dimension).
//
// Gaussian rows are x = mean + L z: z standard normals by Box-Muller (both
// halves of each draw used, in order), L the lower Cholesky factor of the
// covariance.  The numbers depend only on the generator's seed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "convkit/data_table.hpp"
#include "convkit/io/text.hpp"
#include "convkit/random.hpp"

namespace convkit {

/// The most numbers (rows x columns) one call draws.
inline constexpr std::int64_t kMaxSampleCells = 10'000'000;
/// The most columns.
inline constexpr int kMaxSampleColumns = 64;

/// A Gaussian.  At most one of var, stddev and cov is given; none: unit variances.
struct GaussianSpec {
  std::vector<double> mean = {0};  ///< one per column: sets the dimension d
  std::vector<double> var;         ///< variances: one for all columns, or d (diagonal covariance)
  std::vector<double> stddev;      ///< standard deviations instead, the same way
  std::optional<Matrix> cov;       ///< the d x d covariance (symmetric positive semi-definite)
};

/// A uniform distribution on [low, high) per column.
struct UniformSpec {
  int columns = 1;
  std::vector<double> low = {0}, high = {1};  ///< one for all columns, or one per column
};

/// Lower-triangular L with L L^T = cov (d x d, row-major), for a symmetric
/// positive semi-definite cov; UsageError naming cov otherwise.
Matrix cholesky(const Matrix& cov);

/// `count` rows drawn from the distribution; UsageError naming the parameter
/// that is out of range (count, mean, var, stddev, cov, low, high).
DataTable sample_gaussian(const GaussianSpec& spec, std::int64_t count, Rng& rng);
DataTable sample_uniform(const UniformSpec& spec, std::int64_t count, Rng& rng);

}  // namespace convkit

// [sampling] the samplers (convkit/sampling.hpp): the Cholesky factor against
// its definition L L^T = C, and the samples against the generator's own
// uniforms and Box-Muller pairs combined by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "convkit/error.hpp"
#include "convkit/sampling.hpp"

using namespace convkit;

TEST_CASE("[sampling] cholesky: L is lower-triangular with L L^T = C, semi-definite C too") {
  // C = A A^T for a fixed A: positive definite; the 4th row a copy of the 1st: semi-definite.
  const double A[4][3] = {{2, 0.5, -1}, {0.3, 1.5, 0.2}, {-0.7, 0.1, 1.1}, {2, 0.5, -1}};
  for (int d : {3, 4}) {
    Matrix c{d, d, std::vector<double>(static_cast<std::size_t>(d * d))};
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        for (int k = 0; k < 3; ++k)
          c.data[static_cast<std::size_t>(i * d + j)] += A[i][k] * A[j][k];
    const Matrix l = cholesky(c);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        CAPTURE(i);
        CAPTURE(j);
        if (j > i) CHECK(l(i, j) == 0);
        double s = 0;
        for (int k = 0; k < d; ++k) s += l(i, k) * l(j, k);
        CHECK(s == doctest::Approx(c(i, j)).epsilon(1e-12));
      }
  }
  CHECK_THROWS_WITH_AS(cholesky(Matrix{2, 2, {1, 2, 2, 1}}),
                       "cov is not positive semi-definite (not a covariance matrix)", UsageError);
}

TEST_CASE("[sampling] sample_gaussian is mean + L z with z the generator's Box-Muller pairs") {
  GaussianSpec g;
  g.mean = {1, -2};
  g.cov = Matrix{2, 2, {4, 1.2, 1.2, 1}};
  Rng rng(17), ref(17);
  const DataTable t = sample_gaussian(g, 5, rng);
  REQUIRE(t.rows == 5);
  REQUIRE(t.cols == 2);
  // L = [2 0; 0.6 0.8] for this covariance.
  for (int r = 0; r < 5; ++r) {
    const auto [z0, z1] = ref.normal_pair();
    CHECK(t.at(r, 0) == doctest::Approx(1 + 2 * z0));
    CHECK(t.at(r, 1) == doctest::Approx(-2 + 0.6 * z0 + 0.8 * z1));
  }
  // One column: both halves of each pair are used, in order.
  GaussianSpec one;
  one.mean = {3};
  one.stddev = {2};
  Rng a(5), b(5);
  const DataTable u = sample_gaussian(one, 4, a);
  const auto [p, q] = b.normal_pair();
  const auto [s, w] = b.normal_pair();
  CHECK(u.data == std::vector<double>{3 + 2 * p, 3 + 2 * q, 3 + 2 * s, 3 + 2 * w});
}

TEST_CASE("[sampling] sample_uniform draws each column in its own bounds, in row order") {
  Rng rng(3), ref(3);
  const DataTable t = sample_uniform({2, {-1, 10}, {1, 20}}, 4, rng);
  REQUIRE(t.data.size() == 8);
  for (std::size_t k = 0; k < t.data.size(); k += 2) {
    CHECK(t.data[k] == ref.uniform(-1, 1));
    CHECK(t.data[k + 1] == ref.uniform(10, 20));
  }
  Rng r(1);
  CHECK_THROWS_WITH_AS(sample_uniform({2, {0, 10}, {1}}, 4, r), "high must be greater than low",
                       UsageError);
  CHECK_THROWS_WITH_AS(sample_uniform({3, {0, 1}, {2}}, 4, r),
                       "low: give one value or 3 (one per column), not 2", UsageError);
  CHECK_THROWS_WITH_AS(sample_uniform({1, {0}, {1}}, 0, r),
                       "count must be between 1 and 10000000 for 1 column(s)", UsageError);
}

TEST_CASE("[sampling] a Gaussian takes one of var, stddev and cov, each checked") {
  Rng r(1);
  GaussianSpec g;
  g.mean = {0, 0};
  g.var = {1};
  g.stddev = {1};
  CHECK_THROWS_WITH_AS(sample_gaussian(g, 2, r), "give only one of var, stddev and cov",
                       UsageError);
  g.stddev.clear();
  g.var = {1, -1};
  CHECK_THROWS_WITH_AS(sample_gaussian(g, 2, r), "var must not be negative", UsageError);
  g.var.clear();
  g.cov = Matrix{3, 3, std::vector<double>(9, 0.0)};
  CHECK_THROWS_WITH_AS(sample_gaussian(g, 2, r), "cov is 3x3 but mean has 2 value(s): need 2x2",
                       UsageError);
  g.cov = Matrix{2, 2, {1, 0.5, 0.4, 1}};
  CHECK_THROWS_WITH_AS(sample_gaussian(g, 2, r), "cov must be symmetric", UsageError);
}

#pragma once
// Helpers of the loss tests: seeded inputs, central finite differences, gradient comparisons.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"
#include "support/matchers.hpp"

// `expr` throws mlr::error whose message contains `text`.
#define MLR_CHECK_ERROR(expr, text) \
  CHECK_THROWS_MATCHES(expr, mlr::error, mlr_test::message_contains(text))

namespace mlr_test {

inline std::vector<double> uniform(std::size_t n, double lo, double hi, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Labels drawn from `values` with the given weights.
inline std::vector<std::int8_t> labels(std::size_t n, std::vector<std::int8_t> values, std::vector<double> weights,
                                       std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::discrete_distribution<std::size_t> d(weights.begin(), weights.end());
  std::vector<std::int8_t> v(n);
  for (auto& y : v) y = values[d(rng)];
  return v;
}

// d value / d x[k] by central differences of step h.
template <class F>
std::vector<double> numeric_gradient(std::vector<double> x, F value, double h = 1e-6) {
  std::vector<double> g(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double keep = x[k];
    x[k] = keep + h;
    const double up = value(x);
    x[k] = keep - h;
    const double down = value(x);
    x[k] = keep;
    g[k] = (up - down) / (2 * h);
  }
  return g;
}

// |a - b| <= tol · max(max |b|, 1e-300), over the whole tensor (METHOD.md 7: gradients are
// compared against their largest entry).
inline void require_close(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  REQUIRE(a.size() == b.size());
  double scale = 0;
  for (double v : b) scale = std::max(scale, std::abs(v));
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO("entry " << k << ": " << a[k] << " vs " << b[k]);
    CHECK(std::abs(a[k] - b[k]) <= tol * std::max(scale, 1e-300));
  }
}

template <class T, std::size_t R>
std::vector<double> to_vector(const mlr::strided_view<T, R>& v) {
  std::vector<double> out;
  if constexpr (R == 2) {
    for (mlr::index_t i = 0; i < v.extent(0); ++i)
      for (mlr::index_t j = 0; j < v.extent(1); ++j) out.push_back(static_cast<double>(v(i, j)));
  } else {
    for (mlr::index_t i = 0; i < v.extent(0); ++i)
      for (mlr::index_t j = 0; j < v.extent(1); ++j)
        for (mlr::index_t k = 0; k < v.extent(2); ++k) out.push_back(static_cast<double>(v(i, j, k)));
  }
  return out;
}

}  // namespace mlr_test

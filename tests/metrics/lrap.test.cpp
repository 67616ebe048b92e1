// Label ranking average precision against scikit-learn's outputs (METHOD.md 4.2, 7.8) and a
// direct transcription of the definition, with ties, ignored entries and class subsets.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/lrap.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using mlr_test::message_contains;

namespace {

// The definition of METHOD.md 4.2, O(C^2) per row; entries with label -1 are left out.
double naive_lrap(const std::vector<double>& s, const std::vector<std::int8_t>& y, mlr::index_t n, mlr::index_t c) {
  double total = 0.0;
  for (mlr::index_t i = 0; i < n; ++i) {
    auto at = [&](mlr::index_t j) { return static_cast<std::size_t>(i * c + j); };
    int relevant = 0, candidates = 0;
    for (mlr::index_t j = 0; j < c; ++j) {
      candidates += y[at(j)] != -1;
      relevant += y[at(j)] == 1;
    }
    if (relevant == 0 || relevant == candidates) {
      total += 1.0;
      continue;
    }
    double row = 0.0;
    for (mlr::index_t j = 0; j < c; ++j) {
      if (y[at(j)] != 1) continue;
      int rank = 0, l = 0;
      for (mlr::index_t q = 0; q < c; ++q) {
        if (y[at(q)] == -1 || s[at(q)] < s[at(j)]) continue;
        ++rank;
        l += y[at(q)] == 1;
      }
      row += static_cast<double>(l) / rank;
    }
    total += row / relevant;
  }
  return total / static_cast<double>(n);
}

}  // namespace

TEST_CASE("label_ranking_average_precision: scikit-learn vectors (METHOD 7.8)", "[metrics][lrap]") {
  const std::vector<double> s{.9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  CHECK(mlr::label_ranking_average_precision(mlr::make_view(s.data(), {4, 3}), mlr::make_view(y.data(), {4, 3})) ==
        1.0);
  // scikit-learn's documented example: 0.416666...
  const std::vector<double> t{0.75, 0.5, 1, 1, 0.2, 0.1};
  const std::vector<std::int8_t> z{1, 0, 0, 0, 0, 1};
  CHECK_THAT(mlr::label_ranking_average_precision(mlr::make_view(t.data(), {2, 3}), mlr::make_view(z.data(), {2, 3})),
             WithinRel(5.0 / 12.0, 1e-14));
  // Pessimistic ties: 4 equal scores, 1 relevant -> 1/4.
  const std::vector<float> e{.3f, .3f, .3f, .3f};
  const bool yb[4] = {false, true, false, false};
  CHECK(mlr::label_ranking_average_precision(mlr::make_view(e.data(), {1, 4}), mlr::make_view(yb, {1, 4})) == 0.25);
}

TEST_CASE("label_ranking_average_precision: ignored entries, encodings, subsets, threads", "[metrics][lrap]") {
  std::mt19937 gen(3);
  std::uniform_int_distribution<int> score(0, 6), label(-1, 1);
  const mlr::index_t n = 700, c = 9;
  std::vector<double> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size());
  for (auto& v : s) v = score(gen) / 6.0;
  for (auto& v : y) v = static_cast<std::int8_t>(label(gen));
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const double expected = naive_lrap(s, y, n, c);
  const double one = mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {1});
  CHECK_THAT(one, WithinRel(expected, 1e-12));
  CHECK(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {2}) == one);
  // The same labels in the signed encoding.
  std::vector<std::int8_t> signed_y(y);
  for (auto& v : signed_y) v = v == -1 ? 0 : v == 0 ? -1 : 1;
  CHECK(mlr::label_ranking_average_precision(S, mlr::make_view(signed_y.data(), {n, c}),
                                             mlr::label_encoding::signed_zero_ignored) == one);
  // A subset equals slicing.
  const std::vector<mlr::index_t> subset{8, 1, 4};
  std::vector<double> s2;
  std::vector<std::int8_t> y2;
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j : subset) {
      s2.push_back(S(i, j));
      y2.push_back(Y(i, j));
    }
  CHECK_THAT(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, subset),
             WithinRel(naive_lrap(s2, y2, n, 3), 1e-12));
}

TEST_CASE("label_ranking_average_precision: bad input is an mlr::error", "[metrics][lrap][errors]") {
  std::vector<double> s{.9, .2, .1, .3, .8, .7};
  std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0};
  const auto S = mlr::make_view(s.data(), {2, 3});
  const auto Y = mlr::make_view(y.data(), {2, 3});
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(S, mlr::make_view(y.data(), {3, 2})), mlr::error,
                       message_contains("labels: expected shape (2, 3)"));
  CHECK_THROWS_MATCHES(
      mlr::label_ranking_average_precision(mlr::make_view(s.data(), {2, 0}), mlr::make_view(y.data(), {2, 0})),
      mlr::error, message_contains("expected a non-empty tensor"));
  const std::vector<mlr::index_t> duplicated{1, 1};
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, duplicated),
                       mlr::error, message_contains("classes: expected distinct class indices"));
  s[3] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(S, Y), mlr::error,
                       message_contains("scores: expected finite values, found inf at (1, 0)"));
  s[3] = 0.3;
  y[2] = 2;
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(S, Y), mlr::error, message_contains("found 2 at (0, 2)"));
}

// Label ranking average precision against scikit-learn's outputs (METHOD.md 4.2, 7.8) and a
// direct transcription of the definition, with ties, ignored entries and class subsets.
#include <catch2/catch.hpp>

#include <array>
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
  const double one = mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {.threads = 1});
  CHECK_THAT(one, WithinRel(expected, 1e-12));
  CHECK(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {.threads = 2}) == one);
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

TEST_CASE("label_ranking_average_precision: wide rows, heavy ties, many relevant labels, strided views",
          "[metrics][lrap]") {
  // Rows of 300 classes whose relevant share runs from none to all (so from no rung to more than
  // the counting passes handle: the ranked path), scores on 1, 8 or 64 levels (ties) or
  // continuous, about a tenth of the entries ignored.
  std::mt19937 gen(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const mlr::index_t n = 240, c = 300;
  std::vector<double> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size());
  for (mlr::index_t i = 0; i < n; ++i) {
    const double relevant_share = static_cast<double>(i % 24) / 23.0;
    const double levels = std::array<double, 4>{1.0, 8.0, 64.0, 0.0}[static_cast<std::size_t>(i % 4)];
    for (mlr::index_t j = 0; j < c; ++j) {
      const auto e = static_cast<std::size_t>(i * c + j);
      s[e] = levels > 0 ? std::floor(unit(gen) * levels) / levels : unit(gen);
      y[e] = static_cast<std::int8_t>(unit(gen) < 0.1 ? -1 : unit(gen) < relevant_share ? 1 : 0);
    }
  }
  const double expected = naive_lrap(s, y, n, c);
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const double one = mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {.threads = 1});
  CHECK_THAT(one, WithinRel(expected, 1e-12));
  CHECK(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {.threads = 3}) == one);

  // The same matrices stored column-major: rows are strided, the general path.
  std::vector<double> s_cm(s.size());
  std::vector<std::int8_t> y_cm(y.size());
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j = 0; j < c; ++j) {
      s_cm[static_cast<std::size_t>(j * n + i)] = s[static_cast<std::size_t>(i * c + j)];
      y_cm[static_cast<std::size_t>(j * n + i)] = y[static_cast<std::size_t>(i * c + j)];
    }
  CHECK_THAT(mlr::label_ranking_average_precision(mlr::make_view(s_cm.data(), {n, c}, mlr::column_major),
                                                  mlr::make_view(y_cm.data(), {n, c}, mlr::column_major)),
             WithinRel(expected, 1e-12));
  // Every entry ignored: no candidates, each image scores 1.
  const std::vector<std::int8_t> none(y.size(), -1);
  CHECK(mlr::label_ranking_average_precision(S, mlr::make_view(none.data(), {n, c})) == 1.0);
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
  // The first bad entry is named whatever rows or threads reach it first, and within a subset
  // with the caller's column index.
  y[2] = 0;
  std::vector<double> wide(3000 * 3, 0.5);
  std::vector<std::int8_t> wide_y(wide.size(), 0);
  wide[2999 * 3 + 1] = std::numeric_limits<double>::quiet_NaN();
  wide_y[1500 * 3 + 2] = 5;
  const auto W = mlr::make_view(wide.data(), {3000, 3});
  const auto WY = mlr::make_view(wide_y.data(), {3000, 3});
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(W, WY, mlr::label_encoding::canonical, {}, {.threads = 2}),
                       mlr::error, message_contains("scores: expected finite values, found nan at (2999, 1)"));
  wide[2999 * 3 + 1] = 0.5;
  const std::vector<mlr::index_t> subset{2, 0};
  CHECK_THROWS_MATCHES(mlr::label_ranking_average_precision(W, WY, mlr::label_encoding::canonical, subset, {.threads = 2}),
                       mlr::error, message_contains("found 5 at (1500, 2)"));
  const std::vector<mlr::index_t> other{0, 1};
  CHECK(mlr::label_ranking_average_precision(W, WY, mlr::label_encoding::canonical, other) == 1.0);
}

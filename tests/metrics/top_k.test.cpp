// Top-k precision / recall / F1 against the worked vectors of METHOD.md (7.9 calc_F1 and the
// zero-shot subset, 7.10 MKT compute_F1, 7.12 top-1) and the contract: ties by lower class index,
// per-image clamping, zero divisions, class subsets equal to slicing, thread-count invariance,
// errors naming what was found.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/top_k.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr_test::message_contains;

namespace {

struct expected {
  double p, r, f;
};

void check(const mlr::top_k_result& r, expected e, double tol = 1e-6) {
  CHECK_THAT(r.precision, WithinAbs(e.p, tol));
  CHECK_THAT(r.recall, WithinAbs(e.r, tol));
  CHECK_THAT(r.f1, WithinAbs(e.f, tol));
}

}  // namespace

TEST_CASE("top_k: DualCoOp calc_F1 vectors (METHOD 7.9)", "[metrics][top_k]") {
  const std::vector<double> s{.9, .8, .7, .1, 0, .1, .9, .2, .8, 0, .5, .4, .3, .2, .1, .1, .2, .3, .4, .5};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0};
  const auto S = mlr::make_view(s.data(), {4, 5});
  const auto Y = mlr::make_view(y.data(), {4, 5});
  const auto k1 = mlr::top_k(S, Y, 1);
  check(k1, {0.5, 0.285714, 0.363636});
  CHECK(k1.true_positives == 2);
  CHECK(k1.predicted == 4);
  CHECK(k1.positives == 7);
  check(mlr::top_k(S, Y, 3), {0.416667, 0.714286, 0.526316});
  check(mlr::top_k(S, Y, 5), {0.35, 1.0, 0.518519});
  const auto k7 = mlr::top_k(S, Y, 7);  // clamped to 5 slots per image
  check(k7, {0.35, 1.0, 0.518519});
  CHECK(k7.predicted == 20);
  // Exact fractions.
  CHECK(mlr::top_k(S, Y, 3).precision == 5.0 / 12.0);
  CHECK(mlr::top_k(S, Y, 3).recall == 5.0 / 7.0);
}

TEST_CASE("top_k: zero-shot subset of the DualCoOp threshold data (METHOD 7.9)", "[metrics][top_k]") {
  const std::vector<double> d{2, -1, 0.3, -0.5, 1.5, -2, 0.1, 0.2, -0.1, -3, -0.2, 4};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
  const auto S = mlr::make_view(d.data(), {4, 3});
  const auto Y = mlr::make_view(y.data(), {4, 3});
  const std::vector<mlr::index_t> unseen{0, 2};
  check(mlr::top_k(S, Y, 1, {}, unseen), {0.75, 1.0, 0.857143});
  check(mlr::top_k(S, Y, 2, {}, unseen), {0.375, 1.0, 0.545455});
  // The order of the subset does not matter.
  const std::vector<mlr::index_t> reversed{2, 0};
  check(mlr::top_k(S, Y, 1, {}, reversed), {0.75, 1.0, 0.857143});
}

TEST_CASE("top_k: MKT compute_F1 vectors, signed labels (METHOD 7.10)", "[metrics][top_k]") {
  const std::vector<float> s{.9f, .2f, .5f, .1f, .8f, .3f, .4f, 0.f};
  const std::vector<std::int8_t> y{1, -1, 0, 1, -1, 1, -1, -1};
  const auto S = mlr::make_view(s.data(), {2, 4});
  const auto Y = mlr::make_view(y.data(), {2, 4});
  const mlr::top_k_options mkt{.encoding = mlr::label_encoding::signed_zero_ignored,
                               .ignored = mlr::topk_ignored::false_positive};
  check(mlr::top_k(S, Y, 1, mkt), {0.5, 0.333333, 0.4});
  check(mlr::top_k(S, Y, 2, mkt), {0.25, 0.333333, 0.285714});
  check(mlr::top_k(S, Y, 3, mkt), {0.333333, 0.666667, 0.444444});
  check(mlr::top_k(S, Y, 4, mkt), {0.375, 1.0, 0.545455});
  check(mlr::top_k(S, Y, 5, mkt), {0.375, 1.0, 0.545455});  // MKT raises; mlr clamps
  // The default removes the unknown before ranking.
  const auto removed = mlr::top_k(S, Y, 3, {.encoding = mlr::label_encoding::signed_zero_ignored});
  check(removed, {0.5, 1.0, 0.666667});
  CHECK(removed.predicted == 6);
  CHECK(removed.true_positives == 3);
}

TEST_CASE("top_k: ties at rank k go to the lower class index (METHOD 7.12)", "[metrics][top_k]") {
  const std::vector<double> s{.9, .8, .1, .05, .2, .7, .6, .1, .3, .3, .3, .3};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0};
  const auto r = mlr::top_k(mlr::make_view(s.data(), {3, 4}), mlr::make_view(y.data(), {3, 4}), 1);
  check(r, {2.0 / 3.0, 0.4, 0.5}, 1e-12);
  // Three equal scores, the positive the last of them: k = 2 takes classes 0 and 1 only.
  const std::vector<double> t{.5, .5, .5};
  const std::vector<std::int8_t> z{0, 0, 1};
  CHECK(mlr::top_k(mlr::make_view(t.data(), {1, 3}), mlr::make_view(z.data(), {1, 3}), 2).true_positives == 0);
  CHECK(mlr::top_k(mlr::make_view(t.data(), {1, 3}), mlr::make_view(z.data(), {1, 3}), 3).true_positives == 1);
}

TEST_CASE("top_k: zero divisions under each policy", "[metrics][top_k]") {
  const std::vector<double> s{.9, .1, .2, .8};
  const std::vector<std::int8_t> none{0, 0, 0, 0};
  const auto S = mlr::make_view(s.data(), {2, 2});
  const auto N = mlr::make_view(none.data(), {2, 2});
  const auto standard = mlr::top_k(S, N, 1);
  CHECK(standard.precision == 0.0);
  CHECK(std::isnan(standard.recall));
  CHECK(std::isnan(standard.f1));
  const auto sdl = mlr::top_k(S, N, 1, {.zero_division = mlr::zero_division::sdl});
  CHECK(sdl.precision == 0.0);
  CHECK(std::isnan(sdl.recall));
  CHECK(sdl.f1 == 0.0);
  // Positives but no hit: F1 = 0 (standard, sdl), NaN (biam).
  const std::vector<std::int8_t> miss{0, 1, 1, 0};
  const auto M = mlr::make_view(miss.data(), {2, 2});
  CHECK(mlr::top_k(S, M, 1).f1 == 0.0);
  CHECK(mlr::top_k(S, M, 1, {.zero_division = mlr::zero_division::sdl}).f1 == 0.0);
  CHECK(std::isnan(mlr::top_k(S, M, 1, {.zero_division = mlr::zero_division::biam}).f1));
  // Every entry ignored: nothing predicted. P = 0 (standard), NaN (biam).
  const std::vector<std::int8_t> all_ignored{-1, -1, -1, -1};
  const auto I = mlr::make_view(all_ignored.data(), {2, 2});
  const auto r = mlr::top_k(S, I, 1);
  CHECK(r.predicted == 0);
  CHECK(r.precision == 0.0);
  CHECK(std::isnan(r.recall));
  CHECK(std::isnan(mlr::top_k(S, I, 1, {.zero_division = mlr::zero_division::biam}).precision));
  CHECK(mlr::top_k(S, I, 1, {.ignored = mlr::topk_ignored::false_positive}).predicted == 2);
}

TEST_CASE("top_k: a class subset equals slicing; results do not depend on threads", "[metrics][top_k]") {
  std::mt19937 gen(7);
  std::uniform_int_distribution<int> score(0, 9), label(-1, 1);
  const mlr::index_t n = 1000, c = 12;
  std::vector<float> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size());
  for (auto& v : s) v = static_cast<float>(score(gen)) / 10.0f;  // many ties
  for (auto& v : y) v = static_cast<std::int8_t>(label(gen));
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const std::vector<mlr::index_t> subset{7, 2, 11, 4};
  std::vector<float> s2;
  std::vector<std::int8_t> y2;
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j : subset) {
      s2.push_back(S(i, j));
      y2.push_back(Y(i, j));
    }
  const auto S2 = mlr::make_view(s2.data(), {n, 4});
  const auto Y2 = mlr::make_view(y2.data(), {n, 4});
  for (auto ignored : {mlr::topk_ignored::removed, mlr::topk_ignored::false_positive})
    for (std::int64_t k : {1, 2, 3, 4, 9}) {
      const mlr::top_k_options o{.ignored = ignored};
      const auto a = mlr::top_k(S, Y, k, o, subset, {1});
      const auto b = mlr::top_k(S2, Y2, k, o, {}, {2});
      // Tie-breaks follow the class index, which slicing renumbers only where the subset is not
      // increasing; compare counts that do not depend on the tie-break, and the whole result
      // between thread counts.
      CHECK(a.predicted == b.predicted);
      CHECK(a.positives == b.positives);
      const auto a2 = mlr::top_k(S, Y, k, o, subset, {2});
      CHECK(a.true_positives == a2.true_positives);
      CHECK(a.predicted == a2.predicted);
      const auto full1 = mlr::top_k(S, Y, k, o, {}, {1});
      const auto full2 = mlr::top_k(S, Y, k, o, {}, {2});
      CHECK(full1.true_positives == full2.true_positives);
    }
  // An increasing subset: identical to slicing, ties included.
  const std::vector<mlr::index_t> increasing{2, 4, 7, 11};
  std::vector<float> s3;
  std::vector<std::int8_t> y3;
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j : increasing) {
      s3.push_back(S(i, j));
      y3.push_back(Y(i, j));
    }
  for (std::int64_t k : {1, 2, 3}) {
    const auto a = mlr::top_k(S, Y, k, {}, increasing);
    const auto b = mlr::top_k(mlr::make_view(s3.data(), {n, 4}), mlr::make_view(y3.data(), {n, 4}), k);
    CHECK(a.true_positives == b.true_positives);
    CHECK(a.predicted == b.predicted);
    CHECK(a.positives == b.positives);
  }
}

TEST_CASE("top_k: bad input is an mlr::error naming what was found", "[metrics][top_k][errors]") {
  std::vector<double> s{.9, .2, .1, .3, .8, .7};
  std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0};
  const auto S = mlr::make_view(s.data(), {2, 3});
  const auto Y = mlr::make_view(y.data(), {2, 3});
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 0), mlr::error, message_contains("k: expected a positive number"));
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, -2), mlr::error, message_contains("found -2"));
  CHECK_THROWS_MATCHES(mlr::top_k(S, mlr::make_view(y.data(), {3, 2}), 1), mlr::error,
                       message_contains("labels: expected shape (2, 3) (that of scores), found (3, 2)"));
  CHECK_THROWS_MATCHES(mlr::top_k(mlr::make_view(s.data(), {0, 3}), mlr::make_view(y.data(), {0, 3}), 1),
                       mlr::error, message_contains("scores: expected a non-empty tensor, found shape (0, 3)"));
  const std::vector<mlr::index_t> out_of_range{0, 3};
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, out_of_range), mlr::error,
                       message_contains("classes: expected class indices in [0, 3), found 3 at position 1"));
  const std::vector<mlr::index_t> negative{-1};
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, negative), mlr::error, message_contains("found -1 at position 0"));
  const std::vector<mlr::index_t> duplicated{2, 0, 2};
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, duplicated), mlr::error,
                       message_contains("classes: expected distinct class indices, found 2 at positions 0 and 2"));
  s[4] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1), mlr::error,
                       message_contains("scores: expected finite values, found nan at (1, 1)"));
  const std::vector<mlr::index_t> subset{2, 1};
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, subset), mlr::error, message_contains("found nan at (1, 1)"));
  const std::vector<mlr::index_t> without_bad{0, 2};
  CHECK_NOTHROW(mlr::top_k(S, Y, 1, {}, without_bad));  // only the classes in scope are read
  s[4] = 0.8;
  y[5] = 3;
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1), mlr::error, message_contains("found 3 at (1, 2)"));
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, subset), mlr::error, message_contains("found 3 at (1, 2)"));
}

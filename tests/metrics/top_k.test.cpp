// Top-k precision / recall / F1 against the worked vectors of METHOD.md (7.9 calc_F1 and the
// zero-shot subset, 7.10 MKT compute_F1, 7.12 top-1) and the contract: ties by lower class index,
// per-image clamping, zero divisions, class subsets equal to slicing, thread-count invariance,
// errors naming what was found; long rows with ties at rank k on every layout (dense rows,
// strided, column-major) against the definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
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

namespace {

// Top-k by the definition: each row's candidates sorted by score (descending), then class index.
template <class T>
mlr::top_k_result top_k_by_definition(const std::vector<T>& s, const std::vector<std::int8_t>& y, mlr::index_t cols,
                                      std::int64_t k, mlr::topk_ignored ignored,
                                      const std::vector<mlr::index_t>& scope) {
  mlr::top_k_result r{0, 0, 0, 0, 0, 0};
  const auto rows = static_cast<mlr::index_t>(s.size()) / cols;
  for (mlr::index_t i = 0; i < rows; ++i) {
    std::vector<mlr::index_t> cand;
    for (mlr::index_t j : scope) {
      const std::int8_t v = y[static_cast<std::size_t>(i * cols + j)];
      r.positives += v == 1;
      if (v != -1 || ignored == mlr::topk_ignored::false_positive) cand.push_back(j);
    }
    const auto score = [&](mlr::index_t j) { return s[static_cast<std::size_t>(i * cols + j)]; };
    std::sort(cand.begin(), cand.end(), [&](mlr::index_t a, mlr::index_t b) {
      return score(a) > score(b) || (score(a) == score(b) && a < b);
    });
    const auto slots = std::min<std::size_t>(static_cast<std::size_t>(k), cand.size());
    r.predicted += static_cast<std::int64_t>(slots);
    for (std::size_t q = 0; q < slots; ++q) r.true_positives += y[static_cast<std::size_t>(i * cols + cand[q])] == 1;
  }
  return r;
}

void check_counts(const mlr::top_k_result& r, const mlr::top_k_result& e) {
  CHECK(r.true_positives == e.true_positives);
  CHECK(r.predicted == e.predicted);
  CHECK(r.positives == e.positives);
}

}  // namespace

TEST_CASE("top_k: long rows with ties at rank k, every layout and scope, against the definition", "[metrics][top_k]") {
  std::mt19937 gen(5);
  for (const mlr::index_t c : {1, 7, 16, 17, 40, 130}) {
    const mlr::index_t n = 60;
    // Few distinct scores, signed zeros among them: ties at rank k in most rows.
    const std::vector<float> levels{-0.0f, 0.0f, 0.5f, -2.0f, 0.5f, 1e-40f, std::numeric_limits<float>::max(),
                                    std::numeric_limits<float>::lowest()};
    std::uniform_int_distribution<std::size_t> pick(0, levels.size() - 1);
    std::uniform_int_distribution<int> label(0, 9);
    std::vector<float> s(static_cast<std::size_t>(n * c)), colmajor(s.size());
    std::vector<std::int8_t> y(s.size()), no_ignored(s.size());
    for (mlr::index_t i = 0; i < n; ++i)
      for (mlr::index_t j = 0; j < c; ++j) {
        const auto e = static_cast<std::size_t>(i * c + j);
        // Row 0 all equal; row 1 rising (every entry beats the k-th best so far).
        s[e] = i == 0 ? 0.5f : (i == 1 ? static_cast<float>(j) : levels[pick(gen)]);
        const int v = label(gen);
        y[e] = static_cast<std::int8_t>(v < 3 ? 1 : (v < 8 ? 0 : -1));
        no_ignored[e] = static_cast<std::int8_t>(y[e] == -1 ? 0 : y[e]);
        colmajor[static_cast<std::size_t>(j * n + i)] = s[e];
      }
    std::vector<mlr::index_t> all(static_cast<std::size_t>(c));
    std::iota(all.begin(), all.end(), mlr::index_t{0});
    std::vector<std::vector<mlr::index_t>> scopes{{}};
    if (c > 20) {
      scopes.push_back({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});  // a block: dense rows
      scopes.push_back({20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2});  // decreasing
    }
    for (const auto* labels : {&y, &no_ignored})
      for (const auto& scope : scopes)
        for (auto ignored : {mlr::topk_ignored::removed, mlr::topk_ignored::false_positive})
          for (std::int64_t k : {1, 2, 3, 16, 17, 200}) {
            INFO("c " << c << " scope size " << scope.size() << " k " << k << " ignored entries "
                      << (labels == &y) << " policy " << static_cast<int>(ignored));
            const mlr::top_k_options o{.ignored = ignored};
            const auto e = top_k_by_definition(s, *labels, c, k, ignored, scope.empty() ? all : scope);
            const auto Y = mlr::make_view(labels->data(), {n, c});
            check_counts(mlr::top_k(mlr::make_view(s.data(), {n, c}), Y, k, o, scope, {1}), e);
            check_counts(mlr::top_k(mlr::make_view(s.data(), {n, c}), Y, k, o, scope, {2}), e);
            check_counts(mlr::top_k(mlr::make_view(colmajor.data(), {n, c}, mlr::column_major), Y, k, o, scope), e);
          }
  }
}

TEST_CASE("top_k: double scores one ulp apart and long rows of equal scores", "[metrics][top_k]") {
  const mlr::index_t c = 50;
  std::vector<double> s(static_cast<std::size_t>(c), 0.25);
  std::vector<std::int8_t> y(s.size(), 0);
  s[40] = std::nextafter(0.25, 1.0);  // the best, by one ulp
  s[45] = std::nextafter(0.25, 0.0);  // the worst
  y[40] = y[0] = y[1] = 1;
  const auto S = mlr::make_view(s.data(), {1, c});
  const auto Y = mlr::make_view(y.data(), {1, c});
  CHECK(mlr::top_k(S, Y, 1).true_positives == 1);  // class 40
  CHECK(mlr::top_k(S, Y, 2).true_positives == 2);  // 40, then 0 (lowest index among the ties)
  CHECK(mlr::top_k(S, Y, 3).true_positives == 3);  // 40, 0, 1
  CHECK(mlr::top_k(S, Y, 4).true_positives == 3);
  y[0] = -1;  // removed: 40, 1, 2; a false positive: 40, 0, 1
  CHECK(mlr::top_k(S, Y, 3).true_positives == 2);
  CHECK(mlr::top_k(S, Y, 3, {.ignored = mlr::topk_ignored::false_positive}).true_positives == 2);
  CHECK(mlr::top_k(S, Y, 2, {.ignored = mlr::topk_ignored::false_positive}).true_positives == 1);
  CHECK(mlr::top_k(S, Y, 50).predicted == 49);
}

TEST_CASE("top_k: the first bad entry is reported from long rows", "[metrics][top_k][errors]") {
  const mlr::index_t n = 30, c = 40;
  std::vector<float> s(static_cast<std::size_t>(n * c), 0.5f);
  std::vector<std::int8_t> y(s.size(), 0);
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const std::vector<mlr::index_t> block{20, 21, 22, 23}, scattered{23, 2};
  s[static_cast<std::size_t>(12 * c + 23)] = -std::numeric_limits<float>::infinity();
  s[static_cast<std::size_t>(20 * c + 2)] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 3), mlr::error, message_contains("found -inf at (12, 23)"));
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 3, {}, block), mlr::error, message_contains("found -inf at (12, 23)"));
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 3, {}, scattered), mlr::error, message_contains("found -inf at (12, 23)"));
  const std::vector<mlr::index_t> two{2};
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 1, {}, two), mlr::error, message_contains("found nan at (20, 2)"));
  s[static_cast<std::size_t>(12 * c + 23)] = 0.5f;
  s[static_cast<std::size_t>(20 * c + 2)] = 0.5f;
  y[static_cast<std::size_t>(29 * c + 39)] = 2;
  CHECK_THROWS_MATCHES(mlr::top_k(S, Y, 3), mlr::error, message_contains("found 2 at (29, 39)"));
  CHECK_NOTHROW(mlr::top_k(S, Y, 3, {}, block));
}

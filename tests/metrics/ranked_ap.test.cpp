// The order-dependent APs (ranked, VOC07 11-point, VOC area) of detail::ranked_ap_by_group
// against METHOD.md 7.7, 7.9, 7.10, the micro grouping, and a naive O(N^2) transcription of the
// definitions on seeded random data with ties, ignored entries and strided views.
// tests/reference/ranked_ap.py is the independent numpy reference of the same definitions.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "mlr/metrics/detail/ranked_ap.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr::label_encoding;
using mlr::detail::ranked_ap_by_group;
using mlr::detail::ranked_flavour;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

std::vector<std::size_t> per_class(index_t c) {
  std::vector<std::size_t> g(static_cast<std::size_t>(c));
  for (std::size_t j = 0; j < g.size(); ++j) g[j] = j;
  return g;
}

// Row-major n x c.
template <class T, class L>
mlr::detail::grouped_ap run(const std::vector<T>& s, const std::vector<L>& y, index_t n, index_t c,
                                  ranked_flavour flavour, double epsilon = 0.0,
                                  label_encoding encoding = label_encoding::canonical, bool micro = false,
                                  unsigned threads = 1) {
  const mlr::detail::score_view<T> sv(s.data(), {n, c});
  const mlr::detail::label_view<L> lv(y.data(), {n, c});
  const auto groups = micro ? std::vector<std::size_t>(static_cast<std::size_t>(c), 0) : per_class(c);
  return ranked_ap_by_group(sv, lv, encoding, std::span<const std::size_t>(groups),
                            micro ? 1 : static_cast<std::size_t>(c), flavour, epsilon, threads);
}

// One class.
double ap1(const std::vector<double>& s, const std::vector<std::int8_t>& y, ranked_flavour flavour,
           double epsilon = 0.0) {
  const auto r = run(s, y, static_cast<index_t>(s.size()), 1, flavour, epsilon);
  REQUIRE(r.valid_input);
  return r.ap[0];
}

void check_value(double got, double want, double tol) {
  if (std::isnan(want)) {
    CHECK(std::isnan(got));
  } else {
    CHECK_THAT(got, WithinAbs(want, tol));
  }
}

// The definitions, naively: an entry's rank is 1 + the number of entries ranked before it by
// (score desc, row asc, column asc); no sorting.
struct naive_entry {
  double score;
  index_t row, column;
  bool positive;
};

double naive_ap(const std::vector<naive_entry>& e, ranked_flavour flavour, double epsilon) {
  const std::size_t n = e.size();
  auto before = [&](std::size_t a, std::size_t b) {
    if (e[a].score != e[b].score) return e[a].score > e[b].score;
    if (e[a].row != e[b].row) return e[a].row < e[b].row;
    return e[a].column < e[b].column;
  };
  std::vector<double> rank(n), tp(n);
  double p = 0;
  for (std::size_t k = 0; k < n; ++k) {
    p += e[k].positive;
    rank[k] = 1;
    tp[k] = e[k].positive;
    for (std::size_t q = 0; q < n; ++q)
      if (before(q, k)) {
        rank[k] += 1;
        tp[k] += e[q].positive;
      }
  }
  if (p == 0) return nan_v;
  double sum = 0;
  if (flavour == ranked_flavour::ranked) {
    for (std::size_t k = 0; k < n; ++k)
      if (e[k].positive) sum += tp[k] / rank[k];
    return sum / (p + epsilon);
  }
  if (flavour == ranked_flavour::voc07_11point) {
    for (int m = 0; m <= 10; ++m) {
      double best = 0;
      for (std::size_t k = 0; k < n; ++k)
        if (10 * tp[k] >= m * p) best = std::max(best, tp[k] / rank[k]);
      sum += best;
    }
    return sum / 11;
  }
  for (std::size_t k = 0; k < n; ++k) {  // voc_area: each positive, its envelope
    if (!e[k].positive) continue;
    double best = 0;
    for (std::size_t q = 0; q < n; ++q)
      if (rank[q] >= rank[k]) best = std::max(best, tp[q] / rank[q]);
    sum += best;
  }
  return sum / p;
}

constexpr ranked_flavour all_flavours[] = {ranked_flavour::ranked, ranked_flavour::voc07_11point,
                                           ranked_flavour::voc_area};

}  // namespace

TEST_CASE("ranked APs reproduce the single-class table of METHOD 7.7", "[ranked_ap]") {
  struct row {
    const char* name;
    std::vector<double> s;
    std::vector<std::int8_t> y;
    double ranked, voc_area, voc07;
  };
  const std::vector<row> table{
      {"A", {.9, .8, .7, .6, .5, .4}, {1, 0, 1, 0, 0, 1}, 0.722222, 0.722222, 0.727273},
      {"B", {.9, .5, .5, .1}, {0, 1, 0, 1}, 0.5, 0.5, 0.5},
      {"B2", {.9, .5, .5, .1}, {0, 0, 1, 1}, 0.416667, 0.5, 0.5},
      {"C", {.9, .8, .7}, {0, 0, 0}, nan_v, nan_v, nan_v},
      {"D", {.5, .5, .5}, {1, 1, 1}, 1.0, 1.0, 1.0},
      {"F", {.3, .3, .3, .3}, {1, 0, 0, 1}, 0.75, 0.75, 0.772727},
  };
  for (const auto& r : table) {
    INFO("case " << r.name);
    check_value(ap1(r.s, r.y, ranked_flavour::ranked), r.ranked, 5e-7);
    check_value(ap1(r.s, r.y, ranked_flavour::voc_area), r.voc_area, 5e-7);
    check_value(ap1(r.s, r.y, ranked_flavour::voc07_11point), r.voc07, 5e-7);
  }
  // Exact values behind the rounded table.
  CHECK_THAT(ap1({.9, .8, .7, .6, .5, .4}, {1, 0, 1, 0, 0, 1}, ranked_flavour::ranked),
             WithinAbs(13.0 / 18.0, 1e-15));
  CHECK_THAT(ap1({.9, .8, .7, .6, .5, .4}, {1, 0, 1, 0, 0, 1}, ranked_flavour::voc07_11point),
             WithinAbs(8.0 / 11.0, 1e-15));
  CHECK_THAT(ap1({.3, .3, .3, .3}, {1, 0, 0, 1}, ranked_flavour::voc07_11point), WithinAbs(8.5 / 11.0, 1e-15));
  // Case C: no positives gives NaN and zero positives for every flavour.
  for (auto f : all_flavours) {
    const auto r = run(std::vector<double>{.9, .8, .7}, std::vector<std::int8_t>{0, 0, 0}, 3, 1, f);
    CHECK(r.valid_input);
    CHECK(r.positives[0] == 0);
    CHECK(std::isnan(r.ap[0]));
  }
}

TEST_CASE("ranked AP with epsilon 1e-8 reproduces DualCoOp/ASL (METHOD 7.9)", "[ranked_ap]") {
  const std::vector<double> s{0.9, 0.8, 0.7, 0.6, 0.5};
  CHECK_THAT(ap1(s, {1, 0, 1, 0, 1}, ranked_flavour::ranked, 1e-8), WithinAbs(0.755555553037037, 1e-15));
  CHECK_THAT(ap1(s, {1, 0, 1, 0, 1}, ranked_flavour::ranked), WithinAbs(0.755555555555556, 1e-15));
  // y1 = -1: ignored in the canonical encoding.
  CHECK_THAT(ap1(s, {1, -1, 1, 0, 1}, ranked_flavour::ranked, 1e-8), WithinAbs(0.916666663611111, 1e-15));
  // Four equal scores, one positive: order 0, 1, 2, 3.
  const std::vector<double> tie{.5, .5, .5, .5};
  CHECK_THAT(ap1(tie, {1, 0, 0, 0}, ranked_flavour::ranked, 1e-8), WithinAbs(0.99999999, 1e-15));
  CHECK_THAT(ap1(tie, {0, 0, 0, 1}, ranked_flavour::ranked, 1e-8), WithinAbs(0.2499999975, 1e-15));
  // mAP over {two positives ranked perfectly, no positives}: the empty class is NaN (zero in the mean).
  const auto r = run(std::vector<double>{.9, .5, .8, .5, .1, .5}, std::vector<std::int8_t>{1, 0, 1, 0, 0, 0}, 3, 2,
                     ranked_flavour::ranked, 1e-8);
  REQUIRE(r.valid_input);
  CHECK_THAT(r.ap[0], WithinAbs(0.999999995, 1e-15));
  CHECK(std::isnan(r.ap[1]));
  CHECK_THAT((r.ap[0] + 0.0) / 2, WithinAbs(0.4999999975, 1e-15));
}

TEST_CASE("ranked AP with signed labels reproduces MKT compute_AP (METHOD 7.10)", "[ranked_ap]") {
  const std::vector<float> s{.9f, .2f, .5f, .8f, .3f, .4f, .7f, .9f, .3f, .1f, .4f, .2f};
  const std::vector<std::int8_t> y{1, -1, 0, 0, 1, -1, -1, -1, -1, 1, -1, -1};
  const auto r = run(s, y, 4, 3, ranked_flavour::ranked, 0.0, label_encoding::signed_zero_ignored);
  REQUIRE(r.valid_input);
  CHECK_THAT(r.ap[0], WithinAbs(5.0 / 6.0, 1e-15));
  CHECK_THAT(r.ap[1], WithinAbs(1.0 / 3.0, 1e-15));
  CHECK(std::isnan(r.ap[2]));
  CHECK(r.positives == std::vector<std::int64_t>{2, 1, 0});
}

TEST_CASE("micro ranked APs order all entries by score, then row, then column", "[ranked_ap]") {
  // METHOD 7.8's matrix: ties .9 at (0,0) [positive] and (3,2) [negative], (0,0) first.
  const std::vector<double> s{.9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  const double ranked = (1.0 + 2.0 / 3 + 3.0 / 5 + 4.0 / 7) / 4;  // = 0.709523809523809 (ranked_ap.py)
  const double expected[] = {ranked, 0.7194805194805194, ranked};
  for (int f = 0; f < 3; ++f) {
    const auto r = run(s, y, 4, 3, all_flavours[f], 0.0, label_encoding::canonical, true);
    REQUIRE(r.valid_input);
    REQUIRE(r.ap.size() == 1);
    CHECK(r.positives[0] == 4);
    CHECK_THAT(r.ap[0], WithinAbs(expected[f], 1e-15));
    // The same as the row-major flattening as one class.
    CHECK(run(s, y, 12, 1, all_flavours[f]).ap[0] == r.ap[0]);
  }
  // Reversing the tied entries' positions moves the positive .9 behind the negative one.
  std::vector<std::int8_t> swapped = y;
  swapped[0] = 0;
  swapped[11] = 1;
  CHECK_THAT(run(s, swapped, 4, 3, ranked_flavour::ranked, 0.0, label_encoding::canonical, true).ap[0],
             WithinAbs((1.0 / 2 + 2.0 / 3 + 3.0 / 5 + 4.0 / 7) / 4, 1e-15));
}

TEST_CASE("VOC07 11-point AP uses the exact recall grid (METHOD 7.15)", "[ranked_ap]") {
  // Ten positives each followed by a negative: recall 3/10, 6/10, 7/10 reach t exactly.
  std::vector<double> s;
  std::vector<std::int8_t> y;
  for (int k = 0; k < 20; ++k) {
    s.push_back(1.0 - k / 20.0);
    y.push_back(k % 2 == 0 ? 1 : 0);
  }
  double want = 1.0;  // t = 0
  for (int k = 1; k <= 10; ++k) want += k / (2.0 * k - 1);
  CHECK_THAT(ap1(s, y, ranked_flavour::voc07_11point), WithinAbs(want / 11, 1e-15));
}

TEST_CASE("invalid inputs clear valid_input", "[ranked_ap]") {
  for (auto f : all_flavours) {
    CHECK_FALSE(run(std::vector<double>{.9, nan_v, .1}, std::vector<std::int8_t>{1, 0, 0}, 3, 1, f).valid_input);
    CHECK_FALSE(run(std::vector<double>{.9, .5, std::numeric_limits<double>::infinity()},
                    std::vector<std::int8_t>{1, 0, -1}, 3, 1, f)
                    .valid_input);  // a non-finite score is invalid even where ignored
    CHECK_FALSE(run(std::vector<double>{.9, .5, .1}, std::vector<std::int8_t>{1, 2, 0}, 3, 1, f).valid_input);
    CHECK_FALSE(run(std::vector<double>{.9, .5, .1, .2}, std::vector<double>{1, 0.5, 0, 1}, 2, 2, f, 0.0,
                    label_encoding::canonical, true)
                    .valid_input);
  }
}

TEST_CASE("ranked APs match the naive definitions on random data", "[ranked_ap]") {
  std::mt19937_64 rng(20240611);
  for (int trial = 0; trial < 60; ++trial) {
    std::uniform_int_distribution<int> size(1, 40), classes(1, 7), level(0, trial % 3 == 0 ? 3 : 50),
        label(-1, 1);
    const index_t n = size(rng), c = classes(rng);
    const auto encoding = trial % 2 ? label_encoding::signed_zero_ignored : label_encoding::canonical;
    const std::int8_t positive = 1, negative = encoding == label_encoding::canonical ? 0 : -1;
    // Column-major storage, read through a transposed-stride view.
    std::vector<double> s(static_cast<std::size_t>(n * c));
    std::vector<std::int8_t> y(s.size());
    for (auto& v : s) v = level(rng) / 7.0;
    for (auto& v : y) v = static_cast<std::int8_t>(label(rng));
    auto at = [&](index_t i, index_t j) { return static_cast<std::size_t>(j * n + i); };
    const mlr::detail::score_view<double> sv(s.data(), {n, c}, {1, n});
    const mlr::detail::label_view<std::int8_t> lv(y.data(), {n, c}, {1, n});
    // Groups: per class, all in one, and an uneven split.
    std::vector<std::vector<std::size_t>> groupings{per_class(c),
                                                    std::vector<std::size_t>(static_cast<std::size_t>(c), 0)};
    std::vector<std::size_t> split(static_cast<std::size_t>(c));
    for (std::size_t j = 0; j < split.size(); ++j) split[j] = (j * 7 + 3) % 2;
    groupings.push_back(split);
    for (const auto& group_of_class : groupings) {
      std::size_t groups = 0;
      for (auto g : group_of_class) groups = std::max(groups, g + 1);
      for (auto f : all_flavours) {
        const double eps = f == ranked_flavour::ranked && trial % 4 == 1 ? 1e-8 : 0.0;
        const auto one = ranked_ap_by_group(sv, lv, encoding, std::span<const std::size_t>(group_of_class), groups, f,
                                            eps, 1);
        const auto many = ranked_ap_by_group(sv, lv, encoding, std::span<const std::size_t>(group_of_class), groups,
                                             f, eps, 4);
        REQUIRE(one.valid_input);
        REQUIRE(many.valid_input);
        for (std::size_t g = 0; g < groups; ++g) {
          std::vector<naive_entry> e;
          for (index_t j = 0; j < c; ++j) {
            if (group_of_class[static_cast<std::size_t>(j)] != g) continue;
            for (index_t i = 0; i < n; ++i)
              if (y[at(i, j)] == positive || y[at(i, j)] == negative)
                e.push_back({s[at(i, j)], i, j, y[at(i, j)] == 1});
          }
          INFO("trial " << trial << " group " << g << " flavour " << static_cast<int>(f));
          check_value(one.ap[g], naive_ap(e, f, eps), 1e-12);
          std::int64_t p = 0;
          for (const auto& x : e) p += x.positive;
          CHECK(one.positives[g] == p);
          // Deterministic whatever the thread count.
          CHECK((one.ap[g] == many.ap[g] || (std::isnan(one.ap[g]) && std::isnan(many.ap[g]))));
        }
      }
    }
  }
}

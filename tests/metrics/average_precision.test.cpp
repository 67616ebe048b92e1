// Step AP against the worked vectors of the specification (scikit-learn 1.2.1 outputs) and the
// contract: permutation invariance, thread-count invariance, errors naming what was found.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "support/matchers.hpp"

using mlr_test::message_contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {
constexpr double tol = 1e-12;

template <class T>
double ap(std::vector<T> s, std::vector<std::int8_t> y) {
  return mlr::average_precision(s, y).value;
}
}  // namespace

TEST_CASE("average_precision: single-class worked vectors (scikit-learn column)", "[metrics][ap]") {
  CHECK_THAT(ap<double>({.9, .8, .7, .6, .5, .4}, {1, 0, 1, 0, 0, 1}), WithinRel(13.0 / 18.0, tol));
  CHECK_THAT(ap<double>({.9, .5, .5, .1}, {0, 1, 0, 1}), WithinRel(5.0 / 12.0, tol));   // B
  CHECK_THAT(ap<double>({.9, .5, .5, .1}, {0, 0, 1, 1}), WithinRel(5.0 / 12.0, tol));   // B2
  CHECK(ap<double>({.5, .5, .5}, {1, 1, 1}) == 1.0);                                    // D
  CHECK_THAT(ap<float>({.3f, .3f, .3f, .3f}, {1, 0, 0, 1}), WithinRel(0.5, tol));       // F
  const auto c = mlr::average_precision(std::vector<double>{.9, .8, .7}, std::vector<std::int8_t>{0, 0, 0});
  CHECK(std::isnan(c.value));  // C: no positives
  CHECK(c.empty());
  CHECK(c.negatives == 3);
}

TEST_CASE("average_precision: ignored entries take no part", "[metrics][ap]") {
  // METHOD.md 7.9 with y1 = -1: step gives 0.916666666666667.
  const std::vector<double> s{0.9, 0.8, 0.7, 0.6, 0.5};
  CHECK_THAT(mlr::average_precision(s, std::vector<std::int8_t>{1, 0, 1, 0, 1}).value,
             WithinRel(0.755555555555556, 1e-14));
  const auto r = mlr::average_precision(s, std::vector<std::int8_t>{1, -1, 1, 0, 1});
  CHECK_THAT(r.value, WithinRel(0.916666666666667, 1e-14));
  CHECK(r.positives == 3);
  CHECK(r.negatives == 1);
  // The same labels in the signed encoding: 0 is ignored, -1 negative.
  const auto sr = mlr::average_precision(s, std::vector<std::int8_t>{1, 0, 1, -1, 1}, mlr::ap_method::step,
                                         mlr::label_encoding::signed_zero_ignored);
  CHECK_THAT(sr.value, WithinRel(0.916666666666667, 1e-14));
}

TEST_CASE("mean_average_precision: the multi-label worked vector, every average", "[metrics][ap]") {
  const std::vector<double> s{.9, .2, .1, .3, .8, .7, .6, .4, .2, .1, .5, .9};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  const auto S = mlr::make_view(s.data(), {4, 3});
  const auto Y = mlr::make_view(y.data(), {4, 3});
  auto run = [&](mlr::average a, mlr::empty_class e = mlr::empty_class::zero) {
    return mlr::mean_average_precision(S, Y, {.average = a, .empty_class = e});
  };
  const auto none = run(mlr::average::none);
  CHECK(std::isnan(none.value));
  CHECK_THAT(none.per_class[0], WithinRel(1.0, tol));
  CHECK_THAT(none.per_class[1], WithinRel(5.0 / 6.0, tol));
  CHECK(std::isnan(none.per_class[2]));
  CHECK(none.empty(2));
  CHECK(none.empty_classes() == 1);
  CHECK(none.positives == std::vector<std::int64_t>{2, 2, 0});
  CHECK_THAT(run(mlr::average::macro).value, WithinRel(0.611111111111111, 1e-14));
  CHECK_THAT(run(mlr::average::macro, mlr::empty_class::exclude).value, WithinRel(0.916666666666667, 1e-14));
  CHECK_THAT(run(mlr::average::micro).value, WithinRel(0.584523809523810, 1e-14));
  CHECK_THAT(run(mlr::average::weighted).value, WithinRel(0.916666666666667, 1e-14));
  CHECK_THAT(run(mlr::average::samples).value, WithinRel(0.75, tol));
  // The sample without positives left out instead of counted as 0: (1 + 1 + 1) / 3.
  CHECK_THAT(run(mlr::average::samples, mlr::empty_class::exclude).value, WithinRel(1.0, tol));
}

TEST_CASE("mean_average_precision: nothing positive anywhere", "[metrics][ap]") {
  const std::vector<float> s{.1f, .2f, .3f, .4f};
  const std::vector<std::int8_t> y{0, 0, -1, 0};
  const auto S = mlr::make_view(s.data(), {2, 2});
  const auto Y = mlr::make_view(y.data(), {2, 2});
  for (auto a : {mlr::average::macro, mlr::average::micro, mlr::average::weighted, mlr::average::samples}) {
    const double zero = mlr::mean_average_precision(S, Y, {.average = a}).value;
    CHECK(zero == 0.0);
    CHECK(!std::signbit(zero));  // never -0.0
    CHECK(std::isnan(mlr::mean_average_precision(S, Y, {.average = a, .empty_class = mlr::empty_class::exclude}).value));
  }
}

TEST_CASE("mean_average_precision: step AP ignores input order and thread count", "[metrics][ap]") {
  std::mt19937_64 rng(7);
  const mlr::index_t n = 301, c = 37;
  std::vector<float> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size());
  std::uniform_int_distribution<int> level(0, 15), label(-1, 3);
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<float>(level(rng)) / 16.0f;  // heavy ties
    const int l = label(rng);
    y[i] = static_cast<std::int8_t>(l >= 2 ? 0 : l);
  }
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  std::vector<std::size_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<float> ps(s.size());
  std::vector<std::int8_t> py(y.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    for (std::size_t j = 0; j < static_cast<std::size_t>(c); ++j) {
      ps[i * c + j] = s[order[i] * c + j];
      py[i * c + j] = y[order[i] * c + j];
    }
  const auto PS = mlr::make_view(ps.data(), {n, c});
  const auto PY = mlr::make_view(py.data(), {n, c});
  for (auto a : {mlr::average::macro, mlr::average::micro, mlr::average::weighted, mlr::average::samples}) {
    const auto base = mlr::mean_average_precision(S, Y, {.average = a}, {}, {1});
    for (unsigned threads : {2u, 5u}) {
      const auto again = mlr::mean_average_precision(S, Y, {.average = a}, {}, {threads});
      CHECK(again.value == base.value);  // identical bits: the reduction order is fixed
      CHECK(again.per_class == base.per_class);
    }
    if (a == mlr::average::samples) continue;  // permuting rows permutes samples, not classes
    const auto permuted = mlr::mean_average_precision(PS, PY, {.average = a});
    CHECK_THAT(permuted.value, WithinAbs(base.value, 1e-15));
  }
}

TEST_CASE("mean_average_precision: bad input is an mlr::error naming what was found", "[metrics][ap][errors]") {
  std::vector<double> s{.9, .2, .1, .3, .8, .7};
  std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0};
  auto S = mlr::make_view(s.data(), {2, 3});
  auto Y = mlr::make_view(y.data(), {2, 3});
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, mlr::make_view(y.data(), {3, 2})), mlr::error,
                       message_contains("labels: expected shape (2, 3) (that of scores), found (3, 2)"));
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(mlr::make_view(s.data(), {0, 3}), mlr::make_view(y.data(), {0, 3})),
                       mlr::error, message_contains("scores: expected a non-empty tensor, found shape (0, 3)"));
  s[4] = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, Y), mlr::error,
                       message_contains("scores: expected finite values, found -inf at (1, 1)"));
  s[4] = 0.8;
  y[5] = 3;
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, Y), mlr::error, message_contains("found 3 at (1, 2)"));
  y[5] = -1;
  CHECK_NOTHROW(mlr::mean_average_precision(S, Y));
  CHECK_NOTHROW(mlr::mean_average_precision(S, Y, {.encoding = mlr::label_encoding::signed_zero_ignored}));
  CHECK_THROWS_MATCHES(mlr::average_precision(std::vector<float>{}, std::vector<std::int8_t>{}), mlr::error,
                       message_contains("scores: expected a non-empty tensor, found shape (0,)"));
}

TEST_CASE("mean_average_precision: a device view is refused, never dereferenced", "[metrics][ap][errors]") {
  float dummy = 0;
  std::int8_t label = 0;
  const mlr::strided_view<const float, 2, mlr::device_space> device_scores(&dummy, {1, 1});
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(device_scores, mlr::make_view(&label, {1, 1})), mlr::error,
                       message_contains("scores: expected host memory, found a device tensor"));
}

TEST_CASE("mean_average_precision: a class subset equals evaluating the sliced matrix", "[metrics][ap][subset]") {
  std::mt19937_64 rng(11);
  const mlr::index_t n = 211, c = 23;
  std::vector<double> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size());
  std::uniform_int_distribution<int> level(0, 31), label(-1, 4);
  for (std::size_t e = 0; e < s.size(); ++e) {
    s[e] = level(rng) / 8.0 - 2.0;
    const int l = label(rng);
    y[e] = static_cast<std::int8_t>(l >= 2 ? 0 : l);
  }
  const std::vector<mlr::index_t> subset{17, 3, 4, 22, 0, 9};
  std::vector<double> sliced_s;
  std::vector<std::int8_t> sliced_y;
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j : subset) {
      sliced_s.push_back(s[static_cast<std::size_t>(i * c + j)]);
      sliced_y.push_back(y[static_cast<std::size_t>(i * c + j)]);
    }
  const auto width = static_cast<mlr::index_t>(subset.size());
  for (auto a : {mlr::average::none, mlr::average::macro, mlr::average::micro, mlr::average::weighted,
                 mlr::average::samples}) {
    for (auto e : {mlr::empty_class::zero, mlr::empty_class::exclude}) {
      for (bool column_major : {false, true}) {
        INFO("average " << mlr::to_string(a) << ", column-major " << column_major);
        // The same matrix stored column-major: a different walk of the same kernel.
        std::vector<double> cs(s.size());
        std::vector<std::int8_t> cy(y.size());
        for (mlr::index_t i = 0; i < n; ++i)
          for (mlr::index_t j = 0; j < c; ++j) {
            cs[static_cast<std::size_t>(j * n + i)] = s[static_cast<std::size_t>(i * c + j)];
            cy[static_cast<std::size_t>(j * n + i)] = y[static_cast<std::size_t>(i * c + j)];
          }
        const auto S = column_major ? mlr::make_view(cs.data(), {n, c}, mlr::column_major) : mlr::make_view(s.data(), {n, c});
        const auto Y = column_major ? mlr::make_view(cy.data(), {n, c}, mlr::column_major) : mlr::make_view(y.data(), {n, c});
        const auto in_place = mlr::mean_average_precision(S, Y, {.average = a, .empty_class = e}, subset);
        const auto sliced = mlr::mean_average_precision(mlr::make_view(sliced_s.data(), {n, width}),
                                                        mlr::make_view(sliced_y.data(), {n, width}),
                                                        {.average = a, .empty_class = e});
        CHECK(in_place.positives == sliced.positives);
        REQUIRE(in_place.per_class.size() == sliced.per_class.size());
        for (std::size_t q = 0; q < subset.size(); ++q)
          if (!std::isnan(sliced.per_class[q])) CHECK(in_place.per_class[q] == sliced.per_class[q]);
        if (std::isnan(sliced.value)) CHECK(std::isnan(in_place.value));
        else CHECK_THAT(in_place.value, WithinAbs(sliced.value, 1e-15));
      }
    }
  }
}

TEST_CASE("mean_average_precision: class subsets check their indices and read only their columns", "[metrics][ap][subset]") {
  std::vector<double> s{.9, .2, .1, .3, .8, .7};
  std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0};
  const auto S = mlr::make_view(s.data(), {2, 3});
  const auto Y = mlr::make_view(y.data(), {2, 3});
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, Y, {}, std::vector<mlr::index_t>{0, 3}), mlr::error,
                       message_contains("classes: expected class indices in [0, 3), found 3 at position 1"));
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, Y, {}, std::vector<mlr::index_t>{1, 0, 1}), mlr::error,
                       message_contains("classes: expected distinct class indices, found 1 at positions 0 and 2"));
  s[2] = std::numeric_limits<double>::quiet_NaN();  // column 2, outside the subset
  CHECK_NOTHROW(mlr::mean_average_precision(S, Y, {}, std::vector<mlr::index_t>{1, 0}));
  y[4] = 7;  // (1, 1): inside, named by its column in the matrix
  CHECK_THROWS_MATCHES(mlr::mean_average_precision(S, Y, {}, std::vector<mlr::index_t>{1, 0}), mlr::error,
                       message_contains("labels: expected labels in the canonical encoding (1 positive, 0 negative, "
                                        "-1 ignored), found 7 at (1, 1)"));
}

TEST_CASE("average_precision: every flavour reproduces its column of the single-class table", "[metrics][ap][flavours]") {
  struct row {
    std::vector<double> s;
    std::vector<std::int8_t> y;
    double step, ranked, voc_area, voc07;
  };
  // METHOD.md 7.7: scikit-learn, TagCLIP compute_AP, VOC area (SSGRL), VOC07 11-point.
  const std::vector<row> table{
      {{.9, .8, .7, .6, .5, .4}, {1, 0, 1, 0, 0, 1}, 13.0 / 18.0, 13.0 / 18.0, 13.0 / 18.0, 8.0 / 11.0},
      {{.9, .5, .5, .1}, {0, 1, 0, 1}, 5.0 / 12.0, 0.5, 0.5, 0.5},
      {{.9, .5, .5, .1}, {0, 0, 1, 1}, 5.0 / 12.0, 5.0 / 12.0, 0.5, 0.5},
      {{.5, .5, .5}, {1, 1, 1}, 1.0, 1.0, 1.0, 1.0},
      {{.3, .3, .3, .3}, {1, 0, 0, 1}, 0.5, 0.75, 0.75, 8.5 / 11.0},
  };
  for (const auto& r : table) {
    CHECK_THAT(mlr::average_precision(r.s, r.y, mlr::ap_method::step).value, WithinAbs(r.step, 1e-12));
    CHECK_THAT(mlr::average_precision(r.s, r.y, mlr::ap_method::ranked).value, WithinAbs(r.ranked, 1e-12));
    CHECK_THAT(mlr::average_precision(r.s, r.y, mlr::ap_method::voc_area).value, WithinAbs(r.voc_area, 1e-12));
    CHECK_THAT(mlr::average_precision(r.s, r.y, mlr::ap_method::voc07_11point).value, WithinAbs(r.voc07, 1e-12));
  }
  for (auto m : {mlr::ap_method::ranked, mlr::ap_method::voc_area, mlr::ap_method::voc07_11point})
    CHECK(std::isnan(mlr::average_precision(std::vector<double>{.9, .8}, std::vector<std::int8_t>{0, 0}, m).value));
  // METHOD.md 7.9: ASL/DualCoOp's denominator epsilon.
  const std::vector<double> s{0.9, 0.8, 0.7, 0.6, 0.5};
  CHECK_THAT(mlr::average_precision(s, std::vector<std::int8_t>{1, 0, 1, 0, 1}, mlr::ap_method::ranked,
                                    mlr::label_encoding::canonical, 1e-8).value,
             WithinRel(0.755555553037037, 1e-14));
  CHECK_THAT(mlr::average_precision(s, std::vector<std::int8_t>{1, -1, 1, 0, 1}, mlr::ap_method::ranked,
                                    mlr::label_encoding::canonical, 1e-8).value,
             WithinRel(0.916666663611111, 1e-14));
  CHECK_THROWS_MATCHES(mlr::average_precision(s, std::vector<std::int8_t>{1, 0, 1, 0, 1}, mlr::ap_method::ranked,
                                              mlr::label_encoding::canonical, -1.0),
                       mlr::error, message_contains("epsilon: expected a finite value >= 0, found -1"));
}

TEST_CASE("mean_average_precision: MKT's ranked AP on signed labels, and flavours over subsets", "[metrics][ap][flavours]") {
  // METHOD.md 7.10: BiAM/MKT compute_AP, 0 = unknown.
  std::vector<double> s{.9, .2, .5, .8, .3, .4, .7, .9, .3, .1, .4, .2};
  std::vector<std::int8_t> y{1, -1, 0, 0, 1, -1, -1, -1, -1, 1, -1, -1};
  const auto S = mlr::make_view(s.data(), {4, 3});
  const auto Y = mlr::make_view(y.data(), {4, 3});
  const auto r = mlr::mean_average_precision(
      S, Y, {.method = mlr::ap_method::ranked, .encoding = mlr::label_encoding::signed_zero_ignored});
  CHECK_THAT(r.per_class[0], WithinAbs(5.0 / 6.0, 1e-12));
  CHECK_THAT(r.per_class[1], WithinAbs(1.0 / 3.0, 1e-12));
  CHECK(r.empty(2));
  CHECK_THAT(r.value, WithinAbs(7.0 / 18.0, 1e-12));
  for (auto m : {mlr::ap_method::ranked, mlr::ap_method::voc_area, mlr::ap_method::voc07_11point})
    for (auto a : {mlr::average::macro, mlr::average::micro, mlr::average::samples}) {
      const mlr::ap_options o{.method = m, .average = a, .encoding = mlr::label_encoding::signed_zero_ignored};
      const std::vector<mlr::index_t> subset{1, 0};
      std::vector<double> ss;
      std::vector<std::int8_t> sy;
      for (mlr::index_t i = 0; i < 4; ++i)
        for (mlr::index_t j : {0, 1}) {  // ascending, so micro's tie order is the same
          ss.push_back(s[static_cast<std::size_t>(i * 3 + j)]);
          sy.push_back(y[static_cast<std::size_t>(i * 3 + j)]);
        }
      const auto in_place = mlr::mean_average_precision(S, Y, o, std::vector<mlr::index_t>{0, 1});
      const auto sliced = mlr::mean_average_precision(mlr::make_view(ss.data(), {4, 2}), mlr::make_view(sy.data(), {4, 2}), o);
      CHECK_THAT(in_place.value, WithinAbs(sliced.value, 1e-15));
      CHECK(mlr::mean_average_precision(S, Y, o, subset).per_class[1] == in_place.per_class[0]);
    }
}

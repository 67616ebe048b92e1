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
    const auto base = mlr::mean_average_precision(S, Y, {.average = a}, {1});
    for (unsigned threads : {2u, 5u}) {
      const auto again = mlr::mean_average_precision(S, Y, {.average = a}, {threads});
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

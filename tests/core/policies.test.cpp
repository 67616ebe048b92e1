#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "support/matchers.hpp"

using mlr_test::message_contains;

TEST_CASE("policies: names round-trip and unknown names list the accepted ones", "[core][policies]") {
  for (auto a : {mlr::average::macro, mlr::average::micro, mlr::average::weighted,
                 mlr::average::samples, mlr::average::none})
    CHECK(mlr::parse_policy<mlr::average>(mlr::to_string(a)) == a);
  CHECK(mlr::parse_policy<mlr::label_encoding>("signed") == mlr::label_encoding::signed_zero_ignored);
  CHECK(mlr::to_string(mlr::label_encoding::signed_zero_ignored) == "signed_zero_ignored");
  CHECK(mlr::parse_policy<mlr::empty_class>("exclude") == mlr::empty_class::exclude);
  CHECK_THROWS_MATCHES(mlr::parse_policy<mlr::average>("mean"), mlr::error,
                       message_contains("average: expected one of macro, micro, weighted, samples, none; found 'mean'"));
}

TEST_CASE("labels: both encodings, bool, floats and invalid values", "[core][labels]") {
  using mlr::label_state;
  constexpr auto canonical = mlr::label_encoding::canonical;
  constexpr auto signed_ = mlr::label_encoding::signed_zero_ignored;
  CHECK(mlr::decode_label(std::int8_t{1}, canonical) == label_state::positive);
  CHECK(mlr::decode_label(std::int8_t{0}, canonical) == label_state::negative);
  CHECK(mlr::decode_label(std::int8_t{-1}, canonical) == label_state::ignored);
  CHECK(mlr::decode_label(std::int8_t{2}, canonical) == label_state::invalid);
  CHECK(mlr::decode_label(std::int64_t{1}, signed_) == label_state::positive);
  CHECK(mlr::decode_label(std::int64_t{-1}, signed_) == label_state::negative);
  CHECK(mlr::decode_label(std::int64_t{0}, signed_) == label_state::ignored);
  CHECK(mlr::decode_label(std::uint8_t{255}, canonical) == label_state::invalid);
  CHECK(mlr::decode_label(std::uint8_t{0}, signed_) == label_state::ignored);
  CHECK(mlr::decode_label(true, signed_) == label_state::positive);
  CHECK(mlr::decode_label(false, signed_) == label_state::negative);
  CHECK(mlr::decode_label(0.5, canonical) == label_state::invalid);
  CHECK(mlr::decode_label(std::numeric_limits<double>::quiet_NaN(), canonical) == label_state::invalid);
  CHECK(mlr::decode_label(-1.0f, canonical) == label_state::ignored);
}

TEST_CASE("dtype: static and runtime types agree", "[core][dtype]") {
  STATIC_REQUIRE(mlr::dtype_of<const float> == mlr::dtype::float32);
  STATIC_REQUIRE(mlr::dtype_of<bool> == mlr::dtype::boolean);
  for (auto t : {mlr::dtype::float32, mlr::dtype::float64, mlr::dtype::int8, mlr::dtype::int32,
                 mlr::dtype::int64, mlr::dtype::uint8, mlr::dtype::boolean})
    CHECK(mlr::visit_dtype(t, []<class T>(std::type_identity<T>) { return mlr::dtype_of<T>; }) == t);
  CHECK(mlr::to_string(mlr::dtype::boolean) == "bool");
}

TEST_CASE("checks: first offending index in row-major order, whatever the thread count", "[core][check]") {
  // Large enough to be scanned by several tasks.
  const mlr::index_t rows = 3000, cols = 300;
  std::vector<float> scores(static_cast<std::size_t>(rows * cols), 0.5f);
  scores[static_cast<std::size_t>(2500 * cols + 7)] = std::numeric_limits<float>::infinity();
  scores[static_cast<std::size_t>(1200 * cols + 299)] = std::numeric_limits<float>::quiet_NaN();
  const auto v = mlr::make_view(scores.data(), {rows, cols});
  for (unsigned threads : {1u, 2u, 7u})
    CHECK_THROWS_MATCHES(mlr::detail::check_finite(v, "scores", {threads}), mlr::error,
                         message_contains("scores: expected finite values, found nan at (1200, 299)"));
  std::vector<std::int8_t> labels(static_cast<std::size_t>(rows * cols), 0);
  labels[static_cast<std::size_t>(2999 * cols)] = -1;
  CHECK_NOTHROW(mlr::detail::check_labels(mlr::make_view(labels.data(), {rows, cols}),
                                          mlr::label_encoding::canonical, "labels"));
  labels[static_cast<std::size_t>(2000 * cols + 3)] = 5;
  labels[static_cast<std::size_t>(1999 * cols + 299)] = 2;
  for (unsigned threads : {1u, 2u, 7u})
    CHECK_THROWS_MATCHES(mlr::detail::check_labels(mlr::make_view(labels.data(), {rows, cols}),
                                                   mlr::label_encoding::signed_zero_ignored, "labels", {threads}),
                         mlr::error,
                         message_contains("labels: expected labels in the signed encoding (1 positive, -1 "
                                          "negative, 0 ignored), found 2 at (1999, 299)"));
}

TEST_CASE("parallel_for: every task once, exceptions reach the caller", "[core][parallel]") {
  std::vector<int> hits(1000, 0);
  mlr::detail::parallel_for(hits.size(), 3, [&](std::size_t t, unsigned) { ++hits[t]; });
  for (int h : hits) CHECK(h == 1);
  CHECK_THROWS_AS(mlr::detail::parallel_for(100, 2,
                                            [](std::size_t t, unsigned) {
                                              if (t == 42) throw mlr::error("task 42");
                                            }),
                  mlr::error);
}

// Threshold metrics against the worked vectors of the specification (METHOD.md 7.9, 7.11, 7.12),
// the zero-division rules, class subsets, thread-count invariance and the errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/threshold.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr_test::message_contains;

namespace {
constexpr double tol = 1e-6;  // the specification prints six digits

// METHOD.md 7.11: 10 images x 3 classes; 0.9 where predicted, 0.1 elsewhere.
struct three_conventions {
  std::vector<double> s = std::vector<double>(30, 0.1);
  std::vector<std::int8_t> y = std::vector<std::int8_t>(30, 0);
  three_conventions() {
    for (int i = 0; i < 10; ++i) y[i * 3 + 0] = 1;  // class 0 positive everywhere
    s[0 * 3 + 0] = 0.9;                             // predicted in image 0 only
    y[0 * 3 + 1] = y[1 * 3 + 1] = 1;                // class 1 positive in images 0, 1
    for (int i = 0; i < 4; ++i) s[i * 3 + 1] = 0.9; // predicted in images 0-3
    y[4 * 3 + 2] = 1;                               // class 2 positive in image 4, never predicted
  }
  mlr::threshold_result run(const mlr::threshold_options& o) const {
    return mlr::threshold_metrics(mlr::make_view(s.data(), {10, 3}), mlr::make_view(y.data(), {10, 3}), o);
  }
};
}  // namespace

TEST_CASE("threshold_metrics: METHOD 7.11, the mlr column", "[metrics][threshold]") {
  const auto r = three_conventions{}.run({});
  CHECK_THAT(r.op, WithinAbs(0.6, tol));
  CHECK_THAT(r.or_, WithinAbs(0.230769, tol));
  CHECK_THAT(r.of1, WithinAbs(0.333333, tol));
  CHECK_THAT(r.cp, WithinAbs(0.5, tol));
  CHECK_THAT(r.cr, WithinAbs(0.366667, tol));
  CHECK_THAT(r.cf1_harmonic, WithinAbs(0.423077, tol));
  CHECK_THAT(r.cf1_mean, WithinAbs(0.282828, tol));
  CHECK(r.true_positives == std::vector<std::int64_t>{1, 2, 0});
  CHECK(r.predicted == std::vector<std::int64_t>{1, 4, 0});
  CHECK(r.positives == std::vector<std::int64_t>{10, 2, 1});
  CHECK(r.total_true_positives == 3);
  CHECK(r.total_predicted == 5);
  CHECK(r.total_positives == 13);
  CHECK(r.precision == std::vector<double>{1.0, 0.5, 0.0});
  CHECK(r.empty_classes() == 0);
}

TEST_CASE("threshold_metrics: METHOD 7.11, the ML-GCN column (>=, N^p quirk)", "[metrics][threshold]") {
  const auto r = three_conventions{}.run(
      {.comparison = mlr::comparison::greater_equal, .count = mlr::predicted_count::mlgcn});
  CHECK_THAT(r.op, WithinAbs(0.5, tol));
  CHECK_THAT(r.or_, WithinAbs(0.230769, tol));
  CHECK_THAT(r.of1, WithinAbs(0.315789, tol));
  CHECK_THAT(r.cp, WithinAbs(0.5, tol));
  CHECK_THAT(r.cr, WithinAbs(0.366667, tol));
  CHECK_THAT(r.cf1_harmonic, WithinAbs(0.423077, tol));
  CHECK(r.predicted == std::vector<std::int64_t>{1, 4, 0});  // the counts stay exact
  CHECK(r.total_predicted == 5);
}

TEST_CASE("threshold_metrics: METHOD 7.11, the ASL/DualCoOp and TagCLIP columns", "[metrics][threshold]") {
  const auto asl = three_conventions{}.run({.zero_division = mlr::zero_division::asl});
  CHECK_THAT(asl.op, WithinAbs(0.6, tol));
  CHECK_THAT(asl.or_, WithinAbs(0.230769, tol));
  CHECK_THAT(asl.of1, WithinAbs(0.333333, tol));
  CHECK_THAT(asl.cp, WithinAbs(0.5, tol));
  CHECK_THAT(asl.cr, WithinAbs(0.366667, tol));
  CHECK_THAT(asl.cf1_mean, WithinAbs(0.282828, tol));  // ASL's CF1 (F_C)
  CHECK(asl.f1[2] == 0.0);
  const auto tagclip = three_conventions{}.run({});  // overall = O*, category = CP, CR, cf1_harmonic
  CHECK_THAT(tagclip.cf1_harmonic, WithinAbs(0.423077, tol));
}

TEST_CASE("threshold_metrics: METHOD 7.9, DualCoOp threshold metrics", "[metrics][threshold]") {
  const std::vector<double> d{2, -1, 0.3, -0.5, 1.5, -2, 0.1, 0.2, -0.1, -3, -0.2, 4};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
  std::vector<double> p(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) p[i] = 1.0 / (1.0 + std::exp(-d[i]));
  const auto Y = mlr::make_view(y.data(), {4, 3});
  for (const auto& r : {mlr::threshold_metrics(mlr::make_view(p.data(), {4, 3}), Y, {.zero_division = mlr::zero_division::asl}),
                        mlr::threshold_metrics(mlr::make_view(d.data(), {4, 3}), Y, {.threshold = 0.0})}) {
    CHECK_THAT(r.cp, WithinAbs(0.666667, tol));
    CHECK_THAT(r.cr, WithinAbs(1.0, tol));
    CHECK_THAT(r.cf1_mean, WithinAbs(0.777778, tol));
    CHECK_THAT(r.cf1_harmonic, WithinAbs(0.8, tol));
    CHECK_THAT(r.op, WithinAbs(0.666667, tol));
    CHECK_THAT(r.or_, WithinAbs(1.0, tol));
    CHECK_THAT(r.of1, WithinAbs(0.8, tol));
  }
}

TEST_CASE("threshold_metrics: METHOD 7.12, TagCLIP relative threshold", "[metrics][threshold]") {
  const std::vector<float> s{.9f, .8f, .1f, .05f, .2f, .7f, .6f, .1f, .3f, .3f, .3f, .3f};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0};
  const auto r = mlr::threshold_metrics(mlr::make_view(s.data(), {3, 4}), mlr::make_view(y.data(), {3, 4}),
                                        {.kind = mlr::threshold_kind::relative, .mu = 0.5});
  CHECK(r.predicted == std::vector<std::int64_t>{1, 2, 1, 0});  // row 3, all equal, predicts nothing
  CHECK_THAT(r.of1, WithinAbs(0.666667, tol));
  CHECK_THAT(r.op, WithinAbs(0.75, tol));
  CHECK_THAT(r.or_, WithinAbs(0.6, tol));
  CHECK_THAT(r.cp, WithinAbs(0.625, tol));
  CHECK_THAT(r.cr, WithinAbs(0.625, tol));
  CHECK_THAT(r.cf1_harmonic, WithinAbs(0.625, tol));
  // >= with mu = 0: every score passes, the all-equal row included.
  const auto all = mlr::threshold_metrics(mlr::make_view(s.data(), {3, 4}), mlr::make_view(y.data(), {3, 4}),
                                          {.kind = mlr::threshold_kind::relative, .mu = 0.0,
                                           .comparison = mlr::comparison::greater_equal});
  CHECK(all.total_predicted == 12);
}

TEST_CASE("threshold_metrics: relative threshold over a class subset", "[metrics][threshold]") {
  // Row [.9, .1, .5]: over all classes t = .5 (class 0 only); over {1, 2} t = .3 (class 2).
  const std::vector<double> s{.9, .1, .5};
  const std::vector<std::int8_t> y{1, 0, 1};
  const std::vector<mlr::index_t> sub{2, 1};
  const mlr::threshold_options o{.kind = mlr::threshold_kind::relative};
  const auto full = mlr::threshold_metrics(mlr::make_view(s.data(), {1, 3}), mlr::make_view(y.data(), {1, 3}), o);
  CHECK(full.predicted == std::vector<std::int64_t>{1, 0, 0});
  const auto part = mlr::threshold_metrics(mlr::make_view(s.data(), {1, 3}), mlr::make_view(y.data(), {1, 3}), o, sub);
  CHECK(part.predicted == std::vector<std::int64_t>{1, 0});  // in the order of `classes`
  CHECK(part.positives == std::vector<std::int64_t>{1, 0});
  CHECK(part.true_positives == std::vector<std::int64_t>{1, 0});
}

TEST_CASE("threshold_metrics: ignored entries, empty classes and zero divisions", "[metrics][threshold]") {
  // Class 0: one positive predicted, one ignored predicted. Class 1: no positives, one predicted
  // negative. Class 2: one positive not predicted, nothing predicted.
  const std::vector<double> s{.9, .9, .1, .9, .1, .1};
  const std::vector<std::int8_t> y{1, 0, 1, -1, 0, 0};
  const auto S = mlr::make_view(s.data(), {2, 3});
  const auto Y = mlr::make_view(y.data(), {2, 3});
  const auto r = mlr::threshold_metrics(S, Y);
  CHECK(r.predicted == std::vector<std::int64_t>{1, 1, 0});
  CHECK(r.positives == std::vector<std::int64_t>{1, 0, 1});
  CHECK(r.empty(1));
  CHECK(r.precision == std::vector<double>{1.0, 0.0, 0.0});
  CHECK(std::isnan(r.recall[1]));
  CHECK(std::isnan(r.f1[1]));
  CHECK(r.f1[2] == 0.0);
  CHECK_THAT(r.cp, WithinAbs(1.0 / 3, 1e-15));
  CHECK_THAT(r.cr, WithinAbs(1.0 / 3, 1e-15));       // (1 + 0 + 0) / 3
  CHECK_THAT(r.cf1_mean, WithinAbs(1.0 / 3, 1e-15));
  CHECK_THAT(r.op, WithinAbs(0.5, 1e-15));
  CHECK_THAT(r.or_, WithinAbs(0.5, 1e-15));
  const auto ex = mlr::threshold_metrics(S, Y, {.empty_class = mlr::empty_class::exclude});
  CHECK_THAT(ex.cr, WithinAbs(0.5, 1e-15));          // (1 + 0) / 2
  CHECK_THAT(ex.cf1_mean, WithinAbs(0.5, 1e-15));
  CHECK_THAT(ex.cp, WithinAbs(1.0 / 3, 1e-15));      // CP always over every class
  const auto biam = mlr::threshold_metrics(S, Y, {.zero_division = mlr::zero_division::biam});
  CHECK(std::isnan(biam.precision[2]));
  CHECK(std::isnan(biam.cp));
  const auto sdl = mlr::threshold_metrics(S, Y, {.zero_division = mlr::zero_division::sdl});
  CHECK(sdl.f1[1] == 0.0);
  const auto asl = mlr::threshold_metrics(S, Y, {.zero_division = mlr::zero_division::asl});
  CHECK(asl.recall[1] == 0.0);
  CHECK(asl.f1[1] == 0.0);
  // Nothing predicted at all: OP = 0, OF1 = 0; no positives at all: OR = NaN.
  const std::vector<double> low(6, 0.0);
  const auto none = mlr::threshold_metrics(mlr::make_view(low.data(), {2, 3}), Y);
  CHECK(none.op == 0.0);
  CHECK(none.of1 == 0.0);
  const std::vector<std::int8_t> neg(6, 0);
  const auto nopos = mlr::threshold_metrics(S, mlr::make_view(neg.data(), {2, 3}));
  CHECK(std::isnan(nopos.or_));
  CHECK(std::isnan(nopos.of1));
  CHECK(std::isnan(mlr::threshold_metrics(S, mlr::make_view(neg.data(), {2, 3}),
                                          {.empty_class = mlr::empty_class::exclude}).cr));
}

TEST_CASE("threshold_metrics: signed encoding, bool labels, threads", "[metrics][threshold]") {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(0, 1);
  const mlr::index_t n = 3000, c = 40;
  std::vector<double> s(static_cast<std::size_t>(n * c));
  std::vector<std::int8_t> y(s.size()), sy(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = u(gen);
    const double v = u(gen);
    y[i] = v < 0.3 ? 1 : (v < 0.4 ? -1 : 0);
    sy[i] = y[i] == 1 ? 1 : (y[i] == -1 ? 0 : -1);
  }
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto a = mlr::threshold_metrics(S, mlr::make_view(y.data(), {n, c}), {}, {}, mlr::execution_env{1});
  const auto b = mlr::threshold_metrics(S, mlr::make_view(y.data(), {n, c}), {}, {}, mlr::execution_env{2});
  const auto d = mlr::threshold_metrics(S, mlr::make_view(sy.data(), {n, c}),
                                        {.encoding = mlr::label_encoding::signed_zero_ignored});
  CHECK(a.true_positives == b.true_positives);
  CHECK(a.predicted == b.predicted);
  CHECK(a.cf1_mean == b.cf1_mean);
  CHECK(a.true_positives == d.true_positives);
  CHECK(a.positives == d.positives);
  // Column-major scores give the same counts.
  std::vector<double> t(s.size());
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j = 0; j < c; ++j) t[static_cast<std::size_t>(j * n + i)] = s[static_cast<std::size_t>(i * c + j)];
  const auto e = mlr::threshold_metrics(mlr::make_view(t.data(), {n, c}, mlr::column_major),
                                        mlr::make_view(y.data(), {n, c}));
  CHECK(e.predicted == a.predicted);
  std::vector<std::uint8_t> raw(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) raw[i] = y[i] == 1;
  const auto f = mlr::threshold_metrics(S, mlr::make_view(raw.data(), {n, c}));
  CHECK(f.positives == a.positives);
}

TEST_CASE("threshold_metrics: errors", "[metrics][threshold]") {
  std::vector<double> s{.9, .1, .5, .2};
  std::vector<std::int8_t> y{1, 0, 0, 1};
  const auto S = mlr::make_view(s.data(), {2, 2});
  const auto Y = mlr::make_view(y.data(), {2, 2});
  using mlr::threshold_metrics;
  CHECK_THROWS_MATCHES(threshold_metrics(S, mlr::make_view(y.data(), {1, 2})), mlr::error,
                       message_contains("labels: expected shape (2, 2)"));
  CHECK_THROWS_MATCHES(threshold_metrics(mlr::make_view(s.data(), {0, 2}), mlr::make_view(y.data(), {0, 2})),
                       mlr::error, message_contains("scores: expected a non-empty tensor"));
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {.mu = 1.5}), mlr::error, message_contains("mu: expected a value in [0, 1]"));
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {.mu = std::nan("")}), mlr::error, message_contains("mu:"));
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {.threshold = std::numeric_limits<double>::infinity()}), mlr::error,
                       message_contains("threshold: expected a finite value, found inf"));
  const std::vector<mlr::index_t> out{0, 2}, dup{1, 0, 1};
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {}, out), mlr::error,
                       message_contains("classes: expected class indices in [0, 2), found 2 at position 1"));
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {}, dup), mlr::error,
                       message_contains("classes: expected distinct class indices, found 1 at positions 0 and 2"));
  s[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y), mlr::error, message_contains("found nan at (1, 1)"));
  const std::vector<mlr::index_t> first{0};
  CHECK_NOTHROW(threshold_metrics(S, Y, {}, first));  // the NaN is out of scope
  const std::vector<mlr::index_t> second{1};
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y, {}, second), mlr::error, message_contains("found nan at (1, 1)"));
  s[3] = 0.2;
  y[2] = 2;
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y), mlr::error, message_contains("labels: expected labels in the canonical"));
  CHECK_THROWS_MATCHES(threshold_metrics(S, Y), mlr::error, message_contains("found 2 at (1, 0)"));
}

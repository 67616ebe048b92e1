// Threshold metrics against the worked vectors of the specification (METHOD.md 7.9, 7.11, 7.12),
// the zero-division rules, class subsets, thread-count invariance and the errors; the counts of
// every layout (dense rows, strided, column-major), scope and label type against the definition
// entry by entry in double, float scores at a double threshold's boundary included.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
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

namespace {

// The counts by the definition, entry by entry in double: the reference of the tiled kernel.
struct reference_counts {
  std::vector<std::int64_t> tp, predicted, positives;
};

template <class T, class L>
reference_counts count_by_definition(const std::vector<T>& s, const std::vector<L>& y, mlr::index_t cols,
                                     const mlr::threshold_options& o, const std::vector<mlr::index_t>& scope) {
  const std::size_t k = scope.size();
  reference_counts r{std::vector<std::int64_t>(k), std::vector<std::int64_t>(k), std::vector<std::int64_t>(k)};
  const auto rows = static_cast<mlr::index_t>(s.size()) / cols;
  for (mlr::index_t i = 0; i < rows; ++i) {
    const auto at = [&](mlr::index_t j) { return static_cast<std::size_t>(i * cols + j); };
    double t = o.threshold;
    if (o.kind == mlr::threshold_kind::relative) {
      double lo = static_cast<double>(s[at(scope[0])]), hi = lo;
      for (mlr::index_t j : scope) {
        lo = std::min(lo, static_cast<double>(s[at(j)]));
        hi = std::max(hi, static_cast<double>(s[at(j)]));
      }
      t = lo + o.mu * (hi - lo);
    }
    for (std::size_t c = 0; c < k; ++c) {
      const auto state = mlr::decode_label(y[at(scope[c])], o.encoding);
      if (state == mlr::label_state::ignored) continue;
      const double v = static_cast<double>(s[at(scope[c])]);
      const bool p = o.comparison == mlr::comparison::greater_equal ? v >= t : v > t;
      r.predicted[c] += p;
      r.positives[c] += state == mlr::label_state::positive;
      r.tp[c] += p && state == mlr::label_state::positive;
    }
  }
  return r;
}

void check_counts(const mlr::threshold_result& r, const reference_counts& e) {
  CHECK(r.true_positives == e.tp);
  CHECK(r.predicted == e.predicted);
  CHECK(r.positives == e.positives);
}

}  // namespace

TEST_CASE("threshold_metrics: float scores against a double threshold decide as in double", "[metrics][threshold]") {
  // For each threshold, the floats around it (and its nearest float); a column per score, one row.
  const float fmax = std::numeric_limits<float>::max();
  const std::vector<double> thresholds{0.1, 0.5, static_cast<double>(0.1f), std::nextafter(static_cast<double>(0.1f), 1.0),
                                       std::nextafter(static_cast<double>(0.1f), 0.0), -0.3, 0.0, -0.0, 1e-45, 3e-39,
                                       static_cast<double>(fmax), 1e39, -1e39, -static_cast<double>(fmax), 1.0 / 3.0};
  for (double t : thresholds) {
    std::vector<float> s;
    const float near = static_cast<float>(std::clamp(t, -static_cast<double>(fmax), static_cast<double>(fmax)));
    float up = near, down = near;
    s.push_back(near);
    for (int step = 0; step < 3; ++step) {
      up = std::nextafter(up, std::numeric_limits<float>::infinity());
      down = std::nextafter(down, -std::numeric_limits<float>::infinity());
      if (std::isfinite(up)) s.push_back(up);
      if (std::isfinite(down)) s.push_back(down);
    }
    s.push_back(0.0f);
    s.push_back(-0.0f);
    const auto cols = static_cast<mlr::index_t>(s.size());
    const std::vector<std::int8_t> y(s.size(), 1);
    std::vector<mlr::index_t> all(s.size());
    std::iota(all.begin(), all.end(), mlr::index_t{0});
    for (auto cmp : {mlr::comparison::greater, mlr::comparison::greater_equal}) {
      const mlr::threshold_options o{.threshold = t, .comparison = cmp};
      INFO("threshold " << t << (cmp == mlr::comparison::greater ? " >" : " >="));
      const auto r = mlr::threshold_metrics(mlr::make_view(s.data(), {1, cols}), mlr::make_view(y.data(), {1, cols}), o);
      check_counts(r, count_by_definition(s, y, cols, o, all));
      // The same scores in double, and read through a strided view, decide alike.
      const std::vector<double> d(s.begin(), s.end());
      const auto rd = mlr::threshold_metrics(mlr::make_view(d.data(), {1, cols}), mlr::make_view(y.data(), {1, cols}), o);
      CHECK(rd.predicted == r.predicted);
      const auto rc = mlr::threshold_metrics(mlr::make_view(s.data(), {cols, 1}, mlr::column_major),
                                             mlr::make_view(y.data(), {cols, 1}, mlr::column_major), o);
      CHECK(rc.total_predicted == r.total_predicted);
    }
  }
}

TEST_CASE("threshold_metrics: every layout, scope, encoding and option against the definition", "[metrics][threshold]") {
  std::mt19937 gen(11);
  std::uniform_int_distribution<int> level(0, 40), label(-1, 1);
  const mlr::index_t n = 300, c = 37, pitch = 41;  // pitch: padded rows
  // Scores on a grid of 1/40 (ties with 0.5, 0.25, ... and with relative thresholds), in float.
  std::vector<float> s(static_cast<std::size_t>(n * c)), padded(static_cast<std::size_t>(n * pitch), -7.0f);
  std::vector<float> colmajor(s.size());
  std::vector<std::int8_t> y(s.size()), ypad(padded.size(), 5);
  for (mlr::index_t i = 0; i < n; ++i)
    for (mlr::index_t j = 0; j < c; ++j) {
      const auto e = static_cast<std::size_t>(i * c + j);
      s[e] = static_cast<float>(level(gen)) / 40.0f;
      y[e] = static_cast<std::int8_t>(label(gen));
      padded[static_cast<std::size_t>(i * pitch + j)] = s[e];
      ypad[static_cast<std::size_t>(i * pitch + j)] = y[e];
      colmajor[static_cast<std::size_t>(j * n + i)] = s[e];
    }
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const auto P = mlr::make_view(padded.data(), {n, c}, {pitch, 1});
  const auto YP = mlr::make_view(ypad.data(), {n, c}, {pitch, 1});
  const auto CM = mlr::make_view(colmajor.data(), {n, c}, mlr::column_major);
  std::vector<mlr::index_t> all(static_cast<std::size_t>(c));
  std::iota(all.begin(), all.end(), mlr::index_t{0});
  const std::vector<std::vector<mlr::index_t>> scopes{{}, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21},
                                                      {36}, {30, 2, 17, 3}, {4, 3, 2, 1, 0}};
  for (const auto& scope : scopes)
    for (auto kind : {mlr::threshold_kind::absolute, mlr::threshold_kind::relative})
      for (auto cmp : {mlr::comparison::greater, mlr::comparison::greater_equal})
        for (double t : {0.5, 0.3, 0.1 + 0.2, -1.0, 2.0}) {
          const mlr::threshold_options o{.threshold = t, .kind = kind, .mu = t < 0 || t > 1 ? 0.5 : t, .comparison = cmp};
          INFO("scope size " << scope.size() << " kind " << static_cast<int>(kind) << " t " << t);
          const auto e = count_by_definition(s, y, c, o, scope.empty() ? all : scope);
          check_counts(mlr::threshold_metrics(S, Y, o, scope, {1}), e);
          check_counts(mlr::threshold_metrics(S, Y, o, scope, {3}), e);
          check_counts(mlr::threshold_metrics(P, YP, o, scope), e);
          check_counts(mlr::threshold_metrics(CM, Y, o, scope, {2}), e);
        }
  // Other label types and the signed encoding, decoded in their own type.
  std::vector<std::int8_t> sy(y.size());
  std::vector<std::uint8_t> u(y.size()), su(y.size());
  std::vector<float> fy(y.size());
  for (std::size_t e = 0; e < y.size(); ++e) {
    sy[e] = static_cast<std::int8_t>(y[e] == 1 ? 1 : (y[e] == 0 ? -1 : 0));
    u[e] = y[e] == 1;
    su[e] = y[e] == -1 ? 0 : 1;  // signed encoding in uint8: 0 ignored, 1 positive, no negative
    fy[e] = static_cast<float>(y[e]);
  }
  const auto e = count_by_definition(s, y, c, {}, all);
  check_counts(mlr::threshold_metrics(S, mlr::make_view(sy.data(), {n, c}), {.encoding = mlr::label_encoding::signed_zero_ignored}), e);
  check_counts(mlr::threshold_metrics(S, mlr::make_view(fy.data(), {n, c})), e);
  check_counts(mlr::threshold_metrics(S, mlr::make_view(u.data(), {n, c})), count_by_definition(s, u, c, {}, all));
  const mlr::threshold_options signed_o{.encoding = mlr::label_encoding::signed_zero_ignored};
  check_counts(mlr::threshold_metrics(S, mlr::make_view(su.data(), {n, c}), signed_o), count_by_definition(s, su, c, signed_o, all));
}

TEST_CASE("threshold_metrics: the first bad entry is reported on every path", "[metrics][threshold][errors]") {
  const mlr::index_t n = 40, c = 24;
  std::vector<float> s(static_cast<std::size_t>(n * c), 0.25f);
  std::vector<float> y(s.size(), 0.0f);
  const auto S = mlr::make_view(s.data(), {n, c});
  const auto Y = mlr::make_view(y.data(), {n, c});
  const std::vector<mlr::index_t> block{8, 9, 10, 11}, scattered{11, 3};
  s[static_cast<std::size_t>(30 * c + 11)] = std::numeric_limits<float>::infinity();
  s[static_cast<std::size_t>(35 * c + 3)] = std::numeric_limits<float>::quiet_NaN();
  for (auto kind : {mlr::threshold_kind::absolute, mlr::threshold_kind::relative}) {
    const mlr::threshold_options o{.kind = kind};
    CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y, o), mlr::error, message_contains("found inf at (30, 11)"));
    CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y, o, block), mlr::error, message_contains("found inf at (30, 11)"));
    CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y, o, scattered), mlr::error, message_contains("found inf at (30, 11)"));
    const std::vector<mlr::index_t> just_three{3};
    CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y, o, just_three), mlr::error, message_contains("found nan at (35, 3)"));
  }
  s[static_cast<std::size_t>(30 * c + 11)] = 0.25f;
  s[static_cast<std::size_t>(35 * c + 3)] = 0.25f;
  y[static_cast<std::size_t>(7 * c + 9)] = 0.5f;
  CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y, {}, block), mlr::error, message_contains("found 0.5 at (7, 9)"));
  y[static_cast<std::size_t>(7 * c + 9)] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, Y), mlr::error, message_contains("found nan at (7, 9)"));
  CHECK_NOTHROW(mlr::threshold_metrics(S, Y, {}, scattered));
  std::vector<std::uint8_t> u(s.size(), 1);
  u[5] = 255;
  CHECK_THROWS_MATCHES(mlr::threshold_metrics(S, mlr::make_view(u.data(), {n, c})), mlr::error,
                       message_contains("found 255 at (0, 5)"));
  u[5] = 0;  // signed encoding in uint8: 0 is ignored, valid
  CHECK_NOTHROW(mlr::threshold_metrics(S, mlr::make_view(u.data(), {n, c}), {.encoding = mlr::label_encoding::signed_zero_ignored}));
}

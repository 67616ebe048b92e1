// The accumulators' contract: streaming equals one-shot, merged shards equal the whole, states
// survive serialization, and binned AP is an exact step AP when every score is a threshold.
// The one-shot results they are compared with are themselves checked against scikit-learn and
// the METHOD.md vectors (average_precision.test.cpp, tests/python); torchmetrics parity of the
// binned mode is in tests/python/test_torchmetrics_parity.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/accumulator.hpp"
#include "mlr/metrics/binned_accumulator.hpp"
#include "support/matchers.hpp"

using mlr_test::message_contains;

namespace {

// Random scores on a coarse grid (many ties) and labels with empty classes and ignored entries.
template <class T>
struct sample {
  mlr::index_t rows, classes;
  std::vector<T> scores;
  std::vector<std::int8_t> labels;

  sample(mlr::index_t n, mlr::index_t c, unsigned seed, mlr::label_encoding encoding, int levels = 7)
      : rows(n), classes(c), scores(static_cast<std::size_t>(n * c)), labels(scores.size()) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> level(0, levels - 1), label(0, 9);
    const std::int8_t negative = encoding == mlr::label_encoding::canonical ? 0 : -1;
    const std::int8_t ignored = encoding == mlr::label_encoding::canonical ? -1 : 0;
    for (std::size_t k = 0; k < scores.size(); ++k) {
      scores[k] = static_cast<T>(level(rng)) / static_cast<T>(levels - 1);
      const auto column = static_cast<mlr::index_t>(k) % c;
      const int draw = label(rng);
      labels[k] = column == 0 ? negative  // class 0 is empty
                              : draw < 3 ? std::int8_t{1} : draw < 9 ? negative : ignored;
    }
  }
  auto scores_view(mlr::index_t first, mlr::index_t count) const {
    return mlr::make_view(scores.data() + first * classes, {count, classes});
  }
  auto labels_view(mlr::index_t first, mlr::index_t count) const {
    return mlr::make_view(labels.data() + first * classes, {count, classes});
  }
  auto all_scores() const { return scores_view(0, rows); }
  auto all_labels() const { return labels_view(0, rows); }
};

// Batch boundaries splitting [0, rows) into `parts` non-empty pieces at random.
std::vector<mlr::index_t> cuts(mlr::index_t rows, int parts, std::mt19937& rng) {
  std::vector<mlr::index_t> all(static_cast<std::size_t>(rows - 1));
  for (mlr::index_t i = 1; i < rows; ++i) all[static_cast<std::size_t>(i - 1)] = i;
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<mlr::index_t> c(all.begin(), all.begin() + (parts - 1));
  c.push_back(0);
  c.push_back(rows);
  std::sort(c.begin(), c.end());
  return c;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void require_same(const mlr::mean_average_precision_result& a, const mlr::mean_average_precision_result& b) {
  REQUIRE(same(a.value, b.value));
  REQUIRE(a.per_class.size() == b.per_class.size());
  for (std::size_t c = 0; c < a.per_class.size(); ++c) REQUIRE(same(a.per_class[c], b.per_class[c]));
  REQUIRE(a.positives == b.positives);
}

constexpr mlr::ap_method methods[] = {mlr::ap_method::step, mlr::ap_method::ranked, mlr::ap_method::voc07_11point,
                                      mlr::ap_method::voc_area};
constexpr mlr::average averages[] = {mlr::average::macro, mlr::average::micro, mlr::average::weighted,
                                     mlr::average::samples, mlr::average::none};

}  // namespace

TEMPLATE_TEST_CASE("ap_accumulator: batches, shards and states give the one-shot result exactly",
                   "[metrics][accumulator]", float, double) {
  std::mt19937 rng(11);
  for (auto encoding : {mlr::label_encoding::canonical, mlr::label_encoding::signed_zero_ignored}) {
    for (unsigned seed = 0; seed < 6; ++seed) {
      const sample<TestType> data(37 + 13 * seed, 1 + seed, seed, encoding);
      const auto split = cuts(data.rows, 1 + static_cast<int>(seed % 5), rng);
      mlr::ap_accumulator<TestType> streamed(data.classes, encoding), merged(data.classes, encoding);
      for (std::size_t b = 0; b + 1 < split.size(); ++b) {
        const auto first = split[b], count = split[b + 1] - split[b];
        streamed.update(data.scores_view(first, count), data.labels_view(first, count));
        mlr::ap_accumulator<TestType> shard(data.classes, encoding);  // as on another process
        shard.update(data.scores_view(first, count), data.labels_view(first, count));
        merged.merge(mlr::ap_accumulator<TestType>::deserialize(shard.serialize()));
      }
      REQUIRE(streamed.rows() == data.rows);
      REQUIRE(merged.serialize() == streamed.serialize());
      const std::vector<mlr::index_t> subset =
          data.classes > 1 ? std::vector<mlr::index_t>{data.classes - 1, 0} : std::vector<mlr::index_t>{0};
      for (auto method : methods)
        for (auto avg : averages) {
          const mlr::ap_options options{.method = method, .average = avg, .encoding = encoding, .epsilon = 1e-8};
          const auto whole = mlr::mean_average_precision(data.all_scores(), data.all_labels(), options);
          require_same(streamed.compute(options), whole);
          require_same(merged.compute(options, {}, {.threads = 2}), whole);
          require_same(streamed.compute(options, subset),
                       mlr::mean_average_precision(data.all_scores(), data.all_labels(), options, subset));
        }
    }
  }
}

TEST_CASE("ap_accumulator: merge order is row order, which the ranked flavour's ties see", "[metrics][accumulator]") {
  // One class, two tied entries: a positive then a negative gives ranked AP 1, the reverse 1/2.
  const std::vector<double> s{0.5};
  const std::vector<std::int8_t> pos{1}, neg{0};
  mlr::ap_accumulator<double> a(1), b(1);
  a.update(mlr::make_view(s.data(), {1, 1}), mlr::make_view(pos.data(), {1, 1}));
  b.update(mlr::make_view(s.data(), {1, 1}), mlr::make_view(neg.data(), {1, 1}));
  const mlr::ap_options ranked{.method = mlr::ap_method::ranked};
  auto ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  CHECK(ab.compute(ranked).value == 1.0);
  CHECK(ba.compute(ranked).value == 0.5);
  CHECK(ab.compute().value == 0.5);  // step groups the tie: order-free
  CHECK(ba.compute().value == 0.5);
  auto twice = ab;  // merging with itself doubles the rows
  twice.merge(twice);
  CHECK(twice.rows() == 4);
  CHECK(twice.labels()(2, 0) == 1);
  CHECK(twice.labels()(3, 0) == 0);
}

TEST_CASE("ap_accumulator: the kept rows serve every other metric", "[metrics][accumulator]") {
  const sample<float> data(50, 4, 3, mlr::label_encoding::canonical);
  mlr::ap_accumulator<float> acc(4);
  acc.update(data.scores_view(0, 20), data.labels_view(0, 20));
  acc.update(data.scores_view(20, 30), data.labels_view(20, 30));
  REQUIRE(acc.scores().extent(0) == 50);
  for (mlr::index_t i = 0; i < 50; ++i)
    for (mlr::index_t j = 0; j < 4; ++j) {
      CHECK(acc.scores()(i, j) == data.all_scores()(i, j));
      CHECK(acc.labels()(i, j) == data.all_labels()(i, j));
    }
  acc.clear();
  CHECK(acc.rows() == 0);
}

TEST_CASE("ap_accumulator: bad input is an error that leaves the state as it was", "[metrics][accumulator]") {
  mlr::ap_accumulator<double> acc(3);
  std::vector<double> s{.1, .2, .3, .4, .5, .6};
  std::vector<std::int8_t> y{1, 0, -1, 0, 1, 0};
  acc.update(mlr::make_view(s.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}));
  const auto before = acc.serialize();
  CHECK_THROWS_MATCHES(acc.update(mlr::make_view(s.data(), {3, 2}), mlr::make_view(y.data(), {3, 2})), mlr::error,
                       message_contains("scores: expected shape (B, 3) for this accumulator, found (3, 2)"));
  s[4] = std::nan("");
  CHECK_THROWS_MATCHES(acc.update(mlr::make_view(s.data(), {2, 3}), mlr::make_view(y.data(), {2, 3})), mlr::error,
                       message_contains("scores: expected finite values, found nan at (1, 1)"));
  s[4] = .5;
  y[5] = 2;
  CHECK_THROWS_MATCHES(acc.update(mlr::make_view(s.data(), {2, 3}), mlr::make_view(y.data(), {2, 3})), mlr::error,
                       message_contains("found 2 at (1, 2)"));
  CHECK(acc.serialize() == before);
  CHECK_THROWS_MATCHES(acc.compute({.encoding = mlr::label_encoding::signed_zero_ignored}), mlr::error,
                       message_contains("options.encoding: expected canonical"));
  CHECK_THROWS_MATCHES(acc.merge(mlr::ap_accumulator<double>(4)), mlr::error,
                       message_contains("other: expected an accumulator of 3 classes"));
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<double>(2).compute(), mlr::error, message_contains("no rows"));
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<double>(0), mlr::error, message_contains("classes: expected at least 1"));
}

TEST_CASE("accumulator states: an empty accumulator round-trips", "[metrics][accumulator]") {
  const mlr::ap_accumulator<float> empty(3, mlr::label_encoding::signed_zero_ignored);
  const auto back = mlr::ap_accumulator<float>::deserialize(empty.serialize());
  CHECK(back.rows() == 0);
  CHECK(back.classes() == 3);
  CHECK(back.encoding() == mlr::label_encoding::signed_zero_ignored);
  CHECK(back.serialize() == empty.serialize());
}

TEST_CASE("accumulator states: every corruption is a clear error", "[metrics][accumulator]") {
  const sample<float> data(9, 3, 5, mlr::label_encoding::canonical);
  mlr::ap_accumulator<float> acc(3);
  acc.update(data.all_scores(), data.all_labels());
  const auto state = acc.serialize();
  REQUIRE(state.size() == 32 + 9 * 3 * 5 + 8);
  const auto header = mlr::read_state_header(state);
  CHECK(header.kind == mlr::state_kind::exact);
  CHECK(header.score_bytes == 4);
  CHECK(header.classes == 3);
  CHECK(header.extent == 9);

  for (std::size_t n = 0; n < state.size(); ++n)  // every truncation
    CHECK_THROWS_AS(mlr::ap_accumulator<float>::deserialize(std::span(state).first(n)), mlr::error);
  for (std::size_t at = 0; at < state.size(); ++at) {  // every single-bit flip
    auto bad = state;
    bad[at] ^= std::byte{0x10};
    CHECK_THROWS_AS(mlr::ap_accumulator<float>::deserialize(bad), mlr::error);
  }
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<double>::deserialize(state), mlr::error,
                       message_contains("state: holds float32 scores, expected float64"));
  CHECK_THROWS_MATCHES(mlr::binned_ap_accumulator<float>::deserialize(state), mlr::error,
                       message_contains("state: holds an ap_accumulator, expected a binned_ap_accumulator"));

  // A well-formed frame (valid checksum) around a hostile header or hostile content.
  auto reframe = [](std::vector<std::byte> s) {
    s.resize(s.size() - 8);
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64, as documented in state_io.hpp
    for (std::byte b : s) h = (h ^ static_cast<std::uint64_t>(b)) * 1099511628211ull;
    for (int k = 0; k < 8; ++k) s.push_back(static_cast<std::byte>((h >> (8 * k)) & 0xff));
    return s;
  };
  auto huge = state;
  for (int k = 0; k < 8; ++k) huge[24 + k] = std::byte{0xff};  // rows = 2^64 - 1
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<float>::deserialize(reframe(huge)), mlr::error,
                       message_contains("state: shape too large"));
  auto version = state;
  version[8] = std::byte{2};
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<float>::deserialize(reframe(version)), mlr::error,
                       message_contains("state: format version 2, this mlr reads version 1"));
  auto nan_score = state;
  const float nan = std::nanf("");
  std::memcpy(nan_score.data() + 32 + 4 * 4, &nan, 4);  // row 1, column 1
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<float>::deserialize(reframe(nan_score)), mlr::error,
                       message_contains("scores: expected finite values, found nan at (1, 1)"));
  auto bad_label = state;
  bad_label[32 + 27 * 4 + 5] = std::byte{7};  // row 1, column 2
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<float>::deserialize(reframe(bad_label)), mlr::error,
                       message_contains("found 7 at (1, 2)"));
  CHECK_THROWS_MATCHES(mlr::ap_accumulator<float>::deserialize(std::vector<std::byte>(40)), mlr::error,
                       message_contains("not an mlr state"));
}

TEMPLATE_TEST_CASE("binned_ap_accumulator: with every distinct score as a threshold it is the exact step AP",
                   "[metrics][accumulator][binned]", float, double) {
  for (auto encoding : {mlr::label_encoding::canonical, mlr::label_encoding::signed_zero_ignored}) {
    for (unsigned seed = 0; seed < 5; ++seed) {
      const sample<TestType> data(60 + 7 * seed, 2 + seed, 100 + seed, encoding, 5 + 4 * static_cast<int>(seed));
      std::vector<TestType> distinct = data.scores;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      mlr::binned_ap_accumulator<TestType> acc(data.classes, std::span<const TestType>(distinct), encoding);
      acc.update(data.all_scores(), data.all_labels());
      for (auto avg : {mlr::average::macro, mlr::average::micro, mlr::average::weighted, mlr::average::none}) {
        for (auto empty : {mlr::empty_class::zero, mlr::empty_class::exclude}) {
          const auto exact = mlr::mean_average_precision(data.all_scores(), data.all_labels(),
                                                         {.average = avg, .empty_class = empty, .encoding = encoding});
          const auto binned = acc.compute(avg, empty);
          REQUIRE(binned.positives == exact.positives);
          for (std::size_t c = 0; c < exact.per_class.size(); ++c) {
            REQUIRE(std::isnan(binned.per_class[c]) == std::isnan(exact.per_class[c]));
            if (!std::isnan(exact.per_class[c])) REQUIRE(binned.per_class[c] == Approx(exact.per_class[c]).epsilon(1e-12));
          }
          REQUIRE(std::isnan(binned.value) == std::isnan(exact.value));
          if (!std::isnan(exact.value)) REQUIRE(binned.value == Approx(exact.value).epsilon(1e-12));
        }
      }
    }
  }
}

TEST_CASE("binned_ap_accumulator: counts by brute force, streaming, shards and states", "[metrics][accumulator][binned]") {
  const sample<float> data(101, 5, 7, mlr::label_encoding::canonical, 41);
  for (std::size_t t_count : {2u, 5u, 11u, 100u}) {
    mlr::binned_ap_accumulator<float> whole(5, t_count), streamed(5, t_count), merged(5, t_count);
    whole.update(data.all_scores(), data.all_labels(), {.threads = 2});
    std::mt19937 rng(static_cast<unsigned>(t_count));
    const auto split = cuts(data.rows, 4, rng);
    for (std::size_t b = 0; b + 1 < split.size(); ++b) {
      const auto first = split[b], count = split[b + 1] - split[b];
      streamed.update(data.scores_view(first, count), data.labels_view(first, count));
      mlr::binned_ap_accumulator<float> shard(5, t_count);
      shard.update(data.scores_view(first, count), data.labels_view(first, count));
      merged.merge(mlr::binned_ap_accumulator<float>::deserialize(shard.serialize()));
    }
    CHECK(streamed.serialize() == whole.serialize());
    CHECK(merged.serialize() == whole.serialize());
    const auto t = whole.thresholds();
    REQUIRE(t.size() == t_count);
    CHECK(t.front() == 0.0f);
    CHECK(t.back() == 1.0f);
    const auto counts = whole.counts();
    for (std::size_t j = 0; j < t_count; ++j)
      for (mlr::index_t c = 0; c < 5; ++c) {
        std::int64_t tp = 0, fp = 0, fn = 0;
        for (mlr::index_t i = 0; i < data.rows; ++i) {
          const float s = data.all_scores()(i, c);
          const auto y = data.all_labels()(i, c);
          tp += y == 1 && s >= t[j];
          fp += y == 0 && s >= t[j];
          fn += y == 1 && s < t[j];
        }
        const std::size_t at = j * 5 + static_cast<std::size_t>(c);
        REQUIRE(counts.tp[at] == tp);
        REQUIRE(counts.fp[at] == fp);
        REQUIRE(counts.fn[at] == fn);
      }
  }
}

TEST_CASE("binned_ap_accumulator: a hand-computed curve", "[metrics][accumulator][binned]") {
  // Scores .9 .8 .7 .6 .5 .4 with labels 1 0 1 0 0 1 at thresholds 0, .5, 1:
  //   t = 0:  TP 3, FP 3 -> P 1/2, R 1;   t = .5: TP 2, FP 3 -> P 2/5, R 2/3;   t = 1: P 0, R 0.
  //   AP = (1 - 2/3) * 1/2 + (2/3 - 0) * 2/5 + 0 = 1/6 + 4/15 = 13/30.
  const std::vector<double> s{.9, .8, .7, .6, .5, .4};
  const std::vector<std::int8_t> y{1, 0, 1, 0, 0, 1};
  mlr::binned_ap_accumulator<double> acc(1, 3);
  acc.update(mlr::make_view(s.data(), {6, 1}), mlr::make_view(y.data(), {6, 1}));
  CHECK(acc.compute().value == Approx(13.0 / 30.0).epsilon(1e-15));
}

TEST_CASE("binned_ap_accumulator: bad input", "[metrics][accumulator][binned]") {
  CHECK_THROWS_MATCHES(mlr::binned_ap_accumulator<float>(3, 1), mlr::error,
                       message_contains("thresholds: expected at least 2, found 1"));
  const std::vector<float> unsorted{0.f, .5f, .5f};
  CHECK_THROWS_MATCHES(mlr::binned_ap_accumulator<float>(3, unsorted), mlr::error,
                       message_contains("thresholds: expected strictly ascending values, found 0.5 at (2)"));
  const std::vector<float> infinite{0.f, INFINITY};
  CHECK_THROWS_MATCHES(mlr::binned_ap_accumulator<float>(3, infinite), mlr::error,
                       message_contains("thresholds: expected finite values, found inf at (1)"));
  mlr::binned_ap_accumulator<float> acc(2, 5);
  CHECK_THROWS_MATCHES(acc.compute(mlr::average::samples), mlr::error, message_contains("average: samples"));
  CHECK_THROWS_MATCHES(acc.merge(mlr::binned_ap_accumulator<float>(2, 6)), mlr::error,
                       message_contains("same 5 thresholds"));
  const std::vector<float> s{.1f, NAN};
  const std::vector<std::int8_t> y{1, 0};
  CHECK_THROWS_MATCHES(acc.update(mlr::make_view(s.data(), {1, 2}), mlr::make_view(y.data(), {1, 2})), mlr::error,
                       message_contains("found nan at (0, 1)"));
  const auto state = acc.serialize();
  for (std::size_t n = 0; n < state.size(); ++n)
    CHECK_THROWS_AS(mlr::binned_ap_accumulator<float>::deserialize(std::span(state).first(n)), mlr::error);
}

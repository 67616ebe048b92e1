// The preset table (METHOD.md 4.8, 4.9): every preset has one row under its own name, names
// round-trip through parse_policy, and the rows hold the options the method sections name.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr_test::message_contains;

TEST_CASE("presets: names round-trip and each row is its preset's", "[metrics][presets]") {
  static_assert(mlr::protocol_of(mlr::preset::mlgcn).name == "mlgcn");
  for (const auto& [value, name] : mlr::enum_names<mlr::preset>::table) {
    CHECK(mlr::parse_policy<mlr::preset>(name) == value);
    CHECK(mlr::to_string(value) == name);
    CHECK(mlr::protocol_of(value).name == name);
    CHECK_FALSE(mlr::protocol_of(value).source.empty());
  }
  CHECK_THROWS_MATCHES(mlr::parse_policy<mlr::preset>("asl"), mlr::error,
                      message_contains("preset: expected one of sklearn, torchmetrics, voc07_devkit, dualcoop, mkt, "
                                       "tagclip, mlgcn; found 'asl'"));
}

TEST_CASE("presets: the options of each protocol", "[metrics][presets]") {
  using namespace mlr;
  const auto& sk = protocol_of(preset::sklearn);
  CHECK(sk.ap.method == ap_method::step);
  CHECK(sk.ap.empty_class == empty_class::zero);
  CHECK(sk.lrap);
  CHECK_FALSE(sk.threshold.has_value());
  CHECK(sk.top_k[0] == 0);

  const auto& tm = protocol_of(preset::torchmetrics);
  CHECK(tm.ap.method == ap_method::step);
  CHECK(tm.ap.empty_class == empty_class::zero);  // >= 1.4
  CHECK_FALSE(tm.lrap);

  const auto& voc = protocol_of(preset::voc07_devkit);
  CHECK(voc.ap.method == ap_method::voc07_11point);
  CHECK(voc.ap.encoding == label_encoding::signed_zero_ignored);

  const auto& dc = protocol_of(preset::dualcoop);
  CHECK(dc.ap.method == ap_method::ranked);
  CHECK(dc.ap.epsilon == 1e-8);
  REQUIRE(dc.threshold.has_value());
  CHECK(dc.threshold->threshold == 0.5);
  CHECK(dc.threshold->comparison == comparison::greater);
  CHECK(dc.threshold->zero_division == zero_division::asl);
  CHECK(dc.top_k[0] == 3);
  CHECK(dc.top_k[1] == 5);
  CHECK(dc.top_k_opts.zero_division == zero_division::sdl);

  const auto& mkt = protocol_of(preset::mkt);
  CHECK(mkt.ap.method == ap_method::ranked);
  CHECK(mkt.ap.epsilon == 0.0);
  CHECK(mkt.ap.encoding == label_encoding::signed_zero_ignored);
  CHECK(mkt.top_k_opts.encoding == label_encoding::signed_zero_ignored);
  CHECK(mkt.top_k_opts.ignored == topk_ignored::false_positive);
  CHECK(mkt.top_k_opts.zero_division == zero_division::biam);
  CHECK(mkt.top_k[0] == 3);
  CHECK(mkt.top_k[1] == 5);
  CHECK_FALSE(mkt.threshold.has_value());

  const auto& tc = protocol_of(preset::tagclip);
  CHECK(tc.ap.method == ap_method::ranked);
  REQUIRE(tc.threshold.has_value());
  CHECK(tc.threshold->kind == threshold_kind::relative);
  CHECK(tc.threshold->mu == 0.5);

  const auto& gcn = protocol_of(preset::mlgcn);
  CHECK(gcn.ap.method == ap_method::ranked);
  CHECK(gcn.ap.encoding == label_encoding::signed_zero_ignored);
  REQUIRE(gcn.threshold.has_value());
  CHECK(gcn.threshold->threshold == 0.0);
  CHECK(gcn.threshold->comparison == comparison::greater_equal);
  CHECK(gcn.threshold->count == predicted_count::mlgcn);
  CHECK(gcn.threshold->encoding == label_encoding::signed_zero_ignored);
}

TEST_CASE("presets: the dualcoop row reproduces METHOD 7.9", "[metrics][presets]") {
  // d = l+ - l-, p = sigmoid(d) > 0.5 is d > 0: the preset's threshold at 0 on d.
  const std::vector<double> d{2, -1, 0.3, -0.5, 1.5, -2, 0.1, 0.2, -0.1, -3, -0.2, 4};
  const std::vector<std::int8_t> y{1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1};
  const auto S = mlr::make_view(d.data(), {4, 3});
  const auto Y = mlr::make_view(y.data(), {4, 3});
  const auto& p = mlr::protocol_of(mlr::preset::dualcoop);
  auto t = *p.threshold;
  t.threshold = 0.0;
  const auto r = mlr::threshold_metrics(S, Y, t);
  CHECK_THAT(r.cf1_mean, WithinAbs(0.777778, 1e-6));
  CHECK_THAT(r.cf1_harmonic, WithinAbs(0.8, 1e-12));
  CHECK_THAT(r.of1, WithinAbs(0.8, 1e-12));
  CHECK_THAT(mlr::mean_average_precision(S, Y, p.ap).value, WithinAbs(0.999999991667, 1e-11));
}

#include "mlr/loss/asl_dual.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "loss/support.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/core/tensor.hpp"

namespace {

using mlr::index_t;
using mlr_test::require_close;

// METHOD.md 7.1: O[b, 0, :] negative logits, O[b, 1, :] positive logits
const std::vector<double> o71{0, 1, -2, 2, 0.5, 3, 1, 0, 0, -1, 4, 0};
const std::vector<std::int8_t> y71{1, 0, -1, 0, 1, 1};

// The [B, 2, C] gradient as (d/dl+ rows, checking d/dl- = -d/dl+).
std::vector<double> positive_rows(const mlr::tensor<double, 3>& g) {
  std::vector<double> out;
  for (index_t b = 0; b < g.extent(0); ++b)
    for (index_t c = 0; c < g.extent(2); ++c) {
      CHECK(g(b, 0, c) == -g(b, 1, c));
      out.push_back(g(b, 1, c));
    }
  return out;
}

// The loss at z with every focusing weight frozen at its value at o0 (METHOD.md 3.1): the
// function whose derivative focal_weight::constant returns.
double frozen_weight_loss(const std::vector<double>& z, const std::vector<double>& o0,
                          const std::vector<std::int8_t>& y, index_t B, index_t C, const mlr::asl_dual_options& o) {
  auto probabilities = [&](const std::vector<double>& v, index_t b, index_t c) {  // (p, shifted q)
    const double neg = v[static_cast<std::size_t>((b * 2) * C + c)], pos = v[static_cast<std::size_t>((b * 2 + 1) * C + c)];
    const double p = 1 / (1 + std::exp(neg - pos)), q = 1 / (1 + std::exp(pos - neg));
    return std::pair{p, o.clip > 0 ? std::min(q + o.clip, 1.0) : q};
  };
  double total = 0;
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) {
      const auto label = y[static_cast<std::size_t>(b * C + c)];
      if (label == -1) continue;
      const auto [p0, q0] = probabilities(o0, b, c);
      const auto [p, q] = probabilities(z, b, c);
      const double w = label == 1 ? std::pow(1 - p0, o.gamma_pos) : std::pow(1 - q0, o.gamma_neg);
      total -= w * std::log(std::max(label == 1 ? p : q, o.eps));
    }
  return total;
}

}  // namespace

TEST_CASE("asl_dual_loss: METHOD.md 7.1 worked vector", "[loss][asl_dual]") {
  const auto ov = mlr::make_view(o71.data(), {2, 2, 3});
  const auto yv = mlr::make_view(y71.data(), {2, 3});
  const auto c = mlr::asl_dual_loss(ov, yv);
  CHECK(c.value == Approx(0.404944984306493).epsilon(1e-12));
  require_close(positive_rows(c.gradient),
                {-0.014209336618611, 0.037492047725901, 0, 0.000540202538051, -0.000323503748800, -0.25}, 1e-11);
  const auto d = mlr::asl_dual_loss(ov, yv, {.focal_weight = mlr::focal_weight::differentiable});
  CHECK(d.value == Approx(0.404944984306493).epsilon(1e-12));
  require_close(positive_rows(d.gradient),
                {-0.0275359636, 0.0985801376, 0, 0.0015823305, -0.0006440806, -0.4232867951}, 1e-9);
  const auto m = mlr::asl_dual_loss(ov, yv, {.reduction = mlr::reduction::mean});
  CHECK(m.value == Approx(0.404944984306493 / 5).epsilon(1e-12));
}

TEST_CASE("asl_dual_loss: gradient equals finite differences", "[loss][asl_dual]") {
  const index_t B = 4, C = 6;
  for (std::uint32_t seed = 0; seed < 10; ++seed) {
    // 100 · cosine: logit gaps up to about ±40 at the real scale
    const auto o = mlr_test::uniform(B * 2 * C, -20, 20, 100 + seed);
    const auto y = mlr_test::labels(B * C, {1, 0, -1}, {3, 6, 1}, 100 + seed);
    mlr::asl_dual_options opt{.gamma_neg = seed % 3 == 0 ? 4.0 : 2.0, .gamma_pos = static_cast<double>(seed % 2),
                              .clip = seed % 4 == 3 ? 0.0 : 0.05};
    opt.focal_weight = seed % 2 ? mlr::focal_weight::differentiable : mlr::focal_weight::constant;
    auto value = [&](const std::vector<double>& z) {
      if (opt.focal_weight == mlr::focal_weight::constant) return frozen_weight_loss(z, o, y, B, C, opt);
      return mlr::asl_dual_loss(mlr::make_view(z.data(), {B, 2, C}), mlr::make_view(y.data(), {B, C}), opt).value;
    };
    const auto r = mlr::asl_dual_loss(mlr::make_view(o.data(), {B, 2, C}), mlr::make_view(y.data(), {B, C}), opt);
    INFO("seed " << seed);
    require_close(mlr_test::to_vector(r.gradient.view()), mlr_test::numeric_gradient(o, value, 1e-5), 1e-6);
  }
}

TEST_CASE("asl_dual_loss: float, strided views, threads", "[loss][asl_dual]") {
  const index_t B = 200, C = 90;
  const auto o = mlr_test::uniform(B * 2 * C, -40, 40, 5);
  const auto y = mlr_test::labels(B * C, {1, 0, -1}, {1, 8, 1}, 5);
  const auto yv = mlr::make_view(y.data(), {B, C});
  const auto one = mlr::asl_dual_loss(mlr::make_view(o.data(), {B, 2, C}), yv, {}, {.threads = 1});
  const auto many = mlr::asl_dual_loss(mlr::make_view(o.data(), {B, 2, C}), yv, {}, {.threads = 3});
  CHECK(one.value == many.value);
  CHECK(mlr_test::to_vector(one.gradient.view()) == mlr_test::to_vector(many.gradient.view()));
  std::vector<float> of(o.begin(), o.end());
  const auto f = mlr::asl_dual_loss(mlr::make_view(of.data(), {B, 2, C}), yv);
  CHECK(f.value == Approx(one.value).epsilon(1e-5));
  require_close(mlr_test::to_vector(f.gradient.view()), mlr_test::to_vector(one.gradient.view()), 1e-5);
  // logits stored [2, B, C] (a permuted view), gradient into a [B, C, 2] buffer
  std::vector<double> perm(o.size());
  for (index_t b = 0; b < B; ++b)
    for (index_t k = 0; k < 2; ++k)
      for (index_t c = 0; c < C; ++c)
        perm[static_cast<std::size_t>((k * B + b) * C + c)] = o[static_cast<std::size_t>((b * 2 + k) * C + c)];
  std::vector<double> gbuf(o.size());
  const auto gv = mlr::make_view(gbuf.data(), {B, 2, C}, {2 * C, 1, 2});
  const double v = mlr::asl_dual_loss(mlr::make_view(perm.data(), {B, 2, C}, {C, B * C, 1}), yv, gv);
  CHECK(v == one.value);
  CHECK(mlr_test::to_vector(gv) == mlr_test::to_vector(one.gradient.view()));
}

TEST_CASE("asl_dual_loss: edge cases and bad input", "[loss][asl_dual]") {
  std::vector<double> o{0, 1, -2, 2, 0.5, 3};
  std::vector<std::int8_t> y{-1, -1, -1};
  const auto ov = mlr::make_view(o.data(), {1, 2, 3});
  const auto all_ignored = mlr::asl_dual_loss(ov, mlr::make_view(y.data(), {1, 3}));
  CHECK(all_ignored.value == 0.0);
  CHECK_FALSE(std::signbit(all_ignored.value));
  for (index_t k = 0; k < 6; ++k) CHECK(all_ignored.gradient.data()[k] == 0.0);

  y = {1, 0, 2};
  MLR_CHECK_ERROR(mlr::asl_dual_loss(ov, mlr::make_view(y.data(), {1, 3})),
                  "targets: expected labels in the canonical encoding (1 positive, 0 negative, -1 ignored), found 2 at (0, 2)");
  y = {1, 0, 1};
  MLR_CHECK_ERROR(mlr::asl_dual_loss(mlr::make_view(o.data(), {1, 3, 2}), mlr::make_view(y.data(), {1, 2})),
                  "logits: expected shape (B, 2, C) (index 0 negative, 1 positive), found (1, 3, 2)");
  MLR_CHECK_ERROR(mlr::asl_dual_loss(ov, mlr::make_view(y.data(), {3, 1})),
                  "targets: expected shape (1, 3) (B, C of logits (1, 2, 3)), found (3, 1)");
  mlr::tensor<double, 3> g({1, 3, 2});
  MLR_CHECK_ERROR(mlr::asl_dual_loss(ov, mlr::make_view(y.data(), {1, 3}), g), "gradient: expected shape (1, 2, 3)");
  o[4] = std::numeric_limits<double>::infinity();
  MLR_CHECK_ERROR(mlr::asl_dual_loss(ov, mlr::make_view(y.data(), {1, 3})), "logits: expected finite values, found inf at (0, 1, 1)");
}

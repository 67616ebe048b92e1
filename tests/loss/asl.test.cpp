#include "mlr/loss/asl.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "loss/support.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/core/tensor.hpp"

#ifdef MLR_TEST_HAS_EIGEN
#include "mlr/adapt/eigen.hpp"
#endif

namespace {

using mlr::index_t;
using mlr_test::require_close;

// METHOD.md 7.2
const std::vector<double> x72{2, -1, 0, -3.5, -0.2, 5, 1, -10};
const std::vector<std::int8_t> y72{1, 0, 1, 0, 0, 1, 0, 0};

mlr::loss_result<double, 2> asl72(const mlr::asl_options& o) {
  return mlr::asl_loss(mlr::make_view(x72.data(), {2, 4}), mlr::make_view(y72.data(), {2, 4}), o);
}

std::vector<double> grad(const mlr::loss_result<double, 2>& r) { return mlr_test::to_vector(r.gradient.view()); }

constexpr auto differentiable = mlr::focal_weight::differentiable;

// The loss at z with every focusing weight frozen at its value at x0 (METHOD.md 3.2): the
// function whose derivative focal_weight::constant returns.
double frozen_weight_loss(const std::vector<double>& z, const std::vector<double>& x0,
                          const std::vector<std::int8_t>& y, const mlr::asl_options& o) {
  auto neg_prob = [&](double x) {  // the shifted negative probability 1 - p_m
    const double q = 1 - 1 / (1 + std::exp(-x));
    return o.clip > 0 ? std::min(q + o.clip, 1.0) : q;
  };
  double total = 0;
  std::size_t kept = 0;
  for (std::size_t k = 0; k < z.size(); ++k) {
    if (y[k] == -1) continue;
    ++kept;
    const double p0 = 1 / (1 + std::exp(-x0[k]));
    const bool positive = y[k] == 1;
    const double w = std::pow(positive ? 1 - p0 : 1 - neg_prob(x0[k]), positive ? o.gamma_pos : o.gamma_neg);
    const double pr = positive ? 1 / (1 + std::exp(-z[k])) : neg_prob(z[k]);
    total -= w * std::log(std::max(pr, o.eps));
  }
  return o.reduction == mlr::reduction::mean ? total / static_cast<double>(kept) : total;
}

}  // namespace

TEST_CASE("asl_loss: METHOD.md 7.2 worked vectors", "[loss][asl]") {
  SECTION("gamma_neg 4, gamma_pos 0 (ASL training)") {
    const auto c = asl72({.gamma_pos = 0});
    CHECK(c.value == Approx(1.086324515696892).epsilon(1e-12));
    require_close(grad(c), {-0.1192029220, 0.0005784129, -0.5, 0, 0.0105811766, -0.0066928509, 0.1326284881, 0}, 1e-9);
    const auto d = asl72({.gamma_pos = 0, .focal_weight = differentiable});
    CHECK(d.value == Approx(1.086324515696892).epsilon(1e-12));
    require_close(grad(d), {-0.1192029220, 0.0026179679, -0.5, 0, 0.0430071263, -0.0066928509, 0.4165339001, 0}, 1e-9);
  }
  SECTION("class defaults gamma_neg 4, gamma_pos 1") {
    const auto c = asl72({});
    CHECK(c.value == Approx(0.621282700513949).epsilon(1e-12));
    require_close(grad(c), {-0.0142093366, 0.0005784129, -0.25, 0, 0.0105811766, -0.0000447943, 0.1326284881, 0}, 1e-9);
    const auto d = asl72({.focal_weight = differentiable});
    CHECK(d.value == Approx(0.621282700513949).epsilon(1e-12));
    require_close(grad(d),
                  {-0.0275359636, 0.0026179679, -0.4232867951, 0, 0.0430071263, -0.0000894383, 0.4165339001, 0}, 1e-9);
  }
  SECTION("other constants") {
    CHECK(asl72({.gamma_neg = 2, .gamma_pos = 1, .eps = 1e-6}).value == Approx(0.985491108717521).epsilon(1e-12));
    CHECK(asl72({.gamma_neg = 0, .gamma_pos = 0, .clip = 0}).value == Approx(3.081248601681911).epsilon(1e-12));
  }
  SECTION("a negative below the clip: value 0, gradient 0") {
    const double x = -3.5;
    const std::int8_t y = 0;
    const auto r = mlr::asl_loss(mlr::make_view(&x, {1, 1}), mlr::make_view(&y, {1, 1}));
    CHECK(r.value == 0.0);
    CHECK(r.gradient(0, 0) == 0.0);
  }
}

TEST_CASE("asl_loss: gradient equals finite differences", "[loss][asl]") {
  const index_t B = 5, C = 7;
  for (std::uint32_t seed = 0; seed < 12; ++seed) {
    std::vector<double> x = mlr_test::uniform(B * C, -7, 7, seed);
    const auto y = mlr_test::labels(B * C, {1, 0, -1}, {3, 6, 1}, seed);
    mlr::asl_options o{.gamma_neg = seed % 3 == 0 ? 4.0 : 2.5, .gamma_pos = static_cast<double>(seed % 3),
                       .clip = seed % 4 == 3 ? 0.0 : 0.05};
    o.focal_weight = seed % 2 ? differentiable : mlr::focal_weight::constant;
    o.reduction = seed % 5 == 4 ? mlr::reduction::mean : mlr::reduction::sum;
    for (auto& v : x)  // keep p away from the clip kink p = 0.05 (x = -2.944)
      if (std::abs(v + 2.944) < 0.01) v += 0.05;
    auto value = [&](const std::vector<double>& z) {
      if (o.focal_weight == mlr::focal_weight::constant) return frozen_weight_loss(z, x, y, o);
      return mlr::asl_loss(mlr::make_view(z.data(), {B, C}), mlr::make_view(y.data(), {B, C}), o).value;
    };
    CHECK(frozen_weight_loss(x, x, y, o) ==
          Approx(mlr::asl_loss(mlr::make_view(x.data(), {B, C}), mlr::make_view(y.data(), {B, C}), o).value).epsilon(1e-13));
    const auto r = mlr::asl_loss(mlr::make_view(x.data(), {B, C}), mlr::make_view(y.data(), {B, C}), o);
    INFO("seed " << seed);
    require_close(grad(r), mlr_test::numeric_gradient(x, value), 1e-7);
  }
}

TEST_CASE("asl_loss: ignored entries, reductions, extreme logits", "[loss][asl]") {
  const std::vector<double> x{3, -40, 800, -800, 25, -25};
  SECTION("ignored entries contribute nothing") {
    const std::vector<std::int8_t> y{1, -1, 0, -1, -1, 1};
    const auto r = mlr::asl_loss(mlr::make_view(x.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}));
    const std::vector<double> kept_x{3, 800, -25};
    const std::vector<std::int8_t> kept_y{1, 0, 1};
    const auto k = mlr::asl_loss(mlr::make_view(kept_x.data(), {1, 3}), mlr::make_view(kept_y.data(), {1, 3}));
    CHECK(r.value == Approx(k.value).epsilon(1e-15));
    CHECK(r.gradient(0, 1) == 0.0);
    CHECK(r.gradient(1, 1) == 0.0);
    const auto m = mlr::asl_loss(mlr::make_view(x.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}),
                                 {.reduction = mlr::reduction::mean});
    CHECK(m.value == Approx(r.value / 3).epsilon(1e-15));
    CHECK(m.gradient(0, 0) == Approx(r.gradient(0, 0) / 3).epsilon(1e-15));
  }
  SECTION("|x| up to 800 stays finite in float and double") {
    const std::vector<std::int8_t> y{1, 1, 0, 0, 0, 1};
    for (auto fw : {mlr::focal_weight::constant, differentiable}) {
      const auto d = mlr::asl_loss(mlr::make_view(x.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}), {.focal_weight = fw});
      std::vector<float> xf(x.begin(), x.end());
      const auto f = mlr::asl_loss(mlr::make_view(xf.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}), {.focal_weight = fw});
      CHECK(std::isfinite(d.value));
      CHECK(f.value == Approx(d.value).epsilon(1e-6));
      for (index_t k = 0; k < 6; ++k) {
        CHECK(std::isfinite(d.gradient.data()[k]));
        CHECK(f.gradient.data()[k] == Approx(d.gradient.data()[k]).margin(1e-6));
      }
      // x = -40 positive: log clamped at eps, value -log(1e-8) (weight 1 - p = 1)
      CHECK(d.value > -std::log(1e-8));
    }
  }
  SECTION("all ignored: +0.0 and a zero gradient") {
    const std::vector<std::int8_t> y(6, -1);
    for (auto red : {mlr::reduction::sum, mlr::reduction::mean}) {
      const auto r = mlr::asl_loss(mlr::make_view(x.data(), {2, 3}), mlr::make_view(y.data(), {2, 3}), {.reduction = red});
      CHECK(r.value == 0.0);
      CHECK_FALSE(std::signbit(r.value));
      for (index_t k = 0; k < 6; ++k) CHECK(r.gradient.data()[k] == 0.0);
    }
  }
}

TEST_CASE("asl_loss: float agrees with double; thread count changes nothing", "[loss][asl]") {
  const index_t B = 300, C = 120;  // several tasks
  const auto x = mlr_test::uniform(B * C, -25, 25, 7);
  const auto y = mlr_test::labels(B * C, {1, 0, -1}, {1, 8, 1}, 7);
  const auto xv = mlr::make_view(x.data(), {B, C});
  const auto yv = mlr::make_view(y.data(), {B, C});
  const auto one = mlr::asl_loss(xv, yv, {}, {.threads = 1});
  const auto four = mlr::asl_loss(xv, yv, {}, {.threads = 4});
  CHECK(one.value == four.value);
  CHECK(mlr_test::to_vector(one.gradient.view()) == mlr_test::to_vector(four.gradient.view()));
  std::vector<float> xf(x.begin(), x.end());
  const auto f = mlr::asl_loss(mlr::make_view(xf.data(), {B, C}), yv);
  CHECK(f.value == Approx(one.value).epsilon(1e-5));
  require_close(mlr_test::to_vector(f.gradient.view()), mlr_test::to_vector(one.gradient.view()), 1e-5);
}

TEST_CASE("asl_loss: strided views, labels of any type, caller's output", "[loss][asl]") {
  const index_t B = 4, C = 6;
  const auto x = mlr_test::uniform(B * C, -5, 5, 3);
  const auto y = mlr_test::labels(B * C, {1, 0, -1}, {2, 3, 1}, 3);
  const auto expected = mlr::asl_loss(mlr::make_view(x.data(), {B, C}), mlr::make_view(y.data(), {B, C}));
  // logits transposed in memory (column-major), labels as float every other element, gradient
  // written every third element of a larger buffer
  std::vector<double> xt(static_cast<std::size_t>(B * C));
  std::vector<float> yf(static_cast<std::size_t>(2 * B * C), 7.0f);
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) {
      xt[static_cast<std::size_t>(c * B + b)] = x[static_cast<std::size_t>(b * C + c)];
      yf[static_cast<std::size_t>(2 * (b * C + c))] = y[static_cast<std::size_t>(b * C + c)];
    }
  std::vector<double> gbuf(static_cast<std::size_t>(3 * B * C), 99.0);
  const auto gv = mlr::make_view(gbuf.data(), {B, C}, {3 * C, 3});
  const double value = mlr::asl_loss(mlr::make_view(xt.data(), {B, C}, mlr::column_major),
                                     mlr::make_view(yf.data(), {B, C}, {2 * C, 2}), gv);
  CHECK(value == Approx(expected.value).epsilon(1e-15));
  CHECK(mlr_test::to_vector(gv) == mlr_test::to_vector(expected.gradient.view()));
  CHECK(gbuf[1] == 99.0);  // untouched between the strided elements
  // a tensor the caller reuses
  mlr::tensor<double, 2> g({B, C});
  CHECK(mlr::asl_loss(mlr::make_view(x.data(), {B, C}), mlr::make_view(y.data(), {B, C}), g) == expected.value);
#ifdef MLR_TEST_HAS_EIGEN
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd ex = Eigen::Map<const row_major>(x.data(), B, C);  // column-major copy
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> ey =
      Eigen::Map<const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(y.data(), B, C);
  Eigen::MatrixXd eg(B, C);
  CHECK(mlr::asl_loss(ex, ey, eg) == Approx(expected.value).epsilon(1e-15));
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) CHECK(eg(b, c) == expected.gradient(b, c));
#endif
}

TEST_CASE("asl_loss: bad input", "[loss][asl]") {
  std::vector<double> x{0.5, -1, 2, 0, 1, 3};
  std::vector<std::int8_t> y{1, 0, 1, 0, 1, 0};
  const auto xv = mlr::make_view(x.data(), {2, 3});
  const auto yv = mlr::make_view(y.data(), {2, 3});
  mlr::tensor<double, 2> g({2, 3});
  MLR_CHECK_ERROR(mlr::asl_loss(xv, mlr::make_view(y.data(), {3, 2})), "targets: expected shape (2, 3) (that of logits), found (3, 2)");
  mlr::tensor<double, 2> wrong({3, 2});
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, wrong), "gradient: expected shape (2, 3) (that of logits), found (3, 2)");
  MLR_CHECK_ERROR(mlr::asl_loss(mlr::make_view(x.data(), {0, 3}), mlr::make_view(y.data(), {0, 3})),
                  "logits: expected a non-empty tensor");
  x[5] = std::numeric_limits<double>::quiet_NaN();
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g), "logits: expected finite values, found nan at (1, 2)");
  x[5] = 3;
  y[1] = 2;
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g), "targets: expected labels in the canonical encoding");
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g), "found 2 at (0, 1)");
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g, {.encoding = mlr::label_encoding::signed_zero_ignored}),
                  "targets: expected labels in the signed encoding (1 positive, -1 negative, 0 ignored), found 2 at (0, 1)");
  y[1] = 0;
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g, {.gamma_neg = -1}), "gamma_neg: expected a finite value >= 0, found -1");
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g, {.eps = 0}), "eps: expected a finite value > 0");
  MLR_CHECK_ERROR(mlr::asl_loss(xv, yv, g, {.clip = std::numeric_limits<double>::infinity()}), "clip: expected a finite value");
}

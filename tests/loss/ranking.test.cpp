#include "mlr/loss/ranking.hpp"

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

// The O(P·N) definition (METHOD.md 3.7), as an independent check of the sorted kernel.
double naive(const std::vector<double>& s, const std::vector<std::int8_t>& y, index_t B, index_t C,
             std::vector<double>& g, bool inclusive, double margin = 1.0) {
  g.assign(s.size(), 0.0);
  double total = 0;
  for (index_t b = 0; b < B; ++b) {
    double sum = 0;
    std::int64_t violating = 0;
    std::vector<double> count(static_cast<std::size_t>(C), 0.0);
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j) {
        const auto ii = static_cast<std::size_t>(b * C + i), jj = static_cast<std::size_t>(b * C + j);
        if (y[ii] != -1 || y[jj] != 1) continue;
        const double h = (margin + s[ii]) - s[jj];
        if (h > 0) sum += h, ++violating;
        if (inclusive ? h >= 0 : h > 0) count[static_cast<std::size_t>(i)] += 1, count[static_cast<std::size_t>(j)] -= 1;
      }
    const double norm = static_cast<double>(violating) + 1e-8;
    total += sum / norm;
    for (index_t c = 0; c < C; ++c) g[static_cast<std::size_t>(b * C + c)] = count[static_cast<std::size_t>(c)] / norm / static_cast<double>(B);
  }
  return total / static_cast<double>(B);
}

}  // namespace

TEST_CASE("ranking_loss: METHOD.md 7.4 worked vectors", "[loss][ranking]") {
  const std::vector<double> s{0.3, 0.1, -0.2, 0.5, 0.2, 0.2, 0.9, -0.4};
  const std::vector<std::int8_t> y{1, -1, -1, 0, -1, 1, 0, -1};
  const auto r = mlr::ranking_loss(mlr::make_view(s.data(), {2, 4}), mlr::make_view(y.data(), {2, 4}));
  CHECK(r.value == Approx(0.674999996625).epsilon(1e-12));
  require_close(mlr_test::to_vector(r.gradient.view()), {-0.5, 0.25, 0.25, 0, 0.25, -0.5, 0, 0.25}, 1e-8);

  SECTION("a pair on the margin") {
    const std::vector<double> m{2, 0, 1};
    const std::vector<std::int8_t> my{1, -1, -1};
    const auto ref = mlr::ranking_loss(mlr::make_view(m.data(), {1, 3}), mlr::make_view(my.data(), {1, 3}));
    CHECK(ref.value == 0.0);
    CHECK(ref.gradient(0, 0) == Approx(-1e8).epsilon(1e-12));
    CHECK(ref.gradient(0, 1) == 0.0);
    CHECK(ref.gradient(0, 2) == Approx(1e8).epsilon(1e-12));
    const auto con = mlr::ranking_loss(mlr::make_view(m.data(), {1, 3}), mlr::make_view(my.data(), {1, 3}),
                                       {.margin_rule = mlr::margin_rule::consistent});
    CHECK(con.value == 0.0);
    for (index_t c = 0; c < 3; ++c) CHECK(con.gradient(0, c) == 0.0);
  }
  SECTION("images without negatives or with every label unknown add 0 and count in the mean") {
    const std::vector<double> t{0.3, 0.1, -0.2, 0.5, 0.2, 0.2, 0.9, -0.4, 1, 2, 3, 4, 5, 6, 7, 8};
    const std::vector<std::int8_t> ty{1, -1, -1, 0, -1, 1, 0, -1, 1, 1, 0, 1, 0, 0, 0, 0};
    const auto four = mlr::ranking_loss(mlr::make_view(t.data(), {4, 4}), mlr::make_view(ty.data(), {4, 4}));
    CHECK(four.value == Approx(0.674999996625 / 2).epsilon(1e-12));
    for (index_t k = 8; k < 16; ++k) CHECK(four.gradient.data()[k] == 0.0);
    const auto sum = mlr::ranking_loss(mlr::make_view(t.data(), {4, 4}), mlr::make_view(ty.data(), {4, 4}),
                                       {.reduction = mlr::reduction::sum});
    CHECK(sum.value == Approx(0.674999996625 * 2).epsilon(1e-12));
  }
}

TEST_CASE("ranking_loss: equals the O(P·N) definition, either set sorted", "[loss][ranking]") {
  mlr::ranking_workspace ws;
  for (std::uint32_t seed = 0; seed < 30; ++seed) {
    const index_t B = 1 + seed % 5, C = 3 + 7 * (seed % 6);
    auto s = mlr_test::uniform(static_cast<std::size_t>(B * C), seed % 2 ? -1.0 : -6.0, seed % 2 ? 1.0 : 6.0, seed);
    if (seed % 3 == 0)  // ties and pairs exactly on the margin
      for (auto& v : s) v = std::round(v * 4) / 4;
    // positives rarer than negatives, or the other way round: both sides of the kernel
    const auto y = mlr_test::labels(static_cast<std::size_t>(B * C), {1, -1, 0},
                                    seed % 2 ? std::vector<double>{1, 6, 1} : std::vector<double>{6, 1, 1}, seed);
    for (auto rule : {mlr::margin_rule::reference, mlr::margin_rule::consistent}) {
      std::vector<double> expected_g;
      const double expected = naive(s, y, B, C, expected_g, rule == mlr::margin_rule::reference);
      mlr::tensor<double, 2> g({B, C});
      const double value = mlr::ranking_loss(mlr::make_view(s.data(), {B, C}), mlr::make_view(y.data(), {B, C}), g, ws,
                                             {.margin_rule = rule});
      INFO("seed " << seed);
      CHECK(value == Approx(expected).epsilon(1e-12).margin(1e-15));
      require_close(mlr_test::to_vector(g.view()), expected_g, 1e-12);
    }
  }
}

TEST_CASE("ranking_loss: gradient equals finite differences away from the margin", "[loss][ranking]") {
  const index_t B = 3, C = 9;
  int checked = 0;
  for (std::uint32_t seed = 0; checked < 10; ++seed) {
    const auto s = mlr_test::uniform(static_cast<std::size_t>(B * C), -1.5, 1.5, 500 + seed);
    const auto y = mlr_test::labels(static_cast<std::size_t>(B * C), {1, -1, 0}, {2, 3, 1}, 500 + seed);
    bool near_kink = false;  // the value jumps where a pair crosses the margin (its count changes)
    for (index_t b = 0; b < B; ++b)
      for (index_t i = 0; i < C; ++i)
        for (index_t j = 0; j < C; ++j) {
          const auto ii = static_cast<std::size_t>(b * C + i), jj = static_cast<std::size_t>(b * C + j);
          if (y[ii] == -1 && y[jj] == 1 && std::abs(1 + s[ii] - s[jj]) < 1e-3) near_kink = true;
        }
    if (near_kink) continue;
    ++checked;
    auto value = [&](const std::vector<double>& z) {
      return mlr::ranking_loss(mlr::make_view(z.data(), {B, C}), mlr::make_view(y.data(), {B, C})).value;
    };
    const auto r = mlr::ranking_loss(mlr::make_view(s.data(), {B, C}), mlr::make_view(y.data(), {B, C}));
    INFO("seed " << seed);
    require_close(mlr_test::to_vector(r.gradient.view()), mlr_test::numeric_gradient(s, value), 1e-7);
  }
}

TEST_CASE("ranking_loss: float, threads, workspace reuse, adapters", "[loss][ranking]") {
  const index_t B = 80, C = 925;  // several tasks
  const auto s = mlr_test::uniform(static_cast<std::size_t>(B * C), -1, 1, 11);
  const auto y = mlr_test::labels(static_cast<std::size_t>(B * C), {1, -1, 0}, {3, 900, 22}, 11);
  const auto sv = mlr::make_view(s.data(), {B, C});
  const auto yv = mlr::make_view(y.data(), {B, C});
  mlr::ranking_workspace ws;
  mlr::tensor<double, 2> g1({B, C}), g4({B, C});
  const double one = mlr::ranking_loss(sv, yv, g1, ws, {}, {.threads = 1});
  const double four = mlr::ranking_loss(sv, yv, g4, ws, {}, {.threads = 4});
  CHECK(one == four);
  CHECK(mlr_test::to_vector(g1.view()) == mlr_test::to_vector(g4.view()));
  std::vector<float> sf(s.begin(), s.end());
  const auto f = mlr::ranking_loss(mlr::make_view(sf.data(), {B, C}), yv);
  CHECK(f.value == Approx(one).epsilon(1e-5));
  require_close(mlr_test::to_vector(f.gradient.view()), mlr_test::to_vector(g1.view()), 1e-5);
  // scores as the transpose of a [C, B] buffer, labels as int64, gradient column-major
  std::vector<double> st(s.size());
  std::vector<std::int64_t> y64(y.begin(), y.end());
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) st[static_cast<std::size_t>(c * B + b)] = s[static_cast<std::size_t>(b * C + c)];
  std::vector<double> gbuf(s.size());
  const auto gv = mlr::make_view(gbuf.data(), {B, C}, mlr::column_major);
  CHECK(mlr::ranking_loss(mlr::transpose(mlr::make_view(st.data(), {C, B})), mlr::make_view(y64.data(), {B, C}), gv, ws) == one);
  CHECK(mlr_test::to_vector(gv) == mlr_test::to_vector(g1.view()));
#ifdef MLR_TEST_HAS_EIGEN
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd es = Eigen::Map<const row_major>(s.data(), B, C);
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> ey =
      Eigen::Map<const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(y.data(), B, C);
  Eigen::MatrixXd eg(B, C);
  CHECK(mlr::ranking_loss(es, ey, eg, ws) == one);
  for (index_t b = 0; b < B; b += 7)
    for (index_t c = 0; c < C; c += 13) CHECK(eg(b, c) == g1(b, c));
#endif
}

TEST_CASE("ranking_loss: bad input", "[loss][ranking]") {
  std::vector<double> s{0.5, -1, 2, 0, 1, 3};
  std::vector<std::int8_t> y{1, -1, 1, 0, 1, -1};
  const auto sv = mlr::make_view(s.data(), {2, 3});
  const auto yv = mlr::make_view(y.data(), {2, 3});
  MLR_CHECK_ERROR(mlr::ranking_loss(sv, mlr::make_view(y.data(), {3, 2})), "targets: expected shape (2, 3) (that of scores), found (3, 2)");
  MLR_CHECK_ERROR(mlr::ranking_loss(mlr::make_view(s.data(), {0, 3}), mlr::make_view(y.data(), {0, 3})),
                  "scores: expected a non-empty tensor");
  y[4] = 2;
  MLR_CHECK_ERROR(mlr::ranking_loss(sv, yv),
                  "targets: expected labels in the signed encoding (1 positive, -1 negative, 0 ignored), found 2 at (1, 1)");
  y[4] = 1;
  std::vector<std::int8_t> canonical{1, 0, 1, -1, 1, 0};  // the same labels, canonically encoded
  CHECK(mlr::ranking_loss(sv, mlr::make_view(canonical.data(), {2, 3}), {.encoding = mlr::label_encoding::canonical}).value ==
        mlr::ranking_loss(sv, yv).value);
  s[2] = std::numeric_limits<double>::quiet_NaN();
  MLR_CHECK_ERROR(mlr::ranking_loss(sv, yv), "scores: expected finite values, found nan at (0, 2)");
  s[2] = 2;
  MLR_CHECK_ERROR(mlr::ranking_loss(sv, yv, {.eps = 0}), "eps: expected a finite value > 0, found 0");
  MLR_CHECK_ERROR(mlr::ranking_loss(sv, yv, {.margin = std::numeric_limits<double>::infinity()}), "margin: expected a finite value");
}

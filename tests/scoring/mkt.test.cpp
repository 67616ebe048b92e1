// MKT scores: METHOD.md 7.6 (constructed vectors, k = 1, 2, 4, class-set dependence and the
// order flip), the direct transcription of 1.2.2 at a realistic scale, and bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/scoring/mkt.hpp"
#include "scoring/support.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr_test::message_contains;

namespace {

// METHOD.md 7.6: four patches, one image, D = 2.
const std::vector<double> patches{1, 0, 0, 1, 1, 1, -1, 0};
const std::vector<double> global{0.5, -1};

std::vector<double> scores(const std::vector<double>& emb, index_t k) {
  const auto s = mlr::mkt_scores(mlr::make_view(patches.data(), {1, 4, 2}), mlr::make_view(global.data(), {1, 2}),
                                 mlr::make_view(emb.data(), {static_cast<index_t>(emb.size() / 2), 2}),
                                 mlr::mkt_options{.k = k});
  return {s.data(), s.data() + s.size()};
}

void require_close(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK_THAT(got[i], WithinAbs(expected[i], 5e-13));
}

// METHOD.md 1.2.2 for row-major inputs, in long double.
std::vector<long double> naive_mkt(const std::vector<double>& p, const std::vector<double>& g,
                                   const std::vector<double>& e, index_t B, index_t P, index_t D, index_t C,
                                   index_t k) {
  std::vector<long double> out(static_cast<std::size_t>(B * C));
  for (index_t b = 0; b < B; ++b) {
    std::vector<long double> s1(static_cast<std::size_t>(C)), s2(s1.size());
    long double n1 = 0, n2 = 0;
    for (index_t c = 0; c < C; ++c) {
      std::vector<long double> dots(static_cast<std::size_t>(P));
      for (index_t j = 0; j < P; ++j)
        for (index_t d = 0; d < D; ++d)
          dots[static_cast<std::size_t>(j)] += static_cast<long double>(p[static_cast<std::size_t>((b * P + j) * D + d)]) *
                                               e[static_cast<std::size_t>(c * D + d)];
      std::sort(dots.begin(), dots.end(), std::greater<>());
      for (index_t j = 0; j < k; ++j) s1[static_cast<std::size_t>(c)] += dots[static_cast<std::size_t>(j)] / k;
      for (index_t d = 0; d < D; ++d)
        s2[static_cast<std::size_t>(c)] += static_cast<long double>(g[static_cast<std::size_t>(b * D + d)]) *
                                           e[static_cast<std::size_t>(c * D + d)];
      n1 += s1[static_cast<std::size_t>(c)] * s1[static_cast<std::size_t>(c)];
      n2 += s2[static_cast<std::size_t>(c)] * s2[static_cast<std::size_t>(c)];
    }
    for (index_t c = 0; c < C; ++c)
      out[static_cast<std::size_t>(b * C + c)] =
          (s1[static_cast<std::size_t>(c)] / std::sqrt(n1) + s2[static_cast<std::size_t>(c)] / std::sqrt(n2)) / 2;
  }
  return out;
}

}  // namespace

TEST_CASE("mkt_scores reproduces METHOD.md 7.6", "[mkt]") {
  const std::vector<double> e{1, 0, 0, 1, 1, -1};
  require_close(scores(e, 2), {0.466963954290, 0.066072091421, 0.567558529535});
  require_close(scores({1, 0, 0, 1}, 2), {0.577160188343, -0.093660204907});  // class set {0, 1}
  require_close(scores(e, 1), {0.422305755551, 0.021413892682, 0.689566997463});
  require_close(scores(e, 4), {0.337754766188, 0.140987048551, 0.196767717637});
  // The order flip: class 0 above class 2 over {0, 1, 2, 3}, below it over {0, 2}.
  require_close(scores({1, 0, 0, 1, 1, -1, 1, -2}, 2), {0.413397410236, 0.173205179528, 0.406858897374, 0.400320384513});
  require_close(scores({1, 0, 1, -1}, 2), {0.605327478508, 0.697948446775});
}

TEMPLATE_TEST_CASE("mkt_scores equals the direct transcription", "[mkt]", float, double) {
  using T = TestType;
  const index_t B = 19, P = 49, D = 40, C = 90, k = 16;  // B > 16: two image groups
  const auto p = mlr_test::features<double>(static_cast<std::size_t>(B * P * D), 51);
  const auto g = mlr_test::features<double>(static_cast<std::size_t>(B * D), 52);
  const auto e = mlr_test::features<double>(static_cast<std::size_t>(C * D), 53);
  const auto expected = naive_mkt(p, g, e, B, P, D, C, k);
  const std::vector<T> pt(p.begin(), p.end()), gt(g.begin(), g.end()), et(e.begin(), e.end());
  mlr::scoring_workspace ws;
  mlr::tensor<T, 2> one({B, C}), two({B, C});
  for (unsigned threads : {1u, 2u}) {
    auto& out = threads == 1 ? one : two;
    mlr::mkt_scores(mlr::make_view(pt.data(), {B, P, D}), mlr::make_view(gt.data(), {B, D}),
                    mlr::make_view(et.data(), {C, D}), out, ws, {.k = k}, mlr::execution_env{threads});
  }
  const double tolerance = sizeof(T) == 4 ? 1e-5 : 1e-13;
  for (index_t i = 0; i < one.size(); ++i) {
    REQUIRE_THAT(one.data()[i], WithinAbs(static_cast<double>(expected[static_cast<std::size_t>(i)]), tolerance));
    REQUIRE(one.data()[i] == two.data()[i]);
  }
}

TEST_CASE("mkt_scores rejects bad input with a clear message", "[mkt][errors]") {
  const std::vector<double> e{1, 0, 0, 1, 1, -1};
  const auto P = mlr::make_view(patches.data(), {1, 4, 2});
  const auto G = mlr::make_view(global.data(), {1, 2});
  const auto E = mlr::make_view(e.data(), {3, 2});
  CHECK_THROWS_MATCHES(mlr::mkt_scores(P, G, E, {.k = 5}), mlr::error,
                       message_contains("k: expected 1 <= k <= 4 (the patches per image), found 5"));
  CHECK_THROWS_MATCHES(mlr::mkt_scores(P, G, E, {.k = 0}), mlr::error, message_contains("found 0"));
  CHECK_THROWS_MATCHES(mlr::mkt_scores(P, mlr::make_view(global.data(), {2, 1}), E, {.k = 2}), mlr::error,
                       message_contains("global: expected shape (1, 2) (B and D of patches [B, P, D]), found (2, 1)"));
  CHECK_THROWS_MATCHES(mlr::mkt_scores(P, G, mlr::make_view(e.data(), {2, 3}), {.k = 2}), mlr::error,
                       message_contains("label_emb: expected shape (2, 2) (D = 2 from patches [B, P, D]), found (2, 3)"));
  std::vector<double> nan = patches;
  nan[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::mkt_scores(mlr::make_view(nan.data(), {1, 4, 2}), G, E, {.k = 2}), mlr::error,
                       message_contains("patches: expected finite values, found nan at (0, 2, 1)"));
  const std::vector<double> zero_global{0, 0};
  CHECK_THROWS_MATCHES(mlr::mkt_scores(P, mlr::make_view(zero_global.data(), {1, 2}), E, {.k = 2}), mlr::error,
                       message_contains("global: expected a non-zero global score vector over the class set (L2 "
                                        "normalisation), found a zero vector for image 0"));
}

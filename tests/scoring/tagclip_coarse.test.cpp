// TagCLIP coarse scores (METHOD.md 1.3.4) and region_similarity against the direct
// transcription, and bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/scoring/region_similarity.hpp"
#include "mlr/scoring/tagclip_coarse.hpp"
#include "scoring/support.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr_test::message_contains;

TEMPLATE_TEST_CASE("tagclip_coarse is the softmax over K of logit_scale * cosine", "[tagclip]", float, double) {
  using T = TestType;
  const index_t N = 130, K = 45, D = 24;
  const auto p = mlr_test::features<T>(static_cast<std::size_t>(N * D), 61);
  const auto t = mlr_test::features<T>(static_cast<std::size_t>(K * D), 62);
  const double scale = 100.0;
  const auto out = mlr::tagclip_coarse(mlr::make_view(p.data(), {N, D}), mlr::make_view(t.data(), {K, D}));
  const double tolerance = sizeof(T) == 4 ? 2e-5 : 1e-13;
  for (index_t i = 0; i < N; ++i) {
    std::vector<long double> logits(static_cast<std::size_t>(K));
    long double mx = -1e30L, z = 0;
    for (index_t k = 0; k < K; ++k) {
      logits[static_cast<std::size_t>(k)] = scale * mlr_test::naive_cosine(p.data() + i * D, t.data() + k * D, D);
      mx = std::max(mx, logits[static_cast<std::size_t>(k)]);
    }
    for (auto x : logits) z += std::exp(x - mx);
    for (index_t k = 0; k < K; ++k)
      REQUIRE_THAT(out(i, k), WithinAbs(static_cast<double>(std::exp(logits[static_cast<std::size_t>(k)] - mx) / z), tolerance));
  }
}

TEMPLATE_TEST_CASE("region_similarity equals the direct transcription on strided inputs", "[similarity]", float, double) {
  using T = TestType;
  const index_t B = 2, R = 37, D = 19, C = 11;
  const auto v = mlr_test::features<T>(static_cast<std::size_t>(B * R * D * 2), 71);
  const auto t = mlr_test::features<T>(static_cast<std::size_t>(C * D), 72);
  // Every other row of a [B, 2 R, D] buffer, and an output with a padded class axis.
  const mlr::strided_view<const T, 3> vs(v.data(), {B, R, D}, {2 * R * D, 2 * D, 1});
  std::vector<T> out(static_cast<std::size_t>(B * R * (C + 2)));
  const mlr::strided_view<T, 3> os(out.data(), {B, R, C}, {R * (C + 2), C + 2, 1});
  mlr::scoring_workspace ws;
  mlr::region_similarity(vs, mlr::make_view(t.data(), {C, D}), os, ws);
  for (index_t b = 0; b < B; ++b)
    for (index_t r = 0; r < R; ++r)
      for (index_t c = 0; c < C; ++c)
        REQUIRE_THAT(os(b, r, c), WithinAbs(static_cast<double>(mlr_test::naive_cosine(&vs(b, r, 0), t.data() + c * D, D)),
                                            sizeof(T) == 4 ? 1e-6 : 1e-15));
}

TEST_CASE("tagclip_coarse and region_similarity reject bad input", "[tagclip][similarity][errors]") {
  std::vector<double> p(12, 1.0), t(6, 1.0);
  CHECK_THROWS_MATCHES(mlr::tagclip_coarse(mlr::make_view(p.data(), {4, 3}), mlr::make_view(t.data(), {3, 2})),
                       mlr::error, message_contains("text: expected shape (3, 3) (D = 3 from patches [N, D]), found (3, 2)"));
  t[3] = t[4] = t[5] = 0;
  CHECK_THROWS_MATCHES(mlr::tagclip_coarse(mlr::make_view(p.data(), {4, 3}), mlr::make_view(t.data(), {2, 3})),
                       mlr::error, message_contains("text: expected vectors of non-zero norm (cosine normalisation), "
                                                    "found a zero vector at row 1"));
  CHECK_THROWS_MATCHES(mlr::tagclip_coarse(mlr::make_view(p.data(), {4, 3}), mlr::make_view(t.data(), {1, 3}),
                                           mlr::tagclip_options{.logit_scale = NAN}),
                       mlr::error, message_contains("logit_scale: expected a finite value, found nan"));
  p[4] = -INFINITY;
  CHECK_THROWS_MATCHES(mlr::region_similarity(mlr::make_view(p.data(), {2, 2, 3}), mlr::make_view(t.data(), {1, 3})),
                       mlr::error, message_contains("visual: expected finite values, found -inf at (0, 1, 1)"));
}

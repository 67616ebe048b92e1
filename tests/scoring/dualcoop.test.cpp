// The DualCoOp head: METHOD.md 7.5 (constructed), the direct transcription of 1.1.3 on random
// features with any strides and thread counts, finite differences of the vector-Jacobian
// product, the saved-forward contract, and bad input.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/scoring/dualcoop.hpp"
#include "mlr/scoring/region_similarity.hpp"
#include "scoring/support.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using mlr::index_t;
using mlr_test::message_contains;

namespace {

// METHOD.md 7.5: B = 1, L = 4, D = 3, C = 2; the tokens f0..f3 are the columns of F.
// (std::array: g++ 12.2 with -mavx512f miscompiles std::vector<double> default member
// initializers like these, giving {1, 1, 1, 1, 1, 2} for pos.)
struct worked_head {
  std::array<double, 12> visual{1, 0, 1, 2, 1, 0, 0, 1, 2, 1, 2, 1};
  std::array<double, 6> pos{1, 1, 0, 0, 1, 2};
  std::array<double, 6> neg{2, 1, 0, 0, 1, 1};
  auto v() const { return mlr::make_view(visual.data(), {1, 4, 3}); }
  auto tp() const { return mlr::make_view(pos.data(), {2, 3}); }
  auto tn() const { return mlr::make_view(neg.data(), {2, 3}); }
};

// sum(grad_out * logits): the scalar whose gradient dualcoop_logits_vjp returns.
double contracted(const std::vector<double>& v, const std::vector<double>& tn, const std::vector<double>& tp,
                  const std::vector<double>& g, index_t B, index_t L, index_t D, index_t C) {
  const auto o = mlr::dualcoop_logits(mlr::make_view(v.data(), {B, L, D}), mlr::make_view(tn.data(), {C, D}),
                                      mlr::make_view(tp.data(), {C, D}));
  double sum = 0;
  for (index_t b = 0; b < B; ++b)
    for (index_t i = 0; i < 2; ++i)
      for (index_t c = 0; c < C; ++c) sum += g[static_cast<std::size_t>((b * 2 + i) * C + c)] * o(b, i, c);
  return sum;
}

}  // namespace

TEST_CASE("dualcoop_logits reproduces METHOD.md 7.5", "[dualcoop]") {
  const worked_head h;
  const auto o = mlr::dualcoop_logits(h.v(), h.tn(), h.tp());
  CHECK_THAT(o(0, 0, 0), WithinRel(95.662686465191, 1e-12));
  CHECK_THAT(o(0, 1, 0), WithinRel(93.535364647039, 1e-12));
  CHECK_THAT(o(0, 0, 1), WithinRel(94.802303326473, 1e-12));
  CHECK_THAT(o(0, 1, 1), WithinRel(99.854609049077, 1e-12));
  const auto p = mlr::dual_prompt_probability(o);
  CHECK_THAT(p(0, 0), WithinRel(0.106469508765, 1e-11));
  CHECK_THAT(p(0, 1), WithinRel(0.993646058414, 1e-11));
  const auto s = mlr::region_similarity(h.v(), h.tp());
  const double s_pos0[] = {0.5, 0.948683298051, 0.316227766017, 0.866025403784};
  for (index_t l = 0; l < 4; ++l) CHECK_THAT(s(0, l, 0), WithinAbs(s_pos0[l], 5e-13));
}

TEST_CASE("the aggregation gradient reproduces METHOD.md 7.5 (class 0)", "[dualcoop]") {
  const worked_head h;
  const auto sp = mlr::region_similarity(h.v(), h.tp());
  const auto sn = mlr::region_similarity(h.v(), h.tn());
  const mlr::dualcoop_options options{};
  std::vector<double> weights(8), stats(6), logits(4), dpos(8), dneg(8);
  const mlr::detail::aggregate_saved<double> saved{weights.data(), stats.data()};
  mlr::detail::aggregate<double>(sp.view(), sn.view(), mlr::make_view(logits.data(), {1, 2, 2}), options, 1, saved);
  const mlr::strided_view<double, 3> gp(dpos.data(), {1, 4, 2}), gn(dneg.data(), {1, 4, 2});
  // d l+ / d S+ (grad_out = e[0, 1, 0]), then d l- / d S (grad_out = e[0, 0, 0]).
  std::vector<double> g{0, 0, 1, 0};
  mlr::detail::aggregate_backward<double>(sp.view(), sn.view(), saved, mlr::make_view(g.data(), {1, 2, 2}), gp, gn,
                                          nullptr, options, 1);
  const double dlp_dsp[] = {-0.081951, 106.295766, -0.003067, -6.210748};
  for (index_t l = 0; l < 4; ++l) {
    CHECK_THAT(gp(0, l, 0), WithinAbs(dlp_dsp[l], 5e-7));
    CHECK(gn(0, l, 0) == 0.0);
  }
  g = {1, 0, 0, 0};
  mlr::detail::aggregate_backward<double>(sp.view(), sn.view(), saved, mlr::make_view(g.data(), {1, 2, 2}), gp, gn,
                                          nullptr, options, 1);
  const double dln_dsp[] = {-0.068940, 72.799716, -0.004077, -72.726699};
  const double alpha[] = {1.063323129e-4, 0.8392258831, 2.694262569e-6, 0.1606650903};
  for (index_t l = 0; l < 4; ++l) {
    CHECK_THAT(gp(0, l, 0), WithinAbs(dln_dsp[l], 5e-7));
    CHECK_THAT(gn(0, l, 0), WithinRel(100 * alpha[l], 1e-9));
  }
}

TEMPLATE_TEST_CASE("dualcoop_logits equals the direct transcription, any strides and threads", "[dualcoop]", float,
                   double) {
  using T = TestType;
  const index_t B = 3, L = 50, D = 64, C = 7;
  const auto v = mlr_test::features<T>(static_cast<std::size_t>(B * L * D), 11, 0.3);
  const auto tn = mlr_test::features<T>(static_cast<std::size_t>(C * D), 12);
  const auto tp = mlr_test::features<T>(static_cast<std::size_t>(C * D), 13);
  const auto expected = mlr_test::naive_dualcoop(v, tn, tp, B, L, D, C);
  const double tolerance = sizeof(T) == 4 ? 2e-4 : 1e-11;  // on logits of size ~100 * cos
  mlr::scoring_workspace ws;
  mlr::tensor<T, 3> out({B, 2, C});
  mlr::dualcoop_logits(mlr::make_view(v.data(), {B, L, D}), mlr::make_view(tn.data(), {C, D}),
                       mlr::make_view(tp.data(), {C, D}), out, ws, {}, mlr::execution_env{1});
  for (index_t i = 0; i < out.size(); ++i)
    REQUIRE_THAT(out.data()[i], WithinAbs(static_cast<double>(expected[static_cast<std::size_t>(i)]), tolerance));

  // visual stored [B, D, L] (DualCoOp's own layout) and text column-major: the same values; one
  // and two threads: the same bits.
  std::vector<T> v_bdl(v.size()), tn_cm(tn.size());
  for (index_t b = 0; b < B; ++b)
    for (index_t l = 0; l < L; ++l)
      for (index_t d = 0; d < D; ++d)
        v_bdl[static_cast<std::size_t>((b * D + d) * L + l)] = v[static_cast<std::size_t>((b * L + l) * D + d)];
  for (index_t c = 0; c < C; ++c)
    for (index_t d = 0; d < D; ++d) tn_cm[static_cast<std::size_t>(d * C + c)] = tn[static_cast<std::size_t>(c * D + d)];
  const mlr::strided_view<const T, 3> vs(v_bdl.data(), {B, L, D}, {D * L, 1, L});
  const auto tns = mlr::make_view(tn_cm.data(), {C, D}, mlr::column_major);
  mlr::tensor<T, 3> one({B, 2, C}), two({B, 2, C});
  mlr::dualcoop_logits(vs, tns, mlr::make_view(tp.data(), {C, D}), one, ws, {}, mlr::execution_env{1});
  mlr::dualcoop_logits(vs, tns, mlr::make_view(tp.data(), {C, D}), two, ws, {}, mlr::execution_env{2});
  for (index_t i = 0; i < out.size(); ++i) {
    REQUIRE_THAT(one.data()[i], WithinAbs(static_cast<double>(expected[static_cast<std::size_t>(i)]), tolerance));
    REQUIRE(one.data()[i] == two.data()[i]);
  }
}

TEST_CASE("class_specific_aggregate of region_similarity maps equals dualcoop_logits", "[dualcoop]") {
  const index_t B = 2, L = 9, D = 16, C = 70;  // C > 64: two class chunks
  const auto v = mlr_test::features<double>(static_cast<std::size_t>(B * L * D), 21);
  const auto tn = mlr_test::features<double>(static_cast<std::size_t>(C * D), 22);
  const auto tp = mlr_test::features<double>(static_cast<std::size_t>(C * D), 23);
  const auto V = mlr::make_view(v.data(), {B, L, D});
  const auto sp = mlr::region_similarity(V, mlr::make_view(tp.data(), {C, D}));
  const auto sn = mlr::region_similarity(V, mlr::make_view(tn.data(), {C, D}));
  const mlr::dualcoop_options options{.spatial_scale = 7.5, .output_scale = 3};
  const auto a = mlr::class_specific_aggregate(sp, sn, options);
  const auto o = mlr::dualcoop_logits(V, mlr::make_view(tn.data(), {C, D}), mlr::make_view(tp.data(), {C, D}), options);
  const auto expected = mlr_test::naive_dualcoop(v, tn, tp, B, L, D, C, 7.5, 3);
  for (index_t i = 0; i < a.size(); ++i) {
    CHECK_THAT(a.data()[i], WithinAbs(static_cast<double>(expected[static_cast<std::size_t>(i)]), 1e-13));
    CHECK_THAT(o.data()[i], WithinAbs(static_cast<double>(expected[static_cast<std::size_t>(i)]), 1e-13));
  }
}

TEST_CASE("dual_prompt_probability is stable for large differences", "[dualcoop]") {
  std::vector<float> x{1000, -1000, -3, 0, 0, 3};  // [1, 2, 3]: negative row, then positive row
  const auto p = mlr::dual_prompt_probability(mlr::make_view(x.data(), {1, 2, 3}));
  CHECK(p(0, 0) == 0.0f);  // sigmoid(-1000) underflows to 0 in float, without NaN
  CHECK(p(0, 1) == 1.0f);
  CHECK_THAT(p(0, 2), WithinRel(1.0 / (1.0 + std::exp(-3.0 - 3.0)), 1e-6));
  std::vector<double> y{800, -800, 0, 0};
  const auto q = mlr::dual_prompt_probability(mlr::make_view(y.data(), {1, 2, 2}));
  CHECK_THAT(q(0, 0), WithinRel(std::exp(-800.0), 1e-12));  // e^d / (1 + e^d), not 1 - 1/(1 + e^d)
  CHECK(q(0, 1) == 1.0);
}

TEST_CASE("dualcoop_logits_vjp matches central finite differences", "[dualcoop][vjp]") {
  const index_t B = 2, L = 5, D = 6, C = 3;
  auto v = mlr_test::features<double>(static_cast<std::size_t>(B * L * D), 31, 0.2);
  auto tn = mlr_test::features<double>(static_cast<std::size_t>(C * D), 32);
  auto tp = mlr_test::features<double>(static_cast<std::size_t>(C * D), 33);
  const auto g = mlr_test::features<double>(static_cast<std::size_t>(B * 2 * C), 34);
  const auto grads = mlr::dualcoop_logits_vjp(mlr::make_view(v.data(), {B, L, D}), mlr::make_view(tn.data(), {C, D}),
                                              mlr::make_view(tp.data(), {C, D}), mlr::make_view(g.data(), {B, 2, C}));
  const double h = 1e-6;
  auto fd = [&](std::vector<double>& x, std::size_t i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double up = contracted(v, tn, tp, g, B, L, D, C);
    x[i] = keep - h;
    const double down = contracted(v, tn, tp, g, B, L, D, C);
    x[i] = keep;
    return (up - down) / (2 * h);
  };
  // Logits are ~100 * cos and sharp (factor 20 in the softmax): compare to 1e-6 of the scale.
  for (std::size_t i = 0; i < tn.size(); ++i) {
    CHECK_THAT(grads.text_neg.data()[i], WithinAbs(fd(tn, i), 1e-5));
    CHECK_THAT(grads.text_pos.data()[i], WithinAbs(fd(tp, i), 1e-5));
  }
  for (std::size_t i = 0; i < v.size(); ++i) CHECK_THAT(grads.visual.data()[i], WithinAbs(fd(v, i), 1e-5));
}

TEMPLATE_TEST_CASE("dualcoop_logits_vjp reuses the saved forward only for the same tensors", "[dualcoop][vjp]", float,
                   double) {
  using T = TestType;
  const index_t B = 4, L = 20, D = 32, C = 5;
  auto v = mlr_test::features<T>(static_cast<std::size_t>(B * L * D), 41);
  const auto tn = mlr_test::features<T>(static_cast<std::size_t>(C * D), 42);
  const auto tp = mlr_test::features<T>(static_cast<std::size_t>(C * D), 43);
  const auto g = mlr_test::features<T>(static_cast<std::size_t>(B * 2 * C), 44);
  const auto V = mlr::make_view(v.data(), {B, L, D});
  const auto TN = mlr::make_view(tn.data(), {C, D});
  const auto TP = mlr::make_view(tp.data(), {C, D});
  const auto G = mlr::make_view(g.data(), {B, 2, C});
  const auto fresh = mlr::dualcoop_logits_vjp(V, TN, TP, G);
  mlr::scoring_workspace ws;
  mlr::tensor<T, 3> logits({B, 2, C});
  mlr::tensor<T, 2> gn({C, D}), gp({C, D});
  mlr::dualcoop_logits(V, TN, TP, logits, ws);
  mlr::dualcoop_logits_vjp(V, TN, TP, G, gn, gp, mlr::skip, ws);  // reuses the maps
  for (index_t i = 0; i < gn.size(); ++i) {
    REQUIRE(gn.data()[i] == fresh.text_neg.data()[i]);
    REQUIRE(gp.data()[i] == fresh.text_pos.data()[i]);
  }
  // Another tensor (a copy at another address) is recomputed, not mistaken for the saved one.
  std::vector<T> v2 = v;
  for (auto& x : v2) x = -x;
  mlr::dualcoop_logits_vjp(mlr::make_view(v2.data(), {B, L, D}), TN, TP, G, gn, gp, mlr::skip, ws);
  const auto flipped = mlr::dualcoop_logits_vjp(mlr::make_view(v2.data(), {B, L, D}), TN, TP, G);
  for (index_t i = 0; i < gn.size(); ++i) REQUIRE(gn.data()[i] == flipped.text_neg.data()[i]);
  // Another scoring call with the workspace in between overwrites its buffers: recomputed.
  mlr::dualcoop_logits(V, TN, TP, logits, ws);
  mlr::tensor<T, 3> sims({B, L, C});
  mlr::region_similarity(mlr::make_view(v2.data(), {B, L, D}), TP, sims, ws);
  mlr::dualcoop_logits_vjp(V, TN, TP, G, gn, gp, mlr::skip, ws);
  for (index_t i = 0; i < gn.size(); ++i) REQUIRE(gn.data()[i] == fresh.text_neg.data()[i]);
  // The same tensors with another spatial_scale: the saved weights do not apply, recomputed.
  const mlr::dualcoop_options other{.spatial_scale = 5};
  mlr::dualcoop_logits(V, TN, TP, logits, ws);
  mlr::dualcoop_logits_vjp(V, TN, TP, G, gn, gp, mlr::skip, ws, other);
  const auto rescaled = mlr::dualcoop_logits_vjp(V, TN, TP, G, other);
  for (index_t i = 0; i < gn.size(); ++i) REQUIRE(gn.data()[i] == rescaled.text_neg.data()[i]);
}

TEST_CASE("the DualCoOp head rejects bad input with a clear message", "[dualcoop][errors]") {
  const worked_head h;
  std::vector<double> v(h.visual.begin(), h.visual.end()), t(h.pos.begin(), h.pos.end()), g(4, 1.0);
  const auto V = mlr::make_view(v.data(), {1, 4, 3});
  const auto T = mlr::make_view(t.data(), {2, 3});
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(V, mlr::make_view(t.data(), {3, 2}), T), mlr::error,
                       message_contains("text_neg: expected shape (3, 3) (D = 3 from visual [B, L, D]), found (3, 2)"));
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(V, T, mlr::make_view(t.data(), {1, 3})), mlr::error,
                       message_contains("text_pos: expected shape (2, 3) (that of text_neg), found (1, 3)"));
  std::vector<double> zero_row = v;
  zero_row[6] = zero_row[7] = zero_row[8] = 0;
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(mlr::make_view(zero_row.data(), {1, 4, 3}), T, T), mlr::error,
                       message_contains("visual: expected vectors of non-zero norm (cosine normalisation), found a "
                                        "zero vector at row (0, 2)"));
  std::vector<double> zero_text = t;
  zero_text[3] = zero_text[4] = zero_text[5] = 0;
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(V, T, mlr::make_view(zero_text.data(), {2, 3})), mlr::error,
                       message_contains("text_pos: expected vectors of non-zero norm (cosine normalisation), found a "
                                        "zero vector at row 1"));
  std::vector<double> nan = v;
  nan[10] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(mlr::make_view(nan.data(), {1, 4, 3}), T, T), mlr::error,
                       message_contains("visual: expected finite values, found nan at (0, 3, 1)"));
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(V, T, T, mlr::dualcoop_options{.spatial_scale = INFINITY}), mlr::error,
                       message_contains("spatial_scale: expected a finite value, found inf"));
  mlr::scoring_workspace ws;
  mlr::tensor<double, 3> wrong({1, 3, 2});
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(V, T, T, wrong, ws), mlr::error,
                       message_contains("out: expected shape (1, 2, 2), found (1, 3, 2)"));
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits_vjp(V, T, T, mlr::make_view(g.data(), {1, 4, 1})), mlr::error,
                       message_contains("grad_out: expected shape (1, 2, 2) (that of the logits), found (1, 4, 1)"));
  g[1] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits_vjp(V, T, T, mlr::make_view(g.data(), {1, 2, 2})), mlr::error,
                       message_contains("grad_out: expected finite values, found inf at (0, 0, 1)"));
  CHECK_THROWS_MATCHES(mlr::dual_prompt_probability(mlr::make_view(v.data(), {1, 3, 4})), mlr::error,
                       message_contains("logits: expected shape (B, 2, C) (negative, positive), found (1, 3, 4)"));
  CHECK_THROWS_MATCHES(mlr::dualcoop_logits(mlr::make_view(v.data(), {0, 4, 3}), T, T), mlr::error,
                       message_contains("visual: expected a non-empty tensor, found shape (0, 4, 3)"));
}

// Every scoring function through the adapters: raw strided views (non-contiguous), and when the
// components exist Eigen (column-major matrices, strided Maps) and xtensor (transposed rank-3
// views); each result equals the one computed on contiguous raw views of the same numbers.
#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/scoring.hpp"
#include "scoring/support.hpp"

#if defined(MLR_TEST_HAS_EIGEN)
#include "mlr/adapt/eigen.hpp"
#endif
#if defined(MLR_TEST_HAS_XTENSOR)
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xtensor.hpp>

#include "mlr/adapt/xtensor.hpp"
#endif

using Catch::Matchers::WithinAbs;
using mlr::index_t;

namespace {

constexpr index_t B = 2, L = 23, D = 16, C = 5;

struct problem {
  std::vector<double> visual = mlr_test::features<double>(static_cast<std::size_t>(B * L * D), 81, 0.2);
  std::vector<double> text_neg = mlr_test::features<double>(static_cast<std::size_t>(C * D), 82);
  std::vector<double> text_pos = mlr_test::features<double>(static_cast<std::size_t>(C * D), 83);
  std::vector<double> global = mlr_test::features<double>(static_cast<std::size_t>(B * D), 84);
  std::vector<double> grad = mlr_test::features<double>(static_cast<std::size_t>(B * 2 * C), 85);
  auto v() const { return mlr::make_view(visual.data(), {B, L, D}); }
  auto tn() const { return mlr::make_view(text_neg.data(), {C, D}); }
  auto tp() const { return mlr::make_view(text_pos.data(), {C, D}); }
  auto g() const { return mlr::make_view(global.data(), {B, D}); }
  auto go() const { return mlr::make_view(grad.data(), {B, 2, C}); }
};

template <class X, class Y>
void require_equal_values(const X& got, const Y& expected) {
  const auto a = mlr::as_view(got);
  const auto b = mlr::as_view(expected);
  REQUIRE(a.extents() == b.extents());
  if constexpr (decltype(a)::rank() == 2) {
    for (index_t i = 0; i < a.extent(0); ++i)
      for (index_t j = 0; j < a.extent(1); ++j) REQUIRE_THAT(a(i, j), WithinAbs(b(i, j), 1e-12));
  } else {
    for (index_t i = 0; i < a.extent(0); ++i)
      for (index_t j = 0; j < a.extent(1); ++j)
        for (index_t k = 0; k < a.extent(2); ++k) REQUIRE_THAT(a(i, j, k), WithinAbs(b(i, j, k), 1e-12));
  }
}

// Calls every scoring function on (visual, text_neg, text_pos, global) given through some
// adapter, and compares with the contiguous raw call.
template <class V, class N, class P, class G>
void check_all(const problem& p, const V& visual, const N& text_neg, const P& text_pos, const G& global) {
  require_equal_values(mlr::region_similarity(visual, text_pos), mlr::region_similarity(p.v(), p.tp()));
  require_equal_values(mlr::dualcoop_logits(visual, text_neg, text_pos), mlr::dualcoop_logits(p.v(), p.tn(), p.tp()));
  const auto got = mlr::dualcoop_logits_vjp(visual, text_neg, text_pos, p.go());
  const auto want = mlr::dualcoop_logits_vjp(p.v(), p.tn(), p.tp(), p.go());
  require_equal_values(got.text_neg, want.text_neg);
  require_equal_values(got.text_pos, want.text_pos);
  require_equal_values(got.visual, want.visual);
  require_equal_values(mlr::mkt_scores(visual, global, text_pos, {.k = 3}), mlr::mkt_scores(p.v(), p.g(), p.tp(), {.k = 3}));
  require_equal_values(mlr::tagclip_coarse(text_neg, text_pos), mlr::tagclip_coarse(p.tn(), p.tp()));
}

}  // namespace

TEST_CASE("scoring through raw strided, non-contiguous views", "[adapters]") {
  const problem p;
  // visual stored [B, D, L] (DualCoOp's layout); text column-major; global with padded rows.
  std::vector<double> v_bdl(p.visual.size()), tn_cm(p.text_neg.size()), g_pad(static_cast<std::size_t>(B * (D + 3)));
  for (index_t b = 0; b < B; ++b)
    for (index_t l = 0; l < L; ++l)
      for (index_t d = 0; d < D; ++d)
        v_bdl[static_cast<std::size_t>((b * D + d) * L + l)] = p.visual[static_cast<std::size_t>((b * L + l) * D + d)];
  for (index_t c = 0; c < C; ++c)
    for (index_t d = 0; d < D; ++d) tn_cm[static_cast<std::size_t>(d * C + c)] = p.text_neg[static_cast<std::size_t>(c * D + d)];
  for (index_t b = 0; b < B; ++b)
    for (index_t d = 0; d < D; ++d) g_pad[static_cast<std::size_t>(b * (D + 3) + d)] = p.global[static_cast<std::size_t>(b * D + d)];
  check_all(p, mlr::make_view(v_bdl.data(), {B, L, D}, {D * L, 1, L}), mlr::make_view(tn_cm.data(), {C, D}, mlr::column_major),
            p.tp(), mlr::make_view(g_pad.data(), {B, D}, {D + 3, 1}));
}

#if defined(MLR_TEST_HAS_EIGEN)
TEST_CASE("scoring through Eigen matrices and strided maps", "[adapters][eigen]") {
  const problem p;
  using col_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  col_major tn(C, D), tp(C, D), g(B, D);
  for (index_t c = 0; c < C; ++c)
    for (index_t d = 0; d < D; ++d) {
      tn(c, d) = p.text_neg[static_cast<std::size_t>(c * D + d)];
      tp(c, d) = p.text_pos[static_cast<std::size_t>(c * D + d)];
    }
  for (index_t b = 0; b < B; ++b)
    for (index_t d = 0; d < D; ++d) g(b, d) = p.global[static_cast<std::size_t>(b * D + d)];
  check_all(p, p.v(), tn, tp, g);
}
#endif

#if defined(MLR_TEST_HAS_XTENSOR)
TEST_CASE("scoring through transposed xtensor views", "[adapters][xtensor]") {
  const problem p;
  xt::xtensor<double, 3> bdl = xt::zeros<double>({std::size_t{B}, std::size_t{D}, std::size_t{L}});
  for (index_t b = 0; b < B; ++b)
    for (index_t l = 0; l < L; ++l)
      for (index_t d = 0; d < D; ++d)
        bdl(b, d, l) = p.visual[static_cast<std::size_t>((b * L + l) * D + d)];
  auto visual = xt::transpose(bdl, {0, 2, 1});  // [B, L, D] with the tokens' axis contiguous
  xt::xtensor<double, 2> tn = xt::zeros<double>({std::size_t{C}, std::size_t{D}});
  for (index_t c = 0; c < C; ++c)
    for (index_t d = 0; d < D; ++d) tn(c, d) = p.text_neg[static_cast<std::size_t>(c * D + d)];
  check_all(p, visual, tn, p.tp(), p.g());
}
#endif

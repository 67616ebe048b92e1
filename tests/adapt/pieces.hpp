#pragma once
// The pieces contract: every scoring function and every loss called through one adapter, with
// each input, target and output held in that adapter's own object in column-major order (axes
// reversed in memory, so no stride is the row-major one), gives exactly what the same call on
// contiguous raw views of the same numbers gives.
//
// A layout is a class with
//   template <class E, std::size_t R>
//   static auto make(const std::vector<E>& row_major, std::array<mlr::index_t, R> extents);
// returning an object that owns column-major storage of those numbers and whose arg() is what an
// algorithm is called with: the adapter object itself, or the view mlr::view_cast gives of it.
// A test runs mlr_test::check_pieces<my_layout, T>().
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/loss.hpp"
#include "mlr/scoring.hpp"

namespace mlr_test {

using mlr::index_t;

// Row-major numbers re-laid column-major, and the strides (in elements) of that storage.
template <class E, std::size_t R>
std::vector<E> column_major_copy(const std::vector<E>& row_major, const std::array<index_t, R>& extents) {
  std::vector<E> out(row_major.size());
  std::array<index_t, R> index{};
  for (std::size_t flat = 0; flat < row_major.size(); ++flat) {
    index_t offset = 0, stride = 1;
    for (std::size_t r = 0; r < R; ++r) {
      offset += index[r] * stride;
      stride *= extents[r];
    }
    out[static_cast<std::size_t>(offset)] = row_major[flat];
    for (std::size_t r = R; r-- > 0;) {  // next row-major index
      if (++index[r] < extents[r]) break;
      index[r] = 0;
    }
  }
  return out;
}

template <std::size_t R>
std::array<index_t, R> column_major_strides(const std::array<index_t, R>& extents) {
  std::array<index_t, R> strides{};
  index_t s = 1;
  for (std::size_t r = 0; r < R; ++r) {
    strides[r] = s;
    s *= extents[r];
  }
  return strides;
}

// The elements of any view, row-major, as double.
template <class V>
std::vector<double> row_major_values(const V& v) {
  std::vector<double> out;
  constexpr std::size_t R = V::rank();
  std::array<index_t, R> index{};
  index_t n = 1;
  for (std::size_t r = 0; r < R; ++r) n *= v.extent(r);
  for (index_t flat = 0; flat < n; ++flat) {
    index_t offset = 0;
    for (std::size_t r = 0; r < R; ++r) offset += index[r] * v.stride(r);
    out.push_back(static_cast<double>(v.data_handle()[offset]));
    for (std::size_t r = R; r-- > 0;) {
      if (++index[r] < v.extent(r)) break;
      index[r] = 0;
    }
  }
  return out;
}

// Same numbers: bit for bit for the element-wise losses (relative = 0); within `relative` times
// the largest magnitude for the scoring pieces, whose GEMM and norms add in an order that follows
// the input strides (packing reads rows or columns first).
template <class Got, class Want>
void require_same_numbers(const Got& got, const Want& want, double relative = 0.0) {
  const auto g = row_major_values(mlr::as_view(got));
  const auto w = row_major_values(mlr::as_view(want));
  REQUIRE(mlr::as_view(got).extents() == mlr::as_view(want).extents());
  double scale = 1.0;
  for (const double v : w) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("element " << i << ": " << g[i] << " vs " << w[i]);
    REQUIRE(std::abs(g[i] - w[i]) <= relative * scale);
  }
}

// A few roundings of the largest term per dot product of width 8 and per norm.
template <class T>
inline constexpr double scoring_tolerance = 64.0 * std::numeric_limits<T>::epsilon();

template <class T>
struct pieces_problem {
  static constexpr index_t B = 3, L = 7, D = 8, C = 5;
  std::vector<T> visual = gaussian(B * L * D, 1, 0.3), text_neg = gaussian(C * D, 2), text_pos = gaussian(C * D, 3),
                 global = gaussian(B * D, 4), grad_out = gaussian(B * 2 * C, 5), logits = gaussian(B * C, 6, 0.0, 8.0),
                 dual_logits = gaussian(B * 2 * C, 7, 0.0, 5.0), scores = gaussian(B * C, 8),
                 teacher = gaussian(B * D, 9), sim_pos = gaussian(B * L * C, 10, 0.0, 0.3),
                 sim_neg = gaussian(B * L * C, 11, 0.0, 0.3);
  std::vector<std::int8_t> canonical = labels(B * C, {1, 0, 0, -1}, 12);  // asl_loss, asl_dual_loss
  std::vector<std::int8_t> signed_labels = labels(B * C, {1, -1, -1, 0}, 13);  // ranking_loss

  static std::vector<T> gaussian(index_t n, unsigned seed, double mean = 0.0, double sd = 1.0) {
    std::mt19937 gen(seed);
    std::normal_distribution<double> d(mean, sd);
    std::vector<T> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = static_cast<T>(d(gen));
    return v;
  }
  static std::vector<std::int8_t> labels(index_t n, std::array<std::int8_t, 4> choices, unsigned seed) {
    std::mt19937 gen(seed);
    std::vector<std::int8_t> v(static_cast<std::size_t>(n));
    for (auto& y : v) y = choices[gen() % 4];
    return v;
  }
};

template <class E, std::size_t R>
mlr::strided_view<const E, R> raw(const std::vector<E>& v, std::array<index_t, R> extents) {
  return {v.data(), extents};
}

template <class Layout, class T>
void check_pieces() {
  using P = pieces_problem<T>;
  constexpr index_t B = P::B, L = P::L, D = P::D, C = P::C;
  const P p;
  using e2 = std::array<index_t, 2>;
  using e3 = std::array<index_t, 3>;
  auto visual = Layout::make(p.visual, e3{B, L, D});
  auto text_neg = Layout::make(p.text_neg, e2{C, D});
  auto text_pos = Layout::make(p.text_pos, e2{C, D});
  auto global = Layout::make(p.global, e2{B, D});
  auto zeros = [](index_t n) { return std::vector<T>(static_cast<std::size_t>(n)); };
  mlr::scoring_workspace workspace;
  constexpr double tol = scoring_tolerance<T>;

  SECTION("region_similarity") {
    auto out = Layout::make(zeros(B * L * C), e3{B, L, C});
    mlr::region_similarity(visual.arg(), text_pos.arg(), out.arg(), workspace);
    require_same_numbers(out.arg(), mlr::region_similarity(raw(p.visual, e3{B, L, D}), raw(p.text_pos, e2{C, D})), tol);
  }
  SECTION("dualcoop_logits, class_specific_aggregate, dual_prompt_probability") {
    auto logits = Layout::make(zeros(B * 2 * C), e3{B, 2, C});
    mlr::dualcoop_logits(visual.arg(), text_neg.arg(), text_pos.arg(), logits.arg(), workspace);
    const auto want = mlr::dualcoop_logits(raw(p.visual, e3{B, L, D}), raw(p.text_neg, e2{C, D}),
                                           raw(p.text_pos, e2{C, D}));
    require_same_numbers(logits.arg(), want, tol);
    auto probability = Layout::make(zeros(B * C), e2{B, C});
    mlr::dual_prompt_probability(logits.arg(), probability.arg());
    require_same_numbers(probability.arg(), mlr::dual_prompt_probability(want), tol);
    auto sim_pos = Layout::make(p.sim_pos, e3{B, L, C});
    auto sim_neg = Layout::make(p.sim_neg, e3{B, L, C});
    auto aggregated = Layout::make(zeros(B * 2 * C), e3{B, 2, C});
    mlr::class_specific_aggregate(sim_pos.arg(), sim_neg.arg(), aggregated.arg());
    require_same_numbers(aggregated.arg(), mlr::class_specific_aggregate(raw(p.sim_pos, e3{B, L, C}),
                                                                         raw(p.sim_neg, e3{B, L, C})), tol);
  }
  SECTION("dualcoop_logits_vjp") {
    auto grad_out = Layout::make(p.grad_out, e3{B, 2, C});
    auto gtn = Layout::make(zeros(C * D), e2{C, D});
    auto gtp = Layout::make(zeros(C * D), e2{C, D});
    auto gv = Layout::make(zeros(B * L * D), e3{B, L, D});
    mlr::dualcoop_logits_vjp(visual.arg(), text_neg.arg(), text_pos.arg(), grad_out.arg(), gtn.arg(), gtp.arg(),
                             gv.arg(), workspace);
    const auto want = mlr::dualcoop_logits_vjp(raw(p.visual, e3{B, L, D}), raw(p.text_neg, e2{C, D}),
                                               raw(p.text_pos, e2{C, D}), raw(p.grad_out, e3{B, 2, C}));
    require_same_numbers(gtn.arg(), want.text_neg, tol);
    require_same_numbers(gtp.arg(), want.text_pos, tol);
    require_same_numbers(gv.arg(), want.visual, tol);
  }
  SECTION("mkt_scores, tagclip_coarse") {
    auto scores = Layout::make(zeros(B * C), e2{B, C});
    mlr::mkt_scores(visual.arg(), global.arg(), text_pos.arg(), scores.arg(), workspace, {.k = 3});
    require_same_numbers(scores.arg(), mlr::mkt_scores(raw(p.visual, e3{B, L, D}), raw(p.global, e2{B, D}),
                                                       raw(p.text_pos, e2{C, D}), {.k = 3}), tol);
    auto coarse = Layout::make(zeros(B * C), e2{B, C});
    mlr::tagclip_coarse(global.arg(), text_pos.arg(), coarse.arg(), workspace);
    require_same_numbers(coarse.arg(), mlr::tagclip_coarse(raw(p.global, e2{B, D}), raw(p.text_pos, e2{C, D})), tol);
  }
  SECTION("asl_loss, asl_dual_loss") {
    auto logits = Layout::make(p.logits, e2{B, C});
    auto targets = Layout::make(p.canonical, e2{B, C});
    auto gradient = Layout::make(zeros(B * C), e2{B, C});
    const double value = mlr::asl_loss(logits.arg(), targets.arg(), gradient.arg());
    const auto want = mlr::asl_loss(raw(p.logits, e2{B, C}), raw(p.canonical, e2{B, C}));
    CHECK(value == want.value);
    require_same_numbers(gradient.arg(), want.gradient);

    auto dual = Layout::make(p.dual_logits, e3{B, 2, C});
    auto dual_gradient = Layout::make(zeros(B * 2 * C), e3{B, 2, C});
    const double dual_value = mlr::asl_dual_loss(dual.arg(), targets.arg(), dual_gradient.arg());
    const auto dual_want = mlr::asl_dual_loss(raw(p.dual_logits, e3{B, 2, C}), raw(p.canonical, e2{B, C}));
    CHECK(dual_value == dual_want.value);
    require_same_numbers(dual_gradient.arg(), dual_want.gradient);
  }
  SECTION("ranking_loss, l1_distillation") {
    auto scores = Layout::make(p.scores, e2{B, C});
    auto targets = Layout::make(p.signed_labels, e2{B, C});
    auto gradient = Layout::make(zeros(B * C), e2{B, C});
    const double value = mlr::ranking_loss(scores.arg(), targets.arg(), gradient.arg());
    const auto want = mlr::ranking_loss(raw(p.scores, e2{B, C}), raw(p.signed_labels, e2{B, C}));
    CHECK(value == want.value);
    require_same_numbers(gradient.arg(), want.gradient);

    auto teacher = Layout::make(p.teacher, e2{B, D});
    auto l1_gradient = Layout::make(zeros(B * D), e2{B, D});
    const double l1 = mlr::l1_distillation(global.arg(), teacher.arg(), l1_gradient.arg());
    const auto l1_want = mlr::l1_distillation(raw(p.global, e2{B, D}), raw(p.teacher, e2{B, D}));
    CHECK(l1 == l1_want.value);
    require_same_numbers(l1_gradient.arg(), l1_want.gradient);
  }
}

}  // namespace mlr_test

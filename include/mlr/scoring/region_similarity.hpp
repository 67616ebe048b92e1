#pragma once
// region_similarity: cosine similarities between region (or patch) features and text features,
// S[b, r, c] = <v[b, r] / |v[b, r]|, t[c] / |t[c]|> (METHOD.md 1.1.3 steps 1-2). One GEMM
// whose packing applies the inverse norms; no epsilon: a zero vector is an mlr::error naming its
// row (METHOD.md 6.5).
#include <array>
#include <cstddef>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/gemm.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/scoring/detail/inputs.hpp"
#include "mlr/scoring/workspace.hpp"

namespace mlr {

namespace detail {

// out (rank R, rows of `visual` x C) = cosine similarities; inverse norms left in scratch.
template <class T, std::size_t R>
void cosine_similarity(const strided_view<const T, R>& visual, std::string_view visual_name,
                       const strided_view<const T, 2>& text, std::string_view text_name,
                       const strided_view<T, R>& out, scoring_scratch<T>& s, unsigned threads) {
  s.saved.valid = false;  // the norms below replace those a DualCoOp forward saved
  const row_access<const T, R> rows{visual};
  s.inv_rows.resize(static_cast<std::size_t>(rows.rows()));
  s.inv_text.resize(static_cast<std::size_t>(text.extent(0)));
  inverse_row_norms(visual, visual_name, s.inv_rows.data(), threads);
  inverse_row_norms(text, text_name, s.inv_text.data(), threads);
  gemm(gemm_operand(visual, s.inv_rows.data()), gemm_operand(transpose(text), s.inv_text.data()), gemm_result(out),
       false, s.gemm, threads);
}

}  // namespace detail

// Cosine similarities of visual [B, R, D] (regions or patches) with text [C, D], written into
// out [B, R, C]; float or double, one element type for all three. Any strides. Throws
// mlr::error on mismatched shapes, empty inputs, non-finite entries or zero-norm rows.
template <viewable V, viewable X, viewable O>
void region_similarity(const V& visual, const X& text, O&& out, scoring_workspace& workspace,
                       const execution_env& env = {}) {
  using T = detail::element_of<V>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<X>>,
                "mlr::region_similarity: visual and text must hold the same element type, float or double.");
  static_assert(detail::rank_of<V> == 3 && detail::rank_of<X> == 2,
                "mlr::region_similarity takes visual [B, R, D] and text [C, D].");
  const auto v = detail::scoring_input<T, 3>(visual, "visual");
  const auto t = detail::scoring_input<T, 2>(text, "text");
  detail::check_width(t, "text", v.extent(2), "visual [B, R, D]");
  const auto o = detail::scoring_output<T, 3>(out, "out", {v.extent(0), v.extent(1), t.extent(0)});
  detail::cosine_similarity<T, 3>(v, "visual", t, "text", o, workspace.get<T>(), env.thread_count());
}

// The same, returning a new [B, R, C] tensor.
template <viewable V, viewable X>
tensor<detail::element_of<V>, 3> region_similarity(const V& visual, const X& text, const execution_env& env = {}) {
  using T = detail::element_of<V>;
  const auto v = as_view(visual);
  const auto t = as_view(text);
  tensor<T, 3> out({v.extent(0), v.extent(1), t.extent(0)});
  scoring_workspace workspace;
  region_similarity(visual, text, out, workspace, env);
  return out;
}

}  // namespace mlr

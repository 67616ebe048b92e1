#pragma once
// TagCLIP's local scores (METHOD.md 2.7): P_local[k] = max over patches of the refined scores
// P2[:, k], for the first C (foreground) columns; the background columns are dropped here.
#include <algorithm>
#include <string>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/refine/detail/inputs.hpp"
#include "mlr/scoring/detail/inputs.hpp"

namespace mlr {

// refined [N, K] (finite), num_foreground C in [1, K]; writes out [C].
template <viewable R, viewable O>
void tagclip_local(const R& refined, index_t num_foreground, O&& out) {
  using T = detail::element_of<R>;
  static_assert(std::is_floating_point_v<T>, "mlr::tagclip_local: refined must hold float or double.");
  static_assert(detail::rank_of<R> == 2, "mlr::tagclip_local takes refined [N, K].");
  const auto r = detail::scoring_input<T, 2>(refined, "refined");
  const index_t N = r.extent(0), K = r.extent(1), C = num_foreground;
  if (C < 1 || C > K)
    throw error("num_foreground: expected a value in [1, K] = [1, " + std::to_string(K) + "], found " +
                std::to_string(C));
  const auto o = detail::scoring_output<T, 1>(out, "out", {C});
  detail::check_scores(r, "refined", false);
  for (index_t k = 0; k < C; ++k) o(k) = r(0, k);
  for (index_t i = 1; i < N; ++i)
    for (index_t k = 0; k < C; ++k) o(k) = std::max(o(k), r(i, k));
}

template <viewable R>
tensor<detail::element_of<R>, 1> tagclip_local(const R& refined, index_t num_foreground) {
  tensor<detail::element_of<R>, 1> out({std::max<index_t>(num_foreground, 0)});
  tagclip_local(refined, num_foreground, out);
  return out;
}

}  // namespace mlr

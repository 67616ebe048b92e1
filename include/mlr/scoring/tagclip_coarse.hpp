#pragma once
// TagCLIP's coarse patch scores (METHOD.md 1.3.4): P[i, k] = softmax over the K text rows
// (foreground classes then background words, together) of logit_scale * cos(patch i, text k).
// Patches are the N patch tokens (after ln_post and the projection; the class token dropped),
// text the K embeddings; both are normalised here, whatever they hold.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/core/detail/vector_math.hpp"
#include "mlr/scoring/detail/inputs.hpp"
#include "mlr/scoring/region_similarity.hpp"
#include "mlr/scoring/workspace.hpp"

namespace mlr {

struct tagclip_options {
  double logit_scale = 100.0;  // exp(logit_scale) of the CLIP checkpoint, about 100
};

// Coarse scores of patches [N, D] against text [K, D], written into out [N, K] (rows sum to 1).
template <viewable X, viewable Y, viewable O>
void tagclip_coarse(const X& patches, const Y& text, O&& out, scoring_workspace& workspace,
                    const tagclip_options& options = {}, const execution_env& env = {}) {
  using T = detail::element_of<X>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<Y>>,
                "mlr::tagclip_coarse: patches and text must hold the same element type, float or double.");
  static_assert(detail::rank_of<X> == 2 && detail::rank_of<Y> == 2,
                "mlr::tagclip_coarse takes patches [N, D] and text [K, D].");
  detail::check_scale(options.logit_scale, "logit_scale");
  const auto p = detail::scoring_input<T, 2>(patches, "patches");
  const auto t = detail::scoring_input<T, 2>(text, "text");
  detail::check_width(t, "text", p.extent(1), "patches [N, D]");
  const index_t N = p.extent(0), K = t.extent(0);
  const auto o = detail::scoring_output<T, 2>(out, "out", {N, K});
  const unsigned threads = env.thread_count();
  detail::cosine_similarity<T, 2>(p, "patches", t, "text", o, workspace.get<T>(), threads);
  // Softmax of each row, max-subtracted, in double (a row of exps per worker).
  auto& scratch = workspace.get<T>().small;
  scratch.resize(static_cast<std::size_t>(std::max(1u, threads) * K));
  constexpr index_t chunk = 64;
  detail::parallel_for(static_cast<std::size_t>((N + chunk - 1) / chunk), N * K > 65536 ? threads : 1u,
                       [&](std::size_t task, unsigned worker) {
                         double* e = scratch.data() + worker * K;
                         const index_t begin = static_cast<index_t>(task) * chunk, end = std::min(N, begin + chunk);
                         for (index_t i = begin; i < end; ++i) {
                           double mx = -std::numeric_limits<double>::infinity();
                           for (index_t k = 0; k < K; ++k) mx = std::max(mx, static_cast<double>(o(i, k)));
                           for (index_t k = 0; k < K; ++k) e[k] = options.logit_scale * (static_cast<double>(o(i, k)) - mx);
                           detail::exp_inplace(e, K);
                           double z = 0.0;
                           for (index_t k = 0; k < K; ++k) z += e[k];
                           for (index_t k = 0; k < K; ++k) o(i, k) = static_cast<T>(e[k] / z);
                         }
                       });
}

template <viewable X, viewable Y>
tensor<detail::element_of<X>, 2> tagclip_coarse(const X& patches, const Y& text, const tagclip_options& options = {},
                                                const execution_env& env = {}) {
  tensor<detail::element_of<X>, 2> out({as_view(patches).extent(0), as_view(text).extent(0)});
  scoring_workspace workspace;
  tagclip_coarse(patches, text, out, workspace, options, env);
  return out;
}

}  // namespace mlr

#pragma once
// MKT's two-stream score (METHOD.md 1.2.2): for image b and class c of the scored set,
// s1 = mean of the k largest patch dot products <P[b, j], E[c]>, s2 = <g[b], E[c]>, each
// L2-normalised over the classes of the set (per image, no epsilon), averaged:
// s = (s1 / |s1| + s2 / |s2|) / 2. No feature is normalised. The class set is the rows of
// label_emb: pass the embeddings of exactly the classes scored together (81 ZSL, 1,006 GZSL, 925
// in training; METHOD.md 1.2.4). k = 16 is the training scripts' default (and mlr's); the paper
// and MKT's inference script use 18 (METHOD.md 1.2.3).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/gemm.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/scoring/detail/inputs.hpp"
#include "mlr/scoring/workspace.hpp"

namespace mlr {

namespace detail {

// Mean of the k largest of x[0..n): the k largest kept ascending in `top` (insertion; after the
// first k, a value enters only above the current k-th largest), summed in double in that order.
template <class T>
double top_k_mean(const T* x, index_t n, index_t k, double* top) noexcept {
  for (index_t j = 0; j < k; ++j) {
    const auto v = static_cast<double>(x[j]);
    index_t i = j;
    for (; i > 0 && top[i - 1] > v; --i) top[i] = top[i - 1];
    top[i] = v;
  }
  for (index_t j = k; j < n; ++j) {
    const auto v = static_cast<double>(x[j]);
    if (!(v > top[0])) continue;
    index_t i = 0;
    for (; i + 1 < k && top[i + 1] < v; ++i) top[i] = top[i + 1];
    top[i] = v;
  }
  double sum = 0.0;
  for (index_t j = 0; j < k; ++j) sum += top[j];
  return sum / static_cast<double>(k);
}

}  // namespace detail

struct mkt_options {
  index_t k = 16;  // patches averaged per class (1 <= k <= patches); the paper uses 18
};

// Scores of patches [B, P, D] and global [B, D] against label_emb [C, D], written into
// out [B, C]. Throws mlr::error on mismatched shapes, k outside 1..P, non-finite inputs and an
// image whose local or global score vector is zero over the class set.
template <viewable X, viewable G, viewable E, viewable O>
void mkt_scores(const X& patches, const G& global, const E& label_emb, O&& out, scoring_workspace& workspace,
                const mkt_options& options = {}, const execution_env& env = {}) {
  using T = detail::element_of<X>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<G>> &&
                    std::is_same_v<T, detail::element_of<E>>,
                "mlr::mkt_scores: patches, global and label_emb must hold the same element type, float or double.");
  static_assert(detail::rank_of<X> == 3 && detail::rank_of<G> == 2 && detail::rank_of<E> == 2,
                "mlr::mkt_scores takes patches [B, P, D], global [B, D] and label_emb [C, D].");
  const auto p = detail::scoring_input<T, 3>(patches, "patches");
  const auto g = detail::scoring_input<T, 2>(global, "global");
  const auto e = detail::scoring_input<T, 2>(label_emb, "label_emb");
  const index_t B = p.extent(0), P = p.extent(1), D = p.extent(2), C = e.extent(0);
  if (g.extents() != std::array<index_t, 2>{B, D})
    throw error("global: expected shape " + detail::format_index(std::array<index_t, 2>{B, D}) +
                " (B and D of patches [B, P, D]), found " + detail::format_index(g.extents()));
  detail::check_width(e, "label_emb", D, "patches [B, P, D]");
  if (options.k < 1 || options.k > P)
    throw error("k: expected 1 <= k <= " + std::to_string(P) + " (the patches per image), found " +
                std::to_string(options.k));
  detail::check_finite(p, "patches", env);  // before the top-k: NaN breaks any ordering
  detail::check_finite(g, "global", env);
  detail::check_finite(e, "label_emb", env);
  const auto o = detail::scoring_output<T, 2>(out, "out", {B, C});
  const unsigned threads = env.thread_count();
  auto& s = workspace.get<T>();
  s.saved.valid = false;  // s.sim is overwritten: a saved DualCoOp forward is gone

  // Global stream: one GEMM [B, D] x [D, C].
  s.global_sim.resize(static_cast<std::size_t>(B * C));
  detail::gemm(detail::gemm_operand(g), detail::gemm_operand(transpose(e)),
               detail::gemm_output<T>{s.global_sim.data(), {B, C}, {C, 1}}, false, s.gemm, threads);

  // Local stream, one image per task: its [C, P] dot products (a GEMM with the patches packed,
  // label_emb read in place), then the mean of the k largest of each class's row, into out (s1,
  // unnormalised).
  const index_t k = options.k;
  const unsigned workers = std::max(1u, B > 1 && B * P * C * D > 2'000'000 ? threads : 1u);
  s.sim.resize(static_cast<std::size_t>(workers) * static_cast<std::size_t>(C * P));
  s.small.resize(static_cast<std::size_t>(workers * k));
  s.gemm_per_worker.resize(std::max<std::size_t>(s.gemm_per_worker.size(), workers));
  detail::parallel_for(static_cast<std::size_t>(B), workers, [&](std::size_t task, unsigned worker) {
    const auto b = static_cast<index_t>(task);
    T* dots = s.sim.data() + static_cast<std::size_t>(worker) * static_cast<std::size_t>(C * P);
    const strided_view<const T, 2> image(&p(b, 0, 0), {P, D}, {p.stride(1), p.stride(2)});
    detail::gemm(detail::gemm_operand(e), detail::gemm_operand(transpose(image)),
                 detail::gemm_output<T>{dots, {C, P}, {P, 1}}, false, s.gemm_per_worker[worker], 1u);
    double* top = s.small.data() + worker * k;
    for (index_t c = 0; c < C; ++c)
      o(b, c) = static_cast<T>(detail::top_k_mean(dots + c * P, P, k, top));
  });

  // Per image: normalise both streams over the class set and average.
  for (index_t b = 0; b < B; ++b) {
    double n1 = 0.0, n2 = 0.0;
    for (index_t c = 0; c < C; ++c) {
      const double s1 = static_cast<double>(o(b, c)), s2 = static_cast<double>(s.global_sim[static_cast<std::size_t>(b * C + c)]);
      n1 += s1 * s1;
      n2 += s2 * s2;
    }
    if (!std::isfinite(n1) || !std::isfinite(n2))
      throw error("mkt_scores: the scores of image " + std::to_string(b) + " overflow");
    if (n1 == 0.0 || n2 == 0.0)
      throw error(std::string(n1 == 0.0 ? "patches" : "global") + ": expected a non-zero " +
                  (n1 == 0.0 ? "local" : "global") + " score vector over the class set (L2 normalisation), found a " +
                  "zero vector for image " + std::to_string(b));
    const double i1 = 1.0 / std::sqrt(n1), i2 = 1.0 / std::sqrt(n2);
    for (index_t c = 0; c < C; ++c)
      o(b, c) = static_cast<T>(0.5 * (static_cast<double>(o(b, c)) * i1 +
                                      static_cast<double>(s.global_sim[static_cast<std::size_t>(b * C + c)]) * i2));
  }
}

template <viewable X, viewable G, viewable E>
tensor<detail::element_of<X>, 2> mkt_scores(const X& patches, const G& global, const E& label_emb,
                                            const mkt_options& options = {}, const execution_env& env = {}) {
  tensor<detail::element_of<X>, 2> out({as_view(patches).extent(0), as_view(label_emb).extent(0)});
  scoring_workspace workspace;
  mkt_scores(patches, global, label_emb, out, workspace, options, env);
  return out;
}

}  // namespace mlr

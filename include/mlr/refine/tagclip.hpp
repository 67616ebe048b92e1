#pragma once
// tagclip_classify: TagCLIP's whole local-to-global pipeline (METHOD.md 8.3) around an engine
// that runs CLIP. Phase 1 (mlr): coarse scores of the patch tokens against the text, DMAR, local
// scores and the CWR plan. Phase 2 (engine): for each crop request, in candidate order, the
// engine runs the second CLIP pass and writes its projected class-token feature [D]; mlr
// normalises it and takes the softmax over the K text rows with logit_scale, exactly as the coarse
// scores (METHOD.md 2.8 step 8), and fuses. Phase 3 (mlr): labels.
// A batch runs phase 1 on its images in parallel, then calls the engine on the calling thread
// in (image, candidate) order; results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/refine/cwr.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/refine/local.hpp"
#include "mlr/scoring/detail/inputs.hpp"
#include "mlr/scoring/tagclip_coarse.hpp"
#include "mlr/scoring/workspace.hpp"

namespace mlr {

struct tagclip_classify_options {
  tagclip_options coarse = {};  // logit_scale, also for the global scores
  dmar_options dmar = {};
  cwr_options cwr = {};
};

template <class T>
struct tagclip_result {
  tensor<T, 2> coarse;  // [N, K] P_coarse
  dmar_result<T> dmar;  // dmar.refined = P2 [N, K]
  tensor<T, 1> local;   // [C] P_local
  cwr_result<T> cwr;    // candidates, boxes, global scores, cwr.final_scores = P_final [C], cwr.labels
};

namespace detail {

// The scratch of phase 1 for one worker.
struct tagclip_worker {
  scoring_workspace scoring;
  dmar_workspace dmar;
};

}  // namespace detail

// Reusable scratch of tagclip_classify: pass the same object for every image or batch and
// nothing is allocated once the shapes stop growing (single-threaded; more threads start their
// workers on each call). One workspace serves float and double calls, one call at a time.
class tagclip_workspace {
 public:
  std::vector<detail::tagclip_worker> workers;   // phase 1, one per worker
  std::vector<detail::cwr_plan_scratch> plans;   // one per image: its token masks wait for phase 2
  std::vector<std::exception_ptr> failures;      // phase 1, per image
  cwr_workspace cwr;                             // the requests' attention mask
  scoring_workspace global;                      // the global scores (phase 2, calling thread)

  // The engine's feature buffer [D].
  template <class T>
  std::vector<T>& feature() noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if constexpr (std::is_same_v<T, float>) return feature_f32_;
    else return feature_f64_;
  }

 private:
  std::vector<float> feature_f32_;
  std::vector<double> feature_f64_;
};

namespace detail {

// The N patch tokens of tokens [1 + N, D] (class token first, dropped: a sub-view) or [N, D].
template <class T>
strided_view<const T, 2> patch_tokens(const strided_view<const T, 2>& tokens, const patch_grid& grid) {
  const index_t N = grid.size(), rows = tokens.extent(0);
  if (rows != N && rows != N + 1)
    throw error("tokens: expected shape (1 + N, D) or (N, D) with N = " + std::to_string(N) + " patches of the " +
                std::to_string(grid.rows) + " x " + std::to_string(grid.cols) + " grid, found " +
                format_index(tokens.extents()));
  return {tokens.data_handle() + (rows - N) * tokens.stride(0), {N, tokens.extent(1)}, tokens.strides()};
}

// Checks that do not depend on the image: options, the grid, num_foreground against K.
template <class T>
void check_tagclip_call(const strided_view<const T, 2>& text, const patch_grid& grid, index_t num_foreground,
                        const tagclip_classify_options& o) {
  check_cwr_options(o.cwr);
  check_scale(o.coarse.logit_scale, "logit_scale");
  check_grid(grid, grid.size(), "tokens");  // rows and cols positive
  const index_t K = text.extent(0);
  if (num_foreground < 1 || num_foreground > K)
    throw error("num_foreground: expected a value in [1, K = " + std::to_string(K) + "] (K = text rows), found " +
                std::to_string(num_foreground));
}

// Phase 1 of one image.
template <class T>
void tagclip_plan(const strided_view<const T, 3>& attn, const strided_view<const T, 2>& tokens,
                  const strided_view<const T, 2>& text, const patch_grid& grid, index_t num_foreground,
                  const tagclip_classify_options& o, tagclip_result<T>& out, tagclip_worker& w, cwr_plan_scratch& plan,
                  const execution_env& env) {
  const auto patches = patch_tokens(tokens, grid);
  out.coarse.resize({grid.size(), text.extent(0)});
  tagclip_coarse(patches, text, out.coarse, w.scoring, o.coarse, env);
  tagclip_dmar(attn, out.coarse, grid, out.dmar, w.dmar, o.dmar, env);
  out.local.resize({num_foreground});
  tagclip_local(out.dmar.refined, num_foreground, out.local);
  cwr_plan(strided_view<const T, 2>(out.dmar.refined.view()), strided_view<const T, 1>(out.local.view()), grid, o.cwr,
           out.cwr, plan);
}

// The CWR engine of the pipeline: the caller's engine writes the class-token feature [D], turned
// here into the K probabilities (softmax of logit_scale times the cosine with each text row).
template <class T, class F>
struct feature_engine {
  F& global_feature;
  const strided_view<const T, 2>& text;
  const tagclip_options& coarse;
  tagclip_workspace& ws;

  void operator()(const crop_request<T>& request, strided_view<T, 1> probabilities) const {
    const index_t D = text.extent(1), K = text.extent(0);
    auto& f = ws.feature<T>();
    f.assign(static_cast<std::size_t>(D), std::numeric_limits<T>::quiet_NaN());
    global_feature(request, strided_view<T, 1>(f.data(), {D}));
    double norm = 0.0;
    for (index_t d = 0; d < D; ++d) {
      const T x = f[static_cast<std::size_t>(d)];
      if (!std::isfinite(x))
        throw error("global_feature: expected finite values from the engine, found " + format_value(x) + " at entry " +
                    std::to_string(d) + " for class " + std::to_string(request.class_index));
      norm += static_cast<double>(x) * static_cast<double>(x);
    }
    if (!(norm > 0.0))
      throw error("global_feature: expected a feature of non-zero norm (cosine normalisation) from the engine, "
                  "found a zero vector for class " + std::to_string(request.class_index));
    tagclip_coarse(strided_view<const T, 2>(f.data(), {1, D}), text,
                   strided_view<T, 2>(probabilities.data_handle(), {1, K}, {K * probabilities.stride(0), probabilities.stride(0)}),
                   ws.global, coarse, execution_env{.threads = 1});
  }
};

// Rethrows an mlr::error of image b with the image named.
[[noreturn]] inline void rethrow_for_image(std::exception_ptr failure, index_t b) {
  try {
    std::rethrow_exception(std::move(failure));
  } catch (const error& e) {
    throw error("image " + std::to_string(b) + ": " + e.what());
  }
}

template <class T, class F>
constexpr void check_engine() {
  static_assert(std::invocable<F&, const crop_request<T>&, strided_view<T, 1>>,
                "mlr::tagclip_classify: global_feature must be callable as "
                "f(const mlr::crop_request<T>&, mlr::strided_view<T, 1> feature) and write the projected class-token "
                "feature [D] of the engine's second pass.");
}

}  // namespace detail

// One image: attn [L, 1 + N, 1 + N] or [L, N, N] (head-averaged first-pass maps), tokens
// [1 + N, D] or [N, D] (the projected tokens; a class token is dropped), text [K, D] (foreground
// rows first), N = grid.rows * grid.cols, num_foreground C in [1, K]. global_feature(const
// crop_request<T>&, strided_view<T, 1> feature [D]) runs the engine's second pass.
template <viewable A, viewable X, viewable Y, class F>
  requires(detail::rank_of<X> == 2)
void tagclip_classify(const A& attn, const X& tokens, const Y& text, const patch_grid& grid, index_t num_foreground,
                      F&& global_feature, tagclip_result<detail::element_of<A>>& out, tagclip_workspace& workspace,
                      const tagclip_classify_options& options = {}, const execution_env& env = {}) {
  using T = detail::element_of<A>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<X>> &&
                    std::is_same_v<T, detail::element_of<Y>>,
                "mlr::tagclip_classify: attn, tokens and text must hold the same element type, float or double.");
  static_assert(detail::rank_of<A> == 3 && detail::rank_of<Y> == 2,
                "mlr::tagclip_classify takes attn [L, 1 + N, 1 + N], tokens [1 + N, D] and text [K, D].");
  detail::check_engine<T, F>();
  const auto a = detail::scoring_input<T, 3>(attn, "attn");
  const auto x = detail::scoring_input<T, 2>(tokens, "tokens");
  const auto t = detail::scoring_input<T, 2>(text, "text");
  detail::check_tagclip_call(t, grid, num_foreground, options);
  workspace.workers.resize(std::max<std::size_t>(workspace.workers.size(), 1));
  workspace.plans.resize(std::max<std::size_t>(workspace.plans.size(), 1));
  detail::tagclip_plan(a, x, t, grid, num_foreground, options, out, workspace.workers[0], workspace.plans[0], env);
  detail::feature_engine<T, std::remove_reference_t<F>> engine{global_feature, t, options.coarse, workspace};
  detail::cwr_fuse(0, options.cwr, engine, out.cwr, workspace.plans[0], workspace.cwr.attention_mask<T>());
}

// A batch of B images: attn [B L, 1 + N, 1 + N] or [B L, N, N] (image b's L maps are rows
// [b L, (b + 1) L); views have rank 3 at most, and a contiguous [B, L, ...] array reshapes to
// this for free), tokens [B, 1 + N, D] or [B, N, D]; out is resized to B. Phase 1 runs the
// images in parallel (env.threads), the engine is called on the calling thread in (image,
// candidate) order. An error names its image (the first failing one).
template <viewable A, viewable X, viewable Y, class F>
  requires(detail::rank_of<X> == 3)
void tagclip_classify(const A& attn, const X& tokens, const Y& text, const patch_grid& grid, index_t num_foreground,
                      F&& global_feature, std::vector<tagclip_result<detail::element_of<A>>>& out,
                      tagclip_workspace& workspace, const tagclip_classify_options& options = {},
                      const execution_env& env = {}) {
  using T = detail::element_of<A>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<X>> &&
                    std::is_same_v<T, detail::element_of<Y>>,
                "mlr::tagclip_classify: attn, tokens and text must hold the same element type, float or double.");
  static_assert(detail::rank_of<A> == 3 && detail::rank_of<Y> == 2,
                "mlr::tagclip_classify takes a batch as attn [B L, 1 + N, 1 + N], tokens [B, 1 + N, D] and text [K, D].");
  detail::check_engine<T, F>();
  const auto a = detail::scoring_input<T, 3>(attn, "attn");
  const auto x = detail::scoring_input<T, 3>(tokens, "tokens");
  const auto t = detail::scoring_input<T, 2>(text, "text");
  detail::check_tagclip_call(t, grid, num_foreground, options);
  const index_t B = x.extent(0);
  if (a.extent(0) % B != 0)
    throw error("attn: expected B L maps (the L maps of each of the B = " + std::to_string(B) +
                " images of tokens, image after image), found " + std::to_string(a.extent(0)) + " maps");
  const index_t L = a.extent(0) / B;
  const auto images = static_cast<std::size_t>(B);
  out.resize(images);
  workspace.plans.resize(std::max(workspace.plans.size(), images));
  workspace.failures.assign(images, nullptr);

  // Phase 1: images in parallel, each on one thread (or, alone, on all of them).
  const unsigned threads = env.thread_count();
  const auto workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), images));
  const execution_env inner{.threads = workers > 1 ? 1u : threads};
  workspace.workers.resize(std::max<std::size_t>(workspace.workers.size(), workers));
  detail::parallel_for(images, workers, [&](std::size_t b, unsigned worker) {
    const auto i = static_cast<index_t>(b);
    const strided_view<const T, 3> attn_b(a.data_handle() + i * L * a.stride(0), {L, a.extent(1), a.extent(2)}, a.strides());
    const strided_view<const T, 2> tokens_b(x.data_handle() + i * x.stride(0), {x.extent(1), x.extent(2)},
                                            {x.stride(1), x.stride(2)});
    try {
      detail::tagclip_plan(attn_b, tokens_b, t, grid, num_foreground, options, out[b], workspace.workers[worker],
                           workspace.plans[b], inner);
    } catch (...) {
      workspace.failures[b] = std::current_exception();
    }
  });
  for (std::size_t b = 0; b < images; ++b)
    if (workspace.failures[b]) detail::rethrow_for_image(workspace.failures[b], static_cast<index_t>(b));

  // Phases 2 and 3 on the calling thread, image after image.
  detail::feature_engine<T, std::remove_reference_t<F>> engine{global_feature, t, options.coarse, workspace};
  for (std::size_t b = 0; b < images; ++b) {
    try {
      detail::cwr_fuse(static_cast<index_t>(b), options.cwr, engine, out[b].cwr, workspace.plans[b],
                       workspace.cwr.attention_mask<T>());
    } catch (const error&) {
      detail::rethrow_for_image(std::current_exception(), static_cast<index_t>(b));
    }
  }
}

template <viewable A, viewable X, viewable Y, class F>
  requires(detail::rank_of<X> == 2)
tagclip_result<detail::element_of<A>> tagclip_classify(const A& attn, const X& tokens, const Y& text,
                                                        const patch_grid& grid, index_t num_foreground,
                                                        F&& global_feature, const tagclip_classify_options& options = {},
                                                        const execution_env& env = {}) {
  tagclip_result<detail::element_of<A>> out;
  tagclip_workspace workspace;
  tagclip_classify(attn, tokens, text, grid, num_foreground, global_feature, out, workspace, options, env);
  return out;
}

template <viewable A, viewable X, viewable Y, class F>
  requires(detail::rank_of<X> == 3)
std::vector<tagclip_result<detail::element_of<A>>> tagclip_classify(const A& attn, const X& tokens, const Y& text,
                                                                     const patch_grid& grid, index_t num_foreground,
                                                                     F&& global_feature,
                                                                     const tagclip_classify_options& options = {},
                                                                     const execution_env& env = {}) {
  std::vector<tagclip_result<detail::element_of<A>>> out;
  tagclip_workspace workspace;
  tagclip_classify(attn, tokens, text, grid, num_foreground, global_feature, out, workspace, options, env);
  return out;
}

}  // namespace mlr

#pragma once
// TagCLIP's class-wise reidentification, CWR (METHOD.md 2.8-2.10): from the refined scores P2
// [N, K] (the DMAR output) and the local scores P_local [C], the candidates (foreground classes
// whose local score passes theta_1 = min P2 + mu1 (max P2 - min P2) over the whole matrix), for
// each a crop box around its responsive patches and the token and attention masks of the second
// CLIP pass; the engine's K-way probabilities g for the crop are fused with the local score,
// P_final = lambda P_local + (1 - lambda) g_k, and the labels follow from the per-image relative
// threshold. Reference mode stops CWR at the first degenerate box (that candidate and every later
// one keep P_local), as the official code; corrected mode skips that candidate only.
// The work is a plan (everything before the engine) and a fusion (the engine's calls, in
// candidate order), so that tagclip_classify plans many images in parallel and calls the engine
// on the calling thread only.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/refine/detail/cwr_plan.hpp"
#include "mlr/refine/detail/inputs.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/scoring/detail/inputs.hpp"

namespace mlr {

struct cwr_options {
  double mu1 = 0.5;           // candidates: P_local[k] > min P2 + mu1 (max P2 - min P2), over the whole N x K P2
  double mu2 = 0.5;           // region: minmax(P2[:, k]) > mu2 (strict)
  double lambda = 0.5;        // P_final = lambda P_local + (1 - lambda) g for reidentified candidates
  double mu = 0.5;            // labels: P_final > min + mu (max - min) per image (strict), METHOD.md 2.10
  index_t patch_size = 16;    // pixels per patch, for crop_request::pixels
  index_t crop_grid = 14;     // token grid of the second pass (224 / 16): token mask [14, 14]
  double mask_value = -1000;  // additive attention mask entry of row 0 for a dropped token
  tagclip_mode mode = tagclip_mode::reference;
};

// What the engine needs for one candidate's second pass. The views point into the workspace and
// are valid during the callback only.
template <class T>
struct crop_request {
  index_t image = 0;        // position in the batch (0 for one image)
  index_t class_index = 0;  // the candidate (a foreground column)
  patch_box box;            // patch units, half-open
  patch_box pixels;         // box.scaled(patch_size): rows [y0, y1), columns [x0, x1) of the h x w input
  strided_view<const std::uint8_t, 2> token_mask;  // [crop_grid, crop_grid], 1 = token kept (the cropped region, nearest resize)
  strided_view<const T, 2> attention_mask;         // [1 + crop_grid^2]^2: 0 except row 0 = mask_value at dropped tokens
};

template <class T>
struct cwr_result {
  tensor<T, 1> final_scores;               // [C] P_final
  std::vector<index_t> candidates;         // in increasing class index, fixed before any fusion
  std::vector<patch_box> boxes;            // boxes[i] = CWR box of candidates[i], for every candidate examined
  std::vector<std::uint8_t> reidentified;  // [candidates]: 1 if candidate i was fused with its global score
  tensor<T, 2> global_scores;              // [candidates, K]: the engine's probabilities (NaN rows: not asked)
  tensor<std::uint8_t, 1> labels;          // [C] relative threshold with mu (all-equal scores predict nothing)
};

namespace detail {

// What a plan leaves for its fusion besides the result: the token mask of every examined
// candidate.
struct cwr_plan_scratch {
  std::vector<std::uint8_t> region;       // [N] the responsive patches of the candidate examined
  std::vector<std::uint8_t> token_masks;  // [examined, crop_grid, crop_grid]
};

}  // namespace detail

// Reusable scratch of tagclip_reidentify: nothing is allocated once it has seen the largest
// shapes. One workspace serves float and double calls, one call at a time.
class cwr_workspace {
 public:
  detail::cwr_plan_scratch plan;

  // The attention mask buffer of the requests, [1 + crop_grid^2]^2.
  template <class T>
  std::vector<T>& attention_mask() noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if constexpr (std::is_same_v<T, float>) return mask_f32_;
    else return mask_f64_;
  }

 private:
  std::vector<float> mask_f32_;
  std::vector<double> mask_f64_;
};

namespace detail {

inline void check_unit_interval(double value, std::string_view name) {
  if (!(value >= 0.0 && value <= 1.0))
    throw error(std::string(name) + ": expected a value in [0, 1], found " + format_value(value));
}

inline void check_cwr_options(const cwr_options& o) {
  check_unit_interval(o.mu1, "mu1");
  check_unit_interval(o.mu2, "mu2");
  check_unit_interval(o.lambda, "lambda");
  check_unit_interval(o.mu, "mu");
  if (o.patch_size < 1) throw error("patch_size: expected a positive value, found " + std::to_string(o.patch_size));
  if (o.crop_grid < 1) throw error("crop_grid: expected a positive value, found " + std::to_string(o.crop_grid));
  if (!std::isfinite(o.mask_value)) throw error("mask_value: expected a finite value, found " + format_value(o.mask_value));
}

// num_foreground in [1, K] and the shapes of refined [N, K] (N from the grid) and local [C].
template <class T>
void check_cwr_inputs(const strided_view<const T, 2>& refined, const strided_view<const T, 1>& local,
                      const patch_grid& grid, index_t num_foreground) {
  check_grid(grid, refined.extent(0), "refined");
  const index_t K = refined.extent(1);
  if (num_foreground < 1 || num_foreground > K)
    throw error("num_foreground: expected a value in [1, K = " + std::to_string(K) + "] (K = refined columns), found " +
                std::to_string(num_foreground));
  if (local.extent(0) != num_foreground)
    throw error("local: expected shape " + format_index(std::array<index_t, 1>{num_foreground}) +
                " (num_foreground), found " + format_index(local.extents()));
  check_scores(refined, "refined", false);
  for (index_t k = 0; k < num_foreground; ++k)
    if (!std::isfinite(local(k)))
      throw error("local: expected finite scores, found " + format_value(local(k)) + " at " +
                  format_index(std::array<index_t, 1>{k}));
}

// Phase 1 on validated inputs: candidates, boxes and token masks (until the first degenerate box
// in reference mode); final scores start as P_local, global scores as NaN.
template <class T>
void cwr_plan(const strided_view<const T, 2>& refined, const strided_view<const T, 1>& local, const patch_grid& grid,
              const cwr_options& o, cwr_result<T>& out, cwr_plan_scratch& s) {
  const index_t C = local.extent(0), K = refined.extent(1), g = o.crop_grid;
  const double theta = cwr_candidate_threshold(refined, o.mu1);
  out.final_scores.resize({C});
  out.labels.resize({C});
  out.candidates.clear();
  for (index_t k = 0; k < C; ++k) {
    out.final_scores(k) = local(k);
    if (static_cast<double>(local(k)) > theta) out.candidates.push_back(k);
  }
  const auto count = out.candidates.size();
  out.reidentified.assign(count, 0);
  out.global_scores.resize({static_cast<index_t>(count), K}, std::numeric_limits<T>::quiet_NaN());
  out.boxes.clear();
  s.region.resize(static_cast<std::size_t>(grid.size()));
  s.token_masks.resize(count * static_cast<std::size_t>(g * g));
  for (std::size_t i = 0; i < count; ++i) {
    const patch_box box = cwr_region_box(refined, out.candidates[i], grid, o.mu2, o.mode, s.region.data());
    out.boxes.push_back(box);
    if (box.empty()) {
      if (o.mode == tagclip_mode::reference) return;  // the official code returns here (TC:classify.py:L90-91)
      continue;
    }
    cwr_token_mask(s.region.data(), grid, box, g, s.token_masks.data() + i * static_cast<std::size_t>(g * g));
  }
}

// Phase 2: for each examined candidate with a box, in order, asks the engine for its K
// probabilities, checks them and fuses; then the labels. Runs on the calling thread.
template <class T, class F>
void cwr_fuse(index_t image, const cwr_options& o, F& global_scores, cwr_result<T>& out, const cwr_plan_scratch& s,
              std::vector<T>& attention) {
  const index_t g = o.crop_grid, tokens = 1 + g * g, K = out.global_scores.extent(1);
  if (attention.size() != static_cast<std::size_t>(tokens * tokens)) attention.assign(static_cast<std::size_t>(tokens * tokens), T(0));
  crop_request<T> request;
  request.image = image;
  request.attention_mask = strided_view<const T, 2>(attention.data(), {tokens, tokens});
  for (std::size_t i = 0; i < out.boxes.size(); ++i) {
    if (out.boxes[i].empty()) continue;
    const index_t k = out.candidates[i];
    const std::uint8_t* mask = s.token_masks.data() + i * static_cast<std::size_t>(g * g);
    attention[0] = T(0);  // the class token attends to itself
    for (index_t j = 0; j < g * g; ++j) attention[static_cast<std::size_t>(1 + j)] = mask[j] ? T(0) : static_cast<T>(o.mask_value);
    request.class_index = k;
    request.box = out.boxes[i];
    request.pixels = out.boxes[i].scaled(o.patch_size);
    request.token_mask = strided_view<const std::uint8_t, 2>(mask, {g, g});
    const strided_view<T, 1> probabilities(out.global_scores.data() + static_cast<index_t>(i) * K, {K});
    global_scores(std::as_const(request), probabilities);
    for (index_t c = 0; c < K; ++c) {
      const T p = probabilities(c);
      if (!(p >= T(0) && p <= T(1)))
        throw error("global_scores: expected probabilities in [0, 1] from the engine, found " + format_value(p) +
                    " at entry " + std::to_string(c) + " for class " + std::to_string(k));
    }
    out.final_scores(k) = static_cast<T>(o.lambda * static_cast<double>(out.final_scores(k)) +
                                         (1.0 - o.lambda) * static_cast<double>(probabilities(k)));
    out.reidentified[i] = 1;
  }
  // Labels: P_final > min + mu (max - min), strict, in double (an all-equal row predicts nothing).
  const index_t C = out.final_scores.extent(0);
  double lo = static_cast<double>(out.final_scores(0)), hi = lo;
  for (index_t c = 1; c < C; ++c) {
    lo = std::min(lo, static_cast<double>(out.final_scores(c)));
    hi = std::max(hi, static_cast<double>(out.final_scores(c)));
  }
  const double bound = lo + o.mu * (hi - lo);
  for (index_t c = 0; c < C; ++c) out.labels(c) = static_cast<double>(out.final_scores(c)) > bound;
}

}  // namespace detail

// CWR of one image: refined [N, K] on `grid`, local [C] with C = num_foreground in [1, K],
// float or double. global_scores(const crop_request<T>&, strided_view<T, 1> probabilities [K])
// is the engine's second pass; it fills the K probabilities (each checked: finite, in [0, 1]).
template <viewable R, viewable L, class F>
void tagclip_reidentify(const R& refined, const L& local, const patch_grid& grid, index_t num_foreground,
                        F&& global_scores, cwr_result<detail::element_of<R>>& out, cwr_workspace& workspace,
                        const cwr_options& options = {}) {
  using T = detail::element_of<R>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<L>>,
                "mlr::tagclip_reidentify: refined and local must hold the same element type, float or double.");
  static_assert(detail::rank_of<R> == 2 && detail::rank_of<L> == 1,
                "mlr::tagclip_reidentify takes refined [N, K] and local [C].");
  static_assert(std::invocable<F&, const crop_request<T>&, strided_view<T, 1>>,
                "mlr::tagclip_reidentify: global_scores must be callable as "
                "f(const mlr::crop_request<T>&, mlr::strided_view<T, 1> probabilities).");
  detail::check_cwr_options(options);
  const auto p = detail::scoring_input<T, 2>(refined, "refined");
  const auto l = detail::scoring_input<T, 1>(local, "local");
  detail::check_cwr_inputs(p, l, grid, num_foreground);
  detail::cwr_plan(p, l, grid, options, out, workspace.plan);
  detail::cwr_fuse(0, options, global_scores, out, workspace.plan, workspace.attention_mask<T>());
}

template <viewable R, viewable L, class F>
cwr_result<detail::element_of<R>> tagclip_reidentify(const R& refined, const L& local, const patch_grid& grid,
                                                     index_t num_foreground, F&& global_scores,
                                                     const cwr_options& options = {}) {
  cwr_result<detail::element_of<R>> out;
  cwr_workspace workspace;
  tagclip_reidentify(refined, local, grid, num_foreground, global_scores, out, workspace, options);
  return out;
}

}  // namespace mlr

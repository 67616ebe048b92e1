#pragma once
// MKT/BiAM's ranking loss (METHOD.md 3.7): per image, the pairwise hinge
// h = max(0, margin + s_i - s_j) over (i negative, j positive), summed and divided by the number
// of violating pairs (h > 0) plus eps; the batch mean over all B images. The normaliser is a
// constant in the gradient. Computed in O(C log C) per image (detail/pairwise_hinge.hpp).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/detail/inputs.hpp"
#include "mlr/loss/detail/pairwise_hinge.hpp"
#include "mlr/loss/result.hpp"

namespace mlr {

// Defaults: MKT/BiAM's ranking_lossT (margin 1, eps 1e-8, the reference gradient at the margin,
// mean over images, signed labels +1/-1/0).
struct ranking_options {
  double margin = 1.0;
  double eps = 1e-8;  // the normaliser is (violating pairs + eps)
  // reference: a pair exactly on the margin passes gradient (h >= 0) though the normaliser counts
  // only h > 0 (1e8-scale gradients where no pair of its image violates); consistent: h > 0 for both.
  mlr::margin_rule margin_rule = mlr::margin_rule::reference;
  mlr::reduction reduction = mlr::reduction::mean;  // over all B images; sum: over images
  mlr::label_encoding encoding = mlr::label_encoding::signed_zero_ignored;
};

// Scratch of ranking_loss: pass the same one to every call (same thread count, sizes not
// growing) and steady-state calls allocate nothing. Not shared between concurrent calls.
class ranking_workspace {
 public:
  // Used by ranking_loss: scratch for `workers` workers and per-image results for `images`.
  void prepare(unsigned workers, index_t images) {
    if (scratch_.size() < workers) scratch_.resize(workers);
    image_loss_.resize(static_cast<std::size_t>(images));
  }
  detail::ranking_scratch& worker(unsigned w) noexcept { return scratch_[w]; }
  double& image_loss(index_t b) noexcept { return image_loss_[static_cast<std::size_t>(b)]; }

 private:
  std::vector<detail::ranking_scratch> scratch_;
  std::vector<double> image_loss_;
};

// scores [B, C] (float or double), targets [B, C] in options.encoding. Writes d loss / d scores
// into `gradient` ([B, C], the scores' element type; must not overlap the inputs) and returns the
// loss. Images without a positive-negative pair add 0 and still count in the mean.
template <viewable S, viewable Y, class G>
  requires viewable<std::remove_reference_t<G>>
double ranking_loss(const S& scores, const Y& targets, G&& gradient, ranking_workspace& workspace,
                    const ranking_options& options = {}, const execution_env& env = {}) {
  const auto s = detail::loss_input<2>(scores, "scores");
  const auto y = detail::loss_input<2>(targets, "targets");
  using T = typename decltype(s)::value_type;
  detail::check_loss_values(s, "scores");
  detail::check_loss_labels(y);
  detail::check_same_shape(s, "scores", y, "targets");
  const auto g = detail::gradient_output<T, 2>(gradient, s, "scores");
  detail::check_option(std::isfinite(options.margin), "margin", "a finite value", options.margin);
  detail::check_option(std::isfinite(options.eps) && options.eps > 0, "eps", "a finite value > 0", options.eps);
  const index_t B = s.extent(0), C = s.extent(1);
  const label_encoding encoding = options.encoding;
  const T margin = static_cast<T>(options.margin);
  const bool inclusive = options.margin_rule == margin_rule::reference;
  const double per_image = options.reduction == reduction::mean ? 1.0 / static_cast<double>(B) : 1.0;

  const index_t images_per_task = std::max<index_t>(1, (index_t{1} << 15) / C);
  const auto tasks = static_cast<std::size_t>((B + images_per_task - 1) / images_per_task);
  const unsigned workers = tasks > 1 ? static_cast<unsigned>(std::min<std::size_t>(env.thread_count(), tasks)) : 1u;
  workspace.prepare(workers, B);
  std::atomic<bool> bad{false};
  detail::parallel_for(tasks, workers, [&](std::size_t t, unsigned worker) {
    auto& w = workspace.worker(worker);
    const index_t begin = static_cast<index_t>(t) * images_per_task;
    const index_t end = std::min(B, begin + images_per_task);
    bool task_bad = false;
    for (index_t b = begin; b < end; ++b) {
      w.pos.clear();
      w.neg.clear();
      bool image_bad = false;
      for (index_t c = 0; c < C; ++c) {
        const T v = s(b, c);
        const label_state state = decode_label(y(b, c), encoding);
        image_bad |= !std::isfinite(v) || state == label_state::invalid;
        g(b, c) = T(0);
        if (state == label_state::positive) w.pos.push_back({static_cast<double>(v), c, 0});
        else if (state == label_state::negative) w.neg.push_back({static_cast<double>(static_cast<T>(margin + v)), c, 0});
      }
      double& loss = workspace.image_loss(b);
      loss = 0.0;
      task_bad |= image_bad;  // NaN keys must never reach the sort: the call reports the error instead
      if (image_bad || w.pos.empty() || w.neg.empty()) continue;
      const detail::hinge_sums h = detail::pairwise_hinge(w, inclusive);
      const double norm = static_cast<double>(h.violating) + options.eps;
      loss = h.sum / norm;
      const double step = per_image / norm;
      for (const auto& e : w.neg) g(b, e.col) = static_cast<T>(static_cast<double>(e.count) * step);
      for (const auto& e : w.pos) g(b, e.col) = static_cast<T>(-static_cast<double>(e.count) * step);
    }
    if (task_bad) bad.store(true, std::memory_order_relaxed);
  });
  if (bad.load()) detail::report_invalid(s, "scores", y, "targets", encoding);
  double total = 0.0;
  for (index_t b = 0; b < B; ++b) total += workspace.image_loss(b);  // image order: thread-count independent
  return total * per_image;
}

// The same with a workspace of its own (allocates; reuse a ranking_workspace in training loops).
template <viewable S, viewable Y, class G>
  requires viewable<std::remove_reference_t<G>>
double ranking_loss(const S& scores, const Y& targets, G&& gradient, const ranking_options& options = {},
                    const execution_env& env = {}) {
  ranking_workspace workspace;
  return ranking_loss(scores, targets, gradient, workspace, options, env);
}

// The same, returning the value and a new gradient tensor.
template <viewable S, viewable Y>
auto ranking_loss(const S& scores, const Y& targets, const ranking_options& options = {},
                  const execution_env& env = {}) {
  using T = std::remove_const_t<typename decltype(as_view(scores))::element_type>;
  const auto v = as_view(scores);
  loss_result<T, 2> r;
  r.gradient.resize({v.extent(0), v.extent(1)});
  r.value = ranking_loss(scores, targets, r.gradient, options, env);
  return r;
}

}  // namespace mlr

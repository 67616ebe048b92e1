#pragma once
// ASL, the sigmoid form of the ASL repository's AsymmetricLoss (METHOD.md 3.2, 3.5): per entry
// p = σ(x), negatives shifted by `clip` and weighted by the focusing weight (1 - pt)^gamma, logs
// clamped at `eps`. focal_weight::differentiable gives AsymmetricLossOptimized's gradient (3.3);
// the value is the same. Ignored labels (-1 canonical) contribute nothing.
#include <cmath>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/detail/asl_term.hpp"
#include "mlr/loss/detail/inputs.hpp"
#include "mlr/loss/result.hpp"

namespace mlr {

// Defaults: the ASL repository's AsymmetricLoss (gamma_neg 4, gamma_pos 1, clip 0.05, eps 1e-8,
// constant weight, sum). Its training script uses gamma_pos = 0.
struct asl_options {
  double gamma_neg = 4.0;
  double gamma_pos = 1.0;
  double clip = 0.05;  // <= 0: no shifting at all
  double eps = 1e-8;   // log(max(·, eps)); zero gradient below it
  mlr::focal_weight focal_weight = mlr::focal_weight::constant;
  mlr::reduction reduction = mlr::reduction::sum;  // mean: over the entries not ignored
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
};

// logits [B, C] (float or double), targets [B, C] (any label type, in options.encoding). Writes
// d loss / d logits into `gradient` ([B, C], the logits' element type; must not overlap the
// inputs) and returns the loss. All targets ignored: 0 and a zero gradient.
template <viewable X, viewable Y, class G>
  requires viewable<std::remove_reference_t<G>>
double asl_loss(const X& logits, const Y& targets, G&& gradient, const asl_options& options = {},
                const execution_env& env = {}) {
  const auto x = detail::loss_input<2>(logits, "logits");
  const auto y = detail::loss_input<2>(targets, "targets");
  using T = typename decltype(x)::value_type;
  detail::check_loss_values(x, "logits");
  detail::check_loss_labels(y);
  detail::check_same_shape(x, "logits", y, "targets");
  const auto g = detail::gradient_output<T, 2>(gradient, x, "logits");
  const auto a = detail::make_asl_params<T>(options);
  const label_encoding encoding = options.encoding;
  const index_t C = x.extent(1);

  const auto total = detail::sum_over_rows(x.extent(0), C, env, [&](index_t begin, index_t end) {
    detail::partial_sum part;
    for (index_t b = begin; b < end; ++b)
      for (index_t c = 0; c < C; ++c) {
        const T xv = x(b, c);
        const auto label = detail::decode_flags(y(b, c), encoding);
        part.bad |= !std::isfinite(xv) || !label.valid;
        const T p = T(1) / (T(1) + std::exp(-xv));
        const T q = T(1) - p;  // as the reference: 1 - σ(x), not σ(-x) (METHOD.md 3.2)
        const auto e = detail::asl_term(p, q, label.positive, a);
        const bool kept = label.positive || label.negative;
        part.value += kept ? static_cast<double>(e.value) : 0.0;
        part.count += kept;
        g(b, c) = kept ? e.slope : T(0);
      }
    return part;
  });
  if (total.bad) detail::report_invalid(x, "logits", y, "targets", encoding);
  if (options.reduction == reduction::sum || total.count == 0) return total.value;
  const T scale = static_cast<T>(1.0 / static_cast<double>(total.count));
  detail::scale_gradient(g, scale, env);
  return total.value / static_cast<double>(total.count);
}

// The same, returning the value and a new gradient tensor.
template <viewable X, viewable Y>
auto asl_loss(const X& logits, const Y& targets, const asl_options& options = {}, const execution_env& env = {}) {
  using T = std::remove_const_t<typename decltype(as_view(logits))::element_type>;
  const auto x = as_view(logits);
  loss_result<T, 2> r;
  r.gradient.resize({x.extent(0), x.extent(1)});
  r.value = asl_loss(logits, targets, r.gradient, options, env);
  return r;
}

}  // namespace mlr

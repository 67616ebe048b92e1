#pragma once
// DualCoOp's ASL on dual logits (METHOD.md 3.1, 3.5): per entry the softmax over the pair
// (negative logit, positive logit) gives p and q, then ASL with clip shifting of q, eps-clamped
// logs and the focusing weight; entries with an ignored label are dropped.
#include <array>
#include <cmath>
#include <string>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/detail/asl_term.hpp"
#include "mlr/loss/detail/inputs.hpp"
#include "mlr/loss/result.hpp"

namespace mlr {

// Defaults: what DualCoOp's trainer runs (gamma_neg 2, gamma_pos 1, clip 0.05, eps 1e-6,
// constant weight, sum); the class's own defaults are gamma_neg 4, gamma_pos 1.
struct asl_dual_options {
  double gamma_neg = 2.0;
  double gamma_pos = 1.0;
  double clip = 0.05;  // <= 0: no shifting at all
  double eps = 1e-6;
  mlr::focal_weight focal_weight = mlr::focal_weight::constant;
  mlr::reduction reduction = mlr::reduction::sum;  // mean: over the entries not ignored
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
};

// logits [B, 2, C] (index 0 negative, 1 positive; float or double), targets [B, C]. Writes
// d loss / d logits into `gradient` ([B, 2, C]; the two rows of an entry are opposite) and
// returns the loss. All targets ignored: 0 and a zero gradient.
template <viewable X, viewable Y, class G>
  requires viewable<std::remove_reference_t<G>>
double asl_dual_loss(const X& logits, const Y& targets, G&& gradient, const asl_dual_options& options = {},
                     const execution_env& env = {}) {
  const auto x = detail::loss_input<3>(logits, "logits");
  const auto y = detail::loss_input<2>(targets, "targets");
  using T = typename decltype(x)::value_type;
  detail::check_loss_values(x, "logits");
  detail::check_loss_labels(y);
  if (x.extent(1) != 2)
    throw error("logits: expected shape (B, 2, C) (index 0 negative, 1 positive), found " +
                detail::format_index(x.extents()));
  if (y.extent(0) != x.extent(0) || y.extent(1) != x.extent(2))
    throw error("targets: expected shape " + detail::format_index(std::array<index_t, 2>{x.extent(0), x.extent(2)}) +
                " (B, C of logits " + detail::format_index(x.extents()) + "), found " +
                detail::format_index(y.extents()));
  const auto g = detail::gradient_output<T, 3>(gradient, x, "logits");
  const auto a = detail::make_asl_params<T>(options);
  const label_encoding encoding = options.encoding;
  const index_t C = x.extent(2);

  const auto total = detail::sum_over_rows(x.extent(0), 2 * C, env, [&](index_t begin, index_t end) {
    detail::partial_sum part;
    for (index_t b = begin; b < end; ++b)
      for (index_t c = 0; c < C; ++c) {
        const T neg = x(b, 0, c), pos = x(b, 1, c);
        const auto label = detail::decode_flags(y(b, c), encoding);
        part.bad |= !std::isfinite(neg) || !std::isfinite(pos) || !label.valid;
        // softmax over the pair as torch forms it, exp(l - max) / sum: the larger logit's
        // exponential is exactly 1, so one exp serves both outputs, accurate for large gaps
        const T gap = pos - neg;
        const T e = std::exp(gap >= T(0) ? -gap : gap), sum = T(1) + e;
        const T p = (gap >= T(0) ? T(1) : e) / sum, q = (gap >= T(0) ? e : T(1)) / sum;
        const auto term = detail::asl_term(p, q, label.positive, a);
        const bool kept = label.positive || label.negative;
        part.value += kept ? static_cast<double>(term.value) : 0.0;
        part.count += kept;
        g(b, 1, c) = kept ? term.slope : T(0);
        g(b, 0, c) = kept ? -term.slope : T(0);
      }
    return part;
  });
  if (total.bad) detail::report_invalid(x, "logits", y, "targets", encoding);
  if (options.reduction == reduction::sum || total.count == 0) return total.value;
  const T scale = static_cast<T>(1.0 / static_cast<double>(total.count));
  detail::scale_gradient(g, scale, env);
  return total.value / static_cast<double>(total.count);
}

// The same, returning the value and a new gradient tensor [B, 2, C].
template <viewable X, viewable Y>
auto asl_dual_loss(const X& logits, const Y& targets, const asl_dual_options& options = {},
                   const execution_env& env = {}) {
  using T = std::remove_const_t<typename decltype(as_view(logits))::element_type>;
  const auto x = as_view(logits);
  loss_result<T, 3> r;
  r.gradient.resize({x.extent(0), x.extent(1), x.extent(2)});
  r.value = asl_dual_loss(logits, targets, r.gradient, options, env);
  return r;
}

}  // namespace mlr

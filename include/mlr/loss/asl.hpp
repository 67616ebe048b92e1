#pragma once
// ASL, the sigmoid form of the ASL repository's AsymmetricLoss (METHOD.md 3.2, 3.5): per entry
// p = σ(x), negatives shifted by `clip` and weighted by the focusing weight (1 - pt)^gamma, logs
// clamped at `eps`. focal_weight::differentiable gives AsymmetricLossOptimized's gradient (3.3);
// the value is the same. Ignored labels (-1 canonical) contribute nothing.
#include <cmath>
#include <type_traits>
#include <utility>

#include "mlr/core/as_view.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/detail/asl_term.hpp"
#include "mlr/loss/detail/inputs.hpp"
#include "mlr/loss/result.hpp"

namespace mlr {

namespace detail {

// p = σ(x) = 1 / (1 + e^-x) formed in T as torch forms it (in float, 1 + e^-x rounds to 1 and
// p to exactly 1 from x ≈ 16.6); q = 1 - p as the reference, not σ(-x) (METHOD.md 3.2)
template <class X, class Y, class G>
struct sigmoid_form {
  using T = typename G::value_type;
  X x;
  Y y;
  G g;
  label_encoding encoding;
  label_flags label(index_t b, index_t c) const { return decode_flags(y(b, c), encoding); }
  bool finite(index_t b, index_t c) const { return std::isfinite(x(b, c)); }
  double exp_argument(index_t b, index_t c, bool&) const { return finite(b, c) ? -static_cast<double>(x(b, c)) : 0.0; }
  static std::pair<T, T> probabilities(T e, bool) {
    const T p = T(1) / (T(1) + e);
    return {p, T(1) - p};
  }
  void store(index_t b, index_t c, T slope) const { g(b, c) = slope; }
};

}  // namespace detail

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
  const index_t C = x.extent(1);

  const detail::sigmoid_form<decltype(x), decltype(y), decltype(g)> form{x, y, g, options.encoding};
  const auto total = detail::sum_over_rows(x.extent(0), C, env, [&](index_t begin, index_t end) {
    return detail::asl_rows(begin, end, C, a, form);
  });
  if (total.bad) detail::report_invalid(x, "logits", y, "targets", options.encoding);
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

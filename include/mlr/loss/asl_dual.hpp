#pragma once
// DualCoOp's ASL on dual logits (METHOD.md 3.1, 3.5): per entry the softmax over the pair
// (negative logit, positive logit) gives p and q, then ASL with clip shifting of q, eps-clamped
// logs and the focusing weight; entries with an ignored label are dropped.
#include <array>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

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

namespace detail {

// softmax over the pair as torch forms it, exp(l - max) / sum in T: the larger logit's
// exponential is exactly 1, so one exp serves both outputs, accurate for large gaps
template <class X, class Y, class G>
struct pair_form {
  using T = typename G::value_type;
  X x;
  Y y;
  G g;
  label_encoding encoding;
  label_flags label(index_t b, index_t c) const { return decode_flags(y(b, c), encoding); }
  bool finite(index_t b, index_t c) const { return std::isfinite(x(b, 0, c)) && std::isfinite(x(b, 1, c)); }
  // flag: the positive logit is the larger one (its exponential is the 1)
  double exp_argument(index_t b, index_t c, bool& up) const {
    const T gap = x(b, 1, c) - x(b, 0, c);
    up = gap >= T(0);
    return finite(b, c) ? -std::abs(static_cast<double>(gap)) : 0.0;
  }
  static std::pair<T, T> probabilities(T e, bool up) {
    const T sum = T(1) + e;
    return {(up ? T(1) : e) / sum, (up ? e : T(1)) / sum};
  }
  void store(index_t b, index_t c, T slope) const {
    g(b, 1, c) = slope;
    g(b, 0, c) = -slope;
  }
};

}  // namespace detail

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
  const index_t C = x.extent(2);

  const detail::pair_form<decltype(x), decltype(y), decltype(g)> form{x, y, g, options.encoding};
  const auto total = detail::sum_over_rows(x.extent(0), 2 * C, env, [&](index_t begin, index_t end) {
    return detail::asl_rows(begin, end, C, a, form);
  });
  if (total.bad) detail::report_invalid(x, "logits", y, "targets", options.encoding);
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

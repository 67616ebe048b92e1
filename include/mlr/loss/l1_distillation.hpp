#pragma once
// MKT's first-stage distillation (METHOD.md 3.8): the mean absolute error between the student's
// and the teacher's embeddings (torch's l1_loss), with its gradient with respect to the student,
// sign(student - teacher) / (B·D), sign(0) = 0. The teacher is a constant.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "mlr/config.hpp"
#include "mlr/core/as_view.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/detail/inputs.hpp"
#include "mlr/loss/result.hpp"

namespace mlr {

namespace detail {

// One row: the gradient sign(s - t)·step (sign(0) = 0) and the sum of |s - t| in double, in a
// fixed order. Blocks of |s - t| go through a small buffer, so that each loop is simple enough
// to vectorise; the sum runs in four interleaved parts. `bad`: a difference is not finite.
template <class T>
MLR_FORCEINLINE double l1_row(const T* s, index_t ss, const T* t, index_t ts, T* g, index_t gs, index_t D, T step,
                              bool& bad) {
  constexpr index_t block = 256;
  T magnitude[block];
  double sums[4] = {};
  int nonfinite = 0;  // an int, not a bool: bool has no vector type
  for (index_t d0 = 0; d0 < D; d0 += block) {
    const index_t n = std::min(block, D - d0);
    for (index_t k = 0; k < n; ++k) {
      const index_t d = d0 + k;
      const T diff = s[d * ss] - t[d * ts];
      magnitude[k] = std::abs(diff);
      g[d * gs] = diff > T(0) ? step : diff < T(0) ? -step : T(0);
    }
    for (index_t k = 0; k < n; ++k) nonfinite |= !(magnitude[k] <= std::numeric_limits<T>::max());  // NaN, inf
    index_t k = 0;
    for (; k + 4 <= n; k += 4)
      for (index_t j = 0; j < 4; ++j) sums[j] += static_cast<double>(magnitude[k + j]);
    for (; k < n; ++k) sums[0] += static_cast<double>(magnitude[k]);
  }
  bad = bad || nonfinite != 0;
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

}  // namespace detail

struct l1_options {
  mlr::reduction reduction = mlr::reduction::mean;  // over all B·D elements, as MKT
};

// student [B, D], teacher [B, D], one floating element type. Writes d loss / d student into
// `gradient` ([B, D]; must not overlap the inputs) and returns the loss.
template <viewable S, viewable U, class G>
  requires viewable<std::remove_reference_t<G>>
double l1_distillation(const S& student, const U& teacher, G&& gradient, const l1_options& options = {},
                       const execution_env& env = {}) {
  const auto s = detail::loss_input<2>(student, "student");
  const auto t = detail::loss_input<2>(teacher, "teacher");
  using T = typename decltype(s)::value_type;
  static_assert(std::is_same_v<T, typename decltype(t)::value_type>,
                "mlr::l1_distillation: student and teacher must have the same element type (float or double).");
  detail::check_loss_values(s, "student");
  detail::check_same_shape(s, "student", t, "teacher");
  const auto g = detail::gradient_output<T, 2>(gradient, s, "student");
  const index_t D = s.extent(1);
  const double n = static_cast<double>(s.size());
  const T step = static_cast<T>(options.reduction == reduction::mean ? 1.0 / n : 1.0);

  const auto total = detail::sum_over_rows(s.extent(0), D, env, [&](index_t begin, index_t end) {
    detail::partial_sum part;
    for (index_t b = begin; b < end; ++b) {
      const T* sp = &s(b, 0);
      const T* tp = &t(b, 0);
      T* gp = &g(b, 0);
      if (s.stride(1) == 1 && t.stride(1) == 1 && g.stride(1) == 1)  // the common case, vectorised
        part.value += detail::l1_row(sp, 1, tp, 1, gp, 1, D, step, part.bad);
      else
        part.value += detail::l1_row(sp, s.stride(1), tp, t.stride(1), gp, g.stride(1), D, step, part.bad);
    }
    return part;
  });
  if (total.bad) {  // a non-finite input (or a difference beyond the type's range, which is no error)
    detail::check_finite(s, "student", execution_env{1});
    detail::check_finite(t, "teacher", execution_env{1});
  }
  return options.reduction == reduction::mean ? total.value / n : total.value;
}

// The same, returning the value and a new gradient tensor.
template <viewable S, viewable U>
auto l1_distillation(const S& student, const U& teacher, const l1_options& options = {},
                     const execution_env& env = {}) {
  using T = std::remove_const_t<typename decltype(as_view(student))::element_type>;
  const auto v = as_view(student);
  loss_result<T, 2> r;
  r.gradient.resize({v.extent(0), v.extent(1)});
  r.value = l1_distillation(student, teacher, r.gradient, options, env);
  return r;
}

}  // namespace mlr

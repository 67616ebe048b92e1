#pragma once
// The boundary of every loss: input views (host memory, one floating element type), the
// caller's gradient output (writable, the input's shape), option checks, the error naming the
// first bad entry (only on the error path), and the fixed row split of element-wise losses.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "mlr/config.hpp"
#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

// The host view of a floating input of `Rank`, for a loss named `loss` (static checks only).
template <std::size_t Rank, class X>
auto loss_input(const X& x, std::string_view name) {
  const auto v = as_view(x);
  using V = decltype(v);
  static_assert(V::rank() == Rank, "mlr loss: an input has the wrong rank (see the function's comment).");
  if constexpr (!on_host<V>) throw device_error(name);
  return v;
}

template <class V>
void check_loss_values(const V& v, std::string_view name) {
  static_assert(std::is_floating_point_v<typename V::value_type>, "mlr loss: inputs must hold float or double.");
  check_not_empty(v, name);
}

template <class V>
void check_loss_labels(const V&) {
  static_assert(is_supported_element_v<typename V::value_type>,
                "mlr loss: targets must hold int8, int32, int64, uint8, bool, float or double.");
}

// The caller's gradient output as a writable host view of element type T, shaped like `input`.
template <class T, std::size_t Rank, class G, class In>
strided_view<T, Rank> gradient_output(G& gradient, const In& input, std::string_view input_name) {
  static_assert(viewable<G>, "mlr loss: the gradient output must be something mlr::as_view accepts.");
  using V = decltype(as_view(gradient));
  static_assert(std::is_same_v<typename V::element_type, T>,
                "mlr loss: the gradient output must be a writable (non-const) tensor of the input's "
                "element type.");
  static_assert(V::rank() == Rank, "mlr loss: the gradient output must have the input's rank.");
  if constexpr (!on_host<V>) throw device_error("gradient");
  const strided_view<T, Rank> g = as_view(gradient);
  check_same_shape(input, input_name, g, "gradient");
  return g;
}

// The exact error for an input a kernel found invalid: first bad value, then first bad label.
template <class X, class Y>
[[noreturn]] void report_invalid(const X& x, std::string_view x_name, const Y& y, std::string_view y_name,
                                 label_encoding encoding) {
  check_finite(x, x_name, execution_env{1});
  check_labels(y, encoding, y_name, execution_env{1});
  throw error(std::string(x_name) + ": invalid input");  // unreachable: a kernel flagged something
}

inline void check_option(bool ok, std::string_view name, std::string_view expected, double found) {
  if (!ok)
    throw error(std::string(name) + ": expected " + std::string(expected) + ", found " + format_value(found));
}

// A label as flags, without data-dependent branches (labels vary from entry to entry).
struct label_flags {
  bool positive, negative, valid;
};
template <class L>
MLR_FORCEINLINE label_flags decode_flags(L v, label_encoding encoding) noexcept {
  if constexpr (std::is_same_v<L, bool>) {
    return {v, !v, true};
  } else {
    const bool one = v == L(1), zero = v == L(0);
    bool minus_one = false;
    if constexpr (std::is_signed_v<L>) minus_one = v == L(-1);
    const bool negative = encoding == label_encoding::canonical ? zero : minus_one;
    return {one, negative, one || zero || minus_one};
  }
}

// What a task of an element-wise loss adds up.
struct partial_sum {
  double value = 0.0;
  index_t count = 0;   // terms that count for reduction::mean
  bool bad = false;    // some value not finite or some label invalid
};

// f(row_begin, row_end) -> partial_sum over a fixed split of `rows` rows of `width` elements into
// at most 64 tasks; sums in task order, so the result never depends on the thread count.
template <class F>
partial_sum sum_over_rows(index_t rows, index_t width, const execution_env& env, F&& f) {
  constexpr index_t max_tasks = 64, grain = index_t{1} << 14;
  index_t rows_per_task = std::max<index_t>(1, grain / std::max<index_t>(width, 1));
  rows_per_task = std::max(rows_per_task, (rows + max_tasks - 1) / max_tasks);
  const auto tasks = static_cast<std::size_t>((rows + rows_per_task - 1) / rows_per_task);
  std::array<partial_sum, max_tasks> parts{};
  parallel_for(tasks, tasks > 1 ? env.thread_count() : 1u, [&](std::size_t t, unsigned) {
    const index_t begin = static_cast<index_t>(t) * rows_per_task;
    parts[t] = f(begin, std::min(rows, begin + rows_per_task));
  });
  partial_sum total;
  for (std::size_t t = 0; t < tasks; ++t) {
    total.value += parts[t].value;
    total.count += parts[t].count;
    total.bad = total.bad || parts[t].bad;
  }
  return total;
}

// g *= scale (reduction::mean), rank 2 or 3, on the same fixed row split.
template <class T, std::size_t Rank>
void scale_gradient(const strided_view<T, Rank>& g, T scale, const execution_env& env) {
  const index_t width = g.size() / g.extent(0);
  sum_over_rows(g.extent(0), width, env, [&](index_t begin, index_t end) {
    for (index_t b = begin; b < end; ++b) {
      if constexpr (Rank == 2) {
        for (index_t c = 0; c < g.extent(1); ++c) g(b, c) *= scale;
      } else {
        for (index_t k = 0; k < g.extent(1); ++k)
          for (index_t c = 0; c < g.extent(2); ++c) g(b, k, c) *= scale;
      }
    }
    return partial_sum{};
  });
}

}  // namespace mlr::detail

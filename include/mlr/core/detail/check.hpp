#pragma once
// Validation at the boundary: every public entry point checks its inputs here, then calls
// kernels that trust them. Messages name the argument, what was expected and what was found.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

template <class V>
inline constexpr bool on_host = is_host_accessible_v<typename V::memory_space>;

// Thrown where an algorithm without a device path is handed a device view.
inline error device_error(std::string_view name) {
  return error(std::string(name) +
               ": expected host memory, found a device tensor (the CUDA path is not available yet)");
}

template <class A, class B>
void check_same_shape(const A& a, std::string_view name_a, const B& b, std::string_view name_b) {
  static_assert(A::rank() == B::rank());
  if (a.extents() != b.extents())
    throw error(std::string(name_b) + ": expected shape " + format_index(a.extents()) + " (that of " +
                std::string(name_a) + "), found " + format_index(b.extents()));
}

template <class V>
void check_not_empty(const V& v, std::string_view name) {
  if (v.empty())
    throw error(std::string(name) + ": expected a non-empty tensor, found shape " +
                format_index(v.extents()));
}

// The first index, in row-major order, where pred(element) holds. Scans rows in parallel for
// large inputs; the answer does not depend on the thread count.
// For rank 2, `columns` (ascending; empty: all) restricts the search to those columns.
template <class V, class Pred>
std::optional<std::array<index_t, V::rank()>> first_index_where(const V& v, Pred pred, const execution_env& env,
                                                                std::span<const index_t> columns = {}) {
  constexpr std::size_t R = V::rank();
  using index_array = std::array<index_t, R>;
  if (v.empty()) return std::nullopt;
  const index_t rows = v.extent(0);
  const index_t per_row = v.size() / rows;
  const index_t rows_per_task = std::max<index_t>(1, (index_t{1} << 18) / std::max<index_t>(per_row, 1));
  const auto tasks = static_cast<std::size_t>((rows + rows_per_task - 1) / rows_per_task);
  std::vector<std::optional<index_array>> found(tasks);
  parallel_for(tasks, tasks > 1 ? env.thread_count() : 1u, [&](std::size_t t, unsigned) {
    const index_t begin = static_cast<index_t>(t) * rows_per_task;
    const index_t end = std::min(rows, begin + rows_per_task);
    for (index_t i = begin; i < end; ++i) {
      if constexpr (R == 1) {
        if (pred(v(i))) { found[t] = index_array{i}; return; }
      } else if constexpr (R == 2) {
        if (columns.empty()) {
          for (index_t j = 0; j < v.extent(1); ++j)
            if (pred(v(i, j))) { found[t] = index_array{i, j}; return; }
        } else {
          for (index_t j : columns)
            if (pred(v(i, j))) { found[t] = index_array{i, j}; return; }
        }
      } else {
        for (index_t j = 0; j < v.extent(1); ++j)
          for (index_t k = 0; k < v.extent(2); ++k)
            if (pred(v(i, j, k))) { found[t] = index_array{i, j, k}; return; }
      }
    }
  });
  for (auto& f : found)
    if (f) return f;
  return std::nullopt;
}

template <class V>
void check_finite(const V& v, std::string_view name, const execution_env& env = {},
                  std::span<const index_t> columns = {}) {
  using T = typename V::value_type;
  if constexpr (std::is_floating_point_v<T>) {
    if (auto at = first_index_where(v, [](T x) { return !std::isfinite(x); }, env, columns))
      throw error(std::string(name) + ": expected finite values, found " +
                  format_value(std::apply([&](auto... i) { return v(i...); }, *at)) + " at " +
                  format_index(*at));
  }
}

template <class V>
void check_labels(const V& v, label_encoding encoding, std::string_view name,
                  const execution_env& env = {}, std::span<const index_t> columns = {}) {
  using L = typename V::value_type;
  auto invalid = [encoding](L x) { return decode_label(x, encoding) == label_state::invalid; };
  if (auto at = first_index_where(v, invalid, env, columns)) {
    const bool canonical = encoding == label_encoding::canonical;
    throw error(std::string(name) + ": expected labels in the " +
                std::string(canonical ? "canonical encoding (1 positive, 0 negative, -1 ignored)"
                                      : "signed encoding (1 positive, -1 negative, 0 ignored)") +
                ", found " + format_value(std::apply([&](auto... i) { return v(i...); }, *at)) +
                " at " + format_index(*at));
  }
}

}  // namespace mlr::detail

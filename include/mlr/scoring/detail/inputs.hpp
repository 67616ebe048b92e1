#pragma once
// The boundary of the scoring functions: host views of the inputs with one floating element
// type, shape checks, and the row norms (cosine normalisation) that also find non-finite
// entries and zero vectors, naming the first one.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

template <class X>
using element_of = typename decltype(as_view(std::declval<const X&>()))::value_type;

template <class X>
inline constexpr std::size_t rank_of = decltype(as_view(std::declval<const X&>()))::rank();

// The read-only host view of input `name`, of element type T and rank R (checked by the caller's
// static_asserts), non-empty.
template <class T, std::size_t R, class X>
strided_view<const T, R> scoring_input(const X& x, std::string_view name) {
  const auto v = as_view(x);
  using V = decltype(v);
  if constexpr (!on_host<V>) {
    throw device_error(name);
  } else {
    const strided_view<const T, R> out(v);
    check_not_empty(out, name);
    return out;
  }
}

// The writable host view of output `name`, of shape `extents`.
template <class T, std::size_t R, class X>
strided_view<T, R> scoring_output(X& x, std::string_view name, const std::array<index_t, R>& extents) {
  auto v = as_view(x);
  using V = decltype(v);
  static_assert(std::is_same_v<typename V::element_type, T>,
                "mlr: an output must be a writable tensor of the inputs' element type (float or double).");
  static_assert(V::rank() == R, "mlr: an output has the wrong rank.");
  if constexpr (!on_host<V>) {
    throw device_error(name);
  } else {
    if (v.extents() != extents)
      throw error(std::string(name) + ": expected shape " + format_index(extents) + ", found " +
                  format_index(v.extents()));
    return v;
  }
}

// Throws unless `v` has `columns` columns (its last extent), naming `reference` as the source.
template <class V>
void check_width(const V& v, std::string_view name, index_t columns, std::string_view reference) {
  if (v.extent(V::rank() - 1) != columns) {
    auto expected = v.extents();
    expected[V::rank() - 1] = columns;
    throw error(std::string(name) + ": expected shape " + format_index(expected) + " (D = " +
                std::to_string(columns) + " from " + std::string(reference) + "), found " +
                format_index(v.extents()));
  }
}

inline void check_scale(double value, std::string_view name) {
  if (!std::isfinite(value))
    throw error(std::string(name) + ": expected a finite value, found " + format_value(value));
}

// The rows of a [R, D] or [B, L, D] view as (B L) x D: row r's index and its elements.
template <class E, std::size_t R>
struct row_access {
  strided_view<E, R> v;
  index_t rows() const noexcept { return R == 2 ? v.extent(0) : v.extent(0) * v.extent(1); }
  index_t width() const noexcept { return v.extent(R - 1); }
  index_t stride() const noexcept { return v.stride(R - 1); }
  E* row(index_t r) const noexcept {
    if constexpr (R == 2) return v.data_handle() + r * v.stride(0);
    else return v.data_handle() + (r / v.extent(1)) * v.stride(0) + (r % v.extent(1)) * v.stride(1);
  }
  std::array<index_t, R> index(index_t r, index_t d) const noexcept {
    if constexpr (R == 2) return {r, d};
    else return {r / v.extent(1), r % v.extent(1), d};
  }
  std::string row_name(index_t r) const {
    if constexpr (R == 2) return std::to_string(r);
    else return format_index(std::array<index_t, 2>{r / v.extent(1), r % v.extent(1)});
  }
};

// Euclidean norm of n elements at p with stride s, in double; inf or NaN when an element is not
// finite (a finite row whose squares overflow is rescaled).
template <class T>
double row_norm(const T* p, index_t n, index_t s) noexcept {
  // Eight partial sums: independent chains the compiler vectorises (one chain would serialise
  // on the add latency), combined in a fixed order.
  std::array<double, 8> part{};
  index_t d = 0;
  if (s == 1) {
    for (; d + 8 <= n; d += 8)
      for (int j = 0; j < 8; ++j) part[j] += static_cast<double>(p[d + j]) * static_cast<double>(p[d + j]);
  }
  for (; d < n; ++d) part[0] += static_cast<double>(p[d * s]) * static_cast<double>(p[d * s]);
  const double sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  if (std::isfinite(sum)) return std::sqrt(sum);
  double largest = 0.0;
  for (index_t d = 0; d < n; ++d) {
    const double x = std::abs(static_cast<double>(p[d * s]));
    if (!(x <= std::numeric_limits<double>::max())) return x;  // inf or NaN
    largest = std::max(largest, x);
  }
  double scaled = 0.0;
  for (index_t d = 0; d < n; ++d) {
    const double x = static_cast<double>(p[d * s]) / largest;
    scaled += x * x;
  }
  return largest * std::sqrt(scaled);
}

// inv[r] = 1 / norm of row r, for every row of `v` (threads over fixed row chunks). Throws
// mlr::error naming `name` and the first non-finite entry or zero row in row-major order.
template <class T, std::size_t R>
void inverse_row_norms(const strided_view<const T, R>& v, std::string_view name, T* inv, unsigned threads) {
  const row_access<const T, R> a{v};
  const index_t rows = a.rows(), width = a.width(), stride = a.stride();
  constexpr index_t chunk = 256;
  const auto tasks = static_cast<std::size_t>((rows + chunk - 1) / chunk);
  // Each task stops at its first bad row; the smallest of those is the first overall.
  std::atomic<index_t> first_bad{rows};
  parallel_for(tasks, rows * width > 65536 ? threads : 1u, [&](std::size_t t, unsigned) {
    const index_t begin = static_cast<index_t>(t) * chunk, end = std::min(rows, begin + chunk);
    for (index_t r = begin; r < end; ++r) {
      const double norm = row_norm(a.row(r), width, stride);
      if (!(norm > 0.0 && norm <= std::numeric_limits<double>::max())) {
        for (index_t seen = first_bad.load(std::memory_order_relaxed);
             r < seen && !first_bad.compare_exchange_weak(seen, r, std::memory_order_relaxed);) {
        }
        return;
      }
      inv[r] = static_cast<T>(1.0 / norm);
    }
  });
  if (const index_t r = first_bad.load(); r < rows) {
    const T* p = a.row(r);
    for (index_t d = 0; d < width; ++d)
      if (!std::isfinite(p[d * stride]))
        throw error(std::string(name) + ": expected finite values, found " + format_value(p[d * stride]) + " at " +
                    format_index(a.index(r, d)));
    throw error(std::string(name) + ": expected vectors of non-zero norm (cosine normalisation), found a zero " +
                "vector at row " + a.row_name(r));
  }
}

}  // namespace mlr::detail

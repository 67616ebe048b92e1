#pragma once
// Views over raw memory (a pointer, a shape and strides in elements) and over the standard
// contiguous containers (std::vector, std::array, std::span as rank-1 views).
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

struct row_major_t {};
struct column_major_t {};
inline constexpr row_major_t row_major{};
inline constexpr column_major_t column_major{};

namespace detail {
template <class T, std::size_t R>
void check_raw(const T* data, const std::array<index_t, R>& extents) {
  index_t size = 1;
  for (std::size_t r = 0; r < R; ++r) {
    if (extents[r] < 0)
      throw error("extents: expected non-negative extents, found " + format_index(extents));
    size *= extents[r];
  }
  if (data == nullptr && size > 0)
    throw error("data: expected a pointer to " + std::to_string(size) + " elements, found nullptr");
}
template <std::size_t R>
std::array<index_t, R> to_array(const index_t (&a)[R]) {
  std::array<index_t, R> out{};
  for (std::size_t r = 0; r < R; ++r) out[r] = a[r];
  return out;
}
}  // namespace detail

// make_view(p, {rows, cols}): row-major. make_view(p, {rows, cols}, column_major).
// make_view(p, {rows, cols}, {row_stride, col_stride}): any strides, in elements.
template <class T, std::size_t R>
strided_view<T, R> make_view(T* data, const index_t (&extents)[R], row_major_t = row_major) {
  const auto e = detail::to_array(extents);
  detail::check_raw(data, e);
  return {data, e};
}

template <class T, std::size_t R>
strided_view<T, R> make_view(T* data, const index_t (&extents)[R], column_major_t) {
  const auto e = detail::to_array(extents);
  detail::check_raw(data, e);
  std::array<index_t, R> s{};
  index_t step = 1;
  for (std::size_t r = 0; r < R; ++r) {
    s[r] = step;
    step *= e[r];
  }
  return {data, e, s};
}

template <class T, std::size_t R>
strided_view<T, R> make_view(T* data, const index_t (&extents)[R], const index_t (&strides)[R]) {
  const auto e = detail::to_array(extents);
  detail::check_raw(data, e);
  return {data, e, detail::to_array(strides)};
}

template <class T, class A>
struct view_traits<std::vector<T, A>> {
  static strided_view<T, 1> as_view(std::vector<T, A>& v) noexcept {
    static_assert(!std::is_same_v<T, bool>, "mlr::as_view: std::vector<bool> packs bits and has no "
                  "bool elements to view; use std::vector<std::uint8_t> (0/1 labels) instead.");
    if constexpr (!std::is_same_v<T, bool>) return {v.data(), {static_cast<index_t>(v.size())}};
    else return {};
  }
  static strided_view<const T, 1> as_view(const std::vector<T, A>& v) noexcept {
    static_assert(!std::is_same_v<T, bool>, "mlr::as_view: std::vector<bool> packs bits and has no "
                  "bool elements to view; use std::vector<std::uint8_t> (0/1 labels) instead.");
    if constexpr (!std::is_same_v<T, bool>) return {v.data(), {static_cast<index_t>(v.size())}};
    else return {};
  }
};

template <class T, std::size_t N>
struct view_traits<std::array<T, N>> {
  static strided_view<T, 1> as_view(std::array<T, N>& v) noexcept { return {v.data(), {index_t(N)}}; }
  static strided_view<const T, 1> as_view(const std::array<T, N>& v) noexcept {
    return {v.data(), {index_t(N)}};
  }
};

template <class T, std::size_t E>
inline constexpr bool enable_borrowed_view<std::span<T, E>> = true;

template <class T, std::size_t E>
struct view_traits<std::span<T, E>> {
  static strided_view<T, 1> as_view(const std::span<T, E>& v) noexcept {
    return {v.data(), {static_cast<index_t>(v.size())}};
  }
};

}  // namespace mlr

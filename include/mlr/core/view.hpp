#pragma once
// strided_view: the one tensor concept algorithms see. Shaped like std::mdspan with
// layout_stride (extents, strides in elements, a data handle), plus the memory space in the type.
#include <array>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include "mlr/config.hpp"
#include "mlr/core/memory_space.hpp"

namespace mlr {

using index_t = std::ptrdiff_t;

template <class T, std::size_t Rank, class Space = host_space>
class strided_view {
  static_assert(Rank >= 1 && Rank <= 3, "mlr::strided_view supports ranks 1 to 3.");
  static_assert(is_memory_space_v<Space>, "Space must be mlr::host_space or mlr::device_space.");
  static_assert(!std::is_reference_v<T>, "strided_view's element type cannot be a reference.");

 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using index_type = index_t;
  using data_handle_type = T*;
  using reference = T&;
  using memory_space = Space;
  using extents_type = std::array<index_type, Rank>;
  using strides_type = std::array<index_type, Rank>;

  constexpr strided_view() noexcept = default;

  // Precondition: extents are non-negative and every element addressed lies in one allocation.
  constexpr strided_view(T* data, const extents_type& extents, const strides_type& strides) noexcept
      : data_(data), extents_(extents), strides_(strides) {}

  // Row-major (C order) contiguous.
  constexpr strided_view(T* data, const extents_type& extents) noexcept
      : data_(data), extents_(extents), strides_(row_major_strides(extents)) {}

  // Adds const: strided_view<float, R> converts to strided_view<const float, R>.
  template <class U>
    requires(!std::is_same_v<U, T> && std::is_convertible_v<U (*)[], T (*)[]>)
  constexpr strided_view(const strided_view<U, Rank, Space>& other) noexcept
      : data_(other.data_handle()), extents_(other.extents()), strides_(other.strides()) {}

  static constexpr std::size_t rank() noexcept { return Rank; }
  constexpr data_handle_type data_handle() const noexcept { return data_; }
  constexpr index_type extent(std::size_t r) const noexcept { return extents_[r]; }
  constexpr index_type stride(std::size_t r) const noexcept { return strides_[r]; }
  constexpr const extents_type& extents() const noexcept { return extents_; }
  constexpr const strides_type& strides() const noexcept { return strides_; }

  constexpr index_type size() const noexcept {
    index_type n = 1;
    for (auto e : extents_) n *= e;
    return n;
  }
  constexpr bool empty() const noexcept { return size() == 0; }

  // Element access exists only where the memory is host-accessible.
  template <std::integral... I>
    requires(sizeof...(I) == Rank && is_host_accessible_v<Space>)
  MLR_FORCEINLINE constexpr reference operator()(I... idx) const noexcept {
    const std::array<index_type, Rank> i{static_cast<index_type>(idx)...};
    index_type offset = 0;
    for (std::size_t r = 0; r < Rank; ++r) offset += i[r] * strides_[r];
    return data_[offset];
  }

  static constexpr strides_type row_major_strides(const extents_type& extents) noexcept {
    strides_type s{};
    index_type step = 1;
    for (std::size_t r = Rank; r-- > 0;) {
      s[r] = step;
      step *= extents[r];
    }
    return s;
  }

 private:
  T* data_ = nullptr;
  extents_type extents_{};
  strides_type strides_{};
};

template <class V>
inline constexpr bool is_strided_view_v = false;
template <class T, std::size_t R, class S>
inline constexpr bool is_strided_view_v<strided_view<T, R, S>> = true;

// The view with rows and columns exchanged (a rank-2 transpose costs nothing).
template <class T, class S>
constexpr strided_view<T, 2, S> transpose(const strided_view<T, 2, S>& v) noexcept {
  return {v.data_handle(), {v.extent(1), v.extent(0)}, {v.stride(1), v.stride(0)}};
}

}  // namespace mlr

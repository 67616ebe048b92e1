#pragma once
// tensor<T, Rank>: a small owning, row-major, host array for the outputs the library allocates
// when the caller gives none. It is a view source (member as_view()), so every algorithm takes
// it; resize() keeps its memory, so reusing one tensor across calls allocates nothing in steady
// state.
#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

template <class T, std::size_t Rank>
class tensor {
 public:
  using value_type = T;
  using extents_type = std::array<index_t, Rank>;

  tensor() = default;
  explicit tensor(const extents_type& extents, T value = T{}) { resize(extents, value); }

  // New extents, reusing the memory when it is large enough; kept elements keep their values,
  // new ones are value-initialised (or `value`, which the second overload writes everywhere).
  void resize(const extents_type& extents) {
    index_t n = 1;
    for (index_t e : extents) {
      if (e < 0) throw error("tensor: extents must be non-negative");
      n *= e;
    }
    data_.resize(static_cast<std::size_t>(n));
    extents_ = extents;
  }
  void resize(const extents_type& extents, T value) {
    resize(extents);
    std::fill(data_.begin(), data_.end(), value);
  }

  static constexpr std::size_t rank() noexcept { return Rank; }
  index_t extent(std::size_t r) const noexcept { return extents_[r]; }
  const extents_type& extents() const noexcept { return extents_; }
  index_t size() const noexcept { return static_cast<index_t>(data_.size()); }
  T* data() noexcept { return data_.data(); }
  const T* data() const noexcept { return data_.data(); }

  strided_view<T, Rank> view() noexcept { return {data_.data(), extents_}; }
  strided_view<const T, Rank> view() const noexcept { return {data_.data(), extents_}; }
  strided_view<T, Rank> as_view() noexcept { return view(); }
  strided_view<const T, Rank> as_view() const noexcept { return view(); }

  template <std::integral... I>
    requires(sizeof...(I) == Rank)
  T& operator()(I... idx) noexcept {
    return view()(idx...);
  }
  template <std::integral... I>
    requires(sizeof...(I) == Rank)
  const T& operator()(I... idx) const noexcept {
    return view()(idx...);
  }

 private:
  std::vector<T> data_;
  extents_type extents_{};
};

}  // namespace mlr

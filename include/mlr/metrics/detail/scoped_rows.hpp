#pragma once
// The rows of a score / label pair restricted to the classes in scope, for kernels that walk
// every row over its classes (top-k, threshold metrics). Two layouts, one kernel source:
//   - dense: both tensors have unit-stride columns and the scope is every class or a contiguous
//     increasing block, so a row is a plain array the compiler vectorises over;
//   - strided: any strides and any class list, read through the list.
// Plus the branch-free per-entry tests those kernels fuse into their pass: a label decoded by
// compares in its own type, a score's finiteness, a score's order as an integer.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "mlr/config.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"

namespace mlr::detail {

// Finite, as one compare that vectorises (NaN fails it).
template <class T>
MLR_FORCEINLINE bool finite_score(T s) noexcept {
  return std::fabs(s) <= std::numeric_limits<T>::max();
}

// A finite score as a signed integer of the same order (integer max vectorises without
// -ffast-math; float max does not).
template <class T>
using order_key_t = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
template <class T>
MLR_FORCEINLINE order_key_t<T> order_key(T s) noexcept {
  using K = order_key_t<T>;
  const auto b = std::bit_cast<K>(s);
  return b ^ ((b >> (8 * sizeof(K) - 1)) & std::numeric_limits<K>::max());
}
template <class T>
T from_order_key(order_key_t<T> key) noexcept {  // the inverse: the map is an involution
  return std::bit_cast<T>(order_key<T>(std::bit_cast<T>(key)));
}

// The label values of an encoding in L's own type: 1 is positive, `negative` negative, `ignored`
// ignored, anything else invalid (as decode_label). A value L cannot hold (-1 when L is unsigned)
// is replaced by 1, which only repeats the positive test.
template <class L>
struct label_codes {
  L negative, ignored;

  explicit label_codes(label_encoding encoding) noexcept {
    const bool canonical = encoding == label_encoding::canonical || std::is_same_v<L, bool>;
    const L minus_one = std::is_signed_v<L> ? static_cast<L>(-1) : static_cast<L>(1);
    negative = canonical ? static_cast<L>(0) : minus_one;
    ignored = canonical ? minus_one : static_cast<L>(0);
  }
  MLR_FORCEINLINE bool positive(L y) const noexcept { return y == static_cast<L>(1); }
  // Positive or negative: an entry that takes part in the counts.
  MLR_FORCEINLINE bool counted(L y) const noexcept { return positive(y) | (y == negative); }
  MLR_FORCEINLINE bool valid(L y) const noexcept { return counted(y) | (y == ignored); }
};

// One row over the classes in scope: row[q] is the entry of the q-th class in scope.
template <class E, bool Dense>
struct scoped_row {
  const E* base;
  index_t stride;          // strided: the column stride
  const index_t* columns;  // strided: the classes in scope
  MLR_FORCEINLINE E operator[](index_t q) const noexcept {
    if constexpr (Dense) return base[q];
    else return base[columns[q] * stride];
  }
};

template <class T, class L, bool Dense>
class scoped_rows {
 public:
  static constexpr bool dense = Dense;
  using score_type = T;
  using label_type = L;

  // first: the first class of a dense block; columns: the classes of a strided scope.
  scoped_rows(score_view<T> s, label_view<L> l, index_t first, const index_t* columns, index_t width) noexcept
      : s_(s), l_(l), first_(first), columns_(columns), width_(width) {}

  index_t rows() const noexcept { return s_.extent(0); }
  index_t width() const noexcept { return width_; }
  // Class index of the q-th class in scope.
  index_t column(index_t q) const noexcept { return Dense ? first_ + q : columns_[q]; }
  scoped_row<T, Dense> scores(index_t i) const noexcept { return row(s_, i); }
  scoped_row<L, Dense> labels(index_t i) const noexcept { return row(l_, i); }

 private:
  template <class E>
  scoped_row<E, Dense> row(strided_view<const E, 2> v, index_t i) const noexcept {
    return {v.data_handle() + i * v.stride(0) + first_ * v.stride(1), v.stride(1), columns_};
  }

  score_view<T> s_;
  label_view<L> l_;
  index_t first_;
  const index_t* columns_;
  index_t width_;
};

// f(rows): dense rows where the layout allows, strided rows otherwise. Copies no data.
template <class T, class L, class F>
decltype(auto) with_scoped_rows(score_view<T> s, label_view<L> l, const class_scope& scope, F&& f) {
  const index_t width = scope.size();
  bool block = true;
  for (index_t q = 1; q < width && block; ++q) block = scope[q] == scope[0] + q;
  if (block && s.stride(1) == 1 && l.stride(1) == 1)
    return f(scoped_rows<T, L, true>(s, l, scope[0], nullptr, width));
  const std::vector<index_t> columns = scope.indices();
  return f(scoped_rows<T, L, false>(s, l, 0, columns.data(), width));
}

}  // namespace mlr::detail

#pragma once
// Views over Eigen dense objects that refer to memory: Matrix and Array, Map (with Stride,
// InnerStride or OuterStride), Ref, Block (row, col, segment...), Transpose and Diagonal of those,
// row- or column-major. mlr::as_view(x) gives
//   - a rank-1 view for compile-time vectors (one dimension fixed to 1): extent size(), stride
//     innerStride();
//   - a rank-2 view (rows, cols) otherwise, strides in elements: Eigen's innerStride() and
//     outerStride() map to (rows, cols) as (outer, inner) for row-major storage and (inner, outer)
//     for column-major storage.
// The element type is const where Eigen gives only const access: const objects, Map<const ...>,
// Ref<const ...>, blocks of const objects. Expressions that do not refer to memory (a + b,
// a.array().exp(), a * b) are refused with a static_assert: evaluate them first (.eval()).
//
// Eigen::Index is std::ptrdiff_t, the index type of mlr views, so nothing is narrowed.
#include <Eigen/Core>

#include <cstddef>
#include <type_traits>
#include <utility>

#include "mlr/core/as_view.hpp"
#include "mlr/core/memory_space.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

namespace detail {

// D of the Eigen::EigenBase<D> that X derives from: X itself for most types, the base expression
// for subclasses such as VectorBlock (a Block) or a user's class derived from Eigen::Matrix.
template <class D>
std::type_identity<D> eigen_base_probe(const Eigen::EigenBase<D>&);  // declared only
template <class X>
using eigen_derived_t = typename decltype(eigen_base_probe(std::declval<const X&>()))::type;

template <class X>
concept eigen_object = requires(const X& x) { eigen_base_probe(x); };

template <class X>
inline constexpr bool eigen_direct_access_v = [] {
  using D = eigen_derived_t<X>;
  if constexpr (requires { Eigen::internal::traits<D>::Flags; })
    return (static_cast<unsigned>(Eigen::internal::traits<D>::Flags) & Eigen::DirectAccessBit) != 0;
  else
    return false;
}();

// The view type of Y (X or const X): element type from Y::data(), rank from the compile-time shape.
// For expressions without memory (never produced: as_view stops at a static_assert) the type is
// still shaped like the expression, so that the static_assert is the only diagnostic.
template <class Y>
inline constexpr std::size_t eigen_rank = eigen_derived_t<std::remove_cv_t<Y>>::IsVectorAtCompileTime ? 1 : 2;
template <class Y, bool Direct = eigen_direct_access_v<std::remove_cv_t<Y>>>
struct eigen_view {
  using type = strided_view<const typename eigen_derived_t<std::remove_cv_t<Y>>::Scalar, eigen_rank<Y>>;
};
template <class Y>
struct eigen_view<Y, true> {
  using type = strided_view<std::remove_pointer_t<decltype(std::declval<Y&>().data())>, eigen_rank<Y>, host_space>;
};
template <class Y>
using eigen_view_t = typename eigen_view<Y>::type;

template <class Y>
eigen_view_t<Y> eigen_as_view(Y& x) {
  using X = std::remove_cv_t<Y>;
  using D = eigen_derived_t<X>;
  static_assert(eigen_direct_access_v<X>,
                "mlr::as_view: this Eigen object does not refer to memory: it is an expression "
                "(e.g. a + b, a.array().exp(), a * b) or a sparse matrix. Evaluate it first into a "
                "variable (auto m = expr.eval(); or Eigen::MatrixXf m = expr;) and view that.");
  if constexpr (eigen_direct_access_v<X>) {
    using V = eigen_view_t<Y>;
    if constexpr (V::rank() == 1) {
      return V(x.data(), {x.size()}, {x.innerStride()});
    } else {
      const index_t inner = x.innerStride(), outer = x.outerStride();
      if constexpr (D::IsRowMajor) return V(x.data(), {x.rows(), x.cols()}, {outer, inner});
      else return V(x.data(), {x.rows(), x.cols()}, {inner, outer});
    }
  } else {
    return {};
  }
}

}  // namespace detail

// Only Matrix and Array own their memory; Map, Ref, Block, Transpose... refer to memory they do
// not own, so views of temporaries of them stay valid.
template <class X>
  requires(detail::eigen_object<X> && !std::is_base_of_v<Eigen::PlainObjectBase<X>, X>)
inline constexpr bool enable_borrowed_view<X> = true;

template <class X>
  requires detail::eigen_object<X>
struct view_traits<X> {
  static detail::eigen_view_t<X> as_view(X& x) { return detail::eigen_as_view(x); }
  static detail::eigen_view_t<const X> as_view(const X& x) { return detail::eigen_as_view(x); }
};

}  // namespace mlr

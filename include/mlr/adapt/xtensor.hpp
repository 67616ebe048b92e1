#pragma once
// Views over strided xtensor expressions: xt::xtensor, xt::xtensor_fixed, xt::xarray, the
// adaptors returned by xt::adapt, and strided views (xt::view with integers, ranges and steps,
// xt::strided_view, xt::transpose): anything exposing data(), data_offset(), shape() and
// strides(). The first element is data() + data_offset(); strides are in elements (xtensor puts 0
// on size-1 dimensions, which is fine for a view).
//
// - Static rank (xtensor, xtensor_fixed, their adaptors and views): mlr::as_view(x).
// - Dynamic rank (xarray, xarray_adaptor, views over them): mlr::view_cast<T, Rank>(x), which
//   checks the rank at run time and throws mlr::error naming the rank found.
// The element type is const where xtensor gives only const access (const objects, adaptors of
// const pointers, views of const objects). Expressions without memory (a + b, xt::sin(a),
// broadcasts, views with xt::keep) are refused with a static_assert: evaluate them first
// (xt::eval(expr), or assign them to an xt::xtensor).
#include <xtensor/xexpression.hpp>
#include <xtensor/xstorage.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "mlr/core/as_view.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/memory_space.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

namespace detail {

template <class X>
concept xt_expression = xt::is_xexpression<X>::value;

// An xtensor expression laid out in memory with strides.
template <class X>
concept xt_strided = xt_expression<X> && requires(X& x) {
  { x.data() } -> std::convertible_to<const typename X::value_type*>;
  { x.data_offset() } -> std::convertible_to<std::size_t>;
  x.shape();
  x.strides();
};

// The rank of a shape type known at compile time, or -1.
template <class S>
inline constexpr std::ptrdiff_t xt_static_rank_of = -1;
template <class I, std::size_t N>
inline constexpr std::ptrdiff_t xt_static_rank_of<std::array<I, N>> = static_cast<std::ptrdiff_t>(N);
template <class I, std::size_t N>
inline constexpr std::ptrdiff_t xt_static_rank_of<xt::const_array<I, N>> = static_cast<std::ptrdiff_t>(N);
template <std::size_t... N>
inline constexpr std::ptrdiff_t xt_static_rank_of<xt::fixed_shape<N...>> =
    static_cast<std::ptrdiff_t>(sizeof...(N));
// The shape of a view taking integers at the front (row-major) or back (column-major).
template <class S, std::ptrdiff_t Start, std::ptrdiff_t End>
inline constexpr std::ptrdiff_t xt_static_rank_of<xt::sequence_view<S, Start, End>> =
    End >= 0 ? End - Start : (xt_static_rank_of<S> >= 0 ? xt_static_rank_of<S> - Start : -1);

template <class X>
inline constexpr std::ptrdiff_t xt_static_rank =
    xt_static_rank_of<std::remove_cvref_t<decltype(std::declval<const X&>().shape())>>;

// Y is X or const X; the element type follows what Y::data() gives.
template <class Y, bool Strided = xt_strided<std::remove_cv_t<Y>>>
struct xt_element {
  using type = const typename std::remove_cv_t<Y>::value_type;  // never produced
};
template <class Y>
struct xt_element<Y, true> {
  using type = std::remove_pointer_t<decltype(std::declval<Y&>().data())>;
};
template <class Y>
using xt_element_t = typename xt_element<Y>::type;

template <class X>
inline constexpr bool xt_static_rank_v = [] {
  if constexpr (xt_strided<X>) return xt_static_rank<X> >= 0;
  else return true;  // expressions: as_view exists only to explain that they need evaluating
}();

// The rank of as_view's result: X's static rank. For expressions without memory (never produced:
// as_view stops at a static_assert) the expression's rank where it is known, so that the
// static_assert is the only diagnostic.
template <class X>
constexpr std::size_t xt_view_rank() {
  if constexpr (xt_static_rank<X> >= 1 && xt_static_rank<X> <= 3) return static_cast<std::size_t>(xt_static_rank<X>);
  else return 2;
}

template <class X>
constexpr void xt_static_checks() {
  static_assert(xt_strided<X>,
                "mlr::as_view: this xtensor expression has no memory of its own (e.g. a + b, "
                "xt::sin(a), a broadcast, a view with xt::keep or xt::drop). Evaluate it first into "
                "a variable (auto e = xt::eval(expr); or xt::xtensor<float, 2> e = expr;) and view "
                "that.");
}

// The view of x, rank already known to be Rank.
template <class T, std::size_t Rank, class Y>
strided_view<T, Rank> xt_make_view(Y& x) {
  std::array<index_t, Rank> extents{}, strides{};
  const auto& shape = x.shape();
  const auto& xs = x.strides();
  for (std::size_t r = 0; r < Rank; ++r) {
    extents[r] = static_cast<index_t>(shape[r]);
    strides[r] = static_cast<index_t>(xs[r]);
  }
  return {x.data() + x.data_offset(), extents, strides};
}

}  // namespace detail

// Views (xt::view, xt::strided_view, xt::transpose) refer to memory they do not own; containers
// and adaptors may own theirs.
template <class X>
  requires(detail::xt_expression<X> && !std::is_base_of_v<xt::xcontainer<X>, X>)
inline constexpr bool enable_borrowed_view<X> = true;

template <class X>
  requires detail::xt_expression<X>
struct view_traits<X> {
  // Static rank: the view of rank X's rank.
  static strided_view<detail::xt_element_t<X>, detail::xt_view_rank<X>()> as_view(X& x)
    requires(detail::xt_static_rank_v<X>)
  {
    detail::xt_static_checks<X>();
    if constexpr (detail::xt_strided<X>)
      return detail::xt_make_view<detail::xt_element_t<X>, detail::xt_view_rank<X>()>(x);
    else
      return {};
  }
  static strided_view<detail::xt_element_t<const X>, detail::xt_view_rank<X>()> as_view(const X& x)
    requires(detail::xt_static_rank_v<X>)
  {
    detail::xt_static_checks<X>();
    if constexpr (detail::xt_strided<X>)
      return detail::xt_make_view<detail::xt_element_t<const X>, detail::xt_view_rank<X>()>(x);
    else
      return {};
  }

  // Any rank: checked at run time. Y is X or const X.
  template <class T, std::size_t Rank, class Space, class Y>
  static strided_view<T, Rank, Space> view_cast(Y& x) {
    detail::xt_static_checks<X>();
    static_assert(std::is_same_v<Space, host_space>, "mlr::view_cast: xtensor data lives in host memory.");
    if constexpr (detail::xt_strided<X>) {
      using E = detail::xt_element_t<Y>;
      static_assert(std::is_same_v<std::remove_cv_t<E>, std::remove_cv_t<T>>,
                    "mlr::view_cast: the xtensor expression holds a different element type.");
      static_assert(std::is_const_v<T> || !std::is_const_v<E>,
                    "mlr::view_cast: this xtensor expression gives only const access; ask for a "
                    "view of const elements.");
      if constexpr (detail::xt_static_rank<X> >= 0) {
        static_assert(detail::xt_static_rank<X> == static_cast<std::ptrdiff_t>(Rank),
                      "mlr::view_cast: the xtensor expression has a different rank.");
      } else if (x.shape().size() != Rank) {
        throw error("xtensor expression: expected rank " + std::to_string(Rank) + ", found rank " +
                    std::to_string(x.shape().size()));
      }
      return detail::xt_make_view<T, Rank>(x);
    } else {
      return {};
    }
  }
};

}  // namespace mlr

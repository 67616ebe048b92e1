#pragma once
// mlr::as_view — the customization point turning foreign tensors into strided_views — and
// mlr::view_cast, which asks for one exact view type (checked at run time for sources whose
// dtype, rank or device is dynamic: DLPack, xt::xarray, at::Tensor).
//
// Lookup order of as_view(x), first match wins:
//   1. x is already a strided_view;
//   2. a member x.as_view();
//   3. a free function as_view(x) found by argument-dependent lookup;
//   4. a specialisation mlr::view_traits<X> with a static as_view(x) (for types we cannot touch).
#include <cstddef>
#include <type_traits>
#include <utility>

#include "mlr/core/view.hpp"

namespace mlr {

// Specialise for foreign types. Static sources provide `static auto as_view(X&)`; dynamic
// sources provide `template <class T, std::size_t Rank, class Space> static strided_view<T, Rank,
// Space> view_cast(X&)` that validates dtype, rank and device and throws mlr::error otherwise.
template <class X>
struct view_traits;

// True for types that only refer to memory they do not own (std::span, Eigen::Map): a view of a
// temporary of such a type stays valid, so as_view accepts them as rvalues too.
template <class X>
inline constexpr bool enable_borrowed_view = false;

namespace detail::as_view_cpo {

void as_view() = delete;  // poison pill: only argument-dependent lookup finds user overloads

template <class V>
concept a_view = is_strided_view_v<std::remove_cvref_t<V>>;

template <class X>
concept has_member = requires(X& x) {
  { x.as_view() } -> a_view;
};
template <class X>
concept has_adl = requires(X& x) {
  { as_view(x) } -> a_view;
};
template <class X>
concept has_traits = requires(X& x) {
  { view_traits<std::remove_cv_t<X>>::as_view(x) } -> a_view;
};

struct fn {
  // Views and borrowed types may be temporaries; anything else must outlive the view, so it
  // must be an lvalue (as_view(Eigen::MatrixXf(...)) would dangle).
  template <class X>
    requires(a_view<X> || ((std::is_lvalue_reference_v<X> || enable_borrowed_view<std::remove_cvref_t<X>>) &&
                           (has_member<std::remove_reference_t<X>> || has_adl<std::remove_reference_t<X>> ||
                            has_traits<std::remove_reference_t<X>>)))
  constexpr auto operator()(X&& x) const {
    using Xr = std::remove_reference_t<X>;
    if constexpr (a_view<X>) return std::remove_cvref_t<X>(x);
    else if constexpr (has_member<Xr>) return x.as_view();
    else if constexpr (has_adl<Xr>) return as_view(x);
    else return view_traits<std::remove_cv_t<Xr>>::as_view(x);
  }
};

}  // namespace detail::as_view_cpo

inline namespace cpo {
inline constexpr detail::as_view_cpo::fn as_view{};
}

// Anything mlr::as_view accepts.
template <class X>
concept viewable = std::is_invocable_v<decltype(as_view), X&>;

template <class X, class T, std::size_t Rank, class Space>
concept dynamic_view_source = requires(X& x) {
  { view_traits<std::remove_cv_t<X>>::template view_cast<T, Rank, Space>(x) } ->
      std::same_as<strided_view<T, Rank, Space>>;
};

// The view of exactly type strided_view<T, Rank, Space> over `x`. For static sources a mismatch
// is a compile-time error; for dynamic sources it is an mlr::error naming what was found.
template <class T, std::size_t Rank, class Space = host_space, class X>
strided_view<T, Rank, Space> view_cast(X& x) {
  if constexpr (dynamic_view_source<X, T, Rank, Space>) {
    return view_traits<std::remove_cv_t<X>>::template view_cast<T, Rank, Space>(x);
  } else {
    static_assert(viewable<X>,
                  "mlr::view_cast: this type has no view; include the adapter header for it "
                  "(mlr/adapt/eigen.hpp, xtensor.hpp, dlpack.hpp, torch.hpp) or specialise "
                  "mlr::view_traits.");
    using V = decltype(as_view(x));
    static_assert(V::rank() == Rank, "mlr::view_cast: the source has a different rank.");
    static_assert(std::is_same_v<typename V::memory_space, Space>,
                  "mlr::view_cast: the source lives in a different memory space.");
    static_assert(std::is_convertible_v<typename V::element_type (*)[], T (*)[]>,
                  "mlr::view_cast: the source's element type differs (or is const where a "
                  "mutable view was asked for).");
    return strided_view<T, Rank, Space>(as_view(x));
  }
}

}  // namespace mlr

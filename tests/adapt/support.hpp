#pragma once
// Small helpers shared by the adapter tests.
#include <catch2/catch.hpp>

#include <cstddef>
#include <type_traits>

#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"
#include "support/matchers.hpp"

// `expr` throws mlr::error whose message contains `text`.
#define MLR_CHECK_ERROR(expr, text) \
  CHECK_THROWS_MATCHES(expr, mlr::error, mlr_test::message_contains(text))

namespace mlr_test {

// The view type V is exactly strided_view<T, Rank, Space>.
template <class V, class T, std::size_t Rank, class Space = mlr::host_space>
inline constexpr bool is_view_of = std::is_same_v<std::remove_cv_t<V>, mlr::strided_view<T, Rank, Space>>;

// The view has extents `e` and strides `s` (in elements) and starts at `p`.
template <class V, class P>
void require_layout(const V& v, const typename V::extents_type& e, const typename V::strides_type& s,
                    const P* p) {
  CHECK(v.extents() == e);
  CHECK(v.strides() == s);
  CHECK(static_cast<const void*>(v.data_handle()) == static_cast<const void*>(p));
}

}  // namespace mlr_test

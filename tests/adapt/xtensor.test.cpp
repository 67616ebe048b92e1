#include "mlr/adapt/xtensor.hpp"

#include <catch2/catch.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xstrided_view.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include <array>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "adapt/support.hpp"

namespace {

using mlr::index_t;
using mlr_test::is_view_of;
using mlr_test::require_layout;

template <class X>
using view_of = decltype(mlr::as_view(std::declval<X>()));

template <class E>
E iota_tensor(typename E::shape_type shape) {
  E e(shape);
  std::iota(e.begin(), e.end(), typename E::value_type(0));
  return e;
}

// Every element of the view is the expression's element at the same index.
template <class V, class E>
void require_same_elements(const V& v, const E& e) {
  REQUIRE(e.dimension() == V::rank());
  for (std::size_t r = 0; r < V::rank(); ++r) REQUIRE(v.extent(r) == static_cast<index_t>(e.shape()[r]));
  if constexpr (V::rank() == 1) {
    for (index_t i = 0; i < v.extent(0); ++i) CHECK(v(i) == e(i));
  } else if constexpr (V::rank() == 2) {
    for (index_t i = 0; i < v.extent(0); ++i)
      for (index_t j = 0; j < v.extent(1); ++j) CHECK(v(i, j) == e(i, j));
  } else {
    for (index_t i = 0; i < v.extent(0); ++i)
      for (index_t j = 0; j < v.extent(1); ++j)
        for (index_t k = 0; k < v.extent(2); ++k) CHECK(v(i, j, k) == e(i, j, k));
  }
}

using tensor_f = xt::xtensor<float, 2>;
using tensor_cm_d = xt::xtensor<double, 2, xt::layout_type::column_major>;

static_assert(is_view_of<view_of<tensor_f&>, float, 2>);
static_assert(is_view_of<view_of<const tensor_f&>, const float, 2>);
static_assert(is_view_of<view_of<xt::xtensor<std::int8_t, 1>&>, std::int8_t, 1>);
static_assert(is_view_of<view_of<xt::xtensor<bool, 3>&>, bool, 3>);
static_assert(is_view_of<view_of<xt::xtensor_fixed<double, xt::xshape<3, 4>>&>, double, 2>);
// Dynamic rank: only view_cast, which checks the rank at run time.
static_assert(!mlr::viewable<xt::xarray<float>>);
static_assert(mlr::viewable<xt::xtensor<float, 2>>);

}  // namespace

TEST_CASE("xtensor containers: row- and column-major, fixed, ranks 1 to 3", "[adapt][xtensor]") {
  SECTION("row-major") {
    tensor_f a = iota_tensor<tensor_f>({4, 6});
    const auto v = mlr::as_view(a);
    require_layout(v, {4, 6}, {6, 1}, a.data());
    require_same_elements(v, a);
    v(1, 2) = -3.0f;
    CHECK(a(1, 2) == -3.0f);
    const tensor_f& ca = a;
    const auto cv = mlr::as_view(ca);
    static_assert(is_view_of<decltype(cv), const float, 2>);
    require_layout(cv, {4, 6}, {6, 1}, a.data());
  }
  SECTION("column-major") {
    const tensor_cm_d a = iota_tensor<tensor_cm_d>({4, 6});
    const auto v = mlr::as_view(a);
    static_assert(is_view_of<decltype(v), const double, 2>);
    require_layout(v, {4, 6}, {1, 4}, a.data());
    require_same_elements(v, a);
  }
  SECTION("size-1 dimensions have stride 0") {
    tensor_f a = iota_tensor<tensor_f>({1, 5});
    const auto v = mlr::as_view(a);
    CHECK(v.extents() == std::array<index_t, 2>{1, 5});
    CHECK(v.stride(1) == 1);
    require_same_elements(v, a);
  }
  SECTION("xtensor_fixed") {
    xt::xtensor_fixed<double, xt::xshape<3, 4>> a;
    std::iota(a.begin(), a.end(), 0.0);
    require_layout(mlr::as_view(a), {3, 4}, {4, 1}, a.data());
    require_same_elements(mlr::as_view(a), a);
  }
  SECTION("rank 1 and rank 3") {
    xt::xtensor<std::int64_t, 1> a1 = iota_tensor<xt::xtensor<std::int64_t, 1>>({7});
    require_layout(mlr::as_view(a1), {7}, {1}, a1.data());
    auto a3 = iota_tensor<xt::xtensor<float, 3>>({2, 3, 4});
    require_layout(mlr::as_view(a3), {2, 3, 4}, {12, 4, 1}, a3.data());
    require_same_elements(mlr::as_view(a3), a3);
  }
  SECTION("view_cast of a static-rank tensor") {
    const tensor_f a = iota_tensor<tensor_f>({2, 3});
    const mlr::strided_view<const float, 2> v = mlr::view_cast<const float, 2>(a);
    require_layout(v, {2, 3}, {3, 1}, a.data());
  }
}

TEST_CASE("xt::xarray: dynamic rank through view_cast", "[adapt][xtensor]") {
  xt::xarray<double> a = iota_tensor<xt::xarray<double>>({3, 4});
  const auto v = mlr::view_cast<const double, 2>(a);
  require_layout(v, {3, 4}, {4, 1}, a.data());
  require_same_elements(v, a);
  const auto m = mlr::view_cast<double, 2>(a);
  m(2, 1) = 100.0;
  CHECK(a(2, 1) == 100.0);
  MLR_CHECK_ERROR((mlr::view_cast<const double, 3>(a)), "xtensor expression: expected rank 3, found rank 2");
  MLR_CHECK_ERROR((mlr::view_cast<const double, 1>(a)), "found rank 2");

  xt::xarray<float, xt::layout_type::dynamic> cm(std::vector<std::size_t>{3, 4}, xt::layout_type::column_major);
  std::iota(cm.begin(), cm.end(), 0.0f);
  const auto cv = mlr::view_cast<const float, 2>(cm);
  require_layout(cv, {3, 4}, {1, 3}, cm.data());
  require_same_elements(cv, cm);
}

TEST_CASE("xt::adapt results", "[adapt][xtensor]") {
  std::vector<float> data(12);
  std::iota(data.begin(), data.end(), 0.0f);
  SECTION("xtensor_adaptor over a pointer") {
    auto t = xt::adapt(data.data(), data.size(), xt::no_ownership(), std::array<std::size_t, 2>{3, 4});
    const auto v = mlr::as_view(t);
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {3, 4}, {4, 1}, data.data());
    require_same_elements(v, t);
  }
  SECTION("adaptor over a const pointer") {
    const float* p = data.data();
    auto t = xt::adapt(p, data.size(), xt::no_ownership(), std::array<std::size_t, 2>{4, 3});
    const auto v = mlr::as_view(t);
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {4, 3}, {3, 1}, data.data());
  }
  SECTION("column-major adaptor of a vector") {
    auto t = xt::adapt<xt::layout_type::column_major>(data, std::array<std::size_t, 2>{3, 4});
    require_layout(mlr::as_view(t), {3, 4}, {1, 3}, data.data());
    require_same_elements(mlr::as_view(t), t);
  }
  SECTION("xarray_adaptor: dynamic rank") {
    auto t = xt::adapt(data, std::vector<std::size_t>{2, 6});
    require_layout(mlr::view_cast<const float, 2>(t), {2, 6}, {6, 1}, data.data());
    MLR_CHECK_ERROR((mlr::view_cast<const float, 3>(t)), "found rank 2");
  }
}

TEST_CASE("xtensor strided views: ranges, steps, integers, transposes", "[adapt][xtensor]") {
  using namespace xt::placeholders;
  tensor_f a = iota_tensor<tensor_f>({8, 6});
  SECTION("ranges with steps") {
    auto s = xt::view(a, xt::range(1, 7, 2), xt::range(0, 6, 3));
    const auto v = mlr::as_view(s);
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {3, 2}, {12, 3}, &a(1, 0));
    require_same_elements(v, s);
  }
  SECTION("an integer drops a dimension") {
    auto row = xt::view(a, 2);
    require_layout(mlr::as_view(row), {6}, {1}, &a(2, 0));
    auto col = xt::view(a, xt::all(), 3);
    require_layout(mlr::as_view(col), {8}, {6}, &a(0, 3));
    require_same_elements(mlr::as_view(col), col);
  }
  SECTION("integers at the back of a column-major tensor") {
    tensor_cm_d c = iota_tensor<tensor_cm_d>({5, 4});
    auto col = xt::view(c, xt::all(), 2);
    require_layout(mlr::as_view(col), {5}, {1}, &c(0, 2));
    auto row = xt::view(c, 3, xt::all());
    require_layout(mlr::as_view(row), {4}, {5}, &c(3, 0));
    require_same_elements(mlr::as_view(row), row);
  }
  SECTION("views of an xarray have a dynamic rank") {
    xt::xarray<float> d = iota_tensor<xt::xarray<float>>({8, 6});
    auto s = xt::view(d, xt::range(0, 8, 4), xt::range(1, 4));
    static_assert(!mlr::viewable<decltype(s)>);
    require_layout(mlr::view_cast<const float, 2>(s), {2, 3}, {24, 1}, &d(0, 1));
    MLR_CHECK_ERROR((mlr::view_cast<const float, 1>(s)), "expected rank 1, found rank 2");
  }
  SECTION("negative steps") {
    auto r = xt::view(a, xt::range(5, _, -2), xt::all());
    const auto v = mlr::as_view(r);
    require_layout(v, {3, 6}, {-12, 1}, &a(5, 0));
    require_same_elements(v, r);
  }
  SECTION("a view of a view") {
    auto inner = xt::view(xt::view(a, xt::range(1, 8), xt::range(1, 6)), xt::range(0, 6, 3), xt::range(1, 3));
    const auto v = mlr::as_view(inner);
    require_layout(v, {2, 2}, {18, 1}, &a(1, 2));
    require_same_elements(v, inner);
  }
  SECTION("views of const tensors are const") {
    const tensor_f& ca = a;
    auto s = xt::view(ca, xt::range(0, 4), xt::all());
    const auto v = mlr::as_view(s);
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {4, 6}, {6, 1}, a.data());
  }
  SECTION("xt::transpose") {
    auto t = xt::transpose(a);
    const auto v = mlr::as_view(t);
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {6, 8}, {1, 6}, a.data());
    require_same_elements(v, t);
    auto tc = xt::transpose(xt::view(a, xt::range(2, 5), xt::range(1, 6, 2)));
    require_layout(mlr::as_view(tc), {3, 3}, {2, 6}, &a(2, 1));
    require_same_elements(mlr::as_view(tc), tc);
  }
  SECTION("xt::strided_view (dynamic rank)") {
    auto s = xt::strided_view(a, {xt::range(1, 7, 3), xt::all()});
    const auto v = mlr::view_cast<float, 2>(s);
    require_layout(v, {2, 6}, {18, 1}, &a(1, 0));
    require_same_elements(v, s);
    auto col = xt::strided_view(a, {xt::all(), 4});
    require_layout(mlr::view_cast<const float, 1>(col), {8}, {6}, &a(0, 4));
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(col)), "expected rank 2, found rank 1");
  }
  SECTION("an evaluated expression") {
    tensor_f b = iota_tensor<tensor_f>({8, 6});
    auto e = xt::eval(a + b);
    require_layout(mlr::as_view(e), {8, 6}, {6, 1}, e.data());
  }
}

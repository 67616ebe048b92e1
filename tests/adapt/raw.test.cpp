#include "mlr/adapt/raw.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include "adapt/support.hpp"

namespace {

using mlr::index_t;
using mlr_test::is_view_of;
using mlr_test::require_layout;

template <class X>
using view_of = decltype(mlr::as_view(std::declval<X>()));

static_assert(is_view_of<view_of<std::vector<float>&>, float, 1>);
static_assert(is_view_of<view_of<const std::vector<float>&>, const float, 1>);
static_assert(is_view_of<view_of<std::array<std::int8_t, 4>&>, std::int8_t, 1>);
static_assert(is_view_of<view_of<const std::array<std::int8_t, 4>&>, const std::int8_t, 1>);
static_assert(is_view_of<view_of<std::span<const double>>, const double, 1>);
static_assert(is_view_of<view_of<std::span<double, 3>&>, double, 1>);
static_assert(is_view_of<view_of<mlr::strided_view<const float, 2>&>, const float, 2>);
static_assert(!mlr::viewable<int>);
static_assert(!mlr::viewable<float*>);

}  // namespace

TEST_CASE("make_view: row-major, column-major, explicit strides", "[adapt][raw]") {
  std::vector<float> data(24);
  std::iota(data.begin(), data.end(), 0.0f);
  SECTION("row-major") {
    const auto v = mlr::make_view(data.data(), {4, 6});
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {4, 6}, {6, 1}, data.data());
    CHECK(v(2, 3) == 15.0f);
    require_layout(mlr::make_view(data.data(), {2, 3, 4}, mlr::row_major), {2, 3, 4}, {12, 4, 1}, data.data());
  }
  SECTION("column-major") {
    const auto v = mlr::make_view(data.data(), {4, 6}, mlr::column_major);
    require_layout(v, {4, 6}, {1, 4}, data.data());
    CHECK(v(2, 3) == 14.0f);
    require_layout(mlr::make_view(data.data(), {2, 3, 4}, mlr::column_major), {2, 3, 4}, {1, 2, 6}, data.data());
  }
  SECTION("explicit strides, padded and transposed") {
    const float* p = data.data();
    const auto v = mlr::make_view(p + 1, {3, 4}, {7, 1});
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {3, 4}, {7, 1}, p + 1);
    CHECK(v(2, 3) == 18.0f);
    const auto t = mlr::transpose(v);
    require_layout(t, {4, 3}, {1, 7}, p + 1);
    CHECK(t(3, 2) == 18.0f);
  }
  SECTION("rank 1") {
    require_layout(mlr::make_view(data.data(), {24}), {24}, {1}, data.data());
    require_layout(mlr::make_view(data.data(), {8}, {3}), {8}, {3}, data.data());
  }
  SECTION("a view passes through as_view unchanged") {
    const auto v = mlr::make_view(data.data(), {4, 6}, mlr::column_major);
    require_layout(mlr::as_view(v), {4, 6}, {1, 4}, data.data());
  }
}

TEST_CASE("make_view validates extents and data", "[adapt][raw]") {
  std::vector<double> data(6);
  MLR_CHECK_ERROR((mlr::make_view(data.data(), {3, -2})), "extents: expected non-negative extents, found (3, -2)");
  MLR_CHECK_ERROR((mlr::make_view(static_cast<double*>(nullptr), {2, 3})),
                  "data: expected a pointer to 6 elements, found nullptr");
  const auto empty = mlr::make_view(static_cast<const double*>(nullptr), {0, 3});
  CHECK(empty.empty());
}

TEST_CASE("standard contiguous containers are rank-1 views", "[adapt][raw]") {
  std::vector<float> v{1, 2, 3};
  const auto mv = mlr::as_view(v);
  require_layout(mv, {3}, {1}, v.data());
  mv(1) = 5.0f;
  CHECK(v[1] == 5.0f);
  const std::vector<float>& cv = v;
  require_layout(mlr::as_view(cv), {3}, {1}, v.data());

  std::array<std::int64_t, 4> a{1, 0, -1, 1};
  require_layout(mlr::as_view(a), {4}, {1}, a.data());
  const std::span<const std::int64_t> s(a.data() + 1, 2);
  require_layout(mlr::as_view(s), {2}, {1}, a.data() + 1);
}

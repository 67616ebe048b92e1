#include <catch2/catch.hpp>

#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/core/as_view.hpp"
#include "support/matchers.hpp"

using mlr_test::message_contains;
#include "mlr/core/view.hpp"

namespace {
struct has_member_view {
  std::array<float, 6> data{};
  mlr::strided_view<float, 2> as_view() { return {data.data(), {2, 3}}; }
};
}  // namespace

namespace user {
struct adl_source {
  double value = 1.5;
};
inline mlr::strided_view<const double, 1> as_view(const adl_source& s) { return {&s.value, {1}}; }
}  // namespace user

TEST_CASE("strided_view: row-major default, element access, const conversion", "[core][view]") {
  std::vector<int> storage{0, 1, 2, 3, 4, 5};
  mlr::strided_view<int, 2> v(storage.data(), {2, 3});
  CHECK(v.rank() == 2);
  CHECK(v.extent(0) == 2);
  CHECK(v.extent(1) == 3);
  CHECK(v.stride(0) == 3);
  CHECK(v.stride(1) == 1);
  CHECK(v.size() == 6);
  CHECK(v(1, 2) == 5);
  v(0, 1) = 42;
  CHECK(storage[1] == 42);
  mlr::strided_view<const int, 2> c = v;
  CHECK(c(0, 1) == 42);
  STATIC_REQUIRE(!std::is_convertible_v<mlr::strided_view<const int, 2>, mlr::strided_view<int, 2>>);
  STATIC_REQUIRE(std::is_same_v<decltype(c)::value_type, int>);
}

TEST_CASE("strided_view: transpose and negative strides address the same elements", "[core][view]") {
  std::vector<double> storage{0, 1, 2, 3, 4, 5};
  const mlr::strided_view<const double, 2> v(storage.data(), {2, 3});
  const auto t = mlr::transpose(v);
  CHECK(t.extent(0) == 3);
  CHECK(t.extent(1) == 2);
  for (mlr::index_t i = 0; i < 2; ++i)
    for (mlr::index_t j = 0; j < 3; ++j) CHECK(t(j, i) == v(i, j));
  const mlr::strided_view<const double, 1> reversed(storage.data() + 5, {6}, {-1});
  CHECK(reversed(0) == 5);
  CHECK(reversed(5) == 0);
}

TEST_CASE("strided_view: device views expose no element access", "[core][view]") {
  using device = mlr::strided_view<float, 2, mlr::device_space>;
  using host = mlr::strided_view<float, 2, mlr::host_space>;
  STATIC_REQUIRE(std::is_invocable_v<host, int, int>);
  STATIC_REQUIRE(!std::is_invocable_v<device, int, int>);
  STATIC_REQUIRE(!std::is_convertible_v<device, host>);
}

TEST_CASE("as_view: lookup order member, ADL, traits", "[core][as_view]") {
  has_member_view m;
  auto mv = mlr::as_view(m);
  STATIC_REQUIRE(std::is_same_v<decltype(mv), mlr::strided_view<float, 2>>);
  CHECK(mv.data_handle() == m.data.data());

  const user::adl_source a;
  auto av = mlr::as_view(a);
  CHECK(av(0) == 1.5);

  const std::vector<float> vec{1, 2, 3};
  auto vv = mlr::as_view(vec);
  STATIC_REQUIRE(std::is_same_v<decltype(vv), mlr::strided_view<const float, 1>>);
  CHECK(vv.extent(0) == 3);

  STATIC_REQUIRE(mlr::viewable<std::vector<int>>);
  STATIC_REQUIRE(!mlr::viewable<int>);
  // A temporary owner would leave the view dangling; a temporary borrowed type would not.
  STATIC_REQUIRE(!std::is_invocable_v<decltype(mlr::as_view), std::vector<float>&&>);
  STATIC_REQUIRE(std::is_invocable_v<decltype(mlr::as_view), std::span<float>&&>);
  STATIC_REQUIRE(std::is_invocable_v<decltype(mlr::as_view), mlr::strided_view<float, 2>&&>);
}

TEST_CASE("view_cast: adds const, keeps the data", "[core][as_view]") {
  std::vector<float> vec{1, 2, 3};
  auto v = mlr::view_cast<const float, 1>(vec);
  CHECK(v.data_handle() == vec.data());
  CHECK(v.extent(0) == 3);
}

TEST_CASE("make_view: layouts and validation", "[core][raw]") {
  std::vector<float> data(12);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  const auto rm = mlr::make_view(data.data(), {3, 4});
  CHECK(rm(2, 1) == 9);
  const auto cm = mlr::make_view(data.data(), {3, 4}, mlr::column_major);
  CHECK(cm.stride(0) == 1);
  CHECK(cm.stride(1) == 3);
  CHECK(cm(2, 1) == 5);
  const auto padded = mlr::make_view(data.data(), {3, 2}, {4, 2});
  CHECK(padded(2, 1) == 10);
  CHECK_THROWS_MATCHES(mlr::make_view(data.data(), {-1, 4}), mlr::error,
                       message_contains("extents: expected non-negative extents, found (-1, 4)"));
  CHECK_THROWS_MATCHES(mlr::make_view(static_cast<float*>(nullptr), {2, 2}), mlr::error,
                       message_contains("found nullptr"));
  CHECK_NOTHROW(mlr::make_view(static_cast<float*>(nullptr), {0, 2}));
}

// mlr::tensor: an owning row-major array that every algorithm takes through as_view, and whose
// resize() reuses memory (no allocation in steady state).
#include <catch2/catch.hpp>

#include "mlr/core/as_view.hpp"
#include "mlr/core/tensor.hpp"
#include "support/matchers.hpp"

TEST_CASE("tensor: row-major storage seen through as_view", "[core][tensor]") {
  mlr::tensor<float, 3> t({2, 3, 4}, 1.5f);
  CHECK(t.size() == 24);
  t(1, 2, 3) = 7.f;
  const auto v = mlr::as_view(t);
  STATIC_REQUIRE(std::is_same_v<decltype(v), const mlr::strided_view<float, 3>>);
  CHECK(v.stride(0) == 12);
  CHECK(v.stride(1) == 4);
  CHECK(v(1, 2, 3) == 7.f);
  CHECK(t.data()[23] == 7.f);
  CHECK(v(0, 0, 0) == 1.5f);
  const mlr::tensor<float, 3>& ct = t;
  STATIC_REQUIRE(std::is_same_v<decltype(mlr::as_view(ct)), mlr::strided_view<const float, 3>>);
}

TEST_CASE("tensor: resize keeps the memory when it fits", "[core][tensor]") {
  mlr::tensor<double, 2> t({8, 8});
  const double* before = t.data();
  t.resize({4, 16});
  CHECK(t.data() == before);
  t.resize({2, 3}, 0.25);
  CHECK(t.data() == before);
  CHECK(t.extent(0) == 2);
  CHECK(t(1, 2) == 0.25);
  CHECK_THROWS_MATCHES(t.resize({-1, 2}), mlr::error, mlr_test::message_contains("tensor: extents must be non-negative"));
}

#include "mlr/adapt/eigen.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "adapt/support.hpp"

namespace {

using mlr::index_t;
using mlr_test::is_view_of;
using mlr_test::require_layout;

using col_major_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using row_major_d = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class X>
using view_of = decltype(mlr::as_view(std::declval<X>()));

// Every element of the view is the Eigen object's element at the same index.
template <class V, class E>
void require_same_elements(const V& v, const E& e) {
  if constexpr (V::rank() == 1) {
    REQUIRE(v.extent(0) == e.size());
    for (index_t i = 0; i < v.extent(0); ++i) CHECK(v(i) == e(i));
  } else {
    REQUIRE(v.extent(0) == e.rows());
    REQUIRE(v.extent(1) == e.cols());
    for (index_t i = 0; i < v.extent(0); ++i)
      for (index_t j = 0; j < v.extent(1); ++j) CHECK(v(i, j) == e(i, j));
  }
}

template <class M>
M iota_matrix(index_t rows, index_t cols) {
  M m(rows, cols);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m(i, j) = static_cast<typename M::Scalar>(10 * i + j);
  return m;
}

// Rank and constness follow Eigen's compile-time shape and access level.
static_assert(is_view_of<view_of<col_major_f&>, float, 2>);
static_assert(is_view_of<view_of<const col_major_f&>, const float, 2>);
static_assert(is_view_of<view_of<Eigen::VectorXd&>, double, 1>);
static_assert(is_view_of<view_of<Eigen::RowVectorXf&>, float, 1>);
static_assert(is_view_of<view_of<Eigen::Matrix<std::int8_t, 3, 4>&>, std::int8_t, 2>);
static_assert(is_view_of<view_of<Eigen::Matrix<bool, Eigen::Dynamic, 1>&>, bool, 1>);
static_assert(is_view_of<view_of<Eigen::ArrayXXd&>, double, 2>);
static_assert(is_view_of<view_of<Eigen::Map<col_major_f>>, float, 2>);
static_assert(is_view_of<view_of<Eigen::Map<const col_major_f>>, const float, 2>);
static_assert(is_view_of<view_of<const Eigen::Map<col_major_f>&>, const float, 2>);
static_assert(is_view_of<view_of<Eigen::Ref<col_major_f>>, float, 2>);
static_assert(is_view_of<view_of<Eigen::Ref<const col_major_f>>, const float, 2>);
static_assert(is_view_of<view_of<Eigen::Block<col_major_f>>, float, 2>);
static_assert(is_view_of<view_of<Eigen::Block<const col_major_f>>, const float, 2>);
static_assert(is_view_of<view_of<decltype(std::declval<col_major_f&>().col(0))>, float, 1>);
static_assert(is_view_of<view_of<decltype(std::declval<const row_major_d&>().row(0))>, const double, 1>);
static_assert(is_view_of<view_of<decltype(std::declval<col_major_f&>().transpose())>, float, 2>);
static_assert(mlr::viewable<Eigen::MatrixXf>);
static_assert(mlr::viewable<const Eigen::Map<const Eigen::VectorXi>>);
static_assert(!mlr::viewable<Eigen::Index>);

}  // namespace

TEST_CASE("Eigen matrices: column- and row-major", "[adapt][eigen]") {
  SECTION("column-major") {
    col_major_f m = iota_matrix<col_major_f>(4, 6);
    const auto v = mlr::as_view(m);
    require_layout(v, {4, 6}, {1, 4}, m.data());
    require_same_elements(v, m);
    v(2, 3) = -1.0f;
    CHECK(m(2, 3) == -1.0f);
    const col_major_f& cm = m;
    require_layout(mlr::as_view(cm), {4, 6}, {1, 4}, m.data());
  }
  SECTION("row-major") {
    const row_major_d m = iota_matrix<row_major_d>(4, 6);
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), const double, 2>);
    require_layout(v, {4, 6}, {6, 1}, m.data());
    require_same_elements(v, m);
  }
  SECTION("fixed size") {
    Eigen::Matrix<float, 3, 5> m = iota_matrix<Eigen::Matrix<float, 3, 5>>(3, 5);
    require_layout(mlr::as_view(m), {3, 5}, {1, 3}, m.data());
    Eigen::Matrix<float, 3, 5, Eigen::RowMajor> r = m;
    require_layout(mlr::as_view(r), {3, 5}, {5, 1}, r.data());
    require_same_elements(mlr::as_view(r), m);
  }
  SECTION("a dynamic matrix with one row at run time stays rank 2") {
    col_major_f m = iota_matrix<col_major_f>(1, 5);
    require_layout(mlr::as_view(m), {1, 5}, {1, 1}, m.data());
  }
  SECTION("arrays") {
    Eigen::ArrayXXd a = iota_matrix<Eigen::ArrayXXd>(3, 2);
    require_layout(mlr::as_view(a), {3, 2}, {1, 3}, a.data());
    require_same_elements(mlr::as_view(a), a);
  }
  SECTION("classes derived from Eigen types") {
    struct scores_matrix : row_major_d {
      using row_major_d::row_major_d;
    };
    scores_matrix m = iota_matrix<row_major_d>(3, 4);
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), double, 2>);
    require_layout(v, {3, 4}, {4, 1}, m.data());
  }
  SECTION("view_cast checks the type statically") {
    const col_major_f m = iota_matrix<col_major_f>(2, 3);
    const mlr::strided_view<const float, 2> v = mlr::view_cast<const float, 2>(m);
    require_layout(v, {2, 3}, {1, 2}, m.data());
  }
}

TEST_CASE("Eigen vectors give rank-1 views", "[adapt][eigen]") {
  Eigen::VectorXd v(5);
  v << 1, 2, 3, 4, 5;
  require_layout(mlr::as_view(v), {5}, {1}, v.data());
  Eigen::RowVectorXf r(3);
  r << 1, 2, 3;
  require_layout(mlr::as_view(r), {3}, {1}, r.data());
  Eigen::Matrix<std::int8_t, 4, 1> f;
  f << 1, 0, -1, 1;
  require_layout(mlr::as_view(f), {4}, {1}, f.data());
  const Eigen::Array<std::int64_t, 1, Eigen::Dynamic> a = Eigen::Array<std::int64_t, 1, 3>(7, 8, 9);
  const auto av = mlr::as_view(a);
  static_assert(is_view_of<decltype(av), const std::int64_t, 1>);
  require_same_elements(av, a);
}

TEST_CASE("Eigen maps with strides", "[adapt][eigen]") {
  std::vector<float> buffer(64);
  std::iota(buffer.begin(), buffer.end(), 0.0f);
  float* p = buffer.data();
  SECTION("OuterStride, column-major") {
    Eigen::Map<col_major_f, 0, Eigen::OuterStride<>> m(p, 3, 4, Eigen::OuterStride<>(5));
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {3, 4}, {1, 5}, p);
    require_same_elements(v, m);
  }
  SECTION("OuterStride, row-major") {
    using R = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<const R, 0, Eigen::OuterStride<7>> m(p + 1, 3, 4);
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {3, 4}, {7, 1}, p + 1);
    require_same_elements(v, m);
  }
  SECTION("Stride<outer, inner>, both orders") {
    using S = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    Eigen::Map<col_major_f, 0, S> c(p, 3, 4, S(10, 2));
    require_layout(mlr::as_view(c), {3, 4}, {2, 10}, p);
    require_same_elements(mlr::as_view(c), c);
    using R = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<R, 0, S> r(p, 3, 4, S(10, 2));
    require_layout(mlr::as_view(r), {3, 4}, {10, 2}, p);
    require_same_elements(mlr::as_view(r), r);
  }
  SECTION("InnerStride on a vector") {
    Eigen::Map<const Eigen::VectorXf, 0, Eigen::InnerStride<3>> m(p + 2, 6);
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), const float, 1>);
    require_layout(v, {6}, {3}, p + 2);
    require_same_elements(v, m);
  }
  SECTION("a const Map object gives a const view") {
    const Eigen::Map<col_major_f> m(p, 4, 4);
    const auto v = mlr::as_view(m);
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {4, 4}, {1, 4}, p);
  }
}

TEST_CASE("Eigen blocks, rows, columns, transposes, diagonals and Refs", "[adapt][eigen]") {
  col_major_f c = iota_matrix<col_major_f>(6, 5);
  row_major_d r = iota_matrix<row_major_d>(6, 5);
  SECTION("blocks") {
    auto bc = c.block(1, 2, 3, 2);
    require_layout(mlr::as_view(bc), {3, 2}, {1, 6}, &c(1, 2));
    require_same_elements(mlr::as_view(bc), bc);
    require_layout(mlr::as_view(r.block(1, 2, 3, 2)), {3, 2}, {5, 1}, &r(1, 2));
    require_same_elements(mlr::as_view(r.block(1, 2, 3, 2)), r.block(1, 2, 3, 2));
    const auto fixed = mlr::as_view(c.block<2, 3>(4, 1));
    require_layout(fixed, {2, 3}, {1, 6}, &c(4, 1));
    const col_major_f& cc = c;
    static_assert(is_view_of<decltype(mlr::as_view(cc.block(0, 0, 2, 2))), const float, 2>);
    // A block of a block.
    auto inner = c.block(1, 1, 4, 4).block(1, 1, 2, 2);
    require_layout(mlr::as_view(inner), {2, 2}, {1, 6}, &c(2, 2));
  }
  SECTION("rows and columns are rank-1 views") {
    require_layout(mlr::as_view(c.col(3)), {6}, {1}, &c(0, 3));
    require_layout(mlr::as_view(c.row(2)), {5}, {6}, &c(2, 0));
    require_layout(mlr::as_view(r.col(3)), {6}, {5}, &r(0, 3));
    require_layout(mlr::as_view(r.row(2)), {5}, {1}, &r(2, 0));
    require_same_elements(mlr::as_view(r.col(3)), r.col(3));
    require_layout(mlr::as_view(c.col(1).segment(2, 3)), {3}, {1}, &c(2, 1));
    require_layout(mlr::as_view(c.middleCols(1, 3)), {6, 3}, {1, 6}, &c(0, 1));
  }
  SECTION("transposes") {
    const auto t = mlr::as_view(c.transpose());
    static_assert(is_view_of<decltype(t), float, 2>);
    require_layout(t, {5, 6}, {6, 1}, c.data());
    require_same_elements(t, c.transpose());
    require_layout(mlr::as_view(r.transpose()), {5, 6}, {1, 5}, r.data());
    require_layout(mlr::as_view(c.block(1, 2, 3, 2).transpose()), {2, 3}, {6, 1}, &c(1, 2));
    require_same_elements(mlr::as_view(r.transpose()), r.transpose());
  }
  SECTION("diagonals") {
    const auto d = mlr::as_view(c.diagonal());
    require_layout(d, {5}, {7}, c.data());
    require_same_elements(d, c.diagonal());
  }
  SECTION("Refs") {
    Eigen::Ref<col_major_f> ref = c.block(1, 1, 3, 3);
    require_layout(mlr::as_view(ref), {3, 3}, {1, 6}, &c(1, 1));
    Eigen::Ref<const col_major_f> cref = c.middleCols(2, 2);
    const auto cv = mlr::as_view(cref);
    static_assert(is_view_of<decltype(cv), const float, 2>);
    require_layout(cv, {6, 2}, {1, 6}, &c(0, 2));
    Eigen::Ref<const row_major_d, 0, Eigen::OuterStride<>> rref = r.block(2, 1, 2, 3);
    require_layout(mlr::as_view(rref), {2, 3}, {5, 1}, &r(2, 1));
    Eigen::Ref<Eigen::VectorXf, 0, Eigen::InnerStride<>> vref = c.row(1);
    require_layout(mlr::as_view(vref), {5}, {6}, &c(1, 0));
  }
}

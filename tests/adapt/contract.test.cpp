// The adapter contract (see contract.hpp): mean_average_precision through every adapter, float and
// double scores, labels of several element types, against the naive reference.
#include "adapt/contract.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mlr/adapt/raw.hpp"

#ifdef MLR_TEST_HAS_EIGEN
#include "mlr/adapt/eigen.hpp"
#endif
#ifdef MLR_TEST_HAS_XTENSOR
#include <xtensor/xarray.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "mlr/adapt/xtensor.hpp"
#endif
#ifdef MLR_TEST_HAS_DLPACK
#include "adapt/dlpack_support.hpp"
#include "mlr/adapt/dlpack.hpp"
#endif

namespace {

using mlr_test::contract_problem;
using mlr_test::invalid_label;
using mlr_test::label_getter;
using mlr_test::nan_padding;
using mlr_test::score_getter;
using mlr_test::strided_copy;
constexpr std::ptrdiff_t N = contract_problem::rows, C = contract_problem::cols;
constexpr auto NC = static_cast<std::size_t>(N * C);

// Adapters hold their storage and views into it: never copied or moved.
struct pinned {
  pinned() = default;
  pinned(const pinned&) = delete;
  pinned& operator=(const pinned&) = delete;
};

// The problem's labels as bools (std::vector<bool> has no bool elements), strided like strided_copy.
std::unique_ptr<bool[]> bool_copy(std::ptrdiff_t row_stride, std::ptrdiff_t col_stride) {
  const std::vector<std::uint8_t> bytes = strided_copy<std::uint8_t>(label_getter<std::uint8_t>(), row_stride,
                                                                      col_stride, 0, NC, 0);
  auto out = std::make_unique<bool[]>(NC);
  for (std::size_t k = 0; k < NC; ++k) out[k] = bytes[k] != 0;
  return out;
}

}  // namespace

TEST_CASE("the naive reference reproduces worked examples", "[adapt][contract]") {
  namespace naive = mlr_test::naive;
  // scikit-learn's documented example: average_precision_score([0, 0, 1, 1], [.1, .4, .35, .8]).
  CHECK(naive::average_precision({.1, .4, .35, .8}, {0, 0, 1, 1}) == Approx(0.8333333333333333).epsilon(1e-15));
  // Ties are one threshold: precision 2/3 at recall 1.
  CHECK(naive::average_precision({.5, .5, .5, .1}, {1, 0, 1, 0}) == Approx(2.0 / 3.0).epsilon(1e-15));
  // Ignored entries take no part; no positive gives NaN.
  CHECK(naive::average_precision({.9, .5, .5, .1}, {-1, 0, 1, 0}) == Approx(0.5).epsilon(1e-15));
  CHECK(std::isnan(naive::average_precision({.9, .1}, {0, -1})));
  // Two classes, one empty: macro 0.5 (zero) or 1 (exclude); weighted and micro ignore the policy.
  const naive::map_reference r(2, 2, {.9, .1, .2, .3}, {1, 0, 0, 0});
  CHECK(r.expected(mlr::average::macro, mlr::empty_class::zero) == 0.5);
  CHECK(r.expected(mlr::average::macro, mlr::empty_class::exclude) == 1.0);
  CHECK(r.expected(mlr::average::weighted, mlr::empty_class::zero) == 1.0);
  CHECK(r.expected(mlr::average::micro, mlr::empty_class::exclude) == 1.0);
  CHECK(r.expected(mlr::average::samples, mlr::empty_class::zero) == 0.5);
  CHECK(r.expected(mlr::average::samples, mlr::empty_class::exclude) == 1.0);
}

namespace {

// ---- raw memory -------------------------------------------------------------------------------

template <class T>
struct raw_row_major : pinned {
  using label_type = std::int8_t;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), C, 1, 0, NC, nan_padding<T>);
  std::vector<label_type> l = strided_copy<label_type>(label_getter<label_type>(), C, 1, 0, NC, invalid_label<label_type>);
  explicit raw_row_major(const contract_problem&) {}
  auto scores() const { return mlr::make_view(s.data(), {N, C}); }
  auto labels() const { return mlr::make_view(l.data(), {N, C}); }
};

template <class T>
struct raw_column_major : pinned {
  using label_type = std::int64_t;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), 1, N, 0, NC, nan_padding<T>);
  std::vector<label_type> l = strided_copy<label_type>(label_getter<label_type>(), 1, N, 0, NC, invalid_label<label_type>);
  explicit raw_column_major(const contract_problem&) {}
  auto scores() const { return mlr::make_view(s.data(), {N, C}, mlr::column_major); }
  auto labels() const { return mlr::make_view(l.data(), {N, C}, mlr::column_major); }
};

// Rows padded with values that must never be read, and an offset first element.
template <class T>
struct raw_padded : pinned {
  using label_type = float;
  static constexpr std::ptrdiff_t score_row = C + 5, label_row = C + 2;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), score_row, 1, 3, static_cast<std::size_t>(3 + N * score_row), nan_padding<T>);
  std::vector<label_type> l = strided_copy<label_type>(label_getter<label_type>(), label_row, 1, 1,
                                                       static_cast<std::size_t>(1 + N * label_row), invalid_label<label_type>);
  explicit raw_padded(const contract_problem&) {}
  auto scores() const { return mlr::make_view(s.data() + 3, {N, C}, {score_row, 1}); }
  auto labels() const { return mlr::make_view(l.data() + 1, {N, C}, {label_row, 1}); }
};

// Stored C x N (class-major), viewed N x C through mlr::transpose.
template <class T>
struct raw_transposed : pinned {
  using label_type = bool;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), 1, N, 0, NC, nan_padding<T>);
  std::unique_ptr<bool[]> l = bool_copy(1, N);
  explicit raw_transposed(const contract_problem&) {}
  auto scores() const { return mlr::transpose(mlr::make_view(s.data(), {C, N})); }
  auto labels() const { return mlr::transpose(mlr::make_view(static_cast<const bool*>(l.get()), {C, N})); }
};

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("contract: mean_average_precision through raw views equals the naive reference",
                           "[adapt][contract][raw]",
                           (raw_row_major, raw_column_major, raw_padded, raw_transposed), (float, double)) {
  mlr_test::check_contract<TestType>();
}

// ---- Eigen ------------------------------------------------------------------------------------
#ifdef MLR_TEST_HAS_EIGEN
namespace {

template <class T, int Options = Eigen::ColMajor>
using eigen_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Options>;

// Fills `m` (any shape) so that m(i + r0, j + c0) is element (i, j) of the problem.
template <class M, class Get>
void eigen_fill(M& m, Get get, std::ptrdiff_t r0 = 0, std::ptrdiff_t c0 = 0, bool transposed = false) {
  for (std::ptrdiff_t i = 0; i < N; ++i)
    for (std::ptrdiff_t j = 0; j < C; ++j) {
      if (transposed) m(j + r0, i + c0) = get(i, j);
      else m(i + r0, j + c0) = get(i, j);
    }
}

template <class T>
struct eigen_row_major : pinned {
  using label_type = std::int8_t;
  eigen_matrix<T, Eigen::RowMajor> s{N, C};
  eigen_matrix<label_type, Eigen::RowMajor> l{N, C};
  explicit eigen_row_major(const contract_problem&) {
    eigen_fill(s, score_getter<T>());
    eigen_fill(l, label_getter<label_type>());
  }
  const auto& scores() const { return s; }
  const auto& labels() const { return l; }
};

template <class T>
struct eigen_column_major : pinned {
  using label_type = bool;
  eigen_matrix<T> s{N, C};
  eigen_matrix<label_type> l{N, C};
  explicit eigen_column_major(const contract_problem&) {
    eigen_fill(s, score_getter<T>());
    eigen_fill(l, label_getter<label_type>());
  }
  const auto& scores() const { return s; }
  const auto& labels() const { return l; }
};

template <class T>
struct eigen_map_outer_stride : pinned {
  using label_type = std::int32_t;
  static constexpr std::ptrdiff_t score_outer = N + 3, label_outer = N + 1;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), 1, score_outer, 0, static_cast<std::size_t>(C * score_outer), nan_padding<T>);
  std::vector<label_type> l = strided_copy<label_type>(label_getter<label_type>(), 1, label_outer, 0,
                                                       static_cast<std::size_t>(C * label_outer), invalid_label<label_type>);
  explicit eigen_map_outer_stride(const contract_problem&) {}
  auto scores() const {
    return Eigen::Map<const eigen_matrix<T>, 0, Eigen::OuterStride<>>(s.data(), N, C, Eigen::OuterStride<>(score_outer));
  }
  auto labels() const {
    return Eigen::Map<const eigen_matrix<label_type>, 0, Eigen::OuterStride<>>(l.data(), N, C,
                                                                              Eigen::OuterStride<>(label_outer));
  }
};

template <class T>
struct eigen_block : pinned {
  using label_type = std::int8_t;
  eigen_matrix<T> s = eigen_matrix<T>::Constant(N + 4, C + 6, nan_padding<T>);
  eigen_matrix<label_type, Eigen::RowMajor> l =
      eigen_matrix<label_type, Eigen::RowMajor>::Constant(N + 2, C + 3, invalid_label<label_type>);
  explicit eigen_block(const contract_problem&) {
    eigen_fill(s, score_getter<T>(), 2, 3);
    eigen_fill(l, label_getter<label_type>(), 1, 2);
  }
  auto scores() const { return s.block(2, 3, N, C); }
  auto labels() const { return l.block(1, 2, N, C); }
};

// Stored C x N, viewed through Eigen's transpose.
template <class T>
struct eigen_transposed : pinned {
  using label_type = double;
  eigen_matrix<T, Eigen::RowMajor> s{C, N};
  eigen_matrix<label_type> l{C, N};
  explicit eigen_transposed(const contract_problem&) {
    eigen_fill(s, score_getter<T>(), 0, 0, true);
    eigen_fill(l, label_getter<label_type>(), 0, 0, true);
  }
  auto scores() const { return s.transpose(); }
  auto labels() const { return l.transpose(); }
};

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("contract: mean_average_precision through Eigen equals the naive reference",
                           "[adapt][contract][eigen]",
                           (eigen_row_major, eigen_column_major, eigen_map_outer_stride, eigen_block, eigen_transposed),
                           (float, double)) {
  mlr_test::check_contract<TestType>();
}
#endif

// ---- xtensor ----------------------------------------------------------------------------------
#ifdef MLR_TEST_HAS_XTENSOR
namespace {

template <class E, class Get>
void xt_fill(E&& e, Get get, bool transposed = false) {
  for (std::ptrdiff_t i = 0; i < N; ++i)
    for (std::ptrdiff_t j = 0; j < C; ++j) {
      if (transposed) e(j, i) = get(i, j);
      else e(i, j) = get(i, j);
    }
}
const std::array<std::size_t, 2> xt_shape{static_cast<std::size_t>(N), static_cast<std::size_t>(C)};
const std::array<std::size_t, 2> xt_shape_t{static_cast<std::size_t>(C), static_cast<std::size_t>(N)};

template <class T>
struct xt_row_major : pinned {
  using label_type = std::int8_t;
  xt::xtensor<T, 2> s = xt::xtensor<T, 2>(xt_shape);
  xt::xtensor<label_type, 2> l = xt::xtensor<label_type, 2>(xt_shape);
  explicit xt_row_major(const contract_problem&) {
    xt_fill(s, score_getter<T>());
    xt_fill(l, label_getter<label_type>());
  }
  const auto& scores() const { return s; }
  const auto& labels() const { return l; }
};

template <class T>
struct xt_column_major : pinned {
  using label_type = float;
  xt::xtensor<T, 2, xt::layout_type::column_major> s = xt::xtensor<T, 2, xt::layout_type::column_major>(xt_shape);
  xt::xtensor<label_type, 2, xt::layout_type::column_major> l =
      xt::xtensor<label_type, 2, xt::layout_type::column_major>(xt_shape);
  explicit xt_column_major(const contract_problem&) {
    xt_fill(s, score_getter<T>());
    xt_fill(l, label_getter<label_type>());
  }
  const auto& scores() const { return s; }
  const auto& labels() const { return l; }
};

// Every other row and every third column of larger tensors, through xt::view with steps.
template <class T>
struct xt_view_step : pinned {
  using label_type = std::int32_t;
  static constexpr std::array<std::size_t, 2> big{2 * N + 1, 3 * C + 2};
  xt::xtensor<T, 2> s = xt::xtensor<T, 2>(big, nan_padding<T>);
  xt::xtensor<label_type, 2> l = xt::xtensor<label_type, 2>(big, invalid_label<label_type>);
  explicit xt_view_step(const contract_problem&) {
    xt_fill(select(s), score_getter<T>());
    xt_fill(select(l), label_getter<label_type>());
  }
  template <class E>
  static auto select(E& e) {
    return xt::view(e, xt::range(1, 2 * N + 1, 2), xt::range(2, 3 * C + 2, 3));
  }
  auto scores() const { return select(s); }
  auto labels() const { return select(l); }
};

// Stored C x N, viewed through xt::transpose.
template <class T>
struct xt_transposed : pinned {
  using label_type = std::uint8_t;
  xt::xtensor<T, 2> s = xt::xtensor<T, 2>(xt_shape_t);
  xt::xtensor<label_type, 2> l = xt::xtensor<label_type, 2>(xt_shape_t);
  explicit xt_transposed(const contract_problem&) {
    xt_fill(s, score_getter<T>(), true);
    xt_fill(l, label_getter<label_type>(), true);
  }
  auto scores() const { return xt::transpose(s); }
  auto labels() const { return xt::transpose(l); }
};

// Dynamic rank: through mlr::view_cast.
template <class T>
struct xt_xarray : pinned {
  using label_type = std::int64_t;
  xt::xarray<T> s = xt::xarray<T>::from_shape(xt_shape);
  xt::xarray<label_type> l = xt::xarray<label_type>::from_shape(xt_shape);
  explicit xt_xarray(const contract_problem&) {
    xt_fill(s, score_getter<T>());
    xt_fill(l, label_getter<label_type>());
  }
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("contract: mean_average_precision through xtensor equals the naive reference",
                           "[adapt][contract][xtensor]",
                           (xt_row_major, xt_column_major, xt_view_step, xt_transposed, xt_xarray), (float, double)) {
  mlr_test::check_contract<TestType>();
}
#endif

// ---- DLPack -----------------------------------------------------------------------------------
#ifdef MLR_TEST_HAS_DLPACK
namespace {

// Scores: compact row-major DLTensor (NULL strides). Labels: DLManagedTensor, column-major strides.
template <class T>
struct dlpack_compact : pinned {
  using label_type = std::int8_t;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), C, 1, 0, NC, nan_padding<T>);
  std::vector<label_type> l = strided_copy<label_type>(label_getter<label_type>(), 1, N, 0, NC, invalid_label<label_type>);
  std::array<std::int64_t, 2> shape{N, C}, label_strides{1, N};
  DLTensor st{s.data(), {kDLCPU, 0}, 2, mlr_test::dlpack_type_of<T>(), shape.data(), nullptr, 0};
  DLManagedTensor lt{{l.data(), {kDLCPU, 0}, 2, mlr_test::dlpack_type_of<label_type>(), shape.data(),
                      label_strides.data(), 0},
                     nullptr,
                     nullptr};
  explicit dlpack_compact(const contract_problem&) {}
  auto scores() const { return mlr::view_cast<const T, 2>(st); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(lt); }
};

// Scores: padded rows after a byte_offset. Labels: a read-only versioned tensor of bools stored
// class-major (transposed strides).
template <class T>
struct dlpack_strided : pinned {
  using label_type = bool;
  static constexpr std::ptrdiff_t row = C + 3, offset = 5;
  std::vector<T> s = strided_copy<T>(score_getter<T>(), row, 1, offset, static_cast<std::size_t>(offset + N * row), nan_padding<T>);
  std::unique_ptr<bool[]> l = bool_copy(1, N);
  std::array<std::int64_t, 2> shape{N, C}, score_strides{row, 1}, label_strides{1, N};
  DLTensor st{s.data(), {kDLCPU, 0}, 2, mlr_test::dlpack_type_of<T>(), shape.data(), score_strides.data(),
              offset * sizeof(T)};
  mlr_test::test_managed_tensor_versioned lt{
      {1, 0}, nullptr, nullptr, 1,
      {l.get(), {kDLCPU, 0}, 2, mlr_test::dlpack_type_of<bool>(), shape.data(), label_strides.data(), 0}};
  explicit dlpack_strided(const contract_problem&) {}
  auto scores() const { return mlr::view_cast<const T, 2>(st); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(lt); }
};

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("contract: mean_average_precision through DLPack equals the naive reference",
                           "[adapt][contract][dlpack]", (dlpack_compact, dlpack_strided), (float, double)) {
  mlr_test::check_contract<TestType>();
}
#endif

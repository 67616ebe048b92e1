// The pieces contract (see pieces.hpp): every scoring function and loss through raw strided
// views, xtensor and DLPack, float and double, each tensor stored column-major.
#include "adapt/pieces.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(MLR_TEST_HAS_XTENSOR)
#include <xtensor/xtensor.hpp>

#include "mlr/adapt/xtensor.hpp"
#endif
#if defined(MLR_TEST_HAS_DLPACK)
#include "adapt/dlpack_support.hpp"
#include "mlr/adapt/dlpack.hpp"
#endif

namespace {

using mlr::index_t;

// Raw strided views of column-major storage.
struct raw_column_major {
  template <class E, std::size_t R>
  struct holder {
    std::array<index_t, R> extents;
    std::vector<E> storage;
    mlr::strided_view<E, R> arg() { return {storage.data(), extents, mlr_test::column_major_strides(extents)}; }
  };
  template <class E, std::size_t R>
  static holder<E, R> make(const std::vector<E>& row_major, std::array<index_t, R> extents) {
    return {extents, mlr_test::column_major_copy(row_major, extents)};
  }
};

}  // namespace

TEMPLATE_TEST_CASE("pieces through raw column-major views", "[adapt][pieces][raw]", float, double) {
  mlr_test::check_pieces<raw_column_major, TestType>();
}

#if defined(MLR_TEST_HAS_XTENSOR)
namespace {

// xt::xtensor with a column-major layout, passed to the algorithms as the container itself.
struct xtensor_column_major {
  template <class E, std::size_t R>
  struct holder {
    xt::xtensor<E, R, xt::layout_type::column_major> x;
    auto& arg() { return x; }
  };
  template <class E, std::size_t R>
  static holder<E, R> make(const std::vector<E>& row_major, std::array<index_t, R> extents) {
    std::array<std::size_t, R> shape{};
    for (std::size_t r = 0; r < R; ++r) shape[r] = static_cast<std::size_t>(extents[r]);
    holder<E, R> h{xt::xtensor<E, R, xt::layout_type::column_major>::from_shape(shape)};
    const auto storage = mlr_test::column_major_copy(row_major, extents);
    std::copy(storage.begin(), storage.end(), h.x.data());
    return h;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("pieces through column-major xtensor containers", "[adapt][pieces][xtensor]", float, double) {
  mlr_test::check_pieces<xtensor_column_major, TestType>();
}
#endif

#if defined(MLR_TEST_HAS_DLPACK)
namespace {

// A DLTensor with explicit column-major strides, read through mlr::view_cast.
struct dlpack_column_major {
  template <class E, std::size_t R>
  struct holder {
    std::vector<E> storage;
    std::vector<std::int64_t> shape, strides;
    DLTensor tensor;  // points into the vectors above, whose buffers moves keep
    mlr::strided_view<E, R> arg() { return mlr::view_cast<E, R>(tensor); }
  };
  template <class E, std::size_t R>
  static holder<E, R> make(const std::vector<E>& row_major, std::array<index_t, R> extents) {
    holder<E, R> h{mlr_test::column_major_copy(row_major, extents), {}, {}, {}};
    const auto strides = mlr_test::column_major_strides(extents);
    for (std::size_t r = 0; r < R; ++r) {
      h.shape.push_back(extents[r]);
      h.strides.push_back(strides[r]);
    }
    h.tensor = DLTensor{h.storage.data(), {kDLCPU, 0}, static_cast<int>(R), mlr_test::dlpack_type_of<E>(),
                        h.shape.data(), h.strides.data(), 0};
    return h;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("pieces through column-major DLPack tensors", "[adapt][pieces][dlpack]", float, double) {
  mlr_test::check_pieces<dlpack_column_major, TestType>();
}
#endif

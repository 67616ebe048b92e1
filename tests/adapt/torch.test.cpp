#include "mlr/adapt/torch.hpp"

#include <catch2/catch.hpp>

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "adapt/contract.hpp"
#include "adapt/pieces.hpp"
#include "adapt/support.hpp"

namespace {

using mlr::index_t;
using mlr_test::is_view_of;
using mlr_test::require_layout;

static_assert(!mlr::viewable<at::Tensor>);  // dtype, rank and device are run-time values

at::Tensor iota(std::vector<std::int64_t> shape, at::ScalarType type = at::kFloat) {
  std::int64_t n = 1;
  for (auto e : shape) n *= e;
  return at::arange(n, at::TensorOptions().dtype(at::kDouble)).reshape(shape).to(type);
}

template <class V>
void require_same_elements(const V& v, const at::Tensor& t) {
  using E = typename V::value_type;
  const at::Tensor d = t.to(at::kDouble).contiguous();
  REQUIRE(d.dim() == static_cast<std::int64_t>(V::rank()));
  for (std::size_t r = 0; r < V::rank(); ++r) REQUIRE(v.extent(r) == d.size(static_cast<std::int64_t>(r)));
  if constexpr (V::rank() == 1) {
    for (index_t i = 0; i < v.extent(0); ++i) CHECK(static_cast<double>(v(i)) == d[i].item<double>());
  } else {
    for (index_t i = 0; i < v.extent(0); ++i)
      for (index_t j = 0; j < v.extent(1); ++j)
        CHECK(static_cast<double>(static_cast<E>(v(i, j))) == d[i][j].item<double>());
  }
}

}  // namespace

TEST_CASE("at::Tensor: contiguous, transposed, sliced, selected, expanded", "[adapt][torch]") {
  at::Tensor t = iota({6, 5});
  SECTION("contiguous") {
    const auto v = mlr::view_cast<float, 2>(t);
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {6, 5}, {5, 1}, t.data_ptr<float>());
    require_same_elements(v, t);
    v(2, 3) = -1.0f;
    CHECK(t[2][3].item<float>() == -1.0f);
  }
  SECTION("const tensors are handles: mutable views are allowed") {
    const at::Tensor& ct = t;
    const auto v = mlr::view_cast<float, 2>(ct);
    require_layout(v, {6, 5}, {5, 1}, t.data_ptr<float>());
    const auto cv = mlr::view_cast<const float, 2>(ct);
    static_assert(is_view_of<decltype(cv), const float, 2>);
  }
  SECTION("transposed") {
    at::Tensor tt = t.t();
    const auto v = mlr::view_cast<const float, 2>(tt);
    require_layout(v, {5, 6}, {1, 5}, t.data_ptr<float>());
    require_same_elements(v, tt);
  }
  SECTION("sliced with a step: the storage offset is applied") {
    at::Tensor s = t.slice(0, 1, 6, 2).slice(1, 1, 5, 3);
    const auto v = mlr::view_cast<const float, 2>(s);
    require_layout(v, {3, 2}, {10, 3}, t.data_ptr<float>() + 6);
    require_same_elements(v, s);
  }
  SECTION("rank 1: a column") {
    at::Tensor c = t.select(1, 2);
    const auto v = mlr::view_cast<const float, 1>(c);
    require_layout(v, {6}, {5}, t.data_ptr<float>() + 2);
    require_same_elements(v, c);
  }
  SECTION("rank 3") {
    at::Tensor t3 = iota({2, 3, 4}, at::kDouble).permute({2, 0, 1});
    const auto v = mlr::view_cast<const double, 3>(t3);
    require_layout(v, {4, 2, 3}, {1, 12, 4}, t3.data_ptr<double>());
    CHECK(v(3, 1, 2) == t3[3][1][2].item<double>());
  }
  SECTION("expanded: stride 0") {
    at::Tensor e = iota({1, 4}).expand({3, 4});
    const auto v = mlr::view_cast<const float, 2>(e);
    CHECK(v.strides() == std::array<index_t, 2>{0, 1});
    require_same_elements(v, e);
  }
  SECTION("empty") {
    at::Tensor z = at::empty({0, 3});
    CHECK(mlr::view_cast<const float, 2>(z).empty());
  }
}

TEST_CASE("at::Tensor dtypes", "[adapt][torch]") {
  CHECK(mlr::torch_dtype(at::empty({1}, at::kFloat)) == mlr::dtype::float32);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kDouble)) == mlr::dtype::float64);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kChar)) == mlr::dtype::int8);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kInt)) == mlr::dtype::int32);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kLong)) == mlr::dtype::int64);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kByte)) == mlr::dtype::uint8);
  CHECK(mlr::torch_dtype(at::empty({1}, at::kBool)) == mlr::dtype::boolean);
  const at::Tensor half = at::empty({2, 2}, at::kHalf), shorts = at::empty({2, 2}, at::kShort);
  MLR_CHECK_ERROR((mlr::torch_dtype(half)), "found Half");
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(half)), "tensor: expected a dtype of float32");
  MLR_CHECK_ERROR((mlr::view_cast<const std::int32_t, 2>(shorts)), "found Short");
  const at::Tensor f64 = at::zeros({2, 2}, at::kDouble), u8 = at::zeros({2, 2}, at::kByte);
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(f64)), "tensor: expected dtype float32, found float64");
  MLR_CHECK_ERROR((mlr::view_cast<const bool, 2>(u8)), "expected dtype bool, found uint8");
  MLR_CHECK_ERROR((mlr::torch_view<const std::int8_t, 2>(u8, "labels")), "labels: expected dtype int8, found uint8");
  const at::Tensor b = at::zeros({2, 2}, at::kBool);
  CHECK(mlr::view_cast<const bool, 2>(b).extent(0) == 2);
}

TEST_CASE("at::Tensor rank, device, layout and negation checks", "[adapt][torch]") {
  const at::Tensor t3 = at::zeros({2, 3, 4});
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t3)), "expected rank 2, found rank 3 (shape [2, 3, 4])");
  const at::Tensor undefined;
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(undefined)), "found an undefined at::Tensor");

  const at::Tensor cpu = at::zeros({2, 3});
  CHECK_FALSE(mlr::torch_is_device(cpu));
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::device_space>(cpu)),
                  "expected a CUDA tensor, found a tensor on cpu");
  const at::Tensor meta = at::empty({2, 3}, at::TensorOptions().device(at::kMeta));
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(meta)), "expected a CPU tensor, found a tensor on meta");
  MLR_CHECK_ERROR((mlr::torch_is_device(meta)), "expected a CPU or CUDA tensor, found a tensor on meta");

  const at::Tensor sparse = at::zeros({2, 3}).to_sparse();
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(sparse)), "expected a strided (dense) tensor, found layout Sparse");

  const at::Tensor neg = at::ones({2, 3})._neg_view();
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(neg)), "call resolve_neg() first");
  const at::Tensor resolved = neg.resolve_neg();
  const auto v = mlr::view_cast<const float, 2>(resolved);
  CHECK(v(1, 2) == -1.0f);
}

// ---- the adapter contract (contract.hpp) ------------------------------------------------------
namespace {

using mlr_test::contract_problem;
constexpr std::int64_t N = contract_problem::rows, C = contract_problem::cols;

template <class T>
constexpr at::ScalarType torch_type() {
  if constexpr (std::is_same_v<T, float>) return at::kFloat;
  else if constexpr (std::is_same_v<T, double>) return at::kDouble;
  else if constexpr (std::is_same_v<T, std::int8_t>) return at::kChar;
  else if constexpr (std::is_same_v<T, std::int64_t>) return at::kLong;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return at::kByte;
  else return at::kBool;
}

// A contiguous N x C tensor of the problem's scores (T floating point) or labels.
template <class T>
at::Tensor problem_tensor() {
  const contract_problem& p = contract_problem::get();
  auto out = std::make_unique<T[]>(static_cast<std::size_t>(N * C));
  for (std::int64_t i = 0; i < N; ++i)
    for (std::int64_t j = 0; j < C; ++j) {
      T& x = out[static_cast<std::size_t>(i * C + j)];
      if constexpr (std::is_floating_point_v<T>) x = static_cast<T>(p.score(i, j));
      else x = mlr_test::label_as<T>(p.label(i, j));
    }
  return at::from_blob(out.get(), {N, C}, torch_type<T>()).clone();
}

// Places a contiguous N x C tensor at every other row and every third column of a larger tensor
// filled with `padding`, and returns that strided slice.
at::Tensor spread(const at::Tensor& t, double padding) {
  at::Tensor big = at::full({2 * N + 1, 3 * C + 2}, padding, t.options());
  at::Tensor slice = big.slice(0, 1, 2 * N + 1, 2).slice(1, 2, 3 * C + 2, 3);
  slice.copy_(t);
  return slice;
}

template <class T>
struct torch_contiguous {
  using label_type = std::int8_t;
  at::Tensor s = problem_tensor<T>(), l = problem_tensor<label_type>();
  explicit torch_contiguous(const contract_problem&) {}
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};

// Stored C x N contiguous, viewed through .t().
template <class T>
struct torch_transposed {
  using label_type = bool;
  at::Tensor s = problem_tensor<T>().t().contiguous().t(), l = problem_tensor<label_type>().t().contiguous().t();
  explicit torch_transposed(const contract_problem&) { REQUIRE(s.stride(0) == 1); }
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};

// Non-contiguous slices with steps (storage offset, padding never read).
template <class T>
struct torch_strided {
  using label_type = std::int64_t;
  at::Tensor s = spread(problem_tensor<T>(), std::numeric_limits<double>::quiet_NaN());
  at::Tensor l = spread(problem_tensor<label_type>(), 7.0);
  explicit torch_strided(const contract_problem&) { REQUIRE_FALSE(s.is_contiguous()); }
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};

// Float and uint8 labels.
template <class T>
struct torch_float_labels {
  using label_type = float;
  at::Tensor s = problem_tensor<T>(), l = problem_tensor<std::int8_t>().to(at::kFloat).t().contiguous().t();
  explicit torch_float_labels(const contract_problem&) {}
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};
template <class T>
struct torch_uint8_labels {
  using label_type = std::uint8_t;
  at::Tensor s = spread(problem_tensor<T>(), std::numeric_limits<double>::quiet_NaN()).t().contiguous().t();
  at::Tensor l = problem_tensor<label_type>();
  explicit torch_uint8_labels(const contract_problem&) {}
  auto scores() const { return mlr::view_cast<const T, 2>(s); }
  auto labels() const { return mlr::view_cast<const label_type, 2>(l); }
};

}  // namespace

TEMPLATE_PRODUCT_TEST_CASE("contract: mean_average_precision through at::Tensor equals the naive reference",
                           "[adapt][contract][torch]",
                           (torch_contiguous, torch_transposed, torch_strided, torch_float_labels, torch_uint8_labels),
                           (float, double)) {
  mlr_test::check_contract<TestType>();
}

namespace {

// at::Tensor with column-major strides (a permuted contiguous tensor), read through view_cast.
struct torch_column_major {
  template <class E, std::size_t R>
  struct holder {
    at::Tensor t;
    mlr::strided_view<E, R> arg() { return mlr::view_cast<E, R>(t); }
  };
  template <class E, std::size_t R>
  static holder<E, R> make(const std::vector<E>& row_major, std::array<index_t, R> extents) {
    std::vector<std::int64_t> shape(extents.begin(), extents.end()), reversed(R);
    for (std::size_t r = 0; r < R; ++r) reversed[r] = static_cast<std::int64_t>(R - 1 - r);
    const at::Tensor contiguous =
        at::from_blob(const_cast<E*>(row_major.data()), shape, at::CppTypeToScalarType<E>::value).clone();
    holder<E, R> h{contiguous.permute(reversed).contiguous().permute(reversed)};
    REQUIRE(h.t.stride(0) == 1);
    return h;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("pieces through column-major at::Tensor", "[adapt][pieces][torch]", float, double) {
  mlr_test::check_pieces<torch_column_major, TestType>();
}

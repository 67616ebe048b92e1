#include "mlr/adapt/dlpack.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "adapt/dlpack_support.hpp"
#include "adapt/support.hpp"
#include "mlr/core/dtype.hpp"

namespace {

using mlr::index_t;
using mlr_test::is_view_of;
using mlr_test::require_layout;

using mlr_test::test_managed_tensor_versioned;

static_assert(mlr::dlpack_versioned_tensor<test_managed_tensor_versioned>);
static_assert(!mlr::dlpack_versioned_tensor<DLManagedTensor>);
static_assert(!mlr::dlpack_versioned_tensor<DLTensor>);
#if defined(DLPACK_MAJOR_VERSION) && DLPACK_MAJOR_VERSION >= 1
static_assert(mlr::dlpack_versioned_tensor<DLManagedTensorVersioned>);
#endif
// A DLPack tensor has no static view: its dtype, rank and device are run-time values.
static_assert(!mlr::viewable<DLTensor>);
static_assert(!mlr::viewable<DLManagedTensor>);

constexpr std::uint8_t code_int = 0, code_uint = 1, code_float = 2, code_bfloat = 4,
                       code_complex = 5, code_bool = 6;

DLDataType type(std::uint8_t code, std::uint8_t bits, std::uint16_t lanes = 1) {
  return DLDataType{code, bits, lanes};
}

DLTensor tensor(void* data, std::vector<std::int64_t>& shape, DLDataType dt,
                std::int64_t* strides = nullptr, DLDevice device = {kDLCPU, 0},
                std::uint64_t byte_offset = 0) {
  return DLTensor{data, device, static_cast<int>(shape.size()), dt, shape.data(), strides, byte_offset};
}

DLDataType float32() { return type(code_float, 32); }

}  // namespace

TEST_CASE("dlpack_dtype maps every supported DLPack dtype", "[adapt][dlpack]") {
  std::vector<std::int64_t> shape{1};
  std::byte storage[8]{};
  auto dtype_of = [&](DLDataType dt) { return mlr::dlpack_dtype(tensor(storage, shape, dt)); };
  CHECK(dtype_of(type(code_float, 32)) == mlr::dtype::float32);
  CHECK(dtype_of(type(code_float, 64)) == mlr::dtype::float64);
  CHECK(dtype_of(type(code_int, 8)) == mlr::dtype::int8);
  CHECK(dtype_of(type(code_int, 32)) == mlr::dtype::int32);
  CHECK(dtype_of(type(code_int, 64)) == mlr::dtype::int64);
  CHECK(dtype_of(type(code_uint, 8)) == mlr::dtype::uint8);
  CHECK(dtype_of(type(code_bool, 8)) == mlr::dtype::boolean);
#if DLPACK_VERSION >= 80
  CHECK(dtype_of(type(kDLBool, 8)) == mlr::dtype::boolean);
#endif

  DLManagedTensor managed{tensor(storage, shape, type(code_int, 64)), nullptr, nullptr};
  CHECK(mlr::dlpack_dtype(managed) == mlr::dtype::int64);
  test_managed_tensor_versioned versioned{{1, 0}, nullptr, nullptr, 0, tensor(storage, shape, type(code_uint, 8))};
  CHECK(mlr::dlpack_dtype(versioned) == mlr::dtype::uint8);
}

TEST_CASE("dlpack_dtype names code, bits and lanes of what it cannot handle", "[adapt][dlpack]") {
  std::vector<std::int64_t> shape{1};
  std::byte storage[8]{};
  auto dtype_of = [&](DLDataType dt) { return mlr::dlpack_dtype(tensor(storage, shape, dt)); };
  MLR_CHECK_ERROR((dtype_of(type(code_float, 16))), "found code 2 (float), bits 16, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_int, 16))), "found code 0 (int), bits 16, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_uint, 32))), "found code 1 (uint), bits 32, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_bool, 1))), "found code 6 (bool), bits 1, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_bfloat, 16))), "found code 4 (bfloat), bits 16, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_complex, 64))), "found code 5 (complex), bits 64, lanes 1");
  MLR_CHECK_ERROR((dtype_of(type(code_float, 32, 4))), "found code 2 (float), bits 32, lanes 4");
  MLR_CHECK_ERROR((dtype_of(type(code_float, 32, 4))), "DLPack tensor: expected a dtype of float32");
  MLR_CHECK_ERROR((mlr::dlpack_dtype(tensor(storage, shape, type(code_int, 16)), "labels")),
                    "labels: expected");
}

TEST_CASE("dlpack_dtype feeds visit_dtype", "[adapt][dlpack]") {
  std::vector<double> data{1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
  std::vector<std::int64_t> shape{2, 3};
  const DLManagedTensor managed{tensor(data.data(), shape, type(code_float, 64)), nullptr, nullptr};
  const double sum = mlr::visit_dtype(mlr::dlpack_dtype(managed), [&](auto t) -> double {
    using T = typename decltype(t)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const auto v = mlr::view_cast<const T, 2, mlr::host_space>(managed);
      double s = 0;
      for (index_t i = 0; i < v.extent(0); ++i)
        for (index_t j = 0; j < v.extent(1); ++j) s += static_cast<double>(v(i, j));
      return s;
    } else {
      return -1.0;
    }
  });
  CHECK(sum == 21.0);
}

TEST_CASE("NULL strides mean compact row-major", "[adapt][dlpack]") {
  std::vector<float> data(24);
  std::iota(data.begin(), data.end(), 0.0f);
  SECTION("rank 2") {
    std::vector<std::int64_t> shape{4, 6};
    const DLTensor t = tensor(data.data(), shape, float32());
    const auto v = mlr::view_cast<const float, 2>(t);
    static_assert(is_view_of<decltype(v), const float, 2>);
    require_layout(v, {4, 6}, {6, 1}, data.data());
    CHECK(v(2, 3) == 15.0f);
  }
  SECTION("rank 1") {
    std::vector<std::int64_t> shape{24};
    const DLTensor t = tensor(data.data(), shape, float32());
    require_layout(mlr::view_cast<float, 1>(t), {24}, {1}, data.data());
  }
  SECTION("rank 3") {
    std::vector<std::int64_t> shape{2, 3, 4};
    const DLTensor t = tensor(data.data(), shape, float32());
    const auto v = mlr::view_cast<const float, 3>(t);
    require_layout(v, {2, 3, 4}, {12, 4, 1}, data.data());
    CHECK(v(1, 2, 3) == 23.0f);
  }
}

TEST_CASE("explicit strides: column-major, padded, transposed, size-1 dimensions", "[adapt][dlpack]") {
  std::vector<double> data(64);
  std::iota(data.begin(), data.end(), 0.0);
  SECTION("column-major") {
    std::vector<std::int64_t> shape{4, 6}, strides{1, 4};
    const DLTensor t = tensor(data.data(), shape, type(code_float, 64), strides.data());
    const auto v = mlr::view_cast<const double, 2>(t);
    require_layout(v, {4, 6}, {1, 4}, data.data());
    CHECK(v(3, 2) == 11.0);
  }
  SECTION("padded rows") {
    std::vector<std::int64_t> shape{3, 5}, strides{8, 1};
    const DLTensor t = tensor(data.data(), shape, type(code_float, 64), strides.data());
    const auto v = mlr::view_cast<const double, 2>(t);
    require_layout(v, {3, 5}, {8, 1}, data.data());
    CHECK(v(2, 4) == 20.0);
  }
  SECTION("every other column of a transposed tensor") {
    std::vector<std::int64_t> shape{5, 3}, strides{2, 10};
    const DLTensor t = tensor(data.data(), shape, type(code_float, 64), strides.data());
    const auto v = mlr::view_cast<const double, 2>(t);
    require_layout(v, {5, 3}, {2, 10}, data.data());
    CHECK(v(4, 2) == 28.0);
  }
  SECTION("any stride on a size-1 dimension") {
    std::vector<std::int64_t> shape{1, 5}, strides{12345, 1};
    const DLTensor t = tensor(data.data(), shape, type(code_float, 64), strides.data());
    const auto v = mlr::view_cast<const double, 2>(t);
    require_layout(v, {1, 5}, {12345, 1}, data.data());
    CHECK(v(0, 4) == 4.0);
    std::vector<std::int64_t> shape1{5, 1}, strides1{3, -7};
    const DLTensor t1 = tensor(data.data(), shape1, type(code_float, 64), strides1.data());
    require_layout(mlr::view_cast<const double, 2>(t1), {5, 1}, {3, -7}, data.data());
  }
  SECTION("negative strides") {
    std::vector<std::int64_t> shape{4}, strides{-2};
    const DLTensor t = tensor(data.data() + 6, shape, type(code_float, 64), strides.data());
    const auto v = mlr::view_cast<const double, 1>(t);
    CHECK(v(0) == 6.0);
    CHECK(v(3) == 0.0);
  }
}

TEST_CASE("byte_offset is applied in bytes", "[adapt][dlpack]") {
  std::vector<float> data(20);
  std::iota(data.begin(), data.end(), 0.0f);
  std::vector<std::int64_t> shape{2, 3};
  const DLTensor t = tensor(data.data(), shape, float32(), nullptr, {kDLCPU, 0}, 5 * sizeof(float));
  const auto v = mlr::view_cast<const float, 2>(t);
  require_layout(v, {2, 3}, {3, 1}, data.data() + 5);
  CHECK(v(0, 0) == 5.0f);
  CHECK(v(1, 2) == 10.0f);

  const DLTensor misaligned = tensor(data.data(), shape, float32(), nullptr, {kDLCPU, 0}, 2);
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(misaligned)), "aligned to 4 bytes");
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(misaligned)), "byte_offset 2");
}

TEST_CASE("the dtype must be that of the view", "[adapt][dlpack]") {
  std::vector<std::byte> storage(64);
  std::vector<std::int64_t> shape{2, 2};
  const DLTensor f64 = tensor(storage.data(), shape, type(code_float, 64));
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(f64)), "DLPack tensor: expected dtype float32, found float64");
  const DLTensor u8 = tensor(storage.data(), shape, type(code_uint, 8));
  MLR_CHECK_ERROR((mlr::view_cast<const bool, 2>(u8)), "expected dtype bool, found uint8");
  MLR_CHECK_ERROR((mlr::view_cast<const std::int8_t, 2>(u8)), "expected dtype int8, found uint8");
  CHECK(mlr::view_cast<const std::uint8_t, 2>(u8).extent(0) == 2);
  const DLTensor b = tensor(storage.data(), shape, type(code_bool, 8));
  MLR_CHECK_ERROR((mlr::view_cast<const std::uint8_t, 2>(b)), "expected dtype uint8, found bool");
  CHECK(mlr::view_cast<const bool, 2>(b).extent(1) == 2);
  const DLTensor i32 = tensor(storage.data(), shape, type(code_int, 32));
  MLR_CHECK_ERROR((mlr::view_cast<const std::int64_t, 2>(i32)), "expected dtype int64, found int32");
  const DLTensor f16 = tensor(storage.data(), shape, type(code_float, 16));
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(f16)), "found code 2 (float), bits 16, lanes 1");
  const DLTensor lanes = tensor(storage.data(), shape, type(code_float, 32, 2));
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(lanes)), "lanes 2");
}

TEST_CASE("ndim must equal the rank of the view", "[adapt][dlpack]") {
  std::vector<float> data(24);
  std::vector<std::int64_t> shape{2, 3, 4};
  const DLTensor t = tensor(data.data(), shape, float32());
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t)), "expected rank 2, found rank 3 (shape (2, 3, 4))");
  std::vector<std::int64_t> shape1{24};
  const DLTensor t1 = tensor(data.data(), shape1, float32());
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t1)), "found rank 1 (shape (24,))");
  std::vector<std::int64_t> shape0{};
  const DLTensor t0 = tensor(data.data(), shape0, float32());
  MLR_CHECK_ERROR((mlr::view_cast<const float, 1>(t0)), "expected rank 1, found rank 0");
}

TEST_CASE("extents must be non-negative and data present", "[adapt][dlpack]") {
  std::vector<float> data(8);
  std::vector<std::int64_t> shape{2, -3};
  const DLTensor negative = tensor(data.data(), shape, float32());
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(negative)),
                    "expected non-negative extents, found shape (2, -3)");

  std::vector<std::int64_t> shape2{2, 2};
  const DLTensor null_data = tensor(nullptr, shape2, float32());
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(null_data)), "expected data for 4 elements, found data == NULL");

  std::vector<std::int64_t> empty_shape{0, 3};
  const DLTensor empty = tensor(nullptr, empty_shape, float32());
  const auto v = mlr::view_cast<const float, 2>(empty);
  CHECK(v.empty());
  CHECK(v.data_handle() == nullptr);

  DLTensor no_shape = tensor(data.data(), shape2, float32());
  no_shape.shape = nullptr;
  MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(no_shape)), "found shape == NULL");
}

TEST_CASE("the device decides the memory space", "[adapt][dlpack]") {
  std::vector<float> data(6);
  std::vector<std::int64_t> shape{2, 3};
  auto on = [&](DLDeviceType device, int id = 0) {
    return tensor(data.data(), shape, float32(), nullptr, DLDevice{device, id});
  };
  SECTION("host memory") {
    for (DLTensor t : {on(kDLCPU), on(kDLCUDAHost)}) {
      CHECK_FALSE(mlr::dlpack_is_device(t));
      const auto v = mlr::view_cast<const float, 2, mlr::host_space>(t);
      require_layout(v, {2, 3}, {3, 1}, data.data());
      MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::device_space>(t)),
                      "expected a CUDA device tensor (kDLCUDA or kDLCUDAManaged), found ");
    }
    const DLTensor cpu = on(kDLCPU), pinned = on(kDLCUDAHost);
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::device_space>(cpu)),
                    "found kDLCPU (device_type 1, device_id 0)");
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::device_space>(pinned)),
                    "found kDLCUDAHost (device_type 3, device_id 0)");
  }
  SECTION("device memory") {
    for (DLTensor t : {on(kDLCUDA, 1), on(kDLCUDAManaged)}) {
      CHECK(mlr::dlpack_is_device(t));
      // Only the pointer is computed, never dereferenced.
      const auto v = mlr::view_cast<const float, 2, mlr::device_space>(t);
      static_assert(is_view_of<decltype(v), const float, 2, mlr::device_space>);
      require_layout(v, {2, 3}, {3, 1}, data.data());
    }
    const DLTensor cuda = on(kDLCUDA, 1), managed = on(kDLCUDAManaged);
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::host_space>(cuda)),
                    "expected a host tensor (kDLCPU or kDLCUDAHost), found kDLCUDA (device_type 2, device_id 1)");
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::host_space>(managed)),
                    "found kDLCUDAManaged (device_type 13");
  }
  SECTION("other devices") {
    const DLTensor opencl = on(kDLOpenCL), rocm = on(kDLROCM);
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(opencl)),
                    "expected a tensor on kDLCPU, kDLCUDAHost, kDLCUDA or kDLCUDAManaged, found kDLOpenCL (device_type 4");
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2, mlr::device_space>(rocm)), "found kDLROCM");
    MLR_CHECK_ERROR((mlr::dlpack_is_device(on(kDLVulkan))), "found kDLVulkan");
    MLR_CHECK_ERROR((mlr::dlpack_is_device(on(static_cast<DLDeviceType>(14)))),
                    "found kDLOneAPI (device_type 14");
  }
}

TEST_CASE("DLManagedTensor", "[adapt][dlpack]") {
  std::vector<std::int8_t> data{1, 0, -1, 1, 1, 0};
  std::vector<std::int64_t> shape{3, 2}, strides{1, 3};
  DLManagedTensor managed{tensor(data.data(), shape, type(code_int, 8), strides.data()), nullptr, nullptr};
  const auto c = mlr::view_cast<const std::int8_t, 2>(std::as_const(managed));
  static_assert(is_view_of<decltype(c), const std::int8_t, 2>);
  require_layout(c, {3, 2}, {1, 3}, data.data());
  CHECK(c(2, 0) == -1);
  // The struct is a handle: it does not make its elements const.
  const auto m = mlr::view_cast<std::int8_t, 2, mlr::host_space>(std::as_const(managed));
  m(0, 1) = 7;
  CHECK(data[3] == 7);
  CHECK_FALSE(mlr::dlpack_is_device(managed));
  MLR_CHECK_ERROR((mlr::view_cast<const std::int64_t, 2>(managed)), "expected dtype int64, found int8");
  MLR_CHECK_ERROR((mlr::dlpack_view<const bool, 2>(managed, "labels")), "labels: expected dtype bool, found int8");
}

TEST_CASE("versioned managed tensors: major version and read-only flag", "[adapt][dlpack]") {
  std::vector<float> data(6, 1.0f);
  std::vector<std::int64_t> shape{2, 3};
  test_managed_tensor_versioned t{{1, 3}, nullptr, nullptr, 0, tensor(data.data(), shape, float32())};
  SECTION("writable") {
    const auto v = mlr::view_cast<float, 2>(std::as_const(t));
    static_assert(is_view_of<decltype(v), float, 2>);
    require_layout(v, {2, 3}, {3, 1}, data.data());
    v(1, 1) = 5.0f;
    CHECK(data[4] == 5.0f);
    CHECK_FALSE(mlr::dlpack_is_device(t));
    CHECK(mlr::dlpack_dtype(t) == mlr::dtype::float32);
  }
  SECTION("read-only: const views only") {
    t.flags = 1;
    const auto v = mlr::view_cast<const float, 2, mlr::host_space>(std::as_const(t));
    require_layout(v, {2, 3}, {3, 1}, data.data());
    MLR_CHECK_ERROR((mlr::view_cast<float, 2>(t)), "found a read-only tensor");
    t.flags = 1 | 2;  // read-only and copied
    MLR_CHECK_ERROR((mlr::view_cast<float, 2>(t)), "DLPACK_FLAG_BITMASK_READ_ONLY");
    t.flags = 2;  // copied only
    CHECK(mlr::view_cast<float, 2>(t).extent(1) == 3);
  }
  SECTION("major version 1 only") {
    t.version = {2, 0};
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t)),
                      "expected a DLPack tensor of major version 1, found version 2.0");
    t.version = {0, 8};
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t)), "found version 0.8");
  }
  SECTION("the other rules apply too") {
    MLR_CHECK_ERROR((mlr::view_cast<const double, 2>(t)), "expected dtype float64, found float32");
    MLR_CHECK_ERROR((mlr::view_cast<const float, 1>(t)), "expected rank 1, found rank 2");
    t.dl_tensor.device = {kDLCUDA, 0};
    CHECK(mlr::dlpack_is_device(t));
    MLR_CHECK_ERROR((mlr::view_cast<const float, 2>(t)), "found kDLCUDA");
    CHECK((mlr::view_cast<const float, 2, mlr::device_space>(t).extent(0)) == 2);
  }
}

#if defined(DLPACK_MAJOR_VERSION) && DLPACK_MAJOR_VERSION >= 1
TEST_CASE("DLManagedTensorVersioned from dlpack.h", "[adapt][dlpack]") {
  std::vector<float> data(6, 1.0f);
  std::vector<std::int64_t> shape{2, 3};
  DLManagedTensorVersioned t{};
  t.version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION};
  t.flags = DLPACK_FLAG_BITMASK_READ_ONLY;
  t.dl_tensor = tensor(data.data(), shape, float32());
  CHECK(mlr::view_cast<const float, 2>(t).extent(1) == 3);
  MLR_CHECK_ERROR((mlr::view_cast<float, 2>(t)), "read-only");
}
#endif

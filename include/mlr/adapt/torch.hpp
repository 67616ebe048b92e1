#pragma once
// Views over libtorch tensors (at::Tensor, which torch::Tensor is).
//
// A tensor's dtype, rank and device are known at run time, so it has no mlr::as_view: ask for the
// view you need, which validates everything and throws mlr::error naming what it found otherwise:
//
//   at::Tensor scores = ...;                                   // N x C, float32, CPU
//   auto v = mlr::view_cast<const float, 2>(scores);           // strided_view<const float, 2>
//   auto d = mlr::view_cast<const float, 2, mlr::device_space>(cuda_scores);
//
// Rules: the dtype must be that of T (kFloat, kDouble, kChar, kInt, kLong, kByte, kBool); dim()
// must equal Rank; CPU tensors are host memory, CUDA tensors device memory, other devices are an
// error; the layout must be strided (no sparse or MKL-DNN tensors); a tensor with its lazy
// negation bit set must be resolved first (resolve_neg()). sizes() and strides() (in elements)
// are taken as they are, and data_ptr() already includes the storage offset, so any slice,
// transpose or expand is viewed without a copy.
//
// at::Tensor is a handle: a const at::Tensor& still gives mutable views, as in libtorch itself.
// Writing through a view bypasses autograd and the tensor's version counter.
#include <ATen/core/Tensor.h>
#include <c10/core/Layout.h>
#include <c10/core/ScalarType.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/memory_space.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

namespace detail {

inline void check_torch_defined(const at::Tensor& t, std::string_view name) {
  if (!t.defined())
    throw error(std::string(name) + ": expected a defined tensor, found an undefined at::Tensor");
}

inline std::string describe_torch_shape(const at::Tensor& t) {
  std::string s = "[";
  for (std::int64_t r = 0; r < t.dim(); ++r) s += (r ? ", " : "") + std::to_string(t.size(r));
  return s + "]";
}

}  // namespace detail

// The mlr dtype of a tensor: kFloat float32, kDouble float64, kChar int8, kInt int32, kLong int64,
// kByte uint8, kBool bool. Any other scalar type is an mlr::error naming it.
inline dtype torch_dtype(const at::Tensor& t, std::string_view name = "tensor") {
  detail::check_torch_defined(t, name);
  switch (t.scalar_type()) {
    case c10::ScalarType::Float: return dtype::float32;
    case c10::ScalarType::Double: return dtype::float64;
    case c10::ScalarType::Char: return dtype::int8;
    case c10::ScalarType::Int: return dtype::int32;
    case c10::ScalarType::Long: return dtype::int64;
    case c10::ScalarType::Byte: return dtype::uint8;
    case c10::ScalarType::Bool: return dtype::boolean;
    default:
      throw error(std::string(name) +
                  ": expected a dtype of float32, float64, int8, int32, int64, uint8 or bool, found " +
                  c10::toString(t.scalar_type()));
  }
}

// Whether the tensor lives in CUDA memory (view it with mlr::device_space) or on the CPU
// (mlr::host_space). mlr::error for any other device.
inline bool torch_is_device(const at::Tensor& t, std::string_view name = "tensor") {
  detail::check_torch_defined(t, name);
  if (t.is_cpu()) return false;
  if (t.is_cuda()) return true;
  throw error(std::string(name) + ": expected a CPU or CUDA tensor, found a tensor on " + t.device().str());
}

// The view of `t` as strided_view<T, Rank, Space>, checked against every rule above; `name`
// starts the message of the mlr::error thrown on a mismatch.
template <class T, std::size_t Rank, class Space = host_space>
strided_view<T, Rank, Space> torch_view(const at::Tensor& t, std::string_view name = "tensor") {
  static_assert(is_supported_element_v<std::remove_cv_t<T>>,
                "mlr: an at::Tensor can be viewed as float, double, std::int8_t, std::int32_t, "
                "std::int64_t, std::uint8_t or bool (const or not).");
  static_assert(is_memory_space_v<Space>, "Space must be mlr::host_space or mlr::device_space.");
  const std::string who(name);

  const dtype found = torch_dtype(t, name);
  if (found != dtype_of<T>)
    throw error(who + ": expected dtype " + std::string(to_string(dtype_of<T>)) + ", found " +
                std::string(to_string(found)));

  if (t.dim() != static_cast<std::int64_t>(Rank))
    throw error(who + ": expected rank " + std::to_string(Rank) + ", found rank " +
                std::to_string(t.dim()) + " (shape " + detail::describe_torch_shape(t) + ")");

  if (t.layout() != c10::kStrided) {
    std::ostringstream layout;
    layout << t.layout();
    throw error(who + ": expected a strided (dense) tensor, found layout " + layout.str());
  }

  if constexpr (std::is_same_v<Space, host_space>) {
    if (!t.is_cpu())
      throw error(who + ": expected a CPU tensor, found a tensor on " + t.device().str());
  } else {
    if (!t.is_cuda())
      throw error(who + ": expected a CUDA tensor, found a tensor on " + t.device().str());
  }

  if (t.is_neg())
    throw error(who + ": expected a tensor without a lazy negation, found one with the negation bit "
                      "set; call resolve_neg() first");

  std::array<index_t, Rank> extents{}, strides{};
  for (std::size_t r = 0; r < Rank; ++r) {
    extents[r] = static_cast<index_t>(t.size(static_cast<std::int64_t>(r)));
    strides[r] = static_cast<index_t>(t.stride(static_cast<std::int64_t>(r)));
  }
  // data_ptr() includes the storage offset; for a CUDA tensor it is a device address, never
  // dereferenced here.
  return {static_cast<T*>(t.data_ptr()), extents, strides};
}

// mlr::view_cast<T, Rank, Space>(tensor).
template <>
struct view_traits<at::Tensor> {
  template <class T, std::size_t Rank, class Space>
  static strided_view<T, Rank, Space> view_cast(const at::Tensor& t) {
    return torch_view<T, Rank, Space>(t);
  }
};

}  // namespace mlr

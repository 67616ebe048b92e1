#pragma once
// Views over DLPack tensors: DLTensor, DLManagedTensor and the versioned managed tensor of
// DLPack >= 1.0 (DLManagedTensorVersioned, or any struct of the same shape).
//
// A DLPack tensor carries its dtype, rank and device at run time, so it has no mlr::as_view: ask
// for the exact view you need, which validates everything and throws mlr::error naming what it
// found otherwise:
//
//   const DLManagedTensor& t = ...;
//   mlr::strided_view<const float, 2> v = mlr::view_cast<const float, 2>(t);
//
// or dispatch on the dtype first:
//
//   mlr::visit_dtype(mlr::dlpack_dtype(t), [&](auto type) {
//     using T = typename decltype(type)::type;
//     auto v = mlr::view_cast<const T, 2>(t);  ...
//   });
//
// Rules: the dtype must be that of T (float32, float64, int8, int32, int64, uint8, bool; one lane);
// ndim must equal Rank; NULL strides mean compact row-major; byte_offset is applied; kDLCPU and
// kDLCUDAHost are host memory, kDLCUDA and kDLCUDAManaged device memory, anything else is an
// error. A versioned tensor must have major version 1, and one flagged read-only gives only views
// of const T. The DLPack structs are handles: a const DLTensor& still gives mutable views (as a
// const std::span does); write access is refused only by the read-only flag.
#include <dlpack/dlpack.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/memory_space.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

// A versioned managed tensor, DLPack >= 1.0: DLManagedTensorVersioned, whose layout is
// { DLPackVersion version; void* manager_ctx; void (*deleter)(Self*); uint64_t flags;
//   DLTensor dl_tensor; }. Matched by shape, so that it works whichever dlpack.h is installed.
template <class M>
concept dlpack_versioned_tensor = requires(const M& m) {
  requires std::unsigned_integral<std::remove_cvref_t<decltype(m.version.major)>>;
  requires std::unsigned_integral<std::remove_cvref_t<decltype(m.version.minor)>>;
  requires std::unsigned_integral<std::remove_cvref_t<decltype(m.flags)>>;
  requires std::same_as<std::remove_cvref_t<decltype(m.dl_tensor)>, DLTensor>;
};

namespace detail {

// Numeric values from the DLPack specification; dlpack.h 0.6 lacks some of the names.
inline constexpr unsigned dlpack_code_int = 0;
inline constexpr unsigned dlpack_code_uint = 1;
inline constexpr unsigned dlpack_code_float = 2;
inline constexpr unsigned dlpack_code_bool = 6;  // kDLBool, DLPack >= 0.8
inline constexpr int dlpack_device_cpu = 1;
inline constexpr int dlpack_device_cuda = 2;
inline constexpr int dlpack_device_cuda_host = 3;
inline constexpr int dlpack_device_cuda_managed = 13;
inline constexpr std::uint64_t dlpack_flag_read_only = std::uint64_t{1} << 0;
inline constexpr unsigned dlpack_major_version = 1;

inline std::string_view dlpack_type_code_name(unsigned code) noexcept {
  switch (code) {
    case 0: return "int";
    case 1: return "uint";
    case 2: return "float";
    case 3: return "opaque handle";
    case 4: return "bfloat";
    case 5: return "complex";
    case 6: return "bool";
    default: return code <= 17 ? "float8/float6/float4" : "unknown";
  }
}

inline std::string describe_dlpack_dtype(const DLDataType& t) {
  return "code " + std::to_string(unsigned{t.code}) + " (" +
         std::string(dlpack_type_code_name(t.code)) + "), bits " + std::to_string(unsigned{t.bits}) +
         ", lanes " + std::to_string(unsigned{t.lanes});
}

inline std::string_view dlpack_device_name(int type) noexcept {
  switch (type) {
    case 1: return "kDLCPU";
    case 2: return "kDLCUDA";
    case 3: return "kDLCUDAHost";
    case 4: return "kDLOpenCL";
    case 7: return "kDLVulkan";
    case 8: return "kDLMetal";
    case 9: return "kDLVPI";
    case 10: return "kDLROCM";
    case 11: return "kDLROCMHost";
    case 12: return "kDLExtDev";
    case 13: return "kDLCUDAManaged";
    case 14: return "kDLOneAPI";
    case 15: return "kDLWebGPU";
    case 16: return "kDLHexagon";
    case 17: return "kDLMAIA";
    default: return "unknown device type";
  }
}

// The device type as a number. Read through its bytes: an exporter built against a newer dlpack.h
// may send a value the installed enum cannot represent.
inline int dlpack_device_type(const DLDevice& d) noexcept {
  std::underlying_type_t<DLDeviceType> raw;
  static_assert(sizeof(raw) == sizeof(d.device_type));
  std::memcpy(&raw, &d.device_type, sizeof(raw));
  return static_cast<int>(raw);
}

inline std::string describe_dlpack_device(const DLDevice& d) {
  const int type = dlpack_device_type(d);
  return std::string(dlpack_device_name(type)) + " (device_type " + std::to_string(type) +
         ", device_id " + std::to_string(d.device_id) + ")";
}

inline std::string describe_dlpack_shape(const DLTensor& t) {
  if (t.ndim > 0 && t.shape == nullptr) return "NULL";
  std::string s = "(";
  for (int r = 0; r < t.ndim; ++r) s += (r ? ", " : "") + std::to_string(t.shape[r]);
  return s + (t.ndim == 1 ? ",)" : ")");
}

enum class dlpack_space : std::uint8_t { host, device };

// The memory space of a tensor's device; mlr::error for devices mlr cannot address.
inline dlpack_space dlpack_space_of(const DLTensor& t, std::string_view name) {
  switch (dlpack_device_type(t.device)) {
    case dlpack_device_cpu:
    case dlpack_device_cuda_host: return dlpack_space::host;
    case dlpack_device_cuda:
    case dlpack_device_cuda_managed: return dlpack_space::device;
    default:
      throw error(std::string(name) +
                  ": expected a tensor on kDLCPU, kDLCUDAHost, kDLCUDA or kDLCUDAManaged, found " +
                  describe_dlpack_device(t.device));
  }
}

template <class M>
void check_dlpack_version(const M& m, std::string_view name) {
  if (m.version.major != dlpack_major_version)
    throw error(std::string(name) + ": expected a DLPack tensor of major version " +
                std::to_string(dlpack_major_version) + ", found version " +
                std::to_string(m.version.major) + "." + std::to_string(m.version.minor));
}

}  // namespace detail

// The mlr dtype of a DLPack tensor: float32/64 (kDLFloat), int8/32/64 (kDLInt), uint8 (kDLUInt, 8
// bits), bool (kDLBool, 8 bits), one lane. Anything else is an mlr::error naming code, bits and
// lanes.
inline dtype dlpack_dtype(const DLTensor& t, std::string_view name = "DLPack tensor") {
  const DLDataType& d = t.dtype;
  if (d.lanes == 1) {
    switch (unsigned{d.code}) {
      case detail::dlpack_code_float:
        if (d.bits == 32) return dtype::float32;
        if (d.bits == 64) return dtype::float64;
        break;
      case detail::dlpack_code_int:
        if (d.bits == 8) return dtype::int8;
        if (d.bits == 32) return dtype::int32;
        if (d.bits == 64) return dtype::int64;
        break;
      case detail::dlpack_code_uint:
        if (d.bits == 8) return dtype::uint8;
        break;
      case detail::dlpack_code_bool:
        if (d.bits == 8) return dtype::boolean;
        break;
      default: break;
    }
  }
  throw error(std::string(name) +
              ": expected a dtype of float32, float64, int8, int32, int64, uint8 or bool with 1 "
              "lane, found " +
              detail::describe_dlpack_dtype(d));
}
inline dtype dlpack_dtype(const DLManagedTensor& m, std::string_view name = "DLPack tensor") {
  return dlpack_dtype(m.dl_tensor, name);
}
template <dlpack_versioned_tensor M>
dtype dlpack_dtype(const M& m, std::string_view name = "DLPack tensor") {
  return dlpack_dtype(m.dl_tensor, name);
}

// Whether the tensor lives in device memory (kDLCUDA, kDLCUDAManaged: view it with
// mlr::device_space) or host memory (kDLCPU, kDLCUDAHost: mlr::host_space). mlr::error for any
// other device.
inline bool dlpack_is_device(const DLTensor& t, std::string_view name = "DLPack tensor") {
  return detail::dlpack_space_of(t, name) == detail::dlpack_space::device;
}
inline bool dlpack_is_device(const DLManagedTensor& m, std::string_view name = "DLPack tensor") {
  return dlpack_is_device(m.dl_tensor, name);
}
template <dlpack_versioned_tensor M>
bool dlpack_is_device(const M& m, std::string_view name = "DLPack tensor") {
  return dlpack_is_device(m.dl_tensor, name);
}

// The view of `t` as strided_view<T, Rank, Space>, checked against every rule above; `name`
// starts the message of the mlr::error thrown on a mismatch.
template <class T, std::size_t Rank, class Space = host_space>
strided_view<T, Rank, Space> dlpack_view(const DLTensor& t, std::string_view name = "DLPack tensor") {
  static_assert(is_supported_element_v<std::remove_cv_t<T>>,
                "mlr: a DLPack tensor can be viewed as float, double, std::int8_t, std::int32_t, "
                "std::int64_t, std::uint8_t or bool (const or not).");
  static_assert(sizeof(bool) == 1, "mlr: DLPack bool tensors need a one-byte bool.");
  static_assert(is_memory_space_v<Space>, "Space must be mlr::host_space or mlr::device_space.");
  const std::string who(name);

  const dtype found = dlpack_dtype(t, name);
  if (found != dtype_of<T>)
    throw error(who + ": expected dtype " + std::string(to_string(dtype_of<T>)) + ", found " +
                std::string(to_string(found)));

  if (t.ndim != static_cast<int>(Rank))
    throw error(who + ": expected rank " + std::to_string(Rank) + ", found rank " +
                std::to_string(t.ndim) + " (shape " + detail::describe_dlpack_shape(t) + ")");

  const detail::dlpack_space space = detail::dlpack_space_of(t, name);
  if constexpr (std::is_same_v<Space, host_space>) {
    if (space != detail::dlpack_space::host)
      throw error(who + ": expected a host tensor (kDLCPU or kDLCUDAHost), found " +
                  detail::describe_dlpack_device(t.device));
  } else {
    if (space != detail::dlpack_space::device)
      throw error(who + ": expected a CUDA device tensor (kDLCUDA or kDLCUDAManaged), found " +
                  detail::describe_dlpack_device(t.device));
  }

  if (t.shape == nullptr) throw error(who + ": expected a shape, found shape == NULL");
  std::array<index_t, Rank> extents{};
  index_t size = 1;
  for (std::size_t r = 0; r < Rank; ++r) {
    if (t.shape[r] < 0)
      throw error(who + ": expected non-negative extents, found shape " +
                  detail::describe_dlpack_shape(t));
    extents[r] = static_cast<index_t>(t.shape[r]);
    size *= extents[r];
  }
  // Any stride is accepted, including on size-1 dimensions, where it is never used.
  std::array<index_t, Rank> strides = strided_view<T, Rank, Space>::row_major_strides(extents);
  if (t.strides != nullptr)
    for (std::size_t r = 0; r < Rank; ++r) strides[r] = static_cast<index_t>(t.strides[r]);

  T* data = nullptr;
  if (t.data != nullptr) {
    // Pointer arithmetic only: a device pointer is never dereferenced here.
    void* first = static_cast<std::byte*>(t.data) + t.byte_offset;
    if (const auto misalignment = reinterpret_cast<std::uintptr_t>(first) % alignof(T))
      throw error(who + ": expected data + byte_offset aligned to " + std::to_string(alignof(T)) +
                  " bytes for dtype " + std::string(to_string(dtype_of<T>)) + ", found it " +
                  std::to_string(misalignment) + " byte(s) off (byte_offset " +
                  std::to_string(t.byte_offset) + ")");
    data = static_cast<T*>(first);
  } else if (size > 0) {
    throw error(who + ": expected data for " + std::to_string(size) +
                " elements, found data == NULL");
  }
  return {data, extents, strides};
}

template <class T, std::size_t Rank, class Space = host_space>
strided_view<T, Rank, Space> dlpack_view(const DLManagedTensor& m,
                                         std::string_view name = "DLPack tensor") {
  return dlpack_view<T, Rank, Space>(m.dl_tensor, name);
}

// Versioned tensors: major version 1; read-only ones give views of const T only.
template <class T, std::size_t Rank, class Space = host_space, dlpack_versioned_tensor M>
strided_view<T, Rank, Space> dlpack_view(const M& m, std::string_view name = "DLPack tensor") {
  detail::check_dlpack_version(m, name);
  if constexpr (!std::is_const_v<T>) {
    if ((static_cast<std::uint64_t>(m.flags) & detail::dlpack_flag_read_only) != 0)
      throw error(std::string(name) +
                  ": expected a writable tensor for a view of mutable elements, found a read-only "
                  "tensor (flag DLPACK_FLAG_BITMASK_READ_ONLY); ask for a view of const elements");
  }
  return dlpack_view<T, Rank, Space>(m.dl_tensor, name);
}

// mlr::view_cast<T, Rank, Space>(x) for the three DLPack structs.
template <>
struct view_traits<DLTensor> {
  template <class T, std::size_t Rank, class Space>
  static strided_view<T, Rank, Space> view_cast(const DLTensor& t) {
    return dlpack_view<T, Rank, Space>(t);
  }
};

template <>
struct view_traits<DLManagedTensor> {
  template <class T, std::size_t Rank, class Space>
  static strided_view<T, Rank, Space> view_cast(const DLManagedTensor& m) {
    return dlpack_view<T, Rank, Space>(m.dl_tensor);
  }
};

template <class M>
  requires dlpack_versioned_tensor<M>
struct view_traits<M> {
  template <class T, std::size_t Rank, class Space>
  static strided_view<T, Rank, Space> view_cast(const M& m) {
    return dlpack_view<T, Rank, Space>(m);
  }
};

}  // namespace mlr

#pragma once
// DLPack helpers for the tests: the DLPack 1.0 versioned managed tensor, declared here because
// Debian's dlpack.h is 0.6, and the DLDataType of a C++ element type.
#include <dlpack/dlpack.h>

#include <cstdint>
#include <type_traits>

namespace mlr_test {

struct test_dlpack_version {
  std::uint32_t major;
  std::uint32_t minor;
};

// The layout of DLManagedTensorVersioned (DLPack 1.0).
struct test_managed_tensor_versioned {
  test_dlpack_version version;
  void* manager_ctx;
  void (*deleter)(test_managed_tensor_versioned* self);
  std::uint64_t flags;
  DLTensor dl_tensor;
};

template <class T>
DLDataType dlpack_type_of() {
  constexpr auto bits = static_cast<std::uint8_t>(8 * sizeof(T));
  if constexpr (std::is_same_v<T, bool>) return DLDataType{6, 8, 1};  // kDLBool
  else if constexpr (std::is_floating_point_v<T>) return DLDataType{kDLFloat, bits, 1};
  else if constexpr (std::is_signed_v<T>) return DLDataType{kDLInt, bits, 1};
  else return DLDataType{kDLUInt, bits, 1};
}

}  // namespace mlr_test

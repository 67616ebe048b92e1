#pragma once
// Runtime element types, for sources whose dtype is known only at run time (DLPack, .npy files,
// numpy arrays), and the dispatch from a runtime dtype to a static one.
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "mlr/core/error.hpp"

namespace mlr {

enum class dtype : std::uint8_t { float32, float64, int8, int32, int64, uint8, boolean };

template <class T>
inline constexpr bool is_supported_element_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int8_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, bool>;

template <class T>
  requires is_supported_element_v<std::remove_cv_t<T>>
inline constexpr dtype dtype_of = [] {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return dtype::float32;
  else if constexpr (std::is_same_v<U, double>) return dtype::float64;
  else if constexpr (std::is_same_v<U, std::int8_t>) return dtype::int8;
  else if constexpr (std::is_same_v<U, std::int32_t>) return dtype::int32;
  else if constexpr (std::is_same_v<U, std::int64_t>) return dtype::int64;
  else if constexpr (std::is_same_v<U, std::uint8_t>) return dtype::uint8;
  else return dtype::boolean;
}();

constexpr std::string_view to_string(dtype t) noexcept {
  switch (t) {
    case dtype::float32: return "float32";
    case dtype::float64: return "float64";
    case dtype::int8: return "int8";
    case dtype::int32: return "int32";
    case dtype::int64: return "int64";
    case dtype::uint8: return "uint8";
    case dtype::boolean: return "bool";
  }
  return "unknown";
}

// Calls f(std::type_identity<T>{}) with T the static type of `t`.
template <class F>
constexpr decltype(auto) visit_dtype(dtype t, F&& f) {
  switch (t) {
    case dtype::float32: return f(std::type_identity<float>{});
    case dtype::float64: return f(std::type_identity<double>{});
    case dtype::int8: return f(std::type_identity<std::int8_t>{});
    case dtype::int32: return f(std::type_identity<std::int32_t>{});
    case dtype::int64: return f(std::type_identity<std::int64_t>{});
    case dtype::uint8: return f(std::type_identity<std::uint8_t>{});
    case dtype::boolean: return f(std::type_identity<bool>{});
  }
  throw error("dtype: expected one of float32, float64, int8, int32, int64, uint8, bool");
}

}  // namespace mlr

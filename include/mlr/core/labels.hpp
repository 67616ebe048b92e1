#pragma once
// Decoding one label value under an encoding.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "mlr/config.hpp"
#include "mlr/core/policies.hpp"

namespace mlr {

enum class label_state : std::uint8_t { negative, positive, ignored, invalid };

template <class L>
MLR_HOST_DEVICE constexpr label_state decode_label(L value, label_encoding encoding) noexcept {
  if constexpr (std::is_same_v<L, bool>) {
    return value ? label_state::positive : label_state::negative;
  } else {
    // Only exact integers -1, 0, 1 are labels; anything else (2, 0.5, NaN) is invalid.
    const bool is_one = value == L(1);
    const bool is_zero = value == L(0);
    bool is_minus_one = false;
    if constexpr (std::is_signed_v<L>) is_minus_one = value == L(-1);
    if (is_one) return label_state::positive;
    if (encoding == label_encoding::canonical) {
      if (is_zero) return label_state::negative;
      if (is_minus_one) return label_state::ignored;
    } else {
      if (is_minus_one) return label_state::negative;
      if (is_zero) return label_state::ignored;
    }
    return label_state::invalid;
  }
}

// Whether `value` is a label under some encoding: -1, 0 or 1 (the encoding only decides what
// each means). Branch-free, for hot loops.
template <class L>
MLR_HOST_DEVICE constexpr bool is_label_value(L value) noexcept {
  if constexpr (std::is_same_v<L, bool>) return true;
  else if constexpr (std::is_signed_v<L>) return (value == L(1)) | (value == L(0)) | (value == L(-1));
  else return (value == L(1)) | (value == L(0));
}

// The one value of type L that means "negative" under `encoding` (positive is always 1).
template <class L>
MLR_HOST_DEVICE constexpr L negative_label(label_encoding encoding) noexcept {
  if constexpr (std::is_same_v<L, bool>) return false;
  else if constexpr (std::is_signed_v<L>) return encoding == label_encoding::canonical ? L(0) : L(-1);
  else if (encoding == label_encoding::canonical) return L(0);
  // Unsigned labels cannot hold -1, so signed-encoded unsigned data has no negative: return an
  // invalid value, which validation guarantees is absent.
  else return std::numeric_limits<L>::max();
}

}  // namespace mlr

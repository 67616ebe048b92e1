#pragma once
// Every convention is a named policy (CONVENTIONS.md). Each enum has a name table, so that the
// Python module and mlr-eval accept exactly the C++ names.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "mlr/core/error.hpp"

namespace mlr {

// How labels are written. canonical: 1 positive, 0 negative, -1 ignored.
// signed_zero_ignored (MKT/BiAM files, VOC devkit): +1 positive, -1 negative, 0 ignored.
// bool labels are binary (true positive, false negative) whatever the encoding.
enum class label_encoding : std::uint8_t { canonical, signed_zero_ignored };

// Average-precision flavour (METHOD.md section 4).
enum class ap_method : std::uint8_t { step };

// How per-class (or per-sample) values become one number.
enum class average : std::uint8_t { macro, micro, weighted, samples, none };

// How a class without positives (after ignoring) enters a mean: as 0, or left out.
enum class empty_class : std::uint8_t { zero, exclude };

template <class E>
struct enum_names;  // a table of (value, name); the first name of a value is its canonical one

template <>
struct enum_names<label_encoding> {
  static constexpr std::string_view argument = "encoding";
  static constexpr std::array<std::pair<label_encoding, std::string_view>, 3> table{{
      {label_encoding::canonical, "canonical"},
      {label_encoding::signed_zero_ignored, "signed_zero_ignored"},
      {label_encoding::signed_zero_ignored, "signed"},
  }};
};
template <>
struct enum_names<ap_method> {
  static constexpr std::string_view argument = "method";
  static constexpr std::array<std::pair<ap_method, std::string_view>, 1> table{{
      {ap_method::step, "step"},
  }};
};
template <>
struct enum_names<average> {
  static constexpr std::string_view argument = "average";
  static constexpr std::array<std::pair<average, std::string_view>, 5> table{{
      {average::macro, "macro"},
      {average::micro, "micro"},
      {average::weighted, "weighted"},
      {average::samples, "samples"},
      {average::none, "none"},
  }};
};
template <>
struct enum_names<empty_class> {
  static constexpr std::string_view argument = "empty_class";
  static constexpr std::array<std::pair<empty_class, std::string_view>, 2> table{{
      {empty_class::zero, "zero"},
      {empty_class::exclude, "exclude"},
  }};
};

template <class E>
  requires requires { enum_names<E>::table; }
constexpr std::string_view to_string(E value) noexcept {
  for (const auto& [v, name] : enum_names<E>::table)
    if (v == value) return name;
  return "?";
}

// The policy named `text`; an mlr::error listing the accepted names otherwise.
template <class E>
  requires requires { enum_names<E>::table; }
E parse_policy(std::string_view text) {
  for (const auto& [v, name] : enum_names<E>::table)
    if (name == text) return v;
  std::string accepted;
  for (const auto& [v, name] : enum_names<E>::table) {
    if (!accepted.empty()) accepted += ", ";
    accepted += name;
  }
  throw error(std::string(enum_names<E>::argument) + ": expected one of " + accepted +
              "; found '" + std::string(text) + "'");
}

}  // namespace mlr

#pragma once
// How error messages print indices and values: "(3, 7)", "(4,)", "nan", "2".
#include <array>
#include <cstddef>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "mlr/core/view.hpp"

namespace mlr::detail {

template <std::size_t R>
std::string format_index(const std::array<index_t, R>& idx) {
  std::string s = "(";
  for (std::size_t r = 0; r < R; ++r) s += (r ? ", " : "") + std::to_string(idx[r]);
  return s + (R == 1 ? ",)" : ")");
}

template <class T>
std::string format_value(T value) {
  std::ostringstream out;
  if constexpr (std::is_same_v<T, bool>) out << (value ? "true" : "false");
  else if constexpr (std::is_integral_v<T>) out << static_cast<long long>(value);
  else out << std::setprecision(std::numeric_limits<T>::max_digits10) << value;
  return out.str();
}

}  // namespace mlr::detail

#pragma once
// The binary map of one class (METHOD.md 2.5 steps 1-3), evaluated in double on the first
// refinement's column: s = minmax(P1[:, k]); reference mode truncates 255 s to uint8 and keeps
// u > floor(mean(s) max(u)) (OpenCV THRESH_BINARY, strict); corrected mode keeps s > mean(s).
#include <algorithm>
#include <cstdint>

#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

// astype(uint8) of 255 s for s in [0, 1]: truncation (0.999 gives 254).
inline int uint8_level(double s) noexcept { return static_cast<int>(255.0 * s); }

// Writes b[j] for the n values p[j * stride]; returns false, with b all zero, when the column is
// constant (n = 1 included): min-max is 0/0 there and the official code crashes, so the mask is
// empty in both modes (CONVENTIONS.md 6.30). The column of non-negative inputs is then all zero
// whenever the official candidate test (max > 0) fails, so that test needs no case of its own.
template <class T>
bool class_binary_map(const T* p, index_t n, index_t stride, tagclip_mode mode, std::uint8_t* b) noexcept {
  double lo = static_cast<double>(p[0]), hi = lo;
  for (index_t j = 1; j < n; ++j) {
    const double x = static_cast<double>(p[j * stride]);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (!(hi > lo)) {
    std::fill(b, b + n, std::uint8_t{0});
    return false;
  }
  const double range = hi - lo;
  auto s = [&](index_t j) { return (static_cast<double>(p[j * stride]) - lo) / range; };
  double sum = 0.0;
  int top = 0;
  for (index_t j = 0; j < n; ++j) {
    sum += s(j);
    top = std::max(top, uint8_level(s(j)));
  }
  const double mean = sum / static_cast<double>(n);
  if (mode == tagclip_mode::reference) {
    const int theta = static_cast<int>(mean * top);  // int(): truncation, both factors >= 0
    for (index_t j = 0; j < n; ++j) b[j] = uint8_level(s(j)) > theta;
  } else {
    for (index_t j = 0; j < n; ++j) b[j] = s(j) > mean;
  }
  return true;
}

}  // namespace mlr::detail

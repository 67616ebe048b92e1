#pragma once
// exp over an array of doubles, written so that GCC vectorises it (no calls, no branches): the
// softmaxes of the scoring heads take one exp per (image, token, class), which std::exp would
// make the bottleneck. exp(x) = 2^n p(r), n = round(x / ln 2), r = x - n ln 2 (two-part ln 2),
// p the degree-12 Taylor polynomial (|r| <= ln2 / 2: truncation below 2e-16 relative), within
// 2 ulp of the correctly rounded value for -708 <= x <= 709; x < -708 gives 0 (no subnormals),
// x > 709 gives inf. The softmaxes call it on max-subtracted arguments (x <= 0).
#include <bit>
#include <cstdint>

#include "mlr/core/view.hpp"

namespace mlr::detail {

inline void exp_inplace(double* x, index_t n) noexcept {
  constexpr double log2e = 1.4426950408889634, ln2_hi = 0.6931471803691238, ln2_lo = 1.9082149292705877e-10;
  constexpr double shifter = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  for (index_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double c = v < -708.0 ? -708.0 : (v > 709.0 ? 709.0 : v);
    const double t = c * log2e + shifter;
    const double k = t - shifter;  // round(c / ln 2)
    const double r = (c - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const auto bits = static_cast<std::uint64_t>(static_cast<std::int64_t>(k) + 1023) << 52;
    const double y = p * std::bit_cast<double>(bits);
    x[i] = v < -708.0 ? 0.0 : (v > 709.0 ? __builtin_inf() : y);
  }
}

}  // namespace mlr::detail

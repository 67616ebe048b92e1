#pragma once
// exp and log over arrays of doubles, written so that GCC vectorises them (no calls, no
// branches): the scoring softmaxes take one exp per (image, token, class) and the ASL losses an
// exp and a log per entry, which libm calls would make the bottleneck.
//
// exp(x) = 2^n p(r), n = round(x / ln 2), r = x - n ln 2 (two-part ln 2),
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

// log(x) for finite x > 0 (normal or subnormal; the callers clamp at a positive eps first).
// x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f), and
// log(1 + f) = f - (f²/2 - s (f²/2 + R)) with R = 2 (s²/3 + s⁴/5 + ... + s²⁰/21), the atanh
// series truncated where its next term is below 1e-17 relative (|s| <= 0.1716); k ln 2 added
// in two parts. Within 1 ulp of the correctly rounded value (tests/core/vector_math.test.cpp).
inline void log_inplace(double* x, index_t n) noexcept {
  constexpr double ln2_hi = 0.6931471803691238, ln2_lo = 1.9082149292705877e-10;
  constexpr double smallest_normal = 2.2250738585072014e-308, two54 = 18014398509481984.0;
  for (index_t i = 0; i < n; ++i) {
    const bool subnormal = x[i] < smallest_normal;
    const auto bits = std::bit_cast<std::uint64_t>(subnormal ? x[i] * two54 : x[i]);
    // m in [1, 2), then halved above sqrt(2) so that |f| stays small
    double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
    const bool halve = m > 1.4142135623730951;
    m = halve ? 0.5 * m : m;
    const double k = static_cast<double>(static_cast<std::int64_t>(bits >> 52) - 1023 - (subnormal ? 54 : 0) +
                                         (halve ? 1 : 0));
    const double f = m - 1.0, s = f / (2.0 + f), z = s * s, hfsq = 0.5 * f * f;
    double r = 2.0 / 21;
    r = r * z + 2.0 / 19;
    r = r * z + 2.0 / 17;
    r = r * z + 2.0 / 15;
    r = r * z + 2.0 / 13;
    r = r * z + 2.0 / 11;
    r = r * z + 2.0 / 9;
    r = r * z + 2.0 / 7;
    r = r * z + 2.0 / 5;
    r = r * z + 2.0 / 3;
    r *= z;
    x[i] = k * ln2_hi - ((hfsq - (s * (hfsq + r) + k * ln2_lo)) - f);
  }
}

}  // namespace mlr::detail

#pragma once
// The entries of an ASL loss (METHOD.md 3.1-3.5), shared by the sigmoid and the dual (softmax)
// forms: given the positive and negative probabilities p and q as the reference computes them,
// each entry's loss -w·log(max(·, eps)) and its derivative with respect to the logit z behind p,
// where dp/dz = p·q (sigmoid: q = 1 - p; dual: z = l+ - l-, q the softmax's other output).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "mlr/config.hpp"
#include "mlr/core/detail/vector_math.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/loss/detail/inputs.hpp"

namespace mlr::detail {

template <class T>
struct asl_params {
  T gamma_pos, gamma_neg, clip, eps, log_eps;
  int int_gamma_pos, int_gamma_neg;  // the gamma as a small integer (repeated products), else -1
  bool focusing;                     // some gamma > 0; otherwise the weight step is skipped
  bool shifting;                     // clip > 0; otherwise no shifting at all (METHOD.md 6.4 #22)
  bool differentiate;                // focal_weight::differentiable
};

inline int small_integer(double gamma) {
  return gamma == std::floor(gamma) && gamma <= 15 ? static_cast<int>(gamma) : -1;
}

template <class T, class Options>
asl_params<T> make_asl_params(const Options& o) {
  check_option(std::isfinite(o.gamma_pos) && o.gamma_pos >= 0, "gamma_pos", "a finite value >= 0", o.gamma_pos);
  check_option(std::isfinite(o.gamma_neg) && o.gamma_neg >= 0, "gamma_neg", "a finite value >= 0", o.gamma_neg);
  check_option(std::isfinite(o.clip), "clip", "a finite value (<= 0: no shifting)", o.clip);
  check_option(std::isfinite(o.eps) && o.eps > 0 && static_cast<T>(o.eps) > 0, "eps",
               "a finite value > 0 (and > 0 in the input's type)", o.eps);
  const T eps = static_cast<T>(o.eps);
  return {static_cast<T>(o.gamma_pos), static_cast<T>(o.gamma_neg), static_cast<T>(o.clip), eps, std::log(eps),
          small_integer(o.gamma_pos), small_integer(o.gamma_neg), o.gamma_pos > 0 || o.gamma_neg > 0, o.clip > 0,
          o.focal_weight == focal_weight::differentiable};
}

// base^gamma with 0^0 = 1 (METHOD.md 6.4 #23). Both gammas small integers (0 to 15): a
// branch-free product of base, base^2, base^4, base^8; otherwise pow.
template <bool Integer, class T>
MLR_FORCEINLINE T focal_power(T base, T gamma, int int_gamma) {
  if constexpr (!Integer) return std::pow(base, gamma);
  const T b2 = base * base, b4 = b2 * b2, b8 = b4 * b4;
  return ((int_gamma & 1) ? base : T(1)) * ((int_gamma & 2) ? b2 : T(1)) * ((int_gamma & 4) ? b4 : T(1)) *
         ((int_gamma & 8) ? b8 : T(1));
}

// The ASL terms of rows [begin, end) of C entries, shared by the sigmoid and the dual form. The
// entries go through in blocks, as arrays, so that every step (the exp and the log of each entry
// above all) runs as a vectorised loop over the block. A form provides, for entry (b, c):
//   form.label(b, c) -> label_flags, form.finite(b, c) -> bool
//   form.exp_argument(b, c, bool& flag) -> double (0 for a non-finite input)
//   Form::probabilities(T exp of the argument, bool flag) -> {p, q} in T, as the reference forms them
//   form.store(b, c, slope): writes the gradient (0 for entries not kept)
// The focusing variants are template flags, so that the loops hold no branch.
template <bool Focusing, bool Differentiate, bool Integer, class T, class Form>
partial_sum asl_block_rows(index_t begin, index_t end, index_t C, const asl_params<T>& a, const Form& form) {
  constexpr index_t block = 128;
  alignas(64) double exps[block], logs[block];
  alignas(64) T prob[block], dprob[block], slope[block];
  // 0/1 bytes, not bool: GCC vectorises no 1-bit arithmetic
  alignas(64) std::uint8_t flag[block], positive[block], kept[block], clamped[block], in_log[block];
  const T shift = a.shifting ? a.clip : T(0);  // q + 0 is q
  partial_sum part;
  for (index_t b = begin; b < end; ++b)
    for (index_t c0 = 0; c0 < C; c0 += block) {
      const index_t n = std::min(block, C - c0);
      for (index_t i = 0; i < n; ++i) {
        const label_flags label = form.label(b, c0 + i);
        part.bad |= !label.valid || !form.finite(b, c0 + i);
        positive[i] = label.positive;
        kept[i] = label.positive || label.negative;
        bool up = false;
        exps[i] = form.exp_argument(b, c0 + i, up);
        flag[i] = up;
      }
      exp_inplace(exps, n);
      // Positive: prob = p. Negative: prob = q' = min(q + clip, 1), the shifted probability p_m.
      // (Arithmetic stays outside the selects: GCC only if-converts operations it may speculate.)
      for (index_t i = 0; i < n; ++i) {
        const auto [p, q] = Form::probabilities(static_cast<T>(exps[i]), flag[i]);
        const T shifted = q + shift;
        clamped[i] = !positive[i] && shifted > T(1);  // clamp(max = 1) passes the gradient up to 1 inclusive
        prob[i] = positive[i] ? p : clamped[i] ? T(1) : shifted;
        dprob[i] = positive[i] ? p * q : -(p * q);  // d prob / dz where the clamps pass
        in_log[i] = prob[i] >= a.eps;              // clamp(min = eps) passes the gradient from eps inclusive
        logs[i] = static_cast<double>(in_log[i] ? prob[i] : a.eps);
      }
      log_inplace(logs, n);
      double value = 0.0;
      index_t count = 0;
      for (index_t i = 0; i < n; ++i) {
        const T log_prob = static_cast<T>(logs[i]);  // rounded to T, as the reference takes it
        const bool pos = positive[i] != 0, unclamped = clamped[i] == 0;
        T w = 1, weight_slope = 0;
        if constexpr (Focusing) {
          const T base = T(1) - prob[i];  // 1 - pt, formed as the reference forms it
          const T gamma = pos ? a.gamma_pos : a.gamma_neg;
          // Integer gammas: both powers, then a select (a per-entry exponent would be a branch)
          const auto power = [&](T g_pos, int i_pos, T g_neg, int i_neg) {
            if constexpr (Integer) {
              const T p_pos = focal_power<true>(base, g_pos, i_pos), p_neg = focal_power<true>(base, g_neg, i_neg);
              return pos ? p_pos : p_neg;
            } else {
              return focal_power<false>(base, pos ? g_pos : g_neg, pos ? i_pos : i_neg);
            }
          };
          w = power(a.gamma_pos, a.int_gamma_pos, a.gamma_neg, a.int_gamma_neg);
          // -log · dw/dz with dw/dz = -gamma · base^(gamma-1) · d prob / dz; zero where base = 0 (the
          // gradient is blocked there, or log = 0) and for gamma = 0 (torch's pow gradient at exponent 0).
          if constexpr (Differentiate) {
            const auto lower = [](int g) { return g > 0 ? g - 1 : g; };  // gamma = 0: unused
            const T d = gamma * power(a.gamma_pos - T(1), lower(a.int_gamma_pos), a.gamma_neg - T(1),
                                      lower(a.int_gamma_neg)) * dprob[i] * log_prob;
            weight_slope = (gamma != T(0)) & (base > T(0)) & unclamped ? d : T(0);
          }
        }
        const T log_slope = -w * dprob[i] / prob[i], entry = -w * log_prob;
        value += kept[i] ? static_cast<double>(entry) : 0.0;
        count += kept[i];
        const T total = ((in_log[i] != 0) & unclamped ? log_slope : T(0)) + weight_slope;
        slope[i] = kept[i] ? total : T(0);
      }
      part.value += value;
      part.count += count;
      for (index_t i = 0; i < n; ++i) form.store(b, c0 + i, slope[i]);
    }
  return part;
}

template <class T, class Form>
partial_sum asl_rows(index_t begin, index_t end, index_t C, const asl_params<T>& a, const Form& form) {
  const bool integer = a.int_gamma_pos >= 0 && a.int_gamma_neg >= 0;
  if (!a.focusing) return asl_block_rows<false, false, true>(begin, end, C, a, form);
  if (a.differentiate)
    return integer ? asl_block_rows<true, true, true>(begin, end, C, a, form)
                   : asl_block_rows<true, true, false>(begin, end, C, a, form);
  return integer ? asl_block_rows<true, false, true>(begin, end, C, a, form)
                 : asl_block_rows<true, false, false>(begin, end, C, a, form);
}

}  // namespace mlr::detail

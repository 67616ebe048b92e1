#pragma once
// One entry of an ASL loss (METHOD.md 3.1-3.5), shared by the sigmoid and the dual (softmax)
// forms: given the positive and negative probabilities p and q as the reference computes them,
// the entry's loss -w·log(max(·, eps)) and its derivative with respect to the logit z behind p,
// where dp/dz = p·q (sigmoid: q = 1 - p; dual: z = l+ - l-, q the softmax's other output).
#include <cmath>

#include "mlr/config.hpp"
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

// base^gamma with 0^0 = 1 (METHOD.md 6.4 #23). A small integer gamma (0 to 15) as a branch-free
// product of base, base^2, base^4, base^8; otherwise pow.
template <class T>
MLR_FORCEINLINE T focal_power(T base, T gamma, int int_gamma) {
  if (int_gamma < 0) return std::pow(base, gamma);
  const T b2 = base * base, b4 = b2 * b2, b8 = b4 * b4;
  return ((int_gamma & 1) ? base : T(1)) * ((int_gamma & 2) ? b2 : T(1)) * ((int_gamma & 4) ? b4 : T(1)) *
         ((int_gamma & 8) ? b8 : T(1));
}

template <class T>
struct asl_entry {
  T value;  // -w·log(max(prob, eps))
  T slope;  // d value / dz
};

// One entry, positive or negative, without data-dependent branches (labels and the clip decision
// vary from entry to entry, so branches would mispredict). Positive: prob = p, focusing base
// 1 - p. Negative: prob = q' = min(q + clip, 1), base 1 - q' (the shifted probability p_m); the
// reference forms 1 - pt the same way.
template <class T>
MLR_FORCEINLINE asl_entry<T> asl_term(T p, T q, bool positive, const asl_params<T>& a) {
  const T shifted = a.shifting ? q + a.clip : q;
  const bool clamped = !positive && shifted > T(1);  // clamp(max = 1) passes the gradient up to 1 inclusive
  const T prob = positive ? p : clamped ? T(1) : shifted;
  const bool in_log = prob >= a.eps;  // clamp(min = eps) passes the gradient from eps inclusive
  const T log_prob = std::log(in_log ? prob : a.eps);
  const T dprob = positive ? p * q : -(p * q);  // d prob / dz where the clamp passes
  T w = 1, weight_slope = 0;
  if (a.focusing) {
    const T base = T(1) - prob;
    const T gamma = positive ? a.gamma_pos : a.gamma_neg;
    const int int_gamma = positive ? a.int_gamma_pos : a.int_gamma_neg;
    w = focal_power(base, gamma, int_gamma);
    // -log · dw/dz with dw/dz = -gamma · base^(gamma-1) · d prob / dz; zero where base = 0 (the
    // gradient is blocked there, or log = 0) and for gamma = 0 (torch's pow gradient at exponent 0).
    if (a.differentiate) {
      const int int_lower = int_gamma > 0 ? int_gamma - 1 : int_gamma;  // gamma = 0: unused
      const T d = gamma * focal_power(base, gamma - T(1), int_lower) * dprob * log_prob;
      weight_slope = (gamma != T(0) && base > T(0) && !clamped) ? d : T(0);
    }
  }
  const T log_slope = (in_log && !clamped) ? -w * dprob / prob : T(0);
  return {-w * log_prob, log_slope + weight_slope};
}

}  // namespace mlr::detail

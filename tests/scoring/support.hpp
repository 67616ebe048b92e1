#pragma once
// Shared by the scoring tests: seeded features and direct transcriptions of METHOD.md 1.1-1.3
// in long double (no GEMM, no blocking) to compare the library with.
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "mlr/core/view.hpp"

namespace mlr_test {

using mlr::index_t;

template <class T>
std::vector<T> features(std::size_t n, unsigned seed, double mean = 0.0) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d(mean, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(gen));
  return v;
}

// cos(a[i], b[j]) for rows of two row-major matrices of width D.
template <class T>
long double naive_cosine(const T* a, const T* b, index_t D) {
  long double ab = 0, aa = 0, bb = 0;
  for (index_t d = 0; d < D; ++d) {
    ab += static_cast<long double>(a[d]) * b[d];
    aa += static_cast<long double>(a[d]) * a[d];
    bb += static_cast<long double>(b[d]) * b[d];
  }
  return ab / std::sqrt(aa * bb);
}

// DualCoOp logits [B, 2, C] of row-major visual [B, L, D], text_neg / text_pos [C, D].
template <class T>
std::vector<long double> naive_dualcoop(const std::vector<T>& v, const std::vector<T>& tn, const std::vector<T>& tp,
                                        index_t B, index_t L, index_t D, index_t C, double s = 20, double o = 100) {
  std::vector<long double> out(static_cast<std::size_t>(B * 2 * C));
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) {
      std::vector<long double> sp(static_cast<std::size_t>(L)), sn(sp.size());
      long double mx = -1e30L;
      for (index_t l = 0; l < L; ++l) {
        const T* f = v.data() + (b * L + l) * D;
        sp[static_cast<std::size_t>(l)] = naive_cosine(f, tp.data() + c * D, D);
        sn[static_cast<std::size_t>(l)] = naive_cosine(f, tn.data() + c * D, D);
        mx = std::max(mx, sp[static_cast<std::size_t>(l)]);
      }
      long double z = 0, lp = 0, ln = 0;
      for (index_t l = 0; l < L; ++l) {
        const long double w = std::exp(s * (sp[static_cast<std::size_t>(l)] - mx));
        z += w;
        lp += w * sp[static_cast<std::size_t>(l)];
        ln += w * sn[static_cast<std::size_t>(l)];
      }
      out[static_cast<std::size_t>((b * 2 + 0) * C + c)] = o * ln / z;
      out[static_cast<std::size_t>((b * 2 + 1) * C + c)] = o * lp / z;
    }
  return out;
}

}  // namespace mlr_test

#pragma once
// AVX-512 versions of the per-row scans of top-k and the threshold metrics, for dense rows of
// float scores with one-byte labels (the common case): 64 entries per step (one vector of labels,
// four of scores), a masked step for the row's tail, every test a mask register, the next row
// prefetched while a row is read. Compiled where the build enables
// AVX-512 F/BW/DQ/VL (-march=native on such a CPU); elsewhere row_simd<T, L>::enabled is false
// and the portable loops of top_k.hpp / threshold.hpp run. Both give the same results.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <limits>

#include "mlr/config.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/scoped_rows.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#include <immintrin.h>
#define MLR_ROWS_AVX512 1
#else
#define MLR_ROWS_AVX512 0
#endif

namespace mlr::detail {

// What one scan of a top-k row finds: invalid entries, positives, and a lower bound of the score
// of every predicted class (see top_k.hpp, kth_lower_bound).
struct top_k_row_scan {
  bool bad;
  std::int32_t positives;
  float floor;
};

template <class T, class L>
struct row_simd {
  static constexpr bool enabled = false;
  static constexpr index_t counter_block = 1;
};

#if MLR_ROWS_AVX512
// Labels are read as signed bytes. The values of an encoding (1, negative, ignored) are an
// interval [lowest, 1] of {-1, 0, 1} containing 0 (label_codes), so a row's labels are valid
// exactly when their minimum and maximum lie in it, and max(y, 0) is 1 for a positive, 0 else.
template <class L>
  requires(sizeof(L) == 1)
struct row_simd<float, L> {
  static constexpr bool enabled = true;
  static constexpr index_t counter_block = 64;  // entries per step: one vector of labels

  struct byte_codes {
    __m512i ignored, lowest;
    explicit byte_codes(label_codes<L> c) noexcept {
      const auto n = static_cast<std::int8_t>(c.negative), g = static_cast<std::int8_t>(c.ignored);
      // An ignored value L cannot hold stands as 1 in label_codes: then nothing is ignored, and
      // 2 (never a valid label) marks nothing.
      ignored = _mm512_set1_epi8(g == 1 ? std::int8_t{2} : g);
      lowest = _mm512_set1_epi8(std::min<std::int8_t>({1, n, g}));
    }
  };

  // Accumulates what a row's validity needs: the labels' range, and a sum that stays zero while
  // every score is finite (s * 0 is NaN for an infinite or NaN s; four sums, four independent
  // chains).
  struct validity {
    __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
    __m512 nan0 = _mm512_setzero_ps(), nan1 = nan0, nan2 = nan0, nan3 = nan0;
    MLR_FORCEINLINE void labels(__m512i y) noexcept {
      lo = _mm512_min_epi8(lo, y);
      hi = _mm512_max_epi8(hi, y);
    }
    MLR_FORCEINLINE void scores(__m512 v0, __m512 v1, __m512 v2, __m512 v3) noexcept {
      const __m512 zero = _mm512_setzero_ps();
      nan0 = _mm512_fmadd_ps(v0, zero, nan0);
      nan1 = _mm512_fmadd_ps(v1, zero, nan1);
      nan2 = _mm512_fmadd_ps(v2, zero, nan2);
      nan3 = _mm512_fmadd_ps(v3, zero, nan3);
    }
    MLR_FORCEINLINE bool bad(const byte_codes& c) const noexcept {
      const __m512 n = _mm512_add_ps(_mm512_add_ps(nan0, nan1), _mm512_add_ps(nan2, nan3));
      return _mm512_cmp_ps_mask(n, n, _CMP_UNORD_Q) != 0 || _mm512_cmpgt_epi8_mask(c.lowest, lo) != 0 ||
             _mm512_cmpgt_epi8_mask(hi, _mm512_set1_epi8(1)) != 0;
    }
  };

  // Steps of 64 entries: step(q, in, labels), in selecting the entries of the step (all but in
  // the last; the masked-off ones read as 0: a valid label, a finite score). One call site, so
  // that the state step captures stays in registers.
  template <class F>
  static MLR_FORCEINLINE void for_each_step(const L* l, index_t width, F&& step) {
    for (index_t q = 0; q < width; q += counter_block) {
      const __mmask64 in = width - q >= counter_block ? ~__mmask64{0} : (__mmask64{1} << (width - q)) - 1;
      step(q, in, _mm512_maskz_loadu_epi8(in, l + q));
    }
  }

  // The row read after this one (null: none), fetched step by step while this one is read: the
  // memory stays busy through the work between rows' reads.
  struct next_row {
    const float* s;
    const L* l;
    MLR_FORCEINLINE void fetch(index_t q, index_t width) const noexcept {
      if (!s) return;
      MLR_PREFETCH(l + q);
      for (index_t j = 0; j < 64 && q + j < width; j += 16) MLR_PREFETCH(s + q + j);
    }
  };

  // The step's 64 scores as four vectors (the masked-off ones `fill`).
  struct scores64 {
    __m512 v0, v1, v2, v3;
    MLR_FORCEINLINE scores64(const float* s, index_t q, __mmask64 in, __m512 fill = _mm512_setzero_ps()) noexcept
        : v0(_mm512_mask_loadu_ps(fill, static_cast<__mmask16>(in), s + q)),
          v1(_mm512_mask_loadu_ps(fill, static_cast<__mmask16>(in >> 16), s + q + 16)),
          v2(_mm512_mask_loadu_ps(fill, static_cast<__mmask16>(in >> 32), s + q + 32)),
          v3(_mm512_mask_loadu_ps(fill, static_cast<__mmask16>(in >> 48), s + q + 48)) {}
    // Each vector's lanes into `top` where m (a mask over the 64) is set.
    MLR_FORCEINLINE void max_into(__m512& top, __mmask64 m) const noexcept {
      const auto at = [m](int j) { return static_cast<__mmask16>(m >> (16 * j)); };
      top = _mm512_mask_max_ps(top, at(0), top, v0);
      top = _mm512_mask_max_ps(top, at(1), top, v1);
      top = _mm512_mask_max_ps(top, at(2), top, v2);
      top = _mm512_mask_max_ps(top, at(3), top, v3);
    }
    // The 64 compares with b as one mask.
    template <int Predicate>
    MLR_FORCEINLINE __mmask64 compare(__m512 b) const noexcept {
      const __mmask16 m0 = _mm512_cmp_ps_mask(v0, b, Predicate), m1 = _mm512_cmp_ps_mask(v1, b, Predicate),
                      m2 = _mm512_cmp_ps_mask(v2, b, Predicate), m3 = _mm512_cmp_ps_mask(v3, b, Predicate);
      return _mm512_kunpackd(_mm512_kunpackw(m3, m2), _mm512_kunpackw(m1, m0));
    }
  };

  // One pass: validity, positives, and the k-th largest of 16 lane maxima over the candidates
  // (every entry, or only the counted ones when `removed`); see kth_lower_bound in top_k.hpp.
  // Leaves the lane maxima of step t (over every entry) in step_max[16 t, 16 t + 16), for
  // for_each_at_least: (width + 63) / 64 * 16 floats.
  static top_k_row_scan scan_top_k(const float* s, const L* l, index_t width, index_t k, bool removed,
                                   label_codes<L> lc, next_row next, float* step_max) noexcept {
    const byte_codes c(lc);
    constexpr float lowest = std::numeric_limits<float>::lowest();
    const __m512 none = _mm512_set1_ps(lowest);
    validity check;
    __m512 top = none;
    __m512i positives = _mm512_setzero_si512();
    __mmask64 ignored = 0;
    for_each_step(l, width, [&](index_t q, __mmask64 in, __m512i y) {
      next.fetch(q, width);
      const scores64 v(s, q, in, none);  // lane j: entries j mod 16
      check.labels(y);
      check.scores(v.v0, v.v1, v.v2, v.v3);
      positives = _mm512_add_epi64(positives, _mm512_sad_epu8(_mm512_max_epi8(y, _mm512_setzero_si512()),
                                                             _mm512_setzero_si512()));
      ignored |= _mm512_mask_cmpeq_epi8_mask(in, y, c.ignored);
      const auto max = [](__m512 a, __m512 b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); };
      const __m512 m = max(max(v.v0, v.v1), max(v.v2, v.v3));
      _mm512_storeu_ps(step_max + q / 4, m);
      top = max(top, m);
    });
    __m512 best = top;
    if (removed && ignored) {  // ignored entries may hold lane maxima: again over the candidates
      best = _mm512_set1_ps(lowest);
      for_each_step(l, width, [&](index_t q, __mmask64 in, __m512i y) {
        scores64(s, q, in).max_into(best, in & ~_mm512_cmpeq_epi8_mask(y, c.ignored));
      });
    }
    const bool bad = check.bad(c);
    alignas(64) std::int64_t sums[8];
    _mm512_store_si512(sums, positives);
    std::int64_t total = 0;
    for (const std::int64_t p : sums) total += p;
    return {bad, static_cast<std::int32_t>(total), bad ? lowest : kth_largest(best, k)};
  }

  // The k-th largest of 16 lanes (lowest when k > 16): the value of the lanes with fewer than k
  // lanes above them and at least k at or above. Sixteen independent compares per count rather
  // than k dependent reductions: the floor, which the selection's branches wait for, comes early.
  // Lanes must not be NaN.
  static float kth_largest(__m512 v, index_t k) noexcept {
    if (k > 16) return std::numeric_limits<float>::lowest();
    const __m512i one = _mm512_set1_epi32(1);
    __m512i above = _mm512_setzero_si512(), at_or_above = above;
    for (int r = 0; r < 16; ++r) {
      // lane r everywhere (masked form: GCC 12 warns about the unmasked one's undefined source)
      const __m512 b = _mm512_mask_permutexvar_ps(v, 0xFFFF, _mm512_set1_epi32(r), v);
      above = _mm512_mask_add_epi32(above, _mm512_cmp_ps_mask(b, v, _CMP_GT_OQ), above, one);
      at_or_above = _mm512_mask_add_epi32(at_or_above, _mm512_cmp_ps_mask(b, v, _CMP_GE_OQ), at_or_above, one);
    }
    const __m512i kk = _mm512_set1_epi32(static_cast<int>(k));
    const __mmask16 kth = _mm512_cmplt_epi32_mask(above, kk) & _mm512_cmpge_epi32_mask(at_or_above, kk);
    return _mm512_cvtss_f32(_mm512_maskz_compress_ps(kth, v));
  }

  // f(q) for every entry q with score >= floor, reading only the steps whose maxima (step_max, as
  // left by scan_top_k) reach it. Those steps are found first, 64 at a time, without a branch
  // per step: a row has few, in unpredictable places.
  template <class F>
  static MLR_FORCEINLINE void for_each_at_least(const float* s, index_t width, float floor, const float* step_max,
                                                F&& f) {
    const __m512 b = _mm512_set1_ps(floor);
    const index_t steps = (width + 63) / 64;
    for (index_t t0 = 0; t0 < steps; t0 += 64) {
      std::uint64_t reached = 0;
      for (index_t t = t0; t < std::min(steps, t0 + 64); ++t)
        reached |= std::uint64_t{_mm512_cmp_ps_mask(_mm512_loadu_ps(step_max + 16 * t), b, _CMP_GE_OQ) != 0} << (t - t0);
      for (; reached != 0; reached &= reached - 1) {
        const index_t q = 64 * (t0 + std::countr_zero(reached));
        const __mmask64 in = width - q >= 64 ? ~__mmask64{0} : (__mmask64{1} << (width - q)) - 1;
        for (__mmask64 m = in & scores64(s, q, in).template compare<_CMP_GE_OQ>(b); m != 0; m &= m - 1)
          f(q + std::countr_zero(m));
      }
    }
  }

  // One row into byte counters (tp, predicted, positives per class; each padded to a multiple of
  // counter_block); returns whether some entry is invalid.
  template <bool Inclusive>
  static MLR_FORCEINLINE bool count_threshold(const float* s, const L* l, index_t width, float bound,
                                              label_codes<L> lc, next_row next, std::uint8_t* tp,
                                              std::uint8_t* pred, std::uint8_t* pos) noexcept {
    const byte_codes c(lc);
    const __m512 b = _mm512_set1_ps(bound);
    const __m512i one = _mm512_set1_epi8(1);
    validity check;
    for_each_step(l, width, [&](index_t q, __mmask64 in, __m512i y) {
      next.fetch(q, width);
      check.labels(y);
      const __m512i g = _mm512_max_epi8(y, _mm512_setzero_si512());
      const __mmask64 counted = _mm512_mask_cmpneq_epi8_mask(in, y, c.ignored);
      const scores64 v(s, q, in);
      check.scores(v.v0, v.v1, v.v2, v.v3);
      const __mmask64 p = counted & v.template compare<Inclusive ? _CMP_GE_OQ : _CMP_GT_OQ>(b);
      const __m512i t = _mm512_loadu_si512(tp + q), d = _mm512_loadu_si512(pred + q), o = _mm512_loadu_si512(pos + q);
      _mm512_storeu_si512(tp + q, _mm512_mask_add_epi8(t, p, t, g));
      _mm512_storeu_si512(pred + q, _mm512_mask_add_epi8(d, p, d, one));
      _mm512_storeu_si512(pos + q, _mm512_add_epi8(o, g));
    });
    return check.bad(c);
  }
};
#endif

}  // namespace mlr::detail

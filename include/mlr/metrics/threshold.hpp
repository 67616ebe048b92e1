#pragma once
// Threshold metrics of an N x C score matrix (METHOD.md 4.7, CONVENTIONS.md "Threshold metrics"):
// per-class precision / recall / F1, their means CP, CR, cf1_harmonic (ML-GCN, TagCLIP
// 'category') and cf1_mean (ASL/DualCoOp F_C), and the pooled OP, OR, OF1.
//
// A score is predicted positive when score > t (comparison::greater, default) or score >= t
// (comparison::greater_equal). t is options.threshold (threshold_kind::absolute), or per image
// min + mu * (max - min) of the image's scores over the classes in scope
// (threshold_kind::relative, TagCLIP; with the default strict comparison an all-equal row
// predicts nothing). The relative threshold is taken over every score in scope, ignored entries
// included: they are scores like the others, only their labels take no part in the counts.
// Ignored entries take no part in any count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/avx512_rows.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/scoped_rows.hpp"

namespace mlr {

struct threshold_options {
  double threshold = 0.5;                                   // threshold_kind::absolute
  mlr::threshold_kind kind = mlr::threshold_kind::absolute;
  double mu = 0.5;                                          // threshold_kind::relative, in [0, 1]
  mlr::comparison comparison = mlr::comparison::greater;
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
  mlr::empty_class empty_class = mlr::empty_class::zero;    // how a class without positives enters CR, cf1_mean
  mlr::zero_division zero_division = mlr::zero_division::standard;
  mlr::predicted_count count = mlr::predicted_count::exact; // mlgcn: N^p := 1 where nothing is predicted
};

// Every per-class vector is in the order of the classes in scope (the `classes` argument, or
// 0..C-1). Counts are exact (predicted_count::mlgcn changes P and OP, not `predicted`).
struct threshold_result {
  double cp;            // mean over classes of precision
  double cr;            // mean over classes of recall; a class without positives by empty_class
  double cf1_harmonic;  // 2 cp cr / (cp + cr)  (ML-GCN, TagCLIP 'category')
  double cf1_mean;      // mean of per-class f1; a class without positives by empty_class (ASL F_C)
  double op;            // pooled precision
  double or_;           // pooled recall ("or" is a keyword in C++ and Python)
  double of1;           // pooled F1
  std::vector<double> precision, recall, f1;  // per class
  std::vector<std::int64_t> true_positives, predicted, positives;  // per class
  std::int64_t total_true_positives = 0, total_predicted = 0, total_positives = 0;

  bool empty(std::size_t c) const noexcept { return positives[c] == 0; }
  std::size_t empty_classes() const noexcept {
    return static_cast<std::size_t>(std::count(positives.begin(), positives.end(), 0));
  }
};

namespace detail {

struct threshold_prf {
  double p, r, f1;
};

inline double threshold_nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }

// F1 of (p, r) under a zero-division rule (asl handled by the caller: it zeroes on tp = 0).
inline double threshold_f1(double p, double r, zero_division rule) noexcept {
  switch (rule) {
    case zero_division::biam: return 2 * p * r / (p + r);  // 0/0 = NaN
    case zero_division::sdl: {
      const double f = 2 * p * r / (p + r);
      return (p == 0 || r == 0 || std::isnan(f)) ? 0.0 : f;
    }
    case zero_division::standard:
    case zero_division::asl:
    default:
      if (std::isnan(p) || std::isnan(r)) return threshold_nan();
      return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
  }
}

// Precision, recall and F1 of counts under a zero-division rule.
inline threshold_prf threshold_prf_of(std::int64_t tp, std::int64_t predicted, std::int64_t positives,
                               zero_division rule) noexcept {
  if (rule == zero_division::asl && tp == 0) return {0.0, 0.0, 0.0};
  const double t = static_cast<double>(tp);
  double p = predicted > 0 ? t / static_cast<double>(predicted)
                           : (rule == zero_division::biam ? threshold_nan() : 0.0);
  double r = positives > 0 ? t / static_cast<double>(positives) : threshold_nan();
  return {p, r, threshold_f1(p, r, rule == zero_division::asl ? zero_division::standard : rule)};
}

struct threshold_counts {
  std::vector<std::int64_t> tp, predicted, positives;
  bool valid = true;
};

// The threshold in the scores' type, such that comparing a finite score s with it in T decides
// exactly as comparing double(s) with t: the largest T <= t for s > t, the smallest T >= t for
// s >= t (one float compare instead of a conversion per entry).
template <class T>
T score_bound(double t, bool inclusive) noexcept {
  if constexpr (std::is_same_v<T, double>) {
    return t;
  } else {
    const double top = std::numeric_limits<T>::max();
    const T b = static_cast<T>(std::clamp(t, -top, top));  // nearest; clamped: no overflow
    const T inf = std::numeric_limits<T>::infinity();
    if (inclusive) return static_cast<double>(b) < t ? std::nextafter(b, inf) : b;
    return static_cast<double>(b) > t ? std::nextafter(b, -inf) : b;
  }
}

// Min and max of a row, as integer keys (an integer reduction vectorises, a float one does not
// without -ffast-math). Meaningful only for a row of finite scores; otherwise the call's result is
// discarded.
template <class Row>
auto row_range(const Row& s, index_t width) noexcept {
  using T = std::remove_cvref_t<decltype(s[0])>;
  auto lo = std::numeric_limits<order_key_t<T>>::max(), hi = std::numeric_limits<order_key_t<T>>::min();
  for (index_t c = 0; c < width; ++c) {
    const auto key = order_key(s[c]);
    lo = std::min(lo, key);
    hi = std::max(hi, key);
  }
  return std::pair{from_order_key<T>(lo), from_order_key<T>(hi)};
}

// One row into per-class tile counters, branch-free; returns whether some entry is invalid (a
// non-finite score or a label that is not one of the encoding's values), or-reduced in bytes.
template <bool Inclusive, class SRow, class LRow, class T, class L, class C>
MLR_FORCEINLINE bool count_threshold_row(const SRow& s, const LRow& l, index_t width, T bound, label_codes<L> codes,
                                         C* tp, C* pred, C* pos) noexcept {
  std::uint8_t bad = 0;
  for (index_t c = 0; c < width; ++c) {
    const T v = s[c];
    const L y = l[c];
    const bool p = (Inclusive ? v >= bound : v > bound) & codes.counted(y);
    const bool g = codes.positive(y);
    pred[c] = static_cast<C>(pred[c] + p);
    tp[c] = static_cast<C>(tp[c] + (p & g));
    pos[c] = static_cast<C>(pos[c] + g);
    bad = static_cast<std::uint8_t>(bad | !finite_score(v) | !codes.valid(y));
  }
  return bad != 0;
}

// Counts over tiles of rows in parallel: a tile (fewer rows than a tile_count can count) counts
// into tile counters, flushed into its worker's 64-bit ones; integer sums, so the result does not
// depend on the order or the thread count.
template <bool Inclusive, class Rows>
threshold_counts count_threshold(const Rows& rows, const threshold_options& o, const execution_env& env) {
  using T = typename Rows::score_type;
  using L = typename Rows::label_type;
  using simd = row_simd<T, L>;
  constexpr bool vector_path = simd::enabled && Rows::dense;
  // A tile's per-class counter: the narrower, the less widening per entry (the portable loop,
  // vectorised by the compiler, is fastest at 16 bits; the vector path adds bytes).
  using tile_count = std::conditional_t<vector_path, std::uint8_t, std::uint16_t>;
  const index_t n = rows.rows(), width = rows.width();
  const auto k = static_cast<std::size_t>(width);
  constexpr auto block = static_cast<std::size_t>(simd::counter_block);
  const std::size_t padded = (k + block - 1) / block * block;  // whole vectors of counters
  const index_t rows_per_task =
      std::clamp<index_t>((index_t{1} << 16) / width, 1, std::numeric_limits<tile_count>::max());
  const auto tasks = static_cast<std::size_t>((n + rows_per_task - 1) / rows_per_task);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(env.thread_count(), tasks));
  std::vector<std::vector<std::int64_t>> counts(std::max(1u, workers), std::vector<std::int64_t>(3 * k, 0));
  std::vector<std::vector<tile_count>> tiles(counts.size());
  std::vector<char> valid(tasks, 1);
  const bool relative = o.kind == threshold_kind::relative;
  const T absolute = score_bound<T>(o.threshold, Inclusive);
  const label_codes<L> codes(o.encoding);
  progress_meter meter(env.progress);
  parallel_for(tasks, workers, [&](std::size_t task, unsigned w) {
    auto& tile = tiles[w];
    tile.assign(3 * padded, 0);
    tile_count* tp = tile.data();
    tile_count* pred = tp + padded;
    tile_count* pos = pred + padded;
    const index_t begin = static_cast<index_t>(task) * rows_per_task;
    const index_t end = std::min(n, begin + rows_per_task);
    bool bad = false;
    for (index_t i = begin; i < end; ++i) {
      const auto s = rows.scores(i);
      T bound = absolute;
      if (relative) {
        const auto [lo, hi] = row_range(s, width);
        const double dlo = static_cast<double>(lo);
        bound = score_bound<T>(dlo + o.mu * (static_cast<double>(hi) - dlo), Inclusive);
      }
      if constexpr (vector_path)
        bad |= simd::template count_threshold<Inclusive>(
            s.base, rows.labels(i).base, width, bound, codes,
            {i + 1 < n ? rows.scores(i + 1).base : nullptr, i + 1 < n ? rows.labels(i + 1).base : nullptr}, tp, pred, pos);
      else
        bad |= count_threshold_row<Inclusive>(s, rows.labels(i), width, bound, codes, tp, pred, pos);
    }
    std::int64_t* total = counts[w].data();
    for (std::size_t c = 0; c < k; ++c) {
      total[c] += tp[c];
      total[k + c] += pred[c];
      total[2 * k + c] += pos[c];
    }
    valid[task] = !bad;
  }, progress_span{&meter});
  threshold_counts out{std::vector<std::int64_t>(k, 0), std::vector<std::int64_t>(k, 0),
                       std::vector<std::int64_t>(k, 0),
                       std::find(valid.begin(), valid.end(), 0) == valid.end()};
  for (const auto& w : counts)
    for (std::size_t c = 0; c < k; ++c) {
      out.tp[c] += w[c];
      out.predicted[c] += w[k + c];
      out.positives[c] += w[2 * k + c];
    }
  return out;
}

inline void check_threshold_options(const threshold_options& o) {
  if (!std::isfinite(o.threshold))
    throw error("threshold: expected a finite value, found " + format_value(o.threshold));
  if (!(o.mu >= 0.0 && o.mu <= 1.0))
    throw error("mu: expected a value in [0, 1], found " + format_value(o.mu));
}

inline threshold_result threshold_from_counts(threshold_counts&& counts, const threshold_options& o) {
  threshold_result r{};
  const std::size_t k = counts.tp.size();
  r.true_positives = std::move(counts.tp);
  r.predicted = std::move(counts.predicted);
  r.positives = std::move(counts.positives);
  r.precision.resize(k);
  r.recall.resize(k);
  r.f1.resize(k);
  const bool mlgcn = o.count == predicted_count::mlgcn;
  std::int64_t pooled_predicted = 0;
  double sum_p = 0, sum_r = 0, sum_f1 = 0;
  std::size_t n_r = 0;
  for (std::size_t c = 0; c < k; ++c) {
    const std::int64_t predicted = mlgcn && r.predicted[c] == 0 ? 1 : r.predicted[c];
    const threshold_prf v = threshold_prf_of(r.true_positives[c], predicted, r.positives[c], o.zero_division);
    r.precision[c] = v.p;
    r.recall[c] = v.r;
    r.f1[c] = v.f1;
    r.total_true_positives += r.true_positives[c];
    r.total_predicted += r.predicted[c];
    r.total_positives += r.positives[c];
    pooled_predicted += predicted;
    sum_p += v.p;
    if (r.positives[c] == 0) {  // an empty class: 0 or left out in CR and cf1_mean
      if (o.empty_class == empty_class::exclude) continue;
      ++n_r;
      continue;
    }
    sum_r += v.r;
    sum_f1 += v.f1;
    ++n_r;
  }
  r.cp = sum_p / static_cast<double>(k);
  r.cr = n_r ? sum_r / static_cast<double>(n_r) : threshold_nan();
  r.cf1_mean = n_r ? sum_f1 / static_cast<double>(n_r) : threshold_nan();
  const zero_division pooled_rule = o.zero_division == zero_division::asl ? zero_division::biam : o.zero_division;
  r.cf1_harmonic = threshold_f1(r.cp, r.cr, pooled_rule);
  const threshold_prf pooled = threshold_prf_of(r.total_true_positives, pooled_predicted, r.total_positives, pooled_rule);
  r.op = pooled.p;
  r.or_ = pooled.r;
  r.of1 = pooled.f1;
  return r;
}

}  // namespace detail

// Threshold metrics of scores [N, C] against labels [N, C] over the classes in scope: `classes`
// (distinct column indices, viewed in place, no copy of the data), or every column when empty.
//
// Per class c: P_c = tp/predicted, R_c = tp/positives, F1_c; zero divisions by
// options.zero_division: standard (P_c = 0 with nothing predicted, R_c = NaN without positives,
// F1_c = 0 when P_c + R_c = 0, NaN when R_c is NaN), sdl (F1_c := 0 when P_c or R_c is 0 or F1_c
// is NaN), biam (0/0 = NaN everywhere), asl (ASL/DualCoOp validate: P_c, R_c, F1_c all 0 when
// tp = 0). cp is the mean of P_c over all classes in scope; cr and cf1_mean take a class without
// positives as 0 (empty_class::zero) or leave it out (empty_class::exclude); cf1_harmonic =
// 2 cp cr / (cp + cr). op, or_, of1 pool the counts over classes (same rule; asl pools as ASL
// does, 0/0 = NaN). predicted_count::mlgcn counts a class without predictions as one prediction
// in P_c and op (ML-GCN's N^p quirk).
template <viewable S, viewable L>
threshold_result threshold_metrics(const S& scores, const L& labels, const threshold_options& options = {},
                                   std::span<const index_t> classes = {}, const execution_env& env = {}) {
  static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                "mlr::threshold_metrics takes N x C (rank-2) scores and labels.");
  return detail::with_checked_views<threshold_result>(scores, labels, [&](const auto& sv, const auto& lv) {
    using T = typename std::remove_cvref_t<decltype(sv)>::value_type;
    using Lt = typename std::remove_cvref_t<decltype(lv)>::value_type;
    detail::check_threshold_options(options);
    const detail::class_scope scope(classes, sv.extent(1));
    auto counts = detail::with_scoped_rows(
        detail::score_view<T>(sv), detail::label_view<Lt>(lv), scope, [&](const auto& rows) {
          return options.comparison == comparison::greater_equal ? detail::count_threshold<true>(rows, options, env)
                                                                 : detail::count_threshold<false>(rows, options, env);
        });
    if (!counts.valid) detail::report_invalid(sv, lv, options.encoding, scope);
    return detail::threshold_from_counts(std::move(counts), options);
  });
}

}  // namespace mlr

#pragma once
// Average precision of one class, and mean average precision over the columns of an N x C
// score matrix, exactly as scikit-learn's average_precision_score (ap_method::step).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr {

struct ap_options {
  mlr::ap_method method = mlr::ap_method::step;
  mlr::average average = mlr::average::macro;
  mlr::empty_class empty_class = mlr::empty_class::zero;
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
};

struct average_precision_result {
  double value;             // NaN when the class has no positives (after ignoring)
  std::int64_t positives;   // after ignoring
  std::int64_t negatives;   // after ignoring
  bool empty() const noexcept { return positives == 0; }
};

struct mean_average_precision_result {
  double value;                         // the requested average; NaN for average::none
  std::vector<double> per_class;        // NaN for a class without positives
  std::vector<std::int64_t> positives;  // per class, after ignoring

  bool empty(std::size_t c) const noexcept { return positives[c] == 0; }
  std::size_t empty_classes() const noexcept {
    return static_cast<std::size_t>(std::count(positives.begin(), positives.end(), 0));
  }
};

namespace detail {

template <class T>
using score_view = strided_view<const T, 2>;
template <class L>
using label_view = strided_view<const L, 2>;

inline double nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }

// Mean of `values` (NaN = empty) under the empty-class policy; NaN if nothing is left to average.
inline double policy_mean(std::span<const double> values, empty_class policy) noexcept {
  double sum = 0.0;
  std::size_t count = 0;
  for (double v : values) {
    if (std::isnan(v)) {
      if (policy == empty_class::exclude) continue;
      v = 0.0;
    }
    sum += v;
    ++count;
  }
  return count ? sum / static_cast<double>(count) : nan();
}

// Per-class step AP. Columns are processed in blocks gathered row by row into per-worker
// scratch (one cache line of a row-major matrix feeds a whole block), split into negatives
// (front) and positives (back) as they are read; no copy of the whole matrix is made.
template <class T, class L>
void per_class_step_ap(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                       std::span<double> ap, std::span<std::int64_t> positives, unsigned threads) {
  constexpr index_t block = 64 / sizeof(T);
  const index_t n = scores.extent(0), classes = scores.extent(1);
  const auto tasks = static_cast<std::size_t>((classes + block - 1) / block);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, tasks));
  struct scratch {
    std::vector<T> columns;
    std::array<index_t, block> negatives_end, positives_begin;
    step_ap_workspace<T> workspace;
  };
  std::vector<scratch> per_worker(workers);
  parallel_for(tasks, workers, [&](std::size_t task, unsigned w) {
    scratch& s = per_worker[w];
    const index_t first = static_cast<index_t>(task) * block;
    const index_t width = std::min(block, classes - first);
    s.columns.resize(std::max(s.columns.size(), static_cast<std::size_t>(width * n)));
    s.negatives_end.fill(0);
    s.positives_begin.fill(n);
    for (index_t i = 0; i < n; ++i) {
      for (index_t k = 0; k < width; ++k) {
        T* column = s.columns.data() + k * n;
        const T score = scores(i, first + k);
        switch (decode_label(labels(i, first + k), encoding)) {
          case label_state::negative: column[s.negatives_end[k]++] = score; break;
          case label_state::positive: column[--s.positives_begin[k]] = score; break;
          default: break;  // ignored
        }
      }
    }
    for (index_t k = 0; k < width; ++k) {
      T* column = s.columns.data() + k * n;
      const index_t p = n - s.positives_begin[k];
      positives[first + k] = p;
      ap[first + k] = s.workspace(std::span<T>(column + s.positives_begin[k], p),
                                  std::span<const T>(column, s.negatives_end[k]));
    }
  });
}

// One binary AP over every non-ignored entry of the matrix (average::micro).
template <class T, class L>
double micro_step_ap(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                     unsigned threads) {
  const index_t n = scores.extent(0), classes = scores.extent(1);
  constexpr index_t rows_per_task = 1024;
  const auto tasks = static_cast<std::size_t>((n + rows_per_task - 1) / rows_per_task);
  auto for_rows = [&](std::size_t task, auto&& f) {
    const index_t begin = static_cast<index_t>(task) * rows_per_task;
    const index_t end = std::min(n, begin + rows_per_task);
    for (index_t i = begin; i < end; ++i)
      for (index_t j = 0; j < classes; ++j) f(scores(i, j), decode_label(labels(i, j), encoding));
  };

  std::vector<std::vector<T>> positives_of_task(tasks);
  parallel_for(tasks, threads, [&](std::size_t task, unsigned) {
    for_rows(task, [&](T s, label_state st) {
      if (st == label_state::positive) positives_of_task[task].push_back(s);
    });
  });
  std::vector<T> positives;
  for (auto& p : positives_of_task) positives.insert(positives.end(), p.begin(), p.end());
  positive_ladder<T> ladder;
  ladder.build(positives);
  if (ladder.positives() == 0) return nan();

  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, tasks));
  std::vector<std::vector<std::int64_t>> at_rank(workers, std::vector<std::int64_t>(ladder.rungs() + 1));
  parallel_for(tasks, workers, [&](std::size_t task, unsigned w) {
    for_rows(task, [&](T s, label_state st) {
      if (st == label_state::negative) ++at_rank[w][ladder.rank(s)];
    });
  });
  for (unsigned w = 1; w < workers; ++w)
    for (std::size_t k = 0; k < at_rank[0].size(); ++k) at_rank[0][k] += at_rank[w][k];
  return ladder.average_precision(at_rank[0]);
}

// Mean over samples of the AP of each row across its classes (average::samples).
template <class T, class L>
double samples_step_ap(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                       empty_class policy, unsigned threads) {
  const index_t n = scores.extent(0), classes = scores.extent(1);
  constexpr index_t rows_per_task = 256;
  const auto tasks = static_cast<std::size_t>((n + rows_per_task - 1) / rows_per_task);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, tasks));
  struct scratch {
    std::vector<T> row;
    step_ap_workspace<T> workspace;
  };
  std::vector<scratch> per_worker(workers);
  std::vector<double> row_ap(static_cast<std::size_t>(n));
  parallel_for(tasks, workers, [&](std::size_t task, unsigned w) {
    scratch& s = per_worker[w];
    s.row.resize(static_cast<std::size_t>(classes));
    const index_t begin = static_cast<index_t>(task) * rows_per_task;
    const index_t end = std::min(n, begin + rows_per_task);
    for (index_t i = begin; i < end; ++i) {
      index_t negatives_end = 0, positives_begin = classes;
      for (index_t j = 0; j < classes; ++j) {
        switch (decode_label(labels(i, j), encoding)) {
          case label_state::negative: s.row[negatives_end++] = scores(i, j); break;
          case label_state::positive: s.row[--positives_begin] = scores(i, j); break;
          default: break;
        }
      }
      row_ap[i] = s.workspace(std::span<T>(s.row.data() + positives_begin, classes - positives_begin),
                              std::span<const T>(s.row.data(), negatives_end));
    }
  });
  return policy_mean(row_ap, policy);
}

template <class T, class L>
mean_average_precision_result mean_average_precision(score_view<T> scores, label_view<L> labels,
                                                     const ap_options& options,
                                                     const execution_env& env) {
  const auto classes = static_cast<std::size_t>(scores.extent(1));
  const unsigned threads = env.thread_count();
  mean_average_precision_result r{nan(), std::vector<double>(classes), std::vector<std::int64_t>(classes)};
  per_class_step_ap(scores, labels, options.encoding, r.per_class, r.positives, threads);
  switch (options.average) {
    case average::macro: r.value = policy_mean(r.per_class, options.empty_class); break;
    case average::weighted: {
      double sum = 0.0, weight = 0.0;
      for (std::size_t c = 0; c < classes; ++c) {
        if (r.positives[c] == 0) continue;
        sum += static_cast<double>(r.positives[c]) * r.per_class[c];
        weight += static_cast<double>(r.positives[c]);
      }
      // No positives anywhere: scikit-learn's 0 under empty_class::zero, nothing to average otherwise.
      r.value = weight > 0 ? sum / weight : (options.empty_class == empty_class::zero ? 0.0 : nan());
      break;
    }
    case average::micro:
      r.value = micro_step_ap(scores, labels, options.encoding, threads);
      if (std::isnan(r.value) && options.empty_class == empty_class::zero) r.value = 0.0;
      break;
    case average::samples:
      r.value = samples_step_ap(scores, labels, options.encoding, options.empty_class, threads);
      break;
    case average::none: break;
  }
  return r;
}

template <class SV, class LV>
void check_ap_inputs(const SV& scores, const LV& labels, label_encoding encoding,
                     const execution_env& env) {
  check_same_shape(scores, "scores", labels, "labels");
  check_not_empty(scores, "scores");
  check_finite(scores, "scores", env);
  check_labels(labels, encoding, "labels", env);
}

template <class SV, class LV>
constexpr void static_check_ap_types() {
  static_assert(std::is_floating_point_v<typename SV::value_type>,
                "mlr: scores must hold float or double.");
  static_assert(is_supported_element_v<typename LV::value_type>,
                "mlr: labels must hold int8, int32, int64, uint8, bool, float or double.");
}

}  // namespace detail

// Average precision of one class: scores [N], labels [N] in `encoding`.
template <viewable S, viewable L>
average_precision_result average_precision(const S& scores, const L& labels,
                                           ap_method method = ap_method::step,
                                           label_encoding encoding = label_encoding::canonical) {
  const auto sv = as_view(scores);
  const auto lv = as_view(labels);
  using SV = decltype(sv);
  using LV = decltype(lv);
  static_assert(SV::rank() == 1 && LV::rank() == 1,
                "mlr::average_precision takes rank-1 scores and labels; use "
                "mlr::mean_average_precision for an N x C matrix.");
  detail::static_check_ap_types<SV, LV>();
  if constexpr (!detail::on_host<SV>) {
    throw detail::device_error("scores");
  } else if constexpr (!detail::on_host<LV>) {
    throw detail::device_error("labels");
  } else {
    (void)method;  // ap_method::step is the only flavour so far
    using T = typename SV::value_type;
    using Lt = typename LV::value_type;
    const index_t n = sv.extent(0);
    // A rank-1 view is an N x 1 matrix: one implementation serves both.
    const detail::score_view<T> s2(sv.data_handle(), {n, 1}, {sv.stride(0), 1});
    const detail::label_view<Lt> l2(lv.data_handle(), {n, 1}, {lv.stride(0), 1});
    detail::check_ap_inputs(sv, lv, encoding, {});
    auto r = detail::mean_average_precision(s2, l2, ap_options{.average = average::none, .encoding = encoding},
                                            execution_env{1});
    std::int64_t negatives = 0;
    for (index_t i = 0; i < n; ++i) negatives += decode_label(lv(i), encoding) == label_state::negative;
    return {r.per_class[0], r.positives[0], negatives};
  }
}

// Mean average precision over the C columns of scores [N, C] with labels [N, C].
template <viewable S, viewable L>
mean_average_precision_result mean_average_precision(const S& scores, const L& labels,
                                                     const ap_options& options = {},
                                                     const execution_env& env = {}) {
  const auto sv = as_view(scores);
  const auto lv = as_view(labels);
  using SV = decltype(sv);
  using LV = decltype(lv);
  static_assert(SV::rank() == 2 && LV::rank() == 2,
                "mlr::mean_average_precision takes N x C (rank-2) scores and labels.");
  detail::static_check_ap_types<SV, LV>();
  if constexpr (!detail::on_host<SV>) {
    throw detail::device_error("scores");
  } else if constexpr (!detail::on_host<LV>) {
    throw detail::device_error("labels");
  } else {
    detail::check_ap_inputs(sv, lv, options.encoding, env);
    return detail::mean_average_precision(detail::score_view<typename SV::value_type>(sv),
                                          detail::label_view<typename LV::value_type>(lv), options, env);
  }
}

}  // namespace mlr

#pragma once
// Average precision of one class, and mean average precision over the columns of an N x C
// score matrix, exactly as scikit-learn's average_precision_score (ap_method::step).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
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
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/ladder_pass.hpp"
#include "mlr/metrics/detail/ranked_ap.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr {

struct ap_options {
  mlr::ap_method method = mlr::ap_method::step;
  mlr::average average = mlr::average::macro;
  mlr::empty_class empty_class = mlr::empty_class::zero;
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
  double epsilon = 0.0;  // ap_method::ranked only: AP = sum / (P + epsilon); 1e-8 is ASL/DualCoOp's
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

// Step AP of groups of classes (see ladder_pass): each group's AP from its ladder and counts.
template <class T, class L>
grouped_ap step_ap_by_group(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                            const class_scope& columns, const class_scope& rows,
                            std::span<const std::size_t> group_of_class, std::size_t groups, unsigned threads,
                            const progress_span& progress = {}) {
  const auto counts = ladder_pass<false>(scores, labels, encoding, columns, rows, group_of_class, groups, threads, progress);
  grouped_ap out{std::vector<double>(groups), std::vector<std::int64_t>(groups), counts.valid};
  if (!out.valid_input) return out;
  for (std::size_t g = 0; g < groups; ++g) {
    out.positives[g] = counts.ladders[g].positives();
    out.ap[g] = counts.ladders[g].average_precision(
        std::span<const std::int64_t>(counts.at_rank).subspan(counts.offset[g], counts.ladders[g].rungs() + 1));
  }
  return out;
}

inline std::vector<std::size_t> one_group_per_class(index_t classes) {
  std::vector<std::size_t> group(static_cast<std::size_t>(classes));
  std::iota(group.begin(), group.end(), std::size_t{0});
  return group;
}

// `report_invalid` throws the mlr::error naming the first bad entry of the caller's own views.
template <class T, class L, class ReportInvalid>
mean_average_precision_result mean_average_precision(score_view<T> scores, label_view<L> labels,
                                                     const ap_options& options, const class_scope& scope,
                                                     const execution_env& env, ReportInvalid report_invalid) {
  if (!(options.epsilon >= 0.0 && options.epsilon < std::numeric_limits<double>::infinity()))
    throw error("epsilon: expected a finite value >= 0, found " + format_value(options.epsilon));
  const index_t classes = scope.size();
  const unsigned threads = env.thread_count();
  const class_scope all_rows({}, scores.extent(0));
  progress_meter meter(env.progress);
  // micro and samples run the kernel a second time: each run is half of the call's progress.
  const bool two_runs = options.average == average::micro || options.average == average::samples;
  const progress_span whole{&meter};
  // The chosen flavour's kernel over groups of classes, on these views (the transposed ones for
  // the samples average).
  auto ap_by_group = [&](auto s, auto l, const class_scope& columns, const class_scope& rows,
                         std::span<const std::size_t> group_of_class, std::size_t groups,
                         const progress_span& progress) {
    if (options.method == ap_method::step)
      return step_ap_by_group(s, l, options.encoding, columns, rows, group_of_class, groups, threads, progress);
    const auto flavour = options.method == ap_method::ranked        ? ranked_flavour::ranked
                         : options.method == ap_method::voc_area    ? ranked_flavour::voc_area
                                                                    : ranked_flavour::voc07_11point;
    return ranked_ap_by_group(s, l, options.encoding, columns, rows, group_of_class, groups, flavour,
                              options.epsilon, threads, progress);
  };
  auto per_class = ap_by_group(scores, labels, scope, all_rows, one_group_per_class(classes),
                               static_cast<std::size_t>(classes), whole.part(0.0, two_runs ? 0.5 : 1.0));
  if (!per_class.valid_input) report_invalid();
  mean_average_precision_result r{nan(), std::move(per_class.ap), std::move(per_class.positives)};
  switch (options.average) {
    case average::macro: r.value = policy_mean(r.per_class, options.empty_class); break;
    case average::weighted: {
      double sum = 0.0, weight = 0.0;
      for (std::size_t c = 0; c < r.per_class.size(); ++c) {
        if (r.positives[c] == 0) continue;
        sum += static_cast<double>(r.positives[c]) * r.per_class[c];
        weight += static_cast<double>(r.positives[c]);
      }
      // No positives anywhere: scikit-learn's 0 under empty_class::zero, nothing to average otherwise.
      r.value = weight > 0 ? sum / weight : (options.empty_class == empty_class::zero ? 0.0 : nan());
      break;
    }
    case average::micro: {
      const std::vector<std::size_t> one_group(static_cast<std::size_t>(classes), 0);
      r.value = policy_mean(ap_by_group(scores, labels, scope, all_rows, one_group, 1, whole.part(0.5, 1.0)).ap,
                            options.empty_class);
      break;
    }
    case average::samples: {  // the per-class APs of the transposed matrix are the per-sample APs
      const index_t samples = scores.extent(0);
      r.value = policy_mean(ap_by_group(transpose(scores), transpose(labels), all_rows, scope,
                                        one_group_per_class(samples), static_cast<std::size_t>(samples),
                                        whole.part(0.5, 1.0))
                                .ap,
                            options.empty_class);
      break;
    }
    case average::none: break;
  }
  return r;
}

}  // namespace detail

// Average precision of one class: scores [N], labels [N] in `encoding`.
template <viewable S, viewable L>
average_precision_result average_precision(const S& scores, const L& labels,
                                           ap_method method = ap_method::step,
                                           label_encoding encoding = label_encoding::canonical,
                                           double epsilon = 0.0) {
  static_assert(decltype(as_view(scores))::rank() == 1 && decltype(as_view(labels))::rank() == 1,
                "mlr::average_precision takes rank-1 scores and labels; use "
                "mlr::mean_average_precision for an N x C matrix.");
  using result = average_precision_result;
  return detail::with_checked_views<result>(scores, labels, [&](const auto& sv, const auto& lv) {
    using T = typename std::remove_cvref_t<decltype(sv)>::value_type;
    using Lt = typename std::remove_cvref_t<decltype(lv)>::value_type;
    const index_t n = sv.extent(0);
    // A rank-1 view is an N x 1 matrix: one implementation serves both.
    const detail::score_view<T> s2(sv.data_handle(), {n, 1}, {sv.stride(0), 1});
    const detail::label_view<Lt> l2(lv.data_handle(), {n, 1}, {lv.stride(0), 1});
    const ap_options options{.method = method, .average = average::none, .encoding = encoding, .epsilon = epsilon};
    auto r = detail::mean_average_precision(s2, l2, options, detail::class_scope({}, 1), execution_env{1},
                                            [&] { detail::report_invalid(sv, lv, encoding); });
    std::int64_t negatives = 0;
    for (index_t i = 0; i < n; ++i) negatives += decode_label(lv(i), encoding) == label_state::negative;
    return result{r.per_class[0], r.positives[0], negatives};
  });
}

// Mean average precision over the C columns of scores [N, C] with labels [N, C], or over the
// columns `classes` (distinct indices, no copy of the data; per_class follows their order).
template <viewable S, viewable L>
mean_average_precision_result mean_average_precision(const S& scores, const L& labels,
                                                     const ap_options& options = {},
                                                     std::span<const index_t> classes = {},
                                                     const execution_env& env = {}) {
  static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                "mlr::mean_average_precision takes N x C (rank-2) scores and labels.");
  using result = mean_average_precision_result;
  return detail::with_checked_views<result>(scores, labels, [&](const auto& sv, const auto& lv) {
    using T = typename std::remove_cvref_t<decltype(sv)>::value_type;
    using Lt = typename std::remove_cvref_t<decltype(lv)>::value_type;
    const detail::class_scope scope(classes, sv.extent(1));
    return detail::mean_average_precision(detail::score_view<T>(sv), detail::label_view<Lt>(lv), options, scope, env,
                                          [&] { detail::report_invalid(sv, lv, options.encoding, scope); });
  });
}

}  // namespace mlr

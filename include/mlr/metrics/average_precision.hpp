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

// Visits a score/label matrix in the memory order of the scores (rows outer for row-major data,
// columns outer for column-major data), split into tasks of whole outer lines.
template <class T, class L>
class matrix_walk {
 public:
  matrix_walk(score_view<T> scores, label_view<L> labels) noexcept
      : rows_outer_(std::abs(scores.stride(0)) >= std::abs(scores.stride(1))),
        scores_(rows_outer_ ? scores : transpose(scores)),
        labels_(rows_outer_ ? labels : transpose(labels)),
        lines_per_task_(std::max<index_t>(1, (index_t{1} << 16) / scores.extent(rows_outer_ ? 1 : 0))) {}

  std::size_t tasks() const noexcept {
    return static_cast<std::size_t>((scores_.extent(0) + lines_per_task_ - 1) / lines_per_task_);
  }

  // f(row, column, score) for every entry of the task whose label is `wanted`: labels are tested
  // eight at a time without a branch, and only groups holding one are visited.
  template <class F>
  MLR_FORCEINLINE void visit_label(std::size_t task, L wanted, F&& f) const {
    const index_t begin = static_cast<index_t>(task) * lines_per_task_;
    const index_t end = std::min(scores_.extent(0), begin + lines_per_task_);
    const index_t inner = scores_.extent(1), label_step = labels_.stride(1);
    constexpr index_t group = 8;
    for (index_t o = begin; o < end; ++o) {
      const L* label = &labels_(o, 0);
      auto visit = [&](index_t k) {
        if (label[k * label_step] == wanted) f(rows_outer_ ? o : k, rows_outer_ ? k : o, scores_(o, k));
      };
      index_t k = 0;
      for (; k + group <= inner; k += group) {
        bool any = false;
        for (index_t q = k; q < k + group; ++q) any |= label[q * label_step] == wanted;
        if (any) [[unlikely]]
          for (index_t q = k; q < k + group; ++q) visit(q);
      }
      for (; k < inner; ++k) visit(k);
    }
  }

 private:
  bool rows_outer_;
  score_view<T> scores_;
  label_view<L> labels_;
  index_t lines_per_task_;
};

// Step AP of groups of classes: every column in scope is assigned to a group, and each group's
// AP is the one binary AP over all its columns' non-ignored entries in the rows in scope. One
// group per class gives the per-class APs; one group for all classes gives the micro average.
// group_of_class[q] is the group of column `columns[q]`; only the rows `rows` are read.
template <class T, class L>
grouped_ap step_ap_by_group(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                            const class_scope& columns, const class_scope& rows,
                            std::span<const std::size_t> group_of_class, std::size_t groups, unsigned threads,
                            const progress_span& progress = {}) {
  const index_t classes = columns.size();
  constexpr std::size_t out_of_scope = std::numeric_limits<std::size_t>::max();
  // The group of every column of the matrix (out_of_scope for the others), and which rows count.
  std::vector<std::size_t> group_of_column(static_cast<std::size_t>(scores.extent(1)), out_of_scope);
  for (index_t q = 0; q < classes; ++q)
    group_of_column[static_cast<std::size_t>(columns[q])] = group_of_class[static_cast<std::size_t>(q)];
  std::vector<char> row_counts;
  if (!rows.all()) {
    row_counts.assign(static_cast<std::size_t>(scores.extent(0)), 0);
    for (index_t p = 0; p < rows.size(); ++p) row_counts[static_cast<std::size_t>(rows[p])] = 1;
  }

  // Progress by bytes read: pass 1 reads the labels, pass 2 the scores and the labels (from a
  // memory-mapped file the reads are what takes the time).
  const double pass1_share = static_cast<double>(sizeof(L)) / static_cast<double>(2 * sizeof(L) + sizeof(T));

  // Pass 1, in memory order: the positives' scores. Only labels are read densely; non-finite
  // scores are left for pass 2 to flag.
  const matrix_walk<T, L> walk(scores, labels);
  std::vector<std::vector<std::pair<std::size_t, T>>> found(walk.tasks());
  parallel_for(walk.tasks(), threads, [&](std::size_t task, unsigned) {
    walk.visit_label(task, L(1), [&](index_t i, index_t j, T s) {
      const std::size_t g = group_of_column[static_cast<std::size_t>(j)];
      if (g != out_of_scope && (row_counts.empty() || row_counts[static_cast<std::size_t>(i)]) && is_finite_score(s))
        found[task].emplace_back(g, s);
    });
  }, progress.part(0.0, pass1_share));
  std::vector<std::size_t> positives_of_group(groups, 0);
  for (const auto& task : found)
    for (const auto& [g, s] : task) ++positives_of_group[g];
  std::vector<std::vector<T>> positive_scores(groups);
  for (std::size_t g = 0; g < groups; ++g) positive_scores[g].reserve(positives_of_group[g]);
  for (auto& task : found) {  // each task's list is freed as soon as it is regrouped
    for (const auto& [g, s] : task) positive_scores[g].push_back(s);
    std::vector<std::pair<std::size_t, T>>().swap(task);
  }
  std::vector<ladder<T>> ladders(groups);
  parallel_for(groups, threads, [&](std::size_t g, unsigned) {
    ladders[g].build(positive_scores[g]);
    std::vector<T>().swap(positive_scores[g]);
  });
  std::vector<std::size_t> offset(groups + 1, 0);  // of each group's counters
  for (std::size_t g = 0; g < groups; ++g) offset[g + 1] = offset[g] + ladders[g].rungs() + 1;

  // Pass 2: every negative counted at its rank on its group's ladder. A task is a block of
  // classes over a range of rows, taken in tiles. A tile is first copied into per-worker scratch,
  // one column per class, in the scores' memory order (rows outer for row-major data, a few rows
  // ahead prefetched): each entry is validated there, and every entry that is not a valid
  // negative becomes -inf, which ranks 0, a count the AP never reads. Then each column is ranked
  // against its ladder, which stays in cache, with no branch on the label.
  constexpr index_t block_classes = 64, tile_rows = 256, task_rows = 8192, prefetch_rows = 16;
  const index_t n = rows.size();
  const auto blocks = static_cast<std::size_t>((classes + block_classes - 1) / block_classes);
  const auto ranges = static_cast<std::size_t>((n + task_rows - 1) / task_rows);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, blocks * ranges));
  std::vector<std::vector<std::int64_t>> at_rank(workers, std::vector<std::int64_t>(offset[groups]));
  std::vector<std::vector<T>> tiles(workers);
  const index_t score_row = scores.stride(0), score_col = scores.stride(1);
  const index_t label_row = labels.stride(0), label_col = labels.stride(1);
  const bool rows_outer = std::abs(score_col) <= std::abs(score_row);
  const bool unit_steps = rows_outer && score_col == 1 && label_col == 1 && rows.all();
  const L negative = negative_label<L>(encoding);
  constexpr T skip = -std::numeric_limits<T>::infinity();
  std::vector<char> valid(blocks * ranges, 1);  // every entry is read here: validation is free
  parallel_for(blocks * ranges, workers, [&](std::size_t task, unsigned w) {
    const index_t first_class = static_cast<index_t>(task / ranges) * block_classes;
    const index_t width = std::min(classes, first_class + block_classes) - first_class;
    const index_t first_row = static_cast<index_t>(task % ranges) * task_rows;
    const index_t last_row = std::min(n, first_row + task_rows);
    // Prefetching the rows ahead pays when the block is one run of memory.
    const bool prefetch = unit_steps && columns[first_class + width - 1] - columns[first_class] == width - 1;
    std::vector<T>& tile = tiles[w];
    tile.resize(static_cast<std::size_t>(block_classes * tile_rows));
    bool all_valid = true;
    auto copy = [&](index_t r, index_t k, T score, L label) {
      const bool ok = is_finite_score(score) & is_label_value(label);
      all_valid &= ok;
      tile[static_cast<std::size_t>(k * tile_rows + r)] = ((label == negative) & ok) ? score : skip;
    };
    for (index_t top = first_row; top < last_row; top += tile_rows) {
      const index_t height = std::min(last_row, top + tile_rows) - top;
      if (rows_outer) {
        for (index_t r = 0; r < height; ++r) {
          const T* score = &scores(rows[top + r], 0);
          const L* label = &labels(rows[top + r], 0);
          if (prefetch && top + r + prefetch_rows < last_row) {
            const auto* ahead = reinterpret_cast<const char*>(score + prefetch_rows * score_row + columns[first_class]);
            for (std::size_t b = 0; b < static_cast<std::size_t>(width) * sizeof(T); b += 64) MLR_PREFETCH(ahead + b);
            const auto* label_ahead =
                reinterpret_cast<const char*>(label + prefetch_rows * label_row + columns[first_class]);
            for (std::size_t b = 0; b < static_cast<std::size_t>(width) * sizeof(L); b += 64) MLR_PREFETCH(label_ahead + b);
          }
          for (index_t k = 0; k < width; ++k) {
            const index_t j = columns[first_class + k];
            copy(r, k, score[j * score_col], label[j * label_col]);
          }
        }
      } else {
        for (index_t k = 0; k < width; ++k) {
          const index_t j = columns[first_class + k];
          for (index_t r = 0; r < height; ++r) copy(r, k, scores(rows[top + r], j), labels(rows[top + r], j));
        }
      }
      for (index_t k = 0; k < width; ++k) {
        const std::size_t g = group_of_class[static_cast<std::size_t>(first_class + k)];
        const auto rank = ladders[g].rank();
        std::int64_t* counters = at_rank[w].data() + offset[g];
        const T* column = tile.data() + k * tile_rows;
        if (rank.searched())
          for (index_t r = 0; r < height; ++r) ++counters[rank.by_search(column[r])];
        else
          for (index_t r = 0; r < height; ++r) ++counters[rank.by_bucket(column[r])];
      }
    }
    valid[task] = all_valid;
  }, progress.part(pass1_share, 1.0));
  grouped_ap out{std::vector<double>(groups), std::vector<std::int64_t>(groups),
                 std::find(valid.begin(), valid.end(), 0) == valid.end()};
  if (!out.valid_input) return out;
  for (unsigned w = 1; w < workers; ++w)
    for (std::size_t r = 0; r < offset[groups]; ++r) at_rank[0][r] += at_rank[w][r];
  for (std::size_t g = 0; g < groups; ++g) {
    out.positives[g] = ladders[g].positives();
    out.ap[g] = ladders[g].average_precision(
        std::span<const std::int64_t>(at_rank[0]).subspan(offset[g], ladders[g].rungs() + 1));
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

#pragma once
// Label ranking average precision, as scikit-learn's label_ranking_average_precision_score
// (METHOD.md 4.2): for an image with relevant set Y among its candidates,
//   LRAP_i = (1/|Y|) sum_{j in Y} |{k in Y : s_k >= s_j}| / |{k candidate : s_k >= s_j}|
// (ties counted pessimistically); an image with no relevant candidate, or only relevant ones,
// scores 1. The result is the mean over images. Ignored entries are not candidates.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr {
namespace detail {

// Images are independent, so each row is scored on its own. Its relevant scores, sorted, form
// distinct rungs v_0 < ... < v_{d-1} with t_r relevant labels at v_r; every relevant label at v_r
// has |{k in Y : s_k >= v_r}| = t_r + ... + t_{d-1} and |{k candidate : s_k >= v_r}| =
// at_least[r], so LRAP_i = (1/|Y|) sum_r t_r (t_r + ... + t_{d-1}) / at_least[r]. Images have a
// few relevant labels among many candidates: at_least is counted by one branch-free
// (vectorised) pass over the row per rung; with more rungs than `lrap_counted_rungs`, by ranking
// each entry among the rungs and summing suffixes (O(C log d), never the O(C^2) definition).
// Counts run over every entry in scope; the ignored ones, collected on the way, are subtracted.
inline constexpr std::size_t lrap_counted_rungs = 16;

// Per-worker buffers, sized once to the row width: nothing is allocated per row.
template <class T, class L>
struct lrap_scratch {
  lrap_scratch(index_t width, bool gather)
      : relevant(static_cast<std::size_t>(width)), ignored(relevant.size()), tp(relevant.size()),
        at_least(relevant.size() + 1), by_rank(relevant.size() + 1),
        row_scores(gather ? std::make_unique<T[]>(relevant.size()) : nullptr),
        row_labels(gather ? std::make_unique<L[]>(relevant.size()) : nullptr) {}
  std::vector<T> relevant, ignored;  // scores; relevant[0, d) become the rungs
  std::vector<std::int64_t> tp, at_least, by_rank;
  std::unique_ptr<T[]> row_scores;  // a row gathered, when rows are not unit-stride runs
  std::unique_ptr<L[]> row_labels;  // (not a vector: L may be bool)
};

// Adds sign * (the number of scores >= rungs[r]) to at_least[r] for every rung: each score is
// ranked (how many rungs are <= it), then the ranks' counts are summed from the top.
template <class T, class L>
void count_at_least_by_rank(std::span<const T> rungs, std::span<const T> scores, std::int64_t sign,
                            lrap_scratch<T, L>& w) {
  const std::size_t d = rungs.size();
  std::fill_n(w.by_rank.begin(), d + 1, 0);
  for (const T s : scores)
    ++w.by_rank[static_cast<std::size_t>(std::upper_bound(rungs.begin(), rungs.end(), s) - rungs.begin())];
  std::int64_t above = 0;
  for (std::size_t r = d; r-- > 0;) {
    above += w.by_rank[r + 1];
    w.at_least[r] += sign * above;
  }
}

// LRAP of one row of `width` entries (unit stride); false (and no score) if some entry is
// invalid: a non-finite score or a label that is not -1, 0, 1.
template <class T, class L>
bool lrap_row(const T* scores, const L* labels, index_t width, label_encoding encoding, lrap_scratch<T, L>& w,
              double& out) {
  // Validation runs branch-free over chunks, scores and labels in separate loops (one element
  // width each: no conversions in the vector code); only a chunk holding a label that is not
  // negative (rare: a few relevant labels per image) is scanned again to collect relevant and
  // ignored scores, branch-free as well.
  constexpr index_t chunk = 32;
  const L negative = negative_label<L>(encoding);
  std::size_t relevant = 0, ignored = 0;
  for (index_t q0 = 0; q0 < width; q0 += chunk) {
    const index_t q1 = std::min(width, q0 + chunk);
    unsigned bad = 0, notable = 0;  // unsigned, not bool: g++ 12 vectorises these reductions
    for (index_t q = q0; q < q1; ++q) bad |= !is_finite_score(scores[q]);
    for (index_t q = q0; q < q1; ++q) {
      bad |= !is_label_value(labels[q]);
      notable |= labels[q] != negative;
    }
    if (bad) return false;
    if (!notable) continue;
    for (index_t q = q0; q < q1; ++q) {
      const label_state state = decode_label(labels[q], encoding);
      w.relevant[relevant] = scores[q];
      relevant += state == label_state::positive;
      w.ignored[ignored] = scores[q];
      ignored += state == label_state::ignored;
    }
  }
  if (relevant == 0 || relevant == static_cast<std::size_t>(width) - ignored) {
    out = 1.0;
    return true;
  }

  std::sort(w.relevant.begin(), w.relevant.begin() + static_cast<std::ptrdiff_t>(relevant));
  std::size_t d = 0;
  for (std::size_t j = 0; j < relevant;) {
    std::size_t k = j + 1;
    while (k < relevant && w.relevant[k] == w.relevant[j]) ++k;
    w.relevant[d] = w.relevant[j];
    w.tp[d++] = static_cast<std::int64_t>(k - j);
    j = k;
  }
  const std::span<const T> rungs(w.relevant.data(), d);

  const std::span<const T> row(scores, static_cast<std::size_t>(width));
  if (d <= lrap_counted_rungs) {
    // 32-bit counters (as many lanes as float scores) over segments short enough not to overflow.
    constexpr std::size_t segment = std::size_t{1} << 30;
    for (std::size_t r = 0; r < d; ++r) {
      const T v = rungs[r];
      std::int64_t count = 0;
      for (std::size_t begin = 0; begin < row.size(); begin += segment) {
        std::uint32_t part = 0;
        for (const T s : row.subspan(begin, std::min(segment, row.size() - begin))) part += s >= v;
        count += part;
      }
      w.at_least[r] = count;
    }
  } else {
    std::fill_n(w.at_least.begin(), d, 0);
    count_at_least_by_rank(rungs, row, 1, w);
  }
  if (ignored) count_at_least_by_rank(rungs, std::span<const T>(w.ignored.data(), ignored), -1, w);

  double sum = 0.0;
  std::int64_t above = 0;
  for (std::size_t r = d; r-- > 0;) {
    above += w.tp[r];
    sum += static_cast<double>(w.tp[r]) * static_cast<double>(above) / static_cast<double>(w.at_least[r]);
  }
  out = sum / static_cast<double>(relevant);
  return true;
}

// The mean of lrap_row over the rows. Rows that are not unit-stride runs of the classes in scope
// (a class subset, column-major data) are first gathered into the worker's scratch. Row blocks
// of a size fixed by the width (not the thread count) are the tasks, and their sums are added in
// block order, so the result is the same for any number of threads.
template <class T, class L>
double label_ranking_average_precision(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                                       const class_scope& scope, const execution_env& env, bool& valid_input) {
  const index_t rows = scores.extent(0), width = scope.size();
  const bool unit_rows = scope.all() && scores.stride(1) == 1 && labels.stride(1) == 1;
  const index_t rows_per_task = std::max<index_t>(1, (index_t{1} << 16) / width);
  const auto tasks = static_cast<std::size_t>((rows + rows_per_task - 1) / rows_per_task);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, env.thread_count()), tasks));
  std::vector<lrap_scratch<T, L>> scratch;
  scratch.reserve(workers);
  for (unsigned w = 0; w < workers; ++w) scratch.emplace_back(width, !unit_rows);
  std::vector<double> sums(tasks, 0.0);
  std::vector<char> valid(tasks, 1);
  parallel_for(tasks, workers, [&](std::size_t task, unsigned worker) {
    lrap_scratch<T, L>& w = scratch[worker];
    const index_t first = static_cast<index_t>(task) * rows_per_task;
    const index_t last = std::min(rows, first + rows_per_task);
    double sum = 0.0;
    for (index_t i = first; i < last; ++i) {
      const T* s = w.row_scores.get();
      const L* y = w.row_labels.get();
      if (unit_rows) {
        s = &scores(i, 0);
        y = &labels(i, 0);
      } else {
        for (index_t q = 0; q < width; ++q) {
          w.row_scores[static_cast<std::size_t>(q)] = scores(i, scope[q]);
          w.row_labels[static_cast<std::size_t>(q)] = labels(i, scope[q]);
        }
      }
      double row = 0.0;
      if (!lrap_row(s, y, width, encoding, w, row)) {
        valid[task] = 0;
        return;
      }
      sum += row;
    }
    sums[task] = sum;
  });
  valid_input = std::find(valid.begin(), valid.end(), 0) == valid.end();
  double total = 0.0;
  for (double s : sums) total += s;
  return total / static_cast<double>(rows);
}

}  // namespace detail

// Label ranking average precision of scores [N, C] against labels [N, C] (scikit-learn's
// label_ranking_average_precision_score), over the classes in scope (`classes`, all when empty);
// ignored entries are removed from their image's candidates.
template <viewable S, viewable L>
double label_ranking_average_precision(const S& scores, const L& labels,
                                       label_encoding encoding = label_encoding::canonical,
                                       std::span<const index_t> classes = {}, const execution_env& env = {}) {
  static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                "mlr::label_ranking_average_precision takes N x C (rank-2) scores and labels.");
  return detail::with_checked_views<double>(scores, labels, [&](const auto& sv, const auto& lv) {
    using T = typename std::remove_cvref_t<decltype(sv)>::value_type;
    using Lt = typename std::remove_cvref_t<decltype(lv)>::value_type;
    const detail::class_scope scope(classes, sv.extent(1));
    bool valid = true;
    const double r = detail::label_ranking_average_precision(detail::score_view<T>(sv), detail::label_view<Lt>(lv),
                                                             encoding, scope, env, valid);
    if (!valid) detail::report_invalid(sv, lv, encoding, scope);
    return r;
  });
}

}  // namespace mlr

#pragma once
// Label ranking average precision, as scikit-learn's label_ranking_average_precision_score
// (METHOD.md 4.2): for an image with relevant set Y among its candidates,
//   LRAP_i = (1/|Y|) sum_{j in Y} |{k in Y : s_k >= s_j}| / |{k candidate : s_k >= s_j}|
// (ties counted pessimistically); an image with no relevant candidate, or only relevant ones,
// scores 1. The result is the mean over images. Ignored entries are not candidates.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/top_k.hpp"

namespace mlr {
namespace detail {

template <class T, class L>
double label_ranking_average_precision(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                                       const class_scope& scope, const execution_env& env, bool& valid_input) {
  const index_t rows = scores.extent(0), width = scope.size();
  std::vector<double> sums(row_blocks(rows), 0.0);
  valid_input = for_row_blocks<T>(
      rows, width, env.thread_count(),
      [&](std::size_t b, index_t first, index_t last, std::vector<ranked_class<T>>& cand) {
        bool ok = true;
        double sum = 0.0;
        for (index_t i = first; i < last; ++i) {
          index_t m = 0, relevant = 0;
          for (index_t q = 0; q < width; ++q) {
            const index_t j = scope[q];
            const T s = scores(i, j);
            const label_state state = decode_label(labels(i, j), encoding);
            const bool good = std::isfinite(s) && state != label_state::invalid;
            ok &= good;
            if (state == label_state::ignored) continue;
            const bool pos = state == label_state::positive;
            relevant += pos;
            cand[static_cast<std::size_t>(m++)] = ranked_class<T>{s, j, pos};
          }
          if (relevant == 0 || relevant == m) {
            sum += 1.0;
            continue;
          }
          std::sort(cand.begin(), cand.begin() + m);  // descending scores
          // Every entry of a tie block has the rank of the block's end (pessimistic ties).
          double row = 0.0;
          index_t above = 0, relevant_above = 0;
          for (index_t t = 0; t < m;) {
            index_t e = t, block_relevant = 0;
            for (; e < m && cand[static_cast<std::size_t>(e)].score == cand[static_cast<std::size_t>(t)].score; ++e)
              block_relevant += cand[static_cast<std::size_t>(e)].positive;
            above = e;
            relevant_above += block_relevant;
            if (block_relevant)
              row += static_cast<double>(block_relevant) * static_cast<double>(relevant_above) /
                     static_cast<double>(above);
            t = e;
          }
          sum += row / static_cast<double>(relevant);
        }
        sums[b] = sum;
        return ok;
      });
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

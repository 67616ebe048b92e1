#pragma once
// Label ranking average precision, as scikit-learn's label_ranking_average_precision_score
// (METHOD.md 4.2): for an image with relevant set Y among its candidates,
//   LRAP_i = (1/|Y|) sum_{j in Y} |{k in Y : s_k >= s_j}| / |{k candidate : s_k >= s_j}|
// (ties counted pessimistically); an image with no relevant candidate, or only relevant ones,
// scores 1. The result is the mean over images. Ignored entries are not candidates.
#include <algorithm>
#include <cmath>
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
#include "mlr/metrics/average_precision.hpp"

namespace mlr {
namespace detail {

// A sample's LRAP is the step AP of its row: a relevant label's precision at the end of its tie
// block is scikit-learn's pessimistic |{relevant >= s}| / |{candidates >= s}|, and a row whose
// candidates are all relevant has AP 1; a row without relevant labels scores 1. So LRAP is the
// samples average of step AP with empty rows counted as 1, computed by the step kernel on the
// transposed matrix: O(C) per row after sorting its few relevant scores, no sort of the row.
template <class T, class L>
double label_ranking_average_precision(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                                       const class_scope& scope, const execution_env& env, bool& valid_input) {
  const index_t rows = scores.extent(0);
  const auto per_row = step_ap_by_group(transpose(scores), transpose(labels), encoding, class_scope({}, rows), scope,
                                        one_group_per_class(rows), static_cast<std::size_t>(rows), env.thread_count());
  valid_input = per_row.valid_input;
  double sum = 0.0;
  for (double ap : per_row.ap) sum += std::isnan(ap) ? 1.0 : ap;
  return sum / static_cast<double>(rows);
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

#pragma once
// Order-dependent average precision: the "ranked" family and the VOC-style APs (METHOD.md 4.4,
// 4.5, 6.2 items 6-9).
//
// Every flavour walks one total order of a group's non-ignored entries: score descending, then
// row index ascending, then column index ascending (for a per-class group: sample index
// ascending, which is what the VOC devkit's stable sort gives). Down that order TP(r) and FP(r)
// are cumulative counts at rank r = 1, 2, ...; P is the group's number of positives.
//   ranked:        AP = (1 / (P + epsilon)) * sum over positives at rank r of TP(r) / r.
//   voc07_11point: AP = (1/11) * sum over t = m/10, m = 0..10, of the best precision at a rank
//                  whose recall TP(r)/P is >= t (compared exactly: 10 * TP(r) >= m * P), 0 if none.
//   voc_area:      area under the precision envelope P~(r) = max over r' >= r of precision(r'):
//                  the VOC2010+ sum over the indices where recall changes of dR * P~, which is
//                  (1/P) * sum over positives at rank r of P~(r) (recall moves by 1/P exactly at
//                  the positives; the sentinel recall 1 adds nothing, as the last recall is 1).
// A group without positives gets NaN. epsilon enters only the ranked flavour.
//
// O(N log N) per group: each group's entries are gathered into per-worker scratch (reused across
// groups) and sorted. Blocks of groups are independent tasks; the result does not depend on
// `threads`. Extra memory: the entries of one block of groups per worker.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr::detail {

enum class ranked_flavour : std::uint8_t { ranked, voc07_11point, voc_area };

// The same shape as grouped_ap (average_precision.hpp); to be unified with it.
using ranked_ap_result = grouped_ap;

template <class T>
struct ranked_entry {
  T score;
  index_t row;
  index_t column;
  bool positive;
};

// Higher score first, then lower row, then lower column: a strict total order on distinct
// entries (scores are finite here).
template <class T>
inline bool ranked_before(const ranked_entry<T>& a, const ranked_entry<T>& b) noexcept {
  if (a.score != b.score) return a.score > b.score;
  if (a.row != b.row) return a.row < b.row;
  return a.column < b.column;
}

// AP of one group's entries, already in ranked order, with `positives` > 0 of them positive.
// `precision` is scratch.
template <class T>
double ranked_sweep(std::span<const ranked_entry<T>> entries, std::int64_t positives, ranked_flavour flavour,
                    double epsilon, std::vector<double>& precision) {
  const auto p = static_cast<double>(positives);
  switch (flavour) {
    case ranked_flavour::ranked: {
      double sum = 0.0;
      std::int64_t tp = 0;
      for (std::size_t r = 0; r < entries.size(); ++r) {
        if (!entries[r].positive) continue;
        ++tp;
        sum += static_cast<double>(tp) / static_cast<double>(r + 1);
      }
      return sum / (p + epsilon);
    }
    case ranked_flavour::voc_area: {
      // Envelope from the bottom up; each positive contributes its envelope value.
      double envelope = 0.0, sum = 0.0;
      std::int64_t tp = positives;  // TP at rank r + 1, walking upwards
      for (std::size_t r = entries.size(); r-- > 0;) {
        envelope = std::max(envelope, static_cast<double>(tp) / static_cast<double>(r + 1));
        if (entries[r].positive) {
          sum += envelope;
          --tp;
        }
      }
      return sum / p;
    }
    case ranked_flavour::voc07_11point: {
      // precision[r] = best precision at ranks >= r + 1 (recall is non-decreasing down the
      // order, so "recall >= t" is a suffix of ranks).
      const std::size_t n = entries.size();
      precision.resize(n);
      std::int64_t tp = positives;
      double best = 0.0;
      for (std::size_t r = n; r-- > 0;) {
        best = std::max(best, static_cast<double>(tp) / static_cast<double>(r + 1));
        precision[r] = best;
        tp -= entries[r].positive;
      }
      double sum = 0.0;
      std::size_t r = 0;  // first rank (0-based) whose recall reaches m/10
      tp = n ? static_cast<std::int64_t>(entries[0].positive) : 0;
      for (std::int64_t m = 0; m <= 10; ++m) {
        while (r < n && 10 * tp < m * positives) {
          ++r;
          if (r < n) tp += entries[r].positive;
        }
        if (r < n) sum += precision[r];
      }
      return sum / 11.0;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// AP of groups of classes: column columns[q] belongs to group group_of_class[q] < groups, and
// each group's AP is the one AP over all its columns' non-ignored entries in the rows in scope.
// One group per class gives the per-class APs; one group for all classes gives the micro average.
// When valid_input is false, ap and positives are unspecified.
template <class T, class L>
grouped_ap ranked_ap_by_group(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                              const class_scope& columns, const class_scope& rows,
                              std::span<const std::size_t> group_of_class, std::size_t groups,
                              ranked_flavour flavour, double epsilon, unsigned threads,
                              const progress_span& progress = {}) {
  // The classes of each group, ascending (counting sort).
  std::vector<std::size_t> first(groups + 1, 0);
  for (const std::size_t g : group_of_class) ++first[g + 1];
  for (std::size_t g = 0; g < groups; ++g) first[g + 1] += first[g];
  std::vector<index_t> members(group_of_class.size());
  {
    std::vector<std::size_t> next(first.begin(), first.end() - 1);
    for (std::size_t q = 0; q < group_of_class.size(); ++q)
      members[next[group_of_class[q]]++] = columns[static_cast<index_t>(q)];
  }

  // Groups are taken in blocks of `block_groups`, and a block's entries are gathered in the
  // scores' memory order: for row-major data, rows outer, so that one row's entries of the
  // block's columns share cache lines and pages. Gathering one column at a time would miss the
  // cache and the TLB on every entry of a wide matrix (OpenImages: 7,586 classes, 30 KB rows).
  // The gather order does not matter for the result: the entries are sorted by a total order.
  constexpr std::size_t block_groups = 16;
  const std::size_t blocks = (groups + block_groups - 1) / block_groups;
  const bool rows_outer = std::abs(scores.stride(1)) <= std::abs(scores.stride(0));
  struct scratch {
    std::vector<std::vector<ranked_entry<T>>> entries;  // one list per group of the block
    std::vector<double> precision;
  };
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), blocks));
  std::vector<scratch> scratches(workers);
  grouped_ap out{std::vector<double>(groups, std::numeric_limits<double>::quiet_NaN()),
                 std::vector<std::int64_t>(groups, 0), true};
  std::vector<char> valid(groups, 1);
  parallel_for(blocks, workers, [&](std::size_t b, unsigned w) {
    const std::size_t g0 = b * block_groups, g1 = std::min(groups, g0 + block_groups);
    auto& lists = scratches[w].entries;
    lists.resize(block_groups);
    for (auto& list : lists) list.clear();
    auto gather = [&](std::size_t g, index_t i, index_t j) {
      const T s = scores(i, j);
      const label_state state = decode_label(labels(i, j), encoding);
      valid[g] &= static_cast<char>(is_finite_score(s) & (state != label_state::invalid));
      if (state == label_state::positive || state == label_state::negative)
        lists[g - g0].push_back({s, i, j, state == label_state::positive});
    };
    if (rows_outer) {
      for (index_t p = 0; p < rows.size(); ++p)
        for (std::size_t g = g0; g < g1; ++g)
          for (std::size_t m = first[g]; m < first[g + 1]; ++m) gather(g, rows[p], members[m]);
    } else {
      for (std::size_t g = g0; g < g1; ++g)
        for (std::size_t m = first[g]; m < first[g + 1]; ++m)
          for (index_t p = 0; p < rows.size(); ++p) gather(g, rows[p], members[m]);
    }
    for (std::size_t g = g0; g < g1; ++g) {
      auto& entries = lists[g - g0];
      std::int64_t positives = 0;
      for (const auto& e : entries) positives += e.positive;
      out.positives[g] = positives;
      if (!valid[g] || positives == 0) continue;  // NaN
      std::sort(entries.begin(), entries.end(), ranked_before<T>);
      out.ap[g] = ranked_sweep<T>(entries, positives, flavour, epsilon, scratches[w].precision);
    }
  }, progress);
  out.valid_input = std::find(valid.begin(), valid.end(), 0) == valid.end();
  return out;
}

// Every column and row in scope; group_of_class[j] is the group of column j.
template <class T, class L>
grouped_ap ranked_ap_by_group(score_view<T> scores, label_view<L> labels, label_encoding encoding,
                              std::span<const std::size_t> group_of_class, std::size_t groups,
                              ranked_flavour flavour, double epsilon, unsigned threads) {
  return ranked_ap_by_group(scores, labels, encoding, class_scope({}, scores.extent(1)),
                            class_scope({}, scores.extent(0)), group_of_class, groups, flavour, epsilon, threads);
}

}  // namespace mlr::detail

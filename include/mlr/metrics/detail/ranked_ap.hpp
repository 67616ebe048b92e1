#pragma once
// Order-dependent average precision: the "ranked" family and the VOC-style APs (METHOD.md 4.4,
// 4.5, 6.2 items 6-9).
//
// Every flavour walks one total order of a group's non-ignored entries: score descending, then
// row index ascending, then column index ascending (for a per-class group: sample index
// ascending, which is what the VOC devkit's stable sort gives). Down that order TP(r) is the
// cumulative count of positives at rank r = 1, 2, ...; P is the group's number of positives, and
// R_t the rank of the t-th positive (t = 1..P). Precision only rises at a positive, so each
// flavour needs only the R_t:
//   ranked:        AP = (1 / (P + epsilon)) * sum over t of t / R_t.
//   voc07_11point: AP = (1/11) * sum over m = 0..10 of the best precision at a rank whose recall
//                  TP(r)/P is >= m/10 (compared exactly: 10 * TP(r) >= m * P): the best t'/R_t'
//                  over t' >= t_m, t_m the smallest t >= 1 with 10 t >= m P.
//   voc_area:      area under the precision envelope P~(r) = max over r' >= r of precision(r'):
//                  the VOC2010+ sum over the indices where recall changes of dR * P~, which is
//                  (1/P) * sum over t of max over t' >= t of t'/R_t' (recall moves by 1/P exactly
//                  at the positives; the sentinel recall 1 adds nothing, as the last recall is 1).
// A group without positives gets NaN. epsilon enters only the ranked flavour.
//
// The ranks come from ladder_pass<true> (detail/ladder_pass.hpp): no entry is sorted but the
// positives, so the cost is that of the step AP, O(P log P + N) per group.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/ladder_pass.hpp"

namespace mlr::detail {

enum class ranked_flavour : std::uint8_t { ranked, voc07_11point, voc_area };

// The AP of one group from the ranks (1-based, ascending) of its P > 0 positives. `best` is
// scratch.
inline double ranked_sweep(std::span<const std::int64_t> ranks, ranked_flavour flavour, double epsilon,
                           std::vector<double>& best) {
  const std::size_t p = ranks.size();
  const auto precision = [&](std::size_t t) {  // at the (t+1)-th positive
    return static_cast<double>(t + 1) / static_cast<double>(ranks[t]);
  };
  switch (flavour) {
    case ranked_flavour::ranked: {
      double sum = 0.0;
      for (std::size_t t = 0; t < p; ++t) sum += precision(t);
      return sum / (static_cast<double>(p) + epsilon);
    }
    case ranked_flavour::voc_area: {
      double envelope = 0.0, sum = 0.0;
      for (std::size_t t = p; t-- > 0;) {
        envelope = std::max(envelope, precision(t));
        sum += envelope;
      }
      return sum / static_cast<double>(p);
    }
    case ranked_flavour::voc07_11point: {
      best.resize(p);
      double envelope = 0.0;
      for (std::size_t t = p; t-- > 0;) best[t] = envelope = std::max(envelope, precision(t));
      double sum = 0.0;
      const auto positives = static_cast<std::int64_t>(p);
      for (std::int64_t m = 0; m <= 10; ++m) {
        const std::int64_t first = std::max<std::int64_t>(1, (m * positives + 9) / 10);  // smallest t: 10 t >= m P
        sum += best[static_cast<std::size_t>(first - 1)];
      }
      return sum / 11.0;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// The ranks of group g's positives, in order, from the two passes' counts.
template <class T>
void positive_ranks(const ladder_counts<T>& counts, std::size_t g, std::vector<std::int64_t>& ranks) {
  const auto& start = counts.rung_start[g];
  const std::size_t rungs = counts.ladders[g].rungs();
  const std::int64_t* at_rank = counts.at_rank.data() + counts.offset[g];
  const std::int64_t* tied = counts.tied.data() + counts.tied_offset[g];
  ranks.resize(counts.positives[g].size());
  std::int64_t above = at_rank[rungs];  // negatives strictly above the current rung's score
  std::int64_t placed = 0;              // positives already ranked
  for (std::size_t j = rungs; j-- > 0;) {
    const std::size_t size = start[j + 1] - start[j];
    const std::int64_t* tied_here = tied + start[j] + j;  // size + 1 counters
    std::int64_t tied_before = 0;
    for (std::size_t q = 0; q < size; ++q) {
      tied_before += tied_here[q];
      ranks[static_cast<std::size_t>(placed)] = placed + 1 + above + tied_before;
      ++placed;
    }
    above += tied_before + tied_here[size] + at_rank[j];
  }
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
  const auto counts = ladder_pass<true>(scores, labels, encoding, columns, rows, group_of_class, groups, threads, progress);
  grouped_ap out{std::vector<double>(groups, std::numeric_limits<double>::quiet_NaN()),
                 std::vector<std::int64_t>(groups, 0), counts.valid};
  if (!out.valid_input) return out;
  struct scratch {
    std::vector<std::int64_t> ranks;
    std::vector<double> best;
  };
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), groups));
  std::vector<scratch> scratches(workers);
  parallel_for(groups, workers, [&](std::size_t g, unsigned w) {
    out.positives[g] = static_cast<std::int64_t>(counts.positives[g].size());
    if (out.positives[g] == 0) return;  // NaN
    positive_ranks(counts, g, scratches[w].ranks);
    out.ap[g] = ranked_sweep(scratches[w].ranks, flavour, epsilon, scratches[w].best);
  });
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

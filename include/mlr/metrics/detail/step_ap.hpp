#pragma once
// Step (non-interpolated, tie-grouped) average precision without sorting the negatives.
//
// AP = (1/P) * sum over distinct positive scores v of tp(v) * TP(>= v) / (TP(>= v) + FP(>= v)).
// Thresholds at which only negatives change move recall by nothing, so only the distinct
// positive scores matter. Sorting the P positives and placing each negative on that ladder by
// binary search costs O(P log P + N log P) instead of O(N log N): most classes have few positives.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mlr/config.hpp"

namespace mlr::detail {

template <class T>
class positive_ladder {
 public:
  // Sorts `positives` in place and compresses them into distinct ascending values with counts.
  void build(std::span<T> positives) {
    std::sort(positives.begin(), positives.end());
    values_.clear();
    counts_.clear();
    for (std::size_t i = 0; i < positives.size();) {
      std::size_t j = i + 1;
      while (j < positives.size() && positives[j] == positives[i]) ++j;
      values_.push_back(positives[i]);
      counts_.push_back(static_cast<std::int64_t>(j - i));
      i = j;
    }
    positives_ = static_cast<std::int64_t>(positives.size());
  }

  std::size_t rungs() const noexcept { return values_.size(); }
  std::int64_t positives() const noexcept { return positives_; }

  // How many distinct positive scores are <= s: a negative scoring s is a false positive at
  // exactly the thresholds below that rank.
  MLR_FORCEINLINE std::size_t rank(T s) const noexcept {
    const T* base = values_.data();
    std::size_t n = values_.size();
    if (n == 0) return 0;
    while (n > 1) {  // branchless lower half / upper half
      const std::size_t half = n / 2;
      base = (base[half] <= s) ? base + half : base;
      n -= half;
    }
    return static_cast<std::size_t>(base - values_.data()) + (*base <= s ? 1 : 0);
  }

  // AP given negatives_at_rank[k] = number of negatives of rank k (size rungs() + 1).
  // NaN when there are no positives.
  double average_precision(std::span<const std::int64_t> negatives_at_rank) const noexcept {
    if (positives_ == 0) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    std::int64_t tp = 0, fp = 0;
    for (std::size_t j = values_.size(); j-- > 0;) {
      fp += negatives_at_rank[j + 1];
      tp += counts_[j];
      sum += static_cast<double>(counts_[j]) * (static_cast<double>(tp) / static_cast<double>(tp + fp));
    }
    return sum / static_cast<double>(positives_);
  }

 private:
  std::vector<T> values_;
  std::vector<std::int64_t> counts_;
  std::int64_t positives_ = 0;
};

// Reusable scratch for one binary AP at a time: no allocation once warmed up.
template <class T>
struct step_ap_workspace {
  positive_ladder<T> ladder;
  std::vector<std::int64_t> negatives_at_rank;

  // AP of one class from its positives' scores (reordered) and negatives' scores.
  double operator()(std::span<T> positives, std::span<const T> negatives) {
    ladder.build(positives);
    if (ladder.positives() == 0) return std::numeric_limits<double>::quiet_NaN();
    negatives_at_rank.assign(ladder.rungs() + 1, 0);
    for (T s : negatives) ++negatives_at_rank[ladder.rank(s)];
    return ladder.average_precision(negatives_at_rank);
  }
};

}  // namespace mlr::detail

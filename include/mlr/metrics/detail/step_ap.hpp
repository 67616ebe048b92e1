#pragma once
// Step (non-interpolated, tie-grouped) average precision without sorting the negatives.
//
// AP = (1/P) * sum over distinct positive scores v of tp(v) * TP(>= v) / (TP(>= v) + FP(>= v)).
// Thresholds at which only negatives change move recall by nothing, so only the distinct
// positive scores matter: they form a ladder of rungs. A negative scoring s is a false positive
// at every rung <= s, so counting negatives by rank (how many rungs are <= s) gives every FP.
// Sorting the P positives costs O(P log P); ranking a negative costs O(1) expected through a
// table of buckets over the rungs' range. The negatives are never sorted.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/config.hpp"
#include "mlr/core/error.hpp"

namespace mlr::detail {

// False for NaN and infinities (all exponent bits set), from the raw bits: vectorises.
template <class T>
MLR_FORCEINLINE bool is_finite_score(T score) noexcept {
  using K = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr auto exponent = static_cast<K>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  return (std::bit_cast<K>(score) & exponent) != exponent;
}

template <class T>
class ladder {
 public:
  // Rungs past a bucket's end are read by the four-way count below, so the ladder ends with
  // this many copies of +infinity, which no finite score reaches.
  static constexpr int bucket_capacity = 4;

  // The ladder of the positives with these (finite) scores, reordered in place.
  void build(std::span<T> positive_scores) {
    if (positive_scores.size() >= std::numeric_limits<std::uint32_t>::max())
      throw error("scores: at most 4294967294 positives per average are supported");
    std::sort(positive_scores.begin(), positive_scores.end());
    rungs_.clear();
    tp_.clear();
    for (std::size_t i = 0; i < positive_scores.size();) {
      std::size_t j = i + 1;
      while (j < positive_scores.size() && positive_scores[j] == positive_scores[i]) ++j;
      rungs_.push_back(positive_scores[i]);
      tp_.push_back(static_cast<std::int64_t>(j - i));
      i = j;
    }
    positives_ = static_cast<std::int64_t>(positive_scores.size());
    build_buckets();
  }

  std::size_t rungs() const noexcept { return tp_.size(); }
  std::int64_t positives() const noexcept { return positives_; }

  // How many rungs are <= s. A copy of the few fields a query needs, so that hot loops keep
  // them in registers. Buckets split [low, high] evenly by value and the bucket function is
  // monotone (rounded subtraction and product are), so every rung of an earlier bucket is < s
  // and every rung of a later one > s; no bucket holds more than `bucket_capacity` rungs, so
  // the rank is the bucket's start plus the rungs <= s among its first four, counted from
  // independent loads with no branch. Ladders too clustered for that are searched instead.
  struct ranker {
    const T* rungs;
    const std::uint32_t* start;  // nullptr: searched
    std::size_t count;
    T low, scale, last_bucket;

    bool searched() const noexcept { return start == nullptr; }

    // s is finite or -inf (which ranks 0 on every ladder).
    MLR_FORCEINLINE std::size_t by_bucket(T s) const noexcept {
      // The score is clamped to `low` rather than the position to 0: g++ 12 turns
      // max(position, 0) before the conversion into a mispredicted jump, while max(s, low) is
      // one instruction. The position is in [0, last_bucket] and never NaN, even for -inf.
      const auto b = static_cast<std::uint32_t>(std::min(last_bucket, (std::max(s, low) - low) * scale));
      const T* r = rungs + start[b];
      return start[b] + static_cast<std::size_t>(r[0] <= s) + static_cast<std::size_t>(r[1] <= s) +
             static_cast<std::size_t>(r[2] <= s) + static_cast<std::size_t>(r[3] <= s);
    }
    std::size_t by_search(T s) const noexcept {
      return static_cast<std::size_t>(std::upper_bound(rungs, rungs + count, s) - rungs);
    }
    std::size_t operator()(T s) const noexcept { return searched() ? by_search(s) : by_bucket(s); }
  };

  ranker rank() const noexcept {
    return {rungs_.data(), start_.empty() ? nullptr : start_.data(), rungs(), low_, scale_, last_bucket_};
  }

  // AP from negatives_at_rank[r] = number of negatives of rank r (size rungs() + 1); NaN
  // without positives.
  double average_precision(std::span<const std::int64_t> negatives_at_rank) const noexcept {
    if (positives_ == 0) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    std::int64_t tp = 0, fp = 0;
    for (std::size_t j = tp_.size(); j-- > 0;) {
      fp += negatives_at_rank[j + 1];
      tp += tp_[j];
      sum += static_cast<double>(tp_[j]) * (static_cast<double>(tp) / static_cast<double>(tp + fp));
    }
    return sum / static_cast<double>(positives_);
  }

 private:
  // Buckets over [low_, high] plus one past the top rung (every score above the top rung lands
  // there); start_[b] = first rung of bucket b. Two buckets per rung to start with, doubled
  // while some bucket is over capacity, up to 64 per rung; beyond that the ladder is searched.
  void build_buckets() {
    const std::size_t m = rungs_.size();
    const T high = m ? rungs_.back() : T(0);
    low_ = m ? rungs_.front() : T(0);
    const T range = high - low_;
    const bool spread = range > T(0) && range <= std::numeric_limits<T>::max();
    if (!spread) low_ = T(0);  // one bucket for all; s - 0 cannot overflow, so no inf * 0
    const auto bucket_of = [this](T s) {  // the same arithmetic as ranker::by_bucket
      return static_cast<std::size_t>(std::min(last_bucket_, (std::max(s, low_) - low_) * scale_));
    };
    const std::size_t most_buckets = std::min<std::size_t>(64 * m, std::size_t{1} << 26);
    for (std::size_t buckets = std::max<std::size_t>(2 * m, 1);; buckets *= 2) {
      scale_ = spread ? static_cast<T>(buckets) / range : T(0);
      last_bucket_ = static_cast<T>(buckets);
      start_.assign(buckets + 2, 0);
      std::size_t r = 0, fullest = 0;
      for (std::size_t b = 0; b <= buckets; ++b) {
        start_[b] = static_cast<std::uint32_t>(r);
        while (r < m && bucket_of(rungs_[r]) == b) ++r;
        fullest = std::max(fullest, r - start_[b]);
      }
      start_[buckets + 1] = static_cast<std::uint32_t>(m);
      if (fullest <= bucket_capacity) break;
      if (!spread || 2 * buckets > most_buckets) {
        start_.clear();
        break;
      }
    }
    rungs_.insert(rungs_.end(), bucket_capacity, std::numeric_limits<T>::infinity());
  }

  std::vector<T> rungs_;          // distinct positive scores, ascending, then the padding
  std::vector<std::int64_t> tp_;  // positives per rung
  std::vector<std::uint32_t> start_;
  T low_ = 0, scale_ = 0, last_bucket_ = 0;
  std::int64_t positives_ = 0;
};

}  // namespace mlr::detail

#pragma once
// Step (non-interpolated, tie-grouped) average precision without sorting the negatives.
//
// AP = (1/P) * sum over distinct positive scores v of tp(v) * TP(>= v) / (TP(>= v) + FP(>= v)).
// Thresholds at which only negatives change move recall by nothing, so only the distinct
// positive scores matter: they form a ladder of rungs. A negative scoring s is a false positive
// at every rung <= s, so counting negatives by rank (how many rungs are <= s) gives every FP.
// Sorting the P positives costs O(P log P); ranking a negative costs O(1) expected through a
// bucket table over the rungs' order-preserving integer keys. The negatives are never sorted.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "mlr/config.hpp"

namespace mlr::detail {

template <class T>
using score_key_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// An integer whose unsigned order is the floating-point order of finite scores; -0.0 and +0.0
// map to the same key, as they compare equal.
template <class T>
MLR_FORCEINLINE score_key_t<T> score_key(T score) noexcept {
  using K = score_key_t<T>;
  constexpr K sign = K{1} << (8 * sizeof(K) - 1);
  const K bits = std::bit_cast<K>(static_cast<T>(score + T(0)));  // -0.0 + 0.0 == +0.0
  return (bits & sign) ? ~bits : (bits | sign);
}

// False for NaN and infinities (all exponent bits set), from the raw bits: vectorises.
template <class T>
MLR_FORCEINLINE bool is_finite_score(T score) noexcept {
  using K = score_key_t<T>;
  constexpr K exponent = static_cast<K>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  return (std::bit_cast<K>(score) & exponent) != exponent;
}

template <class T>
class ladder {
 public:
  using key_type = score_key_t<T>;

  // The ladder of the positives with these keys (reordered in place).
  void build(std::span<key_type> positive_keys) {
    std::sort(positive_keys.begin(), positive_keys.end());
    keys_.clear();
    tp_.clear();
    for (std::size_t i = 0; i < positive_keys.size();) {
      std::size_t j = i + 1;
      while (j < positive_keys.size() && positive_keys[j] == positive_keys[i]) ++j;
      keys_.push_back(positive_keys[i]);
      tp_.push_back(static_cast<std::int64_t>(j - i));
      i = j;
    }
    positives_ = static_cast<std::int64_t>(positive_keys.size());
    build_buckets();
  }

  std::size_t rungs() const noexcept { return tp_.size(); }
  std::int64_t positives() const noexcept { return positives_; }

  // How many rungs are <= the score with key k. A copy of the few fields a query needs, so
  // that hot loops keep them in registers. Every rung past k's bucket has a larger key than k,
  // a bucket holds at most `bucket_capacity` rungs, and a sentinel larger than any finite
  // score's key ends the ladder: a fixed number of comparisons, no branch, no bounds check.
  // Ladders whose scores are too clustered for a bounded table are searched instead.
  static constexpr int bucket_capacity = 4;

  struct ranker {
    const key_type* keys;
    const std::uint32_t* start;  // empty when searched
    std::size_t rungs;
    key_type low;
    unsigned shift;
    std::uint32_t last_bucket;

    bool uses_buckets() const noexcept { return start != nullptr; }

    MLR_FORCEINLINE std::size_t by_bucket(key_type k) const noexcept {
      const auto below_low = static_cast<key_type>(key_type{0} - static_cast<key_type>(k < low));  // all ones or 0
      const auto above_low = static_cast<key_type>((k - low) & ~below_low);
      const auto b = static_cast<std::uint32_t>(std::min<key_type>(above_low >> shift, last_bucket));
      std::size_t r = start[b];
      for (int step = 0; step < bucket_capacity; ++step) r += keys[r] <= k ? 1 : 0;
      return r;
    }
    std::size_t by_search(key_type k) const noexcept {
      return static_cast<std::size_t>(std::upper_bound(keys, keys + rungs, k) - keys);
    }
    MLR_FORCEINLINE std::size_t operator()(key_type k) const noexcept {
      return uses_buckets() ? by_bucket(k) : by_search(k);
    }
  };

  ranker rank() const noexcept {
    return {keys_.data(), start_.empty() ? nullptr : start_.data(), rungs(), low_, shift_, last_bucket_};
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
  // Buckets over [low_, high] by the top bits of (key - low_), one bucket past the top rung,
  // start_[b] = first rung of bucket b; as few buckets (at least one per rung) as keep every
  // bucket within capacity, or none if that would take more than 2^22 buckets.
  void build_buckets() {
    const std::size_t m = keys_.size();
    low_ = m ? keys_.front() : sentinel;
    start_.clear();
    keys_.push_back(sentinel);
    if (m == 0) {  // every query falls in the one bucket past the top, at rank 0
      shift_ = 0;
      last_bucket_ = 0;
      start_.assign(1, 0);
      return;
    }
    const auto range_bits = static_cast<unsigned>(std::bit_width(static_cast<key_type>(keys_[m - 1] - low_)));
    constexpr unsigned max_bucket_bits = 22;
    if (m >= std::numeric_limits<std::uint32_t>::max()) return;
    for (auto bits = static_cast<unsigned>(std::bit_width(m)); bits <= max_bucket_bits; ++bits) {
      shift_ = range_bits > bits ? range_bits - bits : 0u;
      last_bucket_ = std::uint32_t{1} << bits;
      start_.assign(last_bucket_ + 1, 0);
      std::size_t r = 0, crowded = 0;
      for (std::uint32_t b = 0; b <= last_bucket_; ++b) {
        const std::size_t first = r;
        while (r < m && static_cast<std::size_t>((keys_[r] - low_) >> shift_) <= b) ++r;
        start_[b] = static_cast<std::uint32_t>(first);
        crowded += r - first > static_cast<std::size_t>(bucket_capacity);
      }
      if (crowded == 0) return;
    }
    start_.clear();
  }

  // No finite score has this key: finite keys stop at that of the largest float.
  static constexpr key_type sentinel = std::numeric_limits<key_type>::max();

  std::vector<key_type> keys_;    // distinct positive keys, ascending, then the sentinel
  std::vector<std::int64_t> tp_;  // positives per rung
  std::vector<std::uint32_t> start_;
  key_type low_ = sentinel;
  unsigned shift_ = 0;
  std::uint32_t last_bucket_ = 0;
  std::int64_t positives_ = 0;
};

}  // namespace mlr::detail

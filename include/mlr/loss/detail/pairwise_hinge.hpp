#pragma once
// The ranking loss of one image in O(C log min(P, N)) instead of O(P·N): sort the smaller of the
// two sets (positives by score, or negatives by a = fl(margin + s)), binary-search every member
// of the other set in it, and count the pairs on each side with a histogram of those positions.
// A pair (i negative, j positive) has h = fl(a_i - s_j); its sign is the sign of the exact
// difference, so "h > 0" is exactly s_j < a_i and "h >= 0" is s_j <= a_i: the decisions are the
// reference's, bit for bit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mlr/core/view.hpp"

namespace mlr::detail {

struct hinge_member {
  double key;    // positive: s_j; negative: a_i = fl(margin + s_i) in the input's type
  index_t col;   // its column
  index_t count; // pairs it takes part in for the gradient
};

// One worker's scratch; kept between calls, so steady-state calls allocate nothing.
struct ranking_scratch {
  std::vector<hinge_member> pos, neg;
  std::vector<double> keys, prefix;
  std::vector<index_t> hist;
};

struct hinge_sums {
  double sum = 0.0;       // sum of h over the violating pairs (h > 0)
  std::int64_t violating = 0;
};

inline bool by_key(const hinge_member& a, const hinge_member& b) noexcept { return a.key < b.key; }

// Fills `count` of every member of w.pos and w.neg (pairs with h >= 0 when inclusive, h > 0
// otherwise) and returns the violating pairs and their sum.
inline hinge_sums pairwise_hinge(ranking_scratch& w, bool inclusive) {
  hinge_sums r;
  const bool sort_positives = w.pos.size() <= w.neg.size();
  auto& sorted = sort_positives ? w.pos : w.neg;
  auto& probes = sort_positives ? w.neg : w.pos;
  std::sort(sorted.begin(), sorted.end(), by_key);
  const std::size_t n = sorted.size();
  // Prefix sums of key - key[0]: shifting by the smallest key keeps the sums small.
  const double origin = sorted[0].key;
  w.keys.resize(n);
  w.prefix.resize(n + 1);
  w.prefix[0] = 0.0;
  for (std::size_t r = 0; r < n; ++r) {
    w.keys[r] = sorted[r].key;
    w.prefix[r + 1] = w.prefix[r] + (sorted[r].key - origin);
  }
  w.hist.assign(n + 1, 0);
  const double* keys = w.keys.data();
  for (auto& e : probes) {
    const auto below = static_cast<std::size_t>(std::lower_bound(keys, keys + n, e.key) - keys);   // keys < e.key
    const auto at_most = static_cast<std::size_t>(std::upper_bound(keys + below, keys + n, e.key) - keys);  // <=
    const double shifted = e.key - origin;
    if (sort_positives) {
      // e is negative i: violators are the positives with s_j < a_i.
      r.sum += static_cast<double>(below) * shifted - w.prefix[below];
      r.violating += static_cast<std::int64_t>(below);
      const std::size_t k = inclusive ? at_most : below;
      e.count = static_cast<index_t>(k);
      ++w.hist[k];  // it pairs with the sorted positives of rank < k
    } else {
      // e is positive j: violators are the negatives with a_i > s_j.
      const std::size_t above = n - at_most;
      r.sum += (w.prefix[n] - w.prefix[at_most]) - static_cast<double>(above) * shifted;
      r.violating += static_cast<std::int64_t>(above);
      const std::size_t start = inclusive ? below : at_most;
      e.count = static_cast<index_t>(n - start);
      ++w.hist[start];  // it pairs with the sorted negatives of rank >= start
    }
  }
  index_t running = 0;
  if (sort_positives) {
    for (std::size_t r = n; r-- > 0;) {
      running += w.hist[r + 1];
      sorted[r].count = running;
    }
  } else {
    for (std::size_t r = 0; r < n; ++r) {
      running += w.hist[r];
      sorted[r].count = running;
    }
  }
  return r;
}

}  // namespace mlr::detail

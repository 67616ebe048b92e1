#pragma once
// The raw loop beside the library: the textbook step AP (scikit-learn's definition), sorting every
// (score, label) pair of a column and sweeping the thresholds from the top, one distinct score
// at a time. Single-threaded, labels 1 / 0 / -1 (ignored). Not part of mlr.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace mlr_bench {

// AP of the pairs (score, is_positive), sorted in place by descending score. NaN: no positives.
template <class T>
double naive_step_ap(std::vector<std::pair<T, std::int8_t>>& pairs) {
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::int64_t positives = 0;
  for (const auto& p : pairs) positives += p.second;
  if (positives == 0) return std::numeric_limits<double>::quiet_NaN();
  std::int64_t tp = 0, fp = 0, tp_before = 0;
  double sum = 0.0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    tp += pairs[i].second;
    fp += 1 - pairs[i].second;
    if (i + 1 == pairs.size() || pairs[i + 1].first != pairs[i].first) {  // end of a distinct score
      sum += static_cast<double>(tp - tp_before) * static_cast<double>(tp) / static_cast<double>(tp + fp);
      tp_before = tp;
    }
  }
  return sum / static_cast<double>(positives);
}

// Per-class AP of row-major scores/labels [rows x cols].
template <class T>
std::vector<double> naive_per_class_ap(const T* scores, const std::int8_t* labels, std::ptrdiff_t rows,
                                       std::ptrdiff_t cols) {
  std::vector<double> ap(static_cast<std::size_t>(cols));
  std::vector<std::pair<T, std::int8_t>> pairs;
  pairs.reserve(static_cast<std::size_t>(rows));
  for (std::ptrdiff_t c = 0; c < cols; ++c) {
    pairs.clear();
    for (std::ptrdiff_t i = 0; i < rows; ++i) {
      const std::int8_t y = labels[i * cols + c];
      if (y >= 0) pairs.emplace_back(scores[i * cols + c], y);
    }
    ap[static_cast<std::size_t>(c)] = naive_step_ap(pairs);
  }
  return ap;
}

// Macro mean, empty classes counted as 0 (mlr's default empty_class::zero).
inline double naive_macro(const std::vector<double>& ap) {
  double sum = 0.0;
  for (double v : ap) sum += std::isnan(v) ? 0.0 : v;
  return sum / static_cast<double>(ap.size());
}

// Micro AP: one binary problem over every entry.
template <class T>
double naive_micro_ap(const T* scores, const std::int8_t* labels, std::size_t entries) {
  std::vector<std::pair<T, std::int8_t>> pairs;
  pairs.reserve(entries);
  for (std::size_t k = 0; k < entries; ++k)
    if (labels[k] >= 0) pairs.emplace_back(scores[k], labels[k]);
  return naive_step_ap(pairs);
}

}  // namespace mlr_bench

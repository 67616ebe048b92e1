#pragma once
// A deliberately naive reference for step average precision and its averages, written from the
// definition in CONVENTIONS.md and sharing no code with mlr's kernels. Tests only: O(P (P + N))
// per class.
//
// For one class, with ignored entries removed, P positives and distinct positive scores v:
//   TP(v) = #positives scoring >= v,  FP(v) = #negatives scoring >= v,  tp(v) = #positives scoring v
//   AP = (1/P) * sum_v tp(v) * TP(v) / (TP(v) + FP(v)),   NaN when P = 0.
// Labels are canonical: 1 positive, 0 negative, -1 ignored.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "mlr/core/policies.hpp"

namespace mlr_test::naive {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// AP of one binary problem; labels 1 / 0 / -1 (ignored).
inline double average_precision(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<double> positives, negatives;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] == 1) positives.push_back(scores[i]);
    else if (labels[i] == 0) negatives.push_back(scores[i]);
  }
  if (positives.empty()) return nan;
  const std::set<double> thresholds(positives.begin(), positives.end());
  double sum = 0.0;
  for (const double v : thresholds) {
    double tp_at = 0, tp_from = 0, fp_from = 0;
    for (const double s : positives) {
      tp_at += s == v;
      tp_from += s >= v;
    }
    for (const double s : negatives) fp_from += s >= v;
    sum += tp_at * tp_from / (tp_from + fp_from);
  }
  return sum / static_cast<double>(positives.size());
}

// Mean of values where NaN marks an empty class (or sample): counted as 0 or left out.
inline double policy_mean(const std::vector<double>& values, mlr::empty_class policy) {
  double sum = 0.0;
  std::size_t count = 0;
  for (double v : values) {
    if (std::isnan(v)) {
      if (policy == mlr::empty_class::exclude) continue;
      v = 0.0;
    }
    sum += v;
    ++count;
  }
  return count == 0 ? nan : sum / static_cast<double>(count);
}

// Every average of an N x C problem (row-major scores and canonical labels).
struct map_reference {
  std::vector<double> per_class;           // NaN for a class without positives
  std::vector<std::int64_t> positives;     // per class, ignored entries excluded
  std::vector<double> per_sample;          // AP of each row across its classes
  double micro = nan;                      // one AP over every non-ignored entry

  map_reference(std::ptrdiff_t rows, std::ptrdiff_t cols, const std::vector<double>& scores,
                const std::vector<int>& labels) {
    const auto n = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
    for (std::size_t j = 0; j < c; ++j) {
      std::vector<double> s(n);
      std::vector<int> l(n);
      std::int64_t p = 0;
      for (std::size_t i = 0; i < n; ++i) {
        s[i] = scores[i * c + j];
        l[i] = labels[i * c + j];
        p += l[i] == 1;
      }
      per_class.push_back(average_precision(s, l));
      positives.push_back(p);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::vector<double> s(scores.begin() + static_cast<std::ptrdiff_t>(i * c),
                                  scores.begin() + static_cast<std::ptrdiff_t>((i + 1) * c));
      const std::vector<int> l(labels.begin() + static_cast<std::ptrdiff_t>(i * c),
                               labels.begin() + static_cast<std::ptrdiff_t>((i + 1) * c));
      per_sample.push_back(average_precision(s, l));
    }
    micro = average_precision(scores, labels);
  }

  // The value mlr::mean_average_precision must return for `average` under `policy`.
  double expected(mlr::average average, mlr::empty_class policy) const {
    switch (average) {
      case mlr::average::macro: return policy_mean(per_class, policy);
      case mlr::average::micro:
        return std::isnan(micro) && policy == mlr::empty_class::zero ? 0.0 : micro;
      case mlr::average::weighted: {
        double sum = 0.0, weight = 0.0;
        for (std::size_t j = 0; j < per_class.size(); ++j) {
          if (positives[j] == 0) continue;
          sum += static_cast<double>(positives[j]) * per_class[j];
          weight += static_cast<double>(positives[j]);
        }
        if (weight == 0.0) return policy == mlr::empty_class::zero ? 0.0 : nan;
        return sum / weight;
      }
      case mlr::average::samples: return policy_mean(per_sample, policy);
      case mlr::average::none: return nan;
    }
    return nan;
  }
};

}  // namespace mlr_test::naive

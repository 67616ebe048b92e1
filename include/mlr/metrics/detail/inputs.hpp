#pragma once
// The checked inputs of every metric: views of the caller's tensors (element types, host memory,
// equal non-empty shapes), the classes in scope, and the error naming the first bad entry.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

template <class T>
using score_view = strided_view<const T, 2>;
template <class L>
using label_view = strided_view<const L, 2>;

// The result of an AP kernel over groups of classes (one group per class: per-class APs; one
// group for all: the micro average).
struct grouped_ap {
  std::vector<double> ap;               // NaN for a group without positives
  std::vector<std::int64_t> positives;  // per group
  bool valid_input;                     // false: some score is not finite or some label invalid
};

// The boundary of every metric entry point: the views of the caller's tensors, their element
// types (compile time), host memory, equal non-empty shapes; then f(scores view, labels view).
template <class Result, class S, class L, class F>
Result with_checked_views(const S& scores, const L& labels, F&& f) {
  const auto sv = as_view(scores);
  const auto lv = as_view(labels);
  using SV = decltype(sv);
  using LV = decltype(lv);
  static_assert(std::is_floating_point_v<typename SV::value_type>, "mlr: scores must hold float or double.");
  static_assert(is_supported_element_v<typename LV::value_type>,
                "mlr: labels must hold int8, int32, int64, uint8, bool, float or double.");
  if constexpr (!on_host<SV>) {
    throw device_error("scores");
  } else if constexpr (!on_host<LV>) {
    throw device_error("labels");
  } else {
    check_same_shape(sv, "scores", lv, "labels");
    check_not_empty(sv, "scores");  // finiteness and label values: checked by the kernels' passes
    return f(sv, lv);
  }
}

// The columns in scope: `classes` validated (in range, distinct), or every column when empty.
// Views the caller's list; copies nothing.
class class_scope {
 public:
  class_scope(std::span<const index_t> classes, index_t columns) : classes_(classes), columns_(columns) {
    if (classes.empty()) return;
    std::vector<index_t> seen(static_cast<std::size_t>(columns), -1);
    for (std::size_t p = 0; p < classes.size(); ++p) {
      const index_t c = classes[p];
      if (c < 0 || c >= columns)
        throw error("classes: expected class indices in [0, " + std::to_string(columns) + "), found " +
                    std::to_string(c) + " at position " + std::to_string(p));
      auto& first = seen[static_cast<std::size_t>(c)];
      if (first >= 0)
        throw error("classes: expected distinct class indices, found " + std::to_string(c) + " at positions " +
                    std::to_string(first) + " and " + std::to_string(p));
      first = static_cast<index_t>(p);
    }
  }
  index_t size() const noexcept { return classes_.empty() ? columns_ : static_cast<index_t>(classes_.size()); }
  index_t operator[](index_t q) const noexcept { return classes_.empty() ? q : classes_[static_cast<std::size_t>(q)]; }
  bool all() const noexcept { return classes_.empty(); }

  std::vector<index_t> indices() const {
    std::vector<index_t> out(static_cast<std::size_t>(size()));
    for (index_t q = 0; q < size(); ++q) out[static_cast<std::size_t>(q)] = (*this)[q];
    return out;
  }

 private:
  std::span<const index_t> classes_;
  index_t columns_;
};

// Throws the mlr::error naming the first non-finite score, then the first invalid label, in
// row-major order (any rank).
template <class SV, class LV>
void report_invalid(const SV& scores, const LV& labels, label_encoding encoding) {
  check_finite(scores, "scores");
  check_labels(labels, encoding, "labels");
}

// The same over the columns in scope, with the caller's column indices.
template <class SV, class LV>
void report_invalid(const SV& scores, const LV& labels, label_encoding encoding, const class_scope& scope) {
  std::vector<index_t> columns;  // empty: every column
  if (!scope.all()) {
    columns = scope.indices();
    std::sort(columns.begin(), columns.end());
  }
  check_finite(scores, "scores", {}, columns);
  check_labels(labels, encoding, "labels", {}, columns);
}

}  // namespace mlr::detail

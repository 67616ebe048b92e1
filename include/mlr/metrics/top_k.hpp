#pragma once
// Top-k precision / recall / F1, micro-pooled over images (CONVENTIONS.md "Top-k precision /
// recall / F1", METHOD.md 4.6 and 6.3 items 11-14): the top k classes of each image (among its
// candidates) are predicted positive.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/detail/inputs.hpp"

namespace mlr {

struct top_k_options {
  mlr::label_encoding encoding = mlr::label_encoding::canonical;
  // removed (default): an ignored entry is not a candidate; false_positive (MKT/BiAM): it can take
  // a slot and counts as a false positive.
  mlr::topk_ignored ignored = mlr::topk_ignored::removed;
  mlr::zero_division zero_division = mlr::zero_division::standard;
};

struct top_k_result {
  double precision;              // true_positives / predicted
  double recall;                 // true_positives / positives
  double f1;                     // 2 P R / (P + R)
  std::int64_t true_positives;   // positives among the predicted slots
  std::int64_t predicted;        // slots: sum over images of min(k, the image's candidates)
  std::int64_t positives;        // positives in scope, after ignoring
};

namespace detail {

// One candidate class of an image; the order puts the predicted ones first: higher score, then
// lower class index.
template <class T>
struct ranked_class {
  T score;
  index_t cls;
  bool positive;
  friend bool operator<(const ranked_class& a, const ranked_class& b) noexcept {
    return a.score > b.score || (a.score == b.score && a.cls < b.cls);
  }
};

// Rows are processed in fixed blocks (so that per-block results reduce in a fixed order);
// f(block, first_row, last_row, scratch) returns true when every entry it read was valid.
// Returns false if some block was not.
inline constexpr index_t ranking_block_rows = 256;
inline std::size_t row_blocks(index_t rows) noexcept {
  return static_cast<std::size_t>((rows + ranking_block_rows - 1) / ranking_block_rows);
}

// The scratch of a worker holds one entry per class in scope: nothing is allocated per row.
template <class T, class F>
bool for_row_blocks(index_t rows, index_t width, unsigned threads, const progress_span& progress, F&& f) {
  const std::size_t blocks = row_blocks(rows);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), blocks));
  std::vector<std::vector<ranked_class<T>>> scratch(workers);
  std::vector<char> valid(blocks, 1);
  parallel_for(blocks, workers, [&](std::size_t b, unsigned w) {
    auto& s = scratch[w];
    s.resize(static_cast<std::size_t>(width));
    const index_t first = static_cast<index_t>(b) * ranking_block_rows;
    valid[b] = f(b, first, std::min(rows, first + ranking_block_rows), s);
  }, progress);
  return std::find(valid.begin(), valid.end(), 0) == valid.end();
}

// Precision, recall and F1 from pooled counts under a zero-division policy.
inline top_k_result pooled_f1(std::int64_t tp, std::int64_t predicted, std::int64_t positives,
                              zero_division policy) noexcept {
  const double nan_v = std::numeric_limits<double>::quiet_NaN();
  const double t = static_cast<double>(tp);
  double p = predicted ? t / static_cast<double>(predicted) : (policy == zero_division::biam ? nan_v : 0.0);
  double r = positives ? t / static_cast<double>(positives) : nan_v;
  double f;
  if (std::isnan(p) || std::isnan(r)) f = nan_v;
  else if (p + r == 0.0) f = policy == zero_division::biam ? nan_v : 0.0;
  else f = 2.0 * p * r / (p + r);
  switch (policy) {
    case zero_division::sdl:
      if (p == 0.0 || r == 0.0 || std::isnan(f)) f = 0.0;
      break;
    case zero_division::asl:
      if (tp == 0) p = r = f = 0.0;
      break;
    case zero_division::standard:
    case zero_division::biam: break;
  }
  return top_k_result{p, r, f, tp, predicted, positives};
}

template <class T, class L>
top_k_result top_k(score_view<T> scores, label_view<L> labels, index_t k, const top_k_options& options,
                    const class_scope& scope, const execution_env& env, bool& valid_input) {
  const index_t rows = scores.extent(0), width = scope.size();
  const bool removed = options.ignored == topk_ignored::removed;
  const std::size_t blocks = row_blocks(rows);
  std::vector<std::array<std::int64_t, 3>> counts(blocks, {0, 0, 0});  // tp, slots, positives
  progress_meter meter(env.progress);
  valid_input = for_row_blocks<T>(
      rows, width, env.thread_count(), progress_span{&meter},
      [&](std::size_t b, index_t first, index_t last, std::vector<ranked_class<T>>& cand) {
        bool ok = true;
        std::int64_t tp = 0, slots = 0, positives = 0;
        // Each row's predicted classes, its best min(k, candidates), are kept in a heap whose top
        // is the worst of them: once it is full, a candidate costs one comparison with the top
        // (and a replacement only when it ranks better, rarely in a long row).
        const auto capacity = static_cast<std::size_t>(std::min(k, width));
        const auto heap = cand.begin();
        for (index_t i = first; i < last; ++i) {
          std::size_t kept = 0;
          for (index_t q = 0; q < width; ++q) {
            const index_t j = scope[q];
            const T s = scores(i, j);
            const label_state state = decode_label(labels(i, j), options.encoding);
            const bool good = std::isfinite(s) && state != label_state::invalid;
            ok &= good;
            if (removed && state == label_state::ignored) continue;
            const bool pos = state == label_state::positive;
            positives += pos;
            if (!good) continue;  // the result is discarded; NaN would break the heap's order
            const ranked_class<T> c{s, j, pos};
            if (kept < capacity) {
              heap[static_cast<std::ptrdiff_t>(kept++)] = c;
              std::push_heap(heap, heap + static_cast<std::ptrdiff_t>(kept));
            } else if (c < heap[0]) {
              std::pop_heap(heap, heap + static_cast<std::ptrdiff_t>(kept));
              heap[static_cast<std::ptrdiff_t>(kept - 1)] = c;
              std::push_heap(heap, heap + static_cast<std::ptrdiff_t>(kept));
            }
          }
          for (auto it = heap; it != heap + static_cast<std::ptrdiff_t>(kept); ++it) tp += it->positive;
          slots += static_cast<std::int64_t>(kept);
        }
        counts[b] = {tp, slots, positives};
        return ok;
      });
  std::array<std::int64_t, 3> total{0, 0, 0};
  for (const auto& c : counts)
    for (std::size_t q = 0; q < 3; ++q) total[q] += c[q];
  return pooled_f1(total[0], total[1], total[2], options.zero_division);
}

}  // namespace detail

// Top-k precision, recall and F1 of scores [N, C] against labels [N, C], micro-pooled over the
// images: each image predicts its top min(k, candidates) classes, the candidates being the
// classes in scope (`classes`, all when empty) minus the image's ignored entries (unless
// options.ignored is topk_ignored::false_positive). Ties at rank k: higher score, then lower
// class index. k <= 0 is an mlr::error.
template <viewable S, viewable L>
top_k_result top_k(const S& scores, const L& labels, std::int64_t k, const top_k_options& options = {},
                   std::span<const index_t> classes = {}, const execution_env& env = {}) {
  static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                "mlr::top_k takes N x C (rank-2) scores and labels.");
  return detail::with_checked_views<top_k_result>(scores, labels, [&](const auto& sv, const auto& lv) {
    using T = typename std::remove_cvref_t<decltype(sv)>::value_type;
    using Lt = typename std::remove_cvref_t<decltype(lv)>::value_type;
    if (k <= 0) throw error("k: expected a positive number of classes, found " + std::to_string(k));
    const detail::class_scope scope(classes, sv.extent(1));
    bool valid = true;
    auto r = detail::top_k(detail::score_view<T>(sv), detail::label_view<Lt>(lv), static_cast<index_t>(k), options,
                           scope, env, valid);
    if (!valid) detail::report_invalid(sv, lv, options.encoding, scope);
    return r;
  });
}

}  // namespace mlr

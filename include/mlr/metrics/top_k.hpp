#pragma once
// Top-k precision / recall / F1, micro-pooled over images (CONVENTIONS.md "Top-k precision /
// recall / F1", METHOD.md 4.6 and 6.3 items 11-14): the top k classes of each image (among its
// candidates) are predicted positive.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
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
#include "mlr/metrics/detail/avx512_rows.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/scoped_rows.hpp"

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

// A worker's scratch, sized once: the heap of a row's predicted classes, and a mark per class in
// scope (portable path) or the lane maxima of each 64 classes (vector path). Nothing is
// allocated per row.
template <class T>
struct top_k_scratch {
  std::vector<ranked_class<T>> heap;
  std::vector<std::uint8_t> marks;
  std::vector<float> step_max;
};

template <class T, class F>
bool for_row_blocks(index_t rows, index_t width, std::size_t capacity, unsigned threads, const progress_span& progress,
                    F&& f) {
  const std::size_t blocks = row_blocks(rows);
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), blocks));
  std::vector<top_k_scratch<T>> scratch(workers);
  std::vector<char> valid(blocks, 1);
  parallel_for(blocks, workers, [&](std::size_t b, unsigned w) {
    auto& s = scratch[w];
    s.heap.resize(capacity);
    s.marks.resize(static_cast<std::size_t>(width));
    s.step_max.resize(static_cast<std::size_t>((width + 63) / 64 * 16));
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

// One vectorised pass over a row: its validity, positives, entries that are not candidates under
// topk_ignored::removed, and marks on the scores from `floor` up.
struct row_check {
  bool bad, ignored;
  std::int32_t positives;
};
template <class SRow, class LRow, class T, class L>
MLR_FORCEINLINE row_check check_row(const SRow& s, const LRow& l, index_t width, T floor, label_codes<L> codes,
                                    std::uint8_t* marks) noexcept {
  std::uint8_t bad = 0, ignored = 0;  // or-reduced in bytes: no widening
  std::int32_t positives = 0;
  for (index_t q = 0; q < width; ++q) {
    const T v = s[q];
    const L y = l[q];
    bad = static_cast<std::uint8_t>(bad | !finite_score(v) | !codes.valid(y));
    ignored = static_cast<std::uint8_t>(ignored | !codes.counted(y));
    positives += codes.positive(y);
    marks[q] = v >= floor;
  }
  return {bad != 0, ignored != 0, positives};
}

// A lower bound of the row's k-th best score when every entry is a candidate: the k-th largest of
// 16 lane maxima, lane j holding the entries q = j mod 16 (k distinct entries reach it). Lowest
// when k exceeds the lanes.
template <class SRow>
auto kth_lower_bound(const SRow& s, index_t width, index_t k) noexcept {
  using T = std::remove_cvref_t<decltype(s[0])>;
  using K = order_key_t<T>;
  constexpr index_t lanes = 16;
  const index_t used = std::min(lanes, width);
  if (k > used) return std::numeric_limits<T>::lowest();
  std::array<K, lanes> top;
  top.fill(std::numeric_limits<K>::min());
  const auto lane_max = [&](index_t j, index_t at) {
    K& m = top[static_cast<std::size_t>(j)];
    m = std::max(m, order_key(s[at]));
  };
  index_t q = 0;
  for (; q + lanes <= width; q += lanes)
    for (index_t j = 0; j < lanes; ++j) lane_max(j, q + j);
  for (index_t j = 0; q < width; ++q, ++j) lane_max(j, q);
  std::nth_element(top.begin(), top.begin() + (k - 1), top.begin() + used, std::greater<>());
  return from_order_key<T>(top[static_cast<std::size_t>(k - 1)]);
}

// The row's predicted classes, its best min(capacity, candidates), into heap[0, kept) (a heap
// whose top is the worst of them); returns kept. Scores must be finite. Only the entries that
// visit(offer) offers are read; every candidate that can be predicted must be among them, in any
// order (the order of the offers does not change the result).
template <class Rows, class T, class Visit>
std::size_t select_top(const Rows& rows, index_t i, std::size_t capacity, bool removed,
                       label_codes<typename Rows::label_type> codes, ranked_class<T>* heap, Visit&& visit) {
  const auto s = rows.scores(i);
  const auto l = rows.labels(i);
  std::size_t kept = 0;
  visit([&](index_t q) {
    const auto y = l[q];
    if (removed && !codes.counted(y)) return;
    const ranked_class<T> c{s[q], rows.column(q), codes.positive(y)};
    if (kept < capacity) {
      heap[kept++] = c;
      std::push_heap(heap, heap + kept);
    } else if (c < heap[0]) {  // one comparison for most entries: a higher score, or a tie won
      std::pop_heap(heap, heap + kept);
      heap[kept - 1] = c;
      std::push_heap(heap, heap + kept);
    }
  });
  return kept;
}

// offer(q) for every marked entry q, eight marks at a time (a row has few).
template <class F>
void for_each_marked(const std::uint8_t* marks, index_t width, F&& offer) {
  constexpr index_t step = 8;
  constexpr bool little = std::endian::native == std::endian::little;
  index_t q = 0;
  for (; q + step <= width; q += step) {
    std::uint64_t word;
    std::memcpy(&word, marks + q, step);
    for (; word != 0; word &= word - 1) {
      const index_t byte = std::countr_zero(word) / 8;
      offer(q + (little ? byte : step - 1 - byte));
    }
  }
  for (; q < width; ++q)
    if (marks[q]) offer(q);
}

// Validity, positives and the predicted classes of row i; adds to tp / slots / positives and
// returns false when the row holds an invalid entry (then nothing is added, nor any heap built:
// NaN would break its order).
template <class Rows>
bool top_k_row(const Rows& rows, index_t i, index_t k, std::size_t capacity, bool removed,
               label_codes<typename Rows::label_type> codes, top_k_scratch<typename Rows::score_type>& scratch,
               std::array<std::int64_t, 3>& counts) {
  using T = typename Rows::score_type;
  using simd = row_simd<T, typename Rows::label_type>;
  const index_t width = rows.width();
  const auto s = rows.scores(i);
  std::size_t kept;
  if constexpr (simd::enabled && Rows::dense) {
    typename simd::next_row next{nullptr, nullptr};
    if (i + 1 < rows.rows()) next = {rows.scores(i + 1).base, rows.labels(i + 1).base};
    float* step_max = scratch.step_max.data();
    const top_k_row_scan scan = simd::scan_top_k(s.base, rows.labels(i).base, width, k, removed, codes, next, step_max);
    if (scan.bad) return false;
    counts[2] += scan.positives;
    kept = select_top(rows, i, capacity, removed, codes, scratch.heap.data(),
                      [&](auto&& offer) { simd::for_each_at_least(s.base, width, scan.floor, step_max, offer); });
  } else {
    const T floor = kth_lower_bound(s, width, k);
    const row_check check = check_row(s, rows.labels(i), width, floor, codes, scratch.marks.data());
    if (check.bad) return false;
    counts[2] += check.positives;
    // Removed ignored entries may hold lane maxima: then the marks bound nothing.
    const bool every = removed && check.ignored;
    kept = select_top(rows, i, capacity, removed, codes, scratch.heap.data(), [&](auto&& offer) {
      if (!every) return for_each_marked(scratch.marks.data(), width, offer);
      for (index_t q = 0; q < width; ++q) offer(q);
    });
  }
  for (std::size_t c = 0; c < kept; ++c) counts[0] += scratch.heap[c].positive;
  counts[1] += static_cast<std::int64_t>(kept);
  return true;
}

template <class Rows>
top_k_result top_k(const Rows& rows, index_t k, const top_k_options& options, const execution_env& env,
                   bool& valid_input) {
  using T = typename Rows::score_type;
  using L = typename Rows::label_type;
  const index_t n = rows.rows(), width = rows.width();
  const bool removed = options.ignored == topk_ignored::removed;
  const label_codes<L> codes(options.encoding);
  const auto capacity = static_cast<std::size_t>(std::min(k, width));
  const std::size_t blocks = row_blocks(n);
  std::vector<std::array<std::int64_t, 3>> counts(blocks, {0, 0, 0});  // tp, slots, positives
  progress_meter meter(env.progress);
  valid_input = for_row_blocks<T>(
      n, width, capacity, env.thread_count(), progress_span{&meter},
      [&](std::size_t b, index_t first, index_t last, top_k_scratch<T>& scratch) {
        bool ok = true;
        std::array<std::int64_t, 3> block{0, 0, 0};
        for (index_t i = first; i < last; ++i)  // an invalid row: the result is discarded
          ok &= top_k_row(rows, i, k, capacity, removed, codes, scratch, block);
        counts[b] = block;
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
    auto r = detail::with_scoped_rows(detail::score_view<T>(sv), detail::label_view<Lt>(lv), scope,
                                      [&](const auto& rows) {
                                        return detail::top_k(rows, static_cast<index_t>(k), options, env, valid);
                                      });
    if (!valid) detail::report_invalid(sv, lv, options.encoding, scope);
    return r;
  });
}

}  // namespace mlr

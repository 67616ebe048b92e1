#pragma once
// Exact average precision over a stream of batches, with merging and a portable state.
//
// An exact AP needs every entry: a positive arriving in a later batch can land between any two
// earlier negatives and change their false-positive counts. So the exact accumulator keeps what
// it is given, compactly (scores as given, labels as int8 in its encoding), and compute() runs
// the one-shot kernel over the rows kept: the streamed result is the one-shot result of the
// concatenated batches, bit for bit, for every AP flavour, average and class subset, including
// the row order that the order-dependent flavours use for ties. merge() appends another
// accumulator's rows after its own, so shards merged in their order give the whole. For label
// spaces too large to keep, binned_ap_accumulator keeps constant-size counts instead.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/state_io.hpp"

namespace mlr {
namespace detail {

// Appends batch [B, C] to row-major rows of `scores` and int8 labels in `encoding`, after
// checking its shape against `classes` and every entry (the errors name the batch's indices).
template <class T, class SV, class LV>
void append_checked_rows(const SV& sv, const LV& lv, index_t classes, label_encoding encoding,
                         std::vector<T>& scores, std::vector<std::int8_t>& labels) {
  if (sv.extent(1) != classes)
    throw error("scores: expected shape (B, " + std::to_string(classes) + ") for this accumulator, found " +
                format_index(sv.extents()));
  report_invalid(sv, lv, encoding);
  const std::int8_t stored[] = {negative_label<std::int8_t>(encoding), 1,
                                static_cast<std::int8_t>(encoding == label_encoding::canonical ? -1 : 0)};
  const std::size_t first = scores.size();
  scores.resize(first + static_cast<std::size_t>(sv.size()));
  labels.resize(first + static_cast<std::size_t>(sv.size()));
  T* score = scores.data() + first;
  std::int8_t* label = labels.data() + first;
  for (index_t i = 0; i < sv.extent(0); ++i)
    for (index_t j = 0; j < classes; ++j) {
      *score++ = static_cast<T>(sv(i, j));
      *label++ = stored[static_cast<int>(decode_label(lv(i, j), encoding))];
    }
}

}  // namespace detail

template <class T>
class ap_accumulator {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "mlr::ap_accumulator<T> keeps float or double scores.");

 public:
  using value_type = T;

  // An accumulator for batches of `classes` columns, labelled in `encoding`.
  explicit ap_accumulator(index_t classes, label_encoding encoding = label_encoding::canonical)
      : classes_(classes), encoding_(encoding) {
    if (classes <= 0) throw error("classes: expected at least 1, found " + std::to_string(classes));
  }

  index_t classes() const noexcept { return classes_; }
  index_t rows() const noexcept { return static_cast<index_t>(labels_.size()) / classes_; }
  label_encoding encoding() const noexcept { return encoding_; }

  // The rows kept so far, in arrival order: scores [rows, classes] and labels (int8, in the
  // accumulator's encoding), for any other metric over the same stream.
  strided_view<const T, 2> scores() const noexcept { return {scores_.data(), {rows(), classes_}}; }
  strided_view<const std::int8_t, 2> labels() const noexcept { return {labels_.data(), {rows(), classes_}}; }

  void reserve(index_t rows) {
    scores_.reserve(static_cast<std::size_t>(rows * classes_));
    labels_.reserve(static_cast<std::size_t>(rows * classes_));
  }

  // Forgets every row (keeps the memory), e.g. between epochs.
  void clear() noexcept {
    scores_.clear();
    labels_.clear();
  }

  // Adds a batch: scores [B, classes] (float or double) and labels of the same shape in the
  // accumulator's encoding, from any adapter. Invalid entries throw and leave the state as it was.
  template <viewable S, viewable L>
  void update(const S& scores, const L& labels) {
    static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                  "mlr::ap_accumulator::update takes B x C (rank-2) scores and labels.");
    detail::with_checked_views<void>(scores, labels, [&](const auto& sv, const auto& lv) {
      static_assert(sizeof(typename std::remove_cvref_t<decltype(sv)>::value_type) <= sizeof(T),
                    "mlr::ap_accumulator<float> takes float scores (double scores need ap_accumulator<double>).");
      const std::size_t before = labels_.size();
      try {
        detail::append_checked_rows(sv, lv, classes_, encoding_, scores_, labels_);
      } catch (...) {
        scores_.resize(before);
        labels_.resize(before);
        throw;
      }
    });
  }

  // Appends the rows of `other` (same classes and encoding) after this accumulator's.
  void merge(const ap_accumulator& other) {
    if (other.classes_ != classes_ || other.encoding_ != encoding_)
      throw error("other: expected an accumulator of " + std::to_string(classes_) + " classes in the " +
                  std::string(to_string(encoding_)) + " encoding, found " + std::to_string(other.classes_) +
                  " classes in the " + std::string(to_string(other.encoding_)) + " encoding");
    // other may be *this: grow first, then copy from the (possibly moved) first part.
    const std::size_t n = other.labels_.size(), old = labels_.size();
    scores_.resize(old + n);
    labels_.resize(old + n);
    std::copy_n(other.scores_.data(), n, scores_.data() + old);
    std::copy_n(other.labels_.data(), n, labels_.data() + old);
  }

  // mean_average_precision of every row kept; options.encoding must be the accumulator's.
  mean_average_precision_result compute(const ap_options& options = {}, std::span<const index_t> classes = {},
                                        const execution_env& env = {}) const {
    if (options.encoding != encoding_)
      throw error("options.encoding: expected " + std::string(to_string(encoding_)) +
                  " (the accumulator's encoding), found " + std::string(to_string(options.encoding)));
    if (rows() == 0) throw error("ap_accumulator: no rows to compute on (call update first)");
    return mean_average_precision(scores(), labels(), options, classes, env);
  }

  // The state in the portable layout of detail/state_io.hpp; payload: rows x classes scores,
  // then rows x classes int8 labels, both row-major.
  std::vector<std::byte> serialize() const {
    detail::state_writer w(state_kind::exact, sizeof(T), encoding_, static_cast<std::uint64_t>(classes_),
                           static_cast<std::uint64_t>(rows()), scores_.size() * (sizeof(T) + 1));
    w.put(std::span<const T>(scores_));
    w.put(std::span<const std::int8_t>(labels_));
    return std::move(w).finish();
  }

  // An accumulator equal to the one that wrote `state`; a state of another kind, score type or
  // version, a corrupted one, or one holding invalid entries throws mlr::error.
  static ap_accumulator deserialize(std::span<const std::byte> state) {
    detail::state_reader r(state);
    const state_header& h = r.header();
    if (h.classes == 0 || h.classes > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max()))
      throw error("state: expected at least 1 class, found " + std::to_string(h.classes));
    const std::size_t entries = detail::payload_size(h.extent, static_cast<std::size_t>(h.classes));
    r.expect(state_kind::exact, sizeof(T), detail::payload_size(entries, sizeof(T) + 1));
    ap_accumulator out(static_cast<index_t>(h.classes), h.encoding);
    out.scores_.resize(entries);
    out.labels_.resize(entries);
    r.get(std::span<T>(out.scores_));
    r.get(std::span<std::int8_t>(out.labels_));
    const auto rows = static_cast<index_t>(h.extent);
    detail::report_invalid(strided_view<const T, 2>(out.scores_.data(), {rows, out.classes_}),
                           strided_view<const std::int8_t, 2>(out.labels_.data(), {rows, out.classes_}), h.encoding);
    return out;
  }

 private:
  index_t classes_;
  label_encoding encoding_;
  std::vector<T> scores_;             // rows x classes, row-major
  std::vector<std::int8_t> labels_;   // the same, in encoding_
};

}  // namespace mlr

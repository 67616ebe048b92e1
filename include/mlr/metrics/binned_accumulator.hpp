#pragma once
// Binned average precision over a stream of batches in constant memory (torchmetrics' binned
// multilabel AP, METHOD.md 4.3), with merging and a portable state.
//
// For thresholds t_0 < ... < t_{T-1}, an entry is predicted positive at t_j when its score is
// >= t_j. Per class, TP_j and FP_j count the positives and negatives predicted positive at t_j
// (ignored labels count nowhere) and FN_j = positives - TP_j. With P_j = TP_j / (TP_j + FP_j)
// (0 when nothing is predicted), R_j = TP_j / positives and the sentinel R_T = 0,
//   AP = sum over j of (R_j - R_{j+1}) * P_j,
// an approximation of the exact AP from T points of the precision-recall curve. The state is, per
// class, how many positives and negatives passed exactly k thresholds (k = 0..T): O(T * C) counts
// whatever the number of rows, added together by merge(). Scores are compared as given: no sigmoid
// is applied (torchmetrics applies one to a batch holding any value outside [0, 1]).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/labels.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/detail/inputs.hpp"
#include "mlr/metrics/detail/state_io.hpp"
#include "mlr/metrics/detail/step_ap.hpp"

namespace mlr {

// The confusion counts of a binned accumulator, threshold-major: tp[j * classes + c] is the
// number of positives of class c scoring >= threshold j; likewise fp (negatives), fn (positives
// below it).
struct binned_counts {
  std::vector<std::int64_t> tp, fp, fn;
};

template <class T>
class binned_ap_accumulator {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "mlr::binned_ap_accumulator<T> compares float or double scores.");

 public:
  using value_type = T;

  // `thresholds` evenly spaced thresholds j / (thresholds - 1), j = 0..thresholds-1, rounded to T.
  // (torch.linspace(0, 1, T) in float32 differs from these by at most one unit in the last place
  // at some j: for bit-identical counts with torchmetrics, pass its thresholds explicitly.)
  explicit binned_ap_accumulator(index_t classes, std::size_t thresholds = 100,
                                 label_encoding encoding = label_encoding::canonical)
      : binned_ap_accumulator(classes, evenly_spaced(thresholds), encoding) {}

  // Explicit thresholds: finite and strictly ascending.
  binned_ap_accumulator(index_t classes, std::span<const T> thresholds,
                        label_encoding encoding = label_encoding::canonical)
      : classes_(classes), encoding_(encoding), thresholds_(thresholds.begin(), thresholds.end()) {
    if (classes <= 0) throw error("classes: expected at least 1, found " + std::to_string(classes));
    check_thresholds(thresholds_);
    passed_.assign(2 * static_cast<std::size_t>(classes_) * width(), 0);
    std::vector<T> rungs = thresholds_;
    thresholds_ladder_.build(rungs);
  }

  index_t classes() const noexcept { return classes_; }
  label_encoding encoding() const noexcept { return encoding_; }
  std::span<const T> thresholds() const noexcept { return thresholds_; }

  // Adds a batch: scores [B, classes] and labels of the same shape in the accumulator's encoding,
  // from any adapter. Invalid entries throw and leave the state as it was.
  template <viewable S, viewable L>
  void update(const S& scores, const L& labels, const execution_env& env = {}) {
    static_assert(decltype(as_view(scores))::rank() == 2 && decltype(as_view(labels))::rank() == 2,
                  "mlr::binned_ap_accumulator::update takes B x C (rank-2) scores and labels.");
    detail::with_checked_views<void>(scores, labels, [&](const auto& sv, const auto& lv) {
      if (sv.extent(1) != classes_)
        throw error("scores: expected shape (B, " + std::to_string(classes_) + ") for this accumulator, found " +
                    detail::format_index(sv.extents()));
      static_assert(sizeof(typename std::remove_cvref_t<decltype(sv)>::value_type) <= sizeof(T),
                    "mlr::binned_ap_accumulator<float> takes float scores (double scores need "
                    "binned_ap_accumulator<double>).");
      detail::report_invalid(sv, lv, encoding_);
      count(sv, lv, env.thread_count());
    });
  }

  // Adds the counts of `other`, which must have the same classes, encoding and thresholds.
  void merge(const binned_ap_accumulator& other) {
    if (other.classes_ != classes_ || other.encoding_ != encoding_ || other.thresholds_ != thresholds_)
      throw error("other: expected a binned_ap_accumulator of " + std::to_string(classes_) + " classes in the " +
                  std::string(to_string(encoding_)) + " encoding with the same " +
                  std::to_string(thresholds_.size()) + " thresholds");
    for (std::size_t k = 0; k < passed_.size(); ++k) passed_[k] += other.passed_[k];
  }

  binned_counts counts() const {
    const std::size_t t_count = thresholds_.size(), c_count = static_cast<std::size_t>(classes_);
    binned_counts out{std::vector<std::int64_t>(t_count * c_count), std::vector<std::int64_t>(t_count * c_count),
                      std::vector<std::int64_t>(t_count * c_count)};
    for (std::size_t c = 0; c < c_count; ++c) {
      std::int64_t tp = 0, fp = 0;
      const std::int64_t positives = total(c, true);
      for (std::size_t j = t_count; j-- > 0;) {  // passed more than j thresholds: scored >= t_j
        tp += passed(c, true)[j + 1];
        fp += passed(c, false)[j + 1];
        out.tp[j * c_count + c] = tp;
        out.fp[j * c_count + c] = fp;
        out.fn[j * c_count + c] = positives - tp;
      }
    }
    return out;
  }

  // Binned AP per class and its average: macro, micro (one curve over the counts of every class),
  // weighted (by positives) or none. A class without positives has NaN in per_class and enters
  // the mean under `empty` (zero: as torchmetrics, whose binned AP of such a class is 0).
  mean_average_precision_result compute(average avg = average::macro, empty_class empty = empty_class::zero) const {
    if (avg == average::samples)
      throw error("average: samples needs per-image state, which a binned_ap_accumulator does not keep "
                  "(use ap_accumulator)");
    const auto c_count = static_cast<std::size_t>(classes_);
    mean_average_precision_result r{detail::nan(), std::vector<double>(c_count), std::vector<std::int64_t>(c_count)};
    std::vector<std::int64_t> all_positives(width(), 0), all_negatives(width(), 0);
    for (std::size_t c = 0; c < c_count; ++c) {
      r.positives[c] = total(c, true);
      r.per_class[c] = binned_ap(passed(c, true), passed(c, false));
      for (std::size_t k = 0; k < width(); ++k) {
        all_positives[k] += passed(c, true)[k];
        all_negatives[k] += passed(c, false)[k];
      }
    }
    switch (avg) {
      case average::macro: r.value = detail::policy_mean(r.per_class, empty); break;
      case average::micro: {
        const double micro = binned_ap(all_positives, all_negatives);
        r.value = detail::policy_mean(std::span<const double>(&micro, 1), empty);
        break;
      }
      case average::weighted: {
        double sum = 0.0, weight = 0.0;
        for (std::size_t c = 0; c < c_count; ++c) {
          if (r.positives[c] == 0) continue;
          sum += static_cast<double>(r.positives[c]) * r.per_class[c];
          weight += static_cast<double>(r.positives[c]);
        }
        r.value = weight > 0 ? sum / weight : (empty == empty_class::zero ? 0.0 : detail::nan());
        break;
      }
      case average::samples:
      case average::none: break;
    }
    return r;
  }

  // The state in the portable layout of detail/state_io.hpp; payload: the T thresholds, then per
  // class the positives that passed exactly k thresholds (k = 0..T), then the same for the
  // negatives, as u64.
  std::vector<std::byte> serialize() const {
    detail::state_writer w(state_kind::binned, sizeof(T), encoding_, static_cast<std::uint64_t>(classes_),
                           thresholds_.size(), thresholds_.size() * sizeof(T) + passed_.size() * 8);
    w.put(std::span<const T>(thresholds_));
    for (std::int64_t n : passed_) w.put(static_cast<std::uint64_t>(n));
    return std::move(w).finish();
  }

  // An accumulator equal to the one that wrote `state`; a state of another kind, score type or
  // version, a corrupted one, or one with invalid thresholds or counts throws mlr::error.
  static binned_ap_accumulator deserialize(std::span<const std::byte> state) {
    detail::state_reader r(state);
    const state_header& h = r.header();
    if (h.classes == 0 || h.classes > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max()))
      throw error("state: expected at least 1 class, found " + std::to_string(h.classes));
    const std::size_t cells = detail::payload_size(h.classes, 2 * (detail::payload_size(h.extent, 1) + 1));
    r.expect(state_kind::binned, sizeof(T),
             detail::payload_size(h.extent, sizeof(T)) + detail::payload_size(cells, 8));
    std::vector<T> thresholds(static_cast<std::size_t>(h.extent));
    r.get(std::span<T>(thresholds));
    binned_ap_accumulator out(static_cast<index_t>(h.classes), std::span<const T>(thresholds), h.encoding);
    std::uint64_t sum = 0;
    for (std::int64_t& n : out.passed_) {
      const auto v = r.get<std::uint64_t>();
      if (v > (std::uint64_t{1} << 62) - sum) throw error("state: counts too large (corrupted state)");
      sum += v;
      n = static_cast<std::int64_t>(v);
    }
    return out;
  }

 private:
  static std::vector<T> evenly_spaced(std::size_t count) {
    if (count < 2) throw error("thresholds: expected at least 2, found " + std::to_string(count));
    std::vector<T> t(count);
    for (std::size_t j = 0; j < count; ++j)
      t[j] = static_cast<T>(static_cast<double>(j) / static_cast<double>(count - 1));
    return t;
  }

  static void check_thresholds(std::span<const T> t) {
    if (t.empty()) throw error("thresholds: expected at least 1 threshold, found none");
    for (std::size_t j = 0; j < t.size(); ++j) {
      if (!std::isfinite(t[j]))
        throw error("thresholds: expected finite values, found " + detail::format_value(t[j]) + " at (" +
                    std::to_string(j) + ")");
      if (j > 0 && !(t[j - 1] < t[j]))
        throw error("thresholds: expected strictly ascending values, found " + detail::format_value(t[j]) +
                    " at (" + std::to_string(j) + ") after " + detail::format_value(t[j - 1]));
    }
  }

  std::size_t width() const noexcept { return thresholds_.size() + 1; }

  // passed(c, positive)[k]: entries of class c with that label that passed exactly k thresholds.
  std::size_t offset(std::size_t c, bool positive) const noexcept {
    return ((positive ? 0 : static_cast<std::size_t>(classes_)) + c) * width();
  }
  std::span<const std::int64_t> passed(std::size_t c, bool positive) const noexcept {
    return {passed_.data() + offset(c, positive), width()};
  }
  std::int64_t total(std::size_t c, bool positive) const noexcept {
    const auto p = passed(c, positive);
    return std::accumulate(p.begin(), p.end(), std::int64_t{0});
  }

  // The binned AP of one curve from its pass counts; NaN without positives.
  double binned_ap(std::span<const std::int64_t> positives_passed, std::span<const std::int64_t> negatives_passed) const {
    const std::int64_t positives = std::accumulate(positives_passed.begin(), positives_passed.end(), std::int64_t{0});
    if (positives == 0) return detail::nan();
    double ap = 0.0, next_recall = 0.0;  // R_{j+1}; the sentinel R_T = 0
    std::int64_t tp = 0, fp = 0;
    for (std::size_t j = thresholds_.size(); j-- > 0;) {
      tp += positives_passed[j + 1];
      fp += negatives_passed[j + 1];
      const double recall = static_cast<double>(tp) / static_cast<double>(positives);
      const double precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
      ap += (recall - next_recall) * precision;
      next_recall = recall;
    }
    return ap;
  }

  // How many thresholds each score passed, through the step kernel's O(1) ladder over the
  // thresholds; rows split into tasks with per-worker counts, added in a fixed order.
  template <class SV, class LV>
  void count(const SV& sv, const LV& lv, unsigned threads) {
    constexpr index_t task_rows = 1024;
    const index_t rows = sv.extent(0);
    const auto tasks = static_cast<std::size_t>((rows + task_rows - 1) / task_rows);
    const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads, tasks));
    std::vector<std::vector<std::int64_t>> local(workers > 1 ? workers : 0, std::vector<std::int64_t>(passed_.size()));
    const auto rank = thresholds_ladder_.rank();
    detail::parallel_for(tasks, workers, [&](std::size_t task, unsigned w) {
      std::int64_t* counts = workers > 1 ? local[w].data() : passed_.data();
      const index_t first = static_cast<index_t>(task) * task_rows, last = std::min(rows, first + task_rows);
      for (index_t i = first; i < last; ++i)
        for (index_t j = 0; j < classes_; ++j) {
          const label_state state = decode_label(lv(i, j), encoding_);
          if (state == label_state::ignored) continue;
          ++counts[offset(static_cast<std::size_t>(j), state == label_state::positive) + rank(static_cast<T>(sv(i, j)))];
        }
    });
    for (const auto& l : local)
      for (std::size_t k = 0; k < passed_.size(); ++k) passed_[k] += l[k];
  }

  index_t classes_;
  label_encoding encoding_;
  std::vector<T> thresholds_;
  std::vector<std::int64_t> passed_;  // [positives, negatives] x classes x (T + 1)
  detail::ladder<T> thresholds_ladder_;  // ranks a score: how many thresholds are <= it
};

}  // namespace mlr

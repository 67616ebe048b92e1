#pragma once
// Every convention is a named policy (CONVENTIONS.md). Each enum has a name table, so that the
// Python module and mlr-eval accept exactly the C++ names.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "mlr/core/error.hpp"

namespace mlr {

// How labels are written. canonical: 1 positive, 0 negative, -1 ignored.
// signed_zero_ignored (MKT/BiAM files, VOC devkit): +1 positive, -1 negative, 0 ignored.
// bool labels are binary (true positive, false negative) whatever the encoding.
enum class label_encoding : std::uint8_t { canonical, signed_zero_ignored };

// Average-precision flavour (METHOD.md section 4). step: scikit-learn's tie-grouped AP.
// ranked: order-dependent prec@r (TagCLIP, BiAM/MKT; ASL/DualCoOp with epsilon 1e-8), ties
// broken by higher score, then lower row, then lower column. voc07_11point: 11-point AP on the
// exact grid m/10. voc_area: area under the monotone precision envelope (VOC 2010+).
enum class ap_method : std::uint8_t { step, ranked, voc07_11point, voc_area };

// How per-class (or per-sample) values become one number.
enum class average : std::uint8_t { macro, micro, weighted, samples, none };

// How a class without positives (after ignoring) enters a mean: as 0, or left out.
enum class empty_class : std::uint8_t { zero, exclude };

// Top-k metrics: an ignored entry is removed from the image's candidates before the top k are
// taken (default), or may take a slot and count as a false positive (MKT/BiAM).
enum class topk_ignored : std::uint8_t { removed, false_positive };

// Zero divisions in precision / recall / F1. standard (CONVENTIONS.md): P = 0 with nothing
// predicted, R = NaN with no positives, F1 = 0 when P + R = 0 (NaN if R is NaN). sdl
// (SDL/DualCoOp calc_F1): F1 := 0 when P or R is 0 or F1 is NaN. biam (BiAM/MKT): 0/0 = NaN
// everywhere. asl (ASL/DualCoOp validate, per class): P, R and F1 all 0 when tp = 0.
enum class zero_division : std::uint8_t { standard, sdl, biam, asl };

// Threshold metrics: predicted when score > threshold (default; ASL, DualCoOp, TagCLIP) or
// score >= threshold (ML-GCN on logits).
enum class comparison : std::uint8_t { greater, greater_equal };

// Threshold metrics: a fixed threshold, or TagCLIP's per-image relative one,
// min + mu * (max - min) of the image's scores over the classes in scope.
enum class threshold_kind : std::uint8_t { absolute, relative };

// Threshold metrics: ML-GCN counts a class without predictions as one prediction (compat only).
enum class predicted_count : std::uint8_t { exact, mlgcn };

// ASL losses: the focusing weight (1 - pt)^gamma is a constant in the gradient (AsymmetricLoss,
// DualCoOp) or differentiated too (AsymmetricLossOptimized).
enum class focal_weight : std::uint8_t { constant, differentiable };

// How a loss turns its terms into one value: their sum, or their mean (each loss says over what).
enum class reduction : std::uint8_t { sum, mean };

// Ranking loss, a pair exactly on the margin: reference (MKT/BiAM) passes gradient there (>=)
// while the normaliser counts only violating pairs (>); consistent uses > for both.
enum class margin_rule : std::uint8_t { reference, consistent };

// TagCLIP refinement (METHOD.md 2.11): reference reproduces the official code's quirks (uint8
// truncation of normalised maps, boxes that never reach the last patch row/column, CWR stopping
// at the first degenerate box); corrected repairs those three and shares everything else.
enum class tagclip_mode : std::uint8_t { reference, corrected };

template <class E>
struct enum_names;  // a table of (value, name); the first name of a value is its canonical one

template <>
struct enum_names<label_encoding> {
  static constexpr std::string_view argument = "encoding";
  static constexpr std::array<std::pair<label_encoding, std::string_view>, 3> table{{
      {label_encoding::canonical, "canonical"},
      {label_encoding::signed_zero_ignored, "signed_zero_ignored"},
      {label_encoding::signed_zero_ignored, "signed"},
  }};
};
template <>
struct enum_names<ap_method> {
  static constexpr std::string_view argument = "method";
  static constexpr std::array<std::pair<ap_method, std::string_view>, 4> table{{
      {ap_method::step, "step"},
      {ap_method::ranked, "ranked"},
      {ap_method::voc07_11point, "voc07_11point"},
      {ap_method::voc_area, "voc_area"},
  }};
};
template <>
struct enum_names<average> {
  static constexpr std::string_view argument = "average";
  static constexpr std::array<std::pair<average, std::string_view>, 5> table{{
      {average::macro, "macro"},
      {average::micro, "micro"},
      {average::weighted, "weighted"},
      {average::samples, "samples"},
      {average::none, "none"},
  }};
};
template <>
struct enum_names<empty_class> {
  static constexpr std::string_view argument = "empty_class";
  static constexpr std::array<std::pair<empty_class, std::string_view>, 2> table{{
      {empty_class::zero, "zero"},
      {empty_class::exclude, "exclude"},
  }};
};

template <>
struct enum_names<topk_ignored> {
  static constexpr std::string_view argument = "topk_ignored";
  static constexpr std::array<std::pair<topk_ignored, std::string_view>, 2> table{{
      {topk_ignored::removed, "removed"},
      {topk_ignored::false_positive, "false_positive"},
  }};
};
template <>
struct enum_names<zero_division> {
  static constexpr std::string_view argument = "zero_division";
  static constexpr std::array<std::pair<zero_division, std::string_view>, 6> table{{
      {zero_division::standard, "standard"},
      {zero_division::sdl, "sdl"},
      {zero_division::sdl, "dualcoop"},
      {zero_division::biam, "biam"},
      {zero_division::biam, "mkt"},
      {zero_division::asl, "asl"},
  }};
};
template <>
struct enum_names<comparison> {
  static constexpr std::string_view argument = "comparison";
  static constexpr std::array<std::pair<comparison, std::string_view>, 4> table{{
      {comparison::greater, "greater"},
      {comparison::greater_equal, "greater_equal"},
      {comparison::greater, ">"},
      {comparison::greater_equal, ">="},
  }};
};
template <>
struct enum_names<threshold_kind> {
  static constexpr std::string_view argument = "threshold_kind";
  static constexpr std::array<std::pair<threshold_kind, std::string_view>, 2> table{{
      {threshold_kind::absolute, "absolute"},
      {threshold_kind::relative, "relative"},
  }};
};
template <>
struct enum_names<predicted_count> {
  static constexpr std::string_view argument = "predicted_count";
  static constexpr std::array<std::pair<predicted_count, std::string_view>, 2> table{{
      {predicted_count::exact, "exact"},
      {predicted_count::mlgcn, "mlgcn"},
  }};
};

template <>
struct enum_names<focal_weight> {
  static constexpr std::string_view argument = "focal_weight";
  static constexpr std::array<std::pair<focal_weight, std::string_view>, 2> table{{
      {focal_weight::constant, "constant"},
      {focal_weight::differentiable, "differentiable"},
  }};
};
template <>
struct enum_names<reduction> {
  static constexpr std::string_view argument = "reduction";
  static constexpr std::array<std::pair<reduction, std::string_view>, 2> table{{
      {reduction::sum, "sum"},
      {reduction::mean, "mean"},
  }};
};
template <>
struct enum_names<margin_rule> {
  static constexpr std::string_view argument = "margin_rule";
  static constexpr std::array<std::pair<margin_rule, std::string_view>, 2> table{{
      {margin_rule::reference, "reference"},
      {margin_rule::consistent, "consistent"},
  }};
};
template <>
struct enum_names<tagclip_mode> {
  static constexpr std::string_view argument = "mode";
  static constexpr std::array<std::pair<tagclip_mode, std::string_view>, 2> table{{
      {tagclip_mode::reference, "reference"},
      {tagclip_mode::corrected, "corrected"},
  }};
};

template <class E>
  requires requires { enum_names<E>::table; }
constexpr std::string_view to_string(E value) noexcept {
  for (const auto& [v, name] : enum_names<E>::table)
    if (v == value) return name;
  return "?";
}

// The policy named `text`; an mlr::error listing the accepted names otherwise.
template <class E>
  requires requires { enum_names<E>::table; }
E parse_policy(std::string_view text) {
  for (const auto& [v, name] : enum_names<E>::table)
    if (name == text) return v;
  std::string accepted;
  for (const auto& [v, name] : enum_names<E>::table) {
    if (!accepted.empty()) accepted += ", ";
    accepted += name;
  }
  throw error(std::string(enum_names<E>::argument) + ": expected one of " + accepted +
              "; found '" + std::string(text) + "'");
}

}  // namespace mlr

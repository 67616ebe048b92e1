#pragma once
// Evaluation protocols of the reference implementations (METHOD.md sections 4.8 and 4.9) as data:
// one constexpr row per source naming the AP flavour, the threshold metrics, the top-k values and
// LRAP that reproduce its reported numbers. A preset only chooses options; every number is then
// computed by the ordinary metric functions (mean_average_precision, threshold_metrics, top_k,
// label_ranking_average_precision).
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "mlr/core/policies.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/top_k.hpp"

namespace mlr {

// One evaluation protocol per source. sklearn: scikit-learn >= 1.1. torchmetrics: >= 1.4 (<= 1.3
// left classes without positives out of the mean: use empty_class::exclude). voc07_devkit: the
// VOC 2007 devkit. dualcoop: ASL / DualCoOp validate and validate_zsl. mkt: MKT / BiAM. tagclip:
// TagCLIP classify.py. mlgcn: ML-GCN's AP and evaluation().
enum class preset : std::uint8_t { sklearn, torchmetrics, voc07_devkit, dualcoop, mkt, tagclip, mlgcn };

template <>
struct enum_names<preset> {
  static constexpr std::string_view argument = "preset";
  static constexpr std::array<std::pair<preset, std::string_view>, 7> table{{
      {preset::sklearn, "sklearn"},
      {preset::torchmetrics, "torchmetrics"},
      {preset::voc07_devkit, "voc07_devkit"},
      {preset::dualcoop, "dualcoop"},
      {preset::mkt, "mkt"},
      {preset::tagclip, "tagclip"},
      {preset::mlgcn, "mlgcn"},
  }};
};

// What a source reports and with which options. The label encoding of ap is that of the source's
// label files; threshold and top_k_opts use the same one.
struct protocol {
  std::string_view name;                       // the preset's name (enum_names<preset>)
  ap_options ap;                               // mAP, always reported
  std::optional<threshold_options> threshold;  // CP, CR, CF1 (both), OP, OR, OF1; none = not reported
  std::array<std::int64_t, 2> top_k;           // top-k P/R/F1 at these k; 0 = not reported
  top_k_options top_k_opts;
  bool lrap;                                   // label ranking average precision
  std::string_view source;                     // where the protocol comes from, and caveats
};

namespace detail {

inline constexpr std::array<protocol, 7> protocols{{
    {.name = "sklearn",
     .ap = {.method = ap_method::step, .average = average::macro, .empty_class = empty_class::zero},
     .threshold = std::nullopt,
     .top_k = {0, 0},
     .top_k_opts = {},
     .lrap = true,
     .source = "scikit-learn >= 1.1: average_precision_score (macro) and "
               "label_ranking_average_precision_score (METHOD 4.1, 4.2, 4.9)"},
    {.name = "torchmetrics",
     .ap = {.method = ap_method::step, .average = average::macro, .empty_class = empty_class::zero},
     .threshold = std::nullopt,
     .top_k = {0, 0},
     .top_k_opts = {},
     .lrap = false,
     .source = "torchmetrics >= 1.4 multilabel_average_precision, unbinned, on untransformed scores "
               "(METHOD 4.3, 4.9); torchmetrics <= 1.3 used empty_class exclude"},
    {.name = "voc07_devkit",
     .ap = {.method = ap_method::voc07_11point,
            .average = average::macro,
            .empty_class = empty_class::zero,
            .encoding = label_encoding::signed_zero_ignored},
     .threshold = std::nullopt,
     .top_k = {0, 0},
     .top_k_opts = {.encoding = label_encoding::signed_zero_ignored},
     .lrap = false,
     .source = "VOC 2007 devkit 11-point AP, signed labels with 0 = difficult (METHOD 4.5, 4.9)"},
    {.name = "dualcoop",
     .ap = {.method = ap_method::ranked, .average = average::macro, .empty_class = empty_class::zero,
            .encoding = label_encoding::canonical, .epsilon = 1e-8},
     .threshold = threshold_options{.threshold = 0.5,
                                    .kind = threshold_kind::absolute,
                                    .comparison = comparison::greater,
                                    .encoding = label_encoding::canonical,
                                    .empty_class = empty_class::zero,
                                    .zero_division = zero_division::asl},
     .top_k = {3, 5},
     .top_k_opts = {.encoding = label_encoding::canonical, .zero_division = zero_division::sdl},
     .lrap = false,
     .source = "ASL / DualCoOp mAP (epsilon 1e-8) and validate (> 0.5 on probabilities, cf1_mean), "
               "validate_zsl / calc_F1 top-3 (default) and top-5 (METHOD 4.8, 4.9); the reference "
               "treats -1 as negative: map it to 0 first"},
    {.name = "mkt",
     .ap = {.method = ap_method::ranked, .average = average::macro, .empty_class = empty_class::zero,
            .encoding = label_encoding::signed_zero_ignored},
     .threshold = std::nullopt,
     .top_k = {3, 5},
     .top_k_opts = {.encoding = label_encoding::signed_zero_ignored,
                    .ignored = topk_ignored::false_positive,
                    .zero_division = zero_division::biam},
     .lrap = false,
     .source = "MKT / BiAM compute_AP and compute_F1 at k = 3 and 5, signed labels with 0 = unknown "
               "(METHOD 4.8, 4.9, 7.10)"},
    {.name = "tagclip",
     .ap = {.method = ap_method::ranked, .average = average::macro, .empty_class = empty_class::zero,
            .encoding = label_encoding::canonical},
     .threshold = threshold_options{.kind = threshold_kind::relative,
                                    .mu = 0.5,
                                    .comparison = comparison::greater,
                                    .encoding = label_encoding::canonical},
     .top_k = {0, 0},
     .top_k_opts = {},
     .lrap = false,
     .source = "TagCLIP compute_AP on the raw fused scores and compute_F1 at the relative threshold "
               "mu = 0.5 (overall = OP/OR/OF1, category = CP/CR/cf1_harmonic) (METHOD 4.8, 4.9, 7.12)"},
    {.name = "mlgcn",
     .ap = {.method = ap_method::ranked, .average = average::macro, .empty_class = empty_class::zero,
            .encoding = label_encoding::signed_zero_ignored},
     .threshold = threshold_options{.threshold = 0.0,
                                    .kind = threshold_kind::absolute,
                                    .comparison = comparison::greater_equal,
                                    .encoding = label_encoding::signed_zero_ignored,
                                    .count = predicted_count::mlgcn},
     .top_k = {0, 0},
     .top_k_opts = {.encoding = label_encoding::signed_zero_ignored},
     .lrap = false,
     .source = "ML-GCN AP (signed labels, 0 = difficult ignored) and evaluation() (>= 0 on logits, "
               "cf1_harmonic, N^p quirk) (METHOD 4.9, 7.11); ML-GCN counts difficult as negative in "
               "CP/CR: map 0 to -1 first to reproduce those"},
}};

}  // namespace detail

// The protocol row of a preset.
constexpr const protocol& protocol_of(preset p) noexcept { return detail::protocols[static_cast<std::size_t>(p)]; }

}  // namespace mlr

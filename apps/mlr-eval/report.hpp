#pragma once
// What mlr-eval prints: a per-class table with a summary, or one JSON object.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "matrix.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/presets.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/top_k.hpp"

namespace mlr_eval {

// The metrics beyond mAP (--preset, --top-k, --threshold, --relative).
struct summary_metrics {
  bool requested = false;  // any of those options: the summary table / "metrics" object is printed
  std::optional<mlr::preset> preset;
  mlr::top_k_options top_k_options;
  std::vector<std::pair<std::int64_t, mlr::top_k_result>> top_k;
  std::optional<mlr::threshold_options> threshold_options;
  std::optional<mlr::threshold_result> threshold;
  std::optional<double> lrap;
  std::size_t binned_thresholds = 0;  // --binned
  std::optional<mlr::mean_average_precision_result> binned;
};

struct evaluation {
  mlr::ap_options options;
  summary_metrics summary;
  index_t images = 0;
  std::vector<index_t> columns;    // the file column of each evaluated class
  bool subset = false;             // chosen with --classes
  std::vector<std::string> names;  // one per evaluated class, or none
  mlr::mean_average_precision_result result;
  std::optional<std::string> saved_state;  // --save-state
};

namespace report_detail {

inline std::string format(const char* spec, double value) {
  if (value == 0.0) value = 0.0;  // never print -0
  char buffer[64];
  const int n = std::snprintf(buffer, sizeof buffer, spec, value);
  return std::string(buffer, static_cast<std::size_t>(n > 0 ? n : 0));
}

// "0,3,5-9" for the columns 0 3 5 6 7 8 9.
inline std::string column_list(const std::vector<index_t>& columns) {
  std::string s;
  for (std::size_t k = 0; k < columns.size();) {
    std::size_t end = k + 1;
    while (end < columns.size() && columns[end] == columns[end - 1] + 1) ++end;
    if (!s.empty()) s += ',';
    s += std::to_string(columns[k]);
    if (end - k > 1) s += "-" + std::to_string(columns[end - 1]);
    k = end;
  }
  return s;
}

// Display width of UTF-8 text, in code points (good enough for names in a table).
inline std::size_t width(std::string_view text) {
  std::size_t w = 0;
  for (const char c : text) w += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return w;
}

inline std::string pad_right(std::string text, std::size_t to) {
  const std::size_t w = width(text);
  return w < to ? text.append(to - w, ' ') : text;
}

inline std::string pad_left(const std::string& text, std::size_t to) {
  const std::size_t w = width(text);
  return w < to ? std::string(to - w, ' ') + text : text;
}

// A name made safe for a terminal line: control characters become '?'.
inline std::string printable(std::string_view name) {
  std::string s(name);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

inline std::string options_line(const evaluation& e) {
  std::string s = e.summary.preset ? "--preset " + std::string(mlr::to_string(*e.summary.preset)) + " " : "";
  s += "--method " + std::string(mlr::to_string(e.options.method)) + " --average " +
                  std::string(mlr::to_string(e.options.average)) + " --empty-class " +
                  std::string(mlr::to_string(e.options.empty_class)) + " --labels " +
                  std::string(mlr::to_string(e.options.encoding));
  if (e.options.epsilon != 0.0) s += " --epsilon " + format("%.17g", e.options.epsilon);
  if (e.subset) s += " --classes " + column_list(e.columns);
  return s;
}

// How the empty-class policy treated a class without positives, for the table's footnote.
inline std::string empty_footnote(const mlr::ap_options& o) {
  const std::string policy = " (--empty-class " + std::string(mlr::to_string(o.empty_class)) + ")";
  switch (o.average) {
    case mlr::average::macro:
      return o.empty_class == mlr::empty_class::zero ? "counted as AP 0 in the macro mean" + policy
                                                     : "left out of the macro mean" + policy;
    case mlr::average::weighted:
      return "weight 0 in the weighted mean (its number of positives)";
    case mlr::average::micro:
      return "only its negatives enter the pooled (micro) AP";
    case mlr::average::samples:
      return "per-class values do not enter the samples average";
    case mlr::average::none:
      return "no average requested";
  }
  return "";
}

inline std::string json_number(double v) { return std::isfinite(v) ? format("%.17g", v) : "null"; }

// A JSON string; bytes that are not valid UTF-8 become U+FFFD.
inline std::string json_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t k = 0; k < s.size();) {
    const auto c = static_cast<unsigned char>(s[k]);
    if (c < 0x80) {
      if (c == '"' || c == '\\')
        out += {'\\', static_cast<char>(c)};
      else if (c < 0x20 || c == 0x7f)
        out += {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      else
        out += static_cast<char>(c);
      ++k;
      continue;
    }
    // Length of a well-formed sequence starting here (RFC 3629), 0 if malformed.
    const std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                            : c >= 0xE0 && c <= 0xEF ? 3
                            : c >= 0xF0 && c <= 0xF4 ? 4
                                                     : 0;
    bool ok = len != 0 && k + len <= s.size();
    for (std::size_t b = 1; ok && b < len; ++b) ok = (static_cast<unsigned char>(s[k + b]) & 0xC0) == 0x80;
    if (ok && len >= 3) {
      const auto c1 = static_cast<unsigned char>(s[k + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) && !(c == 0xF0 && c1 < 0x90) &&
           !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok)
      out.append(s.substr(k, len));
    else
      out += "\\ufffd";
    k += ok ? len : 1;
  }
  return out + "\"";
}

template <class T, class F>
std::string json_array(const std::vector<T>& values, F&& item) {
  std::string s = "[";
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k != 0) s += ", ";
    s += item(values[k]);
  }
  return s + "]";
}

}  // namespace report_detail

inline std::string summary_table(const evaluation& e);

inline std::string table_report(const evaluation& e) {
  using namespace report_detail;
  const auto& r = e.result;
  const bool named = !e.names.empty();
  std::size_t name_width = 4;
  for (const auto& n : e.names) name_width = std::max(name_width, width(printable(n)));

  std::string out = "class  " + (named ? pad_right("name", name_width) + "  " : "") + "positives      AP\n";
  for (std::size_t k = 0; k < e.columns.size(); ++k) {
    out += pad_left(std::to_string(e.columns[k]), 5) + "  ";
    if (named) out += pad_right(printable(e.names[k]), name_width) + "  ";
    out += pad_left(std::to_string(r.positives[k]), 9) + "  ";
    out += (r.empty(k) ? std::string("   n/a") : format("%6.4f", r.per_class[k])) + "\n";
  }
  const std::size_t empties = r.empty_classes();
  if (empties != 0) out += "n/a: no positive labels (after ignoring); " + empty_footnote(e.options) + ".\n";

  const bool none = e.options.average == mlr::average::none;
  const std::string label = none ? "average" : "mAP (" + std::string(mlr::to_string(e.options.average)) + ")";
  const std::size_t w = label.size() + 2;
  out += "\n" + pad_right(label, w);
  if (none)
    out += "none (per-class values only)\n";
  else
    out +=
        (std::isnan(r.value) ? std::string("n/a (no class has positives)") : format("%.4f", r.value)) + "\n";
  out += pad_right("options", w) + options_line(e) + "\n";
  out += pad_right("data", w) + "N = " + std::to_string(e.images) +
         " images, C = " + std::to_string(e.columns.size()) + " classes, " + std::to_string(empties) +
         (empties == 1 ? " empty class" : " empty classes") + "\n";
  if (e.saved_state) out += pad_right("state", w) + "written to " + printable(*e.saved_state) + "\n";
  if (e.summary.requested) out += "\n" + summary_table(e);
  return out;
}

// The summary table: mAP with its flavour, top-k rows, threshold rows, LRAP; fractions, 6 decimals.
inline std::string summary_table(const evaluation& e) {
  using namespace report_detail;
  const summary_metrics& m = e.summary;
  std::vector<std::pair<std::string, double>> rows;
  rows.emplace_back("mAP (" + std::string(mlr::to_string(e.options.method)) + ", " +
                        std::string(mlr::to_string(e.options.average)) + ")",
                    e.result.value);
  for (const auto& [k, r] : m.top_k) {
    const std::string at = "@" + std::to_string(k);
    rows.emplace_back("P" + at, r.precision);
    rows.emplace_back("R" + at, r.recall);
    rows.emplace_back("F1" + at, r.f1);
  }
  if (m.threshold) {
    const auto& t = *m.threshold;
    rows.emplace_back("CP", t.cp);
    rows.emplace_back("CR", t.cr);
    rows.emplace_back("cf1_mean", t.cf1_mean);
    rows.emplace_back("cf1_harmonic", t.cf1_harmonic);
    rows.emplace_back("OP", t.op);
    rows.emplace_back("OR", t.or_);
    rows.emplace_back("OF1", t.of1);
  }
  if (m.lrap) rows.emplace_back("LRAP", *m.lrap);
  if (m.binned)
    rows.emplace_back("binned mAP (" + std::to_string(m.binned_thresholds) + " thresholds, " +
                          std::string(mlr::to_string(e.options.average)) + ")",
                      m.binned->value);
  std::size_t w = 6;
  for (const auto& row : rows) w = std::max(w, row.first.size());
  std::string out = pad_right("metric", w + 2) + "value\n";
  for (const auto& [name, value] : rows)
    out += pad_right(name, w + 2) + (std::isnan(value) ? std::string("n/a") : format("%.6f", value)) + "\n";
  if (m.preset) {
    const auto& p = mlr::protocol_of(*m.preset);
    out += "preset " + std::string(p.name) + ": " + std::string(p.source) + "\n";
  }
  if (!m.top_k.empty())
    out += "top-k: --labels " + std::string(mlr::to_string(m.top_k_options.encoding)) + ", ignored " +
           std::string(mlr::to_string(m.top_k_options.ignored)) + ", zero_division " +
           std::string(mlr::to_string(m.top_k_options.zero_division)) + "\n";
  if (m.threshold_options) {
    const auto& t = *m.threshold_options;
    out += "threshold: " +
           (t.kind == mlr::threshold_kind::relative ? "relative, mu " + format("%.17g", t.mu)
                                                    : "score " + std::string(t.comparison == mlr::comparison::greater
                                                                                 ? ">"
                                                                                 : ">=") +
                                                          " " + format("%.17g", t.threshold)) +
           ", zero_division " + std::string(mlr::to_string(t.zero_division)) + ", predicted_count " +
           std::string(mlr::to_string(t.count)) + "\n";
  }
  return out;
}

// The "metrics" object of the JSON report: one object per metric.
inline std::string json_metrics(const evaluation& e) {
  using namespace report_detail;
  const summary_metrics& m = e.summary;
  std::string out = "{\n    \"mAP\": {\"value\": " + json_number(e.result.value) +
                    ", \"method\": " + json_string(mlr::to_string(e.options.method)) +
                    ", \"average\": " + json_string(mlr::to_string(e.options.average)) +
                    ", \"empty_class\": " + json_string(mlr::to_string(e.options.empty_class)) +
                    ", \"epsilon\": " + json_number(e.options.epsilon) + "}";
  for (const auto& [k, r] : m.top_k)
    out += ",\n    \"top_" + std::to_string(k) + "\": {\"k\": " + std::to_string(k) +
           ", \"precision\": " + json_number(r.precision) + ", \"recall\": " + json_number(r.recall) +
           ", \"f1\": " + json_number(r.f1) + ", \"true_positives\": " + std::to_string(r.true_positives) +
           ", \"predicted\": " + std::to_string(r.predicted) + ", \"positives\": " + std::to_string(r.positives) +
           ", \"ignored\": " + json_string(mlr::to_string(m.top_k_options.ignored)) +
           ", \"zero_division\": " + json_string(mlr::to_string(m.top_k_options.zero_division)) + "}";
  if (m.threshold) {
    const auto& t = *m.threshold;
    const auto& o = *m.threshold_options;
    out += ",\n    \"threshold\": {\"kind\": " + json_string(mlr::to_string(o.kind)) +
           ", \"threshold\": " + json_number(o.threshold) + ", \"mu\": " + json_number(o.mu) +
           ", \"comparison\": " + json_string(mlr::to_string(o.comparison)) +
           ", \"zero_division\": " + json_string(mlr::to_string(o.zero_division)) +
           ", \"count\": " + json_string(mlr::to_string(o.count)) + ", \"cp\": " + json_number(t.cp) +
           ", \"cr\": " + json_number(t.cr) + ", \"cf1_mean\": " + json_number(t.cf1_mean) +
           ", \"cf1_harmonic\": " + json_number(t.cf1_harmonic) + ", \"op\": " + json_number(t.op) +
           ", \"or\": " + json_number(t.or_) + ", \"of1\": " + json_number(t.of1) + "}";
  }
  if (m.lrap) out += ",\n    \"lrap\": {\"value\": " + json_number(*m.lrap) + "}";
  if (m.binned)
    out += ",\n    \"binned\": {\"thresholds\": " + std::to_string(m.binned_thresholds) +
           ", \"average\": " + json_string(mlr::to_string(e.options.average)) +
           ", \"value\": " + json_number(m.binned->value) +
           ", \"per_class\": " + json_array(m.binned->per_class, json_number) + "}";
  return out + "\n  }";
}

inline std::string json_report(const evaluation& e) {
  using namespace report_detail;
  const auto& r = e.result;
  std::vector<bool> empty(e.columns.size());
  for (std::size_t k = 0; k < empty.size(); ++k) empty[k] = r.empty(k);
  const auto integer = [](auto v) { return std::to_string(v); };

  std::string out = "{\n";
  out += "  \"options\": {\"method\": " + json_string(mlr::to_string(e.options.method)) +
         ", \"average\": " + json_string(mlr::to_string(e.options.average)) +
         ", \"empty_class\": " + json_string(mlr::to_string(e.options.empty_class)) +
         ", \"labels\": " + json_string(mlr::to_string(e.options.encoding)) +
         ", \"epsilon\": " + json_number(e.options.epsilon) +
         ", \"classes\": " + (e.subset ? json_array(e.columns, integer) : "null") + "},\n";
  out += "  \"n\": " + std::to_string(e.images) + ",\n";
  out += "  \"classes\": " + std::to_string(e.columns.size()) + ",\n";
  out += "  \"value\": " + json_number(r.value) + ",\n";
  out += "  \"per_class\": " + json_array(r.per_class, json_number) + ",\n";
  out += "  \"positives\": " + json_array(r.positives, integer) + ",\n";
  out +=
      "  \"empty\": " + json_array(empty, [](bool b) { return std::string(b ? "true" : "false"); }) + ",\n";
  out += "  \"indices\": " + json_array(e.columns, integer) + ",\n";
  out += "  \"names\": " + (e.names.empty() ? std::string("null") : json_array(e.names, json_string));
  if (e.saved_state) out += ",\n  \"saved_state\": " + json_string(*e.saved_state);
  if (e.summary.requested) {
    out += ",\n  \"preset\": " +
           (e.summary.preset ? json_string(mlr::to_string(*e.summary.preset)) : std::string("null"));
    out += ",\n  \"metrics\": " + json_metrics(e);
  }
  return out + "\n}\n";
}

}  // namespace mlr_eval

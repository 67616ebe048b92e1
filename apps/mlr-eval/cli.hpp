#pragma once
// The command line: options into a cli_options, or a usage_error saying what is wrong.
// Policy values go through mlr::parse_policy, so names and messages are the C++ ones.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "matrix.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/presets.hpp"
#include "support.hpp"

namespace mlr_eval {

inline constexpr std::string_view usage_hint = "usage: mlr-eval SCORES LABELS [options]; see mlr-eval --help";

// "a|b|c": the names mlr::parse_policy<E> accepts, read from the library's own table.
template <class E>
std::string policy_choices() {
  std::string s;
  for (const auto& [value, name] : mlr::enum_names<E>::table) {
    if (!s.empty()) s += '|';
    s += name;
  }
  return s;
}

// The synopsis and option list; choices and defaults come from the library. `algorithms`: the
// lines that list the algorithm subcommands.
inline std::string help_text(std::string_view algorithms) {
  const mlr::ap_options defaults{};
  const auto dflt = [](auto value) { return " Default " + std::string(mlr::to_string(value)) + "."; };
  return "usage: mlr-eval [SCORES LABELS] [--method " + policy_choices<mlr::ap_method>() + "]\n" +
         "                [--average " + policy_choices<mlr::average>() + "]\n" +
         "                [--empty-class " + policy_choices<mlr::empty_class>() + "]\n" +
         "                [--labels " + policy_choices<mlr::label_encoding>() + "]\n" +
         "                [--epsilon E] [--classes LIST] [--class-names FILE|LIST] [--threads N] [--json]\n"
         "                [--preset " + policy_choices<mlr::preset>() + "]\n" +
         "                [--top-k K]... [--threshold T | --relative MU] [--binned T] [--quiet]\n"
         "                [--save-state FILE]\n"
         "       mlr-eval --states STATE... [options]\n"
         "       mlr-eval --write-demo DIR\n"
         "       mlr-eval ALGORITHM --INPUT FILE.npy... [--OPTION V]... [--out FILE.npy | --out-dir DIR]\n"
         "                [--json] [--threads N]\n"
         "       mlr-eval --help | --version\n"
         "\n"
         "Mean average precision of multi-label scores, every convention named as in mlr's C++ API.\n"
         "\n"
         "SCORES, LABELS   N x C arrays (N images, C classes) in .npy or .csv files.\n"
         "                 .npy: 2-D, C or Fortran order; scores <f4 or <f8; labels |i1 <i4 <i8 |u1 |b1\n"
         "                 <f4 <f8 holding integers; memory-mapped, not read into memory, so files\n"
         "                 larger than the RAM left free work. .csv: comma-separated numbers, every\n"
         "                 row the same width;\n"
         "                 an optional first row of class names names the classes.\n"
         "                 Without files, mlr-eval runs on a built-in demo (VOC-shaped, 4952 x 20).\n"
         "\n"
         "--method M       AP flavour: step is scikit-learn's average_precision_score; ranked the\n"
         "                 order-dependent prec@r of TagCLIP, MKT, ASL/DualCoOp (ties: higher score,\n"
         "                 then lower row, then lower column); voc07_11point and voc_area the VOC ones." +
         dflt(defaults.method) + "\n" +
         "--epsilon E      ranked only: AP = sum / (positives + E); 1e-8 reproduces ASL/DualCoOp.\n"
         "                 Default 0.\n" + "--average A      how per-class APs become one number." +
         dflt(defaults.average) + "\n" +
         "--empty-class E  a class without positives counts as AP 0 in the mean (zero) or is\n"
         "                 left out of it (exclude)." +
         dflt(defaults.empty_class) + "\n" +
         "--labels L       canonical: 1 positive, 0 negative, -1 ignored; signed (signed_zero_ignored):\n"
         "                 1 positive, -1 negative, 0 ignored. bool labels are binary. Alias: --encoding." +
         dflt(defaults.encoding) + "\n" +
         "--classes LIST   evaluate only these class columns, 0-based: 0,3,5-9 (ZSL / GZSL subsets).\n"
         "--class-names N  names for the table: a file with one name per line, or a comma list.\n"
         "--threads N      worker threads, 0 = one per hardware thread (results never depend on it).\n"
         "--json           print one JSON object instead of the table.\n"
         "--preset P       evaluate every metric a reference implementation reports, with its options\n"
         "                 (METHOD.md 4.8, 4.9): mAP, and as the source does top-k P/R/F1, threshold\n"
         "                 metrics, LRAP. --method, --average, --empty-class, --epsilon and --labels\n"
         "                 given explicitly override the preset's (--labels applies to every metric).\n"
         "--top-k K        also report top-k precision, recall and F1 (micro-pooled) at K >= 1;\n"
         "                 repeat it for several K: --top-k 3 --top-k 5.\n"
         "--threshold T    also report CP, CR, cf1_mean, cf1_harmonic, OP, OR, OF1 at score > T.\n"
         "--relative MU    the same at the per-image relative threshold min + MU (max - min), MU in [0, 1].\n"
         "--binned T       also report torchmetrics' binned AP (binned_ap_accumulator) with T >= 2\n"
         "                 thresholds j / (T - 1), averaged as --average (macro, micro, weighted).\n"
         "--save-state F   also write the rows evaluated as an ap_accumulator state to F (mlr's\n"
         "                 portable binary layout), to merge with other shards later.\n"
         "--states         the files are ap_accumulator states (from --save-state, or serialize() in\n"
         "                 C++ or Python), merged in the order given (each one's rows after the\n"
         "                 previous ones'), then evaluated like SCORES LABELS.\n"
         "--quiet          no progress bar (it is drawn on stderr only when stderr is a terminal).\n"
         "--write-demo DIR write the demo as DIR/scores.npy (float32), DIR/labels.npy (int8) and\n"
         "                 DIR/classes.txt, to re-run it from files.\n"
         "\n"
         "ALGORITHM        a scoring function, loss or TagCLIP refinement step of the library, by its\n"
         "                 C++ name; its inputs (.npy, any rank), options and defaults are the C++ ones\n"
         "                 (--text-neg for text_neg); arrays are written as .npy, loss values printed.\n"
         "                 mlr-eval ALGORITHM --help lists its inputs, options and defaults:\n" +
         std::string(algorithms) +
         "\n"
         "Exit status: 0 success, 2 any error (one line on stderr starting \"mlr-eval: error: \").\n"
         "Positions in messages: (i, j) are 0-based (image, class column) indices into the arrays;\n"
         "\"line, column\" in a .csv file are 1-based, as an editor shows them.\n";
}

enum ap_field : unsigned { ap_method_bit = 1, ap_average_bit = 2, ap_empty_bit = 4, ap_encoding_bit = 8, ap_epsilon_bit = 16 };

struct class_range {
  std::uint64_t first, last;  // inclusive
};

struct cli_options {
  std::vector<std::string> files;  // SCORES LABELS; none for the demo
  mlr::ap_options ap;
  unsigned ap_given = 0;  // ap_field bits: the AP options given explicitly (they override a preset)
  std::optional<mlr::preset> preset;
  std::vector<std::int64_t> top_k;  // every --top-k, in order
  std::optional<double> threshold;  // --threshold
  std::optional<double> relative;   // --relative
  unsigned threads = 0;
  std::optional<std::vector<class_range>> classes;
  std::optional<std::string> class_names;
  std::optional<std::string> write_demo;
  std::optional<std::size_t> binned;      // --binned T
  std::optional<std::string> save_state;  // --save-state FILE
  bool states = false;                    // the files are accumulator states
  bool json = false;
  bool quiet = false;
  bool help = false;
  bool version = false;
};

namespace cli_detail {

// "0,3,5-9" into ranges; syntax only (bounds are checked once the number of classes is known).
inline std::vector<class_range> parse_class_list(std::string_view text) {
  std::vector<class_range> ranges;
  for (const std::string_view raw : split(text, ',')) {
    const std::string_view item = trim(raw);
    const std::size_t dash = item.find('-');
    const auto first = parse_unsigned(trim(item.substr(0, dash)));
    const auto last = dash == std::string_view::npos ? first : parse_unsigned(trim(item.substr(dash + 1)));
    if (!first || !last)
      throw usage_error("--classes: expected 0-based class indices or ranges such as 0,3,5-9, found " +
                        in_quotes(item.empty() ? raw : item));
    if (*last < *first)
      throw usage_error("--classes: the range " + in_quotes(item) + " is empty (its end is below its start)");
    ranges.push_back({*first, *last});
  }
  return ranges;
}

inline unsigned parse_threads(std::string_view text) {
  const auto n = parse_unsigned(trim(text));
  if (!n || *n > 4096)
    throw usage_error("--threads: expected a whole number from 0 to 4096, found " + in_quotes(text));
  return static_cast<unsigned>(*n);
}

inline double parse_epsilon(std::string_view text) {
  const std::string_view t = trim(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || !(value >= 0.0 && value < 1e300))
    throw usage_error("--epsilon: expected a finite number >= 0, found " + in_quotes(text));
  return value;
}

inline double parse_real(std::string_view option, std::string_view text, double lo, double hi,
                         std::string_view expected) {
  const std::string_view t = trim(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !(value >= lo && value <= hi))
    throw usage_error(std::string(option) + ": expected " + std::string(expected) + ", found " + in_quotes(text));
  return value;
}

inline std::size_t parse_binned(std::string_view text) {
  const auto n = parse_unsigned(trim(text));
  if (!n || *n < 2 || *n > 100000)
    throw usage_error("--binned: expected a number of thresholds from 2 to 100000, found " + in_quotes(text));
  return static_cast<std::size_t>(*n);
}

inline std::int64_t parse_k(std::string_view text) {
  const auto n = parse_unsigned(trim(text));
  if (!n || *n == 0 || *n > 1000000000)
    throw usage_error("--top-k: expected a whole number of classes from 1 to 1000000000, found " + in_quotes(text));
  return static_cast<std::int64_t>(*n);
}

template <class E>
E parse_policy_option(std::string_view value) {
  try {
    return mlr::parse_policy<E>(value);
  } catch (const mlr::error& e) {
    throw usage_error(e.what());
  }
}

// One row per option: its name, whether it takes a value, what it sets, and whether it may be
// given more than once.
struct option_spec {
  std::string_view name;
  bool takes_value;
  void (*apply)(cli_options&, std::string_view value);
  bool repeatable = false;
};

inline constexpr std::array<option_spec, 21> option_specs{{
    {"--method", true,
     [](cli_options& o, std::string_view v) {
       o.ap.method = parse_policy_option<mlr::ap_method>(v);
       o.ap_given |= ap_method_bit;
     }},
    {"--average", true,
     [](cli_options& o, std::string_view v) {
       o.ap.average = parse_policy_option<mlr::average>(v);
       o.ap_given |= ap_average_bit;
     }},
    {"--empty-class", true,
     [](cli_options& o, std::string_view v) {
       o.ap.empty_class = parse_policy_option<mlr::empty_class>(v);
       o.ap_given |= ap_empty_bit;
     }},
    {"--labels", true,
     [](cli_options& o, std::string_view v) {
       o.ap.encoding = parse_policy_option<mlr::label_encoding>(v);
       o.ap_given |= ap_encoding_bit;
     }},
    {"--encoding", true,  // the C++ and Python name of --labels
     [](cli_options& o, std::string_view v) {
       o.ap.encoding = parse_policy_option<mlr::label_encoding>(v);
       o.ap_given |= ap_encoding_bit;
     }},
    {"--classes", true, [](cli_options& o, std::string_view v) { o.classes = parse_class_list(v); }},
    {"--class-names", true, [](cli_options& o, std::string_view v) { o.class_names = std::string(v); }},
    {"--epsilon", true,
     [](cli_options& o, std::string_view v) {
       o.ap.epsilon = parse_epsilon(v);
       o.ap_given |= ap_epsilon_bit;
     }},
    {"--preset", true, [](cli_options& o, std::string_view v) { o.preset = parse_policy_option<mlr::preset>(v); }},
    {"--top-k", true, [](cli_options& o, std::string_view v) { o.top_k.push_back(parse_k(v)); }, true},
    {"--threshold", true,
     [](cli_options& o, std::string_view v) {
       o.threshold = parse_real("--threshold", v, -1e300, 1e300, "a finite number");
     }},
    {"--relative", true,
     [](cli_options& o, std::string_view v) {
       o.relative = parse_real("--relative", v, 0.0, 1.0, "a number from 0 to 1");
     }},
    {"--threads", true, [](cli_options& o, std::string_view v) { o.threads = parse_threads(v); }},
    {"--write-demo", true, [](cli_options& o, std::string_view v) { o.write_demo = std::string(v); }},
    {"--binned", true, [](cli_options& o, std::string_view v) { o.binned = parse_binned(v); }},
    {"--save-state", true, [](cli_options& o, std::string_view v) { o.save_state = std::string(v); }},
    {"--states", false, [](cli_options& o, std::string_view) { o.states = true; }},
    {"--json", false, [](cli_options& o, std::string_view) { o.json = true; }},
    {"--quiet", false, [](cli_options& o, std::string_view) { o.quiet = true; }},
    {"--help", false, [](cli_options& o, std::string_view) { o.help = true; }},
    {"--version", false, [](cli_options& o, std::string_view) { o.version = true; }},
}};

inline const option_spec& find_option(std::string_view name) {
  for (const auto& spec : option_specs)
    if (spec.name == name) return spec;
  throw usage_error("unknown option " + in_quotes(name));
}

// The combination of arguments makes sense.
inline void check_arguments(const cli_options& o, std::size_t options_given) {
  if (o.help || o.version) return;
  if (o.write_demo && (options_given != 1 || !o.files.empty()))
    throw usage_error("--write-demo DIR takes no other arguments");
  if (o.threshold && o.relative) throw usage_error("--threshold and --relative exclude each other");
  if (o.states) {
    if (o.files.empty()) throw usage_error("--states: expected at least one state file");
    return;
  }
  if (o.files.size() == 1 || o.files.size() > 2)
    throw usage_error("expected two files, SCORES and LABELS, found " + std::to_string(o.files.size()));
}

}  // namespace cli_detail

// Options as --name value or --name=value, each at most once but --top-k; "--" ends the options.
inline cli_options parse_command_line(std::span<const char* const> args) {
  using namespace cli_detail;
  cli_options o;
  std::vector<std::string_view> seen;
  bool options_end = false;
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string_view arg = args[k];
    if (options_end || arg.size() < 2 || arg[0] != '-') {
      o.files.emplace_back(arg);
    } else if (arg == "--") {
      options_end = true;
    } else {
      const std::size_t eq = arg.find('=');
      const option_spec& spec = find_option(arg.substr(0, eq));
      if (std::find(seen.begin(), seen.end(), spec.name) != seen.end()) {
        if (!spec.repeatable) throw usage_error(std::string(spec.name) + " is given twice");
      } else {
        seen.push_back(spec.name);
      }
      if (!spec.takes_value && eq != std::string_view::npos)
        throw usage_error(std::string(spec.name) + " takes no value");
      if (spec.takes_value && eq == std::string_view::npos && k + 1 == args.size())
        throw usage_error(std::string(spec.name) + " needs a value");
      const std::string_view value = !spec.takes_value              ? std::string_view{}
                                     : eq != std::string_view::npos ? arg.substr(eq + 1)
                                                                    : std::string_view(args[++k]);
      spec.apply(o, value);
    }
  }
  check_arguments(o, seen.size());
  return o;
}

// The class columns selected by `ranges` among `classes` columns, in the order given.
inline std::vector<index_t> resolve_classes(const std::vector<class_range>& ranges, index_t classes) {
  std::vector<index_t> columns;
  std::vector<bool> taken(static_cast<std::size_t>(classes), false);
  for (const auto& r : ranges) {
    if (r.last >= static_cast<std::uint64_t>(classes))
      throw failure("--classes: expected class indices below " + std::to_string(classes) +
                    " (the files have " + std::to_string(classes) + " class columns), found " +
                    std::to_string(r.last));
    for (std::uint64_t c = r.first; c <= r.last; ++c) {
      if (taken[c]) throw failure("--classes: class " + std::to_string(c) + " is selected twice");
      taken[c] = true;
      columns.push_back(static_cast<index_t>(c));
    }
  }
  return columns;
}

}  // namespace mlr_eval

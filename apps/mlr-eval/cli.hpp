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

// The synopsis and option list; choices and defaults come from the library.
inline std::string help_text() {
  const mlr::ap_options defaults{};
  const auto dflt = [](auto value) { return " Default " + std::string(mlr::to_string(value)) + "."; };
  return "usage: mlr-eval [SCORES LABELS] [--method " + policy_choices<mlr::ap_method>() + "]\n" +
         "                [--average " + policy_choices<mlr::average>() + "]\n" +
         "                [--empty-class " + policy_choices<mlr::empty_class>() + "]\n" +
         "                [--labels " + policy_choices<mlr::label_encoding>() + "]\n" +
         "                [--epsilon E] [--classes LIST] [--class-names FILE|LIST] [--threads N] [--json]\n"
         "       mlr-eval --write-demo DIR\n"
         "       mlr-eval --help | --version\n"
         "\n"
         "Mean average precision of multi-label scores, every convention named as in mlr's C++ API.\n"
         "\n"
         "SCORES, LABELS   N x C arrays (N images, C classes) in .npy or .csv files.\n"
         "                 .npy: 2-D, C order; scores <f4 or <f8; labels |i1 <i4 <i8 |u1 |b1 <f4 <f8\n"
         "                 holding integers. .csv: comma-separated numbers, every row the same width;\n"
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
         "--write-demo DIR write the demo as DIR/scores.npy (float32), DIR/labels.npy (int8) and\n"
         "                 DIR/classes.txt, to re-run it from files.\n"
         "\n"
         "Exit status: 0 success, 2 any error (one line on stderr starting \"mlr-eval: error: \").\n"
         "Positions in messages: (i, j) are 0-based (image, class column) indices into the arrays;\n"
         "\"line, column\" in a .csv file are 1-based, as an editor shows them.\n";
}

struct class_range {
  std::uint64_t first, last;  // inclusive
};

struct cli_options {
  std::vector<std::string> files;  // SCORES LABELS; none for the demo
  mlr::ap_options ap;
  unsigned threads = 0;
  std::optional<std::vector<class_range>> classes;
  std::optional<std::string> class_names;
  std::optional<std::string> write_demo;
  bool json = false;
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

template <class E>
E parse_policy_option(std::string_view value) {
  try {
    return mlr::parse_policy<E>(value);
  } catch (const mlr::error& e) {
    throw usage_error(e.what());
  }
}

// One row per option: its name, whether it takes a value, and what it sets.
struct option_spec {
  std::string_view name;
  bool takes_value;
  void (*apply)(cli_options&, std::string_view value);
};

inline constexpr std::array<option_spec, 13> option_specs{{
    {"--method", true,
     [](cli_options& o, std::string_view v) { o.ap.method = parse_policy_option<mlr::ap_method>(v); }},
    {"--average", true,
     [](cli_options& o, std::string_view v) { o.ap.average = parse_policy_option<mlr::average>(v); }},
    {"--empty-class", true,
     [](cli_options& o, std::string_view v) { o.ap.empty_class = parse_policy_option<mlr::empty_class>(v); }},
    {"--labels", true,
     [](cli_options& o, std::string_view v) { o.ap.encoding = parse_policy_option<mlr::label_encoding>(v); }},
    {"--encoding", true,  // the C++ and Python name of --labels
     [](cli_options& o, std::string_view v) { o.ap.encoding = parse_policy_option<mlr::label_encoding>(v); }},
    {"--classes", true, [](cli_options& o, std::string_view v) { o.classes = parse_class_list(v); }},
    {"--class-names", true, [](cli_options& o, std::string_view v) { o.class_names = std::string(v); }},
    {"--epsilon", true, [](cli_options& o, std::string_view v) { o.ap.epsilon = parse_epsilon(v); }},
    {"--threads", true, [](cli_options& o, std::string_view v) { o.threads = parse_threads(v); }},
    {"--write-demo", true, [](cli_options& o, std::string_view v) { o.write_demo = std::string(v); }},
    {"--json", false, [](cli_options& o, std::string_view) { o.json = true; }},
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
  if (o.files.size() == 1 || o.files.size() > 2)
    throw usage_error("expected two files, SCORES and LABELS, found " + std::to_string(o.files.size()));
}

}  // namespace cli_detail

// Options as --name value or --name=value, each at most once; "--" ends the options.
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
      if (std::find(seen.begin(), seen.end(), spec.name) != seen.end())
        throw usage_error(std::string(spec.name) + " is given twice");
      seen.push_back(spec.name);
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

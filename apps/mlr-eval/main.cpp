// mlr-eval: mean average precision of a score file against a label file, or of a built-in demo;
// or, when the first argument names one, a scoring function or loss of the library on .npy files.
// Every failure is one line on stderr starting "mlr-eval: error: " and exit status 2.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "algorithms.hpp"
#include "cli.hpp"
#include "csv.hpp"
#include "demo.hpp"
#include "files.hpp"
#include "matrix.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/metrics/accumulator.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/binned_accumulator.hpp"
#include "mlr/metrics/lrap.hpp"
#include "mlr/metrics/presets.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/top_k.hpp"
#include "mlr/version.hpp"
#include "npy.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "support.hpp"

namespace mlr_eval {
namespace {

struct inputs {
  host_matrix scores;
  host_matrix labels;
  std::vector<std::string> names;  // one per class column, or none
  std::string source;              // the report's first line: where the data come from
  std::optional<mlr::label_encoding> encoding;  // the labels' encoding, when the data say it (states)
};

struct loaded {
  host_matrix values;
  std::vector<std::string> names;
};

bool has_extension(const std::string& path, std::string_view extension) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == extension;
}

// .npy by extension or, for other names, by the magic string; .csv otherwise.
bool is_npy(const std::string& path) {
  if (has_extension(path, ".npy")) return true;
  if (has_extension(path, ".csv")) return false;
  input_file file(path);
  std::string start(npy_magic.size(), '\0');
  return file.read(start.data(), start.size()) == start.size() && start == npy_magic;
}

loaded load_file(const std::string& path) {
  if (has_extension(path, ".npz"))
    fail(path, ".npz archives are not supported; save each array on its own with numpy.save");
  if (is_npy(path)) return {read_npy(path), {}};
  csv_table table = read_csv(path);
  return {std::move(table.values), std::move(table.names)};
}

std::string describe(const host_matrix& m) {
  return std::string(mlr::to_string(m.type)) + ", " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
         (m.column_major ? ", Fortran order" : "");
}

inputs load_files(const std::string& scores_path, const std::string& labels_path) {
  loaded s = load_file(scores_path);
  loaded l = load_file(labels_path);
  if (s.values.type != mlr::dtype::float32 && s.values.type != mlr::dtype::float64)
    fail(scores_path, "scores must be float32 (<f4) or float64 (<f8), found " +
                          std::string(mlr::to_string(s.values.type)) + " (" +
                          std::string(npy_descr(s.values.type)) + ")");
  if (s.values.rows != l.values.rows || s.values.cols != l.values.cols)
    throw failure("labels (" + labels_path + "): expected shape " + s.values.shape() + " (that of scores, " +
                  scores_path + "), found " + l.values.shape());
  if (!s.names.empty() && !l.names.empty()) {
    for (std::size_t c = 0; c < s.names.size(); ++c)
      if (s.names[c] != l.names[c])
        throw failure("the header rows of " + scores_path + " and " + labels_path + " name column " +
                      std::to_string(c) + " differently: " + in_quotes(s.names[c]) + " and " +
                      in_quotes(l.names[c]));
  }
  std::string source = "scores " + scores_path + " (" + describe(s.values) + "), labels " + labels_path +
                       " (" + describe(l.values) + ")";
  return {std::move(s.values), std::move(l.values), s.names.empty() ? std::move(l.names) : std::move(s.names),
          std::move(source), std::nullopt};
}

inputs load_demo() {
  demo_data demo = make_demo();
  return {std::move(demo.scores), std::move(demo.labels), std::move(demo.names),
          "mlr-eval demo: synthetic VOC-shaped data (4952 images x 20 classes, seed " +
              std::to_string(demo_seed) +
              "); on your own files: mlr-eval SCORES LABELS [options], see --help",
          std::nullopt};
}

// --class-names: the lines of a file if one has that name, a comma list otherwise.
std::vector<std::string> class_names_option(const std::string& value, index_t classes) {
  std::vector<std::string> names;
  std::error_code ec;
  const bool from_file = std::filesystem::exists(value, ec);
  std::vector<std::string_view> items;
  std::string text;
  if (from_file) {
    text = input_file(value).read_all();
    items = split(text, '\n');
    while (!items.empty() && trim(items.back()).empty()) items.pop_back();
  } else {
    items = split(value, ',');
  }
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (trim(items[k]).empty())
      throw failure("--class-names: " + (from_file ? value + ": line " : std::string("name ")) +
                    std::to_string(k + 1) + " is empty");
    names.emplace_back(trim(items[k]));
  }
  if (names.size() != static_cast<std::size_t>(classes))
    throw failure("--class-names: expected " + std::to_string(classes) +
                  " names (one per class column), found " + std::to_string(names.size()) +
                  (from_file ? " in " + value : std::string(" in the list (no file of that name exists)")));
  return names;
}

// f(scores view, labels view) -> R, for float32/float64 scores and any label type.
template <class R, class F>
R with_views(const host_matrix& scores, const host_matrix& labels, F&& f) {
  return visit_view(scores, [&](auto sv) -> R {
    using S = typename decltype(sv)::value_type;
    if constexpr (!std::is_floating_point_v<S>) {
      throw failure("scores must be float32 or float64, found " + std::string(mlr::to_string(scores.type)));
    } else {
      return visit_view(labels, [&](auto lv) -> R { return f(sv, lv); });
    }
  });
}

// --states: the ap_accumulator states in `files`, merged in the order given (each one's rows after
// the previous ones'); the merged rows are the inputs, in the states' own label encoding.
template <class T>
inputs merge_states(const std::vector<std::string>& files, const std::vector<std::string>& contents) {
  std::optional<mlr::ap_accumulator<T>> merged;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(contents[f].data()), contents[f].size());
    try {
      auto state = mlr::ap_accumulator<T>::deserialize(bytes);
      if (merged)
        merged->merge(state);
      else
        merged.emplace(std::move(state));
    } catch (const mlr::error& e) {
      fail(files[f], e.what());
    }
  }
  const index_t rows = merged->rows(), cols = merged->classes();
  if (rows == 0) throw failure("--states: the states hold no rows");
  const auto size = static_cast<std::size_t>(rows * cols);
  std::string source = "states";
  for (const auto& file : files) source += " " + file;
  source += " (" + std::string(mlr::to_string(mlr::dtype_of<T>)) + ", " + std::to_string(rows) + " x " +
            std::to_string(cols) + ", merged in this order)";
  return {matrix_from<T>({merged->scores().data_handle(), size}, rows, cols),
          matrix_from<std::int8_t>({merged->labels().data_handle(), size}, rows, cols),
          {},
          std::move(source),
          merged->encoding()};
}

inputs load_states(const std::vector<std::string>& files) {
  std::vector<std::string> contents;
  for (const auto& file : files) contents.push_back(input_file(file).read_all());
  const std::span<const std::byte> first(reinterpret_cast<const std::byte*>(contents[0].data()), contents[0].size());
  std::size_t score_bytes = 0;
  try {
    score_bytes = mlr::read_state_header(first).score_bytes;
  } catch (const mlr::error& e) {
    fail(files[0], e.what());
  }
  return score_bytes == 4 ? merge_states<float>(files, contents) : merge_states<double>(files, contents);
}

// --save-state: the rows as an ap_accumulator state, written to `path`.
void save_state(const inputs& in, mlr::label_encoding encoding, const std::string& path) {
  const auto state = with_views<std::vector<std::byte>>(in.scores, in.labels, [&](auto sv, auto lv) {
    mlr::ap_accumulator<typename decltype(sv)::value_type> acc(sv.extent(1), encoding);
    acc.reserve(sv.extent(0));
    acc.update(sv, lv);
    return acc.serialize();
  });
  output_file out(path);
  out.write(state.data(), state.size());
  out.close();
}

// --binned: torchmetrics' binned AP of the classes in scope, averaged as the AP.
mlr::mean_average_precision_result binned_average_precision(const inputs& in, std::size_t thresholds,
                                                            const mlr::ap_options& ap,
                                                            std::span<const index_t> classes,
                                                            const mlr::execution_env& env) {
  return with_views<mlr::mean_average_precision_result>(in.scores, in.labels, [&](auto sv, auto lv) {
    using T = typename decltype(sv)::value_type;
    if (classes.empty()) {
      mlr::binned_ap_accumulator<T> acc(sv.extent(1), thresholds, ap.encoding);
      acc.update(sv, lv, env);
      return acc.compute(ap.average, ap.empty_class);
    }
    // A subset is copied column by column (the labels as int8 in the same encoding): the counts
    // are per class, so only the classes in scope may enter the micro average.
    const index_t rows = sv.extent(0), k = static_cast<index_t>(classes.size());
    std::vector<T> s(static_cast<std::size_t>(rows * k));
    std::vector<std::int8_t> l(s.size());
    const std::int8_t stored[] = {mlr::negative_label<std::int8_t>(ap.encoding), 1,
                                  static_cast<std::int8_t>(ap.encoding == mlr::label_encoding::canonical ? -1 : 0), 2};
    for (index_t i = 0; i < rows; ++i)
      for (index_t q = 0; q < k; ++q) {
        const index_t j = classes[static_cast<std::size_t>(q)];
        s[static_cast<std::size_t>(i * k + q)] = sv(i, j);
        l[static_cast<std::size_t>(i * k + q)] = stored[static_cast<int>(mlr::decode_label(lv(i, j), ap.encoding))];
      }
    mlr::binned_ap_accumulator<T> acc(k, thresholds, ap.encoding);
    acc.update(mlr::make_view(s.data(), {rows, k}), mlr::make_view(l.data(), {rows, k}), env);
    return acc.compute(ap.average, ap.empty_class);
  });
}

mlr::mean_average_precision_result mean_average_precision(const host_matrix& scores,
                                                          const host_matrix& labels,
                                                          const mlr::ap_options& options,
                                                          std::span<const index_t> classes,
                                                          const mlr::execution_env& env) {
  return with_views<mlr::mean_average_precision_result>(scores, labels, [&](auto sv, auto lv) {
    return mlr::mean_average_precision(sv, lv, options, classes, env);
  });
}

// The AP options: the preset's, with the ones given explicitly on top.
mlr::ap_options resolve_ap_options(const cli_options& o) {
  if (!o.preset) return o.ap;
  mlr::ap_options ap = mlr::protocol_of(*o.preset).ap;
  if (o.ap_given & ap_method_bit) ap.method = o.ap.method;
  if (o.ap_given & ap_average_bit) ap.average = o.ap.average;
  if (o.ap_given & ap_empty_bit) ap.empty_class = o.ap.empty_class;
  if (o.ap_given & ap_encoding_bit) ap.encoding = o.ap.encoding;
  if (o.ap_given & ap_epsilon_bit) ap.epsilon = o.ap.epsilon;
  return ap;
}

// Top-k, threshold metrics and LRAP as the preset and --top-k / --threshold / --relative ask,
// all on the same labels encoding as the AP and over the same classes.
// Each metric's execution environment draws its own step of the progress bar.
summary_metrics evaluate_summary(const inputs& in, const cli_options& o, const mlr::ap_options& ap,
                                 std::span<const index_t> classes, progress_bar& bar) {
  summary_metrics m;
  m.requested = o.preset || !o.top_k.empty() || o.threshold || o.relative || o.binned;
  if (!m.requested) return m;
  m.preset = o.preset;
  const mlr::protocol* p = o.preset ? &mlr::protocol_of(*o.preset) : nullptr;
  const auto env = [&](std::string step) { return mlr::execution_env{o.threads, bar.step(std::move(step))}; };

  // The preset's k first, then every --top-k not already there, in the order given.
  std::vector<std::int64_t> ks;
  if (p)
    for (const std::int64_t k : p->top_k)
      if (k > 0) ks.push_back(k);
  for (const std::int64_t k : o.top_k)
    if (std::find(ks.begin(), ks.end(), k) == ks.end()) ks.push_back(k);
  m.top_k_options = p ? p->top_k_opts : mlr::top_k_options{};
  m.top_k_options.encoding = ap.encoding;
  for (const std::int64_t k : ks)
    m.top_k.emplace_back(k, with_views<mlr::top_k_result>(in.scores, in.labels, [&](auto sv, auto lv) {
                           return mlr::top_k(sv, lv, k, m.top_k_options, classes, env("top-" + std::to_string(k)));
                         }));

  std::optional<mlr::threshold_options> t = p ? p->threshold : std::nullopt;
  if (o.threshold) {
    if (!t) t = mlr::threshold_options{};
    t->kind = mlr::threshold_kind::absolute;
    t->threshold = *o.threshold;
  } else if (o.relative) {
    if (!t) t = mlr::threshold_options{};
    t->kind = mlr::threshold_kind::relative;
    t->mu = *o.relative;
  }
  if (t) {
    t->encoding = ap.encoding;
    m.threshold_options = t;
    m.threshold = with_views<mlr::threshold_result>(in.scores, in.labels, [&](auto sv, auto lv) {
      return mlr::threshold_metrics(sv, lv, *t, classes, env("threshold metrics"));
    });
  }
  if (o.binned) {
    m.binned_thresholds = *o.binned;
    m.binned = binned_average_precision(in, *o.binned, ap, classes, env("binned AP"));
  }
  if (p && p->lrap)
    m.lrap = with_views<double>(in.scores, in.labels, [&](auto sv, auto lv) {
      return mlr::label_ranking_average_precision(sv, lv, ap.encoding, classes, env("LRAP"));
    });
  return m;
}

evaluation evaluate(inputs in, const cli_options& o, progress_bar& bar) {
  evaluation e;
  e.options = resolve_ap_options(o);
  if (in.encoding) {  // states carry their labels' encoding
    if ((o.ap_given & ap_encoding_bit) && e.options.encoding != *in.encoding)
      throw failure("--labels: the states hold labels in the " + std::string(mlr::to_string(*in.encoding)) +
                    " encoding, found --labels " + std::string(mlr::to_string(e.options.encoding)));
    e.options.encoding = *in.encoding;
  }
  if (o.binned && e.options.average == mlr::average::samples)  // before the long mAP run, not after
    throw failure("--binned: the binned AP keeps no per-image counts; use --average macro, micro, weighted or none");
  e.images = in.scores.rows;
  if (o.class_names) in.names = class_names_option(*o.class_names, in.scores.cols);
  e.subset = o.classes.has_value();
  if (e.subset) {
    e.columns = resolve_classes(*o.classes, in.scores.cols);
  } else {
    for (index_t c = 0; c < in.scores.cols; ++c) e.columns.push_back(c);
  }
  if (!in.names.empty())
    for (const index_t c : e.columns) e.names.push_back(in.names[static_cast<std::size_t>(c)]);
  // The library evaluates the subset in place and names bad entries by their file column.
  const auto scope = e.subset ? std::span<const index_t>(e.columns) : std::span<const index_t>();
  e.result = mean_average_precision(in.scores, in.labels, e.options, scope,
                                    {o.threads, bar.step("mAP (" + std::string(mlr::to_string(e.options.method)) +
                                                         ", " + std::string(mlr::to_string(e.options.average)) + ")")});
  e.summary = evaluate_summary(in, o, e.options, scope, bar);
  if (o.save_state) {
    save_state(in, e.options.encoding, *o.save_state);
    e.saved_state = o.save_state;
  }
  return e;
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw failure(std::string("cannot write the output: ") + std::strerror(errno));
}

// DIR/scores.npy, DIR/labels.npy and DIR/classes.txt: the demo as files.
void write_demo(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create the directory: " + ec.message());
  const auto path = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };
  const demo_data demo = make_demo();
  write_npy(path("scores.npy"), demo.scores);
  write_npy(path("labels.npy"), demo.labels);
  output_file names(path("classes.txt"));
  for (const auto& n : demo.names) names.write(n + "\n");
  names.close();
  write_stdout("wrote " + path("scores.npy") + " (" + describe(demo.scores) + "), " + path("labels.npy") +
               " (" + describe(demo.labels) + ") and " + path("classes.txt") + "\nrun: mlr-eval " +
               path("scores.npy") + " " + path("labels.npy") + " --class-names " + path("classes.txt") +
               "\n");
}

int run(const cli_options& o) {
  if (o.help) {
    write_stdout(help_text(algorithm_list()));
  } else if (o.version) {
    write_stdout("mlr-eval " + std::to_string(mlr::version_major) + "." + std::to_string(mlr::version_minor) +
                 "." + std::to_string(mlr::version_patch) + "\n");
  } else if (o.write_demo) {
    write_demo(*o.write_demo);
  } else {
    progress_bar bar(!o.quiet && ::isatty(STDERR_FILENO) == 1);  // erased on the way out, error or not
    inputs in = o.states ? load_states(o.files) : o.files.empty() ? load_demo() : load_files(o.files[0], o.files[1]);
    std::string source = in.source;
    const evaluation e = evaluate(std::move(in), o, bar);
    bar.clear();
    write_stdout(o.json ? json_report(e) : source + "\n\n" + table_report(e));
  }
  return 0;
}

// One line, whatever the message holds: control characters are escaped.
void print_error(std::string_view message) {
  std::string line = "mlr-eval: error: ";
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      line += escape(std::string_view(&c, 1));
    else
      line += c;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace
}  // namespace mlr_eval

int main(int argc, char** argv) {
  using namespace mlr_eval;
  std::string hint(usage_hint);
  try {
    const std::span<const char* const> args(argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0));
    if (const algorithm* a = args.empty() ? nullptr : find_algorithm(args[0])) {
      hint = algorithm_usage(*a);
      write_stdout(run_algorithm(*a, args.subspan(1)));
      return 0;
    }
    return run(parse_command_line(args));
  } catch (const usage_error& e) {
    print_error(e.what());
    std::fprintf(stderr, "%s\n", hint.c_str());
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
  } catch (const std::exception& e) {
    print_error(e.what());
  } catch (...) {
    print_error("unexpected internal failure");
  }
  return 2;
}

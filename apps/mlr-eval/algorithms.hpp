#pragma once
// The algorithm subcommands: `mlr-eval ALGORITHM --INPUT FILE.npy ... [--OPTION V ...]` runs one
// scoring function or loss of the library on .npy files and writes its arrays as .npy files.
// One table row per algorithm: its C++ name, its inputs (the C++ parameter names), the members of
// its options struct (defaults read from a default-constructed one), its outputs, and the call.
// The call goes through one generic runner per signature shape: all inputs one floating dtype
// (the scoring functions, l1_distillation, the TagCLIP refinement), or floating values with labels
// of any dtype (ASL, ranking). Results are collected by type: a tensor is one array, a loss_result
// a value and a gradient, dualcoop_gradients three arrays, a dmar_result five arrays and the boxes.
// Parameters without a default (the grid, num_foreground) are required options. The refinement
// steps that call an engine (tagclip_reidentify, tagclip_classify) take its answers as a table,
// one row per foreground class, computed beforehand.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "files.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/loss/asl.hpp"
#include "mlr/loss/asl_dual.hpp"
#include "mlr/loss/l1_distillation.hpp"
#include "mlr/loss/ranking.hpp"
#include "mlr/refine/boxes.hpp"
#include "mlr/refine/cwr.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/refine/local.hpp"
#include "mlr/refine/tagclip.hpp"
#include "mlr/scoring/dualcoop.hpp"
#include "mlr/scoring/mkt.hpp"
#include "mlr/scoring/region_similarity.hpp"
#include "mlr/scoring/tagclip_coarse.hpp"
#include "npy.hpp"
#include "report.hpp"
#include "support.hpp"

namespace mlr_eval {

// An array argument: its C++ parameter name (the flag is --name, dashes for underscores), its
// shape and element types in words.
struct input_spec {
  std::string_view name;
  std::string_view shape;  // "[B, L, D]"
  std::string_view what;   // "float32 or float64", ...
  std::size_t rank = 0;    // filled from the runner's signature
};

// An array result: its C++ name (the file name under --out-dir) and shape in words.
struct output_spec {
  std::string_view name;
  std::string_view shape;
};

// One option as --help shows it.
struct option_help {
  std::string_view name;  // the options struct's member, or the function's parameter
  std::string_view help;
  std::string_view metavar;  // "V", "P", "RxC", ...
  std::string default_text;
  std::string choices;    // "a|b" for a policy, empty otherwise
  bool required = false;  // a parameter of the function without a default (grid, num_foreground)
};

struct array_info {
  std::string_view name;
  mlr::dtype type;
  std::vector<index_t> shape;
};

// An array a call returned, kept alive by `owner`: C order, `bytes` bytes at `data`.
struct output_array {
  array_info info;
  std::shared_ptr<const void> owner;
  const void* data = nullptr;
  std::size_t bytes = 0;
};

struct algorithm_result {
  std::vector<array_info> inputs;
  std::vector<std::array<std::string, 3>> options;  // member name, value as text, value as JSON
  std::vector<double> scalars;  // in the order of algorithm::scalars
  std::vector<output_array> arrays;  // in the order of algorithm::outputs
  std::vector<std::array<std::string, 3>> extras;  // other results (boxes): name, text, JSON
};

// What the command line asks of an algorithm: the file of each input (in the table's order) and
// the options given, (member name, value text), in the order given.
struct invocation {
  std::vector<std::string> files;
  std::vector<std::pair<std::string_view, std::string_view>> options;
  mlr::execution_env env;
};

struct algorithm {
  std::string_view name;
  std::string_view summary;
  std::string_view options_type;  // "mlr::asl_options", or empty without options
  std::vector<input_spec> inputs;
  std::vector<option_help> options;
  std::vector<std::string_view> scalars;  // printed: "value"
  std::vector<output_spec> outputs;       // written as .npy
  std::function<algorithm_result(const invocation&)> run;
  std::vector<output_spec> printed = {};  // other results, printed and in the JSON (boxes, candidates)
};

namespace algorithm_detail {

// --- option values by member type ------------------------------------------------------------

template <class M>
struct member_pointer;
template <class C, class V>
struct member_pointer<V C::*> {
  using owner = C;
  using value = V;
};

template <class E>
concept policy = requires { mlr::enum_names<E>::table; };

// The shortest text that reads back as the same double.
inline std::string number_text(double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, end);
}

template <class V>
V parse_value(std::string_view flag, std::string_view text) {
  const std::string_view t = trim(text);
  if constexpr (policy<V>) {
    return cli_detail::parse_policy_option<V>(t);
  } else {
    V value{};
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size())
      throw usage_error(std::string(flag) + ": expected " +
                        (std::is_floating_point_v<V> ? "a number" : "a whole number") + ", found " + in_quotes(text));
    return value;
  }
}

template <class V>
std::string value_text(V v) {
  if constexpr (policy<V>) return std::string(mlr::to_string(v));
  else if constexpr (std::is_floating_point_v<V>) return number_text(v);
  else return std::to_string(v);
}

template <class V>
std::string value_json(V v) {
  if constexpr (policy<V>) return report_detail::json_string(mlr::to_string(v));
  else if constexpr (std::is_floating_point_v<V>) return std::isfinite(v) ? number_text(v) : "null";
  else return std::to_string(v);
}

// One member of an options struct (or a parameter of the function), typed; make with
// member<&Options::name>.
template <class Options>
struct option_member {
  std::string_view name;
  std::string_view help;
  std::string_view metavar;
  void (*set)(Options&, std::string_view flag, std::string_view value);
  std::string (*text)(const Options&);
  std::string (*json)(const Options&);
  std::string (*choices)();
  bool required = false;
};

// `Owner`: the struct the table fills, when Member is inherited from one of its bases.
template <auto Member, class Owner = typename member_pointer<decltype(Member)>::owner>
option_member<Owner> member(std::string_view name, std::string_view help, bool required = false) {
  using O = Owner;
  using V = typename member_pointer<decltype(Member)>::value;
  return {name,
          help,
          policy<V> ? "P" : "V",
          [](O& o, std::string_view flag, std::string_view v) { o.*Member = parse_value<V>(flag, v); },
          [](const O& o) { return value_text(o.*Member); },
          [](const O& o) { return value_json(o.*Member); },
          []() -> std::string {
            if constexpr (policy<V>) return policy_choices<V>();
            else return "";
          },
          required};
}

struct no_options {};

// "--text-neg" for "text_neg".
inline std::string flag_of(std::string_view name) {
  std::string flag = "--" + std::string(name);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// --- inputs ------------------------------------------------------------------------------------

struct loaded_input {
  const input_spec* spec;
  std::string path;
  npy_array array;

  mlr::dtype type() const { return array.elements.type; }
  // "visual (v.npy)": how messages name the argument.
  std::string label() const { return std::string(spec->name) + " (" + path + ")"; }
};

inline loaded_input load_input(const input_spec& spec, const std::string& path) {
  loaded_input in{&spec, path, read_npy_array(path)};
  if (in.array.shape.size() != spec.rank)
    throw failure(in.label() + ": expected a " + std::to_string(spec.rank) + "-D array " + std::string(spec.shape) +
                  ", found a " + std::to_string(in.array.shape.size()) + "-D array of shape " +
                  npy_detail::shape_text(in.array.shape));
  return in;
}

inline void check_real(const loaded_input& in) {
  if (in.type() != mlr::dtype::float32 && in.type() != mlr::dtype::float64)
    throw failure(in.label() + ": expected dtype float32 or float64, found " + std::string(mlr::to_string(in.type())));
}

inline void check_same_dtype(const loaded_input& in, const loaded_input& first) {
  if (in.type() != first.type())
    throw failure(in.label() + ": expected dtype " + std::string(mlr::to_string(first.type())) + " (that of " +
                  std::string(first.spec->name) + "), found " + std::string(mlr::to_string(in.type())));
}

// f(type_identity<T>) for the floating dtype of `in` (checked).
template <class F>
decltype(auto) with_real(const loaded_input& in, F&& f) {
  check_real(in);
  if (in.type() == mlr::dtype::float32) return f(std::type_identity<float>{});
  return f(std::type_identity<double>{});
}

// --- results -----------------------------------------------------------------------------------

template <class T, std::size_t R>
void collect(algorithm_result& r, mlr::tensor<T, R>&& t) {
  auto held = std::make_shared<const mlr::tensor<T, R>>(std::move(t));
  r.arrays.push_back({{{}, mlr::dtype_of<T>, {held->extents().begin(), held->extents().end()}},
                      held,
                      held->data(),
                      static_cast<std::size_t>(held->size()) * sizeof(T)});
}

template <class T>
void collect(algorithm_result& r, mlr::dualcoop_gradients<T>&& g) {
  collect(r, std::move(g.text_neg));
  collect(r, std::move(g.text_pos));
  collect(r, std::move(g.visual));
}

template <class T, std::size_t R>
void collect(algorithm_result& r, mlr::loss_result<T, R>&& l) {
  r.scalars.push_back(l.value);
  collect(r, std::move(l.gradient));
}

template <class T>
void collect(algorithm_result& r, mlr::dmar_result<T>&& d) {
  collect(r, std::move(d.vote_mask));
  collect(r, std::move(d.masked_attention));
  collect(r, std::move(d.first_refinement));
  collect(r, std::move(d.box_masks));
  collect(r, std::move(d.refined));
  std::string text = "(x0, y0, x1, y1), half-open, in patches, per class:", json = "[";
  for (std::size_t k = 0; k + 1 < d.box_offsets.size(); ++k) {
    text += "\n  class " + std::to_string(k) + ":";
    json += k ? ", [" : "[";
    for (auto b = d.box_offsets[k]; b < d.box_offsets[k + 1]; ++b) {
      const mlr::patch_box& x = d.boxes[static_cast<std::size_t>(b)];
      const std::string c = std::to_string(x.x0) + ", " + std::to_string(x.y0) + ", " + std::to_string(x.x1) + ", " +
                            std::to_string(x.y1);
      text += " (" + c + ")";
      json += (b != d.box_offsets[k] ? ", [" : "[") + c + "]";
    }
    if (d.box_offsets[k] == d.box_offsets[k + 1]) text += " none";
    json += "]";
  }
  r.extras.push_back({"boxes", text, json + "]"});
}

inline std::string box_text(const mlr::patch_box& x) {
  return std::to_string(x.x0) + ", " + std::to_string(x.y0) + ", " + std::to_string(x.x1) + ", " + std::to_string(x.y1);
}

inline void collect(algorithm_result& r, std::vector<mlr::patch_box>&& boxes) {
  std::string text = "(x0, y0, x1, y1), half-open, in patches:", json = "[";
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    text += " (" + box_text(boxes[b]) + ")";
    json += (b ? ", [" : "[") + box_text(boxes[b]) + "]";
  }
  if (boxes.empty()) text += " none";
  r.extras.push_back({"boxes", text, json + "]"});
}

// The candidates, their boxes and whether each was fused with its global score.
template <class T>
void collect(algorithm_result& r, mlr::cwr_result<T>&& c) {
  std::string candidates = "class, CWR box (x0, y0, x1, y1), reidentified:", cj = "[", bj = "[", rj = "[";
  for (std::size_t i = 0; i < c.candidates.size(); ++i) {
    const bool examined = i < c.boxes.size();
    const bool fused = i < c.reidentified.size() && c.reidentified[i];
    candidates += "\n  " + std::to_string(c.candidates[i]) + ": " +
                  (examined ? "(" + box_text(c.boxes[i]) + ")" : "not examined") + (fused ? ", yes" : ", no");
    cj += (i ? ", " : "") + std::to_string(c.candidates[i]);
    if (examined) bj += (i ? ", [" : "[") + box_text(c.boxes[i]) + "]";
    rj += (i ? ", " : "") + std::string(fused ? "true" : "false");
  }
  if (c.candidates.empty()) candidates += " none";
  r.extras.push_back({"candidates", candidates, cj + "]"});
  r.extras.push_back({"boxes", "", bj + "]"});
  r.extras.push_back({"reidentified", "", rj + "]"});
  collect(r, std::move(c.final_scores));
  collect(r, std::move(c.labels));
  collect(r, std::move(c.global_scores));
}

template <class T>
void collect(algorithm_result& r, mlr::tagclip_result<T>&& t) {
  collect(r, std::move(t.coarse));
  collect(r, std::move(t.dmar.refined));
  collect(r, std::move(t.local));
  collect(r, std::move(t.cwr));
}

// --- runners, one per signature shape -----------------------------------------------------------

// Every input one floating dtype: f(views..., options, env).
template <std::size_t... Ranks>
struct same_dtype {
  static constexpr std::array<std::size_t, sizeof...(Ranks)> ranks{Ranks...};

  template <class Options, class F>
  static void call(algorithm_result& r, const std::vector<loaded_input>& in, const Options& o,
                   const mlr::execution_env& env, const F& f) {
    check_real(in[0]);
    for (std::size_t k = 1; k < in.size(); ++k) check_same_dtype(in[k], in[0]);
    with_real(in[0], [&](auto type) {
      using T = typename decltype(type)::type;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        collect(r, f(in[I].array.template view<T, ranks[I]>()..., o, env));
      }(std::make_index_sequence<sizeof...(Ranks)>{});
    });
  }
};

// Floating values, then labels of any dtype: f(values, labels, options, env).
template <std::size_t RankX, std::size_t RankY>
struct values_and_labels {
  static constexpr std::array<std::size_t, 2> ranks{RankX, RankY};

  template <class Options, class F>
  static void call(algorithm_result& r, const std::vector<loaded_input>& in, const Options& o,
                   const mlr::execution_env& env, const F& f) {
    with_real(in[0], [&](auto x_type) {
      using T = typename decltype(x_type)::type;
      mlr::visit_dtype(in[1].type(), [&](auto y_type) {
        using L = typename decltype(y_type)::type;
        collect(r, f(in[0].array.template view<T, RankX>(), in[1].array.template view<L, RankY>(), o, env));
      });
    });
  }
};

// One uint8 map: f(map, options, env).
template <std::size_t Rank>
struct byte_map {
  static constexpr std::array<std::size_t, 1> ranks{Rank};

  template <class Options, class F>
  static void call(algorithm_result& r, const std::vector<loaded_input>& in, const Options& o,
                   const mlr::execution_env& env, const F& f) {
    if (in[0].type() != mlr::dtype::uint8)
      throw failure(in[0].label() + ": expected dtype uint8 (nonzero = foreground), found " +
                    std::string(mlr::to_string(in[0].type())));
    collect(r, f(in[0].array.template view<std::uint8_t, Rank>(), o, env));
  }
};

// A table row: the typed options and runner behind a type-erased algorithm.
template <class Shape, class Options, class F>
algorithm make(std::string_view name, std::string_view summary, std::string_view options_type,
               std::vector<input_spec> inputs, std::vector<option_member<Options>> members,
               std::vector<std::string_view> scalars, std::vector<output_spec> outputs, F f) {
  if (inputs.size() != Shape::ranks.size())  // a table error, caught by any run of the tests
    throw std::logic_error("mlr-eval: the table names " + std::to_string(inputs.size()) + " inputs of " +
                           std::string(name) + ", its runner takes " + std::to_string(Shape::ranks.size()));
  for (std::size_t k = 0; k < inputs.size(); ++k) inputs[k].rank = Shape::ranks[k];
  std::vector<option_help> help;
  const Options defaults{};
  for (const auto& m : members)
    help.push_back({m.name, m.help, m.metavar, m.required ? "" : m.text(defaults), m.choices(), m.required});
  auto run = [inputs, members, f](const invocation& call) {
    Options o{};
    for (const auto& [name, value] : call.options)
      for (const auto& m : members)
        if (m.name == name) m.set(o, flag_of(name), value);
    std::vector<loaded_input> in;
    for (std::size_t k = 0; k < inputs.size(); ++k) in.push_back(load_input(inputs[k], call.files[k]));
    algorithm_result r;
    for (const auto& m : members) r.options.push_back({std::string(m.name), m.text(o), m.json(o)});
    for (const auto& i : in) r.inputs.push_back({i.spec->name, i.type(), i.array.shape});
    Shape::call(r, in, o, call.env, f);
    return r;
  };
  return {name, summary, options_type, std::move(inputs), std::move(help), std::move(scalars), std::move(outputs),
          std::move(run)};
}

// tagclip_dmar's grid and options; the fuse layers given on the command line live here, where
// the options' span points.
struct dmar_arguments : mlr::dmar_options {
  mlr::patch_grid grid;
  std::vector<index_t> layers;
};

struct local_arguments {
  index_t num_foreground = 0;
};

struct boxes_arguments {
  mlr::patch_grid grid;
  mlr::tagclip_mode mode = mlr::tagclip_mode::reference;
};

// tagclip_reidentify: the engine is a table of precomputed answers, global_scores [C, K], row k
// the K-way probabilities of class k's second pass (rows of non-candidates are not read).
struct reidentify_arguments : mlr::cwr_options {
  mlr::patch_grid grid;
  index_t num_foreground = 0;
};

// tagclip_classify's nested options, flat for the command line (one mode for DMAR and CWR, as in
// Python); the defaults are the C++ structs'. The engine is a table: global_features [C, D].
struct classify_arguments {
  mlr::patch_grid grid;
  index_t num_foreground = 0;
  double logit_scale = mlr::tagclip_options{}.logit_scale;
  index_t vote_min = mlr::dmar_options{}.vote_min;
  std::span<const index_t> fuse_layers = mlr::dmar_options{}.fuse_layers;
  std::vector<index_t> layers;
  double mu1 = mlr::cwr_options{}.mu1, mu2 = mlr::cwr_options{}.mu2, lambda = mlr::cwr_options{}.lambda,
         mu = mlr::cwr_options{}.mu, mask_value = mlr::cwr_options{}.mask_value;
  index_t patch_size = mlr::cwr_options{}.patch_size, crop_grid = mlr::cwr_options{}.crop_grid;
  mlr::tagclip_mode mode = mlr::tagclip_mode::reference;

  mlr::tagclip_classify_options options() const {
    mlr::tagclip_classify_options o;
    o.coarse.logit_scale = logit_scale;
    o.dmar = {.vote_min = vote_min, .fuse_layers = fuse_layers, .mode = mode};
    o.cwr = {.mu1 = mu1, .mu2 = mu2, .lambda = lambda, .mu = mu, .patch_size = patch_size, .crop_grid = crop_grid,
             .mask_value = mask_value, .mode = mode};
    return o;
  }
};

// The engine's answers, one row per foreground class, checked against what the call needs.
template <class T>
void check_answers(const mlr::strided_view<const T, 2>& table, std::string_view name, index_t rows, index_t cols,
                   std::string_view what) {
  if (table.extent(0) != rows || table.extent(1) != cols)
    throw mlr::error(std::string(name) + ": expected shape (" + std::to_string(rows) + ", " + std::to_string(cols) +
                     ") (" + std::string(what) + "), found (" + std::to_string(table.extent(0)) + ", " +
                     std::to_string(table.extent(1)) + ")");
}

// An engine that answers crop request k with row k of a table.
template <class T>
auto table_engine(const mlr::strided_view<const T, 2>& table) {
  return [table](const mlr::crop_request<T>& request, mlr::strided_view<T, 1> answer) {
    for (index_t d = 0; d < answer.extent(0); ++d) answer(d) = table(request.class_index, d);
  };
}

inline index_t parse_index(std::string_view text, bool& ok) {
  index_t value = 0;
  const std::string_view t = trim(text);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  ok = ok && !t.empty() && ec == std::errc() && end == t.data() + t.size();
  return value;
}

template <class O>
option_member<O> grid_member() {
  return {"grid", "the patch grid: rows x cols = N (image height and width / patch size)", "RxC",
          [](O& o, std::string_view flag, std::string_view v) {
            const std::size_t x = v.find('x');
            bool ok = x != std::string_view::npos;
            o.grid = {parse_index(v.substr(0, x), ok), ok ? parse_index(v.substr(x + 1), ok) : 0};
            if (!ok) throw usage_error(std::string(flag) + ": expected ROWSxCOLS such as 14x14, found " + in_quotes(v));
          },
          [](const O& o) { return std::to_string(o.grid.rows) + "x" + std::to_string(o.grid.cols); },
          [](const O& o) { return "[" + std::to_string(o.grid.rows) + ", " + std::to_string(o.grid.cols) + "]"; },
          [] { return std::string(); }, true};
}

template <class O>
std::string layer_text(const O& o, std::string_view separator) {
  std::string s;
  for (const index_t l : o.fuse_layers) s += (s.empty() ? "" : std::string(separator)) + std::to_string(l);
  return s;
}

template <class O>
option_member<O> fuse_layers_member() {
  return {"fuse_layers", "the layers averaged into A*, 0-based (cocostuff: 0,...,10)", "L,L,...",
          [](O& o, std::string_view flag, std::string_view v) {
            bool ok = true;
            o.layers.clear();
            for (const std::string_view item : split(v, ',')) o.layers.push_back(parse_index(item, ok));
            if (!ok) throw usage_error(std::string(flag) + ": expected layer indices such as 8,9,10, found " + in_quotes(v));
            o.fuse_layers = o.layers;
          },
          [](const O& o) { return layer_text(o, ","); },
          [](const O& o) { return "[" + layer_text(o, ", ") + "]"; }, [] { return std::string(); }};
}

inline constexpr std::string_view real = "float32 or float64";
inline constexpr std::string_view same = "the dtype of the first input";
inline constexpr std::string_view labels = "labels (|i1 <i4 <i8 |u1 |b1 <f4 <f8) in --encoding";

template <class O>
std::vector<option_member<O>> dualcoop_members() {
  return {member<&O::spatial_scale>("spatial_scale", "factor inside the spatial softmax over the L tokens"),
          member<&O::output_scale>("output_scale", "factor on the aggregated similarities")};
}

// The members shared by asl_options and asl_dual_options.
template <class O>
std::vector<option_member<O>> asl_members() {
  return {member<&O::gamma_neg>("gamma_neg", "focusing exponent of the negatives"),
          member<&O::gamma_pos>("gamma_pos", "focusing exponent of the positives"),
          member<&O::clip>("clip", "shift of the negatives' probability (<= 0: none)"),
          member<&O::eps>("eps", "logs clamped: log(max(p, eps))"),
          member<&O::focal_weight>("focal_weight",
                                   "constant in the gradient (AsymmetricLoss) or differentiated (-Optimized)"),
          member<&O::reduction>("reduction", "sum, or mean over the entries not ignored"),
          member<&O::encoding>("encoding", "the label encoding of targets")};
}

inline std::vector<output_spec> cwr_printed() {
  return {{"candidates", "the candidate classes, in order"},
          {"boxes", "the CWR box of each candidate examined, (x0, y0, x1, y1)"},
          {"reidentified", "whether each candidate was fused with its global score"}};
}

inline std::vector<algorithm> make_table() {
  using mlr::execution_env;
  std::vector<algorithm> t;
  t.push_back(make<same_dtype<3, 2>, no_options>(
      "region_similarity", "cosine similarities of region features with text features", "",
      {{"visual", "[B, R, D]", real}, {"text", "[C, D]", same}}, {}, {}, {{"out", "[B, R, C]"}},
      [](auto v, auto x, const no_options&, const execution_env& env) { return mlr::region_similarity(v, x, env); }));
  t.push_back(make<same_dtype<3, 2, 2>, mlr::dualcoop_options>(
      "dualcoop_logits", "DualCoOp logits: class-specific aggregation of dual similarity maps",
      "mlr::dualcoop_options", {{"visual", "[B, L, D]", real}, {"text_neg", "[C, D]", same}, {"text_pos", "[C, D]", same}},
      dualcoop_members<mlr::dualcoop_options>(), {}, {{"out", "[B, 2, C] (0 negative, 1 positive)"}},
      [](auto v, auto n, auto p, const auto& o, const execution_env& env) { return mlr::dualcoop_logits(v, n, p, o, env); }));
  t.push_back(make<same_dtype<3, 3>, mlr::dualcoop_options>(
      "class_specific_aggregate", "class-specific region aggregation of similarity maps", "mlr::dualcoop_options",
      {{"sim_pos", "[B, L, C]", real}, {"sim_neg", "[B, L, C]", same}}, dualcoop_members<mlr::dualcoop_options>(), {},
      {{"out", "[B, 2, C]"}},
      [](auto p, auto n, const auto& o, const execution_env& env) { return mlr::class_specific_aggregate(p, n, o, env); }));
  t.push_back(make<same_dtype<3>, no_options>(
      "dual_prompt_probability", "p = sigmoid(l+ - l-) of DualCoOp logits", "", {{"logits", "[B, 2, C]", real}}, {}, {},
      {{"out", "[B, C]"}},
      [](auto x, const no_options&, const execution_env& env) { return mlr::dual_prompt_probability(x, env); }));
  t.push_back(make<same_dtype<3, 2, 2, 3>, mlr::dualcoop_options>(
      "dualcoop_logits_vjp", "vector-Jacobian product of dualcoop_logits",
      "mlr::dualcoop_options",
      {{"visual", "[B, L, D]", real}, {"text_neg", "[C, D]", same}, {"text_pos", "[C, D]", same},
       {"grad_out", "[B, 2, C]", same}},
      dualcoop_members<mlr::dualcoop_options>(), {},
      {{"grad_text_neg", "[C, D]"}, {"grad_text_pos", "[C, D]"}, {"grad_visual", "[B, L, D]"}},
      [](auto v, auto n, auto p, auto g, const auto& o, const execution_env& env) {
        return mlr::dualcoop_logits_vjp(v, n, p, g, o, env);
      }));
  t.push_back(make<same_dtype<3, 2, 2>, mlr::mkt_options>(
      "mkt_scores", "MKT two-stream scores (top-k patch mean + global, L2-normalised)", "mlr::mkt_options",
      {{"patches", "[B, P, D]", real}, {"global", "[B, D]", same}, {"label_emb", "[C, D]", same}},
      {member<&mlr::mkt_options::k>("k", "patches averaged per class, 1 <= k <= P (the paper uses 18)")}, {},
      {{"out", "[B, C]"}},
      [](auto p, auto g, auto e, const auto& o, const execution_env& env) { return mlr::mkt_scores(p, g, e, o, env); }));
  t.push_back(make<same_dtype<2, 2>, mlr::tagclip_options>(
      "tagclip_coarse", "TagCLIP coarse patch scores: softmax of logit_scale * cosine",
      "mlr::tagclip_options", {{"patches", "[N, D]", real}, {"text", "[K, D]", same}},
      {member<&mlr::tagclip_options::logit_scale>("logit_scale", "exp(logit_scale) of the CLIP checkpoint")}, {},
      {{"out", "[N, K] (rows sum to 1)"}},
      [](auto p, auto x, const auto& o, const execution_env& env) { return mlr::tagclip_coarse(p, x, o, env); }));
  t.push_back(make<values_and_labels<2, 2>, mlr::asl_options>(
      "asl_loss", "ASL, the sigmoid form of AsymmetricLoss, and its gradient", "mlr::asl_options",
      {{"logits", "[B, C]", real}, {"targets", "[B, C]", labels}}, asl_members<mlr::asl_options>(), {"value"},
      {{"gradient", "[B, C], d value / d logits"}},
      [](auto x, auto y, const auto& o, const execution_env& env) { return mlr::asl_loss(x, y, o, env); }));
  t.push_back(make<values_and_labels<3, 2>, mlr::asl_dual_options>(
      "asl_dual_loss", "DualCoOp's ASL on dual logits, and its gradient", "mlr::asl_dual_options",
      {{"logits", "[B, 2, C]", real}, {"targets", "[B, C]", labels}}, asl_members<mlr::asl_dual_options>(), {"value"},
      {{"gradient", "[B, 2, C], d value / d logits"}},
      [](auto x, auto y, const auto& o, const execution_env& env) { return mlr::asl_dual_loss(x, y, o, env); }));
  using R = mlr::ranking_options;
  t.push_back(make<values_and_labels<2, 2>, R>(
      "ranking_loss", "MKT/BiAM's pairwise ranking loss, and its gradient", "mlr::ranking_options",
      {{"scores", "[B, C]", real}, {"targets", "[B, C]", labels}},
      {member<&R::margin>("margin", "the hinge max(0, margin + s_negative - s_positive)"),
       member<&R::eps>("eps", "the normaliser is the violating pairs + eps"),
       member<&R::margin_rule>("margin_rule", "reference: a pair on the margin passes gradient; consistent: not"),
       member<&R::reduction>("reduction", "mean or sum over the images"),
       member<&R::encoding>("encoding", "the label encoding of targets")},
      {"value"}, {{"gradient", "[B, C], d value / d scores"}},
      [](auto s, auto y, const auto& o, const execution_env& env) { return mlr::ranking_loss(s, y, o, env); }));
  t.push_back(make<same_dtype<2, 2>, mlr::l1_options>(
      "l1_distillation", "MKT's distillation loss (mean absolute error), and its gradient",
      "mlr::l1_options", {{"student", "[B, D]", real}, {"teacher", "[B, D]", same}},
      {member<&mlr::l1_options::reduction>("reduction", "mean over all B D elements, or sum")}, {"value"},
      {{"gradient", "[B, D], d value / d student"}},
      [](auto s, auto u, const auto& o, const execution_env& env) { return mlr::l1_distillation(s, u, o, env); }));
  using D = mlr::dmar_options;
  t.push_back(make<same_dtype<3, 2>, dmar_arguments>(
      "tagclip_dmar", "TagCLIP's DMAR of one image: masks, A*, region boxes, refined scores",
      "mlr::dmar_options",
      {{"attn", "[L, 1 + N, 1 + N] (class token first) or [L, N, N]", real}, {"coarse", "[N, K]", same}},
      {grid_member<dmar_arguments>(), member<&D::vote_min, dmar_arguments>("vote_min", "M_attn: above the layer's mean in >= vote_min "
                                                                       "layers"),
       fuse_layers_member<dmar_arguments>(),
       member<&D::mode, dmar_arguments>("mode", "reference: as the official code; corrected: METHOD.md 2.11")},
      {},
      {{"vote_mask", "[N, N], uint8"},
       {"masked_attention", "[N, N], A*"},
       {"first_refinement", "[N, K], P1 = A* coarse"},
       {"box_masks", "[K, N], uint8: class k's box mask over the patches"},
       {"refined", "[N, K], P2"}},
      [](auto a, auto p, const dmar_arguments& o, const execution_env& env) {
        return mlr::tagclip_dmar(a, p, o.grid, static_cast<const D&>(o), env);
      }));
  t.back().printed = {{"boxes", "per class, (x0, y0, x1, y1) half-open in patches"}};
  t.push_back(make<same_dtype<2>, local_arguments>(
      "tagclip_local", "TagCLIP's local scores: max over patches of the refined scores", "",
      {{"refined", "[N, K]", real}},
      {member<&local_arguments::num_foreground>("num_foreground", "C: the first C columns of refined are foreground",
                                                true)},
      {}, {{"out", "[C]"}},
      [](auto r, const local_arguments& a, const execution_env&) { return mlr::tagclip_local(r, a.num_foreground); }));
  t.push_back(make<byte_map<2>, boxes_arguments>(
      "region_boxes", "boxes of the regions of a binary map that OpenCV's RETR_EXTERNAL reports", "",
      {{"binary", "[rows, cols] on the patch grid", "uint8, nonzero = foreground"}},
      {grid_member<boxes_arguments>(),
       member<&boxes_arguments::mode>("mode", "reference: ends clipped as TagCLIP's scoremap2bbox; corrected: not")},
      {}, {},
      [](auto b, const boxes_arguments& o, const execution_env&) { return mlr::region_boxes(b, o.grid, o.mode); }));
  t.back().printed = {{"boxes", "(x0, y0, x1, y1) half-open in patches, by first patch in raster order"}};
  using W = reidentify_arguments;
  t.push_back(make<same_dtype<2, 1, 2>, W>(
      "tagclip_reidentify", "TagCLIP's CWR: candidates, crop boxes, fusion with the global scores, labels",
      "mlr::cwr_options",
      {{"refined", "[N, K], P2", real},
       {"local", "[C], P_local", same},
       {"global_scores", "[C, K]: row k, the engine's K probabilities for class k's crop", same}},
      {grid_member<W>(),
       member<&W::num_foreground>("num_foreground", "C: the first C columns of refined are foreground", true),
       member<&mlr::cwr_options::mu1, W>("mu1", "candidates: local > min P2 + mu1 (max P2 - min P2)"),
       member<&mlr::cwr_options::mu2, W>("mu2", "region: the min-max-normalised column > mu2"),
       member<&mlr::cwr_options::lambda, W>("lambda", "P_final = lambda P_local + (1 - lambda) g (Python: lam)"),
       member<&mlr::cwr_options::mu, W>("mu", "labels: P_final > min + mu (max - min)"),
       member<&mlr::cwr_options::patch_size, W>("patch_size", "pixels per patch, for the pixel boxes"),
       member<&mlr::cwr_options::crop_grid, W>("crop_grid", "token grid of the second pass"),
       member<&mlr::cwr_options::mask_value, W>("mask_value", "additive attention mask of a dropped token"),
       member<&mlr::cwr_options::mode, W>("mode", "reference: as the official code; corrected: METHOD.md 2.11")},
      {},
      {{"final_scores", "[C], P_final"},
       {"labels", "[C], uint8: the per-image relative threshold"},
       {"global_scores", "[candidates, K]: the answers used (NaN: not asked)"}},
      [](auto refined, auto local, auto g, const W& o, const execution_env&) {
        check_answers(g, "global_scores", o.num_foreground, refined.extent(1), "num_foreground x K");
        return mlr::tagclip_reidentify(refined, local, o.grid, o.num_foreground, table_engine(g), o);
      }));
  t.back().printed = cwr_printed();
  using A = classify_arguments;
  t.push_back(make<same_dtype<3, 2, 2, 2>, A>(
      "tagclip_classify", "TagCLIP's whole pipeline for one image, the second passes given as features",
      "mlr::tagclip_classify_options",
      {{"attn", "[L, 1 + N, 1 + N] (class token first) or [L, N, N]", real},
       {"tokens", "[1 + N, D] or [N, D], the projected tokens", same},
       {"text", "[K, D], foreground rows first", same},
       {"global_features", "[C, D]: row k, the projected class token of class k's second pass", same}},
      {grid_member<A>(),
       member<&A::num_foreground>("num_foreground", "C: the first C text rows are foreground", true),
       member<&A::logit_scale>("logit_scale", "exp(logit_scale) of the CLIP checkpoint"),
       member<&A::vote_min>("vote_min", "M_attn: above the layer's mean in >= vote_min layers"),
       fuse_layers_member<A>(),
       member<&A::mu1>("mu1", "candidates: local > min P2 + mu1 (max P2 - min P2)"),
       member<&A::mu2>("mu2", "region: the min-max-normalised column > mu2"),
       member<&A::lambda>("lambda", "P_final = lambda P_local + (1 - lambda) g (Python: lam)"),
       member<&A::mu>("mu", "labels: P_final > min + mu (max - min)"),
       member<&A::patch_size>("patch_size", "pixels per patch, for the pixel boxes"),
       member<&A::crop_grid>("crop_grid", "token grid of the second pass"),
       member<&A::mask_value>("mask_value", "additive attention mask of a dropped token"),
       member<&A::mode>("mode", "reference: as the official code; corrected: METHOD.md 2.11 (DMAR and CWR)")},
      {},
      {{"coarse", "[N, K], P_coarse"},
       {"refined", "[N, K], P2"},
       {"local", "[C], P_local"},
       {"final_scores", "[C], P_final"},
       {"labels", "[C], uint8: the per-image relative threshold"},
       {"global_scores", "[candidates, K]: softmax of the features used (NaN: not asked)"}},
      [](auto attn, auto tokens, auto text, auto g, const A& o, const execution_env& env) {
        check_answers(g, "global_features", o.num_foreground, text.extent(1), "num_foreground x D");
        return mlr::tagclip_classify(attn, tokens, text, o.grid, o.num_foreground, table_engine(g), o.options(), env);
      }));
  t.back().printed = cwr_printed();
  return t;
}

}  // namespace algorithm_detail

inline const std::vector<algorithm>& algorithms() {
  static const std::vector<algorithm> table = algorithm_detail::make_table();
  return table;
}

inline const algorithm* find_algorithm(std::string_view name) {
  for (const auto& a : algorithms())
    if (a.name == name) return &a;
  return nullptr;
}

// The lines of `mlr-eval --help` that list the algorithms.
inline std::string algorithm_list() {
  std::string s;
  for (const auto& a : algorithms()) s += "  " + report_detail::pad_right(std::string(a.name), 26) + std::string(a.summary) + "\n";
  return s;
}

inline std::string algorithm_synopsis(const algorithm& a) {
  std::string s = "mlr-eval " + std::string(a.name);
  for (const auto& in : a.inputs) s += " " + algorithm_detail::flag_of(in.name) + " FILE.npy";
  return s;
}

inline std::string algorithm_usage(const algorithm& a) {
  return "usage: " + algorithm_synopsis(a) + " [options]; see mlr-eval " + std::string(a.name) + " --help";
}

inline std::string algorithm_help(const algorithm& a) {
  using algorithm_detail::flag_of;
  const auto row = [](std::string left, std::string_view right) {
    return "  " + report_detail::pad_right(std::move(left), 24) + " " + std::string(right) + "\n";
  };
  const bool one_array = a.outputs.size() == 1;
  std::string s = "usage: " + algorithm_synopsis(a) + "\n" + std::string(9 + a.name.size(), ' ') + " [options]" +
                  (one_array ? " [--out FILE.npy | --out-dir DIR]" : " --out-dir DIR") + " [--json] [--threads N]\n\n" +
                  "mlr::" + std::string(a.name) + ": " + std::string(a.summary) + ".\n" +
                  "Same name, inputs, options and defaults as in C++ and in Python (mlr." + std::string(a.name) +
                  ").\n\nInputs (.npy files of any order, memory-mapped):\n";
  for (const auto& in : a.inputs)
    s += row(flag_of(in.name) + " FILE.npy", std::string(in.shape) + ", " + std::string(in.what));
  const auto required = [](const option_help& o) { return o.required; };
  if (std::any_of(a.options.begin(), a.options.end(), required)) {
    s += "\nParameters (required):\n";
    for (const auto& o : a.options)
      if (o.required) s += row(flag_of(o.name) + " " + std::string(o.metavar), std::string(o.help) + ".");
  }
  if (!std::all_of(a.options.begin(), a.options.end(), required)) {
    s += "\nOptions (the members of " + std::string(a.options_type) + "; defaults those of " +
         std::string(a.options_type) + "{}):\n";
    for (const auto& o : a.options) {
      if (o.required) continue;
      const std::string left = flag_of(o.name) + " " + std::string(o.metavar);
      if (o.choices.empty()) {
        s += row(left, std::string(o.help) + ". Default " + o.default_text + ".");
      } else {
        s += row(left, o.choices + ". Default " + o.default_text + ".");
        s += row("", std::string(o.help) + ".");
      }
    }
  }
  s += "\nOutputs (of the inputs' dtype unless said):\n";
  for (const auto& name : a.scalars) s += row(std::string(name), "printed (a table line, or JSON with --json)");
  for (const auto& p : a.printed) s += row(std::string(p.name), std::string(p.shape) + ", printed (and in the JSON)");
  for (const auto& out : a.outputs) s += row(std::string(out.name), out.shape);
  s += "\nWriting and reporting:\n";
  if (one_array) s += row("--out FILE.npy", "write " + std::string(a.outputs[0].name) + " to FILE.npy");
  s += row("--out-dir DIR", "write each array output to DIR/NAME.npy (DIR is created)");
  s += row("--json", "print one JSON object (inputs, options, values, files written)");
  s += row("--threads N", "worker threads, 0 = one per hardware thread (results never depend on it)");
  return s;
}

namespace algorithm_detail {

struct command {
  invocation call;
  std::optional<std::string> out, out_dir;
  bool json = false;
  bool help = false;
};

// --NAME VALUE or --NAME=VALUE, each at most once.
inline command parse_command(const algorithm& a, std::span<const char* const> args) {
  command c;
  c.call.files.resize(a.inputs.size());
  std::vector<std::string> seen;
  const std::string prefix = std::string(a.name) + ": ";
  for (std::size_t k = 0; k < args.size(); ++k) {
    const std::string_view arg = args[k];
    if (arg.size() < 3 || arg.substr(0, 2) != "--")
      throw usage_error(prefix + "unexpected argument " + in_quotes(arg) + " (inputs are given as --NAME FILE.npy)");
    const std::size_t eq = arg.find('=');
    const std::string flag(arg.substr(0, eq));
    if (std::find(seen.begin(), seen.end(), flag) != seen.end()) throw usage_error(prefix + flag + " is given twice");
    seen.push_back(flag);
    const bool takes_value = flag != "--json" && flag != "--help";
    if (!takes_value) {
      if (eq != std::string_view::npos) throw usage_error(prefix + flag + " takes no value");
      (flag == "--json" ? c.json : c.help) = true;
      continue;
    }
    if (eq == std::string_view::npos && k + 1 == args.size()) throw usage_error(prefix + flag + " needs a value");
    const std::string_view value = eq != std::string_view::npos ? arg.substr(eq + 1) : std::string_view(args[++k]);
    if (flag == "--out") {
      c.out = std::string(value);
    } else if (flag == "--out-dir") {
      c.out_dir = std::string(value);
    } else if (flag == "--threads") {
      c.call.env.threads = cli_detail::parse_threads(value);
    } else {
      bool known = false;
      for (std::size_t i = 0; i < a.inputs.size() && !known; ++i)
        if (flag_of(a.inputs[i].name) == flag) {
          c.call.files[i] = std::string(value);
          known = true;
        }
      for (std::size_t i = 0; i < a.options.size() && !known; ++i)
        if (flag_of(a.options[i].name) == flag) {
          c.call.options.emplace_back(a.options[i].name, value);
          known = true;
        }
      if (!known) {
        std::string accepted;
        for (const auto& in : a.inputs) accepted += flag_of(in.name) + ", ";
        for (const auto& o : a.options) accepted += flag_of(o.name) + ", ";
        throw usage_error(prefix + "unknown option " + in_quotes(flag) + " (it takes " + accepted +
                          "--out, --out-dir, --json, --threads)");
      }
    }
  }
  if (c.help) return c;
  for (const auto& o : a.options) {
    const auto given = [&](const auto& p) { return p.first == o.name; };
    if (o.required && std::none_of(c.call.options.begin(), c.call.options.end(), given))
      throw usage_error(prefix + "missing " + flag_of(o.name) + " " + std::string(o.metavar));
  }
  for (std::size_t i = 0; i < a.inputs.size(); ++i)
    if (c.call.files[i].empty())
      throw usage_error(prefix + "missing " + flag_of(a.inputs[i].name) + " FILE.npy (" +
                        std::string(a.inputs[i].shape) + ")");
  if (c.out && c.out_dir) throw usage_error(prefix + "--out and --out-dir exclude each other");
  if (c.out && a.outputs.size() != 1) {
    std::string names;
    for (const auto& o : a.outputs) names += (names.empty() ? "" : ", ") + std::string(o.name);
    throw usage_error(prefix + "writes " + std::to_string(a.outputs.size()) + " arrays (" + names +
                      "): use --out-dir DIR");
  }
  if (!c.out && !c.out_dir && a.scalars.empty() && !a.outputs.empty())
    throw usage_error(prefix + "expected " + (a.outputs.size() == 1 ? "--out FILE.npy or " : "") +
                      "--out-dir DIR (where to write " + std::string(a.outputs[0].name) +
                      (a.outputs.size() == 1 ? "" : ", ...") + ")");
  return c;
}

inline std::string json_shape(const std::vector<index_t>& shape) {
  std::string s = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

inline std::string describe(const array_info& a) {
  return std::string(mlr::to_string(a.type)) + " " + npy_detail::shape_text(a.shape);
}

}  // namespace algorithm_detail

// Runs `mlr-eval NAME ARGS...`: the report to print (help, a table or JSON).
inline std::string run_algorithm(const algorithm& a, std::span<const char* const> args) {
  using namespace algorithm_detail;
  using report_detail::json_number;
  using report_detail::json_string;
  const command c = parse_command(a, args);
  if (c.help) return algorithm_help(a);
  algorithm_result r = a.run(c.call);

  std::vector<std::string> files;  // where each array output went, or "" when not written
  if (c.out_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*c.out_dir, ec);
    if (ec) fail(*c.out_dir, "cannot create the directory: " + ec.message());
  }
  for (std::size_t k = 0; k < r.arrays.size(); ++k) {
    auto& out = r.arrays[k];
    out.info.name = a.outputs[k].name;
    files.push_back(c.out ? *c.out
                    : c.out_dir ? (std::filesystem::path(*c.out_dir) / (std::string(out.info.name) + ".npy")).string()
                                : std::string());
    if (!files.back().empty()) write_npy(files.back(), out.info.type, out.info.shape, out.data, out.bytes);
  }

  if (c.json) {
    std::string s = "{\n  \"algorithm\": " + json_string(a.name) + ",\n  \"inputs\": {";
    for (std::size_t k = 0; k < r.inputs.size(); ++k)
      s += std::string(k ? ", " : "") + json_string(r.inputs[k].name) + ": {\"file\": " + json_string(c.call.files[k]) +
           ", \"dtype\": " + json_string(mlr::to_string(r.inputs[k].type)) +
           ", \"shape\": " + json_shape(r.inputs[k].shape) + "}";
    s += "},\n  \"options\": {";
    for (std::size_t k = 0; k < r.options.size(); ++k)
      s += std::string(k ? ", " : "") + json_string(r.options[k][0]) + ": " + r.options[k][2];
    s += "},\n";
    for (std::size_t k = 0; k < r.scalars.size(); ++k)
      s += "  " + json_string(a.scalars[k]) + ": " + json_number(r.scalars[k]) + ",\n";
    for (const auto& [name, text, json] : r.extras) s += "  " + json_string(name) + ": " + json + ",\n";
    s += "  \"outputs\": {";
    for (std::size_t k = 0; k < r.arrays.size(); ++k)
      s += std::string(k ? ", " : "") + json_string(r.arrays[k].info.name) +
           ": {\"file\": " + (files[k].empty() ? "null" : json_string(files[k])) +
           ", \"dtype\": " + json_string(mlr::to_string(r.arrays[k].info.type)) +
           ", \"shape\": " + json_shape(r.arrays[k].info.shape) + "}";
    return s + "}\n}\n";
  }
  std::string s = std::string(a.name) + "(";
  for (std::size_t k = 0; k < r.inputs.size(); ++k)
    s += std::string(k ? ", " : "") + std::string(r.inputs[k].name) + " " + c.call.files[k] + " " + describe(r.inputs[k]);
  s += ")\n";
  if (!r.options.empty()) {
    s += "options";
    for (std::size_t k = 0; k < r.options.size(); ++k) s += (k ? ", " : " ") + r.options[k][0] + " " + r.options[k][1];
    s += "\n";
  }
  for (std::size_t k = 0; k < r.scalars.size(); ++k)
    s += std::string(a.scalars[k]) + " " + report_detail::format("%.17g", r.scalars[k]) + "\n";
  for (std::size_t k = 0; k < r.arrays.size(); ++k)
    s += std::string(r.arrays[k].info.name) + " " + describe(r.arrays[k].info) +
         (files[k].empty() ? " (not written: give --out or --out-dir)" : " written to " + files[k]) + "\n";
  for (const auto& [name, text, json] : r.extras)
    if (!text.empty()) s += name + " " + text + "\n";  // some extras are JSON only (told in another's text)
  return s;
}

}  // namespace mlr_eval

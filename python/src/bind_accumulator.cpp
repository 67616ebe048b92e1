// mlr.ap_accumulator and mlr.binned_ap_accumulator: the C++ accumulators, float32 or float64 by
// the `dtype` given at construction (or read from a state), with pickling through the portable
// state.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/accumulator.hpp"
#include "mlr/metrics/binned_accumulator.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

constexpr mlr::ap_options default_options{};

// One accumulator template over float and double, chosen at run time.
template <template <class> class A>
struct accumulator {
  std::variant<A<float>, A<double>> held;

  static mlr::dtype parse_dtype(const py::object& dtype) {
    const std::string name = py::str(py::module_::import("numpy").attr("dtype")(dtype));
    if (name == "float32") return mlr::dtype::float32;
    if (name == "float64") return mlr::dtype::float64;
    throw mlr::error("dtype: expected float32 or float64, found " + name);
  }

  template <class... Args>
  static accumulator make(mlr::dtype type, Args&&... args) {
    if (type == mlr::dtype::float32) return {A<float>(std::forward<Args>(args)...)};
    return {A<double>(std::forward<Args>(args)...)};
  }

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), held);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), held);
  }

  std::string dtype_name() const {
    return visit([](const auto& a) { return std::string(sizeof(typename std::decay_t<decltype(a)>::value_type) == 4 ? "float32" : "float64"); });
  }

  void update(const py::object& scores, const py::object& labels, unsigned threads) {
    const tensor_arg s(scores, "scores", 2, accepts::real);
    const tensor_arg l(labels, "labels", 2, accepts::label);
    visit([&](auto& acc) {
      using T = typename std::decay_t<decltype(acc)>::value_type;
      if (s.dtype() == mlr::dtype::float64 && std::is_same_v<T, float>)
        throw mlr::error("scores: expected float32 for this float32 accumulator, found float64 (make the "
                         "accumulator with dtype='float64', or convert the scores)");
      // The GIL stays held: an accumulator is mutable state shared by every Python thread.
      with_views<2, void>(s, l, [&](auto sv, auto lv) {
        if constexpr (sizeof(typename decltype(sv)::value_type) <= sizeof(T)) {
          if constexpr (requires { acc.update(sv, lv, mlr::execution_env{threads}); })
            acc.update(sv, lv, mlr::execution_env{threads});
          else
            acc.update(sv, lv);
        }
      });
    });
  }

  void merge(const accumulator& other) {
    if (other.held.index() != held.index())
      throw mlr::error("other: expected a " + dtype_name() + " accumulator, found a " + other.dtype_name() + " one");
    visit([&](auto& acc) { acc.merge(std::get<std::decay_t<decltype(acc)>>(other.held)); });
  }

  py::bytes serialize() const {
    const auto state = visit([](const auto& acc) { return acc.serialize(); });
    return py::bytes(reinterpret_cast<const char*>(state.data()), state.size());
  }

  static accumulator deserialize(const py::bytes& data) {
    const std::string_view bytes = data;
    const std::span<const std::byte> state(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    if (mlr::read_state_header(state).score_bytes == 4) return {A<float>::deserialize(state)};
    return {A<double>::deserialize(state)};
  }
};

using exact = accumulator<mlr::ap_accumulator>;
using binned = accumulator<mlr::binned_ap_accumulator>;

// The methods both accumulators share.
template <class Acc>
void bind_common(py::class_<Acc>& cls, const char* name) {
  cls.def("update", &Acc::update, py::arg("scores"), py::arg("labels"), py::arg("threads") = mlr::execution_env{}.threads,
          "Adds a batch: scores [B, C] (the accumulator's dtype; float32 into a float64 accumulator is "
          "fine) and labels [B, C] in its encoding. Invalid input raises ValueError and changes nothing.")
      .def("merge", &Acc::merge, py::arg("other"),
           "Adds another accumulator's state (same classes, encoding, dtype; for the exact one, its rows "
           "come after this one's).")
      .def("serialize", &Acc::serialize, "The state as bytes, in mlr's portable layout (any machine reads it).")
      .def_static("deserialize", &Acc::deserialize, py::arg("data"),
                  "The accumulator that serialized ``data``; ValueError if the bytes are not such a state.")
      .def_property_readonly("classes", [](const Acc& a) { return a.visit([](const auto& x) { return x.classes(); }); })
      .def_property_readonly("encoding", [](const Acc& a) {
        return std::string(mlr::to_string(a.visit([](const auto& x) { return x.encoding(); })));
      })
      .def_property_readonly("dtype", [](const Acc& a) { return py::module_::import("numpy").attr("dtype")(a.dtype_name()); })
      .def(py::pickle([](const Acc& a) { return a.serialize(); },
                      [](const py::bytes& state) { return Acc::deserialize(state); }))
      .def("__repr__", [name](const Acc& a) {
        return std::string(name) + "(classes=" + std::to_string(a.visit([](const auto& x) { return x.classes(); })) +
               ", dtype='" + a.dtype_name() + "', encoding='" +
               std::string(mlr::to_string(a.visit([](const auto& x) { return x.encoding(); }))) + "')";
      });
}

// A numpy copy [rows, C] of a kept matrix (a view would dangle after the next update or merge).
template <class T>
py::array matrix_copy(mlr::strided_view<const T, 2> v) {
  py::array_t<T> a({v.extent(0), v.extent(1)});
  std::copy_n(v.data_handle(), v.size(), a.mutable_data());
  return a;
}

// An int64 [T, C] array from a threshold-major vector.
py::array_t<std::int64_t> counts_array(const std::vector<std::int64_t>& v, std::size_t classes) {
  py::array_t<std::int64_t> a({static_cast<py::ssize_t>(v.size() / classes), static_cast<py::ssize_t>(classes)});
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace
}  // namespace mlr_python

void bind_accumulator(pybind11::module_& m) {
  using namespace mlr_python;
  py::class_<exact> e(m, "ap_accumulator",
                      "Exact average precision over a stream of batches (mirrors mlr::ap_accumulator<T>): keeps "
                      "every row it is given, so compute() equals mean_average_precision of all rows in order.");
  e.def(py::init([](mlr::index_t classes, const py::object& dtype, std::string_view encoding) {
          return exact::make(exact::parse_dtype(dtype), classes, mlr::parse_policy<mlr::label_encoding>(encoding));
        }),
        py::arg("classes"), py::arg("dtype") = "float32", py::arg("encoding") = default_name(default_options.encoding));
  bind_common(e, "ap_accumulator");
  e.def(
       "compute",
       [](const exact& a, std::string_view method, std::string_view average, std::string_view empty_class,
          double epsilon, const py::object& classes, unsigned threads) {
         const std::vector<mlr::index_t> scope = class_list(classes);
         return a.visit([&](const auto& acc) {
           const mlr::ap_options options{.method = mlr::parse_policy<mlr::ap_method>(method),
                                         .average = mlr::parse_policy<mlr::average>(average),
                                         .empty_class = mlr::parse_policy<mlr::empty_class>(empty_class),
                                         .encoding = acc.encoding(),
                                         .epsilon = epsilon};
           return acc.compute(options, scope, mlr::execution_env{threads});  // GIL held, as update
         });
       },
       py::arg("method") = default_name(default_options.method),
       py::arg("average") = default_name(default_options.average),
       py::arg("empty_class") = default_name(default_options.empty_class), py::arg("epsilon") = default_options.epsilon,
       py::arg("classes") = py::none(), py::arg("threads") = mlr::execution_env{}.threads,
       "mean_average_precision of every row kept (same arguments, the encoding being the accumulator's).")
      .def_property_readonly("rows", [](const exact& a) { return a.visit([](const auto& x) { return x.rows(); }); })
      .def_property_readonly(
          "scores", [](const exact& a) { return a.visit([](const auto& x) { return matrix_copy(x.scores()); }); },
          "A copy of the kept scores [rows, C].")
      .def_property_readonly(
          "labels", [](const exact& a) { return a.visit([](const auto& x) { return matrix_copy(x.labels()); }); },
          "A copy of the kept labels [rows, C], int8 in the accumulator's encoding.");

  py::class_<binned> b(m, "binned_ap_accumulator",
                       "Binned average precision in constant memory (mirrors mlr::binned_ap_accumulator<T>): "
                       "torchmetrics' binned multilabel AP. No sigmoid is applied to the scores.");
  b.def(py::init([](mlr::index_t classes, const py::object& thresholds, const py::object& dtype,
                    std::string_view encoding) {
          const mlr::dtype type = binned::parse_dtype(dtype);
          const auto enc = mlr::parse_policy<mlr::label_encoding>(encoding);
          if (py::isinstance<py::int_>(thresholds)) {
            const auto count = thresholds.cast<long long>();
            if (count < 2) throw mlr::error("thresholds: expected at least 2, found " + std::to_string(count));
            return binned::make(type, classes, static_cast<std::size_t>(count), enc);
          }
          const py::array_t<double, py::array::c_style | py::array::forcecast> t(
              py::module_::import("numpy").attr("asarray")(thresholds, "float64"));
          if (t.ndim() != 1) throw mlr::error("thresholds: expected an int or a 1-D sequence of values");
          if (type == mlr::dtype::float32) {  // rounded to float32, as torch.tensor(list) does
            const std::vector<float> f(t.data(), t.data() + t.size());
            return binned{mlr::binned_ap_accumulator<float>(classes, std::span<const float>(f), enc)};
          }
          return binned{mlr::binned_ap_accumulator<double>(classes, std::span<const double>(t.data(), static_cast<std::size_t>(t.size())), enc)};
        }),
        py::arg("classes"), py::arg("thresholds") = 100, py::arg("dtype") = "float32",
        py::arg("encoding") = default_name(default_options.encoding));
  bind_common(b, "binned_ap_accumulator");
  b.def(
       "compute",
       [](const binned& a, std::string_view average, std::string_view empty_class) {
         const auto avg = mlr::parse_policy<mlr::average>(average);
         const auto empty = mlr::parse_policy<mlr::empty_class>(empty_class);
         return a.visit([&](const auto& acc) { return acc.compute(avg, empty); });
       },
       py::arg("average") = default_name(default_options.average),
       py::arg("empty_class") = default_name(default_options.empty_class),
       "Binned AP per class and its average ('macro', 'micro', 'weighted' or 'none').")
      .def(
          "counts",
          [](const binned& a) {
            return a.visit([](const auto& acc) {
              const auto c = acc.counts();
              const auto classes = static_cast<std::size_t>(acc.classes());
              return py::make_tuple(counts_array(c.tp, classes), counts_array(c.fp, classes), counts_array(c.fn, classes));
            });
          },
          "(tp, fp, fn): int64 arrays [T, C]; at threshold j, positives scoring >= t_j, negatives scoring >= "
          "t_j, positives below it.")
      .def_property_readonly(
          "thresholds",
          [](py::object self) {
            return self.cast<const binned&>().visit([&](const auto& x) {
              const auto t = x.thresholds();
              return py::array(read_only_array(t.data(), t.size(), self));
            });
          },
          "The thresholds, ascending, in the accumulator's dtype.");
}

// The Python module `mlr`: the C++ functions with the same names, arguments and defaults.
// Policy names are parsed by mlr::parse_policy, so Python accepts exactly the C++ names and
// reports mlr's own messages; every mlr::error becomes a ValueError with the same message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/version.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

std::string version_string() {
  return std::to_string(mlr::version_major) + "." + std::to_string(mlr::version_minor) + "." +
         std::to_string(mlr::version_patch);
}

// The C++ defaults, by name, so that Python's defaults cannot drift from them.
constexpr mlr::ap_options default_options{};

// "[a, b, c]", or "[a, b, c, ..., x, y, z]" beyond 8 entries.
template <class T, class Format>
std::string format_list(const std::vector<T>& v, Format format) {
  std::string s = "[";
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 8 && i == 3) {
      s += ", ...";
      i = n - 3;
    }
    if (i) s += ", ";
    s += format(v[i]);
  }
  return s + "]";
}

constexpr const char* module_doc = R"doc(
Multi-label recognition metrics (mlr), the Python face of the C++ library.

Scores and labels are numpy arrays (any strides: viewed in place whenever the strides allow),
objects with ``__dlpack__`` (e.g. CPU torch tensors, viewed in place), or anything
``numpy.asarray`` accepts. Scores are float32 or float64; labels are int8, int32, int64, uint8,
bool, float32 or float64 in the selected encoding:

* ``'canonical'`` (default): 1 positive, 0 negative, -1 ignored;
* ``'signed_zero_ignored'`` (alias ``'signed'``): +1 positive, -1 negative, 0 ignored;
* bool labels are binary whatever the encoding.

Invalid input (non-finite scores, labels outside the encoding, shape mismatch, empty input,
unknown policy names, unsupported dtype or rank, device memory) raises ValueError with the
message of the C++ library. The computation runs without the GIL.
)doc";

constexpr const char* average_precision_doc = R"doc(
Average precision of one class.

Parameters
----------
scores : array [N] of float32 or float64
    Finite scores; higher means more likely positive.
labels : array [N]
    Labels in ``encoding``; ignored entries take no part.
method : str
    AP flavour: ``'step'`` (scikit-learn's ``average_precision_score``: non-interpolated,
    ties grouped), ``'ranked'`` (order-dependent prec@r of TagCLIP, BiAM/MKT, ASL/DualCoOp; ties:
    higher score, then lower row, then lower column), ``'voc07_11point'`` (exact grid m/10) or
    ``'voc_area'`` (area under the precision envelope).
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'`` (+1/-1/0 ignored).
epsilon : float
    ``'ranked'`` only: AP = sum / (P + epsilon); 1e-8 reproduces ASL/DualCoOp.

Returns
-------
AveragePrecisionResult
    ``value`` is NaN, and ``empty`` True, when no positive remains after ignoring.
    ``float(result)`` is ``result.value``.

Raises
------
ValueError
    On invalid input, with a message naming the argument, what was expected and what was found.
)doc";

constexpr const char* mean_average_precision_doc = R"doc(
Average precision of each of the C columns of an N x C score matrix, and their average.

Parameters
----------
scores : array [N, C] of float32 or float64
    Finite scores, one row per sample, one column per class.
labels : array [N, C]
    Labels in ``encoding``; ignored entries take no part.
method : str
    AP flavour: ``'step'`` (scikit-learn's ``average_precision_score``), ``'ranked'``,
    ``'voc07_11point'`` or ``'voc_area'`` (see ``average_precision``).
average : str
    ``'macro'`` (mean over classes), ``'micro'`` (one AP over every non-ignored entry),
    ``'weighted'`` (mean weighted by positives), ``'samples'`` (mean over samples of the AP of
    each row) or ``'none'`` (``value`` is NaN; see ``per_class``).
empty_class : str
    How a class (for ``'samples'``: a sample) without positives enters the mean: ``'zero'``
    (counts as 0, as scikit-learn >= 1.1) or ``'exclude'`` (left out).
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'`` (+1/-1/0 ignored).
epsilon : float
    ``'ranked'`` only: AP = sum / (P + epsilon); 1e-8 reproduces ASL/DualCoOp.
classes : sequence of int or None
    Evaluate only these columns (ZSL / GZSL subsets), in this order, without copying the data;
    None (default) means every class.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
MeanAveragePrecisionResult
    ``per_class`` holds NaN for a class without positives (flagged in ``empty``).
    ``float(result)`` is ``result.value``.

Raises
------
ValueError
    On invalid input, with a message naming the argument, what was expected and what was found.
)doc";

}  // namespace
}  // namespace mlr_python

void bind_threshold(pybind11::module_&);
void bind_ranking(pybind11::module_&);
void bind_accumulator(pybind11::module_&);
void bind_presets(pybind11::module_&);
void bind_scoring(pybind11::module_&);
void bind_loss(pybind11::module_&);
void bind_refine(pybind11::module_&);

PYBIND11_MODULE(mlr, m) {
  using namespace mlr_python;

  m.doc() = module_doc;
  m.attr("__version__") = version_string();
  m.attr("_with_dlpack") = py::bool_(MLR_PYTHON_WITH_DLPACK != 0);

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mlr::error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  using ap_result = mlr::average_precision_result;
  py::class_<ap_result>(m, "AveragePrecisionResult",
                        "Average precision of one class (mirrors mlr::average_precision_result).")
      .def_readonly("value", &ap_result::value,
                    "The average precision; NaN when the class has no positives after ignoring.")
      .def_readonly("positives", &ap_result::positives, "Number of positives, after ignoring.")
      .def_readonly("negatives", &ap_result::negatives, "Number of negatives, after ignoring.")
      .def_property_readonly("empty", &ap_result::empty,
                             "True when the class has no positives (then value is NaN).")
      .def("__float__", [](const ap_result& r) { return r.value; }, "The value.")
      .def(
          "__repr__",
          [](const ap_result& r) {
            return "AveragePrecisionResult(value=" + format_double(r.value) +
                   ", positives=" + std::to_string(r.positives) +
                   ", negatives=" + std::to_string(r.negatives) +
                   ", empty=" + (r.empty() ? "True" : "False") + ")";
          },
          "AveragePrecisionResult(value=..., positives=..., negatives=..., empty=...).");

  using map_result = mlr::mean_average_precision_result;
  py::class_<map_result>(m, "MeanAveragePrecisionResult",
                         "Per-class average precision and their average (mirrors "
                         "mlr::mean_average_precision_result).")
      .def_readonly("value", &map_result::value,
                    "The requested average; NaN for average='none', or when 'exclude' leaves "
                    "nothing to average.")
      .def_property_readonly(
          "per_class",
          [](py::object self) {
            const auto& r = self.cast<const map_result&>();
            return read_only_array(r.per_class.data(), r.per_class.size(), self);
          },
          "float64 array [C]: the AP of each class; NaN for a class without positives.")
      .def_property_readonly(
          "positives",
          [](py::object self) {
            const auto& r = self.cast<const map_result&>();
            return read_only_array(r.positives.data(), r.positives.size(), self);
          },
          "int64 array [C]: positives of each class, after ignoring.")
      .def_property_readonly(
          "empty",
          [](const map_result& r) {
            py::array_t<bool> flags(static_cast<py::ssize_t>(r.positives.size()));
            auto out = flags.mutable_unchecked<1>();
            for (std::size_t c = 0; c < r.positives.size(); ++c)
              out(static_cast<py::ssize_t>(c)) = r.empty(c);
            flags.attr("flags").attr("writeable") = false;
            return flags;
          },
          "bool array [C]: True for a class without positives (its AP is NaN).")
      .def_property_readonly("empty_classes", &map_result::empty_classes,
                             "Number of classes without positives.")
      .def("__float__", [](const map_result& r) { return r.value; }, "The value.")
      .def(
          "__repr__",
          [](const map_result& r) {
            return "MeanAveragePrecisionResult(value=" + format_double(r.value) +
                   ", per_class=" + format_list(r.per_class, format_double) +
                   ", positives=" +
                   format_list(r.positives, [](std::int64_t p) { return std::to_string(p); }) +
                   ", empty_classes=" + std::to_string(r.empty_classes()) + ")";
          },
          "MeanAveragePrecisionResult(value=..., per_class=[...], positives=[...], "
          "empty_classes=...).");

  m.def(
      "average_precision",
      [](const py::object& scores, const py::object& labels, std::string_view method,
         std::string_view encoding, double epsilon) {
        const auto method_policy = mlr::parse_policy<mlr::ap_method>(method);
        const auto encoding_policy = mlr::parse_policy<mlr::label_encoding>(encoding);
        const tensor_arg s(scores, "scores", 1, accepts::real);
        const tensor_arg l(labels, "labels", 1, accepts::label);
        py::gil_scoped_release nogil;  // destroyed first: s and l release their memory with the GIL
        return with_views<1, ap_result>(s, l, [&](auto sv, auto lv) {
          return mlr::average_precision(sv, lv, method_policy, encoding_policy, epsilon);
        });
      },
      py::arg("scores"), py::arg("labels"),
      py::arg("method") = default_name(default_options.method),
      py::arg("encoding") = default_name(default_options.encoding),
      py::arg("epsilon") = default_options.epsilon, average_precision_doc);

  m.def(
      "mean_average_precision",
      [](const py::object& scores, const py::object& labels, std::string_view method,
         std::string_view average, std::string_view empty_class, std::string_view encoding,
         double epsilon, const py::object& classes, unsigned threads) {
        const mlr::ap_options options{
            .method = mlr::parse_policy<mlr::ap_method>(method),
            .average = mlr::parse_policy<mlr::average>(average),
            .empty_class = mlr::parse_policy<mlr::empty_class>(empty_class),
            .encoding = mlr::parse_policy<mlr::label_encoding>(encoding),
            .epsilon = epsilon};
        const mlr::execution_env env{threads};
        const std::vector<mlr::index_t> scope = class_list(classes);
        const tensor_arg s(scores, "scores", 2, accepts::real);
        const tensor_arg l(labels, "labels", 2, accepts::label);
        py::gil_scoped_release nogil;  // destroyed first: s and l release their memory with the GIL
        return with_views<2, map_result>(s, l, [&](auto sv, auto lv) {
          return mlr::mean_average_precision(sv, lv, options, scope, env);
        });
      },
      py::arg("scores"), py::arg("labels"),
      py::arg("method") = default_name(default_options.method),
      py::arg("average") = default_name(default_options.average),
      py::arg("empty_class") = default_name(default_options.empty_class),
      py::arg("encoding") = default_name(default_options.encoding),
      py::arg("epsilon") = default_options.epsilon, py::arg("classes") = py::none(),
      py::arg("threads") = mlr::execution_env{}.threads, mean_average_precision_doc);
  bind_threshold(m);
  bind_ranking(m);
  bind_accumulator(m);
  bind_presets(m);
  bind_scoring(m);
  bind_loss(m);
  bind_refine(m);
}

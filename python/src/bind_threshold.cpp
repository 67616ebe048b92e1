// mlr.threshold_metrics: mlr::threshold_metrics with the same argument names and defaults.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/threshold.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

constexpr mlr::threshold_options default_threshold_options{};

constexpr const char* threshold_doc = R"doc(
Threshold metrics: per-class precision / recall / F1, CP, CR, cf1_harmonic, cf1_mean, and the
pooled OP, or_, OF1 (METHOD.md 4.7).

Parameters
----------
scores : array [N, C] of float32 or float64
    Finite scores (mlr applies no sigmoid: pass probabilities, or logits with threshold 0).
labels : array [N, C]
    Labels in ``encoding``; ignored entries take no part in any count.
threshold : float
    The absolute threshold (``kind='absolute'``); must be finite.
kind : str
    ``'absolute'`` or ``'relative'`` (TagCLIP: per image min + mu (max - min) over the classes in
    scope).
mu : float
    The relative threshold's fraction, in [0, 1].
comparison : str
    ``'greater'`` (score > t, ASL/DualCoOp/TagCLIP) or ``'greater_equal'`` (>=, ML-GCN).
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'``.
empty_class : str
    How a class without positives enters ``cr`` and ``cf1_mean``: ``'zero'`` or ``'exclude'``.
zero_division : str
    ``'standard'`` (P = 0 with nothing predicted, R = NaN without positives, F1 = 0 when
    P + R = 0), ``'sdl'``, ``'biam'`` (0/0 = NaN) or ``'asl'`` (per class P, R, F1 = 0 when tp = 0).
count : str
    ``'exact'`` or ``'mlgcn'`` (a class without predictions counts one prediction in P and OP).
classes : sequence of int or None
    The classes in scope (distinct column indices); None: every column. Per-class arrays follow
    this order.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
ThresholdResult

Raises
------
ValueError
    On invalid input, with a message naming the argument, what was expected and what was found.
)doc";

}  // namespace
}  // namespace mlr_python

void bind_threshold(pybind11::module_& m) {
  using namespace mlr_python;
  using result = mlr::threshold_result;
  py::class_<result> cls(m, "ThresholdResult", "Threshold metrics (mirrors mlr::threshold_result).");
  cls.def_readonly("cp", &result::cp, "Mean over classes of precision.")
      .def_readonly("cr", &result::cr, "Mean over classes of recall (empty classes by empty_class).")
      .def_readonly("cf1_harmonic", &result::cf1_harmonic, "2 cp cr / (cp + cr) (ML-GCN, TagCLIP 'category').")
      .def_readonly("cf1_mean", &result::cf1_mean, "Mean of per-class F1 (ASL/DualCoOp F_C).")
      .def_readonly("op", &result::op, "Pooled precision.")
      .def_readonly("or_", &result::or_, "Pooled recall.")
      .def_readonly("of1", &result::of1, "Pooled F1.")
      .def_readonly("total_true_positives", &result::total_true_positives)
      .def_readonly("total_predicted", &result::total_predicted)
      .def_readonly("total_positives", &result::total_positives)
      .def_property_readonly("empty_classes", &result::empty_classes, "Number of classes without positives.");
  auto add_array = [&](const char* name, auto member, const char* doc) {
    cls.def_property_readonly(
        name, [member](py::object self) { const auto& v = self.cast<const result&>().*member;
          return read_only_array(v.data(), v.size(), self); }, doc);
  };
  add_array("precision", &result::precision, "float64 array [K]: precision of each class in scope.");
  add_array("recall", &result::recall, "float64 array [K]: recall of each class in scope.");
  add_array("f1", &result::f1, "float64 array [K]: F1 of each class in scope.");
  add_array("true_positives", &result::true_positives, "int64 array [K].");
  add_array("predicted", &result::predicted, "int64 array [K]: exact predicted counts.");
  add_array("positives", &result::positives, "int64 array [K]: positives after ignoring.");
  cls.def("__repr__", [](const result& r) {
    return "ThresholdResult(cp=" + format_double(r.cp) + ", cr=" + format_double(r.cr) +
           ", cf1_harmonic=" + format_double(r.cf1_harmonic) + ", cf1_mean=" + format_double(r.cf1_mean) +
           ", op=" + format_double(r.op) + ", or_=" + format_double(r.or_) + ", of1=" + format_double(r.of1) +
           ", classes=" + std::to_string(r.positives.size()) + ")";
  });

  const auto& d = default_threshold_options;
  m.def(
      "threshold_metrics",
      [](const py::object& scores, const py::object& labels, double threshold, std::string_view kind, double mu,
         std::string_view comparison, std::string_view encoding, std::string_view empty_class,
         std::string_view zero_division, std::string_view count, const py::object& classes, unsigned threads) {
        const mlr::threshold_options options{
            .threshold = threshold,
            .kind = mlr::parse_policy<mlr::threshold_kind>(kind),
            .mu = mu,
            .comparison = mlr::parse_policy<mlr::comparison>(comparison),
            .encoding = mlr::parse_policy<mlr::label_encoding>(encoding),
            .empty_class = mlr::parse_policy<mlr::empty_class>(empty_class),
            .zero_division = mlr::parse_policy<mlr::zero_division>(zero_division),
            .count = mlr::parse_policy<mlr::predicted_count>(count)};
        const std::vector<mlr::index_t> subset = class_list(classes);
        const mlr::execution_env env{threads};
        const tensor_arg s(scores, "scores", 2, accepts::real);
        const tensor_arg l(labels, "labels", 2, accepts::label);
        py::gil_scoped_release nogil;  // destroyed first: s and l release their memory with the GIL
        return with_views<2, result>(s, l, [&](auto sv, auto lv) {
          return mlr::threshold_metrics(sv, lv, options, std::span<const mlr::index_t>(subset), env);
        });
      },
      py::arg("scores"), py::arg("labels"), py::arg("threshold") = d.threshold, py::arg("kind") = default_name(d.kind),
      py::arg("mu") = d.mu, py::arg("comparison") = default_name(d.comparison), py::arg("encoding") = default_name(d.encoding),
      py::arg("empty_class") = default_name(d.empty_class), py::arg("zero_division") = default_name(d.zero_division),
      py::arg("count") = default_name(d.count), py::arg("classes") = py::none(),
      py::arg("threads") = mlr::execution_env{}.threads, threshold_doc);
}

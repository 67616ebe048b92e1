// Python bindings of the ranking metrics: mlr.top_k and mlr.label_ranking_average_precision,
// with the C++ names, arguments and defaults. Policy names go through mlr::parse_policy; every
// mlr::error becomes a ValueError (translator registered in module.cpp).
#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/metrics/lrap.hpp"
#include "mlr/metrics/top_k.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace {

using namespace mlr_python;

constexpr mlr::top_k_options default_options{};

constexpr const char* top_k_doc = R"doc(
Top-k precision, recall and F1, micro-pooled over the images.

Each image predicts its top min(k, candidates) classes, the candidates being the classes in
scope minus the image's ignored entries (unless ``ignored='false_positive'``, MKT/BiAM, where an
ignored entry can take a slot and counts as a false positive). Ties at rank k: higher score
first, then lower class index. P = true_positives / predicted, R = true_positives / positives,
F1 = 2PR / (P + R).

Parameters
----------
scores : array [N, C] of float32 or float64
labels : array [N, C] in ``encoding``
k : int
    Classes predicted per image, >= 1; clamped per image to its candidates.
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'`` (+1/-1/0 ignored).
ignored : str
    ``'removed'`` (default) or ``'false_positive'``.
zero_division : str
    ``'standard'`` (P = 0 with nothing predicted, R = NaN with no positives, F1 = 0 when
    P + R = 0, NaN if R is NaN), ``'sdl'`` / ``'dualcoop'`` (F1 := 0 when P or R is 0 or F1 is
    NaN), ``'biam'`` / ``'mkt'`` (0/0 = NaN), ``'asl'`` (everything 0 when no true positive).
classes : None or sequence of int
    The columns evaluated (distinct, in range); None: every column. Nothing is copied.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
TopKResult
    ``precision``, ``recall``, ``f1``, ``true_positives``, ``predicted`` (slots), ``positives``.
)doc";

constexpr const char* lrap_doc = R"doc(
Label ranking average precision (scikit-learn's ``label_ranking_average_precision_score``).

Ties are counted pessimistically; an image with no relevant candidate, or only relevant ones,
scores 1; the result is the mean over images. Ignored entries are removed from their image's
candidates.

Parameters
----------
scores : array [N, C] of float32 or float64
labels : array [N, C] in ``encoding``
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'`` (+1/-1/0 ignored).
classes : None or sequence of int
    The columns evaluated (distinct, in range); None: every column.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.
)doc";

}  // namespace

void bind_ranking(py::module_& m) {
  using result = mlr::top_k_result;
  py::class_<result>(m, "TopKResult", "Top-k precision, recall and F1 (mirrors mlr::top_k_result).")
      .def_readonly("precision", &result::precision, "true_positives / predicted.")
      .def_readonly("recall", &result::recall, "true_positives / positives.")
      .def_readonly("f1", &result::f1, "2 P R / (P + R).")
      .def_readonly("true_positives", &result::true_positives, "Positives among the predicted slots.")
      .def_readonly("predicted", &result::predicted, "Slots: sum over images of min(k, candidates).")
      .def_readonly("positives", &result::positives, "Positives in scope, after ignoring.")
      .def("__repr__", [](const result& r) {
        return "TopKResult(precision=" + format_double(r.precision) + ", recall=" + format_double(r.recall) +
               ", f1=" + format_double(r.f1) + ", true_positives=" + std::to_string(r.true_positives) +
               ", predicted=" + std::to_string(r.predicted) + ", positives=" + std::to_string(r.positives) + ")";
      });

  m.def(
      "top_k",
      [](const py::object& scores, const py::object& labels, std::int64_t k, std::string_view encoding,
         std::string_view ignored, std::string_view zero_division, const py::object& classes, unsigned threads) {
        const mlr::top_k_options options{.encoding = mlr::parse_policy<mlr::label_encoding>(encoding),
                                         .ignored = mlr::parse_policy<mlr::topk_ignored>(ignored),
                                         .zero_division = mlr::parse_policy<mlr::zero_division>(zero_division)};
        const std::vector<mlr::index_t> scope = class_list(classes);
        const mlr::execution_env env{threads};
        const tensor_arg s(scores, "scores", 2, accepts::real);
        const tensor_arg l(labels, "labels", 2, accepts::label);
        py::gil_scoped_release nogil;  // destroyed first: s and l release their memory with the GIL
        return with_views<2, result>(s, l, [&](auto sv, auto lv) {
          return mlr::top_k(sv, lv, k, options, std::span<const mlr::index_t>(scope), env);
        });
      },
      py::arg("scores"), py::arg("labels"), py::arg("k"), py::arg("encoding") = default_name(default_options.encoding),
      py::arg("ignored") = default_name(default_options.ignored),
      py::arg("zero_division") = default_name(default_options.zero_division), py::arg("classes") = py::none(),
      py::arg("threads") = mlr::execution_env{}.threads, top_k_doc);

  m.def(
      "label_ranking_average_precision",
      [](const py::object& scores, const py::object& labels, std::string_view encoding, const py::object& classes,
         unsigned threads) {
        const auto encoding_policy = mlr::parse_policy<mlr::label_encoding>(encoding);
        const std::vector<mlr::index_t> scope = class_list(classes);
        const mlr::execution_env env{threads};
        const tensor_arg s(scores, "scores", 2, accepts::real);
        const tensor_arg l(labels, "labels", 2, accepts::label);
        py::gil_scoped_release nogil;
        return with_views<2, double>(s, l, [&](auto sv, auto lv) {
          return mlr::label_ranking_average_precision(sv, lv, encoding_policy, std::span<const mlr::index_t>(scope),
                                                      env);
        });
      },
      py::arg("scores"), py::arg("labels"), py::arg("encoding") = default_name(default_options.encoding),
      py::arg("classes") = py::none(), py::arg("threads") = mlr::execution_env{}.threads, lrap_doc);
}

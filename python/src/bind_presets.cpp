// mlr.protocol_of(name) and mlr.presets: the C++ preset table, each option group as a dict of
// keyword arguments of the matching function (mlr.mean_average_precision(s, y, **p.ap)).
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "mlr/core/policies.hpp"
#include "mlr/metrics/presets.hpp"
#include "bindings.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

std::string name_of(auto policy) { return std::string(mlr::to_string(policy)); }

py::dict ap_kwargs(const mlr::ap_options& o) {
  py::dict d;
  d["method"] = name_of(o.method);
  d["average"] = name_of(o.average);
  d["empty_class"] = name_of(o.empty_class);
  d["encoding"] = name_of(o.encoding);
  d["epsilon"] = o.epsilon;
  return d;
}

py::dict threshold_kwargs(const mlr::threshold_options& o) {
  py::dict d;
  d["threshold"] = o.threshold;
  d["kind"] = name_of(o.kind);
  d["mu"] = o.mu;
  d["comparison"] = name_of(o.comparison);
  d["encoding"] = name_of(o.encoding);
  d["empty_class"] = name_of(o.empty_class);
  d["zero_division"] = name_of(o.zero_division);
  d["count"] = name_of(o.count);
  return d;
}

py::dict top_k_kwargs(const mlr::top_k_options& o) {
  py::dict d;
  d["encoding"] = name_of(o.encoding);
  d["ignored"] = name_of(o.ignored);
  d["zero_division"] = name_of(o.zero_division);
  return d;
}

}  // namespace
}  // namespace mlr_python

void bind_presets(pybind11::module_& m) {
  using namespace mlr_python;
  using mlr::protocol;
  py::class_<protocol>(m, "Protocol",
                       "One source's evaluation protocol (mirrors mlr::protocol): which metrics it reports and "
                       "with which options, each group a dict of keyword arguments.")
      .def_property_readonly("name", [](const protocol& p) { return std::string(p.name); })
      .def_property_readonly("ap", [](const protocol& p) { return ap_kwargs(p.ap); },
                             "Keyword arguments of mean_average_precision.")
      .def_property_readonly(
          "threshold",
          [](const protocol& p) -> py::object {
            if (!p.threshold) return py::none();
            return threshold_kwargs(*p.threshold);
          },
          "Keyword arguments of threshold_metrics, or None when the source reports none.")
      .def_property_readonly(
          "top_k",
          [](const protocol& p) {
            py::list ks;
            for (auto k : p.top_k)
              if (k > 0) ks.append(k);
            return ks;
          },
          "The k values of top_k the source reports (possibly none).")
      .def_property_readonly("top_k_options", [](const protocol& p) { return top_k_kwargs(p.top_k_opts); },
                             "Keyword arguments of top_k (besides k).")
      .def_readonly("lrap", &protocol::lrap, "Whether the source reports label_ranking_average_precision.")
      .def_property_readonly("source", [](const protocol& p) { return std::string(p.source); })
      .def("__repr__", [](const protocol& p) { return "Protocol('" + std::string(p.name) + "')"; });

  py::list names;
  for (const auto& [value, name] : mlr::enum_names<mlr::preset>::table) names.append(std::string(name));
  m.attr("presets") = py::tuple(names);
  m.def(
      "protocol_of",
      [](std::string_view name) -> const protocol& { return mlr::protocol_of(mlr::parse_policy<mlr::preset>(name)); },
      py::arg("preset"), py::return_value_policy::reference,
      "The protocol of a preset ('sklearn', 'torchmetrics', 'voc07_devkit', 'dualcoop', 'mkt', 'tagclip', "
      "'mlgcn'); a preset only chooses options, the numbers come from the ordinary functions.");
}

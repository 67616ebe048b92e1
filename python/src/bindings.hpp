#pragma once
// What every binding file shares: the dtype dispatch of (scores, labels), the class-subset
// argument, read-only numpy views of a result's vectors, and the repr of a double.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/policies.hpp"
#include "tensor_arg.hpp"

namespace mlr_python {

namespace py = pybind11;

// The Python default of a policy argument: the C++ default's name.
inline std::string default_name(auto policy) { return std::string(mlr::to_string(policy)); }

// f(scores view, labels view), both typed after the arguments' runtime dtypes: the one code path
// for every scores dtype x labels dtype pair.
template <std::size_t Rank, class R, class F>
R with_views(const tensor_arg& scores, const tensor_arg& labels, F&& f) {
  return mlr::visit_dtype(scores.dtype(), [&](auto score_type) -> R {
    using T = typename decltype(score_type)::type;
    if constexpr (!std::is_floating_point_v<T>) {  // tensor_arg accepts only float32/float64 scores
      throw mlr::error("scores: expected dtype float32 or float64, found " + std::string(mlr::to_string(scores.dtype())));
    } else {
      return mlr::visit_dtype(labels.dtype(), [&](auto label_type) -> R {
        using L = typename decltype(label_type)::type;
        return f(scores.view<T, Rank>(), labels.view<L, Rank>());
      });
    }
  });
}

// `classes`: None (every class, the C++ empty span) or a non-empty 1-D sequence of integer
// indices, range and distinctness checked by the C++ function.
inline std::vector<mlr::index_t> class_list(const py::object& classes) {
  if (classes.is_none()) return {};
  py::array given;
  try {
    given = py::module_::import("numpy").attr("asarray")(classes);
  } catch (const py::error_already_set&) {
    throw mlr::error("classes: expected None or a 1-D sequence of integer class indices, found " +
                     std::string(py::str(py::type::of(classes).attr("__name__"))));
  }
  if (given.ndim() == 1 && given.size() == 0)
    throw mlr::error("classes: expected at least one class index (None means every class), found an empty sequence");
  const char kind = given.dtype().kind();
  if (given.ndim() != 1 || (kind != 'i' && kind != 'u'))
    throw mlr::error("classes: expected None or a 1-D sequence of integer class indices, found " +
                     std::string(py::str(py::repr(classes))));
  const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> indices(given);
  return {indices.data(), indices.data() + indices.size()};
}

// A read-only 1-D numpy view of a result's vector; `owner` keeps the memory alive.
template <class T>
py::array_t<T> read_only_array(const T* data, std::size_t size, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(size)}, {static_cast<py::ssize_t>(sizeof(T))}, data, owner);
  a.attr("flags").attr("writeable") = false;
  return a;
}

inline std::string format_double(double x) { return py::repr(py::float_(x)); }

// Every argument after the first must have the first one's dtype (float inputs of one call).
inline void check_same_dtype(const tensor_arg& first, const char* first_name, const tensor_arg& other,
                             const char* name) {
  if (other.dtype() != first.dtype())
    throw mlr::error(std::string(name) + ": expected dtype " + std::string(mlr::to_string(first.dtype())) +
                     " (that of " + first_name + "), found " + std::string(mlr::to_string(other.dtype())));
}

// f(type_identity<T>) for the floating dtype of `first`.
template <class F>
decltype(auto) with_real_type(const tensor_arg& first, F&& f) {
  if (first.dtype() == mlr::dtype::float32) return f(std::type_identity<float>{});
  return f(std::type_identity<double>{});
}

}  // namespace mlr_python

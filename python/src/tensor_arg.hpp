#pragma once
// One array argument of a Python call (a numpy array, an object with __dlpack__, or anything
// numpy.asarray accepts), checked for rank and dtype and seen as a typed mlr::strided_view.
//
// numpy arrays are viewed in place whatever their strides (transposed, sliced, negative) as long
// as every stride is a multiple of the item size and the data is aligned; otherwise, and for
// non-native byte order, numpy makes a contiguous copy. __dlpack__ objects (torch tensors, ...)
// are always viewed in place through mlr/adapt/dlpack.hpp, which refuses device memory.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

#ifndef MLR_PYTHON_WITH_DLPACK
#define MLR_PYTHON_WITH_DLPACK 0
#endif
#if MLR_PYTHON_WITH_DLPACK
#include "dlpack_capsule.hpp"
#endif

namespace mlr_python {

namespace py = pybind11;

// Which element types an argument accepts.
enum class accepts { real, label };

inline constexpr bool accepted(mlr::dtype t, accepts what) noexcept {
  return what == accepts::label || t == mlr::dtype::float32 || t == mlr::dtype::float64;
}

inline std::string accepted_names(accepts what) {
  return what == accepts::real ? "float32 or float64"
                               : "int8, int32, int64, uint8, bool, float32 or float64";
}

template <class Int>
std::string format_shape(const Int* shape, std::size_t ndim) {
  std::string s = "(";
  for (std::size_t r = 0; r < ndim; ++r) {
    if (r) s += ", ";
    s += std::to_string(shape[r]);
  }
  return s + (ndim == 1 ? ",)" : ")");
}

class tensor_arg {
 public:
  static constexpr std::size_t max_rank = 3;

  // `name` starts every error message; `rank` is the rank required.
  tensor_arg(py::handle obj, std::string_view name, std::size_t rank, accepts what)
      : name_(name), rank_(rank) {
    if (py::isinstance<py::array>(obj)) {
      from_numpy(py::reinterpret_borrow<py::array>(obj), what);
#if MLR_PYTHON_WITH_DLPACK
    } else if (py::hasattr(obj, "__dlpack__")) {
      from_dlpack(obj, what);
#endif
    } else {
      from_numpy(py::module_::import("numpy").attr("asarray")(obj), what);
    }
  }

  mlr::dtype dtype() const noexcept { return dtype_; }

  // Precondition: T is the static type of dtype() and Rank is the rank given at construction.
  template <class T, std::size_t Rank>
  mlr::strided_view<const T, Rank> view() const {
#if MLR_PYTHON_WITH_DLPACK
    if (from_dlpack_)
      return dlpack_.visit([&](const auto& managed) {
        return mlr::dlpack_view<const T, Rank, mlr::host_space>(managed, name_);
      });
#endif
    mlr::index_t extents[Rank], strides[Rank];
    for (std::size_t r = 0; r < Rank; ++r) {
      extents[r] = extents_[r];
      strides[r] = strides_[r];
    }
    return mlr::make_view(static_cast<const T*>(data_), extents, strides);
  }

 private:
  [[noreturn]] void rank_error(const std::string& shape, std::size_t found) const {
    throw mlr::error(name_ + ": expected a " + std::to_string(rank_) + "-D array " +
                     (rank_ == 1 ? "(N)" : "(N x C)") + ", found a " + std::to_string(found) +
                     "-D array of shape " + shape);
  }
  [[noreturn]] void dtype_error(accepts what, const std::string& found) const {
    throw mlr::error(name_ + ": expected dtype " + accepted_names(what) + ", found " + found);
  }

  static bool numpy_dtype(const py::dtype& d, mlr::dtype& out) noexcept {
    const auto size = d.itemsize();
    switch (d.kind()) {
      case 'f':
        if (size == 4) return out = mlr::dtype::float32, true;
        if (size == 8) return out = mlr::dtype::float64, true;
        return false;
      case 'i':
        if (size == 1) return out = mlr::dtype::int8, true;
        if (size == 4) return out = mlr::dtype::int32, true;
        if (size == 8) return out = mlr::dtype::int64, true;
        return false;
      case 'u':
        if (size == 1) return out = mlr::dtype::uint8, true;
        return false;
      case 'b':
        if (size == 1) return out = mlr::dtype::boolean, true;
        return false;
      default: return false;
    }
  }

  void from_numpy(py::array array, accepts what) {
    const auto ndim = static_cast<std::size_t>(array.ndim());
    if (ndim != rank_) rank_error(format_shape(array.shape(), ndim), ndim);
    py::dtype d = array.dtype();
    if (!numpy_dtype(d, dtype_) || !accepted(dtype_, what)) dtype_error(what, py::str(d));
    if (!d.attr("isnative").cast<bool>())  // e.g. '>f8': copy into native byte order
      array = array.attr("astype")(d.attr("newbyteorder")("="));

    const auto item = static_cast<mlr::index_t>(array.itemsize());
    const auto alignment =
        mlr::visit_dtype(dtype_, [](auto type) { return alignof(typename decltype(type)::type); });
    bool in_place = reinterpret_cast<std::uintptr_t>(array.data()) % alignment == 0;
    for (std::size_t r = 0; r < ndim; ++r)
      in_place = in_place && (array.shape(r) <= 1 || array.strides(r) % item == 0);
    if (!in_place) array = py::module_::import("numpy").attr("ascontiguousarray")(array);

    for (std::size_t r = 0; r < ndim; ++r) {
      extents_[r] = array.shape(r);
      // A stride is never used on a dimension of extent <= 1, and may be anything there.
      strides_[r] = array.strides(r) % item == 0 ? array.strides(r) / item : 0;
    }
    data_ = array.data();
    array_ = std::move(array);
  }

#if MLR_PYTHON_WITH_DLPACK
  void from_dlpack(py::handle obj, accepts what) {
    dlpack_ = dlpack_tensor::consume(obj, name_);
    from_dlpack_ = true;
    const DLTensor& t = dlpack_.tensor();
    const auto ndim = static_cast<std::size_t>(t.ndim < 0 ? 0 : t.ndim);
    if (ndim != rank_)
      rank_error(t.shape != nullptr ? format_shape(t.shape, ndim) : std::string("NULL"), ndim);
    dtype_ = mlr::dlpack_dtype(t, name_);
    if (!accepted(dtype_, what)) dtype_error(what, std::string(mlr::to_string(dtype_)));
  }

  dlpack_tensor dlpack_;  // owns the producer's tensor until this argument is destroyed
  bool from_dlpack_ = false;
#endif

  std::string name_;
  std::size_t rank_;
  mlr::dtype dtype_ = mlr::dtype::float64;
  py::array array_;  // keeps the numpy memory alive
  const void* data_ = nullptr;
  std::array<mlr::index_t, max_rank> extents_{}, strides_{};
};

}  // namespace mlr_python

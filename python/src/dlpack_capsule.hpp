#pragma once
// Consuming `obj.__dlpack__()` under the DLPack Python protocol
// (https://dmlc.github.io/dlpack/latest/python_spec.html):
//
//   1. ask for a versioned capsule with `__dlpack__(max_version=(1, 0))`; a producer that does
//      not know the keyword raises TypeError and is asked again with `__dlpack__()`;
//   2. the capsule is named "dltensor_versioned" (DLManagedTensorVersioned, major version 1) or
//      "dltensor" (DLManagedTensor); any other name (e.g. "used_dltensor") is refused;
//   3. to take ownership, the capsule is renamed "used_dltensor_versioned" / "used_dltensor":
//      from then on the producer's capsule destructor leaves the tensor alone, and the
//      dlpack_tensor below calls the tensor's deleter exactly once, when it is destroyed.
//
// The deleter of some producers (numpy's) releases Python references, so a dlpack_tensor must
// be destroyed with the GIL held; the destructor acquires it (a no-op when already held). Keep
// the dlpack_tensor alive for as long as any view of its memory is in use.
#include <pybind11/pybind11.h>

#include <dlpack/dlpack.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "mlr/adapt/dlpack.hpp"
#include "mlr/core/error.hpp"

namespace mlr_python {

namespace py = pybind11;

#if defined(DLPACK_MAJOR_VERSION) && DLPACK_MAJOR_VERSION >= 1
using dlpack_versioned_tensor = ::DLManagedTensorVersioned;
#else
// dlpack.h before 1.0 lacks the versioned struct; this is its layout as fixed by the DLPack 1.0
// ABI (mlr/adapt/dlpack.hpp matches versioned tensors by shape, so it accepts this one).
struct dlpack_versioned_tensor {
  struct {
    std::uint32_t major;
    std::uint32_t minor;
  } version;
  void* manager_ctx;
  void (*deleter)(dlpack_versioned_tensor* self);
  std::uint64_t flags;
  DLTensor dl_tensor;
};
#endif
static_assert(mlr::dlpack_versioned_tensor<dlpack_versioned_tensor>);

// Owns one managed tensor taken from a capsule; calls its deleter once, on destruction.
class dlpack_tensor {
 public:
  dlpack_tensor() noexcept = default;
  dlpack_tensor(const dlpack_tensor&) = delete;
  dlpack_tensor& operator=(const dlpack_tensor&) = delete;
  dlpack_tensor(dlpack_tensor&& other) noexcept
      : legacy_(std::exchange(other.legacy_, nullptr)),
        versioned_(std::exchange(other.versioned_, nullptr)) {}
  dlpack_tensor& operator=(dlpack_tensor&& other) noexcept {
    if (this != &other) {
      release();
      legacy_ = std::exchange(other.legacy_, nullptr);
      versioned_ = std::exchange(other.versioned_, nullptr);
    }
    return *this;
  }
  ~dlpack_tensor() { release(); }

  // Calls obj.__dlpack__() and takes ownership of the tensor in the returned capsule. `name` (the
  // argument's name) starts the message of any error.
  static dlpack_tensor consume(py::handle obj, std::string_view name) {
    py::object capsule;
    try {
      capsule = obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(1, 0));
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_TypeError)) throw;  // a producer before DLPack 1.0: no max_version
      capsule = obj.attr("__dlpack__")();
    }
    if (!PyCapsule_CheckExact(capsule.ptr()))
      throw mlr::error(std::string(name) + ": expected __dlpack__() to return a PyCapsule, found " +
                       std::string(py::str(py::type::handle_of(capsule).attr("__name__"))));
    const char* capsule_name = PyCapsule_GetName(capsule.ptr());
    if (capsule_name == nullptr) {
      if (PyErr_Occurred() != nullptr) throw py::error_already_set();
      capsule_name = "";  // an unnamed capsule
    }

    dlpack_tensor owner;
    if (std::strcmp(capsule_name, "dltensor_versioned") == 0) {
      auto* tensor = static_cast<dlpack_versioned_tensor*>(
          PyCapsule_GetPointer(capsule.ptr(), "dltensor_versioned"));
      if (tensor == nullptr) throw py::error_already_set();
      // An unsupported major version is refused before consuming: the capsule still owns it.
      if (tensor->version.major != 1)
        throw mlr::error(std::string(name) +
                         ": expected a DLPack tensor of major version 1, found " +
                         std::to_string(tensor->version.major) + "." +
                         std::to_string(tensor->version.minor));
      if (PyCapsule_SetName(capsule.ptr(), "used_dltensor_versioned") != 0)
        throw py::error_already_set();
      owner.versioned_ = tensor;
    } else if (std::strcmp(capsule_name, "dltensor") == 0) {
      auto* tensor = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
      if (tensor == nullptr) throw py::error_already_set();
      if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
      owner.legacy_ = tensor;
    } else {
      throw mlr::error(std::string(name) +
                       ": expected a DLPack capsule named 'dltensor' or 'dltensor_versioned', "
                       "found '" + std::string(capsule_name) +
                       "' (a capsule can be consumed once)");
    }
    return owner;
  }

  const DLTensor& tensor() const noexcept {
    return versioned_ != nullptr ? versioned_->dl_tensor : legacy_->dl_tensor;
  }

  // f(managed) with the managed tensor as it came: DLManagedTensor or the versioned struct (so
  // that the adapter also checks the version and read-only flag of the latter).
  template <class F>
  decltype(auto) visit(F&& f) const {
    if (versioned_ != nullptr) return std::forward<F>(f)(std::as_const(*versioned_));
    return std::forward<F>(f)(std::as_const(*legacy_));
  }

 private:
  void release() noexcept {
    if (legacy_ == nullptr && versioned_ == nullptr) return;
    py::gil_scoped_acquire gil;
    if (legacy_ != nullptr && legacy_->deleter != nullptr) legacy_->deleter(legacy_);
    if (versioned_ != nullptr && versioned_->deleter != nullptr) versioned_->deleter(versioned_);
    legacy_ = nullptr;
    versioned_ = nullptr;
  }

  DLManagedTensor* legacy_ = nullptr;
  dlpack_versioned_tensor* versioned_ = nullptr;
};

}  // namespace mlr_python

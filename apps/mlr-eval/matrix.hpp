#pragma once
// host_matrix: what every reader returns — an N x C array whose element type is known only at
// run time, held in an aligned buffer or in the mapped pages of a .npy file, row-major or (a
// Fortran-ordered .npy) column-major — and the one generic path from it to a typed
// mlr::strided_view (mlr::visit_dtype + mlr::make_view, no copy either way).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>

#include "mapped_file.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/view.hpp"
#include "support.hpp"

namespace mlr_eval {

using mlr::index_t;

// Bytes on a 64-byte boundary (a cache line, and enough for any SIMD load).
class aligned_buffer {
 public:
  static constexpr std::align_val_t alignment{64};

  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t size)
      : data_(static_cast<std::byte*>(::operator new(std::max<std::size_t>(size, 1), alignment))),
        size_(size) {}

  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  struct release {
    void operator()(std::byte* p) const noexcept { ::operator delete(p, alignment); }
  };
  std::unique_ptr<std::byte, release> data_;
  std::size_t size_ = 0;
};

inline std::size_t element_size(mlr::dtype type) {
  return mlr::visit_dtype(type, [](auto id) { return sizeof(typename decltype(id)::type); });
}

struct host_matrix {
  mlr::dtype type = mlr::dtype::float64;
  index_t rows = 0;
  index_t cols = 0;
  aligned_buffer bytes;  // rows * cols elements of `type`, when held in memory;
  mapped_file mapping{};  // or the file pages that hold them (then `bytes` is empty)
  bool column_major = false;  // element (i, j) at i + j * rows, not i * cols + j

  const std::byte* raw() const noexcept { return mapping ? mapping.data() : bytes.data(); }
  std::size_t raw_size() const noexcept { return mapping ? mapping.size() : bytes.size(); }
  template <class T>
  const T* data() const noexcept {
    return reinterpret_cast<const T*>(raw());
  }
  std::string shape() const { return shape_string(rows, cols); }
};

// rows * cols * element_size(type), or nullopt when it does not fit a signed size.
inline std::optional<std::size_t> byte_size(mlr::dtype type, std::uint64_t rows, std::uint64_t cols) {
  const auto elements = checked_mul(rows, cols);
  if (!elements) return std::nullopt;
  const auto bytes = checked_mul(*elements, element_size(type));
  if (!bytes) return std::nullopt;
  return static_cast<std::size_t>(*bytes);
}

// An uninitialised matrix; the caller checked the size with byte_size.
inline host_matrix allocate_matrix(mlr::dtype type, index_t rows, index_t cols) {
  const auto bytes = byte_size(type, static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols));
  if (!bytes) throw failure("a " + shape_string(rows, cols) + " array is too large to hold in memory");
  return {type, rows, cols, aligned_buffer(*bytes)};
}

// A matrix holding a copy of `values` (row-major, rows * cols of them).
template <class T>
host_matrix matrix_from(std::span<const T> values, index_t rows, index_t cols) {
  host_matrix m = allocate_matrix(mlr::dtype_of<T>, rows, cols);
  if (!values.empty()) std::memcpy(m.bytes.data(), values.data(), values.size_bytes());
  return m;
}

// Calls f(view) with view the strided_view<const T, 2> of `m`, T its static element type.
// All branches of f must return the same type.
template <class F>
decltype(auto) visit_view(const host_matrix& m, F&& f) {
  return mlr::visit_dtype(m.type, [&](auto id) -> decltype(auto) {
    using T = typename decltype(id)::type;
    return m.column_major ? f(mlr::make_view(m.data<T>(), {m.rows, m.cols}, mlr::column_major))
                          : f(mlr::make_view(m.data<T>(), {m.rows, m.cols}));
  });
}

}  // namespace mlr_eval

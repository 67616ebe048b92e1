#pragma once
// The patch grid of a TagCLIP image and boxes on it. Patch i of the N = rows * cols patch tokens
// sits at (row i / cols, column i % cols): row-major, as the ViT flattens its patch grid.
#include <string>

#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

struct patch_grid {
  index_t rows = 0;  // H' = image height / patch size
  index_t cols = 0;  // W' = image width / patch size
  constexpr index_t size() const noexcept { return rows * cols; }
  friend constexpr bool operator==(const patch_grid&, const patch_grid&) = default;
};

// A half-open box [y0, y1) x [x0, x1) in patch units (x along columns, y along rows).
struct patch_box {
  index_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  constexpr bool empty() const noexcept { return x1 <= x0 || y1 <= y0; }
  constexpr bool contains(index_t row, index_t col) const noexcept {
    return y0 <= row && row < y1 && x0 <= col && col < x1;
  }
  // The same box in pixels, for an engine that crops the input image.
  constexpr patch_box scaled(index_t patch_size) const noexcept {
    return {x0 * patch_size, y0 * patch_size, x1 * patch_size, y1 * patch_size};
  }
  friend constexpr bool operator==(const patch_box&, const patch_box&) = default;
};

namespace detail {

// The grid must be non-empty and hold exactly the `patches` tokens the caller passed.
inline void check_grid(const patch_grid& grid, index_t patches, const char* what) {
  if (grid.rows <= 0 || grid.cols <= 0)
    throw error("grid: rows and cols must be positive, got " + std::to_string(grid.rows) + " x " +
                std::to_string(grid.cols));
  if (grid.size() != patches)
    throw error(std::string("grid: ") + std::to_string(grid.rows) + " x " + std::to_string(grid.cols) + " = " +
                std::to_string(grid.size()) + " patches, but " + what + " has " + std::to_string(patches));
}

}  // namespace detail
}  // namespace mlr

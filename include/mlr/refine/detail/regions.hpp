#pragma once
// The regions of a binary map on the patch grid and their boxes (METHOD.md 2.5 steps 4-6),
// without OpenCV. findContours(RETR_EXTERNAL) on the zero-padded map gives one outer contour per
// 8-connected region whose surrounding background (4-connected: the dual of 8-connected
// foreground) touches the padding; a region lying in a hole of another region has none. The
// bounding rectangle of an outer contour is the bounding box of its region.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/refine/grid.hpp"

namespace mlr::detail {

// The scratch of one labelling; no allocation once sized for the grid.
struct region_scratch {
  std::vector<std::uint8_t> state;  // per patch: 0 unvisited, 1 in a region, 2 background reached from the border
  std::vector<std::int32_t> stack;  // patch indices to visit (each pushed at most once)

  void size_for(index_t patches) {
    state.resize(static_cast<std::size_t>(patches));
    stack.resize(static_cast<std::size_t>(patches));
  }
};

// At most this many regions: the four patches of a 2 x 2 block are 8-adjacent, so each block of a
// tiling meets one region at most.
constexpr index_t max_regions(const patch_grid& grid) noexcept {
  return ((grid.rows + 1) / 2) * ((grid.cols + 1) / 2);
}

// The box of a region spanning rows [y0, y_last] and columns [x0, x_last]. Reference mode clips
// the exclusive ends to cols - 1 and rows - 1 as the official code does (TC:utils.py), so the last
// patch row and column are never covered.
constexpr patch_box region_box(index_t x0, index_t y0, index_t x_last, index_t y_last, const patch_grid& grid,
                               tagclip_mode mode) noexcept {
  patch_box box{x0, y0, x_last + 1, y_last + 1};
  if (mode == tagclip_mode::reference) {
    box.x1 = std::min(box.x1, grid.cols - 1);
    box.y1 = std::min(box.y1, grid.rows - 1);
  }
  return box;
}

// Writes to `out` (room for max_regions(grid)) the boxes of the regions of the row-major map `b`
// (nonzero = foreground) that are not enclosed in a hole of another region, in the order of each
// region's first patch in raster order; returns how many.
inline index_t external_region_boxes(const std::uint8_t* b, const patch_grid& grid, tagclip_mode mode, patch_box* out,
                                     region_scratch& scratch) {
  const index_t rows = grid.rows, cols = grid.cols, n = grid.size();
  scratch.size_for(n);
  std::uint8_t* state = scratch.state.data();
  std::int32_t* stack = scratch.stack.data();
  std::fill(state, state + n, std::uint8_t{0});
  index_t top = 0;

  // The background reachable from the zero padding, 4-connected.
  auto reach = [&](index_t p) {
    if (b[p] == 0 && state[p] == 0) {
      state[p] = 2;
      stack[top++] = static_cast<std::int32_t>(p);
    }
  };
  for (index_t x = 0; x < cols; ++x) {
    reach(x);
    reach((rows - 1) * cols + x);
  }
  for (index_t y = 0; y < rows; ++y) {
    reach(y * cols);
    reach(y * cols + cols - 1);
  }
  while (top > 0) {
    const index_t p = stack[--top], y = p / cols, x = p % cols;
    if (y > 0) reach(p - cols);
    if (y + 1 < rows) reach(p + cols);
    if (x > 0) reach(p - 1);
    if (x + 1 < cols) reach(p + 1);
  }

  index_t count = 0;
  for (index_t p = 0; p < n; ++p) {
    if (b[p] == 0 || state[p] != 0) continue;
    // The patch above a region's first patch is background (or padding) outside the region's
    // holes, since no patch of the region lies above it: the region is external iff that
    // background is the one reached from the border.
    const index_t y = p / cols, x = p % cols;
    const bool external = y == 0 || state[p - cols] == 2;
    index_t x0 = x, x_last = x, y_last = y;
    state[p] = 1;
    stack[top++] = static_cast<std::int32_t>(p);
    while (top > 0) {
      const index_t q = stack[--top], qy = q / cols, qx = q % cols;
      x0 = std::min(x0, qx);
      x_last = std::max(x_last, qx);
      y_last = std::max(y_last, qy);
      for (index_t ny = std::max<index_t>(qy - 1, 0); ny <= std::min(qy + 1, rows - 1); ++ny)
        for (index_t nx = std::max<index_t>(qx - 1, 0); nx <= std::min(qx + 1, cols - 1); ++nx) {
          const index_t r = ny * cols + nx;
          if (b[r] != 0 && state[r] == 0) {
            state[r] = 1;
            stack[top++] = static_cast<std::int32_t>(r);
          }
        }
    }
    if (external) out[count++] = region_box(x0, y, x_last, y_last, grid, mode);  // y: the first row
  }
  return count;
}

// m = the union of the half-open boxes on the row-major grid (m_k, METHOD.md 2.5 step 6).
inline void paint_boxes(std::span<const patch_box> boxes, const patch_grid& grid, std::uint8_t* m) noexcept {
  std::fill(m, m + grid.size(), std::uint8_t{0});
  for (const patch_box& box : boxes)
    for (index_t y = box.y0; y < box.y1; ++y) std::fill(m + y * grid.cols + box.x0, m + y * grid.cols + box.x1, std::uint8_t{1});
}

}  // namespace mlr::detail

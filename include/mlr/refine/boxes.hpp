#pragma once
// region_boxes: the boxes TagCLIP's scoremap2bbox draws around a binary map on the patch grid
// (METHOD.md 2.5 steps 4-5), computed without OpenCV. One box per 8-connected region that
// OpenCV's findContours(RETR_EXTERNAL) reports: a region lying in a hole of another region is
// dropped (it adds nothing to the class mask: it lies inside that region's box). Boxes are
// half-open, [y0, y1) x [x0, x1) in patches; reference mode clips the ends to cols - 1 and
// rows - 1 as the official code does (the last patch row and column are never covered, and a
// region confined to them gets an empty box, kept in the list), corrected mode does not.
// Order: by each region's first patch in raster order (row, then column). The official order is
// OpenCV's contour order, so compare a class's boxes with the official ones as a set.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/refine/detail/regions.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/scoring/detail/inputs.hpp"

namespace mlr {

// Reusable scratch of region_boxes: nothing is allocated once it has seen the grid size.
class region_workspace {
 public:
  detail::region_scratch regions;
  std::vector<std::uint8_t> map;  // the binary map, contiguous
};

// Boxes of the regions of `binary`, [rows, cols] or [N] row-major on `grid`, uint8 (nonzero =
// foreground), written into `out` (replaced).
template <viewable B>
void region_boxes(const B& binary, const patch_grid& grid, tagclip_mode mode, std::vector<patch_box>& out,
                  region_workspace& workspace) {
  constexpr std::size_t R = detail::rank_of<B>;
  static_assert(std::is_same_v<detail::element_of<B>, std::uint8_t> && (R == 1 || R == 2),
                "mlr::region_boxes takes a uint8 binary map [rows, cols] or [N].");
  const auto b = detail::scoring_input<std::uint8_t, R>(binary, "binary");
  if constexpr (R == 2) {
    detail::check_grid(grid, grid.size(), "binary");  // rows and cols positive
    if (b.extent(0) != grid.rows || b.extent(1) != grid.cols)
      throw error("binary: expected shape " + detail::format_index(std::array<index_t, 2>{grid.rows, grid.cols}) +
                  " (grid " + std::to_string(grid.rows) + " x " + std::to_string(grid.cols) + "), found " +
                  detail::format_index(b.extents()));
  } else {
    detail::check_grid(grid, b.extent(0), "binary");
  }
  const index_t n = grid.size();
  workspace.map.resize(static_cast<std::size_t>(n));
  for (index_t p = 0; p < n; ++p) {
    if constexpr (R == 2) workspace.map[static_cast<std::size_t>(p)] = b(p / grid.cols, p % grid.cols);
    else workspace.map[static_cast<std::size_t>(p)] = b(p);
  }
  out.resize(static_cast<std::size_t>(detail::max_regions(grid)));
  const index_t count = detail::external_region_boxes(workspace.map.data(), grid, mode, out.data(), workspace.regions);
  out.resize(static_cast<std::size_t>(count));
}

template <viewable B>
std::vector<patch_box> region_boxes(const B& binary, const patch_grid& grid,
                                    tagclip_mode mode = tagclip_mode::reference) {
  std::vector<patch_box> out;
  region_workspace workspace;
  region_boxes(binary, grid, mode, out, workspace);
  return out;
}

}  // namespace mlr

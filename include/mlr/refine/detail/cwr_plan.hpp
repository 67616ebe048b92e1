#pragma once
// The pieces of CWR's plan (METHOD.md 2.8 steps 1-5) on the row-major patch grid: the candidate
// threshold over the whole refined matrix, a candidate's responsive region and its one box, and
// the nearest resize of the cropped region to the second pass's token grid.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/refine/grid.hpp"

namespace mlr::detail {

// theta_1 = min + mu1 (max - min) over every entry of p [N, K], background columns included,
// in double.
template <class T>
double cwr_candidate_threshold(const strided_view<const T, 2>& p, double mu1) noexcept {
  double lo = static_cast<double>(p(0, 0)), hi = lo;
  for (index_t i = 0; i < p.extent(0); ++i)
    for (index_t k = 0; k < p.extent(1); ++k) {
      const double x = static_cast<double>(p(i, k));
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  return lo + mu1 * (hi - lo);
}

// r[j] = 1[minmax(p[:, k])[j] > mu2] (strict, in double) and the box around all of its ones:
// ends one past the last row and column, clipped to rows - 1 and cols - 1 in reference mode (as
// the official code does). A constant column (min-max 0/0 = NaN, N = 1 included) and a column
// without responsive patch give no region and the box (0, 0, 0, 0), as the official code.
template <class T>
patch_box cwr_region_box(const strided_view<const T, 2>& p, index_t k, const patch_grid& grid, double mu2,
                         tagclip_mode mode, std::uint8_t* r) noexcept {
  const index_t n = grid.size();
  double lo = static_cast<double>(p(0, k)), hi = lo;
  for (index_t j = 1; j < n; ++j) {
    const double x = static_cast<double>(p(j, k));
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  std::fill(r, r + n, std::uint8_t{0});
  if (!(hi > lo)) return {};
  const double range = hi - lo;
  index_t x0 = grid.cols, y0 = grid.rows, x_last = -1, y_last = -1;
  for (index_t j = 0; j < n; ++j) {
    if (!((static_cast<double>(p(j, k)) - lo) / range > mu2)) continue;
    r[j] = 1;
    const index_t y = j / grid.cols, x = j % grid.cols;
    x0 = std::min(x0, x);
    x_last = std::max(x_last, x);
    y0 = std::min(y0, y);
    y_last = std::max(y_last, y);
  }
  if (x_last < 0) return {};
  patch_box box{x0, y0, x_last + 1, y_last + 1};
  if (mode == tagclip_mode::reference) {
    box.x1 = std::min(box.x1, grid.cols - 1);
    box.y1 = std::min(box.y1, grid.rows - 1);
  }
  return box;
}

// PyTorch's "nearest" source index for destination d of a resize from `in` to `out` entries:
// min(floor(fl(d fl(in / out))), in - 1), the scale and the product rounded to float32 as PyTorch
// forms them (for out = 14 this is floor(d in / out) up to in = 61; at in = 62, d = 7 takes 30).
inline index_t nearest_source(index_t d, index_t in, index_t out) noexcept {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float at = static_cast<float>(d) * scale;
  return std::min(static_cast<index_t>(std::floor(at)), in - 1);
}

// The token mask [g, g] (row-major, 1 = token kept): the crop of r to `box` resized to g x g.
inline void cwr_token_mask(const std::uint8_t* r, const patch_grid& grid, const patch_box& box, index_t g,
                           std::uint8_t* mask) noexcept {
  const index_t h = box.y1 - box.y0, w = box.x1 - box.x0;
  for (index_t dy = 0; dy < g; ++dy) {
    const std::uint8_t* row = r + (box.y0 + nearest_source(dy, h, g)) * grid.cols + box.x0;
    for (index_t dx = 0; dx < g; ++dx) mask[dy * g + dx] = row[nearest_source(dx, w, g)];
  }
}

}  // namespace mlr::detail

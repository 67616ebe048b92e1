#pragma once
// The boundary of the refinement functions: the patch part of the attention maps and the checks
// of score matrices. Scans are serial and allocate nothing (they run once per image in a
// pipeline that must not allocate in steady state); they only build strings when they throw.
#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>

#include "mlr/core/detail/format.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"
#include "mlr/refine/grid.hpp"

namespace mlr::detail {

// The [L, N, N] patch-to-patch maps of attn [L, 1 + N, 1 + N] (class token row and column
// dropped: a strided sub-view, no copy) or [L, N, N], and the offset (1 or 0) of patch 0 in the
// caller's indices.
template <class T>
std::pair<strided_view<const T, 3>, index_t> patch_attention(const strided_view<const T, 3>& attn,
                                                             const patch_grid& grid) {
  check_grid(grid, grid.size(), "attn");  // rows and cols positive
  const index_t N = grid.size(), side = attn.extent(1);
  if (side != attn.extent(2) || (side != N && side != N + 1))
    throw error("attn: expected shape (L, 1 + N, 1 + N) or (L, N, N) with N = " + std::to_string(N) +
                " patches of the " + std::to_string(grid.rows) + " x " + std::to_string(grid.cols) + " grid, found " +
                format_index(attn.extents()));
  const index_t offset = side - N;
  return {strided_view<const T, 3>(attn.data_handle() + offset * (attn.stride(1) + attn.stride(2)),
                                   {attn.extent(0), N, N}, attn.strides()),
          offset};
}

// Throws naming the first (row, column) of `v` that is not finite, or negative when
// `non_negative`.
template <class T>
void check_scores(const strided_view<const T, 2>& v, std::string_view name, bool non_negative) {
  for (index_t i = 0; i < v.extent(0); ++i)
    for (index_t j = 0; j < v.extent(1); ++j) {
      const T x = v(i, j);
      if (std::isfinite(x) && (x >= T(0) || !non_negative)) continue;
      throw error(std::string(name) + ": expected " + (non_negative ? "non-negative " : "") + "finite scores, found " +
                  format_value(x) + " at " + format_index(std::array<index_t, 2>{i, j}));
    }
}

}  // namespace mlr::detail

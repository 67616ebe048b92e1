#pragma once
// TagCLIP's DMAR (METHOD.md 2.1-2.6): from the L head-averaged attention maps and the coarse patch
// scores, the vote mask, the fused masked attention A*, the first refinement P1 = A* P_coarse,
// each class's box mask m_k and the refined scores P2[:, k] = A* (m_k . P_coarse[:, k]).
// Exactness: tau_l, the fused mean and every step of the class maps are evaluated in double; the
// two products run on mlr's GEMM in T (P2 as one product, A* times the masked coarse matrix).
// Results do not depend on the thread count.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/gemm.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/refine/detail/attention.hpp"
#include "mlr/refine/detail/class_map.hpp"
#include "mlr/refine/detail/inputs.hpp"
#include "mlr/refine/detail/regions.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/scoring/detail/inputs.hpp"

namespace mlr {

// psi for VOC and COCO: blocks 8, 9, 10 (0-based). cocostuff fuses blocks 0..10.
inline constexpr std::array<index_t, 3> tagclip_fuse_layers{8, 9, 10};

struct dmar_options {
  index_t vote_min = 4;                                        // M_attn = 1[votes >= vote_min], votes over all L layers
  std::span<const index_t> fuse_layers = tagclip_fuse_layers;  // psi (0..10 for cocostuff)
  tagclip_mode mode = tagclip_mode::reference;
};

template <class T>
struct dmar_result {
  tensor<std::uint8_t, 2> vote_mask;    // [N, N]  M_attn
  tensor<T, 2> masked_attention;        // [N, N]  A* = mean over psi of A_l, times M_attn
  tensor<T, 2> first_refinement;        // [N, K]  P1 = A* P_coarse
  tensor<std::uint8_t, 2> box_masks;    // [K, N]  m_k (row k = class k's mask over patches)
  std::vector<patch_box> boxes;         // every class's region boxes, class after class
  std::vector<index_t> box_offsets;     // [K + 1]: class k's boxes are boxes[box_offsets[k] .. box_offsets[k+1])
  tensor<T, 2> refined;                 // [N, K]  P2[i,k] = sum_j A*[i,j] m_k[j] P_coarse[j,k]
};

namespace detail {

template <class T>
struct dmar_scratch {
  gemm_workspace<T> gemm;
  std::vector<T> masked_coarse;   // Q^T [K, N]: Q[j, k] = m_k[j] P_coarse[j, k]
};

// The scratch that does not depend on T.
struct dmar_buffers {
  std::vector<std::uint8_t> fuse;             // [L]
  vote_scratch votes;                         // per-chunk sums of the attention passes
  std::vector<std::uint8_t> binary;           // [K, N]
  std::array<index_t, 2> binary_extents{};
  std::vector<region_scratch> regions;        // per worker
  std::vector<patch_box> class_boxes;         // [K, max_regions]: each class's boxes before concatenation
  std::vector<index_t> box_counts;            // [K]
};

}  // namespace detail

// Reusable scratch of tagclip_dmar: pass the same object for every image and nothing is allocated
// once the shapes stop growing. One workspace serves float and double calls, one call at a time.
class dmar_workspace {
 public:
  // The binary maps b_k of the last call (METHOD.md 2.5 step 3), [K, N], row k = class k; a
  // constant column's row is zero.
  strided_view<const std::uint8_t, 2> binary_maps() const noexcept {
    return {shared_.binary.data(), shared_.binary_extents};
  }

  template <class T>
  detail::dmar_scratch<T>& get() noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if constexpr (std::is_same_v<T, float>) return f32_;
    else return f64_;
  }
  detail::dmar_buffers& buffers() noexcept { return shared_; }

 private:
  detail::dmar_buffers shared_;
  detail::dmar_scratch<float> f32_;
  detail::dmar_scratch<double> f64_;
};

namespace detail {

// Throws unless vote_min and the fuse layers suit L layers; marks the fuse layers in `fuse`.
inline void check_dmar_options(const dmar_options& options, index_t L, std::vector<std::uint8_t>& fuse) {
  const std::string range = "[0, " + std::to_string(L) + ")";
  if (L > 255) throw error("attn: expected at most 255 layers, found " + std::to_string(L));
  if (options.vote_min < 1 || options.vote_min > L)
    throw error("vote_min: expected a value in [1, " + std::to_string(L) + "] (attn has " + std::to_string(L) +
                " layers), found " + std::to_string(options.vote_min));
  if (options.fuse_layers.empty()) throw error("fuse_layers: expected at least one layer, found none");
  fuse.assign(static_cast<std::size_t>(L), 0);
  for (index_t l : options.fuse_layers) {
    if (l < 0 || l >= L)
      throw error("fuse_layers: expected layers in " + range + " (attn has " + std::to_string(L) +
                  " layers), found " + std::to_string(l));
    if (fuse[static_cast<std::size_t>(l)])
      throw error("fuse_layers: expected distinct layers, found " + std::to_string(l) + " twice");
    fuse[static_cast<std::size_t>(l)] = 1;
  }
}

}  // namespace detail

// DMAR of one image: attn [L, 1 + N, 1 + N] (class token first, dropped here without a copy) or
// [L, N, N], non-negative and finite; coarse [N, K] scores, non-negative and finite (TagCLIP's
// softmax rows), N = grid.rows * grid.cols.
template <viewable A, viewable P>
void tagclip_dmar(const A& attn, const P& coarse, const patch_grid& grid, dmar_result<detail::element_of<A>>& out,
                  dmar_workspace& workspace, const dmar_options& options = {}, const execution_env& env = {}) {
  using T = detail::element_of<A>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<P>>,
                "mlr::tagclip_dmar: attn and coarse must hold the same element type, float or double.");
  static_assert(detail::rank_of<A> == 3 && detail::rank_of<P> == 2,
                "mlr::tagclip_dmar takes attn [L, 1 + N, 1 + N] or [L, N, N] and coarse [N, K].");
  const auto full = detail::scoring_input<T, 3>(attn, "attn");
  const auto p = detail::scoring_input<T, 2>(coarse, "coarse");
  const auto [a, offset] = detail::patch_attention(full, grid);
  const index_t L = a.extent(0), N = a.extent(1), K = p.extent(1);
  detail::check_dmar_options(options, L, workspace.buffers().fuse);
  if (p.extent(0) != N)
    throw error("coarse: expected shape " + detail::format_index(std::array<index_t, 2>{N, K}) + " (N = " +
                std::to_string(N) + " patches of the " + std::to_string(grid.rows) + " x " + std::to_string(grid.cols) +
                " grid), found " + detail::format_index(p.extents()));
  detail::check_scores(p, "coarse", true);

  const unsigned threads = env.thread_count();
  auto& scratch = workspace.get<T>();
  auto& ws = workspace.buffers();
  out.vote_mask.resize({N, N});
  out.masked_attention.resize({N, N});
  out.first_refinement.resize({N, K});
  out.box_masks.resize({K, N});
  out.refined.resize({N, K});

  // M_attn and A* (2.2, 2.3).
  detail::vote_and_fuse(a, offset, ws.fuse.data(), static_cast<index_t>(options.fuse_layers.size()),
                        options.vote_min, out.vote_mask.data(), out.masked_attention.data(), ws.votes, threads);

  // P1 = A* P_coarse (2.4).
  const auto a_star = detail::gemm_operand(strided_view<const T, 2>(out.masked_attention.view()));
  detail::gemm(a_star, detail::gemm_operand(p), detail::gemm_result(out.first_refinement.view()), false, scratch.gemm,
               threads);

  // Per class: binary map, external region boxes, box mask, masked coarse column (2.5).
  const index_t slots = detail::max_regions(grid);
  ws.binary.resize(static_cast<std::size_t>(K * N));
  ws.binary_extents = {K, N};
  ws.class_boxes.resize(static_cast<std::size_t>(K * slots));
  ws.box_counts.resize(static_cast<std::size_t>(K));
  scratch.masked_coarse.resize(static_cast<std::size_t>(K * N));
  const unsigned class_workers = K * N > 16384 ? threads : 1u;  // VOC: 45 x 768
  ws.regions.resize(std::max<std::size_t>(ws.regions.size(), class_workers));
  const T* p1 = out.first_refinement.data();
  detail::parallel_for(static_cast<std::size_t>(K), class_workers, [&](std::size_t task, unsigned worker) {
    const auto k = static_cast<index_t>(task);
    std::uint8_t* b = ws.binary.data() + k * N;
    patch_box* boxes = ws.class_boxes.data() + k * slots;
    index_t count = 0;
    if (detail::class_binary_map(p1 + k, N, K, options.mode, b))
      count = detail::external_region_boxes(b, grid, options.mode, boxes, ws.regions[worker]);
    ws.box_counts[task] = count;
    std::uint8_t* m = out.box_masks.data() + k * N;
    detail::paint_boxes({boxes, static_cast<std::size_t>(count)}, grid, m);
    T* q = scratch.masked_coarse.data() + k * N;
    for (index_t j = 0; j < N; ++j) q[j] = m[j] ? p(j, k) : T(0);
  });
  out.box_offsets.resize(static_cast<std::size_t>(K + 1));
  out.box_offsets[0] = 0;
  for (index_t k = 0; k < K; ++k)
    out.box_offsets[static_cast<std::size_t>(k + 1)] = out.box_offsets[static_cast<std::size_t>(k)] +
                                                      ws.box_counts[static_cast<std::size_t>(k)];
  out.boxes.clear();
  out.boxes.reserve(static_cast<std::size_t>(out.box_offsets.back()));
  for (index_t k = 0; k < K; ++k) {
    const auto first = ws.class_boxes.begin() + k * slots;
    out.boxes.insert(out.boxes.end(), first, first + ws.box_counts[static_cast<std::size_t>(k)]);
  }

  // P2 = A* Q (2.6), Q [N, K] read from its transpose.
  const detail::gemm_matrix<T> q{scratch.masked_coarse.data(), {N, 1}, {K, N}};
  detail::gemm(a_star, q, detail::gemm_result(out.refined.view()), false, scratch.gemm, threads);
}

template <viewable A, viewable P>
dmar_result<detail::element_of<A>> tagclip_dmar(const A& attn, const P& coarse, const patch_grid& grid,
                                                const dmar_options& options = {}, const execution_env& env = {}) {
  dmar_result<detail::element_of<A>> out;
  dmar_workspace workspace;
  tagclip_dmar(attn, coarse, grid, out, workspace, options, env);
  return out;
}

}  // namespace mlr

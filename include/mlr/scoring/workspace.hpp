#pragma once
// scoring_workspace: the reusable scratch of the scoring functions (similarity maps, inverse
// norms, normalised text, packed GEMM panels). Pass the same object on every batch and nothing
// is allocated once the shapes stop growing. One workspace serves float and double calls; it
// must not be used by two calls at the same time. Any scoring call with the workspace drops the
// DualCoOp forward it holds (dualcoop_logits_vjp then recomputes it).
#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "mlr/core/detail/gemm.hpp"
#include "mlr/core/view.hpp"

namespace mlr {

namespace detail {

// What dualcoop_logits saved for dualcoop_logits_vjp: the identity of its three inputs and the
// softmax factor its weights were computed with.
struct saved_inputs {
  std::array<const void*, 3> data{};
  std::array<std::array<index_t, 3>, 3> extents{}, strides{};
  double spatial_scale = 0.0;
  bool valid = false;
};

template <class T>
struct scoring_scratch {
  gemm_workspace<T> gemm;
  std::vector<gemm_workspace<T>> gemm_per_worker;  // GEMMs run one per thread (MKT)
  std::vector<T> inv_rows;       // 1 / norm of each visual row (B L) or patch
  std::vector<T> inv_text;       // 1 / norm of each text row
  std::vector<T> text_hat;       // normalised text rows, [rows, D]
  std::vector<T> sim;            // similarity maps, [B L, columns]
  std::vector<T> weights;        // unnormalised softmax weights (DualCoOp), [B L, C]
  std::vector<double> stats;     // per (image, class): softmax sum, mean S+, mean S- (DualCoOp)
  std::vector<T> logits;         // logits of a forward the vjp had to redo (DualCoOp)
  std::vector<T> grad_sim;       // their gradient (DualCoOp), [B L, 2 C]
  std::vector<T> grad_text_hat;  // [2 C, D]
  std::vector<T> global_sim;     // global dot products (MKT), [B, C]
  std::vector<double> small;     // per-worker vectors (MKT top-k, TagCLIP softmax rows)
  saved_inputs saved;            // the forward held in `sim` (DualCoOp)
};

}  // namespace detail

class scoring_workspace {
 public:
  template <class T>
  detail::scoring_scratch<T>& get() noexcept {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if constexpr (std::is_same_v<T, float>) return f32_;
    else return f64_;
  }
  // Drops what dualcoop_logits saved, so that the next dualcoop_logits_vjp recomputes it.
  void forget() noexcept {
    f32_.saved.valid = false;
    f64_.saved.valid = false;
  }

 private:
  detail::scoring_scratch<float> f32_;
  detail::scoring_scratch<double> f64_;
};

}  // namespace mlr

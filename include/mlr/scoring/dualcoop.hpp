#pragma once
// The DualCoOp head (METHOD.md 1.1.3-1.1.5): dual cosine similarity maps S-, S+ between the
// region tokens and the negative / positive prompt features, class-specific region aggregation
// (alpha = softmax over the L tokens of spatial_scale * S+, applied to both maps, times
// output_scale), the [B, 2, C] logits (index 0 negative, 1 positive), p = sigmoid(l+ - l-), and
// the vector-Jacobian product back to the text features and the visual tokens.
//
// Precision: the similarity GEMMs run in the inputs' type (float: float with FMA), the
// softmax, aggregation and normalisation gradients in double.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "mlr/core/as_view.hpp"
#include "mlr/core/detail/check.hpp"
#include "mlr/core/detail/gemm.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/core/detail/vector_math.hpp"
#include "mlr/scoring/detail/inputs.hpp"
#include "mlr/scoring/workspace.hpp"

namespace mlr {

struct dualcoop_options {
  double spatial_scale = 20.0;   // inside the spatial softmax (DualCoOp's fixed 20)
  double output_scale = 100.0;   // on the aggregated similarities (DualCoOp's 20 * 5)
};

// Pass as grad_visual to dualcoop_logits_vjp to skip the gradient w.r.t. the visual tokens
// (and its GEMM) when only the prompts train.
struct skip_t {};
inline constexpr skip_t skip{};

template <class T>
struct dualcoop_gradients {
  tensor<T, 2> text_neg;  // [C, D]
  tensor<T, 2> text_pos;  // [C, D]
  tensor<T, 3> visual;    // [B, L, D]
};

namespace detail {

// Classes are walked in chunks of at most 64, over the L tokens of the maps.
inline constexpr index_t aggregate_chunk = 64;

// Where the forward leaves what its backward needs: w = exp(s (S+ - max_l S+)) as [B, L, C], and
// per (image, class) the sum of w and the weighted means of S+ and S- (3 doubles, [B, C, 3]).
template <class T>
struct aggregate_saved {
  T* weights = nullptr;
  double* stats = nullptr;
};

// out[b, 0, c] = o sum_l alpha S-, out[b, 1, c] = o sum_l alpha S+, alpha = softmax over l of
// s S+ (max-subtracted, in double); threads over images. Fills `saved` when it has buffers.
template <class T>
void aggregate(const strided_view<const T, 3>& pos, const strided_view<const T, 3>& neg, const strided_view<T, 3>& out,
               const dualcoop_options& options, unsigned threads, aggregate_saved<T> saved = {}) {
  const index_t B = pos.extent(0), L = pos.extent(1), C = pos.extent(2);
  const double s = options.spatial_scale;
  parallel_for(static_cast<std::size_t>(B), B * L * C > 32768 ? threads : 1u, [&](std::size_t task, unsigned) {
    const auto b = static_cast<index_t>(task);
    std::array<double, aggregate_chunk> mx, z, sp, sn, w;
    for (index_t c0 = 0; c0 < C; c0 += aggregate_chunk) {
      const index_t n = std::min(aggregate_chunk, C - c0);
      for (index_t c = 0; c < n; ++c) {
        mx[c] = -std::numeric_limits<double>::infinity();
        z[c] = sp[c] = sn[c] = 0.0;
      }
      for (index_t l = 0; l < L; ++l) {
        const T* p = &pos(b, l, c0);
        for (index_t c = 0; c < n; ++c) mx[c] = std::max(mx[c], static_cast<double>(p[c * pos.stride(2)]));
      }
      for (index_t l = 0; l < L; ++l) {
        const T* p = &pos(b, l, c0);
        const T* q = &neg(b, l, c0);
        for (index_t c = 0; c < n; ++c) w[c] = s * (static_cast<double>(p[c * pos.stride(2)]) - mx[c]);
        exp_inplace(w.data(), n);
        for (index_t c = 0; c < n; ++c) {
          z[c] += w[c];
          sp[c] += w[c] * static_cast<double>(p[c * pos.stride(2)]);
          sn[c] += w[c] * static_cast<double>(q[c * neg.stride(2)]);
        }
        if (saved.weights)
          for (index_t c = 0; c < n; ++c) saved.weights[(b * L + l) * C + c0 + c] = static_cast<T>(w[c]);
      }
      for (index_t c = 0; c < n; ++c) {
        out(b, 0, c0 + c) = static_cast<T>(options.output_scale * sn[c] / z[c]);
        out(b, 1, c0 + c) = static_cast<T>(options.output_scale * sp[c] / z[c]);
        if (saved.stats) {
          double* st = saved.stats + 3 * (b * C + c0 + c);
          st[0] = z[c];
          st[1] = sp[c] / z[c];
          st[2] = sn[c] / z[c];
        }
      }
    }
  });
}

// The gradient of the aggregation (METHOD.md 1.1.5) from the saved weights, times
// row_scale[b L + l]: dS+_l = alpha_l (g+ o (1 + s (S+_l - mean+)) + g- o s (S-_l - mean-)),
// dS-_l = g- o alpha_l, with alpha_l = w_l / sum w.
template <class T>
void aggregate_backward(const strided_view<const T, 3>& pos, const strided_view<const T, 3>& neg,
                        const aggregate_saved<T>& saved, const strided_view<const T, 3>& grad_out,
                        const strided_view<T, 3>& grad_pos, const strided_view<T, 3>& grad_neg, const T* row_scale,
                        const dualcoop_options& options, unsigned threads) {
  const index_t B = pos.extent(0), L = pos.extent(1), C = pos.extent(2);
  const double s = options.spatial_scale, o = options.output_scale;
  parallel_for(static_cast<std::size_t>(B), B * L * C > 32768 ? threads : 1u, [&](std::size_t task, unsigned) {
    const auto b = static_cast<index_t>(task);
    std::array<double, aggregate_chunk> f_pos, f_neg, f_dneg, mean_pos, mean_neg;
    for (index_t c0 = 0; c0 < C; c0 += aggregate_chunk) {
      const index_t n = std::min(aggregate_chunk, C - c0);
      for (index_t c = 0; c < n; ++c) {
        const double* st = saved.stats + 3 * (b * C + c0 + c);
        const double gn = static_cast<double>(grad_out(b, 0, c0 + c)), gp = static_cast<double>(grad_out(b, 1, c0 + c));
        mean_pos[c] = st[1];
        mean_neg[c] = st[2];
        f_pos[c] = gp * o / st[0];
        f_neg[c] = gn * o * s / st[0];
        f_dneg[c] = gn * o / st[0];
      }
      for (index_t l = 0; l < L; ++l) {
        const T* p = &pos(b, l, c0);
        const T* q = &neg(b, l, c0);
        const T* w = saved.weights + (b * L + l) * C + c0;
        T* dp = &grad_pos(b, l, c0);
        T* dq = &grad_neg(b, l, c0);
        const double r = row_scale ? static_cast<double>(row_scale[b * L + l]) : 1.0;
        for (index_t c = 0; c < n; ++c) {
          const double sv = static_cast<double>(p[c * pos.stride(2)]);
          const double wr = static_cast<double>(w[c]) * r;
          dp[c * grad_pos.stride(2)] = static_cast<T>(
              wr * (f_pos[c] * (1.0 + s * (sv - mean_pos[c])) + f_neg[c] * (static_cast<double>(q[c * neg.stride(2)]) - mean_neg[c])));
          dq[c * grad_neg.stride(2)] = static_cast<T>(wr * f_dneg[c]);
        }
      }
    }
  });
}

// The [B, L, C] halves of the [B L, 2 C] similarity buffer (negative first, as the reference).
template <class T>
std::array<strided_view<T, 3>, 2> halves(T* data, index_t B, index_t L, index_t C) {
  return {strided_view<T, 3>(data, {B, L, C}, {L * 2 * C, 2 * C, 1}),
          strided_view<T, 3>(data + C, {B, L, C}, {L * 2 * C, 2 * C, 1})};
}

template <class T>
saved_inputs identity_of(const strided_view<const T, 3>& v, const strided_view<const T, 2>& tn,
                         const strided_view<const T, 2>& tp, double spatial_scale) {
  saved_inputs k;
  k.spatial_scale = spatial_scale;
  k.data = {v.data_handle(), tn.data_handle(), tp.data_handle()};
  k.extents = {{{v.extent(0), v.extent(1), v.extent(2)}, {tn.extent(0), tn.extent(1), 0}, {tp.extent(0), tp.extent(1), 0}}};
  k.strides = {{{v.stride(0), v.stride(1), v.stride(2)}, {tn.stride(0), tn.stride(1), 0}, {tp.stride(0), tp.stride(1), 0}}};
  k.valid = true;
  return k;
}

inline bool same_inputs(const saved_inputs& a, const saved_inputs& b) {
  return a.valid && b.valid && a.data == b.data && a.extents == b.extents && a.strides == b.strides &&
         a.spatial_scale == b.spatial_scale;
}

// The forward of the head on checked views: row norms (which find non-finite entries and zero
// vectors), s.text_hat (the normalised prompts, negative rows first), s.sim = [S- | S+] as
// [B L, 2 C], the logits into `out`, and what the vjp reuses (weights, stats, the inputs' identity).
template <class T>
void dualcoop_forward(const strided_view<const T, 3>& v, const strided_view<const T, 2>& tn,
                      const strided_view<const T, 2>& tp, const strided_view<T, 3>& out, scoring_scratch<T>& s,
                      const dualcoop_options& options, unsigned threads) {
  const index_t B = v.extent(0), L = v.extent(1), D = v.extent(2), C = tn.extent(0);
  s.saved.valid = false;
  s.inv_rows.resize(static_cast<std::size_t>(B * L));
  s.inv_text.resize(static_cast<std::size_t>(2 * C));
  inverse_row_norms(v, "visual", s.inv_rows.data(), threads);
  inverse_row_norms(tn, "text_neg", s.inv_text.data(), threads);
  inverse_row_norms(tp, "text_pos", s.inv_text.data() + C, threads);
  s.text_hat.resize(static_cast<std::size_t>(2 * C * D));
  for (index_t j = 0; j < 2 * C; ++j) {
    const T inv = s.inv_text[static_cast<std::size_t>(j)];
    for (index_t d = 0; d < D; ++d)
      s.text_hat[static_cast<std::size_t>(j * D + d)] = (j < C ? tn(j, d) : tp(j - C, d)) * inv;
  }
  s.sim.resize(static_cast<std::size_t>(B * L * 2 * C));
  const strided_view<const T, 2> text_hat(s.text_hat.data(), {2 * C, D});
  gemm(gemm_operand(v, s.inv_rows.data()), gemm_operand(transpose(text_hat)),
       gemm_output<T>{s.sim.data(), {B * L, 2 * C}, {2 * C, 1}}, false, s.gemm, threads);
  s.weights.resize(static_cast<std::size_t>(B * L * C));
  s.stats.resize(static_cast<std::size_t>(B * C * 3));
  const auto [neg, pos] = halves<const T>(s.sim.data(), B, L, C);
  aggregate(pos, neg, out, options, threads, aggregate_saved<T>{s.weights.data(), s.stats.data()});
  s.saved = identity_of(v, tn, tp, options.spatial_scale);
}

template <class V, class N, class P>
constexpr void check_dualcoop_types() {
  using T = element_of<V>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, element_of<N>> && std::is_same_v<T, element_of<P>>,
                "mlr::dualcoop: visual, text_neg and text_pos must hold the same element type, float or double.");
  static_assert(rank_of<V> == 3 && rank_of<N> == 2 && rank_of<P> == 2,
                "mlr::dualcoop takes visual [B, L, D], text_neg [C, D] and text_pos [C, D].");
}

template <class T, class V, class N, class P>
auto dualcoop_inputs(const V& visual, const N& text_neg, const P& text_pos, const dualcoop_options& options) {
  check_scale(options.spatial_scale, "spatial_scale");
  check_scale(options.output_scale, "output_scale");
  const auto v = scoring_input<T, 3>(visual, "visual");
  const auto tn = scoring_input<T, 2>(text_neg, "text_neg");
  const auto tp = scoring_input<T, 2>(text_pos, "text_pos");
  check_width(tn, "text_neg", v.extent(2), "visual [B, L, D]");
  check_same_shape(tn, "text_neg", tp, "text_pos");
  return std::tuple{v, tn, tp};
}

}  // namespace detail

// Class-specific region aggregation of similarity maps the caller computed: sim_pos and sim_neg
// [B, L, C] -> out [B, 2, C] (out[:, 0] = l-, out[:, 1] = l+).
template <viewable P, viewable N, viewable O>
void class_specific_aggregate(const P& sim_pos, const N& sim_neg, O&& out, const dualcoop_options& options = {},
                              const execution_env& env = {}) {
  using T = detail::element_of<P>;
  static_assert(std::is_floating_point_v<T> && std::is_same_v<T, detail::element_of<N>>,
                "mlr::class_specific_aggregate: sim_pos and sim_neg must hold the same element type, float or double.");
  static_assert(detail::rank_of<P> == 3 && detail::rank_of<N> == 3,
                "mlr::class_specific_aggregate takes sim_pos and sim_neg of shape [B, L, C].");
  detail::check_scale(options.spatial_scale, "spatial_scale");
  detail::check_scale(options.output_scale, "output_scale");
  const auto p = detail::scoring_input<T, 3>(sim_pos, "sim_pos");
  const auto n = detail::scoring_input<T, 3>(sim_neg, "sim_neg");
  detail::check_same_shape(p, "sim_pos", n, "sim_neg");
  detail::check_finite(p, "sim_pos", env);
  detail::check_finite(n, "sim_neg", env);
  const auto o = detail::scoring_output<T, 3>(out, "out", {p.extent(0), 2, p.extent(2)});
  detail::aggregate(p, n, o, options, env.thread_count());
}

template <viewable P, viewable N>
tensor<detail::element_of<P>, 3> class_specific_aggregate(const P& sim_pos, const N& sim_neg,
                                                          const dualcoop_options& options = {},
                                                          const execution_env& env = {}) {
  const auto p = as_view(sim_pos);
  tensor<detail::element_of<P>, 3> out({p.extent(0), 2, p.extent(2)});
  class_specific_aggregate(sim_pos, sim_neg, out, options, env);
  return out;
}

// DualCoOp logits of visual tokens [B, L, D] (token 0 the global one, as the reference) against
// the negative and positive prompt features [C, D] each, written into out [B, 2, C]. The
// workspace keeps the similarity maps for a following dualcoop_logits_vjp on the same tensors.
template <viewable V, viewable N, viewable P, viewable O>
void dualcoop_logits(const V& visual, const N& text_neg, const P& text_pos, O&& out, scoring_workspace& workspace,
                     const dualcoop_options& options = {}, const execution_env& env = {}) {
  detail::check_dualcoop_types<V, N, P>();
  using T = detail::element_of<V>;
  const auto [v, tn, tp] = detail::dualcoop_inputs<T>(visual, text_neg, text_pos, options);
  const auto o = detail::scoring_output<T, 3>(out, "out", {v.extent(0), 2, tn.extent(0)});
  detail::dualcoop_forward(v, tn, tp, o, workspace.get<T>(), options, env.thread_count());
}

template <viewable V, viewable N, viewable P>
tensor<detail::element_of<V>, 3> dualcoop_logits(const V& visual, const N& text_neg, const P& text_pos,
                                                  const dualcoop_options& options = {}, const execution_env& env = {}) {
  tensor<detail::element_of<V>, 3> out({as_view(visual).extent(0), 2, as_view(text_neg).extent(0)});
  scoring_workspace workspace;
  dualcoop_logits(visual, text_neg, text_pos, out, workspace, options, env);
  return out;
}

// p = sigmoid(l+ - l-) of logits [B, 2, C], into out [B, C] (computed in double, without
// overflow for any finite difference).
template <viewable X, viewable O>
void dual_prompt_probability(const X& logits, O&& out, const execution_env& env = {}) {
  using T = detail::element_of<X>;
  static_assert(std::is_floating_point_v<T> && detail::rank_of<X> == 3,
                "mlr::dual_prompt_probability takes float or double logits [B, 2, C].");
  const auto x = detail::scoring_input<T, 3>(logits, "logits");
  if (x.extent(1) != 2)
    throw error("logits: expected shape (B, 2, C) (negative, positive), found " + detail::format_index(x.extents()));
  detail::check_finite(x, "logits", env);
  const auto o = detail::scoring_output<T, 2>(out, "out", {x.extent(0), x.extent(2)});
  for (index_t b = 0; b < x.extent(0); ++b)
    for (index_t c = 0; c < x.extent(2); ++c) {
      const double d = static_cast<double>(x(b, 1, c)) - static_cast<double>(x(b, 0, c));
      const double e = std::exp(-std::abs(d));
      o(b, c) = static_cast<T>(d >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
    }
}

template <viewable X>
tensor<detail::element_of<X>, 2> dual_prompt_probability(const X& logits, const execution_env& env = {}) {
  const auto x = as_view(logits);
  tensor<detail::element_of<X>, 2> out({x.extent(0), x.extent(2)});
  dual_prompt_probability(logits, out, env);
  return out;
}

// The vector-Jacobian product of dualcoop_logits: given grad_out = dL/d logits [B, 2, C], writes
// dL/d text_neg, dL/d text_pos [C, D] and dL/d visual [B, L, D] (pass mlr::skip to leave it
// out). Through the softmax weights (not detached) and the cosine normalisations.
// If `workspace` holds the forward of these same tensors (same data, shapes and strides, saved by
// dualcoop_logits), its similarity maps are reused, as autograd reuses saved tensors: the caller
// must not change the tensors' values in between (workspace.forget() forces a recomputation).
template <viewable V, viewable N, viewable P, viewable G, viewable GN, viewable GP, class GV>
void dualcoop_logits_vjp(const V& visual, const N& text_neg, const P& text_pos, const G& grad_out, GN&& grad_text_neg,
                         GP&& grad_text_pos, GV&& grad_visual, scoring_workspace& workspace,
                         const dualcoop_options& options = {}, const execution_env& env = {}) {
  detail::check_dualcoop_types<V, N, P>();
  using T = detail::element_of<V>;
  static_assert(std::is_same_v<T, detail::element_of<G>> && detail::rank_of<G> == 3,
                "mlr::dualcoop_logits_vjp: grad_out must be [B, 2, C] of the inputs' element type.");
  const auto [v, tn, tp] = detail::dualcoop_inputs<T>(visual, text_neg, text_pos, options);
  const index_t B = v.extent(0), L = v.extent(1), D = v.extent(2), C = tn.extent(0), M = B * L;
  const auto g = detail::scoring_input<T, 3>(grad_out, "grad_out");
  if (g.extents() != std::array<index_t, 3>{B, 2, C})
    throw error("grad_out: expected shape " + detail::format_index(std::array<index_t, 3>{B, 2, C}) +
                " (that of the logits), found " + detail::format_index(g.extents()));
  detail::check_finite(g, "grad_out", env);
  const auto gtn = detail::scoring_output<T, 2>(grad_text_neg, "grad_text_neg", {C, D});
  const auto gtp = detail::scoring_output<T, 2>(grad_text_pos, "grad_text_pos", {C, D});
  constexpr bool want_visual = !std::is_same_v<std::remove_cvref_t<GV>, skip_t>;
  strided_view<T, 3> gv;
  if constexpr (want_visual) gv = detail::scoring_output<T, 3>(grad_visual, "grad_visual", {B, L, D});
  const unsigned threads = env.thread_count();

  auto& s = workspace.get<T>();
  if (!detail::same_inputs(s.saved, detail::identity_of(v, tn, tp, options.spatial_scale))) {
    s.logits.resize(static_cast<std::size_t>(B * 2 * C));
    detail::dualcoop_forward(v, tn, tp, strided_view<T, 3>(s.logits.data(), {B, 2, C}), s, options, threads);
  }
  s.grad_sim.resize(static_cast<std::size_t>(M * 2 * C));
  {
    const auto [neg, pos] = detail::halves<const T>(s.sim.data(), B, L, C);
    const auto [dneg, dpos] = detail::halves<T>(s.grad_sim.data(), B, L, C);
    // Rows scaled by 1 / |v|: then dL/d text_hat = G^T V with the raw visual tokens.
    detail::aggregate_backward(pos, neg, detail::aggregate_saved<T>{s.weights.data(), s.stats.data()}, g, dpos, dneg,
                               s.inv_rows.data(), options, threads);
  }
  const strided_view<const T, 2> grad_sim(s.grad_sim.data(), {M, 2 * C});
  const strided_view<const T, 2> text_hat(s.text_hat.data(), {2 * C, D});
  s.grad_text_hat.resize(static_cast<std::size_t>(2 * C * D));
  detail::gemm(detail::gemm_operand(transpose(grad_sim)), detail::gemm_operand(v),
               detail::gemm_output<T>{s.grad_text_hat.data(), {2 * C, D}, {D, 1}}, false, s.gemm, threads);
  // Through t_hat = t / |t|: dt = (dt_hat - t_hat <t_hat, dt_hat>) / |t|.
  for (index_t j = 0; j < 2 * C; ++j) {
    const T* th = s.text_hat.data() + j * D;
    const T* dh = s.grad_text_hat.data() + j * D;
    double dot = 0.0;
    for (index_t d = 0; d < D; ++d) dot += static_cast<double>(th[d]) * static_cast<double>(dh[d]);
    const double inv = static_cast<double>(s.inv_text[static_cast<std::size_t>(j)]);
    const auto& out = j < C ? gtn : gtp;
    const index_t row = j < C ? j : j - C;
    for (index_t d = 0; d < D; ++d)
      out(row, d) = static_cast<T>(inv * (static_cast<double>(dh[d]) - static_cast<double>(th[d]) * dot));
  }
  if constexpr (want_visual) {
    // H = G T_hat = dL/d v_hat / |v|; then dv = H - v_hat <v_hat, H>.
    detail::gemm(detail::gemm_operand(grad_sim), detail::gemm_operand(text_hat), detail::gemm_result(gv), false, s.gemm,
                 threads);
    const detail::row_access<T, 3> rows{gv};
    const detail::row_access<const T, 3> vis{v};
    constexpr index_t chunk = 64;
    detail::parallel_for(static_cast<std::size_t>((M + chunk - 1) / chunk), M * D > 65536 ? threads : 1u,
                 [&](std::size_t t, unsigned) {
                   const index_t begin = static_cast<index_t>(t) * chunk, end = std::min(M, begin + chunk);
                   for (index_t m = begin; m < end; ++m) {
                     T* h = rows.row(m);
                     const T* x = vis.row(m);
                     const index_t hs = rows.stride(), xs = vis.stride();
                     double dot = 0.0;
                     for (index_t d = 0; d < D; ++d) dot += static_cast<double>(x[d * xs]) * static_cast<double>(h[d * hs]);
                     const double inv = static_cast<double>(s.inv_rows[static_cast<std::size_t>(m)]);
                     const double f = dot * inv * inv;
                     for (index_t d = 0; d < D; ++d)
                       h[d * hs] = static_cast<T>(static_cast<double>(h[d * hs]) - static_cast<double>(x[d * xs]) * f);
                   }
                 });
  }
}

// The same, returning new tensors (grad_visual included).
template <viewable V, viewable N, viewable P, viewable G>
dualcoop_gradients<detail::element_of<V>> dualcoop_logits_vjp(const V& visual, const N& text_neg, const P& text_pos,
                                                              const G& grad_out, const dualcoop_options& options = {},
                                                              const execution_env& env = {}) {
  using T = detail::element_of<V>;
  const auto v = as_view(visual);
  const auto tn = as_view(text_neg);
  dualcoop_gradients<T> r{tensor<T, 2>({tn.extent(0), tn.extent(1)}), tensor<T, 2>({tn.extent(0), tn.extent(1)}),
                          tensor<T, 3>({v.extent(0), v.extent(1), v.extent(2)})};
  scoring_workspace workspace;
  dualcoop_logits_vjp(visual, text_neg, text_pos, grad_out, r.text_neg, r.text_pos, r.visual, workspace, options, env);
  return r;
}

}  // namespace mlr

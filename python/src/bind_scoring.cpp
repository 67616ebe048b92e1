// The scoring functions: region_similarity, dualcoop_logits, class_specific_aggregate,
// dual_prompt_probability, dualcoop_logits_vjp, mkt_scores, tagclip_coarse; same names and
// defaults as C++. Inputs of one call share one dtype (float32 or float64); results are new numpy
// arrays of that dtype. Scratch lives in one workspace per Python thread, so repeated calls
// allocate only their results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/scoring.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

constexpr mlr::dualcoop_options default_dualcoop{};
constexpr mlr::mkt_options default_mkt{};
constexpr mlr::tagclip_options default_tagclip{};

mlr::scoring_workspace& workspace() {
  thread_local mlr::scoring_workspace ws;
  return ws;
}

// A new C-contiguous numpy array and the writable mlr view of it.
template <class T, std::size_t R>
std::pair<py::array_t<T>, mlr::strided_view<T, R>> new_array(const std::array<mlr::index_t, R>& extents) {
  std::vector<py::ssize_t> shape(extents.begin(), extents.end());
  py::array_t<T> a(shape);
  return {a, mlr::strided_view<T, R>(a.mutable_data(), extents)};
}

constexpr const char* region_similarity_doc = R"doc(
Cosine similarities of region (or patch) features with text features (METHOD.md 1.1.3).

Parameters
----------
visual : array [B, R, D] of float32 or float64
text : array [C, D], same dtype
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
numpy array [B, R, C]

Raises
------
ValueError
    On mismatched shapes, empty or non-finite input, or a zero-norm row (named).
)doc";

constexpr const char* dualcoop_logits_doc = R"doc(
DualCoOp logits: class-specific region aggregation of the dual similarity maps (METHOD.md 1.1.3-1.1.4).

Parameters
----------
visual : array [B, L, D] of float32 or float64
    The region tokens (token 0 the global one, as DualCoOp's attention pool returns them).
text_neg, text_pos : arrays [C, D], same dtype
    Negative and positive prompt features.
spatial_scale : float
    Factor inside the spatial softmax over the L tokens (DualCoOp: 20).
output_scale : float
    Factor on the aggregated similarities (DualCoOp: 100).
threads : int
    Worker threads; 0 means one per hardware thread.

Returns
-------
numpy array [B, 2, C]: [:, 0] negative logits, [:, 1] positive logits.
)doc";

constexpr const char* aggregate_doc = R"doc(
Class-specific region aggregation of similarity maps computed by the caller.

Parameters
----------
sim_pos, sim_neg : arrays [B, L, C] of float32 or float64 (same dtype)
spatial_scale, output_scale : float
threads : int

Returns
-------
numpy array [B, 2, C] as dualcoop_logits.
)doc";

constexpr const char* probability_doc = R"doc(
p = sigmoid(l+ - l-) of DualCoOp logits [B, 2, C], in double, stable for any finite difference.

Returns
-------
numpy array [B, C] of the logits' dtype.
)doc";

constexpr const char* vjp_doc = R"doc(
Vector-Jacobian product of dualcoop_logits: the gradients of sum(grad_out * logits).

Parameters
----------
visual, text_neg, text_pos : as dualcoop_logits
grad_out : array [B, 2, C], same dtype
spatial_scale, output_scale : float
threads : int

Returns
-------
(grad_text_neg [C, D], grad_text_pos [C, D], grad_visual [B, L, D])
)doc";

constexpr const char* mkt_doc = R"doc(
MKT two-stream scores (METHOD.md 1.2.2): top-k mean of the patch dot products and the global dot
product, each L2-normalised over the classes of label_emb (the scored class set), averaged.

Parameters
----------
patches : array [B, P, D] of float32 or float64
global_ : array [B, D], same dtype (``global`` is a Python keyword)
label_emb : array [C, D], same dtype: the embeddings of exactly the classes scored together
k : int
    Patches averaged per class, 1 <= k <= P. 16 is MKT's training default; the paper and its
    inference script use 18.
threads : int

Returns
-------
numpy array [B, C]
)doc";

constexpr const char* tagclip_doc = R"doc(
TagCLIP coarse patch scores (METHOD.md 1.3.4): softmax over the K text rows (foreground then
background words) of logit_scale * cosine(patch, text).

Parameters
----------
patches : array [N, D] of float32 or float64 (the patch tokens, class token dropped)
text : array [K, D], same dtype
logit_scale : float
    exp(logit_scale) of the CLIP checkpoint, about 100.
threads : int

Returns
-------
numpy array [N, K]; rows sum to 1.
)doc";

}  // namespace
}  // namespace mlr_python

void bind_scoring(pybind11::module_& m) {
  using namespace mlr_python;

  m.def(
      "region_similarity",
      [](const py::object& visual, const py::object& text, unsigned threads) {
        const tensor_arg v(visual, "visual", 3, accepts::real);
        const tensor_arg t(text, "text", 2, accepts::real);
        check_same_dtype(v, "visual", t, "text");
        return with_real_type(v, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto vv = v.view<T, 3>();
          const auto tv = t.view<T, 2>();
          auto [out, o] = new_array<T, 3>({vv.extent(0), vv.extent(1), tv.extent(0)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::region_similarity(vv, tv, o, workspace(), mlr::execution_env{threads});
          }
          return out;
        });
      },
      py::arg("visual"), py::arg("text"), py::arg("threads") = mlr::execution_env{}.threads, region_similarity_doc);

  m.def(
      "dualcoop_logits",
      [](const py::object& visual, const py::object& text_neg, const py::object& text_pos, double spatial_scale,
         double output_scale, unsigned threads) {
        const tensor_arg v(visual, "visual", 3, accepts::real);
        const tensor_arg tn(text_neg, "text_neg", 2, accepts::real);
        const tensor_arg tp(text_pos, "text_pos", 2, accepts::real);
        check_same_dtype(v, "visual", tn, "text_neg");
        check_same_dtype(v, "visual", tp, "text_pos");
        const mlr::dualcoop_options options{.spatial_scale = spatial_scale, .output_scale = output_scale};
        return with_real_type(v, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto vv = v.view<T, 3>();
          const auto nv = tn.view<T, 2>();
          auto [out, o] = new_array<T, 3>({vv.extent(0), 2, nv.extent(0)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::dualcoop_logits(vv, nv, tp.view<T, 2>(), o, workspace(), options, mlr::execution_env{threads});
          }
          return out;
        });
      },
      py::arg("visual"), py::arg("text_neg"), py::arg("text_pos"),
      py::arg("spatial_scale") = default_dualcoop.spatial_scale, py::arg("output_scale") = default_dualcoop.output_scale,
      py::arg("threads") = mlr::execution_env{}.threads, dualcoop_logits_doc);

  m.def(
      "class_specific_aggregate",
      [](const py::object& sim_pos, const py::object& sim_neg, double spatial_scale, double output_scale,
         unsigned threads) {
        const tensor_arg p(sim_pos, "sim_pos", 3, accepts::real);
        const tensor_arg n(sim_neg, "sim_neg", 3, accepts::real);
        check_same_dtype(p, "sim_pos", n, "sim_neg");
        const mlr::dualcoop_options options{.spatial_scale = spatial_scale, .output_scale = output_scale};
        return with_real_type(p, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto pv = p.view<T, 3>();
          auto [out, o] = new_array<T, 3>({pv.extent(0), 2, pv.extent(2)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::class_specific_aggregate(pv, n.view<T, 3>(), o, options, mlr::execution_env{threads});
          }
          return out;
        });
      },
      py::arg("sim_pos"), py::arg("sim_neg"), py::arg("spatial_scale") = default_dualcoop.spatial_scale,
      py::arg("output_scale") = default_dualcoop.output_scale, py::arg("threads") = mlr::execution_env{}.threads,
      aggregate_doc);

  m.def(
      "dual_prompt_probability",
      [](const py::object& logits) {
        const tensor_arg x(logits, "logits", 3, accepts::real);
        return with_real_type(x, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto xv = x.view<T, 3>();
          auto [out, o] = new_array<T, 2>({xv.extent(0), xv.extent(2)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::dual_prompt_probability(xv, o);
          }
          return out;
        });
      },
      py::arg("logits"), probability_doc);

  m.def(
      "dualcoop_logits_vjp",
      [](const py::object& visual, const py::object& text_neg, const py::object& text_pos, const py::object& grad_out,
         double spatial_scale, double output_scale, unsigned threads) {
        const tensor_arg v(visual, "visual", 3, accepts::real);
        const tensor_arg tn(text_neg, "text_neg", 2, accepts::real);
        const tensor_arg tp(text_pos, "text_pos", 2, accepts::real);
        const tensor_arg g(grad_out, "grad_out", 3, accepts::real);
        check_same_dtype(v, "visual", tn, "text_neg");
        check_same_dtype(v, "visual", tp, "text_pos");
        check_same_dtype(v, "visual", g, "grad_out");
        const mlr::dualcoop_options options{.spatial_scale = spatial_scale, .output_scale = output_scale};
        return with_real_type(v, [&](auto type) -> py::tuple {
          using T = typename decltype(type)::type;
          const auto vv = v.view<T, 3>();
          const auto nv = tn.view<T, 2>();
          auto [gn, gnv] = new_array<T, 2>({nv.extent(0), nv.extent(1)});
          auto [gp, gpv] = new_array<T, 2>({nv.extent(0), nv.extent(1)});
          auto [gv, gvv] = new_array<T, 3>({vv.extent(0), vv.extent(1), vv.extent(2)});
          {
            py::gil_scoped_release nogil;
            // Python arrays can change in place, or a new array reuse a freed one's address, between
            // the forward and this call: the hidden workspace's saved forward is never trusted.
            workspace().forget();
            mlr::dualcoop_logits_vjp(vv, nv, tp.view<T, 2>(), g.view<T, 3>(), gnv, gpv, gvv, workspace(), options,
                                     mlr::execution_env{threads});
          }
          return py::make_tuple(gn, gp, gv);
        });
      },
      py::arg("visual"), py::arg("text_neg"), py::arg("text_pos"), py::arg("grad_out"),
      py::arg("spatial_scale") = default_dualcoop.spatial_scale, py::arg("output_scale") = default_dualcoop.output_scale,
      py::arg("threads") = mlr::execution_env{}.threads, vjp_doc);

  m.def(
      "mkt_scores",
      [](const py::object& patches, const py::object& global, const py::object& label_emb, mlr::index_t k,
         unsigned threads) {
        const tensor_arg p(patches, "patches", 3, accepts::real);
        const tensor_arg g(global, "global", 2, accepts::real);
        const tensor_arg e(label_emb, "label_emb", 2, accepts::real);
        check_same_dtype(p, "patches", g, "global");
        check_same_dtype(p, "patches", e, "label_emb");
        return with_real_type(p, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto pv = p.view<T, 3>();
          const auto ev = e.view<T, 2>();
          auto [out, o] = new_array<T, 2>({pv.extent(0), ev.extent(0)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::mkt_scores(pv, g.view<T, 2>(), ev, o, workspace(), {.k = k}, mlr::execution_env{threads});
          }
          return out;
        });
      },
      py::arg("patches"), py::arg("global_"), py::arg("label_emb"), py::arg("k") = default_mkt.k,
      py::arg("threads") = mlr::execution_env{}.threads, mkt_doc);

  m.def(
      "tagclip_coarse",
      [](const py::object& patches, const py::object& text, double logit_scale, unsigned threads) {
        const tensor_arg p(patches, "patches", 2, accepts::real);
        const tensor_arg t(text, "text", 2, accepts::real);
        check_same_dtype(p, "patches", t, "text");
        return with_real_type(p, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          const auto pv = p.view<T, 2>();
          const auto tv = t.view<T, 2>();
          auto [out, o] = new_array<T, 2>({pv.extent(0), tv.extent(0)});
          {  // the result is returned with the GIL held
            py::gil_scoped_release nogil;
            mlr::tagclip_coarse(pv, tv, o, workspace(), {.logit_scale = logit_scale}, mlr::execution_env{threads});
          }
          return out;
        });
      },
      py::arg("patches"), py::arg("text"), py::arg("logit_scale") = default_tagclip.logit_scale,
      py::arg("threads") = mlr::execution_env{}.threads, tagclip_doc);
}

// The TagCLIP refinement: region_boxes, tagclip_dmar, tagclip_local, tagclip_reidentify and
// tagclip_classify, with the C++ names, arguments and defaults (the C++ member `lambda` is `lam`,
// a Python keyword). Results are dicts of new numpy arrays (the C++ result fields by name); boxes
// are (x0, y0, x1, y1) tuples, half-open, in patches. The computation runs without the GIL; the
// engine callbacks of tagclip_reidentify / tagclip_classify are called with it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/tensor.hpp"
#include "mlr/refine/boxes.hpp"
#include "mlr/refine/cwr.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/grid.hpp"
#include "mlr/refine/local.hpp"
#include "mlr/refine/tagclip.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace mlr_python {
namespace {

// The C++ defaults, by name, so that Python's cannot drift from them.
const mlr::dmar_options default_dmar{};
const mlr::cwr_options default_cwr{};

mlr::dmar_workspace& dmar_workspace() {
  thread_local mlr::dmar_workspace ws;
  return ws;
}

mlr::cwr_workspace& cwr_workspace() {
  thread_local mlr::cwr_workspace ws;
  return ws;
}

mlr::tagclip_workspace& tagclip_workspace() {
  thread_local mlr::tagclip_workspace ws;
  return ws;
}

// `grid`: a (rows, cols) pair; the C++ function checks it against the data.
mlr::patch_grid grid_arg(const py::object& grid) {
  try {
    const auto [rows, cols] = grid.cast<std::pair<mlr::index_t, mlr::index_t>>();
    return {rows, cols};
  } catch (const py::cast_error&) {
    throw mlr::error("grid: expected a pair of integers (rows, cols), found " + std::string(py::str(py::repr(grid))));
  }
}

py::tuple box_tuple(const mlr::patch_box& b) { return py::make_tuple(b.x0, b.y0, b.x1, b.y1); }

py::list box_list(const mlr::patch_box* first, const mlr::patch_box* last) {
  py::list out;
  for (; first != last; ++first) out.append(box_tuple(*first));
  return out;
}

// `fuse_layers`: a sequence of layer indices; range and distinctness are checked by the C++ call.
std::vector<mlr::index_t> layer_list(const py::object& layers) {
  try {
    return layers.cast<std::vector<mlr::index_t>>();
  } catch (const py::cast_error&) {
    throw mlr::error("fuse_layers: expected a sequence of integer layer indices, found " +
                     std::string(py::str(py::repr(layers))));
  }
}

// A copy of a C++ result (a view, or a tensor through its view) as a new C-contiguous array.
template <class T, std::size_t R>
py::array_t<T> to_numpy(mlr::strided_view<const T, R> v) {
  std::vector<py::ssize_t> shape(v.extents().begin(), v.extents().end());
  py::array_t<T> a(shape);
  T* out = a.mutable_data();
  if constexpr (R == 1) {
    for (mlr::index_t i = 0; i < v.extent(0); ++i) *out++ = v(i);
  } else {
    for (mlr::index_t i = 0; i < v.extent(0); ++i)
      for (mlr::index_t j = 0; j < v.extent(1); ++j) *out++ = v(i, j);
  }
  return a;
}

template <class T, std::size_t R>
py::array_t<T> to_numpy(const mlr::tensor<T, R>& t) {
  return to_numpy(t.view());
}

// `ws`: the workspace of the call, for its binary maps (none from tagclip_classify, whose
// per-worker workspaces serve several images).
template <class T>
py::dict dmar_dict(const mlr::dmar_result<T>& r, const mlr::dmar_workspace* ws) {
  py::list boxes;
  for (std::size_t k = 0; k + 1 < r.box_offsets.size(); ++k)
    boxes.append(box_list(r.boxes.data() + r.box_offsets[k], r.boxes.data() + r.box_offsets[k + 1]));
  py::dict d;
  d["vote_mask"] = to_numpy(r.vote_mask);
  d["masked_attention"] = to_numpy(r.masked_attention);
  d["first_refinement"] = to_numpy(r.first_refinement);
  if (ws) d["binary_maps"] = to_numpy(ws->binary_maps());
  d["box_masks"] = to_numpy(r.box_masks);
  d["boxes"] = boxes;
  d["refined"] = to_numpy(r.refined);
  return d;
}

template <class T>
py::dict cwr_dict(const mlr::cwr_result<T>& r) {
  py::dict d;
  d["final_scores"] = to_numpy(r.final_scores);
  d["candidates"] = py::cast(r.candidates);
  d["boxes"] = box_list(r.boxes.data(), r.boxes.data() + r.boxes.size());
  d["reidentified"] = to_numpy(mlr::strided_view<const std::uint8_t, 1>(
      r.reidentified.data(), {static_cast<mlr::index_t>(r.reidentified.size())}));
  d["global_scores"] = to_numpy(r.global_scores);
  d["labels"] = to_numpy(r.labels);
  return d;
}

template <class T>
py::dict classify_dict(const mlr::tagclip_result<T>& r) {
  py::dict d;
  d["coarse"] = to_numpy(r.coarse);
  d["dmar"] = dmar_dict(r.dmar, nullptr);
  d["local"] = to_numpy(r.local);
  d["cwr"] = cwr_dict(r.cwr);
  return d;
}

// The request of one second pass as a dict of Python objects (numpy copies of the masks, which
// live in the workspace only during the call).
template <class T>
py::dict request_dict(const mlr::crop_request<T>& r) {
  py::dict d;
  d["image"] = r.image;
  d["class_index"] = r.class_index;
  d["box"] = box_tuple(r.box);
  d["pixels"] = box_tuple(r.pixels);
  d["token_mask"] = to_numpy(r.token_mask);
  d["attention_mask"] = to_numpy(r.attention_mask);
  return d;
}

// Calls the Python engine `f(request)` with the GIL and copies the `expected` values it returns
// (any 1-D sequence of numbers) into `out`; mlr checks them afterwards.
template <class T>
void call_engine(const py::function& f, const mlr::crop_request<T>& request, mlr::strided_view<T, 1> out,
                 const char* name, const char* what) {
  py::gil_scoped_acquire gil;
  const py::object returned = f(request_dict(request));
  const auto values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(returned);
  if (!values || values.ndim() != 1 || values.shape(0) != out.extent(0)) {
    const std::string found = values ? "shape " + format_shape(values.shape(), static_cast<std::size_t>(values.ndim()))
                                     : std::string(py::str(py::repr(returned))).substr(0, 100);
    throw mlr::error(std::string(name) + ": expected " + std::to_string(out.extent(0)) + " " + what +
                     " from the engine for class " + std::to_string(request.class_index) + ", found " + found);
  }
  for (mlr::index_t i = 0; i < out.extent(0); ++i) out(i) = static_cast<T>(values.data()[i]);
}

constexpr const char* region_boxes_doc = R"doc(
Boxes of the regions of a binary map on the patch grid, as TagCLIP's scoremap2bbox draws them
(METHOD.md 2.5 steps 4-5), without OpenCV: one box per 8-connected region that OpenCV's
findContours(RETR_EXTERNAL) reports (a region inside a hole of another region gets none).

Parameters
----------
binary : array [rows, cols], or [N] with ``grid``, of uint8 or bool (nonzero = foreground)
grid : (rows, cols) or None
    Required for a 1-D map; for a 2-D map None means its shape.
mode : str
    ``'reference'`` clips the exclusive ends to cols - 1 and rows - 1 as the official code does
    (the last patch row and column are never covered; a region confined to them gets an empty
    box, kept in the list); ``'corrected'`` does not clip.

Returns
-------
list of (x0, y0, x1, y1): half-open boxes [y0, y1) x [x0, x1) in patches, ordered by each
region's first patch in raster order (the official order is OpenCV's: compare as sets).
)doc";

constexpr const char* dmar_doc = R"doc(
TagCLIP's DMAR for one image (METHOD.md 2.1-2.6): vote mask, fused masked attention, first
refinement, class box masks and refined scores, exactly as the official code (thresholds and
class maps in double; the two products in the input's precision).

Parameters
----------
attn : array [L, 1 + N, 1 + N] (class token first, dropped) or [L, N, N], float32 or float64
    The head-averaged attention maps of the first pass, non-negative and finite.
coarse : array [N, K], same dtype: the coarse patch scores (foreground then background words)
grid : (rows, cols) with rows * cols = N
vote_min : int
    M_attn = 1[votes >= vote_min], the votes counted over all L layers, 1 <= vote_min <= L.
fuse_layers : sequence of int
    The layers averaged into A* (distinct, in [0, L)); (8, 9, 10) for VOC and COCO, 0..10 for
    cocostuff.
mode : str
    ``'reference'`` (uint8 truncation of the min-max map, box ends clipped to cols - 1 and
    rows - 1) or ``'corrected'`` (s > mean(s), no clipping); METHOD.md 2.11.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
dict
    ``vote_mask`` uint8 [N, N]; ``masked_attention`` [N, N] (A*); ``first_refinement`` [N, K]
    (P1); ``binary_maps`` uint8 [K, N] (the thresholded min-max map of each P1 column; zero for
    a constant column); ``box_masks`` uint8 [K, N] (m_k); ``boxes``: per class a list of
    (x0, y0, x1, y1) as region_boxes gives them; ``refined`` [N, K] (P2).
)doc";

constexpr const char* local_doc = R"doc(
TagCLIP's local scores (METHOD.md 2.7): the maximum over patches of the refined scores, for the
first num_foreground (foreground) columns.

Parameters
----------
refined : array [N, K] of float32 or float64
num_foreground : int, 1 <= num_foreground <= K

Returns
-------
numpy array [num_foreground] of the input's dtype.
)doc";

constexpr const char* reidentify_doc = R"doc(
TagCLIP's class-wise reidentification and fusion for one image (METHOD.md 2.8-2.10).

Parameters
----------
refined : array [N, K] of float32 or float64: the refined scores P2 (tagclip_dmar)
local : array [num_foreground], same dtype: the local scores (tagclip_local)
grid : (rows, cols) with rows * cols = N
num_foreground : int, 1 <= num_foreground <= K
global_scores : callable
    The engine's second pass: ``global_scores(request)`` with ``request`` a dict ``image`` (0),
    ``class_index`` (the candidate), ``box`` (x0, y0, x1, y1) in patches, half-open,
    ``pixels`` (the box times patch_size: rows [y0, y1), columns [x0, x1) of the input),
    ``token_mask`` (uint8 [crop_grid, crop_grid], 1 = token kept) and ``attention_mask``
    ([1 + crop_grid^2, 1 + crop_grid^2] of the input's dtype, zero except row 0 = mask_value at
    the dropped tokens); returns the K probabilities of the crop (finite, in [0, 1]). Called in
    candidate order, with the GIL.
mu1 : float
    Candidates: local > min P2 + mu1 (max P2 - min P2) over the whole matrix (0.1 for cocostuff).
mu2 : float
    Responsive patches: min-max(P2[:, k]) > mu2.
lam : float
    P_final = lam P_local + (1 - lam) g_k for reidentified candidates (the C++ member
    ``lambda``, a Python keyword).
mu : float
    Labels: P_final > min + mu (max - min), strict (0.1 for cocostuff).
patch_size : int
    Pixels per patch, for ``pixels``.
crop_grid : int
    The token grid of the second pass (224 / 16 = 14).
mask_value : float
    The additive attention mask entry of a dropped token.
mode : str
    ``'reference'``: box ends clipped to cols - 1 and rows - 1, and the first degenerate box
    ends CWR (that candidate and every later one keep P_local); ``'corrected'``: no clipping,
    a degenerate box skips that candidate only.

Returns
-------
dict
    ``final_scores`` [num_foreground]; ``candidates`` list of int (increasing); ``boxes``: the
    CWR box (x0, y0, x1, y1) of each candidate examined; ``reidentified`` uint8 [candidates];
    ``global_scores`` [candidates, K] (NaN rows: not asked); ``labels`` uint8 [num_foreground].
)doc";

constexpr const char* classify_doc = R"doc(
TagCLIP's whole local-to-global pipeline (METHOD.md 8.3) around an engine that runs CLIP:
coarse scores, DMAR, local scores and the CWR plan (images of a batch in parallel), then the
engine's second passes in (image, candidate) order on the calling thread, fusion and labels.

Parameters
----------
attn : array [L, 1 + N, 1 + N] or [L, N, N] for one image; [B, L, 1 + N, 1 + N] or
    [B, L, N, N] (or the C++ layout [B L, ...]) for a batch; float32 or float64
    The head-averaged first-pass attention maps.
tokens : array [1 + N, D] or [N, D] (one image), [B, 1 + N, D] or [B, N, D] (a batch), same
    dtype: the projected tokens of the first pass (a class token first is dropped)
text : array [K, D], same dtype: the text embeddings, foreground rows first
grid : (rows, cols) with rows * cols = N
num_foreground : int, 1 <= num_foreground <= K
global_feature : callable
    The engine's second pass: ``global_feature(request)`` with ``request`` the dict of
    tagclip_reidentify (``image`` the position in the batch) returns the projected class-token
    feature [D] of the crop; mlr normalises it and takes the softmax over the K text rows with
    logit_scale. Called with the GIL.
logit_scale, vote_min, fuse_layers, mu1, mu2, lam, mu, patch_size, crop_grid, mask_value
    As tagclip_coarse, tagclip_dmar and tagclip_reidentify.
mode : str
    ``'reference'`` or ``'corrected'``, for DMAR and CWR together (METHOD.md 2.11).
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
dict (one image) or list of dicts (a batch)
    ``coarse`` [N, K]; ``dmar`` (the dict of tagclip_dmar without ``binary_maps``); ``local``
    [num_foreground]; ``cwr`` (the dict of tagclip_reidentify).
)doc";

}  // namespace
}  // namespace mlr_python

void bind_refine(pybind11::module_& m) {
  using namespace mlr_python;

  m.def(
      "region_boxes",
      [](const py::object& binary, const py::object& grid, std::string_view mode) {
        const auto mode_policy = mlr::parse_policy<mlr::tagclip_mode>(mode);
        const py::array given = py::module_::import("numpy").attr("asarray")(binary);
        const auto rank = static_cast<std::size_t>(given.ndim());
        if (rank != 1 && rank != 2)
          throw mlr::error("binary: expected a 2-D map [rows, cols] or a 1-D map [N] with grid, found a " +
                           std::to_string(rank) + "-D array");
        if (rank == 1 && grid.is_none()) throw mlr::error("grid: required for a 1-D binary map [N]");
        const tensor_arg b(given, "binary", rank, accepts::label);
        if (b.dtype() != mlr::dtype::uint8 && b.dtype() != mlr::dtype::boolean)
          throw mlr::error("binary: expected dtype uint8 or bool, found " + std::string(mlr::to_string(b.dtype())));
        const mlr::patch_grid g =
            grid.is_none() ? mlr::patch_grid{given.shape(0), given.shape(1)} : grid_arg(grid);
        std::vector<mlr::patch_box> boxes;
        {
          py::gil_scoped_release nogil;
          // bool and uint8 share size and representation (0 / 1): one uint8 view of either.
          auto as_bytes = [](auto v) {
            return mlr::strided_view<const std::uint8_t, decltype(v)::rank()>(
                reinterpret_cast<const std::uint8_t*>(v.data_handle()), v.extents(), v.strides());
          };
          if (rank == 1)
            boxes = b.dtype() == mlr::dtype::uint8 ? mlr::region_boxes(b.view<std::uint8_t, 1>(), g, mode_policy)
                                                   : mlr::region_boxes(as_bytes(b.view<bool, 1>()), g, mode_policy);
          else
            boxes = b.dtype() == mlr::dtype::uint8 ? mlr::region_boxes(b.view<std::uint8_t, 2>(), g, mode_policy)
                                                   : mlr::region_boxes(as_bytes(b.view<bool, 2>()), g, mode_policy);
        }
        return box_list(boxes.data(), boxes.data() + boxes.size());
      },
      py::arg("binary"), py::arg("grid") = py::none(),
      py::arg("mode") = default_name(default_dmar.mode), region_boxes_doc);

  m.def(
      "tagclip_dmar",
      [](const py::object& attn, const py::object& coarse, const py::object& grid, mlr::index_t vote_min,
         const py::object& fuse_layers, std::string_view mode, unsigned threads) {
        const std::vector<mlr::index_t> layers = layer_list(fuse_layers);
        const mlr::dmar_options options{
            .vote_min = vote_min, .fuse_layers = layers, .mode = mlr::parse_policy<mlr::tagclip_mode>(mode)};
        const mlr::patch_grid g = grid_arg(grid);
        const tensor_arg a(attn, "attn", 3, accepts::real);
        const tensor_arg p(coarse, "coarse", 2, accepts::real);
        check_same_dtype(a, "attn", p, "coarse");
        return with_real_type(a, [&](auto type) {
          using T = typename decltype(type)::type;
          mlr::dmar_result<T> result;
          {
            py::gil_scoped_release nogil;
            mlr::tagclip_dmar(a.view<T, 3>(), p.view<T, 2>(), g, result, dmar_workspace(), options,
                              mlr::execution_env{threads});
          }
          return dmar_dict(result, &dmar_workspace());
        });
      },
      py::arg("attn"), py::arg("coarse"), py::arg("grid"), py::arg("vote_min") = default_dmar.vote_min,
      py::arg("fuse_layers") = py::tuple(py::cast(std::vector<mlr::index_t>(default_dmar.fuse_layers.begin(),
                                                                            default_dmar.fuse_layers.end()))),
      py::arg("mode") = default_name(default_dmar.mode), py::arg("threads") = mlr::execution_env{}.threads, dmar_doc);

  m.def(
      "tagclip_local",
      [](const py::object& refined, mlr::index_t num_foreground) {
        const tensor_arg r(refined, "refined", 2, accepts::real);
        return with_real_type(r, [&](auto type) -> py::array {
          using T = typename decltype(type)::type;
          mlr::tensor<T, 1> out;
          {
            py::gil_scoped_release nogil;
            out = mlr::tagclip_local(r.view<T, 2>(), num_foreground);
          }
          return to_numpy(out);
        });
      },
      py::arg("refined"), py::arg("num_foreground"), local_doc);

  m.def(
      "tagclip_reidentify",
      [](const py::object& refined, const py::object& local, const py::object& grid, mlr::index_t num_foreground,
         const py::function& global_scores, double mu1, double mu2, double lam, double mu, mlr::index_t patch_size,
         mlr::index_t crop_grid, double mask_value, std::string_view mode) {
        const mlr::cwr_options options{.mu1 = mu1, .mu2 = mu2, .lambda = lam, .mu = mu, .patch_size = patch_size,
                                       .crop_grid = crop_grid, .mask_value = mask_value,
                                       .mode = mlr::parse_policy<mlr::tagclip_mode>(mode)};
        const mlr::patch_grid g = grid_arg(grid);
        const tensor_arg r(refined, "refined", 2, accepts::real);
        const tensor_arg l(local, "local", 1, accepts::real);
        check_same_dtype(r, "refined", l, "local");
        return with_real_type(r, [&](auto type) {
          using T = typename decltype(type)::type;
          mlr::cwr_result<T> result;
          {
            py::gil_scoped_release nogil;
            mlr::tagclip_reidentify(
                r.view<T, 2>(), l.view<T, 1>(), g, num_foreground,
                [&](const mlr::crop_request<T>& request, mlr::strided_view<T, 1> probabilities) {
                  call_engine(global_scores, request, probabilities, "global_scores", "probabilities");
                },
                result, cwr_workspace(), options);
          }
          return cwr_dict(result);
        });
      },
      py::arg("refined"), py::arg("local"), py::arg("grid"), py::arg("num_foreground"), py::arg("global_scores"),
      py::arg("mu1") = default_cwr.mu1, py::arg("mu2") = default_cwr.mu2, py::arg("lam") = default_cwr.lambda,
      py::arg("mu") = default_cwr.mu, py::arg("patch_size") = default_cwr.patch_size,
      py::arg("crop_grid") = default_cwr.crop_grid, py::arg("mask_value") = default_cwr.mask_value,
      py::arg("mode") = default_name(default_cwr.mode), reidentify_doc);

  m.def(
      "tagclip_classify",
      [](const py::object& attn, const py::object& tokens, const py::object& text, const py::object& grid,
         mlr::index_t num_foreground, const py::function& global_feature, double logit_scale, mlr::index_t vote_min,
         const py::object& fuse_layers, double mu1, double mu2, double lam, double mu, mlr::index_t patch_size,
         mlr::index_t crop_grid, double mask_value, std::string_view mode, unsigned threads) -> py::object {
        const std::vector<mlr::index_t> layers = layer_list(fuse_layers);
        const auto mode_policy = mlr::parse_policy<mlr::tagclip_mode>(mode);
        const mlr::tagclip_classify_options options{
            .coarse = {.logit_scale = logit_scale},
            .dmar = {.vote_min = vote_min, .fuse_layers = layers, .mode = mode_policy},
            .cwr = {.mu1 = mu1, .mu2 = mu2, .lambda = lam, .mu = mu, .patch_size = patch_size, .crop_grid = crop_grid,
                    .mask_value = mask_value, .mode = mode_policy}};
        const mlr::patch_grid g = grid_arg(grid);
        const mlr::execution_env env{threads};
        const py::module_ np = py::module_::import("numpy");
        const py::array token_array = np.attr("asarray")(tokens);
        const bool batch = token_array.ndim() == 3;
        py::object maps = attn;
        if (batch) {  // [B, L, ...] -> the C++ layout [B L, ...] (a view whenever the strides allow)
          const py::array a = np.attr("asarray")(attn);
          if (a.ndim() == 4) maps = a.attr("reshape")(a.shape(0) * a.shape(1), a.shape(2), a.shape(3));
        }
        const tensor_arg a(maps, "attn", 3, accepts::real);
        const tensor_arg x(token_array, "tokens", batch ? 3 : 2, accepts::real);
        const tensor_arg t(text, "text", 2, accepts::real);
        check_same_dtype(a, "attn", x, "tokens");
        check_same_dtype(a, "attn", t, "text");
        return with_real_type(a, [&](auto type) -> py::object {
          using T = typename decltype(type)::type;
          auto engine = [&](const mlr::crop_request<T>& request, mlr::strided_view<T, 1> feature) {
            call_engine(global_feature, request, feature, "global_feature", "feature values");
          };
          if (!batch) {
            mlr::tagclip_result<T> result;
            {
              py::gil_scoped_release nogil;
              mlr::tagclip_classify(a.view<T, 3>(), x.view<T, 2>(), t.view<T, 2>(), g, num_foreground, engine, result,
                                    tagclip_workspace(), options, env);
            }
            return classify_dict(result);
          }
          std::vector<mlr::tagclip_result<T>> results;
          {
            py::gil_scoped_release nogil;
            mlr::tagclip_classify(a.view<T, 3>(), x.view<T, 3>(), t.view<T, 2>(), g, num_foreground, engine, results,
                                  tagclip_workspace(), options, env);
          }
          py::list out;
          for (const auto& r : results) out.append(classify_dict(r));
          return out;
        });
      },
      py::arg("attn"), py::arg("tokens"), py::arg("text"), py::arg("grid"), py::arg("num_foreground"),
      py::arg("global_feature"), py::arg("logit_scale") = mlr::tagclip_options{}.logit_scale,
      py::arg("vote_min") = default_dmar.vote_min,
      py::arg("fuse_layers") = py::tuple(py::cast(std::vector<mlr::index_t>(default_dmar.fuse_layers.begin(),
                                                                            default_dmar.fuse_layers.end()))),
      py::arg("mu1") = default_cwr.mu1, py::arg("mu2") = default_cwr.mu2, py::arg("lam") = default_cwr.lambda,
      py::arg("mu") = default_cwr.mu, py::arg("patch_size") = default_cwr.patch_size,
      py::arg("crop_grid") = default_cwr.crop_grid, py::arg("mask_value") = default_cwr.mask_value,
      py::arg("mode") = default_name(default_cwr.mode), py::arg("threads") = mlr::execution_env{}.threads,
      classify_doc);
}

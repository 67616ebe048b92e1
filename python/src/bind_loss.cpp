// Python bindings of the losses: mlr.asl_loss, mlr.asl_dual_loss, mlr.ranking_loss (with
// mlr.RankingWorkspace) and mlr.l1_distillation, with the C++ names, arguments and defaults.
// Each returns (value, gradient): a float and a new C-contiguous array of the input's dtype.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mlr/core/dtype.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/core/policies.hpp"
#include "mlr/core/view.hpp"
#include "mlr/loss/asl.hpp"
#include "mlr/loss/asl_dual.hpp"
#include "mlr/loss/l1_distillation.hpp"
#include "mlr/loss/ranking.hpp"
#include "bindings.hpp"
#include "tensor_arg.hpp"

namespace py = pybind11;

namespace {

using namespace mlr_python;

constexpr mlr::asl_options default_asl{};
constexpr mlr::asl_dual_options default_dual{};
constexpr mlr::ranking_options default_ranking{};
constexpr mlr::l1_options default_l1{};

// (f(x view, y view, gradient view), gradient) with the views typed after the runtime dtypes;
// the gradient is allocated with the GIL held, the loss runs without it.
template <std::size_t RankX, std::size_t RankY, class F>
py::tuple loss_call(const tensor_arg& x, const tensor_arg& y, F&& f) {
  return mlr::visit_dtype(x.dtype(), [&](auto x_type) -> py::tuple {
    using T = typename decltype(x_type)::type;
    if constexpr (!std::is_floating_point_v<T>) {  // tensor_arg accepts only float32/float64 here
      throw mlr::error("expected dtype float32 or float64, found " + std::string(mlr::to_string(x.dtype())));
    } else {
      const auto xv = x.view<T, RankX>();
      std::vector<py::ssize_t> shape(xv.extents().begin(), xv.extents().end());
      py::array_t<T> gradient(shape);
      const mlr::strided_view<T, RankX> gv(gradient.mutable_data(), xv.extents());
      double value = 0.0;
      {
        py::gil_scoped_release nogil;
        value = mlr::visit_dtype(y.dtype(), [&](auto y_type) -> double {
          using L = typename decltype(y_type)::type;
          return f(xv, y.view<L, RankY>(), gv);
        });
      }
      return py::make_tuple(value, gradient);
    }
  });
}

constexpr const char* asl_doc = R"doc(
ASL, the sigmoid form of the ASL repository's AsymmetricLoss (METHOD.md 3.2, 3.5).

Per entry p = sigmoid(x); negatives use min(1 - p + clip, 1) (no shift when clip <= 0); logs are
clamped at eps; the focusing weight (1 - pt)^gamma is a constant in the gradient
(``focal_weight='constant'``, AsymmetricLoss) or differentiated (``'differentiable'``,
AsymmetricLossOptimized). Ignored targets contribute nothing.

Parameters
----------
logits : array [B, C] of float32 or float64
targets : array [B, C] in ``encoding``
gamma_neg, gamma_pos : float >= 0
clip : float
eps : float > 0
focal_weight : str
    ``'constant'`` or ``'differentiable'``.
reduction : str
    ``'sum'`` (the official code) or ``'mean'`` (over the entries not ignored).
encoding : str
    ``'canonical'`` (1/0/-1 ignored) or ``'signed_zero_ignored'`` / ``'signed'``.
threads : int
    Worker threads; 0 means one per hardware thread. Results do not depend on it.

Returns
-------
(float, array [B, C])
    The loss and its gradient with respect to ``logits`` (same dtype).
)doc";

constexpr const char* asl_dual_doc = R"doc(
DualCoOp's ASL on dual logits (METHOD.md 3.1, 3.5): per entry the softmax over (negative,
positive) logits gives p and q; entries with an ignored target are dropped.

Parameters
----------
logits : array [B, 2, C] of float32 or float64
    Index 0 negative, 1 positive (DualCoOp's layout).
targets : array [B, C] in ``encoding``
gamma_neg, gamma_pos, clip, eps, focal_weight, reduction, encoding, threads
    As in ``asl_loss``; defaults are what DualCoOp's trainer runs (gamma_neg 2, eps 1e-6).

Returns
-------
(float, array [B, 2, C])
    The loss and its gradient with respect to ``logits``; the two rows of an entry are opposite.
)doc";

constexpr const char* ranking_doc = R"doc(
MKT/BiAM's ranking loss (METHOD.md 3.7): per image the hinge max(0, margin + s_i - s_j) summed over
the pairs (i negative, j positive), divided by the number of violating pairs + eps; the mean over
all images. O(C log C) per image.

Parameters
----------
scores : array [B, C] of float32 or float64
targets : array [B, C] in ``encoding`` (default ``'signed_zero_ignored'``: +1/-1/0 ignored)
margin : float
eps : float > 0
margin_rule : str
    ``'reference'`` (the official gradient: a pair exactly on the margin passes gradient though it
    is not counted as violating) or ``'consistent'`` (h > 0 for both).
reduction : str
    ``'mean'`` over images (the official code) or ``'sum'`` over images.
encoding : str
workspace : RankingWorkspace or None
    Scratch reused between calls (never shared by concurrent calls); None: a fresh one.
threads : int

Returns
-------
(float, array [B, C])
)doc";

constexpr const char* l1_doc = R"doc(
MKT's first-stage distillation (METHOD.md 3.8): mean absolute error between student and teacher
embeddings, and its gradient sign(student - teacher) / (B D) with respect to the student.

Parameters
----------
student, teacher : arrays [B, D], both float32 or both float64
reduction : str
    ``'mean'`` (the official code) or ``'sum'``.
threads : int

Returns
-------
(float, array [B, D])
)doc";

}  // namespace

void bind_loss(pybind11::module_& m) {
  m.def(
      "asl_loss",
      [](const py::object& logits, const py::object& targets, double gamma_neg, double gamma_pos, double clip, double eps,
         std::string_view focal_weight, std::string_view reduction, std::string_view encoding, unsigned threads) {
        const mlr::asl_options o{.gamma_neg = gamma_neg, .gamma_pos = gamma_pos, .clip = clip, .eps = eps,
                                 .focal_weight = mlr::parse_policy<mlr::focal_weight>(focal_weight),
                                 .reduction = mlr::parse_policy<mlr::reduction>(reduction),
                                 .encoding = mlr::parse_policy<mlr::label_encoding>(encoding)};
        const mlr::execution_env env{threads};
        const tensor_arg x(logits, "logits", 2, accepts::real);
        const tensor_arg y(targets, "targets", 2, accepts::label);
        return loss_call<2, 2>(x, y, [&](auto xv, auto yv, auto gv) { return mlr::asl_loss(xv, yv, gv, o, env); });
      },
      py::arg("logits"), py::arg("targets"), py::arg("gamma_neg") = default_asl.gamma_neg,
      py::arg("gamma_pos") = default_asl.gamma_pos, py::arg("clip") = default_asl.clip, py::arg("eps") = default_asl.eps,
      py::arg("focal_weight") = default_name(default_asl.focal_weight),
      py::arg("reduction") = default_name(default_asl.reduction), py::arg("encoding") = default_name(default_asl.encoding),
      py::arg("threads") = mlr::execution_env{}.threads, asl_doc);

  m.def(
      "asl_dual_loss",
      [](const py::object& logits, const py::object& targets, double gamma_neg, double gamma_pos, double clip, double eps,
         std::string_view focal_weight, std::string_view reduction, std::string_view encoding, unsigned threads) {
        const mlr::asl_dual_options o{.gamma_neg = gamma_neg, .gamma_pos = gamma_pos, .clip = clip, .eps = eps,
                                      .focal_weight = mlr::parse_policy<mlr::focal_weight>(focal_weight),
                                      .reduction = mlr::parse_policy<mlr::reduction>(reduction),
                                      .encoding = mlr::parse_policy<mlr::label_encoding>(encoding)};
        const mlr::execution_env env{threads};
        const tensor_arg x(logits, "logits", 3, accepts::real);
        const tensor_arg y(targets, "targets", 2, accepts::label);
        return loss_call<3, 2>(x, y, [&](auto xv, auto yv, auto gv) { return mlr::asl_dual_loss(xv, yv, gv, o, env); });
      },
      py::arg("logits"), py::arg("targets"), py::arg("gamma_neg") = default_dual.gamma_neg,
      py::arg("gamma_pos") = default_dual.gamma_pos, py::arg("clip") = default_dual.clip, py::arg("eps") = default_dual.eps,
      py::arg("focal_weight") = default_name(default_dual.focal_weight),
      py::arg("reduction") = default_name(default_dual.reduction),
      py::arg("encoding") = default_name(default_dual.encoding), py::arg("threads") = mlr::execution_env{}.threads,
      asl_dual_doc);

  py::class_<mlr::ranking_workspace>(m, "RankingWorkspace",
                                     "Scratch of ranking_loss, reused between calls (mirrors mlr::ranking_workspace).")
      .def(py::init<>());

  m.def(
      "ranking_loss",
      [](const py::object& scores, const py::object& targets, double margin, double eps, std::string_view margin_rule,
         std::string_view reduction, std::string_view encoding, mlr::ranking_workspace* workspace, unsigned threads) {
        const mlr::ranking_options o{.margin = margin, .eps = eps,
                                     .margin_rule = mlr::parse_policy<mlr::margin_rule>(margin_rule),
                                     .reduction = mlr::parse_policy<mlr::reduction>(reduction),
                                     .encoding = mlr::parse_policy<mlr::label_encoding>(encoding)};
        const mlr::execution_env env{threads};
        const tensor_arg s(scores, "scores", 2, accepts::real);
        const tensor_arg y(targets, "targets", 2, accepts::label);
        mlr::ranking_workspace own;
        mlr::ranking_workspace& ws = workspace != nullptr ? *workspace : own;
        return loss_call<2, 2>(s, y, [&](auto sv, auto yv, auto gv) { return mlr::ranking_loss(sv, yv, gv, ws, o, env); });
      },
      py::arg("scores"), py::arg("targets"), py::arg("margin") = default_ranking.margin,
      py::arg("eps") = default_ranking.eps, py::arg("margin_rule") = default_name(default_ranking.margin_rule),
      py::arg("reduction") = default_name(default_ranking.reduction),
      py::arg("encoding") = default_name(default_ranking.encoding), py::arg("workspace") = py::none(),
      py::arg("threads") = mlr::execution_env{}.threads, ranking_doc);

  m.def(
      "l1_distillation",
      [](const py::object& student, const py::object& teacher, std::string_view reduction, unsigned threads) {
        const mlr::l1_options o{.reduction = mlr::parse_policy<mlr::reduction>(reduction)};
        const mlr::execution_env env{threads};
        const tensor_arg s(student, "student", 2, accepts::real);
        const tensor_arg t(teacher, "teacher", 2, accepts::real);
        return loss_call<2, 2>(s, t, [&](auto sv, auto tv, auto gv) -> double {
          using T = typename decltype(sv)::value_type;
          using U = typename decltype(tv)::value_type;
          if constexpr (std::is_same_v<T, U>) {
            return mlr::l1_distillation(sv, tv, gv, o, env);
          } else {
            throw mlr::error("teacher: expected the dtype of student (" + std::string(mlr::to_string(mlr::dtype_of<T>)) +
                             "), found " + (mlr::is_supported_element_v<U> ? std::string(mlr::to_string(mlr::dtype_of<U>)) : "?"));
          }
        });
      },
      py::arg("student"), py::arg("teacher"), py::arg("reduction") = default_name(default_l1.reduction),
      py::arg("threads") = mlr::execution_env{}.threads, l1_doc);
}

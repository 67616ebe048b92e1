"""Invalid input raises ValueError whose message is mlr's (CONVENTIONS.md: it names the argument,
what was expected and what was found). Messages are matched whole where they are mlr's own."""

import re

import numpy as np
import pytest

import mlr

S = np.array([[.9, .2], [.3, .8], [.6, .4]])
Y = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8)


def with_value(a, index, value, dtype=None):
    a = a.astype(dtype or a.dtype)
    a[index] = value
    return a


def exactly(message):
    return "^" + re.escape(message) + "$"


# (call, exact message)
CASES = {
    # non-finite scores: the first offending index in row-major order
    "nan score": (lambda: mlr.mean_average_precision(with_value(S, (1, 0), np.nan), Y),
                  "scores: expected finite values, found nan at (1, 0)"),
    "inf score": (lambda: mlr.mean_average_precision(with_value(S, (2, 1), np.inf), Y),
                  "scores: expected finite values, found inf at (2, 1)"),
    "-inf float32 score": (lambda: mlr.average_precision(
        with_value(S[:, 0], 2, -np.inf, np.float32), Y[:, 0]),
        "scores: expected finite values, found -inf at (2,)"),
    "first of several": (lambda: mlr.mean_average_precision(
        with_value(with_value(S, (2, 0), np.nan), (1, 1), np.inf), Y),
        "scores: expected finite values, found inf at (1, 1)"),
    # labels outside the encoding
    "label 2": (lambda: mlr.mean_average_precision(S, with_value(Y, (0, 1), 2)),
                "labels: expected labels in the canonical encoding (1 positive, 0 negative, "
                "-1 ignored), found 2 at (0, 1)"),
    "label 0.5": (lambda: mlr.mean_average_precision(S, with_value(Y, (2, 0), 0.5, np.float64)),
                  "labels: expected labels in the canonical encoding (1 positive, 0 negative, "
                  "-1 ignored), found 0.5 at (2, 0)"),
    "label nan": (lambda: mlr.average_precision(S[:, 0], with_value(Y[:, 0], 1, np.nan,
                                                                    np.float32)),
                  "labels: expected labels in the canonical encoding (1 positive, 0 negative, "
                  "-1 ignored), found nan at (1,)"),
    "label 255": (lambda: mlr.mean_average_precision(S, with_value(Y, (1, 0), 255, np.uint8)),
                  "labels: expected labels in the canonical encoding (1 positive, 0 negative, "
                  "-1 ignored), found 255 at (1, 0)"),
    "signed label 2": (lambda: mlr.mean_average_precision(S, with_value(Y, (0, 0), 2),
                                                          encoding="signed"),
                       "labels: expected labels in the signed encoding (1 positive, -1 negative, "
                       "0 ignored), found 2 at (0, 0)"),
    # shapes
    "shape mismatch": (lambda: mlr.mean_average_precision(S, np.zeros((3, 3), np.int8)),
                       "labels: expected shape (3, 2) (that of scores), found (3, 3)"),
    "transposed labels": (lambda: mlr.mean_average_precision(S, Y.T),
                          "labels: expected shape (3, 2) (that of scores), found (2, 3)"),
    "length mismatch": (lambda: mlr.average_precision([.1, .2, .3], [1, 0]),
                        "labels: expected shape (3,) (that of scores), found (2,)"),
    "no rows": (lambda: mlr.mean_average_precision(np.zeros((0, 3)), np.zeros((0, 3))),
                "scores: expected a non-empty tensor, found shape (0, 3)"),
    "no columns": (lambda: mlr.mean_average_precision(np.zeros((3, 0)), np.zeros((3, 0))),
                   "scores: expected a non-empty tensor, found shape (3, 0)"),
    "empty lists": (lambda: mlr.average_precision([], []),
                    "scores: expected a non-empty tensor, found shape (0,)"),
    # ranks
    "3-D scores": (lambda: mlr.mean_average_precision(np.zeros((2, 3, 4)), np.zeros((2, 3))),
                   "scores: expected a 2-D array (N x C), found a 3-D array of shape (2, 3, 4)"),
    "3-D labels": (lambda: mlr.mean_average_precision(np.zeros((2, 3)), np.zeros((2, 3, 1))),
                   "labels: expected a 2-D array (N x C), found a 3-D array of shape (2, 3, 1)"),
    "1-D to mean_average_precision": (lambda: mlr.mean_average_precision(S[:, 0], Y[:, 0]),
                                      "scores: expected a 2-D array (N x C), found a 1-D array "
                                      "of shape (3,)"),
    "2-D to average_precision": (lambda: mlr.average_precision(S, Y),
                                 "scores: expected a 1-D array (N), found a 2-D array of shape "
                                 "(3, 2)"),
    "scalar": (lambda: mlr.average_precision(0.5, 1),
               "scores: expected a 1-D array (N), found a 0-D array of shape ()"),
    # dtypes
    "int scores": (lambda: mlr.mean_average_precision(S.astype(np.int64), Y),
                   "scores: expected dtype float32 or float64, found int64"),
    "int list scores": (lambda: mlr.average_precision([3, 2, 1], [1, 0, 1]),
                        "scores: expected dtype float32 or float64, found int64"),
    "bool scores": (lambda: mlr.mean_average_precision(S > .5, Y),
                    "scores: expected dtype float32 or float64, found bool"),
    "complex scores": (lambda: mlr.mean_average_precision(S.astype(np.complex128), Y),
                       "scores: expected dtype float32 or float64, found complex128"),
    "half scores": (lambda: mlr.mean_average_precision(S.astype(np.float16), Y),
                    "scores: expected dtype float32 or float64, found float16"),
    "string scores": (lambda: mlr.average_precision(["a", "b"], [1, 0]),
                      "scores: expected dtype float32 or float64, found <U1"),
    "object scores": (lambda: mlr.average_precision(np.array([.5, None]), [1, 0]),
                      "scores: expected dtype float32 or float64, found object"),
    "complex labels": (lambda: mlr.mean_average_precision(S, Y.astype(np.complex64)),
                       "labels: expected dtype int8, int32, int64, uint8, bool, float32 or "
                       "float64, found complex64"),
    "int16 labels": (lambda: mlr.mean_average_precision(S, Y.astype(np.int16)),
                     "labels: expected dtype int8, int32, int64, uint8, bool, float32 or float64, "
                     "found int16"),
    # policy names: the C++ names, listed
    "method": (lambda: mlr.mean_average_precision(S, Y, method="rank"),
               "method: expected one of step, ranked, voc07_11point, voc_area; found 'rank'"),
    "epsilon": (lambda: mlr.mean_average_precision(S, Y, method="ranked", epsilon=-1e-8),
                "epsilon: expected a finite value >= 0, found -1e-08"),
    "average": (lambda: mlr.mean_average_precision(S, Y, average="mean"),
                "average: expected one of macro, micro, weighted, samples, none; found 'mean'"),
    "average case": (lambda: mlr.mean_average_precision(S, Y, average="Macro"),
                     "average: expected one of macro, micro, weighted, samples, none; found "
                     "'Macro'"),
    "empty_class": (lambda: mlr.mean_average_precision(S, Y, empty_class="skip"),
                    "empty_class: expected one of zero, exclude; found 'skip'"),
    "encoding": (lambda: mlr.mean_average_precision(S, Y, encoding="binary"),
                 "encoding: expected one of canonical, signed_zero_ignored, signed; found 'binary'"),
    "1-D method": (lambda: mlr.average_precision(S[:, 0], Y[:, 0], method="voc"),
                   "method: expected one of step, ranked, voc07_11point, voc_area; found 'voc'"),
    "1-D encoding": (lambda: mlr.average_precision(S[:, 0], Y[:, 0], encoding="pm1"),
                     "encoding: expected one of canonical, signed_zero_ignored, signed; found 'pm1'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_value_error_with_mlr_message(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match=exactly(message)):
        call()


def test_policy_names_are_checked_before_the_arrays():
    with pytest.raises(ValueError, match="^average: "):
        mlr.mean_average_precision(np.zeros((2, 3, 4)), "not an array", average="mean")


def test_scores_are_checked_before_labels():
    with pytest.raises(ValueError, match="^scores: "):
        mlr.mean_average_precision(S.astype(int), Y.astype(complex))


def test_ragged_lists_are_numpys_error():
    with pytest.raises(ValueError):
        mlr.mean_average_precision([[.1, .2], [.3]], [[1, 0], [1]])


@pytest.mark.parametrize("kwargs", [dict(threads=-1), dict(average=None), dict(method=1)])
def test_wrong_argument_types_are_type_errors(kwargs):
    with pytest.raises(TypeError):
        mlr.mean_average_precision(S, Y, **kwargs)

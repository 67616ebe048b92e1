"""The module's surface: names, defaults, result objects, version, docstrings."""

import gc
import math
import pathlib
import re

import numpy as np
import pytest

import mlr

ROOT = pathlib.Path(__file__).resolve().parents[2]
Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
S = np.array([[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]])


def test_version_is_that_of_version_hpp():
    text = (ROOT / "include" / "mlr" / "version.hpp").read_text()
    parts = [re.search(rf"#define MLR_VERSION_{p} (\d+)", text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert mlr.__version__ == ".".join(parts)


def test_signatures_and_defaults_are_the_cpp_ones():
    assert mlr.average_precision.__doc__.splitlines()[0] == (
        "average_precision(scores: object, labels: object, method: str = 'step', "
        "encoding: str = 'canonical', epsilon: float = 0.0) -> mlr.AveragePrecisionResult")
    assert mlr.mean_average_precision.__doc__.splitlines()[0] == (
        "mean_average_precision(scores: object, labels: object, method: str = 'step', "
        "average: str = 'macro', empty_class: str = 'zero', encoding: str = 'canonical', "
        "epsilon: float = 0.0, classes: object = None, threads: int = 0) -> mlr.MeanAveragePrecisionResult")


def test_defaults_equal_explicit_arguments():
    default = mlr.mean_average_precision(S, Y)
    explicit = mlr.mean_average_precision(scores=S, labels=Y, method="step", average="macro",
                                          empty_class="zero", encoding="canonical", epsilon=0.0, classes=None,
                                          threads=0)
    positional = mlr.mean_average_precision(S, Y, "step", "macro", "zero", "canonical", 0.0, None, 0)
    assert default.value == explicit.value == positional.value
    one = mlr.average_precision(S[:, 0], Y[:, 0])
    assert one.value == mlr.average_precision(S[:, 0], Y[:, 0], "step", "canonical").value


def test_signed_alias():
    signed = np.where(Y == 1, 1, -1)
    a = mlr.mean_average_precision(S, signed, encoding="signed")
    b = mlr.mean_average_precision(S, signed, encoding="signed_zero_ignored")
    np.testing.assert_array_equal(a.per_class, b.per_class)


def test_docstrings():
    assert "__dlpack__" in mlr.__doc__ and "ValueError" in mlr.__doc__
    for f in (mlr.average_precision, mlr.mean_average_precision):
        for word in ("scores", "labels", "method", "encoding", "Returns", "Raises"):
            assert word in f.__doc__
    for word in ("average", "empty_class", "threads"):
        assert word in mlr.mean_average_precision.__doc__
    for cls, names in [(mlr.AveragePrecisionResult, ["value", "positives", "negatives", "empty"]),
                       (mlr.MeanAveragePrecisionResult,
                        ["value", "per_class", "positives", "empty", "empty_classes"])]:
        assert cls.__doc__
        for name in names + ["__float__", "__repr__"]:
            assert getattr(cls, name).__doc__, f"{cls.__name__}.{name} has no docstring"


def test_average_precision_result():
    r = mlr.average_precision([.9, .8, .7, .6, .5, .4], [1, 0, 1, 0, 0, 1])
    assert isinstance(r, mlr.AveragePrecisionResult)
    assert (r.positives, r.negatives, r.empty) == (3, 3, False)
    assert float(r) == r.value
    assert repr(r) == ("AveragePrecisionResult(value=0.7222222222222222, positives=3, "
                       "negatives=3, empty=False)")
    e = mlr.average_precision([.9, .8, .7], [0, -1, 0])
    assert (e.positives, e.negatives, e.empty) == (0, 2, True)
    assert math.isnan(float(e))
    assert repr(e) == "AveragePrecisionResult(value=nan, positives=0, negatives=2, empty=True)"
    with pytest.raises(AttributeError):
        r.value = 1.0


def test_mean_average_precision_result():
    r = mlr.mean_average_precision(S, Y)
    assert isinstance(r, mlr.MeanAveragePrecisionResult)
    assert r.per_class.dtype == np.float64 and r.per_class.shape == (3,)
    assert r.positives.dtype == np.int64 and r.positives.tolist() == [2, 2, 0]
    assert r.empty.dtype == np.bool_ and r.empty.tolist() == [False, False, True]
    assert r.empty_classes == 1 and isinstance(r.empty_classes, int)
    assert float(r) == r.value
    assert repr(r) == ("MeanAveragePrecisionResult(value=0.611111111111111, "
                       "per_class=[1.0, 0.8333333333333333, nan], positives=[2, 2, 0], "
                       "empty_classes=1)")
    for name in ("per_class", "positives", "empty"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(r, name)[0] = 0


def test_result_arrays_outlive_the_result():
    per_class = mlr.mean_average_precision(S, Y).per_class
    gc.collect()
    assert per_class[:2].tolist() == pytest.approx([1.0, 5 / 6], rel=1e-12, abs=1e-12)


def test_long_repr_is_summarised():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(30, 20))
    y = (rng.uniform(size=s.shape) < 0.5).astype(np.int8)
    r = mlr.mean_average_precision(s, y, average="none")
    text = repr(r)
    assert text.startswith("MeanAveragePrecisionResult(value=nan, per_class=[")
    assert text.count(", ...") == 2 and len(text) < 400
    assert f"{r.per_class[19]!r}]" in text


def test_none_average_value_is_nan():
    assert math.isnan(mlr.mean_average_precision(S, Y, average="none").value)

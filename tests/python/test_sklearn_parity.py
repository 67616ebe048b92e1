"""Parity of mlr's step AP with scikit-learn's average_precision_score (1.2.1), to 1e-12.

Seeded random problems over shapes (N = 1 and C = 1 included), float32 and float64 scores, heavy
ties, every label dtype, classes without positives and classes with only positives. Where
scikit-learn and mlr differ by design (CONVENTIONS.md), like is compared with like:

* a class without positives: scikit-learn -0.0, mlr NaN with the `empty` flag (per class) and
  +0.0 inside the means under empty_class='zero';
* ignored labels: scikit-learn knows none, so it is applied to the non-ignored entries only
  (per class, flattened for micro, per row for samples; see tests/reference/sklearn_ap.py);
* empty_class='exclude': a numpy mean over the non-empty classes (samples).
"""

import itertools
import math

import numpy as np
import pytest

import mlr
import sklearn_ap
import step_ap

TOL = dict(rel=1e-12, abs=1e-12)
AVERAGES = ["macro", "micro", "weighted", "samples"]
SCORE_DTYPES = [np.float64, np.float32]
LABEL_DTYPES = [np.int8, np.int32, np.int64, np.uint8, np.bool_, np.float32, np.float64]
SIGNED_DTYPES = [np.int8, np.int32, np.int64, np.float32, np.float64]  # can hold -1
SHAPES = [(1, 1), (1, 5), (2, 1), (3, 3), (6, 2), (17, 6), (64, 9), (150, 20), (333, 4)]
TIES = ["none", "rounded", "three values"]


def assert_value(actual, expected):
    """Equal to 1e-12, NaN where expected is NaN, and never -0.0."""
    if math.isnan(expected):
        assert math.isnan(actual), f"expected NaN, found {actual!r}"
    else:
        assert actual == pytest.approx(expected, **TOL)
        assert math.copysign(1.0, actual) > 0 or actual != 0, "mlr emitted -0.0"


def make_scores(rng, shape, dtype, ties):
    s = rng.normal(size=shape)
    if ties == "rounded":
        s = np.round(s, 1)
    elif ties == "three values":
        s = rng.integers(0, 3, size=shape) / 2.0
    return s.astype(dtype)


def make_labels(rng, shape, ignored=0.0):
    """0/1 labels (int64) with a class without positives and one with only positives when C
    allows; with `ignored` > 0, that fraction of the entries becomes -1."""
    n, c = shape
    y = (rng.uniform(size=shape) < rng.uniform(0.05, 0.7, size=c)).astype(np.int64)
    columns = rng.permutation(c)
    if c >= 2:
        y[:, columns[0]] = 0
    if c >= 3:
        y[:, columns[1]] = 1
    if ignored:
        y[rng.uniform(size=shape) < ignored] = -1
        if c >= 4:
            y[:, columns[2]] = -1  # a class entirely ignored
    return y


PROBLEMS = [
    pytest.param(i, shape, score_dtype, label_dtype, TIES[i % len(TIES)],
                 id=f"{shape[0]}x{shape[1]}-{np.dtype(score_dtype)}-{np.dtype(label_dtype)}-"
                    f"{TIES[i % len(TIES)].replace(' ', '_')}")
    for i, (shape, score_dtype, label_dtype) in enumerate(
        itertools.product(SHAPES, SCORE_DTYPES, LABEL_DTYPES))
]


@pytest.mark.parametrize("seed, shape, score_dtype, label_dtype, ties", PROBLEMS)
def test_binary_labels_match_sklearn(seed, shape, score_dtype, label_dtype, ties):
    rng = np.random.default_rng(seed)
    s = make_scores(rng, shape, score_dtype, ties)
    y01 = make_labels(rng, shape)
    y = y01.astype(label_dtype)

    expected = sklearn_ap.native(y01, s, "none")
    r = mlr.mean_average_precision(s, y, average="none")
    positives = y01.sum(axis=0)
    assert r.positives.tolist() == positives.tolist()
    assert r.empty.tolist() == (positives == 0).tolist()
    assert r.empty_classes == int(np.sum(positives == 0))
    for c in range(shape[1]):
        if positives[c] == 0:
            assert math.isnan(r.per_class[c])
            assert expected[c] == 0.0  # scikit-learn 1.2.1: -0.0
        else:
            assert r.per_class[c] == pytest.approx(expected[c], **TOL)

    for average in AVERAGES:
        zero = mlr.mean_average_precision(s, y, average=average)
        assert_value(zero.value, sklearn_ap.native(y01, s, average))
        np.testing.assert_array_equal(zero.per_class, r.per_class)

    # empty_class='exclude': numpy means over what has positives.
    has = positives > 0
    row_ap = np.array([sklearn_ap.binary(y01[i], s[i]) for i in range(shape[0])])
    exclude = {
        "macro": float(np.mean(expected[has])) if has.any() else math.nan,
        "weighted": sklearn_ap.native(y01, s, "weighted") if has.any() else math.nan,
        "micro": sklearn_ap.native(y01, s, "micro") if has.any() else math.nan,
        "samples": (float(np.mean(row_ap[~np.isnan(row_ap)]))
                    if (~np.isnan(row_ap)).any() else math.nan),
    }
    for average in AVERAGES:
        r = mlr.mean_average_precision(s, y, average=average, empty_class="exclude")
        assert_value(r.value, exclude[average])


@pytest.mark.parametrize("seed, shape, score_dtype, label_dtype, ties", PROBLEMS[::3])
def test_one_class_matches_sklearn(seed, shape, score_dtype, label_dtype, ties):
    rng = np.random.default_rng(1000 + seed)
    s = make_scores(rng, shape, score_dtype, ties)
    y01 = make_labels(rng, shape)
    for c in range(shape[1]):
        r = mlr.average_precision(s[:, c], y01[:, c].astype(label_dtype))
        assert r.positives == int(y01[:, c].sum())
        assert r.negatives == shape[0] - r.positives
        assert r.empty == (r.positives == 0)
        assert_value(r.value, sklearn_ap.binary(y01[:, c], s[:, c]))


MASKED = [
    pytest.param(i, shape, score_dtype, label_dtype, TIES[i % len(TIES)],
                 id=f"{shape[0]}x{shape[1]}-{np.dtype(score_dtype)}-{np.dtype(label_dtype)}")
    for i, (shape, score_dtype, label_dtype) in enumerate(
        itertools.product(SHAPES, SCORE_DTYPES, SIGNED_DTYPES))
]


@pytest.mark.parametrize("seed, shape, score_dtype, label_dtype, ties", MASKED)
@pytest.mark.parametrize("encoding", ["canonical", "signed_zero_ignored", "signed"])
def test_ignored_labels_match_masked_sklearn(seed, shape, score_dtype, label_dtype, ties,
                                             encoding):
    rng = np.random.default_rng(2000 + seed)
    s = make_scores(rng, shape, score_dtype, ties)
    canonical = make_labels(rng, shape, ignored=0.3)
    if encoding == "canonical":
        y = canonical
    else:  # +1 positive, -1 negative, 0 ignored
        y = np.select([canonical == 1, canonical == 0], [1, -1], 0)
    y = y.astype(label_dtype)

    _, per_class, positives = sklearn_ap.masked(y, s, "none", encoding=encoding)
    r = mlr.mean_average_precision(s, y, average="none", encoding=encoding)
    assert r.positives.tolist() == positives.tolist()
    assert r.empty.tolist() == np.isnan(per_class).tolist()
    for c in range(shape[1]):
        assert_value(r.per_class[c], per_class[c])

    for average, empty_class in itertools.product(AVERAGES, ["zero", "exclude"]):
        expected, _, _ = sklearn_ap.masked(y, s, average, empty_class, encoding)
        r = mlr.mean_average_precision(s, y, average=average, empty_class=empty_class,
                                       encoding=encoding)
        assert_value(r.value, expected)

    for c in range(min(shape[1], 3)):  # the 1-D entry point, masked the same way
        r = mlr.average_precision(s[:, c], y[:, c], encoding=encoding)
        assert_value(r.value, per_class[c])
        assert r.positives == positives[c]


@pytest.mark.parametrize("seed, shape, score_dtype, label_dtype, ties",
                         [p for p in MASKED if p.values[1][0] * p.values[1][1] <= 400])
def test_ignored_labels_match_naive_reference(seed, shape, score_dtype, label_dtype, ties):
    """The second reference: tests/reference/step_ap.py, written from METHOD.md 4.1."""
    rng = np.random.default_rng(3000 + seed)
    s = make_scores(rng, shape, score_dtype, ties)
    y = make_labels(rng, shape, ignored=0.3).astype(label_dtype)
    for average, empty_class in itertools.product(AVERAGES + ["none"], ["zero", "exclude"]):
        value, per_class, positives = step_ap.mean_average_precision(
            s.tolist(), y.tolist(), average, empty_class)
        r = mlr.mean_average_precision(s, y, average=average, empty_class=empty_class)
        assert_value(r.value, value)
        assert r.positives.tolist() == positives
        for c in range(shape[1]):
            assert_value(r.per_class[c], per_class[c])


def test_uint8_signed_labels_have_no_negatives():
    """uint8 cannot hold -1: in the signed encoding its 1s are positives, its 0s ignored."""
    s = np.array([[.9, .1], [.5, .7], [.2, .3]])
    y = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.uint8)
    r = mlr.mean_average_precision(s, y, average="none", encoding="signed")
    assert r.per_class.tolist() == [1.0, 1.0]
    assert r.positives.tolist() == [2, 2]


@pytest.mark.parametrize("encoding", ["canonical", "signed"])
def test_bool_labels_are_binary_in_every_encoding(encoding):
    rng = np.random.default_rng(5)
    s = rng.normal(size=(40, 5))
    y = rng.uniform(size=(40, 5)) < 0.3
    for average in AVERAGES:
        r = mlr.mean_average_precision(s, y, average=average, encoding=encoding)
        assert_value(r.value, sklearn_ap.native(y, s, average))


@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (5, 1), (9, 3)])
def test_no_positive_anywhere(shape):
    """scikit-learn gives -0.0 everywhere; mlr NaN per class, +0.0 ('zero') or NaN ('exclude')."""
    s = np.random.default_rng(0).normal(size=shape)
    y = np.zeros(shape, dtype=np.int8)
    for average in AVERAGES:
        r = mlr.mean_average_precision(s, y, average=average)
        assert r.value == 0.0 and math.copysign(1.0, r.value) == 1.0
        assert sklearn_ap.native(y, s, average) == 0.0
        assert np.isnan(r.per_class).all() and r.empty.all()
        assert math.isnan(mlr.mean_average_precision(s, y, average=average,
                                                     empty_class="exclude").value)

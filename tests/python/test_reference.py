"""The naive reference tests/reference/step_ap.py is itself checked against scikit-learn, so
that it can serve as the second reference of the module's tests."""

import itertools
import math

import numpy as np
import pytest

import sklearn_ap
import step_ap

TOL = dict(rel=1e-12, abs=1e-12)


def test_method_4_1_example():
    """METHOD.md 4.1: 4 equal scores, 2 positives -> 0.5."""
    assert step_ap.binary_average_precision([.3] * 4, [1, 0, 1, 0]) == 0.5


@pytest.mark.parametrize("seed", range(40))
def test_binary_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    s = rng.normal(size=n)
    if seed % 3 == 1:
        s = np.round(s, 1)  # ties
    if seed % 3 == 2:
        s = s.astype(np.float32)
    y = rng.uniform(size=n) < rng.uniform(0.05, 0.9)
    expected = sklearn_ap.binary(y, s)
    actual = step_ap.binary_average_precision(s, y)
    if math.isnan(expected):
        assert math.isnan(actual)
    else:
        assert actual == pytest.approx(expected, **TOL)


@pytest.mark.parametrize("seed", range(15))
def test_means_match_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    n, c = int(rng.integers(1, 30)), int(rng.integers(2, 7))
    s = np.round(rng.normal(size=(n, c)), 1)
    y = (rng.uniform(size=(n, c)) < 0.4).astype(np.int64)
    y[:, 0] = 0  # a class without positives
    for average in ["macro", "micro", "weighted", "samples"]:
        value, _, _ = step_ap.mean_average_precision(s.tolist(), y.tolist(), average)
        assert value == pytest.approx(sklearn_ap.native(y, s, average), **TOL)
    _, per_class, positives = step_ap.mean_average_precision(s.tolist(), y.tolist(), "none")
    expected = sklearn_ap.native(y, s, "none")
    for c in range(y.shape[1]):
        if y[:, c].any():
            assert per_class[c] == pytest.approx(expected[c], **TOL)
        else:
            assert math.isnan(per_class[c]) and expected[c] == 0.0  # scikit-learn: -0.0
    assert positives == y.sum(axis=0).tolist()


@pytest.mark.parametrize("seed", range(10))
def test_ignored_entries_match_masked_sklearn(seed):
    rng = np.random.default_rng(200 + seed)
    n, c = int(rng.integers(1, 25)), int(rng.integers(1, 6))
    s = rng.normal(size=(n, c))
    y = rng.choice([-1, 0, 1], size=(n, c))
    signed = np.select([y == 1, y == 0], [1, -1], 0)
    for average, empty_class in itertools.product(
            ["none", "macro", "micro", "weighted", "samples"], ["zero", "exclude"]):
        expected = sklearn_ap.masked(y, s, average, empty_class)
        for labels, encoding in [(y, "canonical"), (signed, "signed")]:
            actual = step_ap.mean_average_precision(s.tolist(), labels.tolist(), average,
                                                    empty_class, encoding)
            for a, e in [(actual[0], expected[0]), *zip(actual[1], expected[1])]:
                assert (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e, **TOL)
            assert actual[2] == expected[2].tolist()


def test_decode_label():
    assert step_ap.decode_label(-1) == step_ap.IGNORED
    assert step_ap.decode_label(-1, "signed") == step_ap.NEGATIVE
    assert step_ap.decode_label(0, "signed") == step_ap.IGNORED
    assert step_ap.decode_label(False, "signed") == step_ap.NEGATIVE
    assert step_ap.decode_label(np.bool_(True)) == step_ap.POSITIVE
    for bad in (2, 0.5, math.nan):
        with pytest.raises(ValueError):
            step_ap.decode_label(bad)

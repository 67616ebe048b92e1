"""mlr.label_ranking_average_precision against scikit-learn's
label_ranking_average_precision_score (METHOD.md 4.2, 7.8) and against the independent reference
tests/reference/lrap.py for ignored entries and class subsets."""

import numpy as np
import pytest
from sklearn.metrics import label_ranking_average_precision_score as sk_lrap

import lrap as ref
import mlr

TOL = dict(rel=1e-12, abs=1e-12)


def test_method_7_8():
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
    s = np.array([[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]])
    assert mlr.label_ranking_average_precision(s, y) == pytest.approx(1.0, **TOL)
    y2 = np.array([[1, 0, 0], [0, 0, 1]])
    s2 = np.array([[0.75, 0.5, 1], [1, 0.2, 0.1]])
    assert mlr.label_ranking_average_precision(s2, y2) == pytest.approx(0.416666666666667, **TOL)
    assert sk_lrap(y2, s2) == pytest.approx(0.416666666666667, **TOL)


@pytest.mark.parametrize("seed", range(40))
def test_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 50)), int(rng.integers(1, 12))
    s = rng.normal(size=(n, c))
    if seed % 3 != 0:
        s = np.round(s, 1 if seed % 3 == 1 else 0)  # ties, many ties
    if seed % 4 == 3:
        s = s.astype(np.float32)
    y = (rng.uniform(size=(n, c)) < rng.uniform(0.1, 0.8)).astype(np.int8)
    expected = sk_lrap(y, s)
    assert mlr.label_ranking_average_precision(s, y) == pytest.approx(expected, **TOL)
    assert mlr.label_ranking_average_precision(s, y.astype(bool), threads=2) == pytest.approx(expected, **TOL)
    assert ref.label_ranking_average_precision(s, y) == pytest.approx(expected, **TOL)


@pytest.mark.parametrize("seed", range(20))
def test_ignored_entries_are_removed(seed):
    rng = np.random.default_rng(200 + seed)
    n, c = int(rng.integers(1, 30)), int(rng.integers(2, 10))
    s = np.round(rng.normal(size=(n, c)), 1)
    y = rng.choice(np.array([-1, 0, 1], np.int8), size=(n, c), p=[0.25, 0.45, 0.3])
    expected = ref.label_ranking_average_precision(s, y)
    assert mlr.label_ranking_average_precision(s, y) == pytest.approx(expected, **TOL)
    # Row by row, scikit-learn on the row with its ignored entries dropped gives the same mean.
    rows = []
    for i in range(n):
        keep = y[i] != -1
        rows.append(sk_lrap(y[i, keep][None, :], s[i, keep][None, :]) if keep.any() else 1.0)
    assert mlr.label_ranking_average_precision(s, y) == pytest.approx(np.mean(rows), **TOL)
    signed = np.where(y == -1, 0, np.where(y == 0, -1, 1)).astype(np.int8)
    assert mlr.label_ranking_average_precision(s, signed, encoding="signed") == pytest.approx(expected, **TOL)


@pytest.mark.parametrize("seed", range(10))
def test_class_subsets_equal_slicing(seed):
    rng = np.random.default_rng(300 + seed)
    n, c = int(rng.integers(1, 30)), int(rng.integers(2, 10))
    s = np.round(rng.normal(size=(n, c)), 1)
    y = rng.choice(np.array([-1, 0, 1], np.int8), size=(n, c))
    subset = rng.permutation(c)[: int(rng.integers(1, c + 1))]
    expected = mlr.label_ranking_average_precision(s[:, subset], y[:, subset])
    assert mlr.label_ranking_average_precision(s, y, classes=subset) == pytest.approx(expected, **TOL)
    assert ref.label_ranking_average_precision(s, y, classes=subset) == pytest.approx(expected, **TOL)


@pytest.mark.parametrize("seed", range(6))
def test_wide_rows_and_heavy_ties_match_sklearn(seed):
    # 300 classes, relevant shares from sparse (a few rungs: one counting pass each) to dense
    # (hundreds of rungs: every entry ranked), scores on 1..64 levels or continuous.
    rng = np.random.default_rng(400 + seed)
    n, c = 120, 300
    s = rng.uniform(size=(n, c))
    levels = [1, 4, 64, 0, 1000, 0][seed]
    if levels:
        s = np.floor(s * levels) / levels
    share = np.linspace(0.0, 1.0, n)[:, None] ** 2
    y = (rng.uniform(size=(n, c)) < share).astype(np.int8)
    expected = sk_lrap(y, s)
    assert mlr.label_ranking_average_precision(s, y) == pytest.approx(expected, **TOL)
    s32 = s.astype(np.float32)
    assert mlr.label_ranking_average_precision(s32, y, threads=2) == pytest.approx(sk_lrap(y, s32), **TOL)
    # Strided rows (Fortran order, every other column) take the general path.
    assert mlr.label_ranking_average_precision(np.asfortranarray(s), np.asfortranarray(y)) == pytest.approx(
        expected, **TOL)
    assert mlr.label_ranking_average_precision(np.asfortranarray(s), np.asfortranarray(y.astype(bool))) == (
        pytest.approx(expected, **TOL))
    assert mlr.label_ranking_average_precision(s[:, ::2], y[:, ::2]) == pytest.approx(
        sk_lrap(y[:, ::2], s[:, ::2]), **TOL)


def test_first_bad_entry_is_named():
    s = np.full((5000, 4), 0.5)
    y = np.zeros((5000, 4), np.int8)
    y[4000, 3] = 2
    s[4999, 0] = np.nan
    with pytest.raises(ValueError, match=r"scores: expected finite values, found nan at \(4999, 0\)"):
        mlr.label_ranking_average_precision(s, y, threads=2)
    s[4999, 0] = 0.5
    with pytest.raises(ValueError, match=r"found 2 at \(4000, 3\)"):
        mlr.label_ranking_average_precision(s, y, classes=[3, 1], threads=2)


def test_threads_do_not_matter():
    rng = np.random.default_rng(5)
    s = np.round(rng.normal(size=(3000, 20)), 1)
    y = (rng.uniform(size=s.shape) < 0.3).astype(np.int8)
    one = mlr.label_ranking_average_precision(s, y, threads=1)
    assert mlr.label_ranking_average_precision(s, y, threads=2) == one
    assert one == pytest.approx(sk_lrap(y, s), **TOL)


def test_errors():
    s = np.array([[.9, .2, .1], [.3, .8, .7]])
    y = np.array([[1, 0, 0], [0, 1, 0]], np.int8)
    with pytest.raises(ValueError, match=r"classes: expected class indices in \[0, 3\), found -1"):
        mlr.label_ranking_average_precision(s, y, classes=[-1])
    with pytest.raises(ValueError, match="encoding: expected one of"):
        mlr.label_ranking_average_precision(s, y, encoding="binary")
    bad = s.copy()
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"scores: expected finite values, found inf at \(0, 1\)"):
        mlr.label_ranking_average_precision(bad, y)

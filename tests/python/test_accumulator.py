"""mlr.ap_accumulator and mlr.binned_ap_accumulator from Python.

Streaming, sharding across processes, pickling and serialization against the one-shot
mlr.mean_average_precision, which test_sklearn_parity.py checks against scikit-learn; the exact
accumulator is also checked against scikit-learn directly here. torchmetrics parity (exact and
binned) is in test_torchmetrics_parity.py.
"""

import multiprocessing
import pickle

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

import mlr
import state_layout

METHODS = ["step", "ranked", "voc07_11point", "voc_area"]
AVERAGES = ["macro", "micro", "weighted", "samples", "none"]


def problem(n=90, c=6, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    s = np.round(rng.uniform(size=(n, c)), 1).astype(dtype)  # many ties
    y = np.where(rng.uniform(size=(n, c)) < 0.3, 1, 0).astype(np.int8)
    y[rng.uniform(size=(n, c)) < 0.1] = -1
    y[:, 0] = 0  # an empty class
    return s, y


def batches(n, parts, seed):
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, n), parts - 1, replace=False))
    return list(zip(np.r_[0, cuts], np.r_[cuts, n]))


def same(a, b):
    np.testing.assert_array_equal(np.array([a.value]), np.array([b.value]))
    np.testing.assert_array_equal(a.per_class, b.per_class)
    np.testing.assert_array_equal(a.positives, b.positives)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(4))
def test_streaming_equals_one_shot(dtype, seed):
    s, y = problem(seed=seed, dtype=dtype)
    acc = mlr.ap_accumulator(6, dtype=dtype)
    for a, b in batches(len(s), 1 + seed, seed):
        acc.update(s[a:b], y[a:b])
    assert acc.rows == len(s)
    np.testing.assert_array_equal(acc.scores, s)
    np.testing.assert_array_equal(acc.labels, y)
    for method in METHODS:
        for average in AVERAGES:
            same(acc.compute(method=method, average=average, epsilon=1e-8),
                 mlr.mean_average_precision(s, y, method=method, average=average, epsilon=1e-8))
    same(acc.compute(classes=[5, 2]), mlr.mean_average_precision(s, y, classes=[5, 2]))


def test_exact_accumulator_against_scikit_learn():
    s, y = problem(n=300, c=5, seed=9, dtype=np.float64)
    y[y == -1] = 0  # scikit-learn has no ignored labels
    acc = mlr.ap_accumulator(5, dtype="float64")
    for a, b in batches(300, 7, 1):
        acc.update(s[a:b], y[a:b])
    r = acc.compute(average="none")
    for c in range(1, 5):
        assert r.per_class[c] == pytest.approx(average_precision_score(y[:, c], s[:, c]), rel=1e-12, abs=1e-12)


def _shard_state(args):
    s, y, kind = args
    acc = mlr.ap_accumulator(s.shape[1]) if kind == "exact" else mlr.binned_ap_accumulator(s.shape[1], thresholds=17)
    acc.update(s, y)
    return acc.serialize()


@pytest.mark.parametrize("kind", ["exact", "binned"])
def test_shards_from_other_processes_merge_to_the_whole(kind):
    s, y = problem(n=200, seed=3)
    shards = [(s[a:b], y[a:b], kind) for a, b in batches(200, 4, 3)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        states = pool.map(_shard_state, shards)
    cls = mlr.ap_accumulator if kind == "exact" else mlr.binned_ap_accumulator
    merged = cls.deserialize(states[0])
    for state in states[1:]:
        merged.merge(cls.deserialize(state))
    whole = cls.deserialize(_shard_state((s, y, kind)))
    assert merged.serialize() == whole.serialize()
    for average in ["macro", "micro", "weighted", "none"]:
        same(merged.compute(average=average), whole.compute(average=average))


def test_pickle_round_trip_keeps_everything():
    s, y = problem(seed=5)
    for acc in (mlr.ap_accumulator(6, encoding="canonical"), mlr.binned_ap_accumulator(6, thresholds=[0.1, 0.5, 0.9])):
        acc.update(s, y)
        back = pickle.loads(pickle.dumps(acc))
        assert back.serialize() == acc.serialize()
        assert (back.classes, back.encoding, back.dtype) == (6, "canonical", np.float32)
        same(back.compute(), acc.compute())


def test_binned_with_every_distinct_score_is_exact():
    s, y = problem(n=150, seed=7, dtype=np.float64)
    acc = mlr.binned_ap_accumulator(6, thresholds=np.unique(s), dtype="float64")
    acc.update(s, y)
    for average in ["macro", "micro", "weighted"]:
        assert acc.compute(average=average).value == pytest.approx(
            mlr.mean_average_precision(s, y, average=average).value, rel=1e-12)


def test_binned_counts_by_brute_force():
    s, y = problem(n=70, c=3, seed=2)
    acc = mlr.binned_ap_accumulator(3, thresholds=5)
    acc.update(s, y)
    tp, fp, fn = acc.counts()
    t = acc.thresholds
    np.testing.assert_array_equal(t, np.array([0, 0.25, 0.5, 0.75, 1], dtype=np.float32))
    for j in range(5):
        above = s >= t[j]
        np.testing.assert_array_equal(tp[j], ((y == 1) & above).sum(0))
        np.testing.assert_array_equal(fp[j], ((y == 0) & above).sum(0))
        np.testing.assert_array_equal(fn[j], ((y == 1) & ~above).sum(0))


def test_defaults_match_cpp():
    acc = mlr.ap_accumulator(3)
    assert (acc.dtype, acc.encoding) == (np.float32, "canonical")
    assert len(mlr.binned_ap_accumulator(3).thresholds) == 100


def test_errors_name_what_was_found():
    s, y = problem(n=10, c=3)
    acc = mlr.ap_accumulator(3)
    acc.update(s, y)
    before = acc.serialize()
    with pytest.raises(ValueError, match=r"scores: expected shape \(B, 3\) for this accumulator, found \(10, 2\)"):
        acc.update(s[:, :2], y[:, :2])
    bad = s.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"found nan at \(4, 1\)"):
        acc.update(bad, y)
    with pytest.raises(ValueError, match="expected float32 for this float32 accumulator, found float64"):
        acc.update(s.astype(np.float64), y)
    assert acc.serialize() == before
    with pytest.raises(ValueError, match="other: expected a float32 accumulator, found a float64 one"):
        acc.merge(mlr.ap_accumulator(3, dtype="float64"))
    with pytest.raises(ValueError, match="no rows"):
        mlr.ap_accumulator(3).compute()
    with pytest.raises(ValueError, match="dtype: expected float32 or float64, found int32"):
        mlr.ap_accumulator(3, dtype="int32")
    with pytest.raises(ValueError, match="checksum mismatch"):
        mlr.ap_accumulator.deserialize(before[:-1] + bytes([before[-1] ^ 1]))
    with pytest.raises(ValueError, match="state: holds an ap_accumulator, expected a binned_ap_accumulator"):
        mlr.binned_ap_accumulator.deserialize(before)
    with pytest.raises(ValueError, match=r"thresholds: expected strictly ascending values, found 0.100000001 at \(1\)"):
        mlr.binned_ap_accumulator(3, thresholds=[0.1, 0.1 + 1e-12])  # equal in float32
    with pytest.raises(ValueError, match="average: samples"):
        mlr.binned_ap_accumulator(3).compute(average="samples")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("encoding", ["canonical", "signed_zero_ignored"])
def test_state_layout_is_the_documented_one(dtype, encoding):
    s, y = problem(n=23, c=4, seed=11, dtype=dtype)
    if encoding == "signed_zero_ignored":
        y = np.select([y == 1, y == 0, y == -1], [1, -1, 0]).astype(np.int8)
    acc = mlr.ap_accumulator(4, dtype=dtype, encoding=encoding)
    acc.update(s, y)
    assert acc.serialize() == state_layout.exact_state(s, y, encoding)
    thresholds = np.array([0.05, 0.3, 0.5, 0.9], dtype=dtype)
    binned = mlr.binned_ap_accumulator(4, thresholds=thresholds, dtype=dtype, encoding=encoding)
    binned.update(s, y)
    negative = 0 if encoding == "canonical" else -1
    pos, neg = state_layout.passed_counts(s, y, thresholds, negative_value=negative)
    assert binned.serialize() == state_layout.binned_state(thresholds, pos, neg, encoding)

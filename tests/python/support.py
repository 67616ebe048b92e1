"""Helpers shared by the input tests (test_inputs.py, test_dlpack.py)."""

import tracemalloc

import numpy as np

import mlr

LABEL_DTYPES = [np.int8, np.int32, np.int64, np.uint8, np.bool_, np.float32, np.float64]
AVERAGES = ["macro", "micro", "weighted", "samples", "none"]


def problem(n=60, c=7, seed=0, score_dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = np.round(rng.normal(size=(n, c)), 1).astype(score_dtype)
    y = (rng.uniform(size=(n, c)) < 0.35).astype(np.int8)
    y[:, 0] = 0
    return s, y


def results(scores, labels, **kwargs):
    """Every average of one problem, as (value, per_class, positives) tuples."""
    out = []
    for average in AVERAGES:
        r = mlr.mean_average_precision(scores, labels, average=average, **kwargs)
        out.append((r.value, r.per_class.copy(), r.positives.copy()))
    return out


def assert_identical(a, b):
    """Bit-identical results (same values, same NaNs)."""
    for (va, pa, na), (vb, pb, nb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.array([va]), np.array([vb]))
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(na, nb)


def traced_peak(f):
    """Peak of the memory numpy allocates (numpy reports to tracemalloc) while f runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        f()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()

"""mlr.top_k against METHOD.md's worked vectors (7.9, 7.10, 7.12) and against the independent
reference tests/reference/top_k.py on seeded random problems: ties, ignored entries in both
`ignored` modes, k larger than the classes, every zero-division policy, class subsets."""

import math

import numpy as np
import pytest

import mlr
import top_k as ref

FIELDS = ["precision", "recall", "f1", "true_positives", "predicted", "positives"]


def as_dict(r):
    return {f: getattr(r, f) for f in FIELDS}


def assert_same(actual, expected):
    for f in FIELDS:
        a, e = actual[f], expected[f]
        if isinstance(e, float) and math.isnan(e):
            assert math.isnan(a), f
        else:
            assert a == pytest.approx(e, rel=1e-12, abs=1e-15), f


CALC_F1_GT = np.array([[1, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 0]], np.int8)
CALC_F1_S = np.array([[.9, .8, .7, .1, 0], [.1, .9, .2, .8, 0], [.5, .4, .3, .2, .1], [.1, .2, .3, .4, .5]])


@pytest.mark.parametrize("k, expected", [(1, (50, 28.5714, 36.3636)), (3, (41.6667, 71.4286, 52.6316)),
                                         (5, (35, 100, 51.8519)), (7, (35, 100, 51.8519))])
def test_dualcoop_calc_f1(k, expected):
    r = mlr.top_k(CALC_F1_S, CALC_F1_GT, k)
    assert [100 * r.precision, 100 * r.recall, 100 * r.f1] == pytest.approx(expected, abs=1e-4)
    assert r.predicted == 4 * min(k, 5)


def test_dualcoop_zero_shot_subset():
    d = np.array([[2, -1, 0.3], [-0.5, 1.5, -2], [0.1, 0.2, -0.1], [-3, -0.2, 4]])
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    r1 = mlr.top_k(d, y, 1, classes=[0, 2])
    assert (r1.precision, r1.recall, r1.f1) == pytest.approx((0.75, 1.0, 0.857143), abs=1e-6)
    r2 = mlr.top_k(d, y, 2, classes=np.array([0, 2]))
    assert (r2.precision, r2.recall, r2.f1) == pytest.approx((0.375, 1.0, 0.545455), abs=1e-6)


MKT_S = np.array([[.9, .2, .5, .1], [.8, .3, .4, 0]], np.float32)
MKT_Y = np.array([[1, -1, 0, 1], [-1, 1, -1, -1]], np.int8)


@pytest.mark.parametrize("k, expected", [(1, (0.5, 0.3333, 0.4)), (2, (0.25, 0.3333, 0.2857)),
                                         (3, (0.3333, 0.6667, 0.4444)), (4, (0.375, 1, 0.5455)),
                                         (5, (0.375, 1, 0.5455))])
def test_mkt_compute_f1(k, expected):
    r = mlr.top_k(MKT_S, MKT_Y, k, encoding="signed", ignored="false_positive")
    assert (r.precision, r.recall, r.f1) == pytest.approx(expected, abs=1e-4)


def test_mkt_unknown_removed():
    r = mlr.top_k(MKT_S, MKT_Y, 3, encoding="signed_zero_ignored")
    assert (r.precision, r.recall, r.f1) == pytest.approx((0.5, 1.0, 0.666667), abs=1e-6)


def test_tagclip_top1_tie_break():
    s = np.array([[.9, .8, .1, .05], [.2, .7, .6, .1], [.3, .3, .3, .3]])
    y = np.array([[1, 0, 0, 0], [0, 1, 1, 1], [0, 0, 1, 0]])
    r = mlr.top_k(s, y, 1)
    assert (r.precision, r.recall, r.f1) == pytest.approx((2 / 3, 0.4, 0.5), rel=1e-12)
    assert "TopKResult(precision=" in repr(r)


def random_problem(seed, n=None, c=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(1, 40))
    c = c or int(rng.integers(1, 9))
    s = np.round(rng.normal(size=(n, c)), 1)  # many ties
    if seed % 2:
        s = s.astype(np.float32)
    y = rng.choice(np.array([-1, 0, 1], np.int8), size=(n, c), p=[0.2, 0.5, 0.3])
    return rng, s, y


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("ignored", ["removed", "false_positive"])
def test_matches_reference(seed, ignored):
    rng, s, y = random_problem(seed)
    c = s.shape[1]
    for k in sorted({1, 2, 3, c, c + 3}):
        for zd in ["standard", "sdl", "biam", "asl"]:
            expected = ref.top_k(s, y, k, ignored=ignored, zero_division=zd)
            assert_same(as_dict(mlr.top_k(s, y, k, ignored=ignored, zero_division=zd)), expected)
    # Signed encoding: the same problem re-encoded.
    signed = np.where(y == -1, 0, np.where(y == 0, -1, 1)).astype(np.int8)
    assert_same(as_dict(mlr.top_k(s, signed, 2, encoding="signed", ignored=ignored)),
                ref.top_k(s, y, 2, ignored=ignored))


@pytest.mark.parametrize("seed", range(20))
def test_class_subsets(seed):
    rng, s, y = random_problem(100 + seed, c=int(np.random.default_rng(seed).integers(2, 10)))
    c = s.shape[1]
    m = int(rng.integers(1, c + 1))
    subset = rng.permutation(c)[:m]
    for ignored in ["removed", "false_positive"]:
        for k in [1, 2, m + 1]:
            actual = as_dict(mlr.top_k(s, y, k, ignored=ignored, classes=subset))
            assert_same(actual, ref.top_k(s, y, k, ignored=ignored, classes=subset.tolist()))
            # An increasing subset is exactly slicing, ties included.
            inc = np.sort(subset)
            assert_same(as_dict(mlr.top_k(s, y, k, ignored=ignored, classes=inc)),
                        as_dict(mlr.top_k(s[:, inc], y[:, inc], k, ignored=ignored)))


def test_threads_and_layouts_do_not_matter():
    _, s, y = random_problem(7, n=2000, c=30)
    base = as_dict(mlr.top_k(s, y, 5, threads=1))
    assert as_dict(mlr.top_k(s, y, 5, threads=2)) == base
    assert as_dict(mlr.top_k(np.asfortranarray(s), np.asfortranarray(y), 5, threads=3)) == base
    for dtype in [np.int32, np.int64, np.float64]:
        assert as_dict(mlr.top_k(s, y.astype(dtype), 5)) == base
    assert_same(base, ref.top_k(s, y, 5))


def test_defaults_are_the_cpp_ones():
    _, s, y = random_problem(3)
    assert as_dict(mlr.top_k(s, y, 2)) == as_dict(
        mlr.top_k(s, y, 2, encoding="canonical", ignored="removed", zero_division="standard", classes=None,
                  threads=0))


def test_errors():
    s = np.array([[.9, .2, .1], [.3, .8, .7]])
    y = np.array([[1, 0, 0], [0, 1, 0]], np.int8)
    with pytest.raises(ValueError, match="k: expected a positive number"):
        mlr.top_k(s, y, 0)
    with pytest.raises(ValueError, match=r"classes: expected class indices in \[0, 3\), found 3 at position 1"):
        mlr.top_k(s, y, 1, classes=[0, 3])
    with pytest.raises(ValueError, match="classes: expected distinct class indices, found 1 at positions 0 and 1"):
        mlr.top_k(s, y, 1, classes=[1, 1])
    with pytest.raises(ValueError, match="classes: expected at least one class index"):
        mlr.top_k(s, y, 1, classes=[])
    with pytest.raises(ValueError, match="classes: expected None or a 1-D sequence"):
        mlr.top_k(s, y, 1, classes=[0.5])
    with pytest.raises(ValueError, match="topk_ignored: expected one of removed, false_positive"):
        mlr.top_k(s, y, 1, ignored="dropped")
    with pytest.raises(ValueError, match="zero_division: expected one of"):
        mlr.top_k(s, y, 1, zero_division="nan")
    with pytest.raises(ValueError, match=r"labels: expected shape \(2, 3\)"):
        mlr.top_k(s, y[:1], 1)
    with pytest.raises(ValueError, match="expected a non-empty tensor"):
        mlr.top_k(s[:0], y[:0], 1)
    bad = s.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"scores: expected finite values, found nan at \(1, 2\)"):
        mlr.top_k(bad, y, 1)
    mlr.top_k(bad, y, 1, classes=[0, 1])  # only the classes in scope are read
    wrong = y.copy()
    wrong[0, 1] = 5
    with pytest.raises(ValueError, match=r"found 5 at \(0, 1\)"):
        mlr.top_k(s, wrong, 1)

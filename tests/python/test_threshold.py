"""mlr.threshold_metrics: METHOD.md vectors, the independent numpy reference on seeded random
cases, class subsets, argument names and errors."""

import itertools

import numpy as np
import pytest

import mlr
from threshold import threshold_metrics as reference

SCALARS = ["cp", "cr", "cf1_harmonic", "cf1_mean", "op", "or_", "of1",
           "total_true_positives", "total_predicted", "total_positives"]
ARRAYS = ["precision", "recall", "f1", "true_positives", "predicted", "positives"]


def assert_matches(r, ref):
    for name in SCALARS:
        np.testing.assert_allclose(getattr(r, name), ref[name], rtol=1e-12, atol=0, equal_nan=True, err_msg=name)
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(r, name), ref[name], rtol=1e-12, atol=0, equal_nan=True, err_msg=name)


def random_case(seed, n=40, c=9):
    rng = np.random.default_rng(seed)
    s = np.round(rng.uniform(size=(n, c)), 1)  # ties with the threshold and within rows
    y = (rng.uniform(size=(n, c)) < 0.3).astype(np.int8)
    y[rng.uniform(size=(n, c)) < 0.1] = -1
    y[:, 1] = np.where(y[:, 1] == 1, 0, y[:, 1])  # an empty class
    s[3] = 0.4  # an all-equal row
    return s, y


OPTIONS = list(itertools.product(["absolute", "relative"], ["greater", "greater_equal"],
                                 ["zero", "exclude"], ["standard", "sdl", "biam", "asl"], ["exact", "mlgcn"]))


@pytest.mark.parametrize("kind,comparison,empty_class,zero_division,count", OPTIONS)
def test_reference_random(kind, comparison, empty_class, zero_division, count):
    for seed in range(3):
        s, y = random_case(seed)
        kw = dict(kind=kind, comparison=comparison, empty_class=empty_class, zero_division=zero_division,
                  count=count, threshold=0.5, mu=0.4)
        assert_matches(mlr.threshold_metrics(s, y, **kw), reference(s, y, **kw))
        sub = [7, 1, 4, 0]
        r = mlr.threshold_metrics(s, y, classes=sub, **kw)
        assert_matches(r, reference(s, y, classes=sub, **kw))
        assert_matches(r, reference(s[:, sub], y[:, sub], **kw))  # a subset is slicing


def test_subset_equals_slicing_and_threads():
    s, y = random_case(11, n=500, c=30)
    sub = np.array([29, 3, 17, 8])
    a = mlr.threshold_metrics(s, y, classes=sub, kind="relative")
    b = mlr.threshold_metrics(np.ascontiguousarray(s[:, sub]), np.ascontiguousarray(y[:, sub]), kind="relative")
    for name in SCALARS + ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    one = mlr.threshold_metrics(s, y, threads=1)
    two = mlr.threshold_metrics(s, y, threads=2)
    for name in SCALARS + ARRAYS:
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


def test_dtypes_layouts_and_encodings():
    s, y = random_case(5)
    base = mlr.threshold_metrics(s, y)
    assert_matches(mlr.threshold_metrics(np.asfortranarray(s), y), reference(s, y))
    assert_matches(mlr.threshold_metrics(s.astype(np.float32), y), reference(s.astype(np.float32), y))
    signed = np.where(y == 1, 1, np.where(y == 0, -1, 0)).astype(np.int64)
    r = mlr.threshold_metrics(s, signed, encoding="signed")
    np.testing.assert_array_equal(r.true_positives, base.true_positives)
    b = mlr.threshold_metrics(s, y == 1)
    assert_matches(b, reference(s, y == 1))


def test_method_7_11_three_conventions():
    s = np.full((10, 3), 0.1)
    y = np.zeros((10, 3), np.int8)
    y[:, 0] = 1
    s[0, 0] = 0.9
    y[:2, 1] = 1
    s[:4, 1] = 0.9
    y[4, 2] = 1
    r = mlr.threshold_metrics(s, y)
    expected = dict(op=0.6, or_=0.230769, of1=0.333333, cp=0.5, cr=0.366667, cf1_harmonic=0.423077,
                    cf1_mean=0.282828)
    for k, v in expected.items():
        assert getattr(r, k) == pytest.approx(v, abs=1e-6), k
    mlgcn = mlr.threshold_metrics(s, y, comparison="greater_equal", count="mlgcn")
    assert mlgcn.op == pytest.approx(0.5)
    assert mlgcn.of1 == pytest.approx(0.315789, abs=1e-6)
    assert mlr.threshold_metrics(s, y, zero_division="asl").cf1_mean == pytest.approx(0.282828, abs=1e-6)


def test_method_7_9_and_7_12():
    d = np.array([[2, -1, 0.3], [-0.5, 1.5, -2], [0.1, 0.2, -0.1], [-3, -0.2, 4]])
    t = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    r = mlr.threshold_metrics(1 / (1 + np.exp(-d)), t, zero_division="asl")
    got = [r.cp, r.cr, r.cf1_mean, r.cf1_harmonic, r.op, r.or_, r.of1]
    np.testing.assert_allclose(got, [2 / 3, 1, 7 / 9, 0.8, 2 / 3, 1, 0.8], atol=1e-12)
    s = np.array([[.9, .8, .1, .05], [.2, .7, .6, .1], [.3, .3, .3, .3]])
    y = np.array([[1, 0, 0, 0], [0, 1, 1, 1], [0, 0, 1, 0]])
    r = mlr.threshold_metrics(s, y, kind="relative", mu=0.5)
    np.testing.assert_allclose([r.of1, r.op, r.or_, r.cp, r.cr, r.cf1_harmonic],
                               [2 / 3, 0.75, 0.6, 0.625, 0.625, 0.625], atol=1e-12)


def test_result_object():
    r = mlr.threshold_metrics(np.array([[.9, .1]]), np.array([[1, 0]]))
    assert isinstance(r.precision, np.ndarray) and r.precision.dtype == np.float64
    assert r.predicted.dtype == np.int64
    assert not r.precision.flags.writeable
    assert r.empty_classes == 1
    assert "ThresholdResult(" in repr(r)


@pytest.mark.parametrize("kwargs,message", [
    (dict(mu=1.5), "mu: expected a value in [0, 1]"),
    (dict(threshold=float("nan")), "threshold: expected a finite value"),
    (dict(classes=[0, 5]), "classes: expected class indices in [0, 3), found 5 at position 1"),
    (dict(classes=[1, 1]), "classes: expected distinct class indices"),
    (dict(classes=[]), "classes: expected at least one class index"),
    (dict(classes=[0.5]), "classes: expected None or a 1-D sequence of integer class indices"),
    (dict(kind="other"), "threshold_kind: expected one of absolute, relative"),
    (dict(comparison="<"), "comparison: expected one of"),
    (dict(zero_division="x"), "zero_division: expected one of"),
    (dict(count="x"), "predicted_count: expected one of"),
])
def test_errors(kwargs, message):
    s = np.array([[.9, .1, .3], [.2, .8, .4]])
    y = np.array([[1, 0, 0], [0, 1, 1]], np.int8)
    with pytest.raises(ValueError, match=None) as e:
        mlr.threshold_metrics(s, y, **kwargs)
    assert message in str(e.value)


def test_invalid_inputs_name_the_entry():
    s = np.array([[.9, .1, .3], [.2, np.nan, .4]])
    y = np.array([[1, 0, 0], [0, 1, 1]], np.int8)
    with pytest.raises(ValueError, match=r"scores: expected finite values, found nan at \(1, 1\)"):
        mlr.threshold_metrics(s, y)
    mlr.threshold_metrics(s, y, classes=[0, 2])  # out of scope
    with pytest.raises(ValueError, match=r"found 2 at \(0, 2\)"):
        mlr.threshold_metrics(np.nan_to_num(s), np.array([[1, 0, 2], [0, 1, 1]]))
    with pytest.raises(ValueError, match=r"labels: expected shape \(2, 3\)"):
        mlr.threshold_metrics(s, y[:1])
    with pytest.raises(ValueError, match="non-empty"):
        mlr.threshold_metrics(np.zeros((0, 3)), np.zeros((0, 3)))

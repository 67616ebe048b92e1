"""METHOD.md section 7.7 (single-class AP) and 7.8 (multi-label AP) for ap_method 'step'.

The tables give six digits; where the exact value is a simple fraction it is checked to 1e-12,
and every value is also checked against the table's rounding.
"""

import math

import numpy as np
import pytest

import mlr
import step_ap

TOL = dict(rel=1e-12, abs=1e-12)

# Case: (scores, labels, exact step AP or None for NaN, scikit-learn 1.2.1 column of 7.7)
CASES_7_7 = {
    "A no ties": ([.9, .8, .7, .6, .5, .4], [1, 0, 1, 0, 0, 1], 13 / 18, 0.722222),
    "B tie, positive first": ([.9, .5, .5, .1], [0, 1, 0, 1], 5 / 12, 0.416667),
    "B2 tie, negative first": ([.9, .5, .5, .1], [0, 0, 1, 1], 5 / 12, 0.416667),
    "C no positives": ([.9, .8, .7], [0, 0, 0], None, None),
    "D all positive, constant": ([.5, .5, .5], [1, 1, 1], 1.0, 1.0),
    "F all equal, mixed": ([.3, .3, .3, .3], [1, 0, 0, 1], 0.5, 0.5),
}


@pytest.mark.parametrize("case", CASES_7_7)
@pytest.mark.parametrize("score_dtype", [np.float64, np.float32])
def test_7_7_single_class(case, score_dtype):
    scores, labels, exact, table = CASES_7_7[case]
    s = np.array(scores, dtype=score_dtype)
    y = np.array(labels, dtype=np.int8)
    r = mlr.average_precision(s, y)
    assert r.positives == sum(labels)
    assert r.negatives == len(labels) - sum(labels)
    if exact is None:
        assert math.isnan(r.value) and r.empty
    else:
        assert not r.empty
        assert r.value == pytest.approx(exact, **TOL)
        assert round(r.value, 6) == table
        assert r.value == pytest.approx(step_ap.binary_average_precision(s, y), **TOL)


@pytest.mark.parametrize("case", CASES_7_7)
def test_7_7_same_through_every_entry_point(case):
    """1-D call, one-column matrix, signed encoding and bool labels agree."""
    scores, labels, exact, _ = CASES_7_7[case]
    s = np.array(scores)
    y = np.array(labels)
    signed = np.where(y == 1, 1, -1)
    values = [
        mlr.average_precision(s, y).value,
        mlr.average_precision(s, signed, encoding="signed_zero_ignored").value,
        mlr.average_precision(s, y.astype(bool)).value,
        mlr.mean_average_precision(s[:, None], y[:, None], average="none").per_class[0],
    ]
    for v in values:
        if exact is None:
            assert math.isnan(v)
        else:
            assert v == pytest.approx(exact, **TOL)
    m = mlr.mean_average_precision(s[:, None], y[:, None])
    assert m.empty_classes == (1 if exact is None else 0)
    assert m.value == pytest.approx(0.0 if exact is None else exact, **TOL)


def test_7_7_order_independent():
    """Step AP groups ties: no permutation of the samples changes it."""
    rng = np.random.default_rng(7)
    for scores, labels, exact, _ in CASES_7_7.values():
        if exact is None:
            continue
        for _ in range(10):
            p = rng.permutation(len(scores))
            r = mlr.average_precision(np.array(scores)[p], np.array(labels)[p])
            assert r.value == pytest.approx(exact, **TOL)


# 7.8: class 2 has no positives.
Y_7_8 = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
S_7_8 = np.array([[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]])


def test_7_8_per_class():
    r = mlr.mean_average_precision(S_7_8, Y_7_8, average="none")
    assert r.per_class[0] == pytest.approx(1.0, **TOL)
    assert r.per_class[1] == pytest.approx(5 / 6, **TOL)
    assert round(r.per_class[1], 6) == 0.833333
    assert math.isnan(r.per_class[2])
    assert r.empty.tolist() == [False, False, True]
    assert r.empty_classes == 1
    assert r.positives.tolist() == [2, 2, 0]
    assert math.isnan(r.value)


@pytest.mark.parametrize("average, empty_class, exact, table", [
    ("macro", "zero", 11 / 18, 0.611111),
    ("macro", "exclude", 11 / 12, 0.916667),
    ("weighted", "zero", 11 / 12, 0.916667),
    ("weighted", "exclude", 11 / 12, 0.916667),
    ("samples", "zero", 0.75, 0.75),
    ("micro", "zero", None, 0.584524),
    ("micro", "exclude", None, 0.584524),
])
def test_7_8_averages(average, empty_class, exact, table):
    r = mlr.mean_average_precision(S_7_8, Y_7_8, average=average, empty_class=empty_class)
    if exact is None:  # micro: no simple fraction; the naive reference gives it
        exact = step_ap.mean_average_precision(S_7_8, Y_7_8, average, empty_class)[0]
    assert r.value == pytest.approx(exact, **TOL)
    assert round(r.value, 6) == table
    assert float(r) == r.value


def test_7_8_samples_exclude():
    """The sample without positives (row 3) is left out: mean of rows 0-2."""
    r = mlr.mean_average_precision(S_7_8, Y_7_8, average="samples", empty_class="exclude")
    assert r.value == pytest.approx(1.0, **TOL)


def test_7_8_nan_score_is_an_error_naming_its_index():
    s = S_7_8.copy()
    s[1, 0] = np.nan
    with pytest.raises(ValueError,
                       match=r"^scores: expected finite values, found nan at \(1, 0\)$"):
        mlr.mean_average_precision(s, Y_7_8)


# METHOD.md 7.7, the other columns: TagCLIP compute_AP (ranked), VOC area (SSGRL), VOC07 11-point.
FLAVOUR_TABLE = [
    ([.9, .8, .7, .6, .5, .4], [1, 0, 1, 0, 0, 1], 13 / 18, 13 / 18, 8 / 11),
    ([.9, .5, .5, .1], [0, 1, 0, 1], 0.5, 0.5, 0.5),
    ([.9, .5, .5, .1], [0, 0, 1, 1], 5 / 12, 0.5, 0.5),
    ([.5, .5, .5], [1, 1, 1], 1.0, 1.0, 1.0),
    ([.3, .3, .3, .3], [1, 0, 0, 1], 0.75, 0.75, 8.5 / 11),
]


@pytest.mark.parametrize("scores, labels, ranked, voc_area, voc07", FLAVOUR_TABLE)
def test_ap_flavours_single_class_table(scores, labels, ranked, voc_area, voc07):
    s, y = np.array(scores), np.array(labels, np.int8)
    assert mlr.average_precision(s, y, method="ranked").value == pytest.approx(ranked, abs=1e-12)
    assert mlr.average_precision(s, y, method="voc_area").value == pytest.approx(voc_area, abs=1e-12)
    assert mlr.average_precision(s, y, method="voc07_11point").value == pytest.approx(voc07, abs=1e-12)


def test_ranked_with_asl_epsilon():
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    r = mlr.average_precision(s, np.array([1, 0, 1, 0, 1], np.int8), method="ranked", epsilon=1e-8)
    assert r.value == pytest.approx(0.755555553037037, rel=1e-14)

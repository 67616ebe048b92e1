"""Parity of mlr's AP with torchmetrics (the version pinned in tests/requirements-parity.txt).

* one-shot: mlr.mean_average_precision with the `torchmetrics` preset's options (step AP,
  empty_class='zero'; include/mlr/metrics/presets.hpp) against
  multilabel_average_precision, unbinned, every average, with ignore_index=-1;
* streaming, exact: mlr.ap_accumulator against the modular MultilabelAveragePrecision, fed the
  same batches, also merged from shards and after a serialize round trip;
* streaming, binned: mlr.binned_ap_accumulator against MultilabelAveragePrecision(thresholds=...):
  the TP/FP/FN counts identical to the metric's confmat state, the AP within torchmetrics'
  float32 error and equal to tests/reference/binned_ap.py (float64) to 1e-12.

Scores are probabilities in [0, 1]: outside that range torchmetrics applies a sigmoid
(test_logits_* documents it; mlr never transforms scores). torchmetrics refuses num_labels = 1,
so a single class is compared with its binary_* counterparts.

Tolerance against torchmetrics. Whatever the score dtype, torchmetrics turns its integer counts
into float32 before dividing (a torch default dtype product in the unbinned curve, _safe_divide's
.float() in the binned one), so P, R and the sums are float32 while the sort, the tie grouping and
the >= comparisons use the scores as given: mlr and torchmetrics see the same curve, and only
float32 rounding separates them. With u = 2**-24, each P_m and R_m is the correctly rounded
quotient of exact counts (< 2**24), so |error| <= u; a recall step R_m - R_{m-1} then errs by at
most 2u + u*dR and the product by at most 2u*P + 3u*dR*P. Steps whose exact dR is 0 are exactly
0 in float32 too (equal counts give equal quotients), so at most K terms are non-zero, K = the
positives of the curve; with the float32 summation, one curve is within 3u(K + 1) (unbinned and
binned alike). The float32 mean or weighted mean of C such values adds u(C + 2).
Comparisons between mlr objects (one-shot, accumulator, shards, round trip) are exact.
"""

import math
import pathlib
import pickle

import numpy as np
import pytest
import torch
import torchmetrics
from torchmetrics.classification import (BinaryAveragePrecision, MultilabelAveragePrecision)
from torchmetrics.functional.classification import (binary_average_precision,
                                                    multilabel_average_precision)

import binned_ap
import mlr

U = 2.0 ** -24
AVERAGES = ["macro", "micro", "weighted", "none"]
SCORE_DTYPES = [np.float32, np.float64]
# The options the `torchmetrics` preset selects (presets.hpp); the Python module exposes no
# preset object, so they are spelled out.
TORCHMETRICS_PRESET = dict(method="step", empty_class="zero")
IGNORE = -1

# torchmetrics warns about classes without positives; those are part of the tests.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_pinned_torchmetrics_is_the_one_imported():
    requirements = pathlib.Path(__file__).resolve().parents[1] / "requirements-parity.txt"
    pinned = [line.strip().split("==")[1] for line in requirements.read_text().splitlines()
              if line.startswith("torchmetrics==")]
    assert [torchmetrics.__version__] == pinned


# --- problems ---------------------------------------------------------------------------------

def make_scores(rng, shape, dtype, ties, on=None):
    """Probabilities in [0, 1]; `on`: values some scores are set to exactly (thresholds)."""
    s = rng.uniform(size=shape)
    if ties == "rounded":
        s = np.round(s, 1)
    elif ties == "five values":
        s = rng.integers(0, 5, size=shape) / 4.0
    s = s.astype(dtype)
    if on is not None:
        mask = rng.uniform(size=shape) < 0.3
        s[mask] = rng.choice(np.asarray(on, dtype=dtype), size=int(mask.sum()))
    return s


def make_labels(rng, shape, ignored):
    """Canonical int8 labels: with C >= 3 a class without positives and one of only positives;
    with `ignored`, that fraction of the entries is -1 (never a whole column: torchmetrics'
    unbinned curve raises IndexError on an empty class, see test_entirely_ignored_class)."""
    n, c = shape
    y = (rng.uniform(size=shape) < rng.uniform(0.1, 0.7, size=c)).astype(np.int8)
    columns = rng.permutation(c)
    if c >= 3:
        y[:, columns[0]] = 0
        y[:, columns[1]] = 1
    if ignored:
        mask = rng.uniform(size=shape) < ignored
        mask[0] = False  # keeps every column non-empty
        y[mask] = IGNORE
    return y


SHAPES = [(1, 2), (1, 5), (2, 3), (7, 1), (9, 4), (40, 6), (150, 9), (400, 3)]
TIES = ["none", "rounded", "five values"]
CASES = [
    pytest.param(seed, shape, dtype, TIES[seed % 3], ignored,
                 id=f"{shape[0]}x{shape[1]}-{np.dtype(dtype)}-{TIES[seed % 3].replace(' ', '_')}"
                    f"{'-ignored' if ignored else ''}")
    for seed, (shape, dtype, ignored) in enumerate(
        (shape, dtype, ignored) for shape in SHAPES for dtype in SCORE_DTYPES for ignored in (0.0, 0.2))
]


def batches(n, rng, split):
    """Row ranges covering 0..n: one batch, single rows, or random cuts."""
    if split == "whole":
        cuts = []
    elif split == "rows":
        cuts = list(range(1, n))
    else:
        cuts = sorted(set(rng.integers(1, n, size=min(4, n - 1)).tolist())) if n > 1 else []
    edges = [0, *cuts, n]
    return list(zip(edges[:-1], edges[1:]))


SPLITS = ["whole", "rows", "random"]


# --- tolerances -------------------------------------------------------------------------------

def curve_bound(positives):
    return 3 * U * (positives + 1)


def float32_bounds(labels, average):
    """(bound on the value, bounds per class) of torchmetrics' float32 error (module docstring)."""
    positives = (labels == 1).sum(axis=0)
    per_class = curve_bound(positives)
    if average == "micro":
        return curve_bound(positives.sum()), per_class
    return per_class.max() + U * (labels.shape[1] + 2), per_class


def assert_close_to_torchmetrics(result, expected, labels, average):
    """mlr result vs torchmetrics' tensor for `average` (per-class tensor for 'none')."""
    bound, per_class_bound = float32_bounds(labels, average)
    expected = expected.double().numpy()
    if average == "none":
        actual = np.where(result.empty, 0.0, result.per_class)  # torchmetrics: -0.0 when empty
        assert math.isnan(result.value)
        np.testing.assert_array_less(np.abs(actual - expected), per_class_bound + 1e-300)
    else:
        assert abs(result.value - float(expected)) <= bound, (result.value, float(expected), bound)


def assert_same_result(a, b):
    """Bit-identical mlr results."""
    np.testing.assert_array_equal(np.array([a.value]), np.array([b.value]))
    np.testing.assert_array_equal(a.per_class, b.per_class)
    np.testing.assert_array_equal(a.positives, b.positives)


def torch_average(average):
    return None if average == "none" else average


# --- one-shot vs multilabel_average_precision (unbinned) ---------------------------------------

def torchmetrics_ap(scores, labels, average, thresholds=None):
    s, y = torch.from_numpy(scores), torch.from_numpy(labels.astype(np.int64))
    if labels.shape[1] == 1:
        value = binary_average_precision(s[:, 0], y[:, 0], thresholds=thresholds,
                                         ignore_index=IGNORE)
        return value.reshape(1) if average == "none" else value
    return multilabel_average_precision(s, y, labels.shape[1], average=torch_average(average),
                                        thresholds=thresholds, ignore_index=IGNORE)


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("seed, shape, dtype, ties, ignored", CASES)
def test_one_shot_matches_multilabel_average_precision(seed, shape, dtype, ties, ignored, average):
    rng = np.random.default_rng(seed)
    s = make_scores(rng, shape, dtype, ties)
    y = make_labels(rng, shape, ignored)
    r = mlr.mean_average_precision(s, y, average=average, **TORCHMETRICS_PRESET)
    assert_close_to_torchmetrics(r, torchmetrics_ap(s, y, average), y, average)


def test_method_7_8_vectors():
    """METHOD.md 7.8: torchmetrics >= 1.4 per class [1, 0.8333, -0.0], macro 0.6111, micro
    0.5845, weighted 0.9167, binned (T = 11) macro 0.6111 -- and mlr's values."""
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.int8)
    s = np.array([[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]])
    expected = {"macro": 11 / 18, "micro": 0.584524, "weighted": 11 / 12}
    for average, value in expected.items():
        assert float(torchmetrics_ap(s, y, average)) == pytest.approx(value, abs=1e-6)
        r = mlr.mean_average_precision(s, y, average=average, **TORCHMETRICS_PRESET)
        assert r.value == pytest.approx(value, abs=1e-6)
    per_class = torchmetrics_ap(s, y, "none").numpy()
    np.testing.assert_allclose(per_class, [1, 5 / 6, 0], atol=1e-7)
    assert math.copysign(1, per_class[2]) < 0  # torchmetrics' -0.0; mlr: NaN + empty flag
    r = mlr.mean_average_precision(s, y, average="none", **TORCHMETRICS_PRESET)
    assert list(r.empty) == [False, False, True] and math.isnan(r.per_class[2])
    assert float(torchmetrics_ap(s, y, "macro", thresholds=11)) == pytest.approx(11 / 18, abs=1e-6)
    tp, fp, fn = binned_ap.counts(s, y, binned_ap.linspace_thresholds(11))
    assert binned_ap.binned_average_precision(tp, fp, fn)[0] == pytest.approx(11 / 18, abs=1e-12)


def test_logits_unbinned_mlr_never_transforms():
    """On logits torchmetrics applies a sigmoid (any score outside [0, 1]); the step AP is
    invariant under it, and mlr's AP of the logits equals its AP of the probabilities."""
    rng = np.random.default_rng(7)
    p = np.round(rng.uniform(0.05, 0.95, size=(60, 5)), 2)
    y = make_labels(rng, p.shape, 0.1)
    logits = np.log(p / (1 - p))  # strictly monotone: same order, same ties
    for average in AVERAGES:
        on_logits = mlr.mean_average_precision(logits, y, average=average, **TORCHMETRICS_PRESET)
        on_p = mlr.mean_average_precision(p, y, average=average, **TORCHMETRICS_PRESET)
        np.testing.assert_allclose(np.nan_to_num(on_logits.per_class),
                                   np.nan_to_num(on_p.per_class), rtol=0, atol=1e-15)
        assert_close_to_torchmetrics(on_logits, torchmetrics_ap(logits, y, average), y, average)


def test_entirely_ignored_class():
    """A column with every label ignored: torchmetrics' unbinned curve raises IndexError, its
    binned AP is 0; mlr reports NaN with the empty flag and counts it as 0 in the macro mean."""
    s = np.array([[.3, .5], [.2, .1], [.7, .6]], dtype=np.float32)
    y = np.array([[1, -1], [0, -1], [1, -1]], dtype=np.int8)
    with pytest.raises(IndexError):
        torchmetrics_ap(s, y, "none")
    r = mlr.mean_average_precision(s, y, average="macro", **TORCHMETRICS_PRESET)
    assert r.value == 0.5 and list(r.empty) == [False, True]
    assert float(torchmetrics_ap(s, y, "macro", thresholds=5)) == 0.5


# --- streaming, exact -------------------------------------------------------------------------

def torchmetrics_metric(classes, average, thresholds=None):
    if classes == 1:
        return BinaryAveragePrecision(thresholds=thresholds, ignore_index=IGNORE)
    return MultilabelAveragePrecision(classes, average=torch_average(average),
                                      thresholds=thresholds, ignore_index=IGNORE)


def torchmetrics_update(metric, scores, labels):
    s, y = torch.from_numpy(scores), torch.from_numpy(labels.astype(np.int64))
    if labels.shape[1] == 1:
        s, y = s[:, 0], y[:, 0]
    metric.update(s, y)


def torchmetrics_compute(metric, average):
    value = metric.compute()
    return value.reshape(1) if average == "none" and value.ndim == 0 else value


def dtype_name(dtype):
    return np.dtype(dtype).name


def feed(acc, s, y, ranges):
    for a, b in ranges:
        acc.update(s[a:b], y[a:b])
    return acc


def shards_merged(make, s, y, ranges):
    """The batches split between two accumulators, the second merged into the first."""
    half = len(ranges) // 2
    first, second = feed(make(), s, y, ranges[:half]), feed(make(), s, y, ranges[half:])
    first.merge(second)
    return first


def round_trips(acc, cls):
    return [cls.deserialize(acc.serialize()), pickle.loads(pickle.dumps(acc))]


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("seed, shape, dtype, ties, ignored", CASES)
def test_exact_accumulator_matches_modular_metric(seed, shape, dtype, ties, ignored, split):
    rng = np.random.default_rng(seed)
    s = make_scores(rng, shape, dtype, ties)
    y = make_labels(rng, shape, ignored)
    ranges = batches(shape[0], rng, split)
    classes = shape[1]

    def make():
        return mlr.ap_accumulator(classes, dtype=dtype_name(dtype))

    acc = feed(make(), s, y, ranges)
    assert acc.rows == shape[0] and acc.classes == classes
    np.testing.assert_array_equal(acc.scores, s)
    np.testing.assert_array_equal(acc.labels, y)
    others = [shards_merged(make, s, y, ranges), *round_trips(acc, mlr.ap_accumulator)]
    for average in AVERAGES:
        metric = torchmetrics_metric(classes, average)
        for a, b in ranges:
            torchmetrics_update(metric, s[a:b], y[a:b])
        r = acc.compute(average=average, **TORCHMETRICS_PRESET)
        assert_same_result(r, mlr.mean_average_precision(s, y, average=average, **TORCHMETRICS_PRESET))
        for other in others:
            assert_same_result(other.compute(average=average, **TORCHMETRICS_PRESET), r)
        assert_close_to_torchmetrics(r, torchmetrics_compute(metric, average), y, average)


# --- streaming, binned ------------------------------------------------------------------------

def torchmetrics_counts(metric):
    """(tp, fp, fn) [T, C] of the metric's confmat state [T, C, 2, 2] ([T, 2, 2] if binary)."""
    confmat = metric.confmat
    if confmat.ndim == 3:
        confmat = confmat.unsqueeze(1)
    return (confmat[:, :, 1, 1].numpy(), confmat[:, :, 0, 1].numpy(), confmat[:, :, 1, 0].numpy())


EXPLICIT = np.array([0.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.95], dtype=np.float32)
THRESHOLDS = [5, 11, 100, "explicit"]


def threshold_values(thresholds):
    """The float32 thresholds torchmetrics uses for `thresholds`."""
    return EXPLICIT if thresholds == "explicit" else binned_ap.linspace_thresholds(thresholds)


def on_threshold_scores(values, dtype):
    """Scores exactly on the thresholds; for float64 also the decimal values j / (T - 1) next to
    the float32 ones (a float64 score 0.1 is below the float32 threshold 0.1)."""
    on = values.astype(dtype)
    if dtype == np.float64:
        on = np.concatenate([on, np.linspace(0, 1, len(values)), np.float64(values) + 1e-12])
        on = on[(on >= 0) & (on <= 1)]
    return on


@pytest.mark.parametrize("thresholds", THRESHOLDS)
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("seed, shape, dtype, ties, ignored", CASES)
def test_binned_accumulator_matches_modular_metric(seed, shape, dtype, ties, ignored, split, thresholds):
    rng = np.random.default_rng(seed)
    values = threshold_values(thresholds)
    s = make_scores(rng, shape, dtype, ties, on=on_threshold_scores(values, dtype))
    y = make_labels(rng, shape, ignored)
    ranges = batches(shape[0], rng, split)
    classes = shape[1]
    # torchmetrics makes T thresholds with torch.linspace in float32, whose last bits depend on
    # the CPU kernel torch dispatches to; mlr's T thresholds are j / (T - 1) rounded to the score
    # type (test_integer_thresholds_are_exact_fractions). Parity is with torchmetrics' own values,
    # passed explicitly, as docs/conventions.md tells users to.
    mlr_thresholds = values.tolist()
    torch_thresholds = torch.from_numpy(values) if thresholds == "explicit" else thresholds

    def make():
        return mlr.binned_ap_accumulator(classes, thresholds=mlr_thresholds, dtype=dtype_name(dtype))

    acc = feed(make(), s, y, ranges)
    np.testing.assert_array_equal(acc.thresholds, values.astype(dtype))
    expected_counts = binned_ap.counts(s, y, values)
    metric = torchmetrics_metric(classes, "macro", torch_thresholds)
    for a, b in ranges:
        torchmetrics_update(metric, s[a:b], y[a:b])
    for mine, reference, theirs in zip(acc.counts(), expected_counts, torchmetrics_counts(metric)):
        np.testing.assert_array_equal(reference, theirs)  # the reference, checked once more
        np.testing.assert_array_equal(mine, theirs)
    others = [shards_merged(make, s, y, ranges), *round_trips(acc, mlr.binned_ap_accumulator)]
    for other in others:
        for mine, theirs in zip(other.counts(), acc.counts()):
            np.testing.assert_array_equal(mine, theirs)
    for average in AVERAGES:
        metric = torchmetrics_metric(classes, average, torch_thresholds)
        for a, b in ranges:
            torchmetrics_update(metric, s[a:b], y[a:b])
        r = acc.compute(average=average, empty_class="zero")
        value, per_class, positives = binned_ap.binned_average_precision(*expected_counts, average=average)
        np.testing.assert_array_equal(r.positives, positives)
        np.testing.assert_array_equal(np.isnan(r.per_class), np.isnan(per_class))
        np.testing.assert_allclose(r.per_class, per_class, rtol=0, atol=1e-12)
        if average == "none":
            assert math.isnan(r.value)
        else:
            assert r.value == pytest.approx(value, rel=0, abs=1e-12)
        for other in others:
            assert_same_result(other.compute(average=average, empty_class="zero"), r)
        assert_close_to_torchmetrics(r, torchmetrics_compute(metric, average), y, average)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("count", [2, 5, 11, 100, 1000])
def test_integer_thresholds_are_exact_fractions(count, dtype):
    """mlr's T thresholds: j / (T - 1) correctly rounded to the score type (torch.linspace's
    float32 values differ from these in the last bit at some j for T = 100)."""
    acc = mlr.binned_ap_accumulator(2, thresholds=count, dtype=dtype_name(dtype))
    np.testing.assert_array_equal(acc.thresholds, (np.arange(count) / (count - 1)).astype(dtype))


def test_linspace_thresholds_model():
    """tests/reference/binned_ap.py's model of torch.linspace reproduces the running torch's
    float32 values, under the CPU capability torch dispatches to."""
    capability = "default"
    for name in ("avx512", "avx2"):
        if f"CPU capability usage: {name.upper()}" in torch.__config__.show():
            capability = name
            break
    for count in range(2, 300):
        np.testing.assert_array_equal(binned_ap.torch_linspace_model(count, capability),
                                      binned_ap.linspace_thresholds(count), err_msg=f"T = {count}")


def test_logits_binned_torchmetrics_applies_sigmoid():
    """METHOD.md 7.8, S * 10 - 3: torchmetrics' binned AP (T = 5) of class 1 is 0.583333 (it
    bins sigmoid(logits)); mlr bins the logits as given, as the reference does."""
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=np.int8)
    s = np.array([[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]]) * 10 - 3
    theirs = torchmetrics_ap(s, y, "none", thresholds=5).numpy()
    assert theirs[1] == pytest.approx(0.583333, abs=1e-6)
    sigmoid_counts = binned_ap.counts(1 / (1 + np.exp(-s)), y, binned_ap.linspace_thresholds(5))
    np.testing.assert_allclose(binned_ap.binned_average_precision(*sigmoid_counts, average="none")[1][:2],
                               theirs[:2], atol=1e-6)
    acc = mlr.binned_ap_accumulator(3, thresholds=5, dtype="float64")
    acc.update(s, y)
    raw = binned_ap.binned_average_precision(*binned_ap.counts(s, y, binned_ap.linspace_thresholds(5)),
                                             average="none")[1]
    np.testing.assert_allclose(acc.compute(average="none").per_class, raw, rtol=0, atol=1e-12)
    assert abs(raw[1] - theirs[1]) > 0.05

"""The order-dependent APs (ranked, VOC07 11-point, VOC area) at a size that spreads the two
passes over many tasks, tiles and workers (20,000 rows > one 8,192-row range, 70 classes > one
64-class block), with heavy ties (8 score levels, so most negatives tie with a rung), against the
sort-based reference tests/reference/ranked_ap.py written from METHOD.md 4.4/4.5: per class,
micro, samples and a class subset, 1 and 3 threads."""
import numpy as np
import pytest

import mlr
import ranked_ap

FLAVOURS = ["ranked", "voc07_11point", "voc_area"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    n, c = 20000, 70
    s = (rng.integers(0, 8, size=(n, c)) / 7.0).astype(np.float32)
    y = np.where(rng.uniform(size=(n, c)) < 0.2, 1, 0).astype(np.int8)
    y[rng.uniform(size=(n, c)) < 0.05] = -1
    return s, y


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_per_class_and_micro(data, flavour):
    s, y = data
    per_class = ranked_ap.ranked_ap_per_class(s, y, flavour, epsilon=1e-8 if flavour == "ranked" else 0.0)
    micro = ranked_ap.ranked_ap_micro(s, y, flavour)
    for threads in (1, 3):
        r = mlr.mean_average_precision(s, y, method=flavour, average="none", threads=threads,
                                       epsilon=1e-8 if flavour == "ranked" else 0.0)
        np.testing.assert_allclose(r.per_class, per_class, rtol=1e-12, atol=1e-12)
        m = mlr.mean_average_precision(s, y, method=flavour, average="micro", threads=threads)
        assert m.value == pytest.approx(micro, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_samples_over_a_subset(data, flavour):
    s, y = data
    rows = slice(0, 3000)  # the reference is one Python call per sample
    classes = [69, 3, 40, 41, 42, 0, 17]
    sub_s, sub_y = s[rows][:, sorted(classes)], y[rows][:, sorted(classes)]
    # Within a sample, ties are taken in class order (the column index of the full matrix).
    per_sample = ranked_ap.ranked_ap_per_class(sub_s.T, sub_y.T, flavour)
    expected = np.mean(np.nan_to_num(per_sample, nan=0.0))
    for threads in (1, 3):
        r = mlr.mean_average_precision(s[rows], y[rows], method=flavour, average="samples", classes=classes,
                                       threads=threads)
        assert r.value == pytest.approx(expected, rel=1e-12, abs=1e-12)

"""Class subsets (ZSL / GZSL): mean_average_precision over `classes` equals scikit-learn on the
sliced columns, for every average, without the library copying anything."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

import mlr

TOL = dict(rel=1e-12, abs=1e-12)


def problem(seed, n=300, c=40):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=(n, c)), 2).astype(np.float32)  # logits with ties
    labels = (rng.uniform(size=(n, c)) < 0.08).astype(np.int8)
    labels[:, min(5, c - 1)] = 0  # an empty class
    return scores, labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", "samples"])
def test_subset_equals_scikit_learn_on_the_slice(seed, average):
    scores, labels = problem(seed)
    subset = np.random.default_rng(100 + seed).choice(scores.shape[1], size=11, replace=False)
    subset[0] = 5
    sliced_scores, sliced_labels = scores[:, subset], labels[:, subset]
    result = mlr.mean_average_precision(scores, labels, average=average, classes=subset)
    if average == "samples":  # scikit-learn's samples average counts a sample without positives as 0
        expected = average_precision_score(sliced_labels, sliced_scores, average="samples")
    else:
        expected = average_precision_score(sliced_labels, sliced_scores, average=average)
    assert result.value == pytest.approx(max(expected, 0.0), **TOL)
    per_class = average_precision_score(sliced_labels, sliced_scores, average=None)
    empty = sliced_labels.sum(axis=0) == 0
    np.testing.assert_array_equal(result.empty, empty)
    np.testing.assert_allclose(result.per_class[~empty], per_class[~empty], rtol=1e-12, atol=1e-12)


def test_subset_order_is_kept_and_outside_columns_are_not_read():
    scores, labels = problem(7)
    scores[:, 30] = np.nan  # outside the subset: never read
    result = mlr.mean_average_precision(scores, labels, average="none", classes=[12, 3])
    full = mlr.mean_average_precision(scores[:, [3, 12]], labels[:, [3, 12]], average="none")
    np.testing.assert_array_equal(result.per_class, full.per_class[::-1])


def test_subset_errors_name_the_index():
    scores, labels = problem(8, c=4)
    with pytest.raises(ValueError, match=r"classes: expected class indices in \[0, 4\), found 4 at position 1"):
        mlr.mean_average_precision(scores, labels, classes=[0, 4])
    with pytest.raises(ValueError, match="classes: expected at least one class index"):
        mlr.mean_average_precision(scores, labels, classes=[])

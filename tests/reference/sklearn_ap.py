"""scikit-learn's average_precision_score as the reference for mlr's step AP.

scikit-learn has no ignore value and returns -0.0 (1.1, 1.2) for a class without positives; mlr
removes ignored entries before the curve and reports NaN plus an `empty` flag. These helpers
apply scikit-learn to exactly the entries mlr keeps:

* per class: the rows where that class's label is not ignored;
* micro: the flattened non-ignored entries;
* samples: per row, that row's non-ignored entries;

and return NaN where nothing positive is left, so that callers compare like with like. The
means follow mlr's empty_class policy ('zero': an empty class or sample counts as 0,
'exclude': left out).
"""

import math
import warnings

import numpy as np
from sklearn.metrics import average_precision_score

# Label value meaning "ignored" in each encoding.
IGNORED_VALUE = {"canonical": -1, "signed": 0, "signed_zero_ignored": 0}


def binary(y, s):
    """scikit-learn's AP of one class (y: 0/1), or NaN when y has no positive or is empty."""
    y = np.asarray(y).astype(np.int64)
    s = np.asarray(s)
    if y.size == 0 or not y.any():
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(average_precision_score(y, s))


def native(y, s, average):
    """average_precision_score(y, s, average=...) called as is on a 0/1 N x C matrix.

    scikit-learn treats one column (C = 1) as a binary problem and returns one number for any
    average; 'samples' is then computed row by row with scikit-learn's binary AP, which is what
    scikit-learn does for C >= 2. average='none' gives the per-class vector.
    """
    y = np.asarray(y).astype(np.int64)
    s = np.asarray(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if y.shape[1] == 1:
            if average == "samples":
                return float(np.mean([average_precision_score(y[i], s[i])
                                      for i in range(y.shape[0])]))
            value = float(average_precision_score(y[:, 0], s[:, 0]))
            return np.array([value]) if average == "none" else value
        result = average_precision_score(y, s, average=None if average == "none" else average)
        return np.asarray(result, dtype=np.float64) if average == "none" else float(result)


def _policy_mean(values, empty_class):
    values = np.asarray(values, dtype=np.float64)
    if empty_class == "zero":
        return float(np.mean(np.where(np.isnan(values), 0.0, values)))
    kept = values[~np.isnan(values)]
    return float(np.mean(kept)) if kept.size else math.nan


def masked(y, s, average, empty_class="zero", encoding="canonical"):
    """mlr's semantics computed with scikit-learn on the non-ignored entries.

    y holds labels in `encoding` (canonical 1/0/-1 or signed 1/-1/0). Returns
    (value, per_class, positives); per_class is NaN for a class without positives and value is
    NaN for average='none'.
    """
    y = np.asarray(y)
    s = np.asarray(s)
    ignored = y == IGNORED_VALUE[encoding]
    positive = (y == 1) & ~ignored
    if y.dtype == np.bool_:
        ignored = np.zeros_like(y, dtype=bool)
        positive = y
    n, c = y.shape
    per_class = np.array([binary(positive[~ignored[:, j], j], s[~ignored[:, j], j])
                          for j in range(c)])
    positives = positive.sum(axis=0).astype(np.int64)
    if average == "none":
        value = math.nan
    elif average == "macro":
        value = _policy_mean(per_class, empty_class)
    elif average == "weighted":
        if positives.sum() == 0:
            value = 0.0 if empty_class == "zero" else math.nan
        else:
            has = positives > 0
            value = float(np.sum(per_class[has] * positives[has]) / positives.sum())
    elif average == "micro":
        value = binary(positive[~ignored], s[~ignored])
        if math.isnan(value) and empty_class == "zero":
            value = 0.0
    elif average == "samples":
        value = _policy_mean([binary(positive[i, ~ignored[i]], s[i, ~ignored[i]])
                              for i in range(n)], empty_class)
    else:
        raise ValueError(f"unknown average {average!r}")
    return value, per_class, positives

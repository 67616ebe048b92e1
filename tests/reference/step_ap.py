"""Step average precision, written naively from METHOD.md section 4.1.

An independent reference for the tests of the Python module: plain Python loops, no numpy, no
scikit-learn, no cleverness. For one class:

1. the distinct scores v1 > v2 > ... are the thresholds;
2. at threshold v, TP = #{positives scoring >= v}, FP = #{negatives scoring >= v};
   precision P = TP / (TP + FP), recall R = TP / (number of positives);
3. AP = sum over thresholds of (R_m - R_{m-1}) * P_m, with R_0 = 0
   (a step function, not interpolated; all positives of a tie block share one precision).

A class without positives has AP = NaN. The mean over classes and its conventions follow
CONVENTIONS.md: ignored labels are removed first (canonical: -1, signed: 0), an empty class
(or, for average='samples', an empty sample) counts as 0 under empty_class='zero' and is left
out under 'exclude'. It is O(N * thresholds) per class: keep the problems small.
"""

import math

POSITIVE, NEGATIVE, IGNORED = "positive", "negative", "ignored"


def decode_label(value, encoding="canonical"):
    """POSITIVE, NEGATIVE or IGNORED for one label value; ValueError outside the encoding."""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):
        return POSITIVE if value else NEGATIVE
    if value == 1:
        return POSITIVE
    if encoding == "canonical":
        states = {0: NEGATIVE, -1: IGNORED}
    elif encoding in ("signed", "signed_zero_ignored"):
        states = {-1: NEGATIVE, 0: IGNORED}
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    for label, state in states.items():
        if value == label:
            return state
    raise ValueError(f"label {value!r} is outside the {encoding} encoding")


def binary_average_precision(scores, positive):
    """Step AP of one class: `scores` and `positive` (truthy = positive) of equal length.

    Returns NaN when there is no positive.
    """
    pairs = [(float(s), bool(p)) for s, p in zip(scores, positive, strict=True)]
    total_positives = sum(1 for _, p in pairs if p)
    if total_positives == 0:
        return math.nan
    ap = 0.0
    previous_recall = 0.0
    for threshold in sorted({s for s, _ in pairs}, reverse=True):
        tp = sum(1 for s, p in pairs if p and s >= threshold)
        fp = sum(1 for s, p in pairs if not p and s >= threshold)
        recall = tp / total_positives
        precision = tp / (tp + fp)
        ap += (recall - previous_recall) * precision
        previous_recall = recall
    return ap


def _kept(scores, labels, encoding):
    """(scores, is_positive) of the entries that are not ignored."""
    kept_scores, kept_positive = [], []
    for s, y in zip(scores, labels, strict=True):
        state = decode_label(y, encoding)
        if state != IGNORED:
            kept_scores.append(s)
            kept_positive.append(state == POSITIVE)
    return kept_scores, kept_positive


def average_precision(scores, labels, encoding="canonical"):
    """(AP, positives, negatives) of one class, ignored entries removed."""
    kept_scores, kept_positive = _kept(scores, labels, encoding)
    positives = sum(kept_positive)
    return (binary_average_precision(kept_scores, kept_positive), positives,
            len(kept_positive) - positives)


def _policy_mean(values, empty_class):
    if empty_class == "zero":
        values = [0.0 if math.isnan(v) else v for v in values]
    elif empty_class == "exclude":
        values = [v for v in values if not math.isnan(v)]
    else:
        raise ValueError(f"unknown empty_class {empty_class!r}")
    return sum(values) / len(values) if values else math.nan


def mean_average_precision(scores, labels, average="macro", empty_class="zero",
                           encoding="canonical"):
    """(value, per_class, positives) for N x C nested sequences `scores` and `labels`.

    per_class holds NaN for a class without positives; value is NaN for average='none'.
    """
    rows = [list(r) for r in scores]
    label_rows = [list(r) for r in labels]
    classes = len(rows[0])
    columns = [[r[c] for r in rows] for c in range(classes)]
    label_columns = [[r[c] for r in label_rows] for c in range(classes)]
    per_class, positives = [], []
    for s, y in zip(columns, label_columns, strict=True):
        ap, p, _ = average_precision(s, y, encoding)
        per_class.append(ap)
        positives.append(p)

    if average == "none":
        value = math.nan
    elif average == "macro":
        value = _policy_mean(per_class, empty_class)
    elif average == "weighted":
        weight = sum(positives)
        if weight == 0:
            value = 0.0 if empty_class == "zero" else math.nan
        else:
            value = sum(p * ap for p, ap in zip(positives, per_class) if p > 0) / weight
    elif average == "micro":
        flat_scores = [s for r in rows for s in r]
        flat_labels = [y for r in label_rows for y in r]
        value = binary_average_precision(*_kept(flat_scores, flat_labels, encoding))
        if math.isnan(value) and empty_class == "zero":
            value = 0.0
    elif average == "samples":
        value = _policy_mean([binary_average_precision(*_kept(s, y, encoding))
                              for s, y in zip(rows, label_rows)], empty_class)
    else:
        raise ValueError(f"unknown average {average!r}")
    return value, per_class, positives

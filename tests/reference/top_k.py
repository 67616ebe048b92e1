"""Top-k precision / recall / F1, written naively from METHOD.md 4.6 and CONVENTIONS.md.

An independent reference for the tests of the Python module (plain loops over rows):

* each image's candidates are the classes in scope, minus its ignored entries unless
  ignored='false_positive' (then an ignored entry may take a slot and counts as a false positive);
* the image predicts its first min(k, candidates) candidates, ordered by higher score, then lower
  class index (the original column index);
* micro pooling: P = TP / slots, R = TP / positives, F1 = 2PR / (P + R);
* zero divisions: 'standard' (P = 0 with no slot, R = NaN with no positive, F1 = 0 when P + R = 0,
  NaN when P or R is NaN), 'sdl' (as standard, then F1 := 0 when P or R is 0 or F1 is NaN),
  'biam' (every 0/0 is NaN), 'asl' (P = R = F1 = 0 when TP = 0).
"""

import math

from step_ap import IGNORED, POSITIVE, decode_label

ZERO_DIVISION_ALIASES = {"dualcoop": "sdl", "mkt": "biam"}


def counts(scores, labels, k, encoding="canonical", ignored="removed", classes=None):
    """(true_positives, slots, positives), pooled over the rows."""
    if k <= 0:
        raise ValueError("k must be positive")
    n_rows = len(scores)
    n_cols = len(scores[0])
    scope = list(range(n_cols)) if classes is None else list(classes)
    tp = slots = positives = 0
    for i in range(n_rows):
        candidates = []
        for j in scope:
            state = decode_label(labels[i][j], encoding)
            if state == IGNORED and ignored == "removed":
                continue
            is_positive = state == POSITIVE
            positives += is_positive
            candidates.append((-float(scores[i][j]), j, is_positive))
        candidates.sort()
        taken = candidates[: min(k, len(candidates))]
        slots += len(taken)
        tp += sum(1 for _, _, p in taken if p)
    return tp, slots, positives


def pooled(tp, slots, positives, zero_division="standard"):
    """(precision, recall, f1) from pooled counts."""
    policy = ZERO_DIVISION_ALIASES.get(zero_division, zero_division)
    nan = math.nan
    if slots:
        p = tp / slots
    else:
        p = nan if policy == "biam" else 0.0
    r = tp / positives if positives else nan
    if math.isnan(p) or math.isnan(r):
        f = nan
    elif p + r == 0:
        f = nan if policy == "biam" else 0.0
    else:
        f = 2 * p * r / (p + r)
    if policy == "sdl" and (p == 0 or r == 0 or math.isnan(f)):
        f = 0.0
    if policy == "asl" and tp == 0:
        p = r = f = 0.0
    return p, r, f


def top_k(scores, labels, k, encoding="canonical", ignored="removed", zero_division="standard",
          classes=None):
    """dict with precision, recall, f1, true_positives, predicted, positives."""
    tp, slots, positives = counts(scores, labels, k, encoding, ignored, classes)
    p, r, f = pooled(tp, slots, positives, zero_division)
    return dict(precision=p, recall=r, f1=f, true_positives=tp, predicted=slots, positives=positives)

"""Order-dependent average precision ("ranked", VOC07 11-point, VOC area), written from METHOD.md
sections 4.4 and 4.5 with numpy.

An independent reference, not a transcription of the C++ kernel. For one group of entries:

1. drop the ignored entries (canonical encoding: -1; signed: 0);
2. order the rest by score descending, ties by row index ascending, then column index ascending
   (np.lexsort, which is stable and sorts by the last key first);
3. TP(r), FP(r) are cumulative counts down that order; precision(r) = TP(r)/r,
   recall(r) = TP(r)/P;
4. ranked:        (1/(P + epsilon)) * sum over positive ranks r of precision(r);
   voc07_11point: mean over t = m/10, m = 0..10, of max{precision(r) : recall(r) >= t}
                  (0 if empty), the comparison made exactly as 10 * TP(r) >= m * P;
   voc_area:      VOC2010+ rule with sentinels R = [0, R..., 1], P = [0, P..., 0], envelope
                  P~_r = max_{r' >= r} P_r', AP = sum over i with R[i+1] != R[i] of
                  (R[i+1] - R[i]) * P~[i+1].
A group without positives gives NaN.

Run as a script to check the single-class table of METHOD.md 7.7 and vectors of 7.9 and 7.10.
"""

import math

import numpy as np


def _keep(labels, encoding):
    labels = np.asarray(labels)
    ignored = -1 if encoding == "canonical" else 0
    negative = 0 if encoding == "canonical" else -1
    if not np.all((labels == 1) | (labels == ignored) | (labels == negative)):
        raise ValueError("labels outside the encoding")
    return labels != ignored, labels == 1


def ranked_ap_entries(scores, positive, rows, columns, flavour="ranked", epsilon=0.0):
    """AP of one group given flat arrays of (score, positive, row, column) of its kept entries."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if not np.all(np.isfinite(scores)):
        raise ValueError("non-finite score")
    big_p = int(positive.sum())
    if big_p == 0:
        return math.nan
    order = np.lexsort((np.asarray(columns), np.asarray(rows), -scores))
    t = positive[order].astype(np.int64)
    tp = np.cumsum(t)
    ranks = np.arange(1, len(t) + 1)
    prec = tp / ranks
    if flavour == "ranked":
        return float(prec[t == 1].sum() / (big_p + epsilon))
    if flavour == "voc07_11point":
        total = 0.0
        for m in range(11):
            reach = 10 * tp >= m * big_p
            total += float(prec[reach].max()) if reach.any() else 0.0
        return total / 11.0
    if flavour == "voc_area":
        mrec = np.concatenate(([0.0], tp / big_p, [1.0]))
        mpre = np.concatenate(([0.0], prec, [0.0]))
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        i = np.where(mrec[1:] != mrec[:-1])[0]
        return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    raise ValueError(flavour)


def ranked_ap(scores, labels, flavour="ranked", epsilon=0.0, encoding="canonical"):
    """AP of one class: scores [N], labels [N]."""
    keep, pos = _keep(labels, encoding)
    idx = np.arange(len(keep))
    return ranked_ap_entries(np.asarray(scores)[keep], pos[keep], idx[keep], np.zeros(keep.sum(), int),
                             flavour, epsilon)


def ranked_ap_per_class(scores, labels, flavour="ranked", epsilon=0.0, encoding="canonical"):
    """Per-class APs of scores [N, C], labels [N, C] (NaN for a class without positives)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    return [ranked_ap(scores[:, j], labels[:, j], flavour, epsilon, encoding) for j in range(scores.shape[1])]


def ranked_ap_micro(scores, labels, flavour="ranked", epsilon=0.0, encoding="canonical"):
    """One AP over all entries of scores [N, C], ordered by (score desc, row asc, column asc)."""
    scores = np.asarray(scores, dtype=np.float64)
    keep, pos = _keep(labels, encoding)
    rows, cols = np.indices(scores.shape)
    return ranked_ap_entries(scores[keep], pos[keep], rows[keep], cols[keep], flavour, epsilon)


# METHOD.md 7.7: case -> (scores, labels, ranked = TagCLIP column, voc_area, voc07_11point).
TABLE_7_7 = {
    "A": ([.9, .8, .7, .6, .5, .4], [1, 0, 1, 0, 0, 1], 0.722222, 0.722222, 0.727273),
    "B": ([.9, .5, .5, .1], [0, 1, 0, 1], 0.5, 0.5, 0.5),
    "B2": ([.9, .5, .5, .1], [0, 0, 1, 1], 0.416667, 0.5, 0.5),
    "C": ([.9, .8, .7], [0, 0, 0], math.nan, math.nan, math.nan),
    "D": ([.5, .5, .5], [1, 1, 1], 1.0, 1.0, 1.0),
    "F": ([.3, .3, .3, .3], [1, 0, 0, 1], 0.75, 0.75, 0.772727),
}


def _close(a, b, tol=5e-7):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def _self_check():
    for case, (s, y, ranked, area, eleven) in TABLE_7_7.items():
        for flavour, want in (("ranked", ranked), ("voc_area", area), ("voc07_11point", eleven)):
            got = ranked_ap(s, y, flavour)
            assert _close(got, want), (case, flavour, got, want)
    # 7.9: ranked + epsilon 1e-8.
    s = [0.9, 0.8, 0.7, 0.6, 0.5]
    assert _close(ranked_ap(s, [1, 0, 1, 0, 1], epsilon=1e-8), 0.755555553037037, 1e-15)
    assert _close(ranked_ap(s, [1, -1, 1, 0, 1], epsilon=1e-8), 0.916666663611111, 1e-15)
    assert _close(ranked_ap([.5] * 4, [1, 0, 0, 0], epsilon=1e-8), 0.99999999, 1e-15)
    assert _close(ranked_ap([.5] * 4, [0, 0, 0, 1], epsilon=1e-8), 0.2499999975, 1e-15)
    two = ranked_ap_per_class([[.9, .5], [.8, .5], [.1, .5]], [[1, 0], [1, 0], [0, 0]], epsilon=1e-8)
    assert _close(np.nan_to_num(two).mean(), 0.4999999975, 1e-15)
    # 7.10: signed labels, 0 = unknown.
    S = [[.9, .2, .5], [.8, .3, .4], [.7, .9, .3], [.1, .4, .2]]
    Y = [[1, -1, 0], [0, 1, -1], [-1, -1, -1], [1, -1, -1]]
    got = ranked_ap_per_class(S, Y, encoding="signed")
    assert _close(got[0], 0.833333) and _close(got[1], 0.333333) and math.isnan(got[2]), got
    # 7.15: recall exactly 3/10 counts at t = 0.3 on the exact grid. Ten positives, each followed by
    # a negative: precision at the positive k is k/(2k-1).
    s = np.arange(20, 0, -1) / 20.0
    y = [1, 0] * 10
    want = (1.0 + sum(k / (2 * k - 1) for k in range(1, 11))) / 11.0
    assert _close(ranked_ap(s, y, "voc07_11point"), want, 1e-15)
    # Micro (one group for all classes) of 7.8's matrix equals the flattened row-major single class.
    S = [[.9, .2, .1], [.3, .8, .7], [.6, .4, .2], [.1, .5, .9]]
    Y = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]]
    for flavour in ("ranked", "voc_area", "voc07_11point"):
        assert _close(ranked_ap_micro(S, Y, flavour), ranked_ap(np.ravel(S), np.ravel(Y), flavour), 1e-15)
    print("micro 7.8:", {f: ranked_ap_micro(S, Y, f) for f in ("ranked", "voc_area", "voc07_11point")})
    print("ranked_ap.py: self-check passed")


if __name__ == "__main__":
    _self_check()

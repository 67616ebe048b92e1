"""Label ranking average precision, written naively from METHOD.md 4.2.

For image i with relevant set Y among its candidates (the classes in scope minus its ignored
entries):
    LRAP_i = (1/|Y|) sum_{j in Y} |{k in Y : s_k >= s_j}| / |{k candidate : s_k >= s_j}|
(ties pessimistic); LRAP_i = 1 when |Y| = 0 or every candidate is relevant. The result is the
mean over images. O(C^2) per image: keep the problems small.
"""

from step_ap import IGNORED, POSITIVE, decode_label


def label_ranking_average_precision(scores, labels, encoding="canonical", classes=None):
    n_cols = len(scores[0])
    scope = list(range(n_cols)) if classes is None else list(classes)
    total = 0.0
    for i in range(len(scores)):
        cand = []
        for j in scope:
            state = decode_label(labels[i][j], encoding)
            if state != IGNORED:
                cand.append((float(scores[i][j]), state == POSITIVE))
        relevant = [s for s, p in cand if p]
        if not relevant or len(relevant) == len(cand):
            total += 1.0
            continue
        row = 0.0
        for s in relevant:
            rank = sum(1 for t, _ in cand if t >= s)
            above = sum(1 for t in relevant if t >= s)
            row += above / rank
        total += row / len(relevant)
    return total / len(scores)

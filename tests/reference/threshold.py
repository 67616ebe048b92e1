"""Independent numpy reference of the threshold metrics (METHOD.md 4.7, CONVENTIONS.md).

Written from the specification, not from the C++: dense boolean masks over the whole matrix,
per-class counts by column sums, then the zero-division rules of CONVENTIONS.md 6.15 and the
policies named in mlr (zero_division standard / sdl / biam / asl, empty_class zero / exclude,
predicted_count exact / mlgcn).
"""

import numpy as np


def _decode(labels, encoding):
    y = np.asarray(labels)
    if y.dtype == np.bool_:
        return y, np.zeros(y.shape, bool)
    if encoding == "canonical":
        return y == 1, y == -1
    return y == 1, y == 0  # signed: +1 positive, -1 negative, 0 ignored


def _div(a, b, when_zero):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    return np.where(b == 0, when_zero, out)


def _f1(p, r, rule):
    p = np.asarray(p, float)
    r = np.asarray(r, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 2 * p * r / (p + r)
    if rule == "biam":
        return f
    if rule == "sdl":
        return np.where((p == 0) | (r == 0) | np.isnan(f), 0.0, f)
    # standard: NaN with a NaN operand, 0 when P + R = 0
    return np.where(np.isnan(p) | np.isnan(r), np.nan, np.where(p + r == 0, 0.0, f))


def _prf(tp, pred, pos, rule):
    p = _div(tp, pred, np.nan if rule == "biam" else 0.0)
    r = _div(tp, pos, np.nan)
    f = _f1(p, r, "standard" if rule == "asl" else rule)
    if rule == "asl":
        zero = np.asarray(tp) == 0
        p, r, f = (np.where(zero, 0.0, v) for v in (p, r, f))
    return p, r, f


def threshold_metrics(scores, labels, threshold=0.5, kind="absolute", mu=0.5, comparison="greater",
                      encoding="canonical", empty_class="zero", zero_division="standard", count="exact",
                      classes=None):
    s = np.asarray(scores, float)
    y = np.asarray(labels)
    if classes is not None:
        s = s[:, list(classes)]
        y = y[:, list(classes)]
    pos_mask, ignored = _decode(y, encoding)
    if kind == "relative":
        lo = s.min(axis=1, keepdims=True)
        hi = s.max(axis=1, keepdims=True)
        t = lo + mu * (hi - lo)
    else:
        t = threshold
    pred_mask = (s >= t) if comparison == "greater_equal" else (s > t)
    keep = ~ignored
    tp = (pred_mask & pos_mask & keep).sum(axis=0)
    pred = (pred_mask & keep).sum(axis=0)
    pos = (pos_mask & keep).sum(axis=0)
    pred_used = np.where(pred == 0, 1, pred) if count == "mlgcn" else pred

    p, r, f = _prf(tp, pred_used, pos, zero_division)
    empty = pos == 0
    cp = p.mean()
    if empty_class == "exclude":
        cr = r[~empty].mean() if (~empty).any() else np.nan
        cf1_mean = f[~empty].mean() if (~empty).any() else np.nan
    else:
        cr = np.where(empty, 0.0, r).mean()
        cf1_mean = np.where(empty, 0.0, f).mean()
    pooled_rule = "biam" if zero_division == "asl" else zero_division
    cf1_harmonic = float(_f1(cp, cr, pooled_rule))
    op, or_, of1 = (float(v) for v in _prf(tp.sum(), pred_used.sum(), pos.sum(), pooled_rule))
    return dict(cp=float(cp), cr=float(cr), cf1_harmonic=cf1_harmonic, cf1_mean=float(cf1_mean), op=op, or_=or_,
                of1=of1, precision=p, recall=r, f1=f, true_positives=tp, predicted=pred, positives=pos,
                total_true_positives=int(tp.sum()), total_predicted=int(pred.sum()),
                total_positives=int(pos.sum()))

"""Binned average precision (torchmetrics' `thresholds=` mode), written from METHOD.md section 4.3.

A float64 numpy reference for the tests of mlr.binned_ap_accumulator. For thresholds
t_0 < ... < t_{T-1} and one class:

1. an entry is predicted positive at t_j iff its score >= t_j (compared in float64; ignored
   entries take no part);
2. TP_j, FP_j, FN_j count the positives predicted, the negatives predicted and the positives
   missed at t_j;
3. P_j = TP_j / (TP_j + FP_j), R_j = TP_j / (TP_j + FN_j), 0/0 = 0; a sentinel P_T = 1, R_T = 0
   is appended;
4. AP = sum_{j < T} (R_j - R_{j+1}) * P_j.

A class without positives has R = 0 everywhere, hence AP 0 in torchmetrics; here (as in mlr) its
per-class value is NaN and `empty_class` decides how it enters the mean. micro is one curve over
the counts summed over classes; weighted weighs each class by its positives.

`linspace_thresholds(T)` is torch.linspace(0, 1, T) in float32, what torchmetrics uses for an
integer `thresholds=T`. Its exact values depend on the ATen CPU kernel torch dispatches to
(ATEN_CPU_CAPABILITY default / avx2 / avx512 give different last bits for some T);
`torch_linspace_model` reproduces each of the three from the kernel's arithmetic.
"""

import math

import numpy as np

IGNORED = {"canonical": -1, "signed": 0, "signed_zero_ignored": 0}
POSITIVE = 1


def linspace_thresholds(count):
    """torch.linspace(0, 1, count) in float32, as torchmetrics builds it (needs torch)."""
    import torch

    return torch.linspace(0, 1, count, dtype=torch.float32).numpy()


def _fma32(a, b, c, fused):
    """a * b + c in float32: one rounding when fused, else two."""
    if fused:  # a, b, c are float32, so the float64 product is exact
        return np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    return np.float32(np.float32(a) * np.float32(b)) + np.float32(c)


def torch_linspace_model(count, capability):
    """torch 1.13's CPU linspace(0, 1, count) in float32 for ATen CPU `capability`.

    The kernel computes step = 1 / (count - 1); element i is i * step below count // 2 and
    1 - (count - 1 - i) * step from there on. Its vectorised loop writes 2 vectors of `lanes`
    floats at a time: the first element of each vector by that formula, the others as
    first + k * step; the tail by the formula. The AVX2/AVX512 kernels are compiled with FMA,
    which fuses the formula (not the per-lane additions).
    """
    lanes, fused = {"default": (8, False), "avx2": (8, True), "avx512": (16, True)}[capability]
    step = np.float32(1) / np.float32(count - 1)
    half = count // 2

    def formula(i):
        if i < half:
            return _fma32(step, np.float32(i), np.float32(0), fused)
        return _fma32(-step, np.float32(count - 1 - i), np.float32(1), fused)

    out = np.empty(count, np.float32)
    i = 0
    while i + 2 * lanes <= count:
        for _ in range(2):
            first = formula(i)
            out[i] = first
            for k in range(1, lanes):
                out[i + k] = np.float32(first + np.float32(np.float32(k) * step))
            i += lanes
    for j in range(i, count):
        out[j] = formula(j)
    return out


def counts(scores, labels, thresholds, encoding="canonical"):
    """(tp, fp, fn), int64 arrays [T, C], for scores and labels [N, C]."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    t = np.asarray(thresholds, dtype=np.float64)
    kept = y != IGNORED[encoding]
    positive = (y == POSITIVE) & kept
    negative = kept & ~positive
    passed = s[None, :, :] >= t[:, None, None]  # [T, N, C]
    tp = (passed & positive[None]).sum(axis=1)
    fp = (passed & negative[None]).sum(axis=1)
    fn = positive.sum(axis=0)[None, :] - tp
    return tp.astype(np.int64), fp.astype(np.int64), fn.astype(np.int64)


def _ratio(num, den):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def curve_ap(tp, fp, fn):
    """AP of one binned curve (1-D counts over the thresholds); NaN without positives."""
    if tp[0] + fn[0] == 0:
        return math.nan
    precision = np.append(_ratio(tp, tp + fp), 1.0)
    recall = np.append(_ratio(tp, tp + fn), 0.0)
    return float(np.sum((recall[:-1] - recall[1:]) * precision[:-1]))


def binned_average_precision(tp, fp, fn, average="macro", empty_class="zero"):
    """(value, per_class, positives) from counts [T, C]; value is NaN for average='none'."""
    tp, fp, fn = (np.asarray(a, dtype=np.int64) for a in (tp, fp, fn))
    per_class = np.array([curve_ap(tp[:, c], fp[:, c], fn[:, c]) for c in range(tp.shape[1])])
    positives = tp[0] + fn[0]
    empty_value = {"zero": 0.0, "exclude": math.nan}[empty_class]
    if average == "none":
        value = math.nan
    elif average == "macro":
        kept = per_class if empty_class == "zero" else per_class[~np.isnan(per_class)]
        kept = np.nan_to_num(kept, nan=0.0)
        value = float(kept.mean()) if kept.size else math.nan
    elif average == "micro":
        value = curve_ap(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
        if math.isnan(value):
            value = empty_value
    elif average == "weighted":
        total = positives.sum()
        if total == 0:
            value = empty_value
        else:
            value = float(np.sum(positives[positives > 0] * per_class[positives > 0]) / total)
    else:
        raise ValueError(f"unknown average {average!r}")
    return value, per_class, positives

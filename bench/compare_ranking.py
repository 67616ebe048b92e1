"""Top-k, threshold metrics and LRAP: mlr against what users would otherwise run, on the data of
bench/compare_ap.py (which imports this module and runs it in the same process and run).

  * top-k P/R/F1 (k = 3, micro-pooled): ``mlr.top_k`` vs ``torch.topk`` + a scattered 0/1 mask
    (the MKT/BiAM evaluation code's recipe) vs ``numpy.argpartition``;
  * threshold metrics (CP, CR, CF1, OP, OR, OF1 at score > 0.5): ``mlr.threshold_metrics`` vs
    vectorised numpy and torch counts;
  * LRAP: ``mlr.label_ranking_average_precision`` vs scikit-learn's
    ``label_ranking_average_precision_score``.

Every baseline's result is checked against mlr's in the same run. Throughput is input bytes
(float32 scores + int8 labels, read once) over wall time.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

K = 3
THRESHOLD = 0.5


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


# --------------------------------------------------------------------------------------------
# Baselines, written as a user would: whole-matrix vectorised operations.
def f1_of(tp, predicted, positives):
    p = tp / predicted
    r = tp / positives
    return p, r, 2 * p * r / (p + r)


def torch_topk(st, yt, k=K):
    """Predict the top k of each row through a 0/1 mask scattered from torch.topk's indices,
    then count the positives under the mask (the MKT/BiAM recipe)."""
    import torch

    idx = torch.topk(st, k, dim=1).indices
    mask = torch.zeros_like(st, dtype=torch.bool)
    mask.scatter_(1, idx, True)
    positive = yt == 1
    tp = int((mask & positive).sum())
    return (tp, int(mask.sum()), int(positive.sum())), f1_of(tp, int(mask.sum()), int(positive.sum()))


def numpy_topk(s, y, k=K):
    """The top k of each row by np.argpartition (no full sort), labels gathered at those indices."""
    idx = np.argpartition(s, -k, axis=1)[:, -k:]
    tp = int(np.count_nonzero(np.take_along_axis(y, idx, axis=1) == 1))
    positives = int(np.count_nonzero(y == 1))
    return (tp, idx.size, positives), f1_of(tp, idx.size, positives)


def threshold_summary(tp, predicted, positives):
    """CP, CR, CF1 (harmonic), OP, OR, OF1 from per-class counts, with mlr's defaults: a class
    without predictions has precision 0, a class without positives recall 0 in CR."""
    tp, predicted, positives = (np.asarray(a, np.float64) for a in (tp, predicted, positives))
    p = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    r = np.divide(tp, positives, out=np.zeros_like(tp), where=positives > 0)
    cp, cr = p.mean(), r.mean()
    op, or_, of1 = f1_of(tp.sum(), predicted.sum(), positives.sum())
    return {"cp": cp, "cr": cr, "cf1": 2 * cp * cr / (cp + cr), "op": op, "or": or_, "of1": of1}


def numpy_threshold(s, y, t=THRESHOLD):
    predicted = s > t
    positive = y == 1
    return threshold_summary((predicted & positive).sum(0), predicted.sum(0), positive.sum(0))


def torch_threshold(st, yt, t=THRESHOLD):
    predicted = st > t
    positive = yt == 1
    return threshold_summary((predicted & positive).sum(0).numpy(), predicted.sum(0).numpy(),
                             positive.sum(0).numpy())


def mlr_threshold_summary(r):
    return {"cp": r.cp, "cr": r.cr, "cf1": r.cf1_harmonic, "op": r.op, "or": r.or_, "of1": r.of1}


# --------------------------------------------------------------------------------------------
def compare(name, s, y, mlr_module, log, repeats, cpu_pressure):
    """Times every implementation on (s, y) and checks the baselines against mlr. cpu_pressure()
    reads the machine's recent CPU contention (a share in %, or None), recorded before and after."""
    import torch
    from sklearn.metrics import label_ranking_average_precision_score

    st, yt = torch.from_numpy(s), torch.from_numpy(y)
    out = {"shape": name, "rows": s.shape[0], "cols": s.shape[1], "input_bytes": s.nbytes + y.nbytes,
           "pressure": [cpu_pressure()]}

    def run(key, fn, n):
        median, times, result = timed(fn, n)
        out[key], out[key + "_runs"] = median, times
        log(f"  {key:16s} median {median:8.3f} s  ({(s.nbytes + y.nbytes) / median / 1e9:5.2f} GB/s)  "
            f"runs {', '.join(f'{t:.3f}' for t in times)}")
        return result

    # Top-k. Ties at rank k may be broken differently (mlr: the lower class index), so the
    # baselines' true positives may differ by a few; they are reported, and must stay tiny.
    mk = run("topk_mlr_t2", lambda: mlr_module.top_k(s, y, K, threads=2), repeats["mlr"])
    run("topk_mlr_t1", lambda: mlr_module.top_k(s, y, K, threads=1), repeats["mlr"])
    (tk_counts, tk_prf) = run("topk_torch", lambda: torch_topk(st, yt), repeats["baseline"])
    (np_counts, np_prf) = run("topk_numpy", lambda: numpy_topk(s, y), repeats["baseline"])
    out["topk_f1"] = mk.f1
    out["topk_tp_diff"] = max(abs(tk_counts[0] - mk.true_positives), abs(np_counts[0] - mk.true_positives))
    out["topk_f1_diff"] = max(abs(tk_prf[2] - mk.f1), abs(np_prf[2] - mk.f1))
    if (tk_counts[1:] != (mk.predicted, mk.positives) or np_counts[1:] != (mk.predicted, mk.positives)
            or out["topk_tp_diff"] > 1e-4 * mk.true_positives):
        raise SystemExit(f"{name}: top-k baselines disagree with mlr: mlr {mk.true_positives, mk.predicted, mk.positives}"
                         f", torch {tk_counts}, numpy {np_counts}")
    log(f"  top-{K}: F1 {mk.f1:.6f}, max |TP diff| vs baselines {out['topk_tp_diff']} (ties at rank {K})")

    # Threshold metrics.
    mt = run("thr_mlr_t2", lambda: mlr_module.threshold_metrics(s, y, threshold=THRESHOLD, threads=2),
             repeats["mlr"])
    run("thr_mlr_t1", lambda: mlr_module.threshold_metrics(s, y, threshold=THRESHOLD, threads=1), repeats["mlr"])
    th_np = run("thr_numpy", lambda: numpy_threshold(s, y), repeats["baseline"])
    th_torch = run("thr_torch", lambda: torch_threshold(st, yt), repeats["baseline"])
    ours = mlr_threshold_summary(mt)
    out["thr_of1"] = mt.of1
    out["thr_diff"] = max(abs(ref[key] - ours[key]) for ref in (th_np, th_torch) for key in ours)
    if not out["thr_diff"] <= 1e-12:
        raise SystemExit(f"{name}: threshold baselines disagree with mlr: {ours} vs {th_np} / {th_torch}")
    log(f"  threshold: OF1 {mt.of1:.6f}, max |metric diff| vs baselines {out['thr_diff']:.1e}")

    # LRAP.
    ml = run("lrap_mlr_t2", lambda: mlr_module.label_ranking_average_precision(s, y, threads=2), repeats["mlr"])
    run("lrap_mlr_t1", lambda: mlr_module.label_ranking_average_precision(s, y, threads=1), repeats["mlr"])
    sk = run("lrap_sklearn", lambda: label_ranking_average_precision_score(y, s), repeats["sklearn"])
    out["lrap"] = ml
    out["lrap_diff"] = abs(sk - ml)
    if not out["lrap_diff"] <= 1e-9:
        raise SystemExit(f"{name}: LRAP: scikit-learn {sk!r} vs mlr {ml!r}")
    log(f"  LRAP {ml:.6f}, |diff| vs scikit-learn {out['lrap_diff']:.1e}")
    out["pressure"].append(cpu_pressure())
    return out


# --------------------------------------------------------------------------------------------
# The document's sections.
def fmt_time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def gbps(r, key):
    return r["input_bytes"] / r[key] / 1e9


def comparison_section(r):
    """Markdown: the Python comparison at one shape (results of compare())."""
    lines = []
    w = lines.append
    w(f"The data of the AP comparison above at {r['shape']}: {r['rows']:,} × {r['cols']:,}, float32 scores + "
      f"int8 labels = {r['input_bytes'] / 1e6:.0f} MB, C-contiguous. Median wall time; ratio = baseline time "
      "/ mlr time (mlr with 2 threads; with 1 thread in brackets); GB/s = input bytes / time (each "
      "implementation reads every score and label at least once). Every baseline's result is checked "
      "against mlr's in the same run.")
    p0, p1 = r["pressure"]
    if p0 is not None and p1 is not None:
        w(f"CPU pressure from other users (`/proc/pressure/cpu` avg60) {p0:.0f} % before this section, "
          f"{p1:.0f} % after it: where mlr's 2-thread time is no better than its 1-thread time, the "
          "second core was busy elsewhere.")
    w("")
    w("| metric | implementation | time | GB/s | baseline / mlr |")
    w("|---|---|---:|---:|---:|")

    def rows(metric, mlr_keys, baselines):
        t2, t1 = mlr_keys
        w(f"| {metric} | **mlr**, 2 threads | {fmt_time(r[t2])} | {gbps(r, t2):.2f} | — |")
        w(f"| | mlr, 1 thread | {fmt_time(r[t1])} | {gbps(r, t1):.2f} | — |")
        for label, key in baselines:
            w(f"| | {label} | {fmt_time(r[key])} | {gbps(r, key):.2f} | **{r[key] / r[t2]:.1f}x** "
              f"({r[key] / r[t1]:.1f}x) |")

    rows(f"top-{K} P/R/F1", ("topk_mlr_t2", "topk_mlr_t1"),
         [("`torch.topk` + scattered mask (MKT/BiAM recipe), 2 threads", "topk_torch"),
          ("`numpy.argpartition` + `take_along_axis`", "topk_numpy")])
    rows(f"CP/CR/CF1/OP/OR/OF1 at > {THRESHOLD}", ("thr_mlr_t2", "thr_mlr_t1"),
         [("numpy, vectorised counts", "thr_numpy"), ("torch, vectorised counts, 2 threads", "thr_torch")])
    rows("LRAP", ("lrap_mlr_t2", "lrap_mlr_t1"),
         [("scikit-learn `label_ranking_average_precision_score`", "lrap_sklearn")])
    w("")
    w(f"Agreement: top-{K} F1 {r['topk_f1']:.6f}, baselines' true positives within {r['topk_tp_diff']} of "
      f"mlr's (they break ties at rank {K} their own way; mlr takes the lower class index), F1 within "
      f"{r['topk_f1_diff']:.1e}; threshold metrics (OF1 {r['thr_of1']:.6f}) equal to {r['thr_diff']:.1e}; "
      f"LRAP {r['lrap']:.6f}, scikit-learn's within {r['lrap_diff']:.1e}.")
    w("")
    keys = [k for k in r if k.endswith("_runs")]
    w("Runs (seconds): " + "; ".join(f"{k[:-5]} {', '.join(f'{t:.3f}' for t in r[k])}" for k in keys) + ".")
    return "\n".join(lines)


def floor_key(shape):
    return f"floor/read/{shape}/threads:2"


def bench_section(res, fmt_rate):
    """Markdown: the C++ Google Benchmark of top-k, threshold metrics and LRAP beside raw loops and
    the read floor. `res` maps names to (ms, items/s, bytes/s, repetitions)."""
    lines = ["| shape | metric | mlr, 1 thread | mlr, 2 threads | raw loop (1 thread) "
             "| raw / mlr (1 thread; 2 threads) | mlr GB/s (2 threads) | share of the read floor (2 threads) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]

    def cell(key):
        if key not in res:
            return "—"
        ms, _, _, reps = res[key]
        return f"{ms:.1f} ms" + ("" if reps > 1 else " (1 run)")

    for shape in ("COCO", "NUS-WIDE-GZSL"):
        floor = res.get(floor_key(shape))
        for metric, label in (("top_k", f"top-{K}"), ("threshold", "threshold"), ("lrap", "LRAP")):
            t1, t2 = f"mlr/{metric}/{shape}/threads:1", f"mlr/{metric}/{shape}/threads:2"
            raw = f"naive/{metric}/{shape}"
            if t1 not in res:
                continue
            ratio = (f"{res[raw][0] / res[t1][0]:.1f}x; {res[raw][0] / res[t2][0]:.1f}x"
                     if raw in res and t2 in res else "—")
            rate = res[t2][2] if t2 in res else None
            share = f"{100 * rate / floor[2]:.0f} %" if rate and floor and floor[2] else "—"
            lines.append(f"| {shape} | {label} | {cell(t1)} | {cell(t2)} | {cell(raw)} | {ratio} "
                         f"| {fmt_rate(rate, 'B/s') if rate else '—'} | {share} |")
        if floor:
            one = f"floor/read/{shape}/threads:1"
            lines.append(f"| {shape} | read floor (every input byte read, nothing computed) | {cell(one)} "
                         f"| {cell(floor_key(shape))} | | | {fmt_rate(floor[2], 'B/s')} | 100 % |")
    return "\n".join(lines)

#!/usr/bin/python3
"""mlr's metrics against the tools users would otherwise run, in one run.

On the same seeded numpy data (float32 scores, int8 labels) at the COCO and NUS-WIDE GZSL
shapes, times

  * scikit-learn  ``sklearn.metrics.average_precision_score(y, s, average=None)``;
  * torch         a sort-based step AP vectorised over all classes (``torch_step_ap`` below,
                  checked against scikit-learn inside this script), ``torch.set_num_threads(2)``;
  * mlr           ``mlr.mean_average_precision(s, y, average='none', threads=2)`` and threads=1;

checks that the three agree class by class; on the same NUS-WIDE GZSL data it then compares
top-k, threshold metrics and LRAP with torch, numpy and scikit-learn (bench/compare_ranking.py);
finally it runs the C++ benchmark binaries (Google Benchmark against naive loops, and the
peak-memory probe) and writes docs/performance.md.

Run with Debian's interpreter, which has numpy, scikit-learn and torch:

    /usr/bin/python3 bench/compare_ap.py --build-dir build/bench

or ``cmake --build build/bench --target mlr_compare_ap``. About 6 minutes on 2 quiet cores.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import compare_ranking
import doc_block

REPO = Path(__file__).resolve().parent.parent
SEED = 2024

# name, rows, cols, label cardinality (mean positives per image); as bench/support/synthetic.hpp.
SHAPES = {
    "VOC": (4952, 20, 1.4),
    "COCO": (40137, 80, 2.9),
    "NUS-WIDE-GZSL": (107859, 1006, 5.0),
}


# --------------------------------------------------------------------------------------------
# Data: the model of bench/support/synthetic.hpp, drawn with numpy (same distribution, not the
# same bits): Zipf class priors scaled to the label cardinality and clipped to 0.5; logits
# b_c + y * d_c + N(0, 1) with b_c ~ U(-3, -1), d_c ~ U(1, 3); sigmoid; 3/256 of the entries
# rounded to a multiple of 1/1000 (ties).
def make_data(rows: int, cols: int, cardinality: float, seed: int = SEED):
    rng = np.random.default_rng(seed)
    rank = rng.permutation(cols)
    harmonic = np.sum(1.0 / np.arange(1, cols + 1))
    prior = np.minimum(0.5, cardinality / harmonic / (rank + 1.0))
    bias = rng.uniform(-3.0, -1.0, cols)
    separation = rng.uniform(1.0, 3.0, cols)
    scores = np.empty((rows, cols), np.float32)
    labels = np.empty((rows, cols), np.int8)
    chunk = max(1, (1 << 22) // cols)
    for begin in range(0, rows, chunk):
        end = min(rows, begin + chunk)
        y = rng.random((end - begin, cols)) < prior
        z = bias + y * separation + rng.standard_normal((end - begin, cols))
        s = 1.0 / (1.0 + np.exp(-z))
        tie = rng.random(s.shape) < 3.0 / 256.0
        s[tie] = np.round(s[tie] * 1000.0) / 1000.0
        scores[begin:end] = s
        labels[begin:end] = y
    return scores, labels


# --------------------------------------------------------------------------------------------
# The torch baseline: per class, sort descending, cumulative TP, and scikit-learn's step AP
# evaluated at the last entry of each run of equal scores (the distinct thresholds):
#   AP = sum over thresholds of (TP_t - TP_{t-1}) / P * TP_t / (TP_t + FP_t).
# All classes at once: torch.sort along dim 1 of a C x N (class-major) copy.
def torch_step_ap(scores, labels):
    import torch

    # Class-major copies: sorting contiguous rows is faster than sorting strided columns.
    s = scores.t().contiguous()
    n = s.shape[1]
    s_sorted, order = torch.sort(s, dim=1, descending=True)
    del s
    y = torch.gather(labels.t().contiguous(), 1, order)
    del order
    tp = torch.cumsum(y, dim=1, dtype=torch.int32)
    del y
    last = torch.empty_like(s_sorted, dtype=torch.bool)  # last entry of a run of equal scores
    last[:, -1] = True
    last[:, :-1] = s_sorted[:, :-1] != s_sorted[:, 1:]
    del s_sorted
    # TP at the previous threshold: the running maximum of TP over earlier thresholds (TP only grows).
    tp_at_last = torch.where(last, tp, torch.zeros((), dtype=tp.dtype))
    tp_before = torch.zeros_like(tp)
    tp_before[:, 1:] = torch.cummax(tp_at_last, dim=1).values[:, :-1]
    del tp_at_last
    rank = torch.arange(1, n + 1, dtype=torch.float64)  # TP + FP at entry i
    tp64 = tp.to(torch.float64)
    contribution = (tp64 - tp_before) * tp64 / rank
    del tp_before, tp64
    total = torch.where(last, contribution, torch.zeros((), dtype=torch.float64)).sum(dim=1)
    positives = tp[:, -1].to(torch.float64)
    return (total / positives).numpy()  # NaN for a class without positives


def check_torch_against_sklearn():
    """The torch baseline computes scikit-learn's AP (ties included) to 1e-6."""
    import torch
    from sklearn.metrics import average_precision_score

    cases = [  # METHOD.md 7.7: no ties, tie positive first, tie negative first, all equal
        ([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [1, 0, 1, 0, 0, 1]),
        ([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1]),
        ([0.9, 0.5, 0.5, 0.1], [0, 0, 1, 1]),
        ([0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1]),
    ]
    worst = 0.0
    for s, y in cases:
        s_t = torch.tensor(s, dtype=torch.float32).unsqueeze(1)
        y_t = torch.tensor(y, dtype=torch.int8).unsqueeze(1)
        ours = torch_step_ap(s_t, y_t)[0]
        ref = average_precision_score(np.array(y), np.array(s, dtype=np.float32))
        worst = max(worst, abs(ours - ref))
    s, y = make_data(2000, 16, 2.0, seed=7)
    s = np.round(s * 50) / 50  # many ties
    s = s.astype(np.float32)
    ours = torch_step_ap(torch.from_numpy(s), torch.from_numpy(y))
    ref = average_precision_score(y, s, average=None)
    worst = max(worst, float(np.max(np.abs(ours - ref))))
    if not worst <= 1e-6:
        raise SystemExit(f"torch baseline disagrees with scikit-learn: max |diff| = {worst:.3g}")
    return worst


# --------------------------------------------------------------------------------------------
def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def max_abs_diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both = ~(np.isnan(a) | np.isnan(b))
    return float(np.max(np.abs(a[both] - b[both]))) if both.any() else 0.0


def compare_shape(name, repeats, mlr_module, log, ranking):
    import torch
    from sklearn.metrics import average_precision_score

    rows, cols, cardinality = SHAPES[name]
    t0 = time.perf_counter()
    s, y = make_data(rows, cols, cardinality)
    log(f"{name}: {rows} x {cols}, {int(y.sum())} positives, data in {time.perf_counter() - t0:.1f} s")
    st, yt = torch.from_numpy(s), torch.from_numpy(y)
    r = {"shape": name, "rows": rows, "cols": cols, "entries": rows * cols,
         "input_bytes": s.nbytes + y.nbytes, "positives": int(y.sum()),
         "empty_classes": int(np.sum(y.sum(axis=0) == 0))}

    runs = {
        "mlr_t2": (lambda: mlr_module.mean_average_precision(s, y, average="none", threads=2).per_class,
                   repeats["mlr"]),
        "mlr_t1": (lambda: mlr_module.mean_average_precision(s, y, average="none", threads=1).per_class,
                   repeats["mlr"]),
        "torch": (lambda: torch_step_ap(st, yt), repeats["torch"]),
        "sklearn": (lambda: average_precision_score(y, s, average=None), repeats["sklearn"]),
    }
    per_class = {}
    for key, (fn, n) in runs.items():
        median, times, out = timed(fn, n)
        r[key] = median
        r[key + "_runs"] = times
        per_class[key] = np.asarray(out, np.float64)
        log(f"  {key:8s} median {median:8.3f} s  runs {', '.join(f'{t:.3f}' for t in times)}")
    r["diff_sklearn_mlr"] = max_abs_diff(per_class["sklearn"], per_class["mlr_t2"])
    r["diff_torch_mlr"] = max_abs_diff(per_class["torch"], per_class["mlr_t2"])
    r["diff_sklearn_torch"] = max_abs_diff(per_class["sklearn"], per_class["torch"])
    r["diff_mlr_threads"] = max_abs_diff(per_class["mlr_t1"], per_class["mlr_t2"])
    r["macro"] = float(np.nanmean(np.nan_to_num(per_class["mlr_t2"], nan=0.0)))
    log(f"  max |per-class diff|: sklearn-mlr {r['diff_sklearn_mlr']:.2e}, torch-mlr "
        f"{r['diff_torch_mlr']:.2e}, sklearn-torch {r['diff_sklearn_torch']:.2e}, "
        f"mlr t1-t2 {r['diff_mlr_threads']:.1e}")
    if ranking:
        log(f"{name}: top-k, threshold metrics, LRAP on the same data")
        r["ranking"] = compare_ranking.compare(name, s, y, mlr_module, log, repeats["ranking"], cpu_pressure)
    return r


# --------------------------------------------------------------------------------------------
def run_json(cmd, log):
    log("$ " + " ".join(str(c) for c in cmd))
    out = subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.PIPE, text=True).stdout
    return out


def run_memory(binary, log):
    results = []
    for average, threads in (("macro", 2), ("micro", 2)):
        out = run_json([binary, "NUS-WIDE-GZSL", "f32", average, threads], log)
        results.append(json.loads(out))
        d = results[-1]
        log(f"  extra peak RSS {d['extra_bytes'] / 2**20:.1f} MiB = {100 * d['fraction']:.2f} % of input "
            f"({d['input_bytes'] / 2**20:.0f} MiB), {d['seconds']:.2f} s")
    return results


def run_bench(binary, log, bench_filter, extra=()):
    cmd = [binary, "--benchmark_format=json", *extra]
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    return json.loads(run_json(cmd, log))


# --------------------------------------------------------------------------------------------
def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name():
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}"


def cpu_pressure():
    """Share of the last minute during which some task waited for a CPU (Linux PSI), or None."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return float(dict(kv.split("=") for kv in line.split()[1:])["avg60"])
    except (OSError, KeyError, ValueError):
        pass
    return None


def git_state():
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "include"],
                               check=True, capture_output=True, text=True).stdout.strip()
        return rev + (" + uncommitted changes under include/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def module_flags(build_dir):
    """The C++ flags the build tree gives the Python module: CMAKE_CXX_FLAGS and those of the
    build type, from its CMakeCache.txt (None when unknown)."""
    try:
        cache = dict(re.findall(r"^(CMAKE_CXX_FLAGS(?:_[A-Z]+)?|CMAKE_BUILD_TYPE):[A-Z]+=(.*)$",
                                (build_dir / "CMakeCache.txt").read_text(), re.M))
    except (OSError, TypeError):
        return None
    build_type = cache.get("CMAKE_BUILD_TYPE", "")
    flags = " ".join(f for f in (cache.get("CMAKE_CXX_FLAGS", ""),
                                 cache.get(f"CMAKE_CXX_FLAGS_{build_type.upper()}", "")) if f)
    return f"{build_type or 'no build type'}: {flags or '(none)'}"


def fmt_time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def fmt_rate(x, unit):
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.1f} {prefix}{unit}"
    return f"{x:.0f} {unit}"


def bench_results(bench):
    """{name without suffixes: (median wall ms, items/s, bytes/s, repetitions)} from Google
    Benchmark's JSON: the median aggregate where the benchmark was repeated, else the one run."""
    unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    out = {}
    for b in bench.get("benchmarks", []):
        if "error_occurred" in b and b["error_occurred"]:
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = re.sub(r"/(repeats|iterations|min_time):[^/]+|/real_time(_median)?$", "", b["run_name"]
                      if b.get("run_type") == "aggregate" else b["name"])
        name = name.replace("/real_time", "")
        reps = b.get("repetitions", 1) if b.get("run_type") == "aggregate" else 1
        out[name] = (b["real_time"] * unit[b["time_unit"]], b.get("items_per_second"),
                     b.get("bytes_per_second"), reps)
    return out


def bench_table(bench):
    """Rows: shape x dtype x average; mlr at 1 and 2 threads beside the naive loop."""
    res = bench_results(bench)
    lines = ["| shape | dtype | average | mlr, 1 thread | mlr, 2 threads | naive loop (1 thread) "
             "| naive / mlr (1 thread) | mlr entries/s | mlr bytes/s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]

    def cell(key):
        if key not in res:
            return "—"
        ms, _, _, reps = res[key]
        return f"{ms:.1f} ms" + ("" if reps > 1 else " (1 run)")

    for shape in SHAPES:
        for dtype in ("f32", "f64"):
            for average in ("none", "macro", "micro"):
                t1 = f"mlr/{shape}/{dtype}/{average}/threads:1"
                t2 = f"mlr/{shape}/{dtype}/{average}/threads:2"
                naive = f"naive/{shape}/{dtype}/{average}"
                if t1 not in res and t2 not in res:
                    continue
                ratio = f"{res[naive][0] / res[t1][0]:.1f}x" if naive in res and t1 in res else "—"
                fastest = min((res[k] for k in (t1, t2) if k in res), key=lambda r: r[0])
                rate = fmt_rate(fastest[1], "/s") if fastest[1] else "—"
                bps = fmt_rate(fastest[2], "B/s") if fastest[2] else "—"
                lines.append(f"| {shape} | {dtype} | {average} | {cell(t1)} | {cell(t2)} | {cell(naive)} "
                             f"| {ratio} | {rate} | {bps} |")
    return "\n".join(lines)


def write_doc(path, ctx):
    shapes, memory, bench = ctx["shapes"], ctx["memory"], ctx["bench"]
    nus = next((r for r in shapes if r["shape"] == "NUS-WIDE-GZSL"), None)
    mem = memory[0] if memory else None
    out = []
    w = out.append
    w("<!-- Generated by bench/compare_ap.py; do not edit this block by hand: rerun the command "
      "under \"Reproduce\". -->")
    w("")
    w(f"Measured {ctx['date']} on mlr {ctx['mlr_version']} ({ctx['git']}).")
    w("")
    w("## Targets (issue 2)")
    w("")
    w("| target | measured | |")
    w("|---|---|---|")
    if nus:
        ratio = nus["sklearn"] / nus["mlr_t2"]
        w(f"| mlr ≥ 40x faster than scikit-learn at NUS-WIDE GZSL (107,859 × 1,006) | "
          f"{ratio:.1f}x (2 threads), {nus['sklearn'] / nus['mlr_t1']:.1f}x (1 thread) | "
          f"{'met' if ratio >= 40 else '**missed**'} |")
    if mem:
        w(f"| peak memory ≤ input + 10 % at NUS-WIDE GZSL | input + {100 * mem['fraction']:.1f} % "
          f"({mem['extra_bytes'] / 2**20:.1f} MiB over {mem['input_bytes'] / 2**20:.0f} MiB) | "
          f"{'met' if mem['fraction'] <= 0.10 else '**missed**'} |")
    w("")
    ranking_res = bench_results(ctx["ranking_bench"])
    floor = ranking_res.get(compare_ranking.floor_key("NUS-WIDE-GZSL"))
    if floor:
        w("## Targets (issue 3)")
        w("")
        w("At NUS-WIDE GZSL, C++ (Google Benchmark below), 2 threads. \"Memory bandwidth\" is the read "
          f"floor measured in the same run: a pass that only reads every input byte, {fmt_rate(floor[2], 'B/s')}; "
          "a target is marked met at 80 % of it or more.")
        w("")
        w("| target | measured | |")
        w("|---|---|---|")
        for metric, label in (("top_k", "top-3 P/R/F1"), ("threshold", "threshold metrics (CP … OF1)")):
            m = ranking_res.get(f"mlr/{metric}/NUS-WIDE-GZSL/threads:2")
            if m:
                share = m[2] / floor[2]
                w(f"| {label} at memory bandwidth | {fmt_rate(m[2], 'B/s')} = {100 * share:.0f} % of the read "
                  f"floor ({m[0]:.0f} ms vs {floor[0]:.0f} ms) | {'met' if share >= 0.8 else '**missed**'} |")
        lrap_t2 = ranking_res.get("mlr/lrap/NUS-WIDE-GZSL/threads:2")
        lrap_t1 = ranking_res.get("mlr/lrap/NUS-WIDE-GZSL/threads:1")
        naive = ranking_res.get("naive/lrap/NUS-WIDE-GZSL")
        if lrap_t1 and naive:
            w(f"| LRAP faster than the raw per-row loop | {naive[0] / lrap_t1[0]:.1f}x (1 thread), "
              f"{naive[0] / lrap_t2[0]:.1f}x (2 threads); {fmt_rate(lrap_t2[2], 'B/s')} = "
              f"{100 * lrap_t2[2] / floor[2]:.0f} % of the read floor | "
              f"{'met' if naive[0] > lrap_t1[0] else '**missed**'} |")
        w("")
    w("## Machine and build")
    w("")
    w(f"- CPU: {ctx['cpu']}, {ctx['cores']} cores (a shared virtual machine: compare speeds only as "
      "ratios measured in the same run)")
    w(f"- OS: {ctx['os']}")
    p0, p1 = ctx["pressure"]
    if p0 is not None and p1 is not None:
        w(f"- Load from other users during this run: CPU pressure (share of the last minute in which "
          f"some task waited for a CPU, `/proc/pressure/cpu` avg60) {p0:.0f} % at the start, "
          f"{p1:.0f} % at the end; the whole run took {ctx['duration'] / 60:.1f} min")
    w(f"- C++ benchmarks: {ctx['compile_flags']} (set on the benchmark targets only; `-march=native` on "
      "this machine's AVX-512 CPU; mlr itself carries no flags)")
    module_flags_text = ctx["module_flags"] or "the build tree's flags (unknown)"
    w(f"- Python module (every Python comparison): {module_flags_text}, plus pybind11's; no `-march`, "
      "so x86-64 baseline code (SSE2), as a pip wheel would be")
    w(f"- Google Benchmark {ctx['benchmark_version']} (Debian's libbenchmark-dev; its \"built as DEBUG\" "
      "warning refers to the library's own build type)")
    w(f"- Python {ctx['python']}: numpy {ctx['numpy']}, scikit-learn {ctx['sklearn']}, "
      f"torch {ctx['torch']} (CPU, `torch.set_num_threads(2)`), mlr module `{ctx['mlr_module']}`")
    w("")
    w("## mlr vs scikit-learn vs torch (Python, same data)")
    w("")
    w("Per-class step AP (`average=None` / `average='none'`) of one N × C matrix: float32 scores, "
      "int8 labels, C-contiguous numpy arrays, seeded (bench/compare_ap.py `make_data`: skewed class "
      "priors scaled to a few positives per image, imperfectly separating scores, ~1 % of them "
      "rounded so that ties occur). Median wall time of the runs listed; the ratios are medians "
      "over medians from the same run. The torch baseline sorts every column "
      "(`torch.sort` along the rows of a class-major copy, which is faster than sorting strided "
      "columns), accumulates TP and evaluates scikit-learn's tie-grouped step AP "
      "vectorised over all classes; the script checks it against scikit-learn to 1e-6 first "
      f"(max |diff| {ctx['torch_check']:.1e}).")
    w("")
    w("| shape | scikit-learn | torch (2 threads) | mlr, 2 threads | mlr, 1 thread "
      "| sklearn / mlr | torch / mlr | max \\|per-class diff\\| vs mlr (sklearn; torch) |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in shapes:
        w(f"| {r['shape']} ({r['rows']:,} × {r['cols']:,}) | {fmt_time(r['sklearn'])} "
          f"| {fmt_time(r['torch'])} | {fmt_time(r['mlr_t2'])} | {fmt_time(r['mlr_t1'])} "
          f"| **{r['sklearn'] / r['mlr_t2']:.1f}x** (1 thread: {r['sklearn'] / r['mlr_t1']:.1f}x) "
          f"| **{r['torch'] / r['mlr_t2']:.1f}x** (1 thread: {r['torch'] / r['mlr_t1']:.1f}x) "
          f"| {r['diff_sklearn_mlr']:.1e}; {r['diff_torch_mlr']:.1e} |")
    w("")
    w("Runs (seconds): " + "; ".join(
        f"{r['shape']}: sklearn {', '.join(f'{t:.2f}' for t in r['sklearn_runs'])} / torch "
        f"{', '.join(f'{t:.2f}' for t in r['torch_runs'])} / mlr t2 "
        f"{', '.join(f'{t:.3f}' for t in r['mlr_t2_runs'])} / mlr t1 "
        f"{', '.join(f'{t:.3f}' for t in r['mlr_t1_runs'])}" for r in shapes) + ".")
    w("")
    for r in shapes:
        if "ranking" in r:
            w(f"## Top-k, threshold metrics, LRAP vs torch, numpy, scikit-learn (Python, {r['shape']})")
            w("")
            w(compare_ranking.comparison_section(r["ranking"]))
            w("")
    w("## Peak memory")
    w("")
    w("Extra peak resident memory of one `mlr::mean_average_precision` call at the NUS-WIDE GZSL "
      "shape, in a fresh process (`mlr_bench_ap_memory`): the input is generated in place, then the "
      "peak RSS is read before and after the call (`getrusage` `ru_maxrss`, cross-checked with "
      "`VmHWM` after resetting it through `/proc/self/clear_refs`). Input = float32 scores + int8 "
      "labels.")
    w("")
    w("| call | input | extra peak RSS (ru_maxrss; VmHWM) | extra / input | time |")
    w("|---|---:|---:|---:|---:|")
    for m in memory:
        w(f"| {m['dtype']}, average={m['average']}, threads={m['threads']} | "
          f"{m['input_bytes'] / 2**20:.0f} MiB | {m['extra_rusage_kib'] / 1024:.1f} MiB; "
          f"{m['extra_hwm_kib'] / 1024:.1f} MiB | **{100 * m['fraction']:.2f} %** | {m['seconds']:.2f} s |")
    w("")
    w("## Google Benchmark: mlr beside the raw loop (C++)")
    w("")
    w("`mlr_bench_average_precision` (bench/metrics/average_precision.bench.cpp): the public "
      "`mlr::mean_average_precision` on row-major `mlr::make_view` views (input validation "
      "included), against a naive single-threaded loop that sorts every (score, label) pair of a "
      "column with `std::sort` and sweeps it (bench/support/naive_ap.hpp); the benchmark fails if "
      "the two disagree by more than 1e-9. Data: bench/support/synthetic.hpp (the model above, "
      "drawn in C++; the inputs ask for transparent huge pages as numpy does). Wall time per call, "
      "median of 3 repetitions unless marked \"1 run\"; entries/s (matrix entries) and bytes/s "
      "(input bytes: scores + int8 labels) are those of the faster mlr column. `none` returns the "
      "per-class APs, `macro` also their mean (same kernel), `micro` one AP over all entries (it "
      "also fills the per-class APs). Left out for time: the naive micro loop at NUS-WIDE GZSL "
      "(one sort of 108 M pairs) and the naive float64 loop there.")
    w("")
    w(bench_table(bench))
    w("")
    w("## Google Benchmark: top-k, threshold metrics, LRAP beside raw loops (C++)")
    w("")
    l3 = max((c["size"] for c in ctx["ranking_bench"].get("context", {}).get("caches", []) if c.get("level") == 3),
             default=None)
    cache_note = ""
    if l3:
        fits = {name: rows * cols * 5 <= l3 for name, (rows, cols, _) in SHAPES.items()}  # float32 + int8
        cache_note = (f" (the L3 cache holds {l3 / 2**20:.0f} MiB; inputs that fit there, "
                      f"{', '.join(n for n in ('COCO', 'NUS-WIDE-GZSL') if fits[n]) or 'none'}, are read "
                      "at the cache's speed, not memory's)")
    w(f"`mlr_bench_ranking_threshold` (bench/metrics/ranking_threshold.bench.cpp): `mlr::top_k` (k = 3), "
      "`mlr::threshold_metrics` (> 0.5) and `mlr::label_ranking_average_precision` on the float32 / int8 "
      "data of the section above, input validation included, against single-threaded raw loops without "
      "validation: a full `std::sort` of every row for top-k, one pass counting per-class TP / predicted / "
      "positives for the threshold metrics, and for LRAP the definition row by row (one pass over the row "
      "per relevant label). The read floor only reads every input byte (an XOR fold), split into row "
      f"ranges like mlr's tasks: the memory-bandwidth ceiling of a one-pass metric on this machine{cache_note}. "
      "Wall time per call, median of 3 repetitions unless marked \"1 run\"; GB/s = input bytes / time.")
    w("")
    w(compare_ranking.bench_section(bench_results(ctx["ranking_bench"]), fmt_rate))
    w("")
    w("## Reproduce")
    w("")
    w("```sh")
    w("cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DMLR_BUILD_TESTS=OFF -DMLR_BUILD_APPS=OFF \\")
    w("      -DMLR_BUILD_EXAMPLES=OFF -DMLR_WITH_TORCH=OFF -DMLR_BUILD_PYTHON=ON \\")
    w("      -DPython_EXECUTABLE=/usr/bin/python3 -DPYBIND11_FINDPYTHON=ON")
    w("cmake --build build/bench -j2 --target mlr_bench_average_precision mlr_bench_ap_memory \\")
    w("      mlr_bench_ranking_threshold mlr_python")
    w("/usr/bin/python3 bench/compare_ap.py --build-dir build/bench   # rewrites docs/performance.md")
    w("# or: cmake --build build/bench --target mlr_compare_ap")
    w("```")
    w("")
    w("Pieces alone: `build/bench/bench/mlr_bench_average_precision` and "
      "`build/bench/bench/mlr_bench_ranking_threshold` (Google Benchmark flags apply, e.g. "
      "`--benchmark_filter=COCO`), `build/bench/bench/mlr_bench_ap_memory NUS-WIDE-GZSL f32 macro 2` "
      "(JSON), `/usr/bin/python3 bench/compare_ap.py --build-dir build/bench --quick` (COCO only, with "
      "the top-k / threshold / LRAP comparison, no C++ benchmarks, no document). Benchmarks are built "
      "only when CMake finds the `benchmark` package. The Python interpreter must be Debian's "
      "`/usr/bin/python3` (numpy, scikit-learn, torch).")
    w("")
    doc_block.replace_block(path, "bench/compare_ap.py", "\n".join(out))


# --------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", type=Path, help="build tree holding bench/ and python/")
    ap.add_argument("--bench-binary", type=Path)
    ap.add_argument("--memory-binary", type=Path)
    ap.add_argument("--ranking-binary", type=Path)
    ap.add_argument("--module-dir", type=Path, help="directory of the mlr Python module")
    ap.add_argument("--output", type=Path, default=REPO / "docs" / "performance.md")
    ap.add_argument("--shapes", default="COCO,NUS-WIDE-GZSL")
    ap.add_argument("--ranking-shapes", default="NUS-WIDE-GZSL",
                    help="shapes at which top-k, threshold metrics and LRAP are compared too")
    ap.add_argument("--bench-filter", default="", help="--benchmark_filter for the C++ benchmarks")
    ap.add_argument("--quick", action="store_true",
                    help="COCO only, no C++ benchmarks, no document (a smoke test)")
    args = ap.parse_args()

    if args.build_dir:
        args.bench_binary = args.bench_binary or args.build_dir / "bench" / "mlr_bench_average_precision"
        args.memory_binary = args.memory_binary or args.build_dir / "bench" / "mlr_bench_ap_memory"
        args.ranking_binary = args.ranking_binary or args.build_dir / "bench" / "mlr_bench_ranking_threshold"
        args.module_dir = args.module_dir or args.build_dir / "python"
    if args.module_dir:
        sys.path.insert(0, str(args.module_dir.resolve()))
    import sklearn
    import torch

    import mlr as mlr_module

    torch.set_num_threads(2)
    pressure_start = cpu_pressure()
    started = time.perf_counter()
    log = lambda msg: print(f"[{time.perf_counter() - started:6.1f} s] {msg}", flush=True)

    shapes = ["COCO"] if args.quick else [s for s in args.shapes.split(",") if s]
    ranking_shapes = ["COCO"] if args.quick else [s for s in args.ranking_shapes.split(",") if s]
    memory, bench, ranking_bench = [], {"benchmarks": [], "context": {}}, {"benchmarks": []}
    if not args.quick:
        for b in (args.bench_binary, args.memory_binary, args.ranking_binary):
            if not (b and b.exists()):
                raise SystemExit(f"missing C++ binary {b}: build mlr_bench_average_precision, "
                                 "mlr_bench_ap_memory and mlr_bench_ranking_threshold, or pass --build-dir")
        memory = run_memory(args.memory_binary, log)
        bench = run_bench(args.bench_binary, log, args.bench_filter)
        ranking_bench = run_bench(args.ranking_binary, log, args.bench_filter,
                                  ["--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"])

    torch_check = check_torch_against_sklearn()
    log(f"torch baseline matches scikit-learn (max |diff| {torch_check:.1e})")
    ranking_repeats = {"mlr": 5, "baseline": 3, "sklearn": 1}
    repeats = {
        "COCO": {"mlr": 7, "torch": 5, "sklearn": 3, "ranking": ranking_repeats},
        "NUS-WIDE-GZSL": {"mlr": 5, "torch": 2, "sklearn": 1, "ranking": ranking_repeats},
        "VOC": {"mlr": 9, "torch": 5, "sklearn": 5, "ranking": ranking_repeats},
    }
    results = [compare_shape(name, repeats[name], mlr_module, log, name in ranking_shapes) for name in shapes]
    for r in results:
        log(f"{r['shape']}: sklearn/mlr {r['sklearn'] / r['mlr_t2']:.1f}x, torch/mlr "
            f"{r['torch'] / r['mlr_t2']:.1f}x (2 threads); sklearn/mlr {r['sklearn'] / r['mlr_t1']:.1f}x, "
            f"torch/mlr {r['torch'] / r['mlr_t1']:.1f}x (1 thread)")
        for key in ("diff_sklearn_mlr", "diff_torch_mlr"):
            if not r[key] <= 1e-6:
                raise SystemExit(f"{r['shape']}: {key} = {r[key]:.3g} exceeds 1e-6")
    if args.quick:
        return

    context = bench.get("context", {})
    pressure_end = cpu_pressure()
    ctx = {
        "pressure": (pressure_start, pressure_end),
        "duration": time.perf_counter() - started,
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "git": git_state(),
        "mlr_version": getattr(mlr_module, "__version__", "?"),
        "mlr_module": Path(mlr_module.__file__).name,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "os": os_name(),
        "compile_flags": context.get("compile_flags", "?"),
        "benchmark_version": context.get("library_version", "1.7.1") if context else "?",
        "python": platform.python_version(),
        "numpy": np.__version__, "sklearn": sklearn.__version__, "torch": torch.__version__,
        "torch_check": torch_check,
        "module_flags": module_flags(args.build_dir),
        "shapes": results, "memory": memory, "bench": bench, "ranking_bench": ranking_bench,
    }
    write_doc(args.output, ctx)
    log(f"wrote {args.output}")


if __name__ == "__main__":
    main()

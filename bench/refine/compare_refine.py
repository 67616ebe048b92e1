#!/usr/bin/env python3
"""mlr's TagCLIP DMAR + local + candidate selection against the numpy reference, same shapes,
same run.

Per image at VOC size (grid 24 x 32, N = 768 patches, K = 45 words, L = 12 maps [L, 1 + N, 1 + N])
on the seeded structured inputs of tests/reference/tagclip_refine.py (four images, cycled):
  reference      tests/reference/tagclip_refine.py: dmar + local_scores + candidates (numpy,
                 float64 inside whatever the input dtype; BLAS threads = --threads)
  mlr (Python)   mlr.tagclip_dmar + mlr.tagclip_local on the same arrays, then the candidate
                 threshold in numpy (the module copies every intermediate into new arrays)
  mlr (C++)      the Google Benchmark binary mlr_bench_refine (bench/refine/refine.bench.cpp,
                 -O3 -march=native, its own synthetic inputs of the same shapes), when
                 --bench-binary is given: every benchmark it runs, medians
Prints markdown tables: milliseconds per image and reference / mlr ratios (median of
--repetitions, each the mean over at least 0.3 s).

Usage: /usr/bin/python3 bench/refine/compare_refine.py [--bench-binary build/.../mlr_bench_refine]
       [--threads 2] [--repetitions 5]
"""

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

GRID = (24, 32)
K, C, L = 45, 20, 12


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-binary", help="path of mlr_bench_refine (optional)")
    parser.add_argument("--threads", type=int, default=2, help="mlr threads beside 1, and numpy's BLAS threads")
    parser.add_argument("--repetitions", type=int, default=5)
    return parser.parse_args()


def time_ms(fn, repetitions):
    fn()  # warm-up
    samples = []
    for _ in range(repetitions):
        runs, start = 0, time.perf_counter()
        while True:
            fn()
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed > 0.3:
                break
        samples.append(elapsed / runs * 1e3)
    return statistics.median(samples)


def cycled(images, step):
    """fn() running step(image) on the next image of the list each call."""
    state = {"i": 0}

    def fn():
        step(images[state["i"] % len(images)])
        state["i"] += 1

    return fn


def run_binary(binary, repetitions):
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    rows = []
    for b in report["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = re.sub(r"/(real_time|min_time:[0-9.]+)", "", b["run_name"])
        per_image = b.get("per_image")  # batch benchmarks: seconds per image
        rows.append((name, per_image * 1e3 if per_image else b["real_time"], per_image is not None))
    return report["context"], rows


def main():
    args = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy is imported
    import numpy as np

    import mlr
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "reference"))
    import tagclip_refine as ref

    def reference_step(case):
        d = ref.dmar(case["attn"], case["coarse"], GRID)
        ref.candidates(d["refined"], ref.local_scores(d["refined"], C))

    def mlr_step(threads):
        def step(case):
            d = mlr.tagclip_dmar(case["attn"], case["coarse"], GRID, threads=threads)
            local = mlr.tagclip_local(d["refined"], C)
            r = d["refined"]
            np.flatnonzero(local > r.min() + 0.5 * (r.max() - r.min()))
        return step

    print(f"mlr {mlr.__version__}; numpy {np.__version__}; grid {GRID[0]} x {GRID[1]}, K = {K}, L = {L}; "
          f"medians of {args.repetitions} repetitions, milliseconds per image\n")
    print("| dtype | reference (ms) | mlr Python, 1 thread (ms) | ratio | "
          f"mlr Python, {args.threads} threads (ms) | ratio |")
    print("|---|---|---|---|---|---|")
    reference_ms = {}
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        images = [ref.structured_case(seed, GRID, num_classes=K, num_foreground=C, layers=L, dtype=dtype)
                  for seed in range(4)]
        theirs = reference_ms[name] = time_ms(cycled(images, reference_step), args.repetitions)
        one = time_ms(cycled(images, mlr_step(1)), args.repetitions)
        many = time_ms(cycled(images, mlr_step(args.threads)), args.repetitions)
        print(f"| {name} | {theirs:.2f} | {one:.2f} | {theirs / one:.1f} | {many:.2f} | {theirs / many:.1f} |")

    if args.bench_binary:
        context, rows = run_binary(args.bench_binary, args.repetitions)
        print(f"\nmlr_bench_refine built with: {context.get('compile_flags', 'unknown flags')}\n")
        print("| benchmark (C++) | ms per image | reference / mlr |")
        print("|---|---|---|")
        for name, ms, batch in rows:
            dtype = "float32" if "/float/" in name else "float64" if "/double/" in name else None
            ratio = f"{reference_ms[dtype] / ms:.1f}" if dtype and not batch else "n/a"
            print(f"| {name} | {ms:.3f} | {ratio} |")
        print("\n(batch benchmarks run the whole tagclip_classify pipeline with a stub engine: no reference ratio)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The losses, forward + backward: mlr (the Google Benchmark binary mlr_bench_loss, one thread)
against torch eager running the reference code's operations (autograd backward), in the same run,
on the same shapes. Prints a markdown table of median times and ratios.

  python3 bench/loss/compare_loss.py --bench-binary build/.../mlr_bench_loss [--repeats 30]

Use Debian's /usr/bin/python3 (torch). torch runs with its default thread count (printed); the
O(C^2) ranking reference is MKT/BiAM's ranking_lossT formula (the full B x C x C pair tensor).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import time

import torch

RANKING = [(64, 925, 3), (64, 925, 500)]
ASL = [(32, 80), (256, 80), (64, 1006), (256, 7586)]
L1 = [(64, 512)]


def median_time(fn, repeats, budget=5.0):
    """Median of `repeats` runs after a warm-up; fewer (at least 3) once `budget` seconds are spent."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def signed_labels(b, c, positive, gen):
    u = torch.rand(b, c, generator=gen, dtype=torch.float64)
    return torch.where(u < positive, 1.0, torch.where(u < positive + 0.02, 0.0, -1.0))


def canonical_labels(b, c, gen):
    u = torch.rand(b, c, generator=gen, dtype=torch.float64)
    return torch.where(u < 0.05, 1.0, torch.where(u < 0.1, -1.0, 0.0))


def torch_ranking(s, y):
    """MKT/BiAM ranking_lossT: the B x C x C pair tensor."""
    pos, neg = y.clamp(0, 1), (-y).clamp(0, 1)
    mask = pos.unsqueeze(1) * neg.unsqueeze(-1)
    pair = 1 + (s * neg).unsqueeze(-1) - (s * pos).unsqueeze(1)
    hinge = torch.clamp(mask * pair, 0)
    return (hinge.sum(1).sum(1) / (torch.sign(hinge).sum(1).sum(1) + 1e-8)).mean()


def torch_asl(x, y, keep, gamma_neg=4.0, gamma_pos=1.0, clip=0.05, eps=1e-8):
    """ASL AsymmetricLoss (constant focusing weight), ignored entries masked."""
    p = torch.sigmoid(x)
    q = (1 - p + clip).clamp(max=1)
    loss = y * torch.log(p.clamp(min=eps)) + (1 - y) * torch.log(q.clamp(min=eps))
    with torch.no_grad():
        w = torch.pow(1 - p * y - q * (1 - y), gamma_pos * y + gamma_neg * (1 - y))
    return -(loss * w * keep).sum()


def torch_asl_dual(o, y, kept, gamma_neg=2.0, gamma_pos=1.0, clip=0.05, eps=1e-6):
    """DualCoOp's AsymmetricLoss on [B, 2, C] logits: softmax over the pair, ignored entries dropped."""
    soft = torch.softmax(o, dim=1)
    p = soft[:, 1, :].reshape(-1)[kept]
    q = (soft[:, 0, :].reshape(-1)[kept] + clip).clamp(max=1)
    yk = y.reshape(-1)[kept]
    loss = yk * torch.log(p.clamp(min=eps)) + (1 - yk) * torch.log(q.clamp(min=eps))
    with torch.no_grad():
        w = torch.pow(1 - p * yk - q * (1 - yk), gamma_pos * yk + gamma_neg * (1 - yk))
    return -(loss * w).sum()


def torch_cases():
    """name -> a function running forward + backward once in torch eager."""
    gen = torch.Generator().manual_seed(0)
    out = {}
    for dtype, tname in [(torch.float32, "float"), (torch.float64, "double")]:
        def run(make_loss, leaf):
            def step():
                leaf.grad = None
                make_loss().backward()
            return step

        for b, c, per_mille in RANKING:
            s = (torch.rand(b, c, generator=gen, dtype=torch.float64) * 2 - 1).to(dtype).requires_grad_()
            y = signed_labels(b, c, per_mille / 1000, gen).to(dtype)
            out[f"ranking/{tname}/B={b},C={c},pos={per_mille}/1000"] = run(lambda s=s, y=y: torch_ranking(s, y), s)
        for b, c in ASL:
            x = (torch.rand(b, c, generator=gen, dtype=torch.float64) * 24 - 12).to(dtype).requires_grad_()
            lab = canonical_labels(b, c, gen)
            y, keep = (lab == 1).to(dtype), (lab != -1).to(dtype)
            out[f"asl/{tname}/B={b},C={c}"] = run(lambda x=x, y=y, keep=keep: torch_asl(x, y, keep), x)
            o = (torch.rand(b, 2, c, generator=gen, dtype=torch.float64) * 40 - 20).to(dtype).requires_grad_()
            kept = (lab != -1).reshape(-1)
            out[f"asl_dual/{tname}/B={b},C={c}"] = run(lambda o=o, y=y, kept=kept: torch_asl_dual(o, y, kept), o)
        for b, d in L1:
            s = torch.rand(b, d, generator=gen, dtype=dtype).requires_grad_()
            t = torch.rand(b, d, generator=gen, dtype=dtype)
            out[f"l1/{tname}/B={b},D={d}"] = run(lambda s=s, t=t: torch.nn.functional.l1_loss(s, t), s)
    return out


def case_name(bench_name):
    """The case key of a Google Benchmark name, e.g. 'asl/float/B=32,C=80'."""
    names = {"BM_ranking_loss": "ranking", "BM_ranking_naive": "ranking_naive", "BM_asl_loss": "asl",
             "BM_asl_dual_loss": "asl_dual", "BM_l1_distillation": "l1"}
    head, *args = bench_name.split("/")
    fn, tname = head.rstrip(">").split("<")
    values = dict(a.split(":") for a in args)
    if fn.startswith("BM_ranking"):
        shape = f"B={values['B']},C={values['C']},pos={values['pos_per_mille']}/1000"
    elif fn == "BM_l1_distillation":
        shape = f"B={values['B']},D={values['D']}"
    else:
        shape = f"B={values['B']},C={values['C']}"
    return f"{names[fn]}/{tname}/{shape}"


def mlr_time(binary, bench_name, min_time):
    """(seconds per call, compile flags) of one benchmark: the median of three repetitions."""
    raw = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_min_time={min_time}",
                          f"--benchmark_filter=^{re.escape(bench_name)}$", "--benchmark_repetitions=3",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(raw)
    median = next(b for b in report["benchmarks"] if b.get("aggregate_name") == "median")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[median["time_unit"]]
    return median["real_time"] * scale, report["context"].get("compile_flags", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-binary", required=True)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--min-time", default="0.2")
    args = parser.parse_args()

    # Each case is timed in mlr and then in torch straight away: on a shared machine the load
    # changes over minutes, and ratios are only meaningful between neighbouring measurements.
    listing = subprocess.run([args.bench_binary, "--benchmark_list_tests"], check=True, capture_output=True,
                             text=True).stdout.split()
    steps = torch_cases()
    times, flags = {}, ""
    for bench_name in listing:
        key = case_name(bench_name)
        times[key], flags = mlr_time(args.bench_binary, bench_name, args.min_time)
        if key in steps:
            times["torch:" + key] = median_time(steps[key], args.repeats)
    print(f"mlr: one thread, {flags}; torch {torch.__version__} eager, {torch.get_num_threads()} threads\n")
    print("| loss (forward + backward) | dtype | shape | mlr | O(C²) C++ loop | torch eager | torch / mlr |")
    print("|---|---|---|---:|---:|---:|---:|")
    for key, t_mlr in times.items():
        kind, tname, shape = key.split("/", 2)
        if kind == "ranking_naive" or kind.startswith("torch:"):
            continue
        naive = times.get(f"ranking_naive/{tname}/{shape}")
        t_torch = times.get("torch:" + key)
        naive_text = f"{naive * 1e6:,.0f} µs ({naive / t_mlr:.0f}x)" if naive else ""
        torch_text = f"{t_torch * 1e6:,.0f} µs" if t_torch else ""
        ratio = f"{t_torch / t_mlr:.1f}x" if t_torch else ""
        print(f"| {kind} | {tname} | {shape} | {t_mlr * 1e6:,.1f} µs | {naive_text} | {torch_text} | {ratio} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""mlr's scoring pieces against torch eager on the same shapes, in the same run.

Runs the Google Benchmark binary of bench/scoring/scoring.bench.cpp (mlr_bench_scoring, built
with -O3 -march=native) and the torch equivalent of each case with the same thread count, and
prints markdown tables: times (median of repetitions), torch / mlr ratios, and the GFLOP/s of
mlr's GEMM beside Eigen's on the DualCoOp products.

Cases (DualCoOp at B = 32, L = 197, D = 512, C = 80; MKT at B = 64, P = 196, D = 512, C = 1,006;
TagCLIP at N = 1,200, K = 103, D = 512):
  dualcoop logits            forward only
  dualcoop logits+vjp_text   forward, then the gradient w.r.t. both prompt sets (torch: autograd
                             of sum(grad_out * logits) with only the text features requiring grad)
  dualcoop logits+vjp_all    the same, also w.r.t. the visual tokens
  mkt                        scores, k = 16 (forward)
  tagclip                    coarse patch scores (forward)

Usage: /usr/bin/python3 bench/scoring/compare_scoring.py --bench-binary build/.../mlr_bench_scoring
       [--threads 2] [--repetitions 5]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch

B, L, D, C = 32, 197, 512, 80
MKT = dict(b=64, p=196, d=512, c=1006, k=16)
TAGCLIP = dict(n=1200, k=103, d=512)


def unit(x, dim=-1):
    return x / x.norm(dim=dim, keepdim=True)


def dualcoop_head(visual, text_neg, text_pos, spatial_scale=20.0, output_scale=100.0):
    maps = unit(visual) @ unit(torch.cat([text_neg, text_pos], 0)).T  # [B, L, 2C]
    s_neg, s_pos = maps[..., :C], maps[..., C:]
    alpha = torch.softmax(spatial_scale * s_pos, dim=1)
    return output_scale * torch.stack([(alpha * s_neg).sum(1), (alpha * s_pos).sum(1)], 1)


def torch_cases(dtype):
    g = torch.Generator().manual_seed(0)
    visual = torch.randn(B, L, D, generator=g, dtype=dtype) + 0.1
    text_neg = torch.randn(C, D, generator=g, dtype=dtype) + 0.1
    text_pos = torch.randn(C, D, generator=g, dtype=dtype) + 0.1
    grad_out = torch.randn(B, 2, C, generator=g, dtype=dtype)

    def logits():
        with torch.no_grad():
            dualcoop_head(visual, text_neg, text_pos)

    def vjp(with_visual):
        v = visual.detach().requires_grad_(with_visual)
        tn = text_neg.detach().requires_grad_()
        tp = text_pos.detach().requires_grad_()
        def run():
            out = dualcoop_head(v, tn, tp)
            torch.autograd.grad((out * grad_out).sum(), [tn, tp, v] if with_visual else [tn, tp])
        return run

    patches = torch.randn(MKT["b"], MKT["p"], MKT["d"], generator=g, dtype=dtype)
    glob = torch.randn(MKT["b"], MKT["d"], generator=g, dtype=dtype)
    emb = torch.randn(MKT["c"], MKT["d"], generator=g, dtype=dtype)

    def mkt():
        with torch.no_grad():
            local = (patches @ emb.T).topk(MKT["k"], dim=1).values.mean(1)
            (unit(local) + unit(glob @ emb.T)) / 2

    tpatch = torch.randn(TAGCLIP["n"], TAGCLIP["d"], generator=g, dtype=dtype)
    ttext = torch.randn(TAGCLIP["k"], TAGCLIP["d"], generator=g, dtype=dtype)

    def tagclip():
        with torch.no_grad():
            torch.softmax(100.0 * unit(tpatch) @ unit(ttext).T, dim=-1)

    return {"dualcoop/logits": logits, "dualcoop/logits+vjp_text": vjp(False),
            "dualcoop/logits+vjp_all": vjp(True), "mkt": mkt, "tagclip": tagclip}


def time_torch(fn, repetitions):
    fn()  # warm-up
    fn()
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


def run_mlr(binary, threads, repetitions):
    out = subprocess.run([binary, f"--benchmark_filter=/threads:{threads}/", "--benchmark_format=json",
                          f"--benchmark_repetitions={repetitions}", "--benchmark_min_time=0.3",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    times, gflops = {}, {}
    for b in report["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].replace(f"/threads:{threads}/real_time", "")
        times[name] = b["real_time"]  # ms
        if "GFLOPs" in b:
            gflops[name] = b["GFLOPs"] / 1e9
    return report["context"], times, gflops


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench-binary", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    context, times, gflops = run_mlr(args.bench_binary, args.threads, args.repetitions)
    print(f"mlr benchmark built with: {context.get('compile_flags', 'unknown flags')}; torch {torch.__version__}; "
          f"{args.threads} threads; medians of {args.repetitions} repetitions\n")
    print("| case | dtype | mlr (ms) | torch eager (ms) | torch / mlr |")
    print("|---|---|---|---|---|")
    for dtype in (torch.float32, torch.float64):
        tname = "float32" if dtype == torch.float32 else "float64"
        for case, fn in torch_cases(dtype).items():
            mine = times.get(f"mlr/{case}/{tname}")
            theirs = time_torch(fn, args.repetitions)
            ratio = f"{theirs / mine:.2f}" if mine else "n/a"
            mine_text = f"{mine:.2f}" if mine else "n/a"
            print(f"| {case} | {tname} | {mine_text} | {theirs:.2f} | {ratio} |")
    print("\n| GEMM (DualCoOp products) | dtype | mlr GFLOP/s | Eigen GFLOP/s | mlr / Eigen |")
    print("|---|---|---|---|---|")
    for tname in ("float32", "float64"):
        for product in ("sim", "grad_text", "grad_visual"):
            mine, eigen = gflops.get(f"mlr/gemm/{product}/{tname}"), gflops.get(f"eigen/gemm/{product}/{tname}")
            if mine is None:
                continue
            ratio = f"{mine / eigen:.2f}" if eigen else "n/a"
            eigen_text = f"{eigen:.1f}" if eigen else "n/a"
            print(f"| {product} | {tname} | {mine:.1f} | {eigen_text} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

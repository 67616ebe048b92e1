#!/usr/bin/python3
"""mlr-eval at the OpenImages shape (MKT's test split: 125,456 images x 7,586 classes), streamed
from memory-mapped .npy files: wall time and peak resident memory, split into file-backed pages
(the page cache holding the mapped inputs, shared and reclaimable) and anonymous memory (what
mlr-eval itself allocates).

    /usr/bin/python3 bench/openimages.py /work/big-data --mlr-eval build/release/apps/mlr-eval/mlr-eval

Data (in DIRECTORY/mlr-openimages, written chunk by chunk through numpy.lib.format.open_memmap, never whole in RAM):
  scores.npy  float32, N x C: standard normal noise, +1.5 on the positives (an imperfect model).
  labels.npy  int8, N x C: 1 with probability 0.001 (about 0.1 %, 7.6 positives per image,
              ~950,000 in all), 0 otherwise.
Every entry that is not positive is a negative: that is the worst case for the work (the step
kernel ranks every negative; an ignored entry is skipped), whereas the real OpenImages labels are
mostly "unknown" (0 in MKT's signed files) and would leave less to do.

Runs: mlr-eval step mAP, macro, --threads 2 (default), once with the files evicted from the page
cache (posix_fadvise DONTNEED on these two files only: "cold", the pages come from the disk;
fincore confirms it) and once right after ("warm", the pages are in the page cache). For each:
wall time, CPU time and faults from wait4, and the peaks VmHWM (peak RSS), RssAnon and RssFile
sampled from /proc/PID/status every 20 ms. (wait4's ru_maxrss is not used: a forked child starts
with its parent's high-water mark, so it would report this script's own peak.) The data are
written by a child process, so that this script never holds their pages.
Then scikit-learn's average_precision_score on a few columns, for a time per class and a check of
mlr's per-class APs on them. The data directory is deleted at the end unless --keep.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time

import numpy as np

N, C = 125_456, 7_586
POSITIVE_RATE = 0.001
CHUNK_ROWS = 4096
SEED = 2026


def cpu_pressure():
    """Share of the last minute in which some task waited for a CPU (other users' load)."""
    try:
        with open("/proc/pressure/cpu") as f:
            return float(f.readline().split()[2].split("=")[1])
    except OSError:
        return float("nan")


def generate(directory):
    """Writes the two files (or keeps those of an earlier --keep run when they have the right shape)."""
    os.makedirs(directory, exist_ok=True)
    scores_path, labels_path = os.path.join(directory, "scores.npy"), os.path.join(directory, "labels.npy")
    try:
        if (np.load(scores_path, mmap_mode="r").shape == (N, C) and np.load(labels_path, mmap_mode="r").shape == (N, C)):
            return
    except (OSError, ValueError):
        pass
    rng = np.random.default_rng(SEED)
    scores = np.lib.format.open_memmap(scores_path, mode="w+", dtype=np.float32, shape=(N, C))
    labels = np.lib.format.open_memmap(labels_path, mode="w+", dtype=np.int8, shape=(N, C))
    for top in range(0, N, CHUNK_ROWS):
        rows = min(CHUNK_ROWS, N - top)
        y = (rng.random((rows, C), dtype=np.float32) < POSITIVE_RATE).astype(np.int8)
        s = rng.standard_normal((rows, C), dtype=np.float32)
        s += 1.5 * y
        scores[top:top + rows] = s
        labels[top:top + rows] = y
    scores.flush()
    labels.flush()
    del scores, labels
    for path in (scores_path, labels_path):
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


def evict(paths):
    """Drops these files' clean pages from the page cache (and only theirs)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


def cached_share(paths):
    """Share of the files' pages in the page cache (util-linux fincore), or None without it."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", *paths],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    res = size = 0
    for line in out.split("\n"):
        if line.strip():
            r, s = line.split()
            res, size = res + int(r), size + int(s)
    return res / size if size else None


def status_kib(pid, fields):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in fields:
                    values[key] = int(line.split()[1])
    except OSError:
        pass
    return values


def run_measured(command):
    """Runs command; wall time, ru_maxrss and the sampled peaks of RssAnon / RssFile (KiB)."""
    fields = ("RssAnon", "RssFile", "VmHWM")
    peaks = dict.fromkeys(fields, 0)
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = []
    readers = [threading.Thread(target=lambda s=s: out.append((s, s.read()))) for s in (child.stdout, child.stderr)]
    for r in readers:
        r.start()
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid == child.pid:
            break
        for key, value in status_kib(child.pid, fields).items():
            peaks[key] = max(peaks[key], value)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    for r in readers:
        r.join()
    streams = {id(s): data for s, data in out}
    stdout, stderr = streams[id(child.stdout)].decode(), streams[id(child.stderr)].decode()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({child.returncode}): {stderr}")
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "major_faults": usage.ru_majflt, "minor_faults": usage.ru_minflt,
            "peak_rss_anon_kib": peaks["RssAnon"], "peak_rss_file_kib": peaks["RssFile"],
            "vmhwm_kib": peaks["VmHWM"], "stderr": stderr, "result": json.loads(stdout)}


def sklearn_columns(scores_path, labels_path, columns):
    """scikit-learn's step AP of a few columns (read from the mapped files): seconds and values."""
    from sklearn.metrics import average_precision_score
    s = np.load(scores_path, mmap_mode="r")
    y = np.load(labels_path, mmap_mode="r")
    s_cols = np.ascontiguousarray(s[:, columns].T)
    y_cols = np.ascontiguousarray(y[:, columns].T)
    start = time.perf_counter()
    values = [float(average_precision_score(y_cols[k] == 1, s_cols[k])) for k in range(len(columns))]
    return time.perf_counter() - start, values


def mib(kib):
    return kib / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", help="where to write the two .npy files (about 4.7 GB), in a subdirectory "
                        "mlr-openimages deleted at the end")
    parser.add_argument("--mlr-eval", default="build/release/apps/mlr-eval/mlr-eval")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sklearn-columns", type=int, default=40, help="columns timed with scikit-learn (0: none)")
    parser.add_argument("--extra", nargs="*", default=[], help="further mlr-eval option sets to time, e.g. "
                        "'--method ranked --classes 0-99'")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--json-out", help="write every measurement to this file")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.directory)
        return
    data_dir = os.path.join(args.directory, "mlr-openimages")

    report = {"shape": [N, C], "positive_rate": POSITIVE_RATE, "threads": args.threads,
              "cpu_pressure_avg60_start": cpu_pressure()}
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", data_dir], check=True)
        seconds = time.perf_counter() - start
        scores_path, labels_path = os.path.join(data_dir, "scores.npy"), os.path.join(data_dir, "labels.npy")
        input_bytes = os.path.getsize(scores_path) + os.path.getsize(labels_path)
        report.update(generate_s=seconds, input_bytes=input_bytes)
        print(f"data: {scores_path} + {labels_path}: {input_bytes / 2**30:.2f} GiB, ready in {seconds:.0f} s")

        base = [args.mlr_eval, scores_path, labels_path, "--threads", str(args.threads), "--json", "--quiet"]
        runs = {}
        for name in ("cold", "warm"):
            if name == "cold":
                evict([scores_path, labels_path])
            cached = cached_share([scores_path, labels_path])
            runs[name] = run_measured(base)
            runs[name]["cached_before"] = cached
        for extra in args.extra:
            runs[extra] = run_measured(base + extra.split())
        for name, r in runs.items():
            print(f"mlr-eval {name}: {r['wall_s']:.2f} s wall ({r['user_s']:.2f} s user, {r['sys_s']:.2f} s sys), "
                  f"peak RSS {mib(r['vmhwm_kib']):.0f} MiB (sampled peaks: anonymous {mib(r['peak_rss_anon_kib']):.0f}"
                  f" MiB, file-backed {mib(r['peak_rss_file_kib']):.0f} MiB), major faults {r['major_faults']}, "
                  f"minor faults {r['minor_faults']}; mAP {r['result']['value']:.6f}"
                  + ("" if r.get("cached_before") is None else
                     f"; {100 * r['cached_before']:.0f} % of the input pages cached before"))
        report["runs"] = {name: {k: v for k, v in r.items() if k not in ("result", "stderr")}
                          for name, r in runs.items()}
        report["mAP"] = runs["warm"]["result"]["value"]
        if runs["warm"]["result"] != runs["cold"]["result"]:
            sys.exit("cold and warm runs disagree")

        if args.sklearn_columns > 0:
            columns = np.linspace(0, C - 1, args.sklearn_columns).astype(int)
            seconds, values = sklearn_columns(scores_path, labels_path, columns)
            per_class = runs["warm"]["result"]["per_class"]
            diff = max(abs(per_class[c] - v) for c, v in zip(columns, values))
            per_class_s = seconds / len(columns)
            report.update(sklearn_columns=len(columns), sklearn_s=seconds, sklearn_extrapolated_s=per_class_s * C,
                          sklearn_max_abs_diff=diff)
            print(f"scikit-learn: {len(columns)} columns in {seconds:.2f} s ({per_class_s * 1e3:.1f} ms a class: "
                  f"{per_class_s * C:.0f} s extrapolated to {C} classes, "
                  f"{per_class_s * C / runs['warm']['wall_s']:.0f}x the warm mlr-eval run); "
                  f"max |AP diff| on them {diff:.1e}")
            if diff > 1e-9:
                sys.exit("mlr-eval and scikit-learn disagree")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    report["cpu_pressure_avg60_end"] = cpu_pressure()
    report["bench_peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"CPU pressure (avg60, other load): {report['cpu_pressure_avg60_start']:.0f} % at the start, "
          f"{report['cpu_pressure_avg60_end']:.0f} % at the end")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()

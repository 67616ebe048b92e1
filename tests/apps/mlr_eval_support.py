"""Helpers for the mlr-eval tests: running the binary, building .npy files byte by byte, and an
independent reference computation (scikit-learn's average_precision_score per class)."""
import json
import math
import os
import struct
import subprocess

import numpy as np
from sklearn.metrics import average_precision_score

ERROR_PREFIX = "mlr-eval: error: "
CRASH_MARKERS = ("Traceback", "Sanitizer", "runtime error:", "terminate called", "Segmentation", "core dumped")


def binary():
    path = os.environ.get("MLR_EVAL")
    if not path:
        raise RuntimeError("set MLR_EVAL to the mlr-eval executable (CTest does this)")
    return path


def run(*args, timeout=120):
    return subprocess.run([binary(), *map(str, args)], capture_output=True, text=True, errors="replace",
                          timeout=timeout)


def run_json(*args):
    r = run(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def assert_one_error(r, fragment=None):
    """Exit 2, nothing on stdout, exactly one stderr line starting with the prefix, no crash."""
    lines = r.stderr.splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == "", r.stdout
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    assert not any(m in r.stderr for m in CRASH_MARKERS), r.stderr
    if fragment is not None:
        assert fragment in lines[0], lines[0]
    return lines[0]


def save(path, array):
    np.save(path, array)
    return str(path)


# --- .npy files built byte by byte -------------------------------------------------------------

def npy_header(descr="<f8", shape=(3, 2), fortran=False):
    return "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))


def npy_bytes(descr="<f8", shape=(3, 2), fortran=False, data=None, version=(1, 0), header=None,
              header_len=None, magic=b"\x93NUMPY"):
    """A .npy file; every part can be replaced to make it wrong."""
    text = (npy_header(descr, shape, fortran) if header is None else header).encode("latin1")
    prefix = 10 if version[0] == 1 else 12
    text += b" " * ((64 - (prefix + len(text) + 1) % 64) % 64) + b"\n"
    length = len(text) if header_len is None else header_len
    field = struct.pack("<H", length) if version[0] == 1 else struct.pack("<I", length)
    if data is None:
        data = b"\x00" * (math.prod(shape) * int(descr[-1]))
    return magic + bytes(version) + field + text + data


# --- reference ---------------------------------------------------------------------------------

def decode(labels, encoding="canonical"):
    """(positive, kept) boolean masks under mlr's label encodings."""
    if labels.dtype == bool:
        return labels.copy(), np.ones(labels.shape, bool)
    if encoding == "canonical":
        return labels == 1, labels != -1
    return labels == 1, labels != 0


def binary_ap(positive, scores):
    if positive.sum() == 0:
        return math.nan
    return float(average_precision_score(positive, scores))


def policy_mean(values, empty):
    values = np.asarray(values, float)
    if empty == "zero":
        return float(np.mean(np.nan_to_num(values, nan=0.0))) if len(values) else math.nan
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if len(kept) else math.nan


def reference(scores, labels, average="macro", empty="zero", encoding="canonical"):
    """mlr's mean_average_precision from scikit-learn's binary AP on the non-ignored entries."""
    s = np.asarray(scores, np.float64)
    positive, kept = decode(np.asarray(labels), encoding)
    classes = s.shape[1]
    per_class = [binary_ap(positive[kept[:, c], c], s[kept[:, c], c]) for c in range(classes)]
    positives = [int(positive[kept[:, c], c].sum()) for c in range(classes)]
    if average == "macro":
        value = policy_mean(per_class, empty)
    elif average == "weighted":
        w = np.array(positives, float)
        value = (float(np.nansum(w * np.nan_to_num(per_class))) / w.sum() if w.sum() > 0
                 else (0.0 if empty == "zero" else math.nan))
    elif average == "micro":
        value = binary_ap(positive[kept], s[kept])
        if math.isnan(value) and empty == "zero":
            value = 0.0
    elif average == "samples":
        value = policy_mean([binary_ap(positive[i, kept[i]], s[i, kept[i]]) for i in range(s.shape[0])], empty)
    else:
        value = math.nan
    return {"value": value, "per_class": per_class, "positives": positives,
            "empty": [p == 0 for p in positives]}


def close(a, b, tol=1e-12):
    a = math.nan if a is None else a
    b = math.nan if b is None else b
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def assert_matches(result, ref, tol=1e-12):
    assert close(result["value"], ref["value"], tol), (result["value"], ref["value"])
    assert len(result["per_class"]) == len(ref["per_class"])
    for got, want in zip(result["per_class"], ref["per_class"]):
        assert close(got, want, tol), (result["per_class"], ref["per_class"])
    assert result["positives"] == ref["positives"]
    assert result["empty"] == ref["empty"]


def random_problem(seed, n=57, classes=6, ignored=True, empty_class=True):
    """Scores with ties (2 decimals) and canonical labels, with ignored entries and an empty class."""
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((n, classes)), 2)
    labels = (rng.random((n, classes)) < 0.3).astype(np.int8)
    if ignored:
        labels[rng.random((n, classes)) < 0.1] = -1
    if empty_class:
        labels[:, classes - 1] = np.where(labels[:, classes - 1] == 1, 0, labels[:, classes - 1])
    return scores, labels

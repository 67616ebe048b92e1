""".npy inputs are memory-mapped in place: the mapped path (regular files, Fortran order as a
column-major view) gives exactly what the read path gives (pipes, data not aligned for their type)
and what scikit-learn and the Python module give."""
import json
import os
import struct
import threading

import numpy as np
import pytest

from mlr_eval_support import assert_matches, assert_one_error, npy_bytes, reference, run, run_json

METRICS = ["--top-k", "2", "--top-k", "5", "--relative", "0.4"]


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(11)
    n, c = 700, 70  # more than one 64-class block of the AP kernel
    scores = np.round(rng.random((n, c)), 3).astype(np.float32)
    labels = (rng.random((n, c)) < 0.05).astype(np.int8)
    labels[rng.random((n, c)) < 0.05] = -1
    return scores, labels


def save_pair(tmp_path, scores, labels, tag=""):
    s, y = tmp_path / f"s{tag}.npy", tmp_path / f"l{tag}.npy"
    np.save(s, scores)
    np.save(y, labels)
    return str(s), str(y)


def unaligned_npy(array):
    """A valid .npy file whose data start 3 bytes past a multiple of 8 (numpy itself aligns to 64)."""
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (array.dtype.str, array.shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64 + 3) + "\n"
    assert (10 + len(header)) % 8 == 3
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + array.tobytes()


def json_of(*args):
    return run_json(*args, *METRICS)


def test_mapped_equals_scikit_learn_and_the_module(tmp_path, problem):
    scores, labels = problem
    out = json_of(*save_pair(tmp_path, scores, labels))
    assert_matches(out, reference(scores, labels), tol=1e-12)
    try:
        import mlr
    except ImportError:
        pytest.skip("the Python module is not built")
    r = mlr.mean_average_precision(scores, labels)
    assert out["value"] == r.value
    for k in (2, 5):
        t = mlr.top_k(scores, labels, k)
        assert out["metrics"][f"top_{k}"]["precision"] == t.precision
        assert out["metrics"][f"top_{k}"]["recall"] == t.recall


@pytest.mark.parametrize("which", ["scores", "labels", "both"])
def test_fortran_order_is_a_column_major_view(tmp_path, problem, which):
    scores, labels = problem
    c_order = json_of(*save_pair(tmp_path, scores, labels))
    s = np.asfortranarray(scores) if which != "labels" else scores
    y = np.asfortranarray(labels) if which != "scores" else labels
    path_s, path_y = save_pair(tmp_path, s, y, "f")
    with open(path_s, "rb") as f:
        assert (b"'fortran_order': True" in f.read(128)) == (which != "labels")
    assert json_of(path_s, path_y) == c_order
    table = run(path_s, path_y, *METRICS)
    assert table.returncode == 0 and table.stderr == ""
    assert "Fortran order" in table.stdout.splitlines()[0]
    for method in ["ranked", "voc_area"]:
        for average in ["micro", "samples"]:
            opts = ["--method", method, "--average", average]
            assert run_json(path_s, path_y, *opts) == run_json(*save_pair(tmp_path, scores, labels), *opts)


def test_fortran_order_bad_entries_are_named_by_array_position(tmp_path, problem):
    scores, labels = problem
    s = np.asfortranarray(scores.copy())
    s[5, 3] = np.nan
    assert_one_error(run(*save_pair(tmp_path, s, labels)), "found nan at (5, 3)")
    bools = np.asfortranarray(labels == 1)
    data = bytearray(npy_bytes("|b1", bools.shape, fortran=True, data=bools.tobytes(order="F")))
    data[-1 - (bools.shape[0] * 2 + 4)] = 7  # element (n - 5, c - 3) in column-major order
    (tmp_path / "b.npy").write_bytes(bytes(data))
    np.save(tmp_path / "s.npy", scores)
    n, c = bools.shape
    assert_one_error(run(tmp_path / "s.npy", tmp_path / "b.npy"), f"holds the byte 7 at ({n - 5}, {c - 3})")


def test_unaligned_data_are_read_not_mapped(tmp_path, problem):
    scores, labels = problem
    expected = json_of(*save_pair(tmp_path, scores, labels))
    (tmp_path / "su.npy").write_bytes(unaligned_npy(scores))
    (tmp_path / "lu.npy").write_bytes(unaligned_npy(labels.astype(np.int32)))
    assert np.array_equal(np.load(tmp_path / "su.npy"), scores)  # a valid file for numpy too
    assert json_of(tmp_path / "su.npy", tmp_path / "lu.npy") == expected


def test_pipes_are_read_and_give_the_same(tmp_path, problem):
    scores, labels = problem
    paths = save_pair(tmp_path, scores, labels)
    expected = json_of(*paths)
    fifos = [tmp_path / "s_pipe.npy", tmp_path / "l_pipe.npy"]
    for fifo in fifos:
        os.mkfifo(fifo)

    def feed(fifo, path):
        with open(path, "rb") as src, open(fifo, "wb") as dst:
            dst.write(src.read())

    writers = [threading.Thread(target=feed, args=a, daemon=True) for a in zip(fifos, paths)]
    for w in writers:
        w.start()
    r = run(*fifos, "--json", *METRICS)
    for w in writers:
        w.join(timeout=10)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == expected


MAPPED_BAD = [
    ("data_short_by_one", lambda d: d[:-1], "truncated"),
    ("data_long_by_one", lambda d: d + b"\x00", "1 bytes more than the data"),
    ("header_claims_more_rows", lambda d: d.replace(b"(700, 70)", b"(900, 70)"), "truncated: shape (900, 70)"),
    ("header_claims_fewer_rows", lambda d: d.replace(b"(700, 70)", b"(600, 70)"), "is the shape in the header wrong?"),
    ("fortran_truncated", lambda d: d.replace(b"'fortran_order': False", b"'fortran_order': True ")[:-8],
     "truncated"),
]


@pytest.mark.parametrize("mutate,fragment", [c[1:] for c in MAPPED_BAD], ids=[c[0] for c in MAPPED_BAD])
def test_data_region_is_checked_against_the_file_size(tmp_path, problem, mutate, fragment):
    scores, labels = problem
    s, y = save_pair(tmp_path, scores, labels)
    with open(s, "rb") as f:
        data = f.read()
    with open(s, "wb") as f:
        f.write(mutate(data))
    assert_one_error(run(s, y), fragment)

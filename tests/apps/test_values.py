"""mlr-eval's numbers against an independent scikit-learn computation, for every reader path."""
import io
import json
import math
import os
import threading

import numpy as np
import pytest

from mlr_eval_support import assert_matches, random_problem, reference, run, run_json, save

LABEL_DTYPES = ["int8", "int32", "int64", "uint8", "bool", "float32", "float64"]


def labels_as(labels, dtype):
    """`labels` (canonical int8) in `dtype`; unsigned and bool labels cannot say "ignored"."""
    if dtype in ("uint8", "bool"):
        return (labels == 1).astype(dtype)
    return labels.astype(dtype)


@pytest.mark.parametrize("score_dtype", ["float32", "float64"])
@pytest.mark.parametrize("label_dtype", LABEL_DTYPES)
def test_npy_of_every_supported_dtype(tmp_path, score_dtype, label_dtype):
    scores, labels = random_problem(seed=LABEL_DTYPES.index(label_dtype))
    scores = scores.astype(score_dtype)
    labels = labels_as(labels, label_dtype)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)
    result = run_json(s, l)
    assert_matches(result, reference(scores, labels))
    assert result["n"] == scores.shape[0] and result["classes"] == scores.shape[1]


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npy_format_versions(tmp_path, version):
    scores, labels = random_problem(seed=11)
    paths = []
    for name, array in [("s.npy", scores), ("l.npy", labels)]:
        with open(tmp_path / name, "wb") as f:
            np.lib.format.write_array(f, array, version=version)
        paths.append(tmp_path / name)
    assert_matches(run_json(*paths), reference(scores, labels))


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", "samples", "none"])
@pytest.mark.parametrize("empty", ["zero", "exclude"])
def test_averages_and_empty_class_policies(tmp_path, average, empty):
    scores, labels = random_problem(seed=5, n=80, classes=7)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)
    result = run_json(s, l, "--average", average, "--empty-class", empty)
    assert_matches(result, reference(scores, labels, average, empty))
    assert result["options"] == {"method": "step", "average": average, "empty_class": empty,
                                 "labels": "canonical", "epsilon": 0, "classes": None}


@pytest.mark.filterwarnings("ignore:No positive class found")
def test_reference_agrees_with_scikit_learn_averages():
    """The test's own reference equals scikit-learn where scikit-learn applies (nothing ignored)."""
    from sklearn.metrics import average_precision_score
    scores, labels = random_problem(seed=8, n=90, classes=5, ignored=False, empty_class=False)
    for average in ["macro", "micro", "weighted", "samples"]:
        want = average_precision_score(labels, scores, average=average)
        assert math.isclose(reference(scores, labels, average)["value"], want, abs_tol=1e-12)


def test_signed_labels(tmp_path):
    scores, labels = random_problem(seed=3)
    signed = np.select([labels == 1, labels == 0], [1, -1], 0).astype(np.int8)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", signed)
    for name in ["signed", "signed_zero_ignored"]:
        result = run_json(s, l, "--labels", name)
        assert result["options"]["labels"] == "signed_zero_ignored"
        assert_matches(result, reference(scores, signed, encoding="signed"))
    assert_matches(result, reference(scores, labels))


def write_csv(path, array, header=None, fmt="%.17g", spaced=False):
    rows = [[fmt % v for v in row] for row in array.tolist()]
    sep = " ,  " if spaced else ","
    lines = ([sep.join(header)] if header else []) + [sep.join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("header", [False, True])
@pytest.mark.parametrize("spaced", [False, True])
def test_csv(tmp_path, header, spaced):
    scores, labels = random_problem(seed=21)
    scores = scores + np.random.default_rng(1).random(scores.shape) * 1e-9  # full float64 digits
    names = [f"class{c}" for c in range(scores.shape[1])] if header else None
    s = write_csv(tmp_path / "s.csv", scores, names, spaced=spaced)
    l = write_csv(tmp_path / "l.csv", labels, names, fmt="%d", spaced=spaced)
    result = run_json(s, l)
    assert_matches(result, reference(scores, labels))
    assert result["names"] == names


def test_csv_with_crlf_blank_lines_and_quoted_names(tmp_path):
    scores, labels = random_problem(seed=4, n=10, classes=3)
    s = tmp_path / "s.csv"
    s.write_text('"cat","dog" , bird\r\n' + "".join(",".join(repr(v) for v in row) + "\r\n\r\n" for row in scores))
    l = write_csv(tmp_path / "l.csv", labels, fmt="%d")
    result = run_json(s, l)
    assert result["names"] == ["cat", "dog", "bird"]
    assert_matches(result, reference(scores, labels))


def test_npy_scores_with_csv_labels(tmp_path):
    scores, labels = random_problem(seed=9)
    result = run_json(save(tmp_path / "s.npy", scores), write_csv(tmp_path / "l.csv", labels, fmt="%d"))
    assert_matches(result, reference(scores, labels))


def test_classes_subset_equals_the_sliced_arrays(tmp_path):
    scores, labels = random_problem(seed=13, n=70, classes=12)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)
    columns = [0, 3, 5, 6, 7, 8, 9]
    names = ",".join(f"n{c}" for c in range(12))
    for average in ["macro", "micro", "samples"]:
        subset = run_json(s, l, "--classes", "0,3,5-9", "--class-names", names, "--average", average)
        # Fancy indexing returns Fortran-ordered arrays, which mlr-eval refuses: make them C-ordered.
        sliced = run_json(save(tmp_path / "ss.npy", np.ascontiguousarray(scores[:, columns])),
                          save(tmp_path / "ll.npy", np.ascontiguousarray(labels[:, columns])), "--average", average)
        for key in ["value", "per_class", "positives", "empty", "n", "classes"]:
            assert subset[key] == sliced[key], key
        assert subset["indices"] == columns and subset["options"]["classes"] == columns
        assert subset["names"] == [f"n{c}" for c in columns]
        assert_matches(subset, reference(scores[:, columns], labels[:, columns], average))


def test_classes_in_the_table(tmp_path):
    scores, labels = random_problem(seed=13, n=70, classes=12)
    r = run(save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels), "--classes", "11,2")
    assert r.returncode == 0, r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines() if line[:5].strip().isdigit()] == ["11", "2"]
    assert "--classes 11,2" in r.stdout and "C = 2 classes, 1 empty class" in r.stdout


def test_json_format(tmp_path):
    scores, labels = random_problem(seed=2)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)
    r = run(s, l, "--json", "--class-names", ",".join(["a", 'qu"ote', "back\\slash", "caf\u00e9", "e", "f"]))
    assert r.returncode == 0
    assert "NaN" not in r.stdout and "nan" not in r.stdout
    result = json.loads(r.stdout)
    assert set(result) == {"options", "n", "classes", "value", "per_class", "positives", "empty", "indices", "names"}
    assert result["per_class"][-1] is None and result["empty"][-1] is True
    assert result["names"][1:4] == ['qu"ote', "back\\slash", "caf\u00e9"]
    value_text = r.stdout.split('"value": ')[1].split(",")[0]
    assert float(value_text) == result["value"] and len(value_text.replace("0.", "", 1).lstrip("0")) <= 17
    assert_matches(result, reference(scores, labels))


def test_table_marks_empty_classes(tmp_path):
    scores, labels = random_problem(seed=2)
    s, l = save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)
    r = run(s, l)
    last = [line for line in r.stdout.splitlines() if line.startswith("    5")][0]
    assert last.split()[-2:] == ["0", "n/a"]
    assert "n/a: no positive labels (after ignoring); counted as AP 0 in the macro mean" in r.stdout
    assert "1 empty class" in r.stdout
    r = run(s, l, "--empty-class", "exclude")
    assert "left out of the macro mean (--empty-class exclude)" in r.stdout
    want = reference(scores, labels, empty="exclude")["value"]
    assert f"mAP (macro)  {want:.4f}" in r.stdout


def test_class_names_from_a_file(tmp_path):
    scores, labels = random_problem(seed=2, classes=3)
    (tmp_path / "names.txt").write_text("cat\ndog\n  bird  \n\n")
    r = run_json(save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels),
                 "--class-names", tmp_path / "names.txt")
    assert r["names"] == ["cat", "dog", "bird"]


def test_reads_from_a_pipe(tmp_path):
    """A named pipe (as from a shell's process substitution) has no size up front."""
    scores, labels = random_problem(seed=6)
    buffer = io.BytesIO()
    np.save(buffer, scores)
    fifo = tmp_path / "scores.npy"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as f:
            f.write(buffer.getvalue())

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    result = run_json(fifo, save(tmp_path / "l.npy", labels))
    writer.join(timeout=10)
    assert_matches(result, reference(scores, labels))

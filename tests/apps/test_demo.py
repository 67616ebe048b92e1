"""mlr-eval's built-in demo and its --write-demo round trip."""
import json

import numpy as np

from mlr_eval_support import assert_matches, reference, run, run_json

VOC = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
       "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]


def table_rows(stdout):
    return [line.split() for line in stdout.splitlines() if line[:5].strip().isdigit()]


def test_demo_prints_a_table_of_the_20_voc_classes():
    r = run()
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    header = r.stdout.splitlines()[0]
    assert "demo" in header and "mlr-eval SCORES LABELS" in header
    rows = table_rows(r.stdout)
    assert [int(row[0]) for row in rows] == list(range(20))
    assert [row[1] for row in rows] == VOC
    for row in rows:
        assert 0.0 <= float(row[3]) <= 1.0 and len(row[3].split(".")[1]) == 4
    assert "mAP (macro)" in r.stdout
    assert "N = 4952 images, C = 20 classes, 0 empty classes" in r.stdout
    assert "--method step --average macro --empty-class zero --labels canonical" in r.stdout


def test_demo_is_deterministic_and_independent_of_threads():
    assert run().stdout == run().stdout
    assert run_json("--threads", "1") == run_json("--threads", "2")


def write_demo(tmp_path):
    r = run("--write-demo", tmp_path / "demo")
    assert r.returncode == 0, r.stderr
    return tmp_path / "demo"


def test_write_demo_round_trip_equals_the_demo(tmp_path):
    d = write_demo(tmp_path)
    files = [d / "scores.npy", d / "labels.npy", "--class-names", d / "classes.txt"]
    from_files = run(*files)
    assert from_files.returncode == 0, from_files.stderr
    # Only the first line (where the data come from) differs.
    assert from_files.stdout.splitlines()[1:] == run().stdout.splitlines()[1:]
    assert run_json(*files) == run_json()
    for average in ["micro", "weighted", "samples"]:
        assert run_json(*files, "--average", average) == run_json("--average", average)


def test_written_demo_files_are_voc_shaped(tmp_path):
    d = write_demo(tmp_path)
    scores, labels = np.load(d / "scores.npy"), np.load(d / "labels.npy")
    assert scores.dtype == np.float32 and scores.shape == (4952, 20)
    assert labels.dtype == np.int8 and labels.shape == (4952, 20)
    assert set(np.unique(labels)) <= {-1, 0, 1}
    cardinality = (labels != 0).sum(axis=1).mean()  # positives and "difficult" ones
    assert 1.3 < cardinality < 1.6
    frequency = (labels == 1).sum(axis=0)
    assert frequency.argmax() == VOC.index("person") and frequency.max() > 2 * np.sort(frequency)[-2]
    ties = sum(len(col) - len(np.unique(col)) for col in scores.T)
    assert ties > 0
    assert (d / "classes.txt").read_text().split() == VOC


def test_demo_values_equal_scikit_learn(tmp_path):
    d = write_demo(tmp_path)
    scores, labels = np.load(d / "scores.npy"), np.load(d / "labels.npy")
    for average in ["macro", "micro", "weighted", "samples"]:
        assert_matches(run_json("--average", average), reference(scores, labels, average))


def test_demo_json_is_one_valid_object():
    r = run("--json")
    assert r.returncode == 0
    result = json.loads(r.stdout)
    assert result["names"] == VOC and result["n"] == 4952 and result["classes"] == 20

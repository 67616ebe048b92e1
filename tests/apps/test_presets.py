"""mlr-eval --preset / --top-k / --threshold / --relative: every number of the JSON "metrics" object
against the Python module `mlr` called with the options METHOD.md 4.8/4.9 names for each source
(when the module is importable), and against the worked vectors of METHOD.md 7.9-7.12 (always)."""
import math
import re

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, label_ranking_average_precision_score

from mlr_eval_support import CRASH_MARKERS, ERROR_PREFIX, run, run_json, save

try:
    import mlr
except ImportError:  # the module is not built: only the METHOD vectors are checked
    mlr = None

needs_module = pytest.mark.skipif(mlr is None, reason="the Python module mlr is not on PYTHONPATH")

PRESETS = ["sklearn", "torchmetrics", "voc07_devkit", "dualcoop", "mkt", "tagclip", "mlgcn"]

# METHOD.md 4.9, written out independently of the C++ table.
SIGNED = "signed_zero_ignored"
EXPECTED = {
    "sklearn": dict(ap=dict(method="step", encoding="canonical", epsilon=0.0), top_k=[], lrap=True),
    "torchmetrics": dict(ap=dict(method="step", encoding="canonical", epsilon=0.0), top_k=[]),
    "voc07_devkit": dict(ap=dict(method="voc07_11point", encoding=SIGNED, epsilon=0.0), top_k=[]),
    "dualcoop": dict(ap=dict(method="ranked", encoding="canonical", epsilon=1e-8),
                     top_k=[3, 5], top_k_opts=dict(ignored="removed", zero_division="sdl"),
                     threshold=dict(threshold=0.5, kind="absolute", comparison="greater", zero_division="asl")),
    "mkt": dict(ap=dict(method="ranked", encoding=SIGNED, epsilon=0.0),
                top_k=[3, 5], top_k_opts=dict(ignored="false_positive", zero_division="biam")),
    "tagclip": dict(ap=dict(method="ranked", encoding="canonical", epsilon=0.0), top_k=[],
                    threshold=dict(kind="relative", mu=0.5, comparison="greater")),
    "mlgcn": dict(ap=dict(method="ranked", encoding=SIGNED, epsilon=0.0), top_k=[],
                  threshold=dict(threshold=0.0, kind="absolute", comparison="greater_equal", count="mlgcn")),
}

THRESHOLD_KEYS = {"cp": "cp", "cr": "cr", "cf1_mean": "cf1_mean", "cf1_harmonic": "cf1_harmonic", "op": "op",
                  "or": "or_", "of1": "of1"}


def close(a, b, tol=1e-12):
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None) and (b is None or math.isnan(b))
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.fixture
def problem(tmp_path):
    """A small seeded problem: 40 images x 7 classes, labels in {-1, 0, 1} (both encodings read it)."""
    rng = np.random.default_rng(20240611)
    n, c = 40, 7
    scores = rng.normal(size=(n, c))
    labels = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n, c), p=[0.15, 0.55, 0.3])
    labels[0, :] = 1  # every class has a positive in both encodings
    labels[1, :] = -1
    return save(tmp_path / "s.npy", scores), save(tmp_path / "y.npy", labels), scores, labels


def check_against_module(out, scores, labels, spec, classes=None):
    m = out["metrics"]
    enc = spec["ap"]["encoding"]
    ref = mlr.mean_average_precision(scores, labels, method=spec["ap"]["method"], average="macro",
                                     empty_class="zero", encoding=enc, epsilon=spec["ap"]["epsilon"],
                                     classes=classes)
    assert close(m["mAP"]["value"], ref.value), (m["mAP"], ref)
    assert close(out["value"], ref.value)
    assert m["mAP"]["method"] == spec["ap"]["method"]
    assert out["options"]["labels"] == enc
    assert sorted(k for k in m if k.startswith("top_")) == sorted(f"top_{k}" for k in spec["top_k"])
    for k in spec["top_k"]:
        r = mlr.top_k(scores, labels, k, encoding=enc, classes=classes, **spec["top_k_opts"])
        got = m[f"top_{k}"]
        for key in ("precision", "recall", "f1"):
            assert close(got[key], getattr(r, key)), (k, key, got, r)
        assert (got["true_positives"], got["predicted"], got["positives"]) == (r.true_positives, r.predicted,
                                                                              r.positives)
    if "threshold" in spec:
        r = mlr.threshold_metrics(scores, labels, encoding=enc, classes=classes, **spec["threshold"])
        for key, attr in THRESHOLD_KEYS.items():
            assert close(m["threshold"][key], getattr(r, attr)), (key, m["threshold"], r)
    else:
        assert "threshold" not in m
    if spec.get("lrap"):
        assert close(m["lrap"]["value"],
                     mlr.label_ranking_average_precision(scores, labels, encoding=enc, classes=classes))
    else:
        assert "lrap" not in m


@needs_module
@pytest.mark.parametrize("name", PRESETS)
def test_preset_matches_module(problem, name):
    s, y, scores, labels = problem
    out = run_json(s, y, "--preset", name)
    assert out["preset"] == name
    check_against_module(out, scores, labels, EXPECTED[name])


@needs_module
@pytest.mark.parametrize("name", ["dualcoop", "mkt", "tagclip", "mlgcn"])
def test_preset_over_a_class_subset(problem, name):
    s, y, scores, labels = problem
    out = run_json(s, y, "--preset", name, "--classes", "1,3-5")
    check_against_module(out, scores, labels, EXPECTED[name], classes=[1, 3, 4, 5])


@needs_module
def test_explicit_options_override_the_preset(problem):
    s, y, scores, labels = problem
    out = run_json(s, y, "--method", "step", "--preset", "dualcoop", "--epsilon", "0", "--top-k", "2")
    spec = dict(EXPECTED["dualcoop"], ap=dict(method="step", encoding="canonical", epsilon=0.0), top_k=[3, 5, 2])
    check_against_module(out, scores, labels, spec)
    # --labels applies to every metric
    out = run_json(s, y, "--preset", "mkt", "--labels", "canonical")
    spec = dict(EXPECTED["mkt"], ap=dict(method="ranked", encoding="canonical", epsilon=0.0))
    check_against_module(out, scores, labels, spec)
    # --threshold replaces the relative threshold of tagclip, keeping its other options
    out = run_json(s, y, "--preset", "tagclip", "--threshold", "0.25")
    spec = dict(EXPECTED["tagclip"], threshold=dict(threshold=0.25, kind="absolute", comparison="greater"))
    check_against_module(out, scores, labels, spec)


@needs_module
def test_top_k_given_several_times(problem):
    """Every k its own JSON entry and table rows; k the preset names are not repeated."""
    s, y, scores, labels = problem
    out = run_json(s, y, "--top-k", "4", "--top-k", "1", "--top-k", "4")
    spec = dict(ap=dict(method="step", encoding="canonical", epsilon=0.0), top_k=[4, 1],
                top_k_opts=dict(ignored="removed", zero_division="standard"))
    check_against_module(out, scores, labels, spec)
    assert [k for k in out["metrics"] if k.startswith("top_")] == ["top_4", "top_1"]
    out = run_json(s, y, "--preset", "mkt", "--top-k", "5", "--top-k", "1")
    check_against_module(out, scores, labels, dict(EXPECTED["mkt"], top_k=[3, 5, 1]))
    assert [k for k in out["metrics"] if k.startswith("top_")] == ["top_3", "top_5", "top_1"]
    table = run(s, y, "--preset", "mkt", "--top-k", "1").stdout
    rows = [line.split()[0] for line in table.splitlines() if re.match(r"(P|R|F1)@\d+ ", line)]
    assert rows == ["P@3", "R@3", "F1@3", "P@5", "R@5", "F1@5", "P@1", "R@1", "F1@1"]


@needs_module
def test_metrics_without_a_preset(problem):
    s, y, scores, labels = problem
    out = run_json(s, y, "--top-k", "2", "--relative", "0.3", "--classes", "0-4")
    assert out["preset"] is None
    spec = dict(ap=dict(method="step", encoding="canonical", epsilon=0.0), top_k=[2],
                top_k_opts=dict(ignored="removed", zero_division="standard"),
                threshold=dict(kind="relative", mu=0.3))
    check_against_module(out, scores, labels, spec, classes=[0, 1, 2, 3, 4])
    out = run_json(s, y, "--threshold", "-0.5", "--labels", "signed")
    spec = dict(ap=dict(method="step", encoding=SIGNED, epsilon=0.0), top_k=[], threshold=dict(threshold=-0.5))
    check_against_module(out, scores, labels, spec)


def test_sklearn_preset_against_scikit_learn(tmp_path):
    rng = np.random.default_rng(7)
    scores = rng.random((30, 5))
    labels = (rng.random((30, 5)) < 0.4).astype(np.int8)
    labels[0] = 1
    out = run_json(save(tmp_path / "s.npy", scores), save(tmp_path / "y.npy", labels), "--preset", "sklearn")
    assert close(out["metrics"]["mAP"]["value"], average_precision_score(labels, scores, average="macro"))
    assert close(out["metrics"]["lrap"]["value"], label_ranking_average_precision_score(labels, scores))


D = np.array([[2, -1, 0.3], [-0.5, 1.5, -2], [0.1, 0.2, -0.1], [-3, -0.2, 4]])
T = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.int8)


@pytest.mark.parametrize("scores,extra", [(1 / (1 + np.exp(-D)), []), (D, ["--threshold", "0"])])
def test_dualcoop_method_7_9(tmp_path, scores, extra):
    files = save(tmp_path / "s.npy", scores), save(tmp_path / "y.npy", T)
    m = run_json(*files, "--preset", "dualcoop", *extra)["metrics"]
    t = m["threshold"]
    assert round(t["cf1_mean"], 6) == 0.777778
    assert abs(t["cf1_harmonic"] - 0.8) < 1e-12
    assert abs(t["cp"] - 2 / 3) < 1e-12 and t["cr"] == 1 and abs(t["of1"] - 0.8) < 1e-12
    assert abs(m["mAP"]["value"] - 0.999999991667) < 1e-11
    table = run(*files, "--preset", "dualcoop", *extra).stdout
    assert "cf1_mean             0.777778" in table and "cf1_harmonic         0.800000" in table
    # zero-shot subset S = {0, 2}, top-1 and top-2
    m = run_json(*files, "--classes", "0,2", "--top-k", "1")["metrics"]
    assert (m["top_1"]["precision"], m["top_1"]["recall"]) == (0.75, 1)
    assert round(m["top_1"]["f1"], 6) == 0.857143
    m = run_json(*files, "--classes", "0,2", "--top-k", "2", "--preset", "dualcoop")["metrics"]
    assert (m["top_2"]["precision"], m["top_2"]["recall"]) == (0.375, 1)
    assert abs(m["mAP"]["value"] - 0.9999999925) < 1e-11


def test_mkt_method_7_10(tmp_path):
    s = save(tmp_path / "s.npy", np.array([[.9, .2, .5], [.8, .3, .4], [.7, .9, .3], [.1, .4, .2]]))
    y = save(tmp_path / "y.npy", np.array([[1, -1, 0], [0, 1, -1], [-1, -1, -1], [1, -1, -1]], dtype=np.int8))
    out = run_json(s, y, "--preset", "mkt")
    assert round(out["metrics"]["mAP"]["value"], 6) == 0.388889
    s = save(tmp_path / "s2.npy", np.array([[.9, .2, .5, .1], [.8, .3, .4, 0]]))
    y = save(tmp_path / "y2.npy", np.array([[1, -1, 0, 1], [-1, 1, -1, -1]], dtype=np.int8))
    m = run_json(s, y, "--preset", "mkt")["metrics"]
    assert [round(m["top_3"][k], 4) for k in ("precision", "recall", "f1")] == [0.3333, 0.6667, 0.4444]
    assert [round(m["top_5"][k], 4) for k in ("precision", "recall", "f1")] == [0.375, 1.0, 0.5455]  # clamped to 4


def test_tagclip_method_7_12(tmp_path):
    s = save(tmp_path / "s.npy", np.array([[.9, .8, .1, .05], [.2, .7, .6, .1], [.3, .3, .3, .3]]))
    y = save(tmp_path / "y.npy", np.array([[1, 0, 0, 0], [0, 1, 1, 1], [0, 0, 1, 0]], dtype=np.int8))
    m = run_json(s, y, "--preset", "tagclip")["metrics"]["threshold"]
    assert (round(m["of1"], 6), round(m["op"], 6), round(m["or"], 6)) == (0.666667, 0.75, 0.6)
    assert (round(m["cp"], 6), round(m["cr"], 6), round(m["cf1_harmonic"], 6)) == (0.625, 0.625, 0.625)
    m = run_json(s, y, "--top-k", "1")["metrics"]["top_1"]
    assert (round(m["precision"], 6), round(m["recall"], 6), round(m["f1"], 6)) == (0.666667, 0.4, 0.5)


def test_mlgcn_method_7_11(tmp_path):
    # 10 x 3; predicted = logit +0.4, else -0.4; signed labels (+1 / -1)
    pred = np.zeros((10, 3), bool)
    pos = np.zeros((10, 3), bool)
    pred[0, 0] = True
    pos[:, 0] = True
    pred[0:4, 1] = True
    pos[0:2, 1] = True
    pos[4, 2] = True
    s = save(tmp_path / "s.npy", np.where(pred, 0.4, -0.4))
    y = save(tmp_path / "y.npy", np.where(pos, 1, -1).astype(np.int8))
    m = run_json(s, y, "--preset", "mlgcn")["metrics"]["threshold"]
    assert (round(m["op"], 6), round(m["or"], 6), round(m["of1"], 6)) == (0.5, 0.230769, 0.315789)
    assert (round(m["cp"], 6), round(m["cr"], 6), round(m["cf1_harmonic"], 6)) == (0.5, 0.366667, 0.423077)


def assert_usage_error(r, fragment):
    """Exit 2, nothing on stdout, the error line (with the library's message) and the usage hint."""
    lines = r.stderr.splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert len(lines) == 2 and lines[0].startswith(ERROR_PREFIX), r.stderr
    assert lines[1].startswith("usage: mlr-eval SCORES LABELS")
    assert not any(m in r.stderr for m in CRASH_MARKERS)
    assert fragment in lines[0], lines[0]
    return lines[0]


def test_bad_preset_names(problem):
    s, y, _, _ = problem
    for bad in ["asl", "DualCoOp", ""]:
        line = assert_usage_error(run(s, y, "--preset", bad), "preset: ")
        assert line.endswith("preset: expected one of sklearn, torchmetrics, voc07_devkit, dualcoop, mkt, tagclip, "
                             "mlgcn; found '%s'" % bad), line
    assert_usage_error(run(s, y, "--threshold", "0.5", "--relative", "0.5"), "exclude each other")
    assert_usage_error(run(s, y, "--relative", "1.5"), "--relative: expected a number from 0 to 1")
    assert_usage_error(run(s, y, "--top-k", "0"), "--top-k: expected a whole number")
    assert_usage_error(run(s, y, "--threshold", "nan"), "--threshold: expected a finite number")
    assert_usage_error(run(s, y, "--preset", "mkt", "--preset", "mkt"), "--preset is given twice")


def test_default_output_has_no_summary(problem):
    s, y, _, _ = problem
    out = run_json(s, y)
    assert "metrics" not in out and "preset" not in out
    assert "metric " not in run(s, y).stdout
    assert "--preset" in run("--help").stdout

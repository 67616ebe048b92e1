"""mlr-eval --save-state / --states / --binned: shards evaluated apart and merged from their state
files give the whole's report exactly; the binned AP equals an independent float64 reference of
torchmetrics' binned AP (tests/reference/binned_ap.py, checked against torchmetrics 1.5.2 in
tests/python/test_torchmetrics_parity.py); bad state files are one-line errors."""
import pathlib
import sys

import numpy as np
import pytest

from mlr_eval_support import assert_one_error, run, run_json, save

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import binned_ap  # noqa: E402


def data(n=300, c=7, seed=0):
    rng = np.random.default_rng(seed)
    s = np.round(rng.uniform(size=(n, c)), 2).astype(np.float32)
    y = np.where(rng.uniform(size=(n, c)) < 0.3, 1, 0).astype(np.int8)
    y[rng.uniform(size=(n, c)) < 0.05] = -1
    y[:, c // 2] = 0  # an empty class
    return s, y


@pytest.fixture
def shards(tmp_path):
    s, y = data()
    cuts = [0, 70, 71, 200, 300]
    states = []
    for k in range(len(cuts) - 1):
        a, b = cuts[k], cuts[k + 1]
        state = tmp_path / f"shard{k}.mlrstate"
        r = run(save(tmp_path / f"s{k}.npy", s[a:b]), save(tmp_path / f"y{k}.npy", y[a:b]), "--save-state", state)
        assert r.returncode == 0, r.stderr
        assert f"written to {state}" in r.stdout
        states.append(str(state))
    whole = (save(tmp_path / "s.npy", s), save(tmp_path / "y.npy", y))
    return s, y, states, whole


@pytest.mark.parametrize("options", [[], ["--method", "ranked", "--epsilon", "1e-8"], ["--average", "micro"],
                                     ["--average", "samples", "--method", "voc_area"], ["--preset", "dualcoop"],
                                     ["--classes", "6,0-2"]])
def test_merged_shards_report_the_whole(shards, options):
    _, _, states, whole = shards
    merged = run_json("--states", *states, *options)
    one = run_json(*whole, *options)
    for key in ("value", "per_class", "positives", "n", "metrics"):
        assert merged.get(key) == one.get(key), key


def test_state_of_the_whole_is_the_concatenation(shards, tmp_path):
    _, _, states, whole = shards
    assert run(*whole, "--save-state", tmp_path / "whole.mlrstate", "--json").returncode == 0
    merged_state = tmp_path / "merged.mlrstate"
    assert run("--states", *states, "--save-state", merged_state, "--json").returncode == 0
    assert merged_state.read_bytes() == (tmp_path / "whole.mlrstate").read_bytes()


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize("thresholds", [2, 11, 100])
def test_binned_matches_the_reference(shards, average, thresholds):
    s, y, _, whole = shards
    for classes, columns in ((None, list(range(7))), ("5,1-2", [5, 1, 2])):
        extra = ["--classes", classes] if classes else []
        report = run_json(*whole, "--binned", thresholds, "--average", average, *extra)["metrics"]["binned"]
        t = (np.arange(thresholds) / (thresholds - 1)).astype(np.float32)
        value, per_class, _ = binned_ap.binned_average_precision(*binned_ap.counts(s[:, columns], y[:, columns], t),
                                                                 average=average)
        assert report["thresholds"] == thresholds
        assert report["value"] == pytest.approx(value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose([np.nan if v is None else v for v in report["per_class"]], per_class,
                                   rtol=1e-12, atol=1e-12)


def test_binned_rows_in_the_table(shards):
    r = run(*shards[3], "--binned", "11")
    assert r.returncode == 0, r.stderr
    assert "binned mAP (11 thresholds, macro)" in r.stdout


def test_bad_states(shards, tmp_path):
    _, _, states, whole = shards
    assert_one_error(run("--states", states[0], whole[1]), "state: expected the magic")
    corrupted = tmp_path / "corrupted.mlrstate"
    data_ = bytearray(pathlib.Path(states[1]).read_bytes())
    data_[40] ^= 1
    corrupted.write_bytes(bytes(data_))
    assert_one_error(run("--states", states[0], corrupted), f"{corrupted}: state: checksum mismatch")
    other = tmp_path / "other.mlrstate"
    assert run(save(tmp_path / "s3.npy", data(c=3)[0]), save(tmp_path / "y3.npy", data(c=3)[1]),
               "--save-state", other).returncode == 0
    assert_one_error(run("--states", states[0], other), "other: expected an accumulator of 7 classes")
    assert_one_error(run("--states", *states, "--labels", "signed"),
                     "--labels: the states hold labels in the canonical encoding")
    for args, message in ((["--states"], "--states: expected at least one state file"),
                          ([*whole, "--binned", "1"], "--binned: expected a number of thresholds from 2")):
        r = run(*args)  # usage errors: the error line, then the usage hint
        assert r.returncode == 2 and r.stderr.startswith("mlr-eval: error: " + message), r.stderr
    assert_one_error(run(*whole, "--binned", "5", "--average", "samples"), "--binned: the binned AP keeps no per-image")

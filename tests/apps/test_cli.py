"""mlr-eval's command line: help, version, option syntax and usage errors (exit 2 with a hint)."""
import re

import numpy as np
import pytest

from mlr_eval_support import ERROR_PREFIX, CRASH_MARKERS, run, save


def assert_usage_error(r, message=None):
    lines = r.stderr.splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert len(lines) == 2 and lines[0].startswith(ERROR_PREFIX), r.stderr
    assert lines[1].startswith("usage: mlr-eval SCORES LABELS")
    assert not any(m in r.stderr for m in CRASH_MARKERS)
    if message is not None:
        assert lines[0] == ERROR_PREFIX + message
    return lines[0]


@pytest.fixture
def files(tmp_path):
    scores = np.array([[0.9, 0.1], [0.4, 0.8], [0.3, 0.2]])
    labels = np.array([[1, 0], [0, 1], [1, 0]], np.int8)
    return save(tmp_path / "s.npy", scores), save(tmp_path / "l.npy", labels)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0 and r.stderr == ""
    for option in ["--method", "--average", "--empty-class", "--labels", "--classes", "--class-names", "--threads",
                   "--json", "--write-demo", "--version", "--top-k", "--quiet"]:
        assert option in r.stdout
    r = run("--version")
    assert r.returncode == 0 and re.fullmatch(r"mlr-eval \d+\.\d+\.\d+\n", r.stdout)


# The messages of policy options are mlr::parse_policy's, word for word.
POLICY_ERRORS = [
    (["--average", "mean"], "average: expected one of macro, micro, weighted, samples, none; found 'mean'"),
    (["--empty-class", "drop"], "empty_class: expected one of zero, exclude; found 'drop'"),
    (["--labels", "binary"], "encoding: expected one of canonical, signed_zero_ignored, signed; found 'binary'"),
    (["--method", "voc"], "method: expected one of step, ranked, voc07_11point, voc_area; found 'voc'"),
    (["--average=Macro"], "average: expected one of macro, micro, weighted, samples, none; found 'Macro'"),
]


@pytest.mark.parametrize("args,message", POLICY_ERRORS)
def test_policy_names_and_messages_are_the_libraries(files, args, message):
    assert_usage_error(run(*files, *args), message)


USAGE_ERRORS = [
    ["--frobnicate"],
    ["-x"],
    ["--average"],
    ["--threads", "-1"],
    ["--threads", "two"],
    ["--threads", "99999999999999999999"],
    ["--classes", "3-1"],
    ["--classes", "a"],
    ["--classes", ""],
    ["--classes", "1,,2"],
    ["--classes", "1-"],
    ["--json=yes"],
    ["--average", "micro", "--average", "macro"],
    ["--quiet", "--quiet"],
    ["--top-k", "2", "--top-k", "0"],
    ["extra.npy"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=[" ".join(a) or "empty" for a in USAGE_ERRORS])
def test_usage_errors(files, args):
    assert_usage_error(run(*files, *args))


def test_file_count(files):
    assert_usage_error(run(files[0]), "expected two files, SCORES and LABELS, found 1")
    assert_usage_error(run("--average", "micro", files[0]))
    assert_usage_error(run("--write-demo", "/tmp/x", *files), "--write-demo DIR takes no other arguments")
    assert_usage_error(run("--write-demo"), "--write-demo needs a value")


def test_option_forms(files):
    base = run(*files, "--json").stdout
    assert run(*files, "--json", "--average=macro", "--labels=canonical", "--threads=3").stdout == base
    assert run("--json", "--", *files).stdout == base
    signed = run(*files, "--labels", "signed", "--json")  # 0 means "ignored" there: only the 1s remain
    assert signed.returncode == 0 and '"positives": [2, 1]' in signed.stdout
    r = run(*files, "--method", "step", "--empty-class", "exclude", "--threads", "0")
    assert r.returncode == 0 and "--empty-class exclude" in r.stdout


def test_top_k_may_repeat(files):
    r = run(*files, "--top-k", "1", "--top-k=2", "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "P@1" in r.stdout and "P@2" in r.stdout


def test_options_apply_to_the_demo():
    r = run("--average", "micro")
    assert r.returncode == 0 and "mAP (micro)" in r.stdout and "demo" in r.stdout

"""The progress bar: drawn on stderr when it is a terminal (a pseudo-terminal here), one line
redrawn in place and erased before the results; nothing with --quiet or when stderr is not a
terminal. It never changes what is printed on stdout."""
import os
import pty
import re
import subprocess
import threading

import numpy as np
import pytest

from mlr_eval_support import ERROR_PREFIX, binary, run, save

BAR = re.compile(r"mlr-eval: (?P<label>[^\[\r]+) \[[#.]{30}\] (?P<percent>\d+)%")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("progress")
    rng = np.random.default_rng(5)
    scores = rng.random((3000, 90)).astype(np.float32)
    labels = (rng.random((3000, 90)) < 0.05).astype(np.int8)
    return save(tmp / "s.npy", scores), save(tmp / "l.npy", labels)


def run_with_terminal(*args):
    """Runs mlr-eval with stderr on a pseudo-terminal: (exit status, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    child = subprocess.Popen([binary(), *map(str, args)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave)
    os.close(slave)
    stdout = []
    reader = threading.Thread(target=lambda: stdout.append(child.stdout.read()))
    reader.start()
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    reader.join()
    child.wait(timeout=60)
    return child.returncode, stdout[0].decode(), terminal.decode()


def bars(terminal):
    return [(m["label"], int(m["percent"])) for m in BAR.finditer(terminal)]


def test_bar_on_a_terminal_for_every_metric(files):
    args = [*files, "--preset", "mkt", "--threshold", "0.5", "--threads", "2"]
    status, stdout, terminal = run_with_terminal(*args)
    assert status == 0, terminal
    assert stdout == run(*args).stdout  # the same results, with or without the bar
    drawn = bars(terminal)
    labels = [label for label, _ in drawn]
    for label in ["mAP (ranked, macro)", "top-3", "top-5", "threshold metrics"]:
        steps = [p for l, p in drawn if l == label]
        assert steps and steps[-1] == 100, (label, steps)
        assert steps == sorted(steps) and len(steps) <= 100
    assert labels.index("top-3") < labels.index("top-5")
    # Drawn in place (carriage returns, no newline) and erased at the end: the last thing on the
    # terminal is a carriage return after blanks.
    assert "\n" not in terminal
    assert re.search(r"% *\r +\r$", terminal), repr(terminal[-80:])


def test_step_ap_reports_both_passes(files):
    status, _, terminal = run_with_terminal(*files, "--threads", "1")
    assert status == 0
    steps = [p for l, p in bars(terminal) if l == "mAP (step, macro)"]
    assert len(steps) >= 3 and steps[-1] == 100, steps


def test_quiet_draws_nothing(files):
    status, stdout, terminal = run_with_terminal(*files, "--preset", "mkt", "--quiet")
    assert status == 0 and terminal == ""
    assert stdout == run(*files, "--preset", "mkt").stdout


def test_nothing_on_stderr_when_it_is_not_a_terminal(files):
    for extra in ([], ["--preset", "mkt"], ["--json", "--top-k", "2", "--threshold", "0.5"]):
        r = run(*files, *extra)
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_an_error_starts_on_a_clean_line(tmp_path, files):
    labels = np.load(files[1])
    labels[-1, -1] = 5  # found by the AP kernel's last pass, after some progress was drawn
    bad = save(tmp_path / "bad.npy", labels)
    status, stdout, terminal = run_with_terminal(files[0], bad, "--threads", "1")
    assert status == 2 and stdout == ""
    last_line = terminal.rstrip("\r\n").split("\r")[-1]  # the terminal turns "\n" into "\r\n"
    assert last_line.startswith(ERROR_PREFIX) and "found 5 at (2999, 89)" in last_line, repr(terminal)


def test_quiet_is_in_the_help():
    assert "--quiet" in run("--help").stdout

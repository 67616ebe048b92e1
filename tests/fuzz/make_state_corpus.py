#!/usr/bin/python3
"""Seed corpus for states.fuzz.cpp: accumulator states written by tests/reference/state_layout.py
(the documented layout, independent of mlr), valid and near-valid. Usage: make_state_corpus.py DIR"""
import os
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import state_layout  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_state_corpus.py DIR")
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    s = np.round(rng.random((6, 3)), 1)
    y = rng.integers(-1, 2, (6, 3)).astype(np.int8)
    t = np.array([0.0, 0.25, 0.5, 1.0])
    pos, neg = state_layout.passed_counts(s, y, t)
    seeds = {
        "exact_f4": state_layout.exact_state(s.astype(np.float32), y),
        "exact_f8_signed": state_layout.exact_state(s, y, "signed_zero_ignored"),
        "exact_empty": state_layout.exact_state(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.int8)),
        "binned_f4": state_layout.binned_state(t.astype(np.float32), pos, neg),
        "binned_f8": state_layout.binned_state(t, pos, neg, "signed_zero_ignored"),
    }
    seeds["truncated"] = seeds["exact_f4"][:-9]
    seeds["bad_checksum"] = seeds["binned_f4"][:-1] + b"\0"
    for name, data in seeds.items():
        (out / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Seed corpus for loaders.fuzz.cpp: valid and near-valid .npy files, CSVs, and scores/labels
pairs joined by the marker MLRPAIR. Usage: make_corpus.py DIR"""
import io
import os
import sys

import numpy as np

PAIR = b"MLRPAIR"


def npy(a, version=None, fortran=False):
    buf = io.BytesIO()
    if fortran:
        a = np.asfortranarray(a)
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(3)
    scores32 = rng.random((5, 3), dtype=np.float32)
    scores32[0, 0] = scores32[1, 0]  # a tie
    labels = np.array([[1, 0, -1], [1, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.int8)
    seeds = {
        "f4.npy": npy(scores32),
        "f8.npy": npy(scores32.astype("<f8")),
        "i1.npy": npy(labels),
        "i4.npy": npy(labels.astype("<i4")),
        "i8.npy": npy(labels.astype("<i8")),
        "u1.npy": npy((labels > 0).astype(np.uint8)),
        "b1.npy": npy(labels > 0),
        "fortran.npy": npy(scores32, fortran=True),
        "v2.npy": npy(scores32, version=(2, 0)),
        "v3.npy": npy(scores32, version=(3, 0)),
        "big_endian.npy": npy(scores32.astype(">f4")),
        "rank1.npy": npy(scores32[:, 0].copy()),
        "rank3.npy": npy(scores32.reshape(5, 3, 1)),
        "empty_rows.npy": npy(np.zeros((0, 3), np.float32)),
        "empty_cols.npy": npy(np.zeros((4, 0), np.float32)),
        "nan_inf.npy": npy(np.array([[np.nan, 1.0], [np.inf, -np.inf]], np.float64)),
        "f2.npy": npy(scores32.astype(np.float16)),
        "record.npy": npy(np.zeros(2, dtype=[("a", "<f4")])),
        "truncated.npy": npy(scores32)[:-5],
        "header_only.npy": npy(scores32)[:40],
        "with_header.csv": b"cat,dog,bird\n0.9,0.1,0.5\n0.2,0.8,0.5\n",
        "plain.csv": b"1,0,-1\n0,1,0\n\n1,1,0\n",
        "floats.csv": b" 0.5 , +1e-3 ,-2.5E+10\r\n nan,inf,-inf\r\n",
        "quoted_header.csv": b"\"a\",\"b\"\n1,0\n",
        "ragged.csv": b"1,2\n3\n",
        "semicolons.csv": b"1;2\n3;4\n",
        "empty.csv": b"",
        "pair_npy.bin": npy(scores32) + PAIR + npy(labels),
        "pair_bool.bin": npy(scores32.astype("<f8")) + PAIR + npy(labels > 0),
        "pair_csv.bin": b"a,b\n0.9,0.1\n0.2,0.8\n0.2,0.3\n" + PAIR + b"a,b\n1,0\n0,1\n1,-1\n",
        "pair_mixed.bin": b"0.9,0.1\n0.2,0.8\n" + PAIR + npy(np.array([[1, 0], [0, 1]], np.int8)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()

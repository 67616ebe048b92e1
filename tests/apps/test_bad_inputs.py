"""Every malformed input gives exit status 2 and exactly one stderr line "mlr-eval: error: ...",
never a crash. The files are built byte by byte. Run this file against a sanitizer build too."""
import os
import threading

import numpy as np
import pytest

from mlr_eval_support import assert_one_error, npy_bytes, npy_header, run

GOOD_SCORES = np.array([[0.9, 0.1], [0.4, 0.8], [0.3, 0.2]])
GOOD_LABELS = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.int8)


def good_npy(array):
    return npy_bytes(array.dtype.str, array.shape, data=array.tobytes())


VALID = good_npy(GOOD_SCORES)

# (id, bytes of the scores .npy file, a fragment the message must contain)
BAD_SCORES_NPY = [
    ("empty", b"", "the file is empty"),
    ("wrong_magic", b"PK\x03\x04" + VALID[4:], "not a .npy file"),
    ("text_file", b"0.5,0.25\n0.1,0.2\n", "not a .npy file"),
    ("truncated_preamble", VALID[:5], "truncated"),
    ("truncated_length_field", VALID[:9], "truncated"),
    ("truncated_header", VALID[:40], "truncated"),
    ("truncated_data", VALID[:-3], "truncated"),
    ("data_longer", VALID + b"\x00" * 4, "bytes more than the data"),
    ("version_4", npy_bytes(version=(4, 0)), "version 4.0"),
    ("version_1_1", npy_bytes(version=(1, 1)), "version 1.1"),
    ("header_len_too_big", npy_bytes(header_len=5000), "header length field says 5000"),
    ("header_len_too_small", npy_bytes(header_len=20), "header"),
    ("header_len_zero", npy_bytes(header_len=0), "header length field is 0"),
    ("header_len_v2_huge", npy_bytes(version=(2, 0), header_len=0xFFFFFFFF), "truncated"),
    ("big_endian", npy_bytes(">f4"), "'>f4'"),
    ("complex", npy_bytes("<c8"), "'<c8'"),
    ("object", npy_bytes("|O", data=b"\x00" * 48), "'|O'"),
    ("float16", npy_bytes("<f2"), "'<f2'"),
    ("unicode", npy_bytes("<U3", data=b"\x00" * 72), "'<U3'"),
    ("uint32", npy_bytes("<u4"), "'<u4'"),
    ("int16", npy_bytes("<i2"), "'<i2'"),
    ("structured", npy_bytes(header="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3, 2), }"),
     "structured"),
    ("fortran_order_truncated", npy_bytes(fortran=True, data=b"\x00" * 40), "truncated"),
    ("ndim_1", npy_bytes(shape=(6,)), "2-D"),
    ("ndim_3", npy_bytes(shape=(3, 2, 1)), "3-D"),
    ("ndim_0", npy_bytes(shape=(), data=b"\x00" * 8), "0-D"),
    ("shape_overflow", npy_bytes(shape=(2**62, 2**62), data=b""), "too large"),
    ("shape_bytes_overflow", npy_bytes(shape=(2**31, 2**31), data=b""), "too large"),
    ("shape_beyond_int64", npy_bytes(shape=(2**63, 1), data=b""), "too large"),
    ("shape_beyond_uint64", npy_bytes(header=npy_header(shape=(10**30, 2)), data=b""), "too large"),
    ("shape_huge_zero_cols", npy_bytes(shape=(2**63, 0), data=b""), "too large"),
    ("shape_huge_but_fits", npy_bytes(shape=(2**40, 2**19), data=b"\x00" * 48), "needs 4611686018427387904 bytes"),
    ("shape_negative", npy_bytes(header="{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 2), }"), "shape"),
    ("header_not_a_dict", npy_bytes(header="hello"), "header"),
    ("header_missing_key", npy_bytes(header="{'descr': '<f8', 'shape': (3, 2), }"), "missing key 'fortran_order'"),
    ("header_unknown_key", npy_bytes(header=npy_header()[:-1] + "'extra': 1, }"), "unexpected key 'extra'"),
    ("header_duplicate_key", npy_bytes(header="{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                                              "'shape': (3, 2)}"), "twice"),
    ("header_unterminated", npy_bytes(header="{'descr': '<f8"), "unterminated"),
    ("header_bad_bool", npy_bytes(header="{'descr': '<f8', 'fortran_order': 0, 'shape': (3, 2), }"), "True or False"),
    ("header_trailing_text", npy_bytes(header=npy_header() + " xyz"), "after the dictionary"),
    ("header_binary", npy_bytes(header="\x00\x01\x02\n\x7f"), "header"),
    ("non_finite", good_npy(np.array([[0.9, 0.1], [np.nan, 0.8], [0.3, 0.2]])),
     "scores: expected finite values, found nan at (1, 0)"),
    ("infinite", good_npy(np.array([[0.9, 0.1], [0.4, 0.8], [0.3, -np.inf]])), "found -inf at (2, 1)"),
    ("integer_scores", good_npy(GOOD_LABELS), "scores must be float32 (<f4) or float64 (<f8), found int8"),
    ("shape_mismatch", good_npy(np.zeros((3, 3))), "expected shape (3, 3) (that of scores"),
    ("row_mismatch", good_npy(np.zeros((4, 2))), "found (3, 2)"),
]


@pytest.mark.parametrize("data,fragment", [c[1:] for c in BAD_SCORES_NPY], ids=[c[0] for c in BAD_SCORES_NPY])
def test_bad_scores_npy(tmp_path, data, fragment):
    (tmp_path / "s.npy").write_bytes(data)
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))
    line = assert_one_error(run(tmp_path / "s.npy", tmp_path / "l.npy"), fragment)
    if "'" in fragment and fragment.startswith("'"):
        assert "unsupported dtype" in line


BAD_LABELS_NPY = [
    ("bool_byte_2", npy_bytes("|b1", data=b"\x01\x00\x00\x02\x01\x00"), "bool data holds the byte 2 at (1, 1)"),
    ("label_value_2", good_npy(np.array([[1, 0], [0, 2], [1, 0]], np.int8)),
     "labels: expected labels in the canonical encoding"),
    ("float_label_half", good_npy(np.array([[1, 0], [0, 0.5], [1, 0]])), "found 0.5 at (1, 1)"),
    ("float_label_nan", good_npy(np.array([[1, 0], [0, np.nan], [1, 0]])), "at (1, 1)"),
    ("uint8_255", good_npy(np.array([[1, 0], [0, 255], [1, 0]], np.uint8)), "found 255 at (1, 1)"),
    ("complex_labels", npy_bytes("<c16", data=b"\x00" * 96), "'<c16'"),
    ("truncated_labels", good_npy(GOOD_LABELS)[:-1], "truncated"),
]


@pytest.mark.parametrize("data,fragment", [c[1:] for c in BAD_LABELS_NPY], ids=[c[0] for c in BAD_LABELS_NPY])
def test_bad_labels_npy(tmp_path, data, fragment):
    (tmp_path / "s.npy").write_bytes(good_npy(GOOD_SCORES))
    (tmp_path / "l.npy").write_bytes(data)
    assert_one_error(run(tmp_path / "s.npy", tmp_path / "l.npy"), fragment)


GOOD_CSV = "0.9,0.1\n0.4,0.8\n0.3,0.2\n"

BAD_SCORES_CSV = [
    ("empty", "", "the file is empty"),
    ("blank_lines_only", "\n  \n\r\n", "the file is empty"),
    ("header_only", "cat,dog\n", "no data rows"),
    ("malformed_cell", "0.9,0.1\n0.4,abc\n0.3,0.2\n", "s.csv: line 2, column 2: expected a number, found 'abc'"),
    ("empty_cell", "0.9,0.1\n0.4,\n0.3,0.2\n", "line 2, column 2: expected a number, found an empty cell"),
    ("trailing_comma", "0.9,0.1,\n0.4,0.8,\n0.3,0.2,\n", "line 1, column 3"),
    ("out_of_range", "0.9,0.1\n0.4,1e999\n0.3,0.2\n", "out of the range of a double"),
    ("ragged", "0.9,0.1\n0.4,0.8,0.5\n0.3,0.2\n", "line 2: expected 2 values as on line 1, found 3"),
    ("ragged_after_header", "cat,dog\n0.9,0.1\n0.4\n0.3,0.2\n", "line 3: expected 2 values as on line 1, found 1"),
    ("mixed_header", "cat,0.5\n0.9,0.1\n0.4,0.8\n", "line 1, column 1"),
    ("empty_name", ",dog\n0.9,0.1\n0.4,0.8\n0.3,0.2\n", "empty class name"),
    ("semicolons", "0.9;0.1\n0.4;0.8\n0.3;0.2\n", "line 2, column 1: expected a number, found '0.4;0.8'"),
    ("non_finite", "0.9,0.1\n0.4,inf\n0.3,0.2\n", "scores: expected finite values, found inf at (1, 1)"),
    ("long_garbage_cell", "0.9,0.1\n0.4," + "x" * 5000 + "\n0.3,0.2\n", "...'"),
    ("control_characters", "0.9,0.1\n0.4,\x1b[31m\x07\n0.3,0.2\n", "\\x1b"),
]


@pytest.mark.parametrize("text,fragment", [c[1:] for c in BAD_SCORES_CSV], ids=[c[0] for c in BAD_SCORES_CSV])
def test_bad_scores_csv(tmp_path, text, fragment):
    (tmp_path / "s.csv").write_text(text)
    (tmp_path / "l.csv").write_text("1,0\n0,1\n1,0\n")
    line = assert_one_error(run(tmp_path / "s.csv", tmp_path / "l.csv"), fragment)
    assert len(line) < 400


def test_no_rows(tmp_path):
    (tmp_path / "s.npy").write_bytes(npy_bytes(shape=(0, 2), data=b""))
    (tmp_path / "l.npy").write_bytes(npy_bytes("|i1", shape=(0, 2), data=b""))
    assert_one_error(run(tmp_path / "s.npy", tmp_path / "l.npy"), "scores: expected a non-empty tensor")


def test_binary_garbage_as_csv(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "s.csv").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "l.csv").write_text("1,0\n")
    assert_one_error(run(tmp_path / "s.csv", tmp_path / "l.csv"))


def test_csv_headers_that_disagree(tmp_path):
    (tmp_path / "s.csv").write_text("cat,dog\n" + GOOD_CSV)
    (tmp_path / "l.csv").write_text("cat,cow\n1,0\n0,1\n1,0\n")
    assert_one_error(run(tmp_path / "s.csv", tmp_path / "l.csv"), "name column 1 differently")


@pytest.mark.parametrize("every_byte", [True, False])
def test_every_truncation_of_a_valid_file(tmp_path, every_byte):
    """Cut a valid file at every length (scores) or a sample of lengths (labels)."""
    data = VALID if every_byte else good_npy(GOOD_LABELS)
    (tmp_path / "ok.npy").write_bytes(good_npy(GOOD_SCORES if not every_byte else GOOD_LABELS))
    for cut in range(len(data)) if every_byte else range(0, len(data), 7):
        (tmp_path / "cut.npy").write_bytes(data[:cut])
        args = [tmp_path / "cut.npy", tmp_path / "ok.npy"] if every_byte else [tmp_path / "ok.npy", tmp_path / "cut.npy"]
        assert_one_error(run(*args))


def test_mutated_preambles_and_headers(tmp_path):
    """Random byte changes in the first 128 bytes (preamble and header): success or one error line."""
    rng = np.random.default_rng(7)
    valid = good_npy(GOOD_SCORES)
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))
    outcomes = {0: 0, 2: 0}
    for _ in range(150):
        data = bytearray(valid)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, 128))] = int(rng.integers(0, 256))
        (tmp_path / "s.npy").write_bytes(bytes(data))
        r = run(tmp_path / "s.npy", tmp_path / "l.npy")
        if r.returncode != 0:
            assert_one_error(r)
        outcomes[r.returncode] += 1
    assert outcomes[2] > 50


def test_missing_file_and_directory(tmp_path):
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))
    assert_one_error(run(tmp_path / "nope.npy", tmp_path / "l.npy"), "No such file or directory")
    assert_one_error(run(tmp_path, tmp_path / "l.npy"), "is a directory")
    assert_one_error(run(tmp_path / "nope.csv", tmp_path / "l.npy"), "cannot open")


def test_npz_archive(tmp_path):
    np.savez(tmp_path / "s.npz", a=GOOD_SCORES)
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))
    assert_one_error(run(tmp_path / "s.npz", tmp_path / "l.npy"), "numpy.save")


def test_truncated_pipe(tmp_path):
    fifo = tmp_path / "s.npy"
    os.mkfifo(fifo)
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))

    def feed():
        with open(fifo, "wb") as f:
            f.write(VALID[:-5])

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert_one_error(run(fifo, tmp_path / "l.npy"), "truncated")
    writer.join(timeout=10)


def write_good(tmp_path):
    (tmp_path / "s.npy").write_bytes(good_npy(GOOD_SCORES))
    (tmp_path / "l.npy").write_bytes(good_npy(GOOD_LABELS))
    return tmp_path / "s.npy", tmp_path / "l.npy"


def test_data_dependent_option_errors(tmp_path):
    s, l = write_good(tmp_path)
    assert_one_error(run(s, l, "--classes", "0,5"), "--classes: expected class indices below 2")
    assert_one_error(run(s, l, "--classes", "0-1,1"), "class 1 is selected twice")
    assert_one_error(run(s, l, "--class-names", "a,b,c"), "expected 2 names")
    assert_one_error(run(s, l, "--class-names", "a,,b"), "name 2 is empty")
    (tmp_path / "names.txt").write_text("a\n\nb\n")
    assert_one_error(run(s, l, "--class-names", tmp_path / "names.txt"), "line 2 is empty")


def test_positions_in_a_subset_name_file_columns(tmp_path):
    scores = np.array([[0.9, 0.1, 0.5], [0.4, 0.8, np.nan], [0.3, 0.2, 0.1]])
    labels = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 3]], np.int8)
    (tmp_path / "s.npy").write_bytes(good_npy(scores))
    (tmp_path / "l.npy").write_bytes(good_npy(labels))
    s, l = tmp_path / "s.npy", tmp_path / "l.npy"
    assert_one_error(run(s, l, "--classes", "2"), "found nan at (1, 2)")
    assert_one_error(run(s, l, "--classes", "0,2"), "found nan at (1, 2)")
    (tmp_path / "s.npy").write_bytes(good_npy(np.nan_to_num(scores)))
    assert_one_error(run(s, l, "--classes", "1-2"), "found 3 at (2, 2)")
    r = run(s, l, "--classes", "0-1")
    assert r.returncode == 0, r.stderr


def test_write_demo_into_an_unwritable_place(tmp_path):
    (tmp_path / "file").write_text("")
    assert_one_error(run("--write-demo", tmp_path / "file" / "sub"), "cannot create the directory")


def test_output_write_failure():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    import subprocess
    from mlr_eval_support import binary
    with open("/dev/full", "w") as full:
        r = subprocess.run([binary()], stdout=full, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and r.stderr.startswith("mlr-eval: error: cannot write the output")

"""The accumulators' state layout, written from its documentation (include/mlr/metrics/detail/
state_io.hpp and docs/api.md) with struct and numpy, independently of mlr: a state mlr writes must
be byte for byte what this writes, so the layout cannot drift unnoticed between versions."""
import struct

import numpy as np

MAGIC = b"MLRSTATE"
VERSION = 1
EXACT, BINNED = 1, 2
ENCODINGS = {"canonical": 0, "signed_zero_ignored": 1}


def fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def _frame(kind, dtype, encoding, classes, extent, payload):
    head = MAGIC + struct.pack("<IBBBBQQ", VERSION, kind, np.dtype(dtype).itemsize, ENCODINGS[encoding], 0,
                               classes, extent)
    body = head + payload
    return body + struct.pack("<Q", fnv1a64(body))


def exact_state(scores, labels, encoding="canonical"):
    """scores [rows, C] (float32/float64), labels [rows, C] already int8 in `encoding`."""
    scores = np.ascontiguousarray(scores)
    rows, classes = scores.shape
    payload = scores.astype(scores.dtype.newbyteorder("<")).tobytes() + np.ascontiguousarray(labels, "i1").tobytes()
    return _frame(EXACT, scores.dtype, encoding, classes, rows, payload)


def binned_state(thresholds, passed_positive, passed_negative, encoding="canonical"):
    """thresholds [T]; passed_*[c, k]: entries of class c that passed exactly k thresholds (k = 0..T)."""
    thresholds = np.asarray(thresholds)
    classes = passed_positive.shape[0]
    payload = (thresholds.astype(thresholds.dtype.newbyteorder("<")).tobytes()
               + np.ascontiguousarray(passed_positive, "<u8").tobytes()
               + np.ascontiguousarray(passed_negative, "<u8").tobytes())
    return _frame(BINNED, thresholds.dtype, encoding, classes, len(thresholds), payload)


def passed_counts(scores, labels, thresholds, positive_value=1, negative_value=0):
    """How many entries of each class passed exactly k thresholds, for positives and negatives."""
    k = np.searchsorted(np.asarray(thresholds), scores, side="right")  # thresholds <= score
    width = len(thresholds) + 1
    pos = np.zeros((scores.shape[1], width), np.uint64)
    neg = np.zeros((scores.shape[1], width), np.uint64)
    for c in range(scores.shape[1]):
        pos[c] = np.bincount(k[labels[:, c] == positive_value, c], minlength=width)
        neg[c] = np.bincount(k[labels[:, c] == negative_value, c], minlength=width)
    return pos, neg

"""numpy inputs: arrays are viewed in place whatever their strides (transposed, sliced, negative)
and copied only when the strides or the alignment do not allow a typed view; every dtype pair;
lists through numpy.asarray; threads; the GIL."""

import threading
import time

import numpy as np
import pytest

import mlr
import sklearn_ap
from support import LABEL_DTYPES, assert_identical, problem, results, traced_peak


@pytest.mark.parametrize("label_dtype", LABEL_DTYPES)
@pytest.mark.parametrize("score_dtype", [np.float32, np.float64])
def test_every_dtype_pair_gives_the_same_result(score_dtype, label_dtype):
    s, y = problem(score_dtype=score_dtype)
    assert_identical(results(s, y.astype(label_dtype)), results(s, y))
    for c in range(3):
        a = mlr.average_precision(s[:, c], y[:, c].astype(label_dtype))
        b = mlr.average_precision(s[:, c], y[:, c])
        assert (a.positives, a.negatives) == (b.positives, b.negatives)
        np.testing.assert_array_equal(a.value, b.value)


def test_float32_contiguous_and_transposed_view_agree():
    s, y = problem(score_dtype=np.float32)
    s_t = np.ascontiguousarray(s.T).T  # the same values, column-major memory
    y_t = np.ascontiguousarray(y.T).T
    assert not s_t.flags.c_contiguous
    assert_identical(results(s_t, y_t), results(s, y))
    assert_identical(results(s_t, y), results(s, y_t))


@pytest.mark.parametrize("view", [
    lambda a: a[::-1],
    lambda a: a[:, ::-1],
    lambda a: a[::-1, ::-1],
    lambda a: a[::3, 1::2],
    lambda a: a[-2::-4, ::-3],
    lambda a: np.ascontiguousarray(a.T).T[1::2],
])
def test_strided_views_equal_their_copies(view):
    s, y = problem(n=90, c=11)
    s_view, y_view = view(s), view(y)
    expected = results(np.ascontiguousarray(s_view), np.ascontiguousarray(y_view))
    assert_identical(results(s_view, y_view), expected)
    for average in ["macro", "micro", "samples"]:
        r = mlr.mean_average_precision(s_view, y_view, average=average)
        assert r.value == pytest.approx(sklearn_ap.native(y_view, s_view, average),
                                        rel=1e-12, abs=1e-12)


def test_broadcast_views_with_zero_strides():
    s, y = problem(n=30, c=5)
    row = y[3]
    broadcast = np.broadcast_to(row, y.shape)
    assert broadcast.strides[0] == 0
    assert_identical(results(s, broadcast), results(s, np.ascontiguousarray(broadcast)))
    assert traced_peak(lambda: mlr.mean_average_precision(s, broadcast)) < 4096


def test_one_dimensional_strided_views():
    s, y = problem(n=200, c=3)
    for sv, yv in [(s[::-1, 1], y[::-1, 1]), (s[5::7, 2], y[5::7, 2]), (s.T[1], y.T[1])]:
        a = mlr.average_precision(sv, yv)
        b = mlr.average_precision(np.ascontiguousarray(sv), np.ascontiguousarray(yv))
        np.testing.assert_array_equal(a.value, b.value)
        assert a.value == pytest.approx(sklearn_ap.binary(yv, sv), rel=1e-12, abs=1e-12)


def misaligned(a):
    """A copy of `a` whose data starts one byte after an aligned address (copy path)."""
    buffer = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = buffer[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def odd_strides(a):
    """A copy of 2-D `a` whose rows are a.shape[1] * itemsize + 1 bytes apart (copy path)."""
    n, c = a.shape
    buffer = np.zeros((n, c * a.itemsize + 1), dtype=np.uint8)
    out = buffer[:, 1:].view(a.dtype)
    out[...] = a
    assert out.strides[0] % a.itemsize != 0
    return out


def test_odd_strides_and_misaligned_data_are_copied_and_correct():
    s, y = problem(n=50, c=6)
    expected = results(s, y)
    y32 = y.astype(np.int32)
    assert_identical(results(odd_strides(s), odd_strides(y32)), expected)
    assert_identical(results(misaligned(s), misaligned(y32)), expected)
    assert not misaligned(s).flags.aligned
    # a structured array's field: stride 9 bytes, data one byte off
    record = np.zeros(s.shape[0], dtype=[("tag", "u1"), ("score", "<f8")])
    record["score"] = s[:, 2]
    assert record["score"].strides == (9,)
    np.testing.assert_array_equal(mlr.average_precision(record["score"], y[:, 2]).value,
                                  mlr.average_precision(s[:, 2], y[:, 2]).value)


def test_non_native_byte_order():
    s, y = problem()
    assert_identical(results(s.astype(">f8"), y.astype(">i4")), results(s, y))
    assert_identical(results(s.astype(">f4"), y), results(s.astype(np.float32), y))


def test_zero_copy_for_strided_views_copy_for_odd_strides():
    """numpy reports its allocations to tracemalloc: a view must not allocate a copy."""
    n, c = 4000, 250  # 8 MB of float64 scores
    rng = np.random.default_rng(1)
    base = rng.normal(size=(c, n))
    labels = (rng.uniform(size=(c, n)) < 0.2).astype(np.int8)
    size = base.nbytes

    def run(s, y):
        return traced_peak(lambda: mlr.mean_average_precision(s, y))

    assert run(base.T, labels.T) < size / 8  # transposed: viewed in place
    assert run(base[::-1, ::-1].T, labels[::-1, ::-1].T) < size / 8  # negative strides
    assert run(base.T[::2], labels.T[::2]) < size / 8  # sliced with a step
    assert run(base.astype(np.float32).T, labels.T) < size / 8
    odd = odd_strides(base.T)
    assert run(odd, labels.T) >= odd.nbytes  # copied into a contiguous array


def test_inputs_are_not_modified():
    s, y = problem()
    s0, y0 = s.copy(), y.copy()
    s.flags.writeable = False
    y.flags.writeable = False
    results(s, y)
    np.testing.assert_array_equal(s, s0)
    np.testing.assert_array_equal(y, y0)


def test_lists_go_through_numpy_asarray():
    r = mlr.average_precision([.9, .8, .7, .6, .5, .4], [1, 0, 1, 0, 0, 1])
    assert r.value == pytest.approx(13 / 18, rel=1e-12, abs=1e-12)
    r = mlr.average_precision((.9, .5, .5, .1), (False, True, False, True))
    assert r.value == pytest.approx(5 / 12, rel=1e-12, abs=1e-12)
    m = mlr.mean_average_precision([[.9, .2], [.3, .8], [.6, .4]], [[0, 1], [1, 1], [1, -1]])
    assert m.value == pytest.approx(19 / 24, rel=1e-12, abs=1e-12)


def test_threads_do_not_change_results():
    s, y = problem(n=3000, c=70)
    expected = results(s, y, threads=1)
    for threads in [0, 2, 3, 8]:
        assert_identical(results(s, y, threads=threads), expected)


def test_the_gil_is_released_during_the_computation():
    """A Python thread keeps running while mlr computes (a call that held the GIL would
    leave no timestamp in the middle of its window)."""
    rng = np.random.default_rng(2)

    def timed_call(n):
        s = rng.normal(size=(n, 40))
        y = (rng.uniform(size=s.shape) < 0.3).astype(np.int8)
        begin = time.perf_counter()
        mlr.mean_average_precision(s, y, average="micro", threads=1)
        return s, y, time.perf_counter() - begin

    n = 20000
    s, y, duration = timed_call(n)
    while duration < 0.15 and n < 1_000_000:  # long enough to tell, whatever the kernel's speed
        n *= 2
        s, y, duration = timed_call(n)

    stamps, started, stop = [], threading.Event(), threading.Event()

    def tick():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            started.set()
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        started.wait()
        begin = time.perf_counter()
        mlr.mean_average_precision(s, y, average="micro", threads=1)
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    quarter = (end - begin) / 4
    inside = [t for t in stamps if begin + quarter < t < end - quarter]
    assert len(inside) >= 3, f"{len(inside)} ticks in the middle of a {end - begin:.3f} s call"
